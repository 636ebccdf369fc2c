# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SPF policy's Authentication-Results in delivered mail: Postfix header_checks rules.

The policy prepends its field under a secret name; the rules rename it and remove every
client-sent field with this host's authserv-id, keep foreign ones. Applied here as cleanup
applies a regexp: table (tests/lib/header_checks.py); the containers and the lab run Postfix.
"""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path

import authres
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.filter.spf_policy import spf_policy_header_checks
from ansible_collections.mailauth.core.plugins.module_utils import _postfix, _spf_policy

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("header_checks", ROOT / "tests/lib/header_checks.py")
hc = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(hc)

ID = "mx2.example.test"
SECRET = "k3y0123456789abcdefghijklmnopqrs"
RULES = _spf_policy.header_checks(ID, SECRET, True)

FORGED = [
    "Authentication-Results: mx2.example.test; spf=pass smtp.mailfrom=ceo@bank.test",
    "authentication-results: MX2.Example.TEST; dmarc=pass header.from=bank.test",
    "Authentication-Results:mx2.example.test;spf=pass",
    "Authentication-Results: mx2.example.test 1; spf=pass",
    "Authentication-Results: mx2.example.test/1; spf=pass",
    "Authentication-Results: mx2.example.test (comment); spf=pass",
    "Authentication-Results: (c1) (c2)mx2.example.test; spf=pass",
    'Authentication-Results: "mx2.example.test"; spf=pass',
    "Authentication-Results:\r\n\tmx2.example.test;\r\n\tspf=pass",
    "Authentication-Results: \t mx2.example.test\n ; dkim=pass header.d=bank.test",
    "Authentication-Results: mx2.example.test; none",
    "Authentication-Results: mx2.example.test",
    # RFC 5322 4.5 obsolete syntax: Postfix (is_header) takes whitespace before the colon.
    "Authentication-Results : mx2.example.test; spf=pass smtp.mailfrom=ceo@bank.test",
    "Authentication-Results\t: mx2.example.test; dkim=pass header.d=bank.test",
    "Authentication-Results \t :mx2.example.test; dmarc=pass",
]
KEPT = [
    "Authentication-Results: mx2.example.test.evil; spf=pass",
    "Authentication-Results: mx2.example.test-2; spf=pass",
    "Authentication-Results: xmx2.example.test; spf=pass",
    "Authentication-Results: mx2-example-test; spf=pass",
    "Authentication-Results: mx1.example.test; spf=pass smtp.mailfrom=a@mx2.example.test",
    "Authentication-Results: relay.example.org; spf=pass (sender mx2.example.test) smtp.mailfrom=a@b.test",
    "X-Authentication-Results: mx2.example.test; spf=pass",
    "Authentication-Results-Copy: mx2.example.test; spf=pass",
    "X-Mailauth-SPF-guessed0123456789abcdefghijklmn: mx2.example.test; spf=pass",
    "Received-SPF: Pass (mx2.example.test: domain of a@b.test designates 192.0.2.1 as permitted sender)",
]


@pytest.mark.parametrize("header", FORGED)
def test_a_client_sent_field_with_our_id_is_removed(header):
    assert hc.cleanup(RULES, header) is None


@pytest.mark.parametrize("header", KEPT)
def test_foreign_and_other_headers_stay(header):
    assert hc.cleanup(RULES, header) == header


def test_the_policy_field_becomes_authentication_results_and_parses_with_authres():
    value = " mx2.example.test; spf=pass (sender SPF authorized) smtp.mailfrom=joe@example.org"
    out = hc.cleanup(RULES, _spf_policy.AR_HEADER_PREFIX + SECRET + ":" + value)
    assert out == "Authentication-Results:" + value
    header = authres.AuthenticationResultsHeader.parse(out)
    assert header.authserv_id == ID
    assert [(r.method, r.result, r.smtp_mailfrom) for r in header.results] == [("spf", "pass", "joe@example.org")]


def test_a_folded_policy_field_keeps_its_continuation_lines():
    value = " mx2.example.test;\r\n\tspf=pass smtp.mailfrom=joe@example.org;\r\n\tspf=pass smtp.helo=mail.example.org"
    out = hc.cleanup(RULES, "x-mailauth-spf-" + SECRET.upper() + ":" + value)
    assert out == "Authentication-Results:" + value


def test_another_secret_is_a_foreign_header():
    other = _spf_policy.AR_HEADER_PREFIX + "z" * 32 + ": mx2.example.test; spf=pass"
    assert hc.cleanup(RULES, other) == other


def test_the_rules_are_valid_postfix_table_rules_rename_first():
    assert [_postfix.header_check(r, "rule") for r in RULES] == RULES
    assert RULES[0].split()[1] == "REPLACE" and RULES[1].endswith(" IGNORE")
    assert all("\n" not in r for r in RULES)


def test_the_posix_and_python_patterns_are_one_definition():
    posix, python = _spf_policy.forged_ar_pattern(ID), _spf_policy.forged_ar_pattern(ID, posix=False)
    assert posix.replace("[[:space:]]", r"\s") == python
    assert RULES[1] == "/%s/ IGNORE" % posix
    # The id's dots are literal: mx2Xexample.test is another name.
    assert not re.search(python, "Authentication-Results: mx2xexample.test; spf=pass", re.I)


@pytest.mark.parametrize(
    "hostile",
    [
        "Authentication-Results:" + " (" * 20000,
        "Authentication-Results:" + " ()" * 20000 + "x",
        "Authentication-Results:" + ' "' * 20000 + "mx2.example.tes",
        "Authentication-Results:" + "(" + "a" * 50000,
    ],
)
def test_hostile_headers_match_in_linear_time(hostile):
    start = time.monotonic()
    assert hc.cleanup(RULES, hostile) == hostile
    assert time.monotonic() - start < 1.0


def test_without_the_policy_field_only_forged_ones_are_removed():
    rules = _spf_policy.header_checks(ID, SECRET, False)
    assert len(rules) == 1 and SECRET not in rules[0]
    assert hc.cleanup(rules, FORGED[0]) is None


def test_the_filter_renames_only_when_the_policy_writes_authentication_results():
    for headers, count in (("both", 2), ("authentication_results", 3), ("received_spf", 1)):
        settings = {"config": {"authserv_id": ID, "headers": _spf_policy.HEADERS[headers]}}
        assert (
            len(spf_policy_header_checks(settings, SECRET, "/etc/mailauth/spf_policy.secret")["postfix_header_checks"])
            == count
        )


@pytest.mark.parametrize("secret", ["", "short", "A" * 32, "a" * 31 + "\n", "a" * 33, None, 5, "a" * 31 + "-"])
def test_a_malformed_secret_names_the_file_never_the_value(secret):
    settings = {"config": {"authserv_id": ID, "headers": ["authentication_results"]}}
    with pytest.raises(AnsibleFilterError) as err:
        spf_policy_header_checks(settings, secret, "/etc/mailauth/spf_policy.secret")
    assert "/etc/mailauth/spf_policy.secret" in str(err.value)
    if isinstance(secret, str) and len(secret) > 3:
        assert secret.strip() not in str(err.value)


def test_a_postfix_rule_error_never_shows_the_rule():
    with pytest.raises(Exception) as err:
        _postfix.header_check("/^X-Mailauth-SPF-%s:(.*)/ RENAME x" % SECRET, "postfix_header_checks[0]")
    assert SECRET not in str(err.value) and "postfix_header_checks[0]" in str(err.value)


def test_without_the_policy_received_spf_every_received_spf_is_removed():
    """OpenDMARC takes the first Received-SPF: with none of ours, a client's would decide (measured)."""
    settings = {"config": {"authserv_id": ID, "headers": ["authentication_results"]}}
    rules = spf_policy_header_checks(settings, SECRET, "/etc/mailauth/spf_policy.secret")["postfix_header_checks"]
    forged = 'Received-SPF: Pass (forged) identity=mailfrom; envelope-from="x@bank.test"'
    assert hc.cleanup(rules, forged) is None
    assert hc.cleanup(rules, "received-spf: pass") is None
    assert hc.cleanup(rules, "Received-SPF : Pass (obsolete syntax, a header to Postfix)") is None
    ours = hc.cleanup(
        rules, _spf_policy.AR_HEADER_PREFIX + SECRET + ": mx2.example.test; spf=pass smtp.mailfrom=a@b.test"
    )
    assert ours == "Authentication-Results: mx2.example.test; spf=pass smtp.mailfrom=a@b.test"
    assert hc.cleanup(RULES, forged) == forged  # with both headers, the policy's own Received-SPF comes first
