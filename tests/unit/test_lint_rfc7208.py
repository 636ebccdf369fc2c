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


# -- term syntax (RFC 7208 section 12, 7.1) -------------------------------------------------------


def spf_errors(value: str) -> list[str]:
    return [f["message"] for f in _lint.lint_spf_value(value, "example.test") if f["severity"] == "error"]


@pytest.mark.parametrize(
    "value",
    [
        "v=spf1 ip4:192.0.2.5\t -all",  # a tab inside a term
        "v=spf1 ip4:\t192.0.2.5 -all",
        "v=spf1 ip6:2001:db8::1\n -all",  # a newline inside a term
        "v=spf1 ip4:192.0.2.5\n",
        "v=spf1 a:mail.example.com\r -all",
        "v=spf1 a:mail.example.com\x00 -all",
        "v=spf1 mx:example.com\x0b -all",
        "v=spf1 foo=bar\x7f -all",
    ],
)
def test_a_character_outside_printable_ascii_in_a_term_is_an_error(value):
    errors = spf_errors(value)
    assert len(errors) == 1
    assert "other than printable ASCII" in errors[0]


def test_a_bad_term_is_an_error_of_its_domain_only():
    spec = [{"name": "bad.example.test"}, {"name": "good.example.test"}]
    served = {
        "bad.example.test": ["v=spf1 ip4:192.0.2.5\t -all"],
        "good.example.test": ["v=spf1 ip4:192.0.2.6 -all"],
    }
    reader = FailingReader(served, ())
    results = [_dns_info.inspect(_dns_info.normalise_spec(s), reader, FakeDns({})) for s in spec]
    assert "spf-syntax" in codes(results[0]["findings"], "error")
    assert codes(results[1]["findings"], "error") == []


@pytest.mark.parametrize(
    "value",
    [
        "v=spf1 a:museum -all",  # no dot before the top label
        "v=spf1 a:museum. -all",
        "v=spf1 a:foo-bar -all",
        "v=spf1 include:example.123 -all",  # an all-digit top label
        "v=spf1 mx:example.com:8080 -all",
        "v=spf1 exists:example.-com -all",
        "v=spf1 redirect=example.com-",
    ],
)
def test_domain_specs_need_a_top_label(value):
    errors = spf_errors(value)
    assert len(errors) == 1
    assert "top label" in errors[0]


@pytest.mark.parametrize(
    "value",
    [
        "v=spf1 a:foo:bar/baz.example.com -all",  # ':' and '/' are macro-literals (7.1)
        "v=spf1 mx:foo:bar/baz.example.com/24//64 -all",
        "v=spf1 include:_spf.example.com -all",
        "v=spf1 a:%{ir}.%{v}._spf.%{d2} -all",
        "v=spf1 exists:%{i}.%{l2r-}.user.%{d2} -all",
        "v=spf1 -all exp=explain._spf.%{d}",
        "v=spf1 a:example.com. -all",
        "v=spf1 a:foo.1-2 -all",
    ],
)
def test_valid_domain_specs_pass(value):
    assert spf_errors(value) == []


@pytest.mark.parametrize("letter", ["c", "r", "t", "C", "R", "T"])
def test_macro_letters_c_r_t_are_for_exp_text_only(letter):
    for value in (
        "v=spf1 a:%%{%s}.example.com -all" % letter,
        "v=spf1 -all exp=%%{%s}.example.com" % letter,
        "v=spf1 redirect=%%{%s}.example.com" % letter,
    ):
        errors = spf_errors(value)
        assert len(errors) == 1 and "invalid macro" in errors[0], value


@pytest.mark.parametrize(
    "value", ["v=spf1 foo=%abc -all", "v=spf1 foo=%{z} -all", "v=spf1 foo=%{d0} -all", "v=spf1 x=% -all"]
)
def test_unknown_modifier_values_are_macro_strings(value):
    errors = spf_errors(value)
    assert len(errors) == 1 and "macro-string" in errors[0]


def test_an_unknown_modifier_with_a_valid_macro_string_is_a_warning_only():
    findings = _lint.lint_spf_value("v=spf1 -all foo=%{d}.bar%%", "example.test")
    assert codes(findings) == ["spf-unknown-modifier"]


@pytest.mark.parametrize("target", ["mail.example...com", "a" * 64 + ".example.com"])
def test_a_name_dns_cannot_carry_is_a_warning_and_never_looked_up(target):
    value = "v=spf1 a:%s -all" % target
    assert codes(_lint.lint_spf_value(value, "example.test")) == ["spf-target-invalid"]
    dns_ = FakeDns({})
    result = _lint.spf_lookups("example.test", value, dns_)
    assert dns_.queries == 0
    assert result.findings == []


def test_the_p_macro_is_a_warning():
    findings = _lint.lint_spf_value("v=spf1 exists:%{p}.should.example.com ~exists:%{P}.ok.example.com -all", "x.test")
    assert codes(findings) == ["spf-p-macro", "spf-p-macro"]
