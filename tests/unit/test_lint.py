# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lint: SPF syntax and limits (lookups through a fake DNS here, real BIND in integration), DMARC, DKIM."""

from __future__ import annotations

import base64

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.mailauth.core.plugins.module_utils import _entries, _lint, _txt


class FakeDns(_lint.DnsLookup):
    """DnsLookup over a dict: {(name, type): [presentation texts]}; missing names are NXDOMAIN."""

    def __init__(self, records: dict, failing: tuple = ()) -> None:
        self.records = records
        self.failing = failing
        self.queries = 0
        self._cache = {}

    def query(self, name, rdtype):
        self.queries += 1
        name = name.lower().rstrip(".")
        if name in self.failing:
            raise _lint.LookupFailure("DNS query %s %s timed out" % (name, rdtype))
        if not any(key[0] == name for key in self.records):
            return None
        texts = self.records.get((name, rdtype), [])
        if rdtype == "TXT":
            texts = [_txt.to_zone_text(t) for t in texts]
        return [dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), t) for t in texts]


def codes(findings, severity=None):
    return sorted(f["code"] for f in findings if severity is None or f["severity"] == severity)


def key_b64(bits: int) -> str:
    if bits < 1024:
        key = rsa.RSAPublicNumbers(65537, (1 << (bits - 1)) | 0x1234567).public_key()
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


# -- SPF offline ---------------------------------------------------------------------------------------------


def test_clean_spf_has_no_findings():
    assert _lint.lint_spf_value("v=spf1 mx ip4:192.0.2.0/24 include:_spf.example.net -all", "example.test") == []


@pytest.mark.parametrize(
    ("value", "severity", "code"),
    [
        ("v=spf1 mx foo -all", "error", "spf-syntax"),
        ("v=spf1 ip4:300.0.0.1 -all", "error", "spf-syntax"),
        ("v=spf1 ptr -all", "warning", "spf-ptr"),
        ("v=spf1 +all", "warning", "spf-pass-all"),
        ("v=spf1 all", "warning", "spf-pass-all"),
        ("v=spf1 mx", "warning", "spf-no-all"),
        ("v=spf1 -all mx", "warning", "spf-after-all"),
        ("v=spf1 mx -all redirect=x.test", "warning", "spf-redirect-ignored"),
        ("v=spf1 redirect=a.test redirect=b.test", "error", "spf-duplicate-modifier"),
        ("v=spf1 mx foo=bar -all", "warning", "spf-unknown-modifier"),
        ("v=spf1 ip4:192.0.2.1/24 -all", "warning", "spf-host-bits"),
        ("v=spf1 mx é -all", "error", "spf-syntax"),
        ("v=spf2 -all", "error", "spf-syntax"),
    ],
)
def test_spf_findings(value, severity, code):
    findings = _lint.lint_spf_value(value, "example.test")
    assert code in codes(findings, severity)
    assert all(f["record"] == "example.test" for f in findings)


def test_spf_size_limits():
    base = "v=spf1 " + " ".join("ip4:192.0.2.%d" % i for i in range(1, 60))
    value_450 = (base + " -all")[:460].rsplit(" ", 1)[0] + " -all"
    assert 450 < len(value_450) <= 512
    assert codes(_lint.lint_spf_value(value_450, "x.test")) == ["spf-size-450"]
    value_512 = "v=spf1 " + " ".join("ip4:198.51.100.%d" % i for i in range(1, 40)) + " -all"
    assert len(value_512) > 512
    assert codes(_lint.lint_spf_value(value_512, "x.test")) == ["spf-size-512"]


def test_multiple_spf_records():
    findings = _lint.lint_spf_values(["v=spf1 -all", "other", "v=spf1 mx -all"], "x.test")
    assert codes(findings, "error") == ["spf-multiple"]


# -- SPF through DNS ------------------------------------------------------------------------------------------


def chain_zone(depth: int) -> dict:
    """include chain: example.test -> inc1 -> ... -> inc<depth>, each with one 'a' mechanism."""
    records = {}
    for level in range(1, depth + 1):
        name = "inc%d.example.test" % level
        nxt = " include:inc%d.example.test" % (level + 1) if level < depth else ""
        records[(name, "TXT")] = ["v=spf1 a%s ~all" % nxt]
        records[(name, "A")] = ["192.0.2.%d" % level]
    records[("example.test", "MX")] = ["10 mx.example.test."]
    return records


def test_lookup_count_follows_includes():
    dns_ = FakeDns(chain_zone(3))
    result = _lint.spf_lookups("example.test", "v=spf1 mx include:inc1.example.test -all", dns_)
    # mx, include:inc1, a (inc1), include:inc2, a (inc2), include:inc3, a (inc3)
    assert result.lookups == 7
    assert result.void_lookups == 0
    assert result.findings == []
    assert result.chain[0] == "example.test: mx"


