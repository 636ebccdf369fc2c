"""Integration tests: the real mailauth.core.dkim_key module run by ansible-playbook on localhost."""

from __future__ import annotations

import base64
import grp
import json
import os
import pwd
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".cache" / "collections"
BIN = Path(sys.executable).parent
# Every test runs the module for real; owner/group nobody:nogroup proves the chown happens.
OWNER, GROUP = "nobody", "nogroup"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown to nobody:nogroup needs root")


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        ANSIBLE_REMOTE_TMP=str(tmp_path / "ansible-remote"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_HOST_KEY_CHECKING="0",
        PATH="%s:%s" % (BIN, env.get("PATH", "")),
    )
    return env


def run_play(tmp_path: Path, tasks: list, *args: str, json_out: bool = True, play_vars: dict | None = None):
    """Run one play on localhost; return the parsed json callback output or the raw process."""
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "vars": dict(ansible_python_interpreter=sys.executable, **(play_vars or {})),
            "tasks": tasks,
        }
    ]
    playbook = tmp_path / ("play-%d.yml" % time.monotonic_ns())
    playbook.write_text(json.dumps(play))
    env = _env(tmp_path)
    if json_out:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.json"
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if not json_out:
        return proc
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("ansible-playbook output is not JSON:\n%s\n%s" % (proc.stdout, proc.stderr)) from None
    return [task["hosts"]["localhost"] for task in out["plays"][0]["tasks"]]


def dkim_task(key_dir: Path, keys: list, **extra) -> dict:
    args = {"keys": keys, "key_dir": str(key_dir), "owner": OWNER, "group": GROUP}
    args.update(extra)
    return {"name": "dkim keys", "mailauth.core.dkim_key": args}


def one(tmp_path, task, *args):
    results = run_play(tmp_path, [task], *args)
    assert len(results) == 1
    return results[0]


