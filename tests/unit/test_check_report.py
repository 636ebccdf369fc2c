"""playbooks/check.yml's report: severity rules, the JSON shape, Markdown and HTML escaping."""

from __future__ import annotations

import base64
import html.parser
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ansible_collections.mailauth.core.plugins.filter import check as check_filters
from ansible_collections.mailauth.core.plugins.module_utils import _check_render, _check_report


def p_of(key) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


KEY = ed25519.Ed25519PrivateKey.generate()
OTHER = ed25519.Ed25519PrivateKey.generate()
P, P_OTHER = p_of(KEY), p_of(OTHER)
NS = [{"name": "ns1.example.test", "address": "127.0.0.2"}, {"name": "ns2.example.test", "address": "127.0.0.3"}]
SPF = "v=spf1 mx -all"
DMARC = "v=DMARC1; p=reject"


def dkim_value(p: str) -> str:
    return "v=DKIM1; k=ed25519; p=%s" % p


def info(name="example.test", apex=None, apex2=None, dkim=None, dkim2=None, findings=(), lookups=1):
    """A mail_dns_info domain result, as served by two nameservers."""
    apex = [SPF] if apex is None else apex
    dkim = [dkim_value(P)] if dkim is None else dkim
    dname = "mx1-ed25519._domainkey." + name

    def view(a, d):
        return {name: a, "_dmarc." + name: [DMARC], dname: d}

    return {
        "name": name,
        "zone": name,
        "nameservers": NS,
        "served": {
            "127.0.0.2": view(apex, dkim),
            "127.0.0.3": view(apex if apex2 is None else apex2, dkim if dkim2 is None else dkim2),
        },
        "spf": {"name": name, "records": apex, "expected": SPF, "match": None, "lookups": lookups, "void_lookups": 0},
        "dmarc": {"name": "_dmarc." + name, "records": [DMARC], "expected": DMARC, "match": None},
        "mta_sts": {"name": "_mta-sts." + name, "records": [], "expected": None, "match": None},
        "tls_rpt": {"name": "_smtp._tls." + name, "records": [], "expected": None, "match": None},
        "dkim": [{"selector": "mx1-ed25519", "name": dname, "records": dkim}],
        "findings": list(findings),
    }


def keys(domain="example.test", p=P, host="mx1"):
    results = [
        {
            "domain": domain,
            "selector": "mx1-ed25519",
            "key_type": "ed25519",
            "value": dkim_value(p) if p else None,
            "fingerprint": "SHA256:abc" if p else None,
        }
    ]
    return check_filters.check_host_keys(results, host)


def report(*infos, key_list=None, domains=None, read=("mx1",)):
    key_list = keys() if key_list is None else key_list
    domains = domains or [{"name": i["name"], "mail_hosts": ["mx1"]} for i in infos]
    return check_filters.check_report({"domains": list(infos)}, key_list, domains, list(read), "2026-01-01T00:00:00Z")


def codes(domain, severity="error"):
    return sorted(p["code"] for p in domain["problems"] if p["severity"] == severity)


def test_a_good_domain_is_ok_and_its_selector_active():
    model = report(info())
    (domain,) = model["domains"]
    assert domain["severity"] == "ok"
    assert domain["problems"] == []
    assert model["broken"] == []
    assert model["summary"] == {"domains": 1, "ok": 1, "warning": 0, "error": 0}
    (selector,) = domain["selectors"]
    assert selector["state"] == "active"
    assert selector["key_match"] is True
    assert selector["served"] == {"127.0.0.2": True, "127.0.0.3": True}


def test_a_published_key_that_is_not_the_private_key_is_an_error():
    model = report(info(dkim=[dkim_value(P_OTHER)]))
    (domain,) = model["domains"]
    assert domain["severity"] == "error"
    assert codes(domain) == ["dkim-key-mismatch", "dkim-key-mismatch"]
    assert domain["selectors"][0]["key_match"] is False
    assert model["broken"][0].startswith("example.test: ns1.example.test (127.0.0.2) serves another public key")


def test_a_stale_secondary_is_an_error_naming_it():
    model = report(info(apex=["v=spf1 mx a -all"], apex2=[SPF]))
    (domain,) = model["domains"]
    assert domain["severity"] == "error"
    assert codes(domain) == ["spf-mismatch"]
    assert "ns1.example.test (127.0.0.2) serves SPF 'v=spf1 mx a -all'" in domain["problems"][0]["message"]
    model = report(info(dkim2=[]))
    assert codes(model["domains"][0]) == ["dkim-missing"]
    assert "ns2.example.test (127.0.0.3) serves no DKIM key" in model["broken"][0]


def test_lint_errors_break_a_domain_and_warnings_do_not():
    limit = {"severity": "error", "record": "example.test", "code": "spf-lookup-limit", "message": "11 DNS lookups"}
    warning = {"severity": "warning", "record": "_dmarc.example.test", "code": "dmarc-removed-tag", "message": "pct"}
    model = report(info(findings=[limit], lookups=11), info(name="example.org", findings=[warning]))
    broken, warned = model["domains"]
    assert (broken["severity"], codes(broken)) == ("error", ["spf-lookup-limit"])
    assert broken["spf"]["lookups"] == 11
    assert (warned["severity"], codes(warned, "warning")) == ("warning", ["dmarc-removed-tag"])
    assert model["summary"] == {"domains": 2, "ok": 0, "warning": 1, "error": 1}
    assert len(model["broken"]) == 1


