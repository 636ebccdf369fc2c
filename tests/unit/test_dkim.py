"""Unit tests for plugins/module_utils/_dkim.py (key generation, records, policy, files)."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ansible_collections.mailauth.core.plugins.module_utils import _dkim

UID = str(os.getuid())
GID = str(os.getgid())

# RFC 8463 appendix A.2: the example Ed25519 key pair.
RFC8463_SEED = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
RFC8463_PUB = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="


def rfc8463_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(base64.b64decode(RFC8463_SEED))


def pem_of(key) -> str:
    return _dkim.serialize_private_key(key).decode()


def spec(domain="example.org", selector="mx1", key_type="rsa", size=2048, content=None):
    return _dkim.build_specs(
        [
            {
                "domain": domain,
                "selector": selector,
                "key_type": key_type,
                "key_size": size if key_type == "rsa" else None,
                "private_key_content": content,
            }
        ]
    )[0]


def ensure(key_dir, specs, **kwargs):
    kwargs.setdefault("owner", UID)
    kwargs.setdefault("group", GID)
    return _dkim.ensure_keys(specs, str(key_dir), **kwargs)


def mode_of(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def tags(record: str) -> dict:
    return {k.decode(): v.decode() for k, v in dkim.util.parse_tag_value(record.encode()).items()}


@pytest.fixture(scope="module")
def keys_by_size():
    keys = {("rsa", size): _dkim.generate_private_key("rsa", size) for size in _dkim.RSA_SIZES}
    keys["ed25519", 256] = _dkim.generate_private_key("ed25519")
    return keys


# --------------------------------------------------------------------------- records


@pytest.mark.parametrize("size", _dkim.RSA_SIZES)
def test_rsa_record_carries_the_public_key(keys_by_size, size):
    key = keys_by_size["rsa", size]
    record = _dkim.dns_record(key)
    assert record.startswith("v=DKIM1; k=rsa; p=")
    t = tags(record)
    assert t["v"] == "DKIM1" and t["k"] == "rsa"
    pub = serialization.load_der_public_key(base64.b64decode(t["p"]))
    assert isinstance(pub, rsa.RSAPublicKey)
    assert pub.key_size == size
    assert pub.public_numbers() == key.public_key().public_numbers()
    # dkimpy's own record parser accepts it and sees the same size.
    _pk, keysize, ktag, _extra = dkim.evaluate_pk(b"mx1._domainkey.example.org.", record.encode())
    assert (keysize, ktag) == (size, b"rsa")


def test_ed25519_record_is_the_raw_key_per_rfc8463():
    record = _dkim.dns_record(rfc8463_key())
    assert record == "v=DKIM1; k=ed25519; p=" + RFC8463_PUB
    _pk, _size, ktag, _extra = dkim.evaluate_pk(b"brisbane._domainkey.football.example.com.", record.encode())
    assert ktag == b"ed25519"


def test_generated_ed25519_record_decodes(keys_by_size):
    key = keys_by_size["ed25519", 256]
    p = base64.b64decode(tags(_dkim.dns_record(key))["p"])
    assert len(p) == 32
    assert ed25519.Ed25519PublicKey.from_public_bytes(p).public_bytes_raw() == key.public_key().public_bytes_raw()


def test_fingerprint_is_sha256_of_published_key_and_stable(keys_by_size):
    key = rfc8463_key()
    expected = "SHA256:" + base64.b64encode(hashlib.sha256(base64.b64decode(RFC8463_PUB)).digest()).decode().rstrip("=")
    assert _dkim.fingerprint(key) == expected
    assert _dkim.fingerprint(key.public_key()) == expected
    rsa_key = keys_by_size["rsa", 2048]
    reloaded = _dkim.load_private_key(_dkim.serialize_private_key(rsa_key))
    assert _dkim.fingerprint(reloaded) == _dkim.fingerprint(rsa_key)
    der = base64.b64decode(tags(_dkim.dns_record(rsa_key))["p"])
    assert _dkim.fingerprint(rsa_key) == "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")
    assert _dkim.fingerprint(rsa_key) != _dkim.fingerprint(keys_by_size["rsa", 1024])


def test_key_file_formats(keys_by_size):
    assert pem_of(keys_by_size["rsa", 2048]).startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert pem_of(keys_by_size["ed25519", 256]).startswith("-----BEGIN PRIVATE KEY-----\n")


def test_load_private_key_rejects_unusable_keys():
    from cryptography.hazmat.primitives.asymmetric import ec

    with pytest.raises(_dkim.DkimError, match="not a readable PEM private key"):
        _dkim.load_private_key(b"garbage")
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(_dkim.DkimError, match="only RSA and Ed25519"):
        _dkim.load_private_key(ec_pem)
    encrypted = rfc8463_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    )
    with pytest.raises(_dkim.DkimError, match="encrypted") as err:
        _dkim.load_private_key(encrypted, "private_key_content")
    assert "BEGIN" not in str(err.value)


def test_generate_many_in_parallel_keeps_order():
    jobs = [("rsa", 1024), ("ed25519", 256), ("rsa", 2048), ("ed25519", 256)]
    generated = _dkim.generate_many(jobs, workers=2)
    pems = [pair[0] for pair in generated]
    infos = [_dkim.key_info(_dkim.load_private_key(p)) for p in pems]
    assert infos == [("rsa", 1024), ("ed25519", 256), ("rsa", 2048), ("ed25519", 256)]
    assert len(set(pems)) == 4
    # The public key returned with each PEM is that PEM's public half.
    for pem, public in generated:
        assert _dkim.public_key_bytes(public) == _dkim.public_key_bytes(_dkim.load_private_key(pem))


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"domain": "", "selector": "s"}, "keys[0].domain must be a domain name"),
        ({"domain": "localhost", "selector": "s"}, "needs at least 2 labels"),
        ({"domain": "-bad.example", "selector": "s"}, "'-bad' is not a DNS label"),
        ({"domain": "a..example", "selector": "s"}, "has an empty label"),
        ({"domain": "exa_mple.org", "selector": "s"}, "is not a DNS label"),
        ({"domain": "bücher.example", "selector": "s"}, "A-label"),
        ({"domain": "192.0.2.1", "selector": "s"}, "IP address"),
        ({"domain": ("a" * 63 + ".") * 4 + "org", "selector": "s"}, "longer than 253"),
        (
            {"domain": "example.org", "selector": "bad_sel"},
            "keys[0].selector (label 'bad_sel'): 'bad_sel' is not a DNS label",
        ),
        ({"domain": "example.org", "selector": "a..b"}, "keys[0].selector: 'a..b' has an empty label"),
        ({"domain": "example.org", "selector": "../x"}, "keys[0].selector"),
        ({"domain": "example.org", "selector": "x/y"}, "is not a DNS label"),
        ({"domain": "example.org", "selector": "-s"}, "is not a DNS label"),
        (
            {"domain": "example.org", "selector": "s", "key_size": 512},
            "RSA key_size must be one of 1024, 2048, 3072, 4096",
        ),
        ({"domain": "example.org", "selector": "s", "key_size": 2049}, "RSA key_size must be one of"),
        ({"domain": "example.org", "selector": "s", "key_type": "dsa"}, "key_type must be one of rsa, ed25519"),
        (
            {"domain": "example.org", "selector": "s", "key_type": "ed25519", "key_size": 2048},
            "does not apply to ed25519",
        ),
        ({"domain": "example.org", "selector": "s", "private_key_content": "nope"}, "not a readable PEM"),
    ],
)
def test_invalid_keys_are_rejected(raw, message):
    with pytest.raises(_dkim.DkimError) as err:
        _dkim.build_specs([raw])
    assert message in str(err.value)


def test_all_errors_reported_at_once_and_duplicates():
    with pytest.raises(_dkim.DkimError) as err:
        _dkim.build_specs(
            [
                {"domain": "example.org", "selector": "mx1"},
                {"domain": "EXAMPLE.org.", "selector": "MX1"},
                {"domain": "bad_domain.org", "selector": "s"},
            ]
        )
    text = str(err.value)
    assert "keys[1] (MX1._domainkey.example.org) duplicates keys[0]" in text
    assert "keys[2].domain (label 'bad_domain')" in text


def test_private_key_content_must_match_type_and_size():
    content = pem_of(rfc8463_key())
    with pytest.raises(_dkim.DkimError, match="is an ed25519 key but key_type is rsa"):
        _dkim.build_specs(
            [{"domain": "example.org", "selector": "s", "key_type": "rsa", "private_key_content": content}]
        )
    derived = _dkim.build_specs([{"domain": "example.org", "selector": "s", "private_key_content": content}])[0]
    assert (derived.key_type, derived.key_size) == ("ed25519", 256)
    assert content not in repr(derived)


def test_defaults_and_normalisation():
    s = _dkim.build_specs([{"domain": "Mail.Example.ORG.", "selector": "Sel-1.sub"}])[0]
    assert (s.domain, s.selector, s.key_type, s.key_size) == ("mail.example.org", "Sel-1.sub", "rsa", 2048)


@pytest.mark.parametrize(("value", "expected"), [("0600", 0o600), ("640", 0o640), (0o600, 0o600), (0o640, 0o640)])
def test_parse_mode(value, expected):
    assert _dkim.parse_mode(value) == expected


@pytest.mark.parametrize("value", ["0644", "0777", 600, "rw", True, None])
def test_parse_mode_rejects(value):
    with pytest.raises(_dkim.DkimError, match="mode must be '0600' or '0640'"):
        _dkim.parse_mode(value)


@pytest.mark.parametrize("value", ["relative/dir", "/", "/etc", "/etc/", "/var/lib/", ""])
def test_key_dir_rejects(value):
    with pytest.raises(_dkim.DkimError):
        _dkim.validate_key_dir(value)


def test_errors_before_any_write(tmp_path):
    key_dir = tmp_path / "keys"
    with pytest.raises(_dkim.DkimError, match="user 'no-such-user-x' does not exist"):
        ensure(key_dir, [spec()], owner="no-such-user-x")
    with pytest.raises(_dkim.DkimError, match="group 'no-such-group-x' does not exist"):
        ensure(key_dir, [spec()], group="no-such-group-x")
    with pytest.raises(_dkim.DkimError, match="mode must be"):
        ensure(key_dir, [spec()], mode="0644")
    assert not key_dir.exists()


# --------------------------------------------------------------------------- policy


POLICY_MATRIX = {
    # existing:   missing  invalid  match   mismatch
    "never": ("write", "fail", "keep", "keep"),
    "fail": ("write", "fail", "keep", "fail"),
    "full_idempotence": ("write", "write", "keep", "write"),
    "always": ("write", "write", "write", "write"),
}


@pytest.mark.parametrize("policy", sorted(POLICY_MATRIX))
@pytest.mark.parametrize("index", range(4))
def test_decide_matrix(policy, index):
    existing = ("missing", "invalid", "match", "mismatch")[index]
    assert _dkim.decide(policy, existing) == POLICY_MATRIX[policy][index]


def mark(key_dir):
    """A key directory as this module leaves it when it creates one outside KEY_DIR_ROOTS."""
    key_dir.mkdir(parents=True, exist_ok=True)
    (key_dir / _dkim.KEY_DIR_MARKER).write_bytes(b"")
    return key_dir


def _install(tmp_path, key):
    path = tmp_path / "keys" / "example.org" / "mx1.private"
    path.parent.mkdir(parents=True)
    mark(path.parent.parent)
    path.parent.chmod(0o750)
    path.parent.parent.chmod(0o750)
    path.write_bytes(_dkim.serialize_private_key(key))
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(
    ("policy", "outcome"), [("never", "kept"), ("fail", "error"), ("full_idempotence", "new"), ("always", "new")]
)
def test_policy_on_size_mismatch(tmp_path, keys_by_size, policy, outcome):
    old = keys_by_size["rsa", 1024]
    path = _install(tmp_path, old)
    before = path.read_bytes()
    if outcome == "error":
        with pytest.raises(_dkim.DkimError, match="is rsa/1024 but rsa/2048 was requested"):
            ensure(tmp_path / "keys", [spec(size=2048)], regenerate=policy)
        assert path.read_bytes() == before
        return
    changed, results, _diff = ensure(tmp_path / "keys", [spec(size=2048)], regenerate=policy)
    if outcome == "kept":
        assert results[0]["key_size"] == 1024 and results[0]["fingerprint"] == _dkim.fingerprint(old)
        assert path.read_bytes() == before
        assert not changed
    else:
        assert changed and results[0]["changed"]
        assert results[0]["key_size"] == 2048
        assert _dkim.key_info(_dkim.load_private_key(path.read_bytes())) == ("rsa", 2048)


@pytest.mark.parametrize(
    ("policy", "outcome"), [("never", "error"), ("fail", "error"), ("full_idempotence", "new"), ("always", "new")]
)
def test_policy_on_invalid_file(tmp_path, policy, outcome):
    path = tmp_path / "keys" / "example.org" / "mx1.private"
    path.parent.mkdir(parents=True)
    mark(path.parent.parent)
    path.write_text("not a key\n")
    if outcome == "error":
        with pytest.raises(_dkim.DkimError, match="not a readable unencrypted"):
            ensure(tmp_path / "keys", [spec()], regenerate=policy)
        assert path.read_text() == "not a key\n"
    else:
        changed, results, _diff = ensure(tmp_path / "keys", [spec()], regenerate=policy)
        assert changed and results[0]["value"].startswith("v=DKIM1; k=rsa; p=")


def test_always_regenerates_a_matching_key(tmp_path, keys_by_size):
    path = _install(tmp_path, keys_by_size["rsa", 2048])
    _changed, results, _diff = ensure(tmp_path / "keys", [spec()], regenerate="always")
    assert results[0]["changed"] and results[0]["fingerprint"] != _dkim.fingerprint(keys_by_size["rsa", 2048])
    assert results[0]["fingerprint"] == _dkim.fingerprint(_dkim.load_private_key(path.read_bytes()))


def test_failure_of_one_key_changes_no_other(tmp_path, keys_by_size):
    _install(tmp_path, keys_by_size["rsa", 1024])
    specs = _dkim.build_specs(
        [{"domain": "other.example", "selector": "a"}, {"domain": "example.org", "selector": "mx1", "key_size": 2048}]
    )
    with pytest.raises(_dkim.DkimError):
        ensure(tmp_path / "keys", specs, regenerate="fail")
    assert not (tmp_path / "keys" / "other.example").exists()


# --------------------------------------------------------------------------- files


def test_apply_then_idempotent_with_modes(tmp_path):
    key_dir = tmp_path / "keys"
    specs = [spec(), spec(selector="ed", key_type="ed25519"), spec(domain="example.net", size=1024)]
    changed, results, diff = ensure(key_dir, specs)
    assert changed and all(r["changed"] for r in results)
    assert mode_of(key_dir) == 0o750
    for r in results:
        assert mode_of(r["path"]) == 0o600
        assert mode_of(os.path.dirname(r["path"])) == 0o750
        key = _dkim.load_private_key(Path(r["path"]).read_bytes())
        assert r["value"] == _dkim.dns_record(key) and r["fingerprint"] == _dkim.fingerprint(key)
    assert results[0]["path"] == str(key_dir / "example.org" / "mx1.private")
    assert sorted(os.listdir(key_dir / "example.org")) == ["ed.private", "mx1.private"]
    # The diff carries fingerprints, never key material.
    assert diff["after"][results[0]["path"]]["fingerprint"] == results[0]["fingerprint"]
    assert "PRIVATE KEY" not in repr(diff) and "PRIVATE KEY" not in repr(results)
    changed2, results2, diff2 = ensure(key_dir, specs)
    assert not changed2 and diff2 == {}
    assert [r["fingerprint"] for r in results2] == [r["fingerprint"] for r in results]


def test_mode_0640_and_attribute_repair(tmp_path):
    key_dir = tmp_path / "keys"
    _changed, results, _diff = ensure(key_dir, [spec(key_type="ed25519")], mode="0640")
    path = results[0]["path"]
    assert mode_of(path) == 0o640
    fp = results[0]["fingerprint"]
    os.chmod(path, 0o644)
    os.chmod(key_dir, 0o755)
    changed, results, diff = ensure(key_dir, [spec(key_type="ed25519")], mode="0600")
    assert changed and results[0]["changed"] and results[0]["fingerprint"] == fp
    assert mode_of(path) == 0o600 and mode_of(key_dir) == 0o750
    assert diff["before"][path]["mode"] == "0644" and diff["after"][path]["mode"] == "0600"


def test_check_mode_writes_nothing(tmp_path, keys_by_size):
    key_dir = tmp_path / "keys"
    changed, results, diff = ensure(key_dir, [spec()], check_mode=True)
    assert changed and results[0]["changed"]
    assert results[0]["value"] is None and results[0]["fingerprint"] is None
    assert diff["after"][results[0]["path"]]["key_type"] == "rsa"
    assert not key_dir.exists()
    # An existing key with wrong permissions: reported, not fixed.
    path = _install(tmp_path, keys_by_size["rsa", 2048])
    path.chmod(0o644)
    changed, results, _diff = ensure(key_dir, [spec()], check_mode=True)
    assert changed and results[0]["fingerprint"] == _dkim.fingerprint(keys_by_size["rsa", 2048])
    assert mode_of(path) == 0o644


def _no_temp_files(directory) -> bool:
    return not [n for n in os.listdir(directory) if n.endswith(".tmp")]


def test_atomic_write_leaves_old_key_on_failure(tmp_path, keys_by_size, monkeypatch):
    path = _install(tmp_path, keys_by_size["rsa", 1024])
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_dkim.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        ensure(tmp_path / "keys", [spec(size=2048)])
    assert path.read_bytes() == before
    assert _no_temp_files(path.parent)


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    real_write = os.write

    def short_then_fail(fd, data):
        real_write(fd, bytes(data[:10]))
        raise OSError(5, "Input/output error")

    mark(tmp_path / "keys")
    monkeypatch.setattr(_dkim.os, "write", short_then_fail)
    with pytest.raises(OSError, match="Input/output error"):
        ensure(tmp_path / "keys", [spec(key_type="ed25519")])
    domain_dir = tmp_path / "keys" / "example.org"
    assert not (domain_dir / "mx1.private").exists()
    assert _no_temp_files(domain_dir)


def test_temp_file_is_0600_before_content(tmp_path, monkeypatch):
    seen = []
    real_write = os.write

    def spy(fd, data):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(_dkim.os, "write", spy)
    ensure(tmp_path / "keys", [spec(key_type="ed25519")], mode="0640")
    assert seen and set(seen) == {0o600}


def test_symlinks_are_refused(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("precious\n")
    target.chmod(0o644)
    domain_dir = tmp_path / "keys" / "example.org"
    domain_dir.mkdir(parents=True)
    mark(tmp_path / "keys")
    (domain_dir / "mx1.private").symlink_to(target)
    with pytest.raises(_dkim.DkimError, match="not a regular file"):
        ensure(tmp_path / "keys", [spec()])
    assert target.read_text() == "precious\n" and mode_of(target) == 0o644


# --------------------------------------------------------------------------- shared keys


def test_shared_key_installs_that_key_everywhere(tmp_path):
    key = rfc8463_key()
    content = pem_of(key).strip()  # lookup('file') strips the trailing newline
    hosts = [tmp_path / "host1", tmp_path / "host2"]
    for host in hosts:
        s = spec(key_type="ed25519", content=content)
        # Check mode already knows the record: the key is given, not generated.
        changed, results, _diff = ensure(host, [s], check_mode=True)
        assert changed and results[0]["value"] == "v=DKIM1; k=ed25519; p=" + RFC8463_PUB
        assert not host.exists()
        changed, results, _diff = ensure(host, [s])
        assert changed
        assert results[0]["value"] == "v=DKIM1; k=ed25519; p=" + RFC8463_PUB
        assert (host / "example.org" / "mx1.private").read_text() == content + "\n"
        changed, results, _diff = ensure(host, [s])
        assert not changed and results[0]["value"] == "v=DKIM1; k=ed25519; p=" + RFC8463_PUB


def test_shared_key_compares_public_keys_not_bytes(tmp_path, keys_by_size):
    key = keys_by_size["rsa", 2048]
    path = _install(tmp_path, key)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    changed, _results, _diff = ensure(tmp_path / "keys", [spec(content=pkcs8)])
    assert not changed and path.read_bytes() == _dkim.serialize_private_key(key)
    # Another key in the file: full_idempotence installs the given one, fail refuses.
    other = pem_of(keys_by_size["rsa", 3072])
    with pytest.raises(_dkim.DkimError, match="different key than private_key_content"):
        ensure(tmp_path / "keys", [spec(size=None, content=other)], regenerate="fail")
    changed, results, _diff = ensure(tmp_path / "keys", [spec(size=None, content=other)])
    assert changed and results[0]["key_size"] == 3072
    assert results[0]["fingerprint"] == _dkim.fingerprint(keys_by_size["rsa", 3072])


# --------------------------------------------------------------------------- absent


def test_absent_removes_files_and_empty_domain_dir(tmp_path):
    key_dir = tmp_path / "keys"
    _changed, created, _diff = ensure(key_dir, [spec(), spec(selector="b", key_type="ed25519")])
    changed, results, _diff = ensure(
        key_dir, _dkim.build_specs([{"domain": "example.org", "selector": "mx1"}]), state="absent"
    )
    assert changed and results[0]["fingerprint"] == created[0]["fingerprint"]
    assert not os.path.exists(created[0]["path"]) and os.path.exists(created[1]["path"])
    absent_specs = _dkim.build_specs([{"domain": "example.org", "selector": "b"}], "absent")
    changed, _results, _diff = ensure(key_dir, absent_specs, state="absent", check_mode=True)
    assert changed and os.path.exists(created[1]["path"])
    changed, _results, _diff = ensure(key_dir, absent_specs, state="absent")
    assert changed and not (key_dir / "example.org").exists()
    changed, results, _diff = ensure(key_dir, absent_specs, state="absent")
    assert not changed and results[0]["value"] is None


def _corrupt_rsa_pem(key) -> str:
    """A well-formed PKCS#1 PEM whose private exponent is wrong (the key cannot sign correctly)."""
    der = bytearray(
        key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    der[len(der) // 2] ^= 0x01
    body = base64.encodebytes(bytes(der)).decode()
    return "-----BEGIN RSA PRIVATE KEY-----\n%s-----END RSA PRIVATE KEY-----\n" % body


def test_inconsistent_shared_key_is_refused_before_install(tmp_path, keys_by_size):
    bad = _corrupt_rsa_pem(keys_by_size["rsa", 2048])
    with pytest.raises(_dkim.DkimError, match=r"mx1\.private: private_key_content cannot be used"):
        ensure(tmp_path / "keys", [spec(content=bad)])
    assert not (tmp_path / "keys").exists()


def test_old_cryptography_without_skip_switch(monkeypatch, keys_by_size):
    real = serialization.load_pem_private_key
    calls = []

    def old_signature(data, password, backend=None):
        calls.append(data)
        return real(data, password)

    monkeypatch.setattr(_dkim.serialization, "load_pem_private_key", old_signature)
    key = _dkim.load_private_key(_dkim.serialize_private_key(keys_by_size["rsa", 1024]))
    assert _dkim.key_info(key) == ("rsa", 1024) and len(calls) == 1


def test_domain_dir_symlink_is_refused_before_any_change(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o755)
    key_dir = tmp_path / "keys"
    key_dir.mkdir(mode=0o700)
    mark(key_dir)
    (key_dir / "example.net").symlink_to(elsewhere)
    specs = _dkim.build_specs([{"domain": "example.org", "selector": "a"}, {"domain": "example.net", "selector": "a"}])
    with pytest.raises(_dkim.DkimError, match=r"example\.net exists and is not a directory"):
        ensure(key_dir, specs)
    assert mode_of(key_dir) == 0o700 and not (key_dir / "example.org").exists()
    assert mode_of(elsewhere) == 0o755 and not list(elsewhere.iterdir())


# --------------------------------------------------------------------------- public-half cache


def test_rerun_reads_public_halves_from_the_cache(tmp_path, monkeypatch):
    key_dir = tmp_path / "keys"
    specs = [spec(), spec(selector="ed", key_type="ed25519")]
    _changed, first, _diff = ensure(key_dir, specs)
    cache = key_dir / _dkim.PublicCache.NAME
    assert mode_of(cache) == 0o600
    assert b"PRIVATE" not in cache.read_bytes()

    def no_private_key_reads(*_args, **_kwargs):
        raise AssertionError("a private key was parsed although the cache knows it")

    monkeypatch.setattr(_dkim, "load_private_key", no_private_key_reads)
    changed, again, _diff = ensure(key_dir, specs)
    assert not changed
    assert [(r["value"], r["fingerprint"]) for r in again] == [(r["value"], r["fingerprint"]) for r in first]


def test_a_replaced_key_file_is_read_again_not_taken_from_the_cache(tmp_path, keys_by_size):
    key_dir = tmp_path / "keys"
    ensure(key_dir, [spec()])
    path = key_dir / "example.org" / "mx1.private"
    other = keys_by_size["rsa", 2048]
    path.write_bytes(_dkim.serialize_private_key(other))
    changed, results, _diff = ensure(key_dir, [spec()], regenerate="never")
    assert not changed
    assert results[0]["fingerprint"] == _dkim.fingerprint(other)


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b'{"version": 1, "keys": {"example.org/mx1.private": {"sha256": "x", "public": "!!"}}}',
        b'{"version": 99, "keys": {}}',
    ],
)
def test_a_broken_cache_is_ignored_and_rewritten(tmp_path, content):
    key_dir = tmp_path / "keys"
    _changed, first, _diff = ensure(key_dir, [spec()])
    cache = key_dir / _dkim.PublicCache.NAME
    cache.write_bytes(content)
    os.chmod(cache, 0o600)
    changed, again, _diff = ensure(key_dir, [spec()])
    assert not changed
    assert again[0]["value"] == first[0]["value"]
    assert b'"version": 1' in cache.read_bytes()