def mode_of(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def owner_of(path) -> tuple:
    st = os.lstat(path)
    return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name


def secret_pem_lines(pem: bytes) -> list:
    """The base64 lines of a PEM private key that are not also part of the public key.

    A PKCS#1 RSA key holds the modulus, which the public record publishes too; when the base64
    alignment matches, a line of pure modulus appears in the record and is not a leak.
    """
    key = serialization.load_pem_private_key(pem, password=None)
    public = base64.b64encode(
        key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).decode()
    lines = [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]
    secret = [line for line in lines if line not in public]
    assert secret, "no secret line found in the key file"
    return secret


def sign_and_verify(private_pem: bytes, key_type: str, record: str) -> bool:
    """Sign a message with dkimpy using the key file and verify it against record as the DNS answer."""
    message = (
        b"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: dkim test\r\n"
        b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <t1@example.org>\r\n\r\nHello.\r\n"
    )
    if key_type == "ed25519":
        # dkimpy wants the raw 32-byte seed in base64 (RFC 8463 format), the file holds PKCS#8 PEM.
        key = serialization.load_pem_private_key(private_pem, password=None)
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        privkey = base64.b64encode(key.private_bytes_raw())
        algorithm = b"ed25519-sha256"
    else:
        privkey = private_pem
        algorithm = b"rsa-sha256"
    signature = dkim.sign(
        message,
        b"mx1",
        b"example.org",
        privkey,
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
        signature_algorithm=algorithm,
    )
    queried = []

    def dnsfunc(name, timeout=5):
        queried.append(name)
        return record.encode() if name == b"mx1._domainkey.example.org." else None

    ok = dkim.verify(signature + message, dnsfunc=dnsfunc)
    assert queried == [b"mx1._domainkey.example.org."]
    return ok


KEYS = [
    {"domain": "example.org", "selector": "mx1"},
    {"domain": "example.org", "selector": "ed", "key_type": "ed25519"},
    {"domain": "example.net", "selector": "mx1", "key_size": 3072},
]


def test_four_steps(tmp_path):
    key_dir = tmp_path / "dkimkeys"
    task = dkim_task(key_dir, KEYS)

    check = one(tmp_path, task, "--check", "--diff")
    assert check["changed"] is True, check
    assert [k["changed"] for k in check["dkim_keys"]] == [True, True, True]
    assert all(k["value"] is None for k in check["dkim_keys"])
    assert not key_dir.exists(), "check mode wrote to the key directory"

    applied = one(tmp_path, task, "--diff")
    assert applied["changed"] is True
    paths = [key_dir / "example.org" / "mx1.private", key_dir / "example.org" / "ed.private"]
    paths.append(key_dir / "example.net" / "mx1.private")
    assert [k["path"] for k in applied["dkim_keys"]] == [str(p) for p in paths]
    assert [(k["key_type"], k["key_size"]) for k in applied["dkim_keys"]] == [
        ("rsa", 2048),
        ("ed25519", 256),
        ("rsa", 3072),
    ]
    for path in paths:
        assert mode_of(path) == 0o600 and owner_of(path) == (OWNER, GROUP)
    for directory in (key_dir, key_dir / "example.org", key_dir / "example.net"):
        assert mode_of(directory) == 0o750 and owner_of(directory) == (OWNER, GROUP)
    written = [".mailauth-dkim-key-dir", ".public-keys.json", "example.org", "example.net"]
    written += ["mx1.private", "ed.private", "mx1.private"]
    assert sorted(p.name for p in key_dir.rglob("*")) == sorted(written), (
        "something besides the key files, the cache of public halves and the key_dir marker was written"
    )
    # The cache: root-only, public halves only, one per key, matching the returned records.
    cache = key_dir / ".public-keys.json"
    assert mode_of(cache) == 0o600 and owner_of(cache)[0] == "root"
    assert b"PRIVATE" not in cache.read_bytes()
    cached = json.loads(cache.read_text())["keys"]
    assert sorted(cached) == sorted(str(p.relative_to(key_dir)) for p in paths)
    for k in applied["dkim_keys"]:
        assert k["value"].endswith("p=" + cached[str(Path(k["path"]).relative_to(key_dir))]["public"])
    diff_after = applied["diff"]["after"] if isinstance(applied["diff"], dict) else applied["diff"][0]["after"]
    assert diff_after[str(paths[0])]["fingerprint"] == applied["dkim_keys"][0]["fingerprint"]
    assert diff_after[str(paths[0])]["owner"] == OWNER

    again = one(tmp_path, task, "--check", "--diff")
    assert again["changed"] is False
    assert [k["changed"] for k in again["dkim_keys"]] == [False, False, False]
    assert [k["value"] for k in again["dkim_keys"]] == [k["value"] for k in applied["dkim_keys"]]

    last = one(tmp_path, task)
    assert last["changed"] is False
    assert [k["fingerprint"] for k in last["dkim_keys"]] == [k["fingerprint"] for k in applied["dkim_keys"]]


def test_fifty_keys_in_one_task(tmp_path):
    key_dir = tmp_path / "dkimkeys"
    keys = [
        {"domain": "d%02d.example" % i, "selector": "s1", "key_type": "ed25519" if i % 5 == 0 else "rsa"}
        for i in range(50)
    ]
    start = time.monotonic()
    first = one(tmp_path, dkim_task(key_dir, keys))
    first_s = time.monotonic() - start
    assert first["changed"] and len(first["dkim_keys"]) == 50
    assert len({k["fingerprint"] for k in first["dkim_keys"]}) == 50
    assert len(list(key_dir.glob("*/s1.private"))) == 50
    start = time.monotonic()
    second = one(tmp_path, dkim_task(key_dir, keys))
    second_s = time.monotonic() - start
    assert second["changed"] is False and not any(k["changed"] for k in second["dkim_keys"])
    print("50 keys (40 RSA-2048, 10 ed25519): first run %.2f s, re-run %.2f s" % (first_s, second_s))


def test_shared_key_mode_with_vault(tmp_path):
    controller_dir = tmp_path / "inventory" / "dkim"
    me = pwd.getpwuid(os.getuid()).pw_name
    mygroup = grp.getgrgid(os.getgid()).gr_name
    generated = one(
        tmp_path,
        {
            "mailauth.core.dkim_key": {
                "keys": [{"domain": "example.org", "selector": "shared", "key_type": "ed25519"}],
                "key_dir": str(controller_dir),
                "owner": me,
                "group": mygroup,
                "regenerate": "never",
            }
        },
    )
    record = generated["dkim_keys"][0]["value"]
    key_file = controller_dir / "example.org" / "shared.private"
    plain = key_file.read_bytes()
    plain_key = plain

    # Encrypt it as a user would; the file lookup decrypts it.
    vault_pass = tmp_path / "vault-pass"
    vault_pass.write_text("correct horse battery staple\n")
    subprocess.run(
        [str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(vault_pass), str(key_file)],
        env=_env(tmp_path),
        check=True,
        capture_output=True,
    )
    assert key_file.read_bytes().startswith(b"$ANSIBLE_VAULT")

    hosts = [tmp_path / "mx1" / "dkimkeys", tmp_path / "mx2" / "dkimkeys"]
    content = "{{ lookup('ansible.builtin.file', '%s') }}" % key_file
    tasks = [
        dkim_task(host, [{"domain": "example.org", "selector": "shared", "private_key_content": content}])
        for host in hosts
    ]
    vault_args = ("--vault-password-file", str(vault_pass))
    for round_ in ("install", "again"):
        results = run_play(tmp_path, tasks, *vault_args)
        for host, result in zip(hosts, results):
            entry = result["dkim_keys"][0]
            assert entry["value"] == record and entry["fingerprint"] == generated["dkim_keys"][0]["fingerprint"]
            assert result["changed"] is (round_ == "install")
            installed = host / "example.org" / "shared.private"
            assert installed.read_bytes().strip() == plain.strip()
            assert mode_of(installed) == 0o600 and owner_of(installed) == (OWNER, GROUP)
            dumped = json.dumps(result)
            assert not [line for line in secret_pem_lines(plain_key) if line in dumped]
            module_args = result["invocation"]["module_args"]["keys"][0]
            assert module_args["private_key_content"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

    # The installed key signs mail that verifies against the record the controller returned.
    assert sign_and_verify((hosts[1] / "example.org" / "shared.private").read_bytes(), "ed25519", record)


def test_no_key_material_in_verbose_output(tmp_path):
    key_dir = tmp_path / "dkimkeys"
    shared_dir = tmp_path / "shared"
    seed = one(tmp_path, dkim_task(shared_dir, [{"domain": "example.com", "selector": "x"}]))
    shared_pem = Path(seed["dkim_keys"][0]["path"]).read_bytes()
    tasks = [
        dkim_task(key_dir, KEYS),
        dkim_task(
            key_dir,
            [{"domain": "example.com", "selector": "x", "private_key_content": "{{ shared_pem }}"}],
        ),
        {"ansible.builtin.debug": {"var": "result"}},
    ]
    tasks[1]["register"] = "result"
    proc = run_play(tmp_path, tasks, "-vvv", "--diff", json_out=False, play_vars={"shared_pem": shared_pem.decode()})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    output = proc.stdout + proc.stderr
    assert "dkim_keys" in output and "v=DKIM1; k=rsa; p=" in output  # the run did print its results
    assert "PRIVATE KEY" not in output
    files = [shared_pem, *(p.read_bytes() for p in key_dir.rglob("*.private"))]
    assert len(files) == 5
    for pem in files:
        for line in secret_pem_lines(pem):
            assert line not in output, "a private key line appears in the -vvv output"


@pytest.mark.parametrize(("key_type", "size"), [("rsa", 1024), ("rsa", 2048), ("rsa", 4096), ("ed25519", None)])
def test_signed_message_verifies_against_returned_record(tmp_path, key_type, size):
    key = {"domain": "example.org", "selector": "mx1", "key_type": key_type}
    if size:
        key["key_size"] = size
    result = one(tmp_path, dkim_task(tmp_path / "k", [key]))
    entry = result["dkim_keys"][0]
    pem = Path(entry["path"]).read_bytes()
    assert sign_and_verify(pem, key_type, entry["value"]) is True
    # And a record for another key does not verify it.
    other = one(tmp_path, dkim_task(tmp_path / "other", [key]))["dkim_keys"][0]["value"]
    assert other != entry["value"]
    assert sign_and_verify(pem, key_type, other) is False


def test_deprecated_type_and_size_aliases(tmp_path):
    """The option names of version 0.1.0 still work, with a deprecation warning, and mean the same keys."""
    key_dir = tmp_path / "dkimkeys"
    old = [
        {"domain": "example.org", "selector": "ed", "type": "ed25519"},
        {"domain": "example.net", "selector": "mx1", "type": "rsa", "size": 1024},
    ]
    new = [
        {"domain": "example.org", "selector": "ed", "key_type": "ed25519"},
        {"domain": "example.net", "selector": "mx1", "key_type": "rsa", "key_size": 1024},
    ]
    proc = run_play(tmp_path, [dkim_task(key_dir, old)], json_out=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shown = re.sub(r"\s+", " ", proc.stdout + proc.stderr)
    for alias in ("keys[0].type", "keys[1].type", "keys[1].size"):
        assert "[DEPRECATION WARNING]: Alias '%s' is deprecated." % alias in shown, shown
    assert "removed from collection 'mailauth.core' version 1.0.0" in shown
    again = one(tmp_path, dkim_task(key_dir, new))
    assert again["changed"] is False, again
    assert [(k["key_type"], k["key_size"]) for k in again["dkim_keys"]] == [("ed25519", 256), ("rsa", 1024)]
    assert one(tmp_path, dkim_task(key_dir, old))["dkim_keys"] == again["dkim_keys"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"keys": [{"domain": "not a.domain", "selector": "s"}]}, "holds a space"),
        ({"keys": [{"domain": "example.org", "selector": "s_1"}]}, "'s_1' is not a DNS label"),
        ({"keys": [{"domain": "example.org", "selector": "s", "key_size": 1536}]}, "value of key_size must be one of"),
        ({"keys": [{"domain": "example.org", "selector": "s", "key_type": "dsa"}]}, "value of key_type must be one of"),
        ({"keys": [{"domain": "example.org", "selector": "s"}], "mode": "0644"}, "mode must be '0600' or '0640'"),
        ({"keys": [{"domain": "example.org", "selector": "s"}], "owner": "no-such-user-x"}, "does not exist"),
    ],
)
def test_bad_input_fails_before_any_change(tmp_path, args, message):
    key_dir = tmp_path / "dkimkeys"
    task = dkim_task(key_dir, [])
    task["mailauth.core.dkim_key"].update(args)
    task["ignore_errors"] = True
    result = one(tmp_path, task)
    assert result.get("failed") is True
    assert message in result["msg"], result["msg"]
    assert not key_dir.exists()


