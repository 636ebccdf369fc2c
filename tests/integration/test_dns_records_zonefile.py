# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dns_records with the zonefile provider: BIND snippets and JSON for DNS run elsewhere."""

from __future__ import annotations

import base64
import json
import os

import dns.rdatatype
import dns.zone
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from servers import run_module

FOREIGN = "google-site-verification=zonefile-foreign"


@pytest.fixture(scope="module")
def rsa4096():
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def module_args(path, domains):
    return {"provider": "zonefile", "zonefile": {"path": str(path)}, "domains": domains, "lint_dns": False}


def domain(name="example.test", **extra):
    entry = {
        "name": name,
        "ttl": 600,
        "spf": {"mechanisms": ["mx"], "all": "-all"},
        "dmarc": {"p": "quarantine", "rua": ["dmarc@%s" % name]},
    }
    entry.update(extra)
    return entry


def read_zone(path, zone):
    """Parse the snippet with dnspython: {name: [[strings...], ...]} for TXT."""
    parsed = dns.zone.from_file(str(path / (zone + ".zone")), origin=zone, relativize=False, check_origin=False)
    out = {}
    for name, node in parsed.nodes.items():
        rdataset = node.get_rdataset(1, dns.rdatatype.TXT)
        if rdataset:
            out[name.to_text(omit_final_dot=True)] = [list(r.strings) for r in rdataset]
    return out


def test_files_written_once_4096_bit_split_and_json(tmp_path, rsa4096):
    """What only the zonefile backend shows (the four steps, foreign TXT, SPF merge and a failed zone are
    in test_provider_contract.py): check mode does not even create the directory, a run writes the
    snippet and the JSON listing (two writes, mode 0644, no temporary file left), a no-op run touches
    neither, and the snippet holds the 4096-bit key in <=255-octet strings."""
    out = tmp_path / "export"
    args = module_args(out, [domain(dkim=[{"selector": "mx1", "public_key": rsa4096}])])

    first = run_module("dns_records", args, check=True, diff=True)
    assert first["changed"] is True and len(first["diff"]) == 3
    assert not out.exists()

    second = run_module("dns_records", args)
    assert second["changed"] is True and second["api_calls"]["write"] == 2  # snippet + JSON
    snippet, listing = out / "example.test.zone", out / "example.test.json"
    stamps = (snippet.stat().st_mtime_ns, listing.stat().st_mtime_ns)
    assert run_module("dns_records", args)["changed"] is False
    assert (snippet.stat().st_mtime_ns, listing.stat().st_mtime_ns) == stamps

    records = read_zone(out, "example.test")
    dkim = records["mx1._domainkey.example.test"]
    assert len(dkim) == 1 and len(dkim[0]) > 1 and all(len(s) <= 255 for s in dkim[0])
    assert b"".join(dkim[0]).decode() == "v=DKIM1; k=rsa; p=" + rsa4096
    assert records["example.test"] == [[b"v=spf1 mx -all"]]
    items = {(i["name"], i["type"]): i for i in json.loads(listing.read_text())}
    assert items[("mx1._domainkey.example.test", "TXT")]["values"] == ["v=DKIM1; k=rsa; p=" + rsa4096]
    assert items[("_dmarc.example.test", "TXT")]["ttl"] == 600
    assert oct(snippet.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_hand_edited_snippet_keeps_its_other_records(tmp_path):
    """Records of other types in a hand-edited snippet are kept as written (the contract checks TXT)."""
    out = tmp_path / "export"
    out.mkdir()
    (out / "example.test.zone").write_text(
        '$ORIGIN example.test.\n@ 300 IN TXT "%s"\nwww 300 IN A 192.0.2.80\n' % FOREIGN
    )
    result = run_module("dns_records", module_args(out, [domain()]))
    assert not result.get("failed"), result.get("msg")
    assert "www 300 IN A 192.0.2.80" in (out / "example.test.zone").read_text()
    assert FOREIGN in [b"".join(s).decode() for s in read_zone(out, "example.test")["example.test"]]
    assert run_module("dns_records", module_args(out, [domain()]))["changed"] is False


def test_state_absent_and_subdomain_zone(tmp_path):
    out = tmp_path / "export"
    args = module_args(out, [domain("mail.example.test", zone="example.test")])
    assert run_module("dns_records", args)["changed"] is True
    assert "_dmarc.mail.example.test" in read_zone(out, "example.test")
    gone = module_args(out, [domain("mail.example.test", zone="example.test", state="absent")])
    result = run_module("dns_records", gone)
    assert result["changed"] is True
    assert read_zone(out, "example.test") == {}
    assert json.loads((out / "example.test.json").read_text()) == []


def test_path_that_is_a_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_module("dns_records", module_args(blocker, [domain()]))
    assert result.get("failed") is True and "not a directory" in result["msg"]


def test_unwritable_directory_fails_cleanly(tmp_path):
    if os.geteuid() == 0:
        # root ignores directory permissions; a path under a file cannot be created by anyone
        out = tmp_path / "file" / "sub"
        (tmp_path / "file").write_text("x")
    else:
        out = tmp_path / "ro"
        out.mkdir(mode=0o500)
    result = run_module("dns_records", module_args(out, [domain()]))
    assert result.get("failed") is True
    assert "zonefile: cannot" in result["msg"]