def test_missing_or_unread_keys_are_errors():
    model = report(info(), key_list=keys(p=None))
    assert "no private key for selector mx1-ed25519 on mx1" in model["broken"][0]
    model = report(info(), key_list=[], read=())
    assert model["broken"] == ["example.test: the DKIM keys on mx1 could not be read"]


def test_dns_specs_carry_the_expected_records_and_public_keys():
    entries = [{"name": "Example.Test.", "mail_hosts": ["mx1"], "spf": {"mechanisms": ["mx"]}, "dmarc": {"p": "none"}}]
    specs = check_filters.check_dns_specs(entries, keys())
    assert specs == [
        {
            "name": "example.test",
            "spf": {"mechanisms": ["mx"]},
            "dmarc": {"p": "none"},
            "dkim": [{"selector": "mx1-ed25519", "public_key": P}],
        }
    ]


def test_no_key_material_in_the_model():
    results = [
        {
            "domain": "example.test",
            "selector": "s",
            "key_type": "rsa",
            "value": dkim_value(P),
            "fingerprint": "SHA256:x",
            "private_key": "-----BEGIN PRIVATE KEY-----",
        }
    ]
    text = json.dumps(check_filters.check_host_keys(results, "mx1"))
    assert "PRIVATE" not in text


def test_json_shape_is_stable_and_documented():
    model = report(info())
    text = _check_render.to_json(model)
    assert text == _check_render.to_json(json.loads(text))
    data = json.loads(text)
    assert sorted(data) == ["broken", "domains", "format", "generated", "summary"]
    assert data["format"] == _check_report.FORMAT == 1
    assert sorted(data["domains"][0]) == [
        "dmarc",
        "name",
        "nameservers",
        "problems",
        "selectors",
        "severity",
        "spf",
        "zone",
    ]
    assert sorted(data["domains"][0]["selectors"][0]) == [
        "fingerprint",
        "hosts",
        "key_match",
        "key_type",
        "name",
        "selector",
        "served",
        "state",
    ]
    assert data["domains"][0]["selectors"][0]["state"] in _check_report.SELECTOR_STATES


HOSTILE = '<script>alert("x")</script> & | `x` *y*'


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_escapes_record_text_and_shows_severity_in_words():
    hostile = "v=spf1 " + HOSTILE
    model = report(info(apex=[hostile]), info(name="example.org"))
    page = _check_render.to_html(model)
    parser = _Text()
    parser.feed(page)
    assert "script" not in parser.tags
    assert "link" not in parser.tags and "img" not in parser.tags
    assert hostile in "".join(parser.text)
    assert "<script>" not in page
    assert "ERROR" in parser.text and "OK" in parser.text
    # one row per domain
    assert parser.tags.count("tr") == 1 + 2
    assert "http" not in page.replace('name="viewport"', "")


def test_markdown_rows_cannot_be_broken_by_record_text():
    model = report(info(name="example.test", apex=["v=spf1 " + HOSTILE + "\nnext"]))
    text = _check_render.to_markdown(model)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 3  # header, separator, one domain
    assert "**ERROR**" in rows[2]
    problem_lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert problem_lines and all("<script>" not in line and "\\|" in line for line in problem_lines)


def test_report_files_are_the_three_renderings():
    files = check_filters.check_report_files(report(info()), "out/dir/")
    assert [(f["format"], f["path"]) for f in files] == [
        ("json", "out/dir/report.json"),
        ("markdown", "out/dir/report.md"),
        ("html", "out/dir/report.html"),
    ]


@pytest.mark.parametrize("bad", ["", "a\nb", None, 3])
def test_a_bad_report_dir_names_the_variable(bad):
    with pytest.raises(Exception, match="mailauth_check_report_dir"):
        check_filters.check_report_files(report(info()), bad)


def test_hosts_with_different_keys_for_one_selector_are_an_error_and_no_key_is_asked_for():
    both = keys(host="mx1") + keys(p=P_OTHER, host="mx2")
    assert check_filters.check_dns_specs([{"name": "example.test"}], both)[0]["dkim"] == [{"selector": "mx1-ed25519"}]
    model = report(
        info(), key_list=both, domains=[{"name": "example.test", "mail_hosts": ["mx1", "mx2"]}], read=["mx1", "mx2"]
    )
    assert "hosts mx1, mx2 hold different keys for one selector" in model["broken"][0]
    assert model["domains"][0]["selectors"][0]["key_match"] is None


@pytest.mark.parametrize("bad", [None, "x", [1]])
def test_filters_refuse_wrong_input_types(bad):
    with pytest.raises(Exception, match="check_dns_specs"):
        check_filters.check_dns_specs(bad, [])
    with pytest.raises(Exception, match="check_report"):
        check_filters.check_report(bad, [], [], [])