def test_lookup_limit_exceeded():
    dns_ = FakeDns(chain_zone(6))
    result = _lint.spf_lookups("example.test", "v=spf1 include:inc1.example.test -all", dns_)
    assert result.lookups == 12
    assert codes(result.findings, "error") == ["spf-lookup-limit"]
    assert "12 DNS lookups" in result.findings[0]["message"]


def test_redirect_counts_and_is_followed():
    records = {("_spf.example.net", "TXT"): ["v=spf1 a:mail.example.net mx:example.net -all"]}
    records[("mail.example.net", "A")] = ["192.0.2.1"]
    records[("example.net", "MX")] = ["10 mail.example.net."]
    result = _lint.spf_lookups("example.test", "v=spf1 redirect=_spf.example.net", FakeDns(records))
    assert result.lookups == 3
    assert result.findings == []


def test_void_lookups():
    result = _lint.spf_lookups(
        "example.test", "v=spf1 a:nx1.example.test a:nx2.example.test a:nx3.example.test -all", FakeDns({})
    )
    assert result.void_lookups == 3
    assert codes(result.findings, "error") == ["spf-void-limit"]


def test_include_without_spf_and_loops():
    records = {
        ("noinc.example.test", "TXT"): ["hello"],
        ("loop.example.test", "TXT"): ["v=spf1 include:loop.example.test -all"],
    }
    result = _lint.spf_lookups(
        "example.test", "v=spf1 include:noinc.example.test include:loop.example.test -all", FakeDns(records)
    )
    assert codes(result.findings, "error") == ["spf-include-missing", "spf-loop"]


def test_include_with_two_spf_records():
    records = {("two.example.test", "TXT"): ["v=spf1 -all", "v=spf1 mx -all"]}
    result = _lint.spf_lookups("example.test", "v=spf1 include:two.example.test -all", FakeDns(records))
    assert codes(result.findings, "error") == ["spf-multiple"]


def test_macros_counted_not_followed_and_ptr_counted():
    dns_ = FakeDns({})
    result = _lint.spf_lookups("example.test", "v=spf1 exists:%{i}._spf.example.test ptr -all", dns_)
    assert result.lookups == 2
    assert dns_.queries == 0


def test_dns_failure_is_a_warning():
    result = _lint.spf_lookups(
        "example.test", "v=spf1 include:slow.example.test -all", FakeDns({}, failing=("slow.example.test",))
    )
    assert codes(result.findings) == ["spf-dns-error"]
    assert result.findings[0]["severity"] == "warning"


def test_mx_limit():
    records = {("big.example.test", "MX"): ["%d mx%d.example.test." % (i, i) for i in range(11)]}
    result = _lint.spf_lookups("example.test", "v=spf1 mx:big.example.test -all", FakeDns(records))
    assert codes(result.findings, "error") == ["spf-mx-limit"]


def test_walk_is_bounded_on_huge_trees():
    records = {}
    for i in range(200):
        records[("n%d.example.test" % i, "TXT")] = [
            "v=spf1 include:n%d.example.test include:n%d.example.test -all" % (2 * i + 1, 2 * i + 2)
        ]
    dns_ = FakeDns(records)
    result = _lint.spf_lookups("example.test", "v=spf1 include:n0.example.test -all", dns_)
    assert "spf-lookup-limit" in codes(result.findings)
    limit = next(f for f in result.findings if f["code"] == "spf-lookup-limit")
    assert "at least 30 DNS lookups" in limit["message"]
    assert dns_.queries <= 3 * _lint.SPF_LOOKUP_LIMIT


def test_spf_read_from_dns_when_no_value_given():
    result = _lint.spf_lookups("example.test", None, FakeDns({("example.test", "TXT"): ["v=spf1 mx -all"]}))
    assert result.lookups == 1


# -- DMARC --------------------------------------------------------------------------------------------------------


def test_clean_dmarc():
    assert _lint.lint_dmarc_value("v=DMARC1; p=reject; rua=mailto:d@example.test; adkim=s; t=n", "_dmarc.x.test") == []