def test_a_cache_with_a_wrong_public_key_for_the_digest_is_not_trusted_if_group_writable(tmp_path, keys_by_size):
    key_dir = tmp_path / "keys"
    _changed, first, _diff = ensure(key_dir, [spec()])
    cache = key_dir / _dkim.PublicCache.NAME
    forged = cache.read_text().replace(
        first[0]["value"].split("p=")[1],
        base64.b64encode(_dkim.public_key_bytes(keys_by_size["rsa", 2048])).decode(),
    )
    cache.write_text(forged)
    os.chmod(cache, 0o660)
    _changed, again, _diff = ensure(key_dir, [spec()])
    assert again[0]["value"] == first[0]["value"]


def test_check_mode_writes_no_cache(tmp_path):
    key_dir = tmp_path / "keys"
    ensure(key_dir, [spec()])
    cache = key_dir / _dkim.PublicCache.NAME
    cache.unlink()
    ensure(key_dir, [spec()], check_mode=True)
    assert not cache.exists()


def test_check_mode_plans_keys_for_an_owner_not_created_yet(tmp_path):
    """A new host's plan: the opendkim user comes with the package; every key is planned, nothing written."""
    key_dir = tmp_path / "keys"
    pending: list = []
    changed, results, _diff = _dkim.ensure_keys(
        [spec(), spec(selector="ed", key_type="ed25519", size=None)],
        str(key_dir),
        owner="no-such-user-x",
        group="no-such-group-x",
        check_mode=True,
        pending=pending,
    )
    assert changed is True and pending == ["user no-such-user-x", "group no-such-group-x"]
    assert [r["record"] for r in results] == [None, None]
    assert not key_dir.exists()
    with pytest.raises(_dkim.DkimError, match="user 'no-such-user-x' does not exist"):
        _dkim.ensure_keys([spec()], str(key_dir), owner="no-such-user-x", check_mode=False, pending=pending)


def test_a_plan_for_new_keys_needs_no_cryptography(tmp_path):
    raw = [{"domain": "example.org", "selector": "mx1"}]
    assert _dkim.plan_needs_cryptography(raw, str(tmp_path)) is False
    assert _dkim.plan_needs_cryptography([dict(raw[0], private_key_content="x")], str(tmp_path)) is True
    (tmp_path / "example.org").mkdir()
    (tmp_path / "example.org" / "mx1.private").write_text("key\n")
    assert _dkim.plan_needs_cryptography(raw, str(tmp_path)) is True
    assert _dkim.plan_needs_cryptography([{"domain": None, "selector": "mx1"}], str(tmp_path)) is True
