# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A private PEM given by mistake as dkim[].public_key (issue 10, class 6).

dns_records and mail_dns_info must fail, and no line of the key may appear anywhere: not in the
-vvv output of ansible-playbook (with --diff), not in a registered result, not in
``invocation.module_args``, including when the argument spec itself fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

COLLECTIONS = Path(__file__).resolve().parents[2] / ".cache" / "collections"
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _body_lines(pem: str) -> list:
    return [line for line in pem.strip().splitlines() if not line.startswith("-----") and len(line) >= 8]


def _assert_absent(pem: str, text: str, where: str) -> None:
    body = "".join(_body_lines(pem))
    assert body not in text.replace("\\n", "").replace("\n", ""), "the key body appears in %s" % where
    for line in _body_lines(pem):
        assert line not in text, "a line of the private key appears in %s: %s" % (where, line)


def _tasks(pem: str, zones: str) -> list:
    dkim = [{"selector": "s1", "public_key": pem}]
    dns = {
        "domains": [{"name": "example.org", "dkim": dkim}],
        "provider": "zonefile",
        "zonefile": {"path": zones},
        "lint_dns": False,
    }
    info = {"domains": [{"name": "example.org", "dkim": dkim}], "nameserver": "127.0.0.1", "port": 9, "timeout": 0.2}
    # The argument spec fails (ttl is no number) while the key is in the arguments.
    bad_spec = dict(dns, domains=[{"name": "example.org", "ttl": "soon", "dkim": dkim}])
    tasks = []
    for name, module, args in (
        ("dns", "mailauth.core.dns_records", dns),
        ("info", "mailauth.core.mail_dns_info", info),
        ("spec", "mailauth.core.dns_records", bad_spec),
    ):
        tasks.append({"name": "run " + name, module: args, "register": "r_" + name, "ignore_errors": True})
    for name in ("dns", "info", "spec"):
        tasks.append({"name": "show " + name, "ansible.builtin.debug": {"var": "r_" + name}})
        tasks.append(
            {"name": "failed " + name, "ansible.builtin.assert": {"that": ["r_%s is failed" % name]}},
        )
    return tasks


def test_private_pem_as_public_key_never_shown_at_vvv(tmp_path, private_pem):
    zones = tmp_path / "zones"
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": _tasks(private_pem, str(zones))}]
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "PATH": "%s:%s" % (VENV_BIN, env.get("PATH", "")),
        }
    )
    with tempfile.TemporaryDirectory(prefix="mailauth-pem-") as tmp:
        playbook = Path(tmp) / "play.yml"
        playbook.write_text(json.dumps(play))
        env["ANSIBLE_LOCAL_TEMP"] = str(Path(tmp) / "tmp")
        env["ANSIBLE_LOG_PATH"] = str(Path(tmp) / "ansible.log")
        cmd = [str(VENV_BIN / "ansible-playbook"), "-vvv", "--diff", "-i", "localhost,", "-c", "local"]
        cmd += ["-e", "ansible_python_interpreter=%s" % sys.executable]
        proc = subprocess.run([*cmd, str(playbook)], capture_output=True, text=True, env=env, timeout=240, check=False)
        log = Path(env["ANSIBLE_LOG_PATH"]).read_text() if Path(env["ANSIBLE_LOG_PATH"]).exists() else ""
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]  # every module failed, and every assert saw it fail
    assert "holds a private key" in output
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output  # the invocation was shown, masked
    _assert_absent(private_pem, output, "the -vvv output")
    _assert_absent(private_pem, log, "the Ansible log file")
    assert not zones.exists()


@pytest.mark.parametrize("module", ["dns_records", "mail_dns_info"])
def test_private_pem_as_public_key_fails_and_is_masked_in_the_result(tmp_path, private_pem, module, module_runner):
    dkim = [{"selector": "s1", "public_key": private_pem}]
    if module == "dns_records":
        args = {
            "domains": [{"name": "example.org", "dkim": dkim}],
            "provider": "zonefile",
            "zonefile": {"path": str(tmp_path / "zones")},
            "lint_dns": False,
        }
    else:
        args = {"domains": [{"name": "example.org", "dkim": dkim}], "nameserver": "127.0.0.1", "port": 9}
    result = module_runner(module, args, diff=True)
    assert result["failed"] is True
    assert "domains[0].dkim[0].public_key: holds a private key" in result["msg"]
    masked = result["invocation"]["module_args"]["domains"][0]["dkim"][0]["public_key"]
    assert masked == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    _assert_absent(private_pem, json.dumps(result), "the registered result")
    assert not (tmp_path / "zones").exists()