@pytest.mark.parametrize(
    ("value", "severity", "code"),
    [
        ("v=DMARC1; p=reject; pct=50", "warning", "dmarc-removed-tag"),
        ("v=DMARC1; p=reject; ri=3600", "warning", "dmarc-removed-tag"),
        ("v=DMARC1; p=reject; rf=afrf", "warning", "dmarc-removed-tag"),
        ("v=DMARC1; p=reject; foo=bar", "warning", "dmarc-unknown-tag"),
        ("v=DMARC1; rua=mailto:a@x.test", "warning", "dmarc-no-p"),
        ("v=DMARC1; rua=mailto:a@x.test; p=none", "warning", "dmarc-p-order"),
        ("v=DMARC1; p=rejected", "error", "dmarc-value"),
        ("v=DMARC1; p=none; sp=x", "error", "dmarc-value"),
        ("v=DMARC1; p=none; adkim=x", "error", "dmarc-value"),
        ("v=DMARC1; p=none; fo=1:x", "error", "dmarc-value"),
        ("v=DMARC1; p=none; t=yes", "error", "dmarc-value"),
        ("v=DMARC1; p=none; psd=q", "error", "dmarc-value"),
        ("v=DMARC1; p=none; p=reject", "error", "dmarc-duplicate-tag"),
        ("v=DMARC1; p=none; rua=a@x.test", "error", "dmarc-uri"),
        ("v=DMARC1; p=none; rua=mailto:not-an-address", "error", "dmarc-uri"),
        ("v=DMARC1; p=none; rua=https://x.test/", "warning", "dmarc-uri"),
        ("v=DMARC1; p=none; rua=mailto:a@x.test!10m", "warning", "dmarc-uri-size"),
        ("v=dmarc1; p=none", "error", "dmarc-syntax"),
        ("p=none; v=DMARC1", "error", "dmarc-syntax"),
    ],
)
def test_dmarc_findings(value, severity, code):
    assert code in codes(_lint.lint_dmarc_value(value, "_dmarc.x.test"), severity)


def test_multiple_dmarc_records():
    findings = _lint.lint_dmarc_values(["v=DMARC1; p=none", "v=DMARC1; p=reject"], "_dmarc.x.test")
    assert codes(findings, "error") == ["dmarc-multiple"]
    assert codes(_lint.lint_dmarc_values(["hello"], "_dmarc.x.test"), "error") == ["dmarc-syntax"]


# -- DKIM -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("bits", "expected"), [(512, ["error"]), (1024, ["warning"]), (2048, []), (4096, [])])
def test_dkim_key_size_policy(bits, expected):
    findings = _lint.lint_dkim_value("v=DKIM1; k=rsa; p=" + key_b64(bits), "s._domainkey.x.test")
    assert [f["severity"] for f in findings if f["code"] == "dkim-key-size"] == expected


@pytest.mark.parametrize(
    ("value", "severity", "code"),
    [
        ("v=DKIM1; k=rsa", "error", "dkim-syntax"),
        ("k=rsa; v=DKIM1; p=AAAA", "error", "dkim-syntax"),
        ("v=DKIM1; k=dsa; p=AAAA", "error", "dkim-key-type"),
        ("v=DKIM1; p=", "warning", "dkim-revoked"),
        ("v=DKIM1; p=!!!!", "error", "dkim-key"),
        ("not a record", "error", "dkim-syntax"),
    ],
)
def test_dkim_findings(value, severity, code):
    assert code in codes(_lint.lint_dkim_value(value, "s._domainkey.x.test"), severity)


def test_dkim_hashes_and_testing_flag():
    key = key_b64(2048)
    assert codes(_lint.lint_dkim_value("v=DKIM1; h=sha1; p=" + key, "s")) == ["dkim-hash"]
    assert codes(_lint.lint_dkim_value("v=DKIM1; h=sha1:sha256; p=" + key, "s"), "warning") == ["dkim-hash"]
    assert codes(_lint.lint_dkim_value("v=DKIM1; t=y; p=" + key, "s"), "warning") == ["dkim-testing"]
    assert codes(_lint.lint_dkim_values(["v=DKIM1; p=" + key] * 2, "s"), "error") == ["dkim-multiple"]


# -- desired records ---------------------------------------------------------------------------------------------------


def test_lint_desired_with_lookups():
    items = _entries.desired_items(
        [
            {
                "name": "example.test",
                "spf": {"mechanisms": ["ptr"], "include": ["inc1.example.test"]},
                "dkim": [{"selector": "old", "value": "v=DKIM1; k=rsa; p=" + key_b64(1024)}],
                "dmarc": {"p": "reject", "pct": 50},
            }
        ]
    )
    findings = _lint.lint_desired(items, FakeDns(chain_zone(6)))
    assert codes(findings, "error") == ["spf-lookup-limit"]
    assert codes(findings, "warning") == ["dkim-key-size", "dmarc-removed-tag", "spf-ptr"]
    assert _lint.has_errors(findings)
    assert "spf-lookup-limit" in _lint.format_findings(findings)
    assert not _lint.has_errors(_lint.lint_desired(items))  # without DNS: no lookup count


def test_dns_lookup_rejects_a_host_name_as_nameserver():
    with pytest.raises(_lint.LookupFailure, match="must be an IP address"):
        _lint.DnsLookup("ns1.example.test")