def test_regenerate_fail_and_absent(tmp_path):
    key_dir = tmp_path / "dkimkeys"
    one(tmp_path, dkim_task(key_dir, [{"domain": "example.org", "selector": "mx1", "key_size": 1024}]))
    path = key_dir / "example.org" / "mx1.private"
    before = path.read_bytes()
    task = dkim_task(key_dir, [{"domain": "example.org", "selector": "mx1"}], regenerate="fail")
    task["ignore_errors"] = True
    result = one(tmp_path, task)
    assert result["failed"] is True and "is rsa/1024 but rsa/2048 was requested" in result["msg"]
    assert path.read_bytes() == before
    kept = one(tmp_path, dkim_task(key_dir, [{"domain": "example.org", "selector": "mx1"}], regenerate="never"))
    assert kept["changed"] is False and kept["dkim_keys"][0]["key_size"] == 1024
    replaced = one(tmp_path, dkim_task(key_dir, [{"domain": "example.org", "selector": "mx1"}]))
    assert replaced["changed"] is True and replaced["dkim_keys"][0]["key_size"] == 2048
    assert re.match(r"^SHA256:[A-Za-z0-9+/]{43}$", replaced["dkim_keys"][0]["fingerprint"])
    absent = dkim_task(key_dir, [{"domain": "example.org", "selector": "mx1"}], state="absent")
    assert one(tmp_path, absent, "--check")["changed"] is True and path.exists()
    assert one(tmp_path, absent)["changed"] is True and not path.exists()
    assert one(tmp_path, absent)["changed"] is False
