"""The domain-entry schema: one table per record kind, and everything derived from it."""

from __future__ import annotations

import importlib.util
import os

import pytest
import yaml

from ansible_collections.mailauth.core.plugins.module_utils import _lint, _reporting, _schema
from ansible_collections.mailauth.core.plugins.module_utils._names import RecordError
from ansible_collections.mailauth.core.plugins.modules import dns_records

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _gen_specs():
    spec = importlib.util.spec_from_file_location("gen_specs", os.path.join(ROOT, "hacking", "gen_specs.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", ["plugins/doc_fragments/domain_entry.py", "roles/dns_publish/meta/argument_specs.yml"])
def test_checked_in_files_equal_the_generated_output(path):
    expected = _gen_specs().outputs()[path]
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        assert handle.read() == expected, "run: python hacking/gen_specs.py"


def test_module_argument_spec_and_fragment_come_from_the_table():
    spec = dns_records.argument_spec()["domains"]
    assert spec == _schema.entry_argument_spec()["domains"]
    assert list(spec["options"]) == [f.name for f in _schema.ENTRY]
    assert list(spec["options"]["dmarc"]["options"]) == list(_schema.keys(_schema.DMARC))
    fragment = _gen_specs().fragment()
    docs = yaml.safe_load(fragment.split('r"""', 1)[1].rsplit('"""', 1)[0])["options"]["domains"]

    # every option of the spec is documented, with the same type, and nothing else
    def same(spec_options, doc_options):
        assert list(spec_options) == list(doc_options)
        for name, entry in spec_options.items():
            assert entry["type"] == doc_options[name]["type"]
            assert entry.get("choices") == doc_options[name].get("choices")
            assert entry.get("default") == doc_options[name].get("default")
            if "options" in entry:
                same(entry["options"], doc_options[name]["suboptions"])

    same(spec["options"], docs["suboptions"])


def test_role_spec_takes_the_entry_fields_and_the_shared_inventory_keys():
    with open(os.path.join(ROOT, "roles/dns_publish/meta/argument_specs.yml"), encoding="utf-8") as handle:
        role = yaml.safe_load(handle)
    options = role["argument_specs"]["main"]["options"]["dns_publish_domains"]["options"]
    assert set(options) == set(_schema.keys(_schema.ENTRY)) | set(_schema.keys(_schema.ROLE_ENTRY))
    assert {"mail_hosts", "forwards"} <= set(options)
    assert set(options["dmarc"]["options"]) == set(_schema.keys(_schema.DMARC))
    assert options["dkim"]["type"] == "raw"


# -- the one DMARC validator ------------------------------------------------------------------------------------
# RFC 7489 section 6.4 (ABNF, RFC 5234): quoted literals are case-insensitive, so tag names ("v", "p") and
# keyword values ("reject") match in any case; dmarc-version spells "DMARC1" as %x44 %x4d %x41 %x52 %x43 %x31,
# which is case-sensitive; dmarc-sep = *WSP %x3b *WSP and every tag is name *WSP "=" *WSP value.

VALID = [
    "v=DMARC1; p=none",  # RFC 7489 appendix B.2.1
    "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com",  # B.2.2
    "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; ruf=mailto:auth-reports@thirdparty.example.net",
    "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com; ruf=mailto:auth-reports@example.com",
    "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,mailto:tld-test@thirdparty.example.net!10m",
    "v=DMARC1; p=REJECT",  # issue 11: values are case-insensitive
    "V=DMARC1; P=reject",  # tag names too
    "v = DMARC1; p=reject",  # white space around "="
    "v=DMARC1 ;p = reject ; adkim = S ;",  # and around ";", a trailing separator
    "v=DMARC1; p=none; fo=0 : D",  # fo = ... *(*WSP ":" *WSP ...)
    "v=DMARC1; p=none; rua=mailto:a@example.test , mailto:b@example.test",
    "v=DMARC1; p=none; RUA=MAILTO:a@example.test",
    "v=DMARC1; p=reject; psd=Y; np=Reject; t=N",  # RFC 9989 tags
]


@pytest.mark.parametrize("value", VALID)
def test_valid_dmarc_records_pass_the_builder_validator_and_linter(value):
    _reporting.check_dmarc_value(value)
    assert _reporting.build_dmarc(value)[0]
    assert _reporting.is_dmarc(value)
    assert [f for f in _lint.lint_dmarc_value(value, "_dmarc.x.test") if f["severity"] == "error"] == []


INVALID = [
    ("v=dmarc1; p=none", "starts with v=DMARC1"),  # %x44.4d.41.52.43.31 is case-sensitive
    ("v=DMARC2; p=none", "starts with v=DMARC1"),
    ("p=none; v=DMARC1", "starts with v=DMARC1"),  # dmarc-version comes first
    ("v=DMARC1; p=none; P=reject", "appears twice"),  # names compare case-insensitively
    ("v=DMARC1; p=rejected", "p must be one of none, quarantine, reject"),
    ("v=DMARC1; p=none; fo=1:x", "fo must be one of 0, 1, d, s"),
    ("v=DMARC1; p=none; pct=101", "between 0 and 100"),
    ("v=DMARC1; p=none; psd=q", "psd must be one of y, n, u"),
    ("v=DMARC1; p=none; rf=af rf", "keywords"),
    ("v=DMARC1; sp=none", "p= tag is required"),
]


@pytest.mark.parametrize(("value", "message"), INVALID)
def test_invalid_dmarc_records_fail_everywhere_with_the_same_rule(value, message):
    with pytest.raises(RecordError, match=message):
        _reporting.check_dmarc_value(value)
    with pytest.raises(RecordError, match=message):
        _reporting.build_dmarc(value)
    if "p= tag" not in message:
        assert [f for f in _lint.lint_dmarc_value(value, "_dmarc.x.test") if f["severity"] == "error"]


def test_tabs_are_white_space_in_a_published_record_but_refused_as_input():
    value = "v=DMARC1;\tp=quarantine;\tsp=NONE"  # WSP is space or tab (RFC 5234 B.1)
    assert _lint.lint_dmarc_value(value, "_dmarc.x.test") == []
    with pytest.raises(RecordError, match="control characters"):
        _reporting.check_dmarc_value(value)


def test_every_dmarc_tag_of_the_table_is_known_to_validator_and_linter():
    for tag in _schema.DMARC:
        if tag.tag:
            assert tag.tag in _reporting.DMARC_TAGS
            codes = [f["code"] for f in _lint.lint_dmarc_value("v=DMARC1; p=none; %s=x" % tag.tag, "r")]
            assert "dmarc-unknown-tag" not in codes


# -- one set of field names: dkim_key's output is a domain entry's DKIM selector ---------------------------------


def test_dkim_key_result_feeds_a_domain_entry_and_dns_publish():
    from ansible_collections.mailauth.core.plugins.filter.publish import dns_publish_entries
    from ansible_collections.mailauth.core.plugins.module_utils import _dkim, _entries

    key = _dkim.generate_private_key("ed25519")
    spec = _dkim.KeySpec("example.test", "mx1", "ed25519", 256)
    result = _dkim._result(spec, "ed25519", 256, "/etc/dkimkeys/example.test/mx1.private", key, True)
    selector = {k: v for k, v in result.items() if k in _schema.keys(_schema.DKIM)}
    assert selector == {"selector": "mx1", "key_type": "ed25519", "key_size": 256, "value": _dkim.dns_record(key)}
    items = _entries.desired_items([{"name": result["domain"], "dkim": [selector]}])
    assert [(i.rrset.name, i.rrset.values) for i in items] == [("mx1._domainkey.example.test", [result["value"]])]
    entries = dns_publish_entries([{"name": "example.test", "dkim": {"selector": "mx1"}}], [result])["domains"]
    assert entries[0]["dkim"] == [{"selector": "mx1", "value": result["value"]}]
    # the names of version 0.1.0 still carry the same values
    assert (result["type"], result["size"], result["record"]) == (
        result["key_type"],
        result["key_size"],
        result["value"],
    )


def _dkim_key(monkeypatch, capsys, tmp_path, keys):
    """Run dkim_key's main() as on a managed host, one run per process: deprecations go into the result
    (on the controller ansible-playbook shows them, see tests/integration/test_dkim_key.py)."""
    import json
    import pwd

    from ansible.module_utils import _internal, basic
    from ansible.module_utils.common import warnings

    from ansible_collections.mailauth.core.plugins.modules import dkim_key

    monkeypatch.setattr(_internal, "is_controller", False)
    monkeypatch.setattr(warnings, "_global_deprecations", {})
    me = pwd.getpwuid(os.getuid())
    args = {"keys": keys, "key_dir": str(tmp_path / "k"), "owner": me.pw_name, "group": str(me.pw_gid)}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
    with pytest.raises(SystemExit):
        dkim_key.main()
    result = json.loads(capsys.readouterr().out)
    assert result.get("failed") is not True, result
    return result


def test_the_opendkim_role_chain_uses_dkim_key_names_without_deprecation(tmp_path, capsys, monkeypatch):
    """dkim_keys filter -> opendkim_key_specs -> dkim_key -> opendkim_dns_records: one set of names, no alias used."""
    from ansible_collections.mailauth.core.plugins.filter import domains, services

    entries = [{"name": "example.test", "mail_hosts": ["mx1"], "dkim": [{"key_type": "ed25519"}]}]
    keys = services.opendkim_key_specs(domains.dkim_keys(entries, "mx1"))
    assert keys == [{"domain": "example.test", "selector": "mx1-ed25519", "key_type": "ed25519", "key_size": 256}]
    result = _dkim_key(monkeypatch, capsys, tmp_path, keys)
    assert "deprecations" not in result, result["deprecations"]
    records = services.opendkim_dns_records(result["dkim_keys"])
    assert [(r["name"], r["key_type"]) for r in records] == [("mx1-ed25519._domainkey.example.test", "ed25519")]
    assert records[0]["value"] == result["dkim_keys"][0]["value"] and records[0]["value"].startswith("v=DKIM1")


def test_dkim_key_type_and_size_aliases_warn_and_mean_the_same(tmp_path, capsys, monkeypatch):
    """type/size (version 0.1.0) are deprecated aliases of key_type/key_size: a deprecation each, the same keys."""
    import json

    old = _dkim_key(
        monkeypatch, capsys, tmp_path, [{"domain": "example.test", "selector": "s", "type": "rsa", "size": 1024}]
    )
    assert old["changed"] is True
    shown = json.dumps(old["deprecations"])
    for alias in ("type", "size"):
        assert "Alias 'keys[0].%s' is deprecated." % alias in shown
    assert len(old["deprecations"]) == 2 and all(d["version"] == "1.0.0" for d in old["deprecations"])
    assert shown.count('"mailauth.core"') == 2
    new = _dkim_key(
        monkeypatch,
        capsys,
        tmp_path,
        [{"domain": "example.test", "selector": "s", "key_type": "rsa", "key_size": 1024}],
    )
    assert new["changed"] is False and "deprecations" not in new
    assert [{k: v for k, v in r.items() if k != "changed"} for r in new["dkim_keys"]] == [
        {k: v for k, v in r.items() if k != "changed"} for r in old["dkim_keys"]
    ]
    assert (new["dkim_keys"][0]["key_type"], new["dkim_keys"][0]["key_size"]) == ("rsa", 1024)
