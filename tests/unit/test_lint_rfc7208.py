# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SPF lint held to RFC 7208: void lookups per client family, temperror alone, underscore targets, term syntax."""

from __future__ import annotations

import pytest
from test_lint import FakeDns, codes

from ansible_collections.mailauth.core.plugins.module_utils import _dns_info, _lint, _resolver

# -- void lookups (RFC 7208 4.6.4, 5.3, 5.4) ---------------------------------------------------


def test_a_terms_to_ipv4_only_hosts_are_void_for_ipv6_clients():
    records = {("h%d.example.test" % i, "A"): ["192.0.2.%d" % i] for i in range(1, 4)}
    value = "v=spf1 a:h1.example.test a:h2.example.test a:h3.example.test -all"
    result = _lint.spf_lookups("example.test", value, FakeDns(records))
    assert result.void_lookups == 3
    assert codes(result.findings, "error") == ["spf-void-limit"]
    assert "for IPv6 clients" in result.findings[0]["message"]


def test_a_terms_to_dual_stack_hosts_are_not_void():
    records = {}
    for i in range(1, 4):
        records[("h%d.example.test" % i, "A")] = ["192.0.2.%d" % i]
        records[("h%d.example.test" % i, "AAAA")] = ["2001:db8::%d" % i]
    value = "v=spf1 a:h1.example.test a:h2.example.test a:h3.example.test -all"
    result = _lint.spf_lookups("example.test", value, FakeDns(records))
    assert result.void_lookups == 0
    assert result.findings == []


def test_address_lookups_of_mx_hosts_are_counted():
    records = {("example.test", "MX"): ["%d mx%d.example.test." % (i, i) for i in range(3)]}
    result = _lint.spf_lookups("example.test", "v=spf1 mx -all", FakeDns(records))
    assert result.void_lookups == 3
    assert codes(result.findings, "error") == ["spf-void-limit"]
    assert "IPv4 and IPv6 clients" in result.findings[0]["message"]


def test_void_counts_of_the_two_families_are_separate():
    # Two hosts without A, two without AAAA: two voids for each family, within the limit.
    records = {
        ("v4a.example.test", "A"): ["192.0.2.1"],
        ("v4b.example.test", "A"): ["192.0.2.2"],
        ("v6a.example.test", "AAAA"): ["2001:db8::1"],
        ("v6b.example.test", "AAAA"): ["2001:db8::2"],
    }
    value = "v=spf1 a:v4a.example.test a:v4b.example.test a:v6a.example.test a:v6b.example.test -all"
    result = _lint.spf_lookups("example.test", value, FakeDns(records))
    assert result.void_lookups == 2
    assert codes(result.findings, "error") == []


# -- mail_dns_info: a failed TXT query is temperror only ----------------------------------------


class FailingReader(_dns_info.Reader):
    """Every query of the names in ``failing`` times out; others serve ``records``."""

    def __init__(self, records: dict, failing: tuple) -> None:
        super().__init__(FakeDns({}), [], 53, 1.0)
        self.records = records
        self.failing = failing

    def read(self, target, name):
        if name in self.failing:
            raise _resolver.LookupFailure("DNS query %s TXT timed out" % name)
        return self.records.get(name)


def test_a_txt_timeout_is_temperror_only():
    spec = _dns_info.normalise_spec({"name": "example.test"})
    reader = FailingReader({}, ("example.test", "_dmarc.example.test"))
    result = _dns_info.inspect(spec, reader, FakeDns({}))
    assert codes(result["findings"]) == ["dns-error", "dns-error"]
    assert all("(temperror)" in f["message"] for f in result["findings"])


# -- lint targets with underscore labels ----------------------------------------------------------


def test_include_targets_with_underscore_labels_can_be_linted():
    assert _dns_info.normalise_spec({"name": "_spf.example.com"})["name"] == "_spf.example.com"
    assert _dns_info.normalise_spec({"name": "_SPF.Example.COM."})["name"] == "_spf.example.com"


@pytest.mark.parametrize("name", ["-spf.example.com", "_spf.exa mple.com", "_spf.example.com\n", "a..example.com"])
def test_lint_targets_stay_host_names_otherwise(name):
    with pytest.raises(_dns_info.RecordError):
        _dns_info.normalise_spec({"name": name})
