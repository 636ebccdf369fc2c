# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The srs role's filters and the postfix role's forwarding and SRS settings, as a user sees them."""

from __future__ import annotations

import copy
import re

import pytest
from ansible.errors import AnsibleFilterError
from test_hostile_inputs_roles import POSTFIX_OK, postfix_files

from ansible_collections.mailauth.core.plugins.filter import services, srs
from ansible_collections.mailauth.core.plugins.module_utils import _postfix

SRS_OK = {
    "domain": "fwd.example.test",
    "exclude_domains": ["example.test", ".example.org"],
    "secret_path": "/etc/postsrsd.secret",
    "previous_secrets": [],
    "separator": "=",
    "hash_length": 4,
    "hash_minimum": 4,
    "service_state": "started",
    "service_enabled": True,
}


def test_srs_settings_for_postsrsd_and_postfix():
    out = srs.srs_config(copy.deepcopy(SRS_OK))
    default = dict(out["postsrsd_default"])
    assert default["SRS_DOMAIN"] == "fwd.example.test"
    assert default["SRS_EXCLUDE_DOMAINS"] == "example.test,.example.org"
    assert default["SRS_SECRET"] == "/etc/postsrsd.secret"
    assert default["SRS_LISTEN_ADDR"] == "127.0.0.1"
    assert out["postfix"] == {
        "sender_canonical_maps": ["tcp:127.0.0.1:10001"],
        "sender_canonical_classes": ["envelope_sender"],
        "recipient_canonical_maps": ["tcp:127.0.0.1:10002"],
        "recipient_canonical_classes": ["envelope_recipient", "header_recipient"],
        "sender_canonical_exclude_domains": ["example.test", ".example.org", "fwd.example.test"],
        "mydestination_extra": ["fwd.example.test"],
    }


def test_srs_stopped_publishes_no_tables():
    values = dict(SRS_OK, service_state="stopped")
    out = srs.srs_config(values)
    assert out["postfix"]["sender_canonical_maps"] == []
    assert out["postfix"]["recipient_canonical_maps"] == []


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("domain", "not a domain", "srs_domain"),
        ("domain", "fwd..example.test", "srs_domain"),
        ("domain", "fwd.example.test\n", "srs_domain"),
        ("domain", "", "srs_domain"),
        ("exclude_domains", ["example.test", "-bad-.test"], "srs_exclude_domains[1]"),
        ("exclude_domains", ["..example.test"], "srs_exclude_domains[0]"),
        ("exclude_domains", ["example.test;rm -rf /"], "srs_exclude_domains[0]"),
        ("exclude_domains", "example.test", "srs_exclude_domains"),
        ("secret_path", "etc/postsrsd.secret", "srs_secret_path"),
        ("secret_path", "/etc/../postsrsd.secret", "srs_secret_path"),
        ("separator", "/", "srs_separator"),
        ("hash_length", 0, "srs_hash_length"),
        ("hash_minimum", 9, "srs_hash_minimum (9) must not exceed srs_hash_length (4)"),
        ("previous_secrets", ["short"], "srs_previous_secrets[0]"),
        ("previous_secrets", "onesecretstring", "srs_previous_secrets must be a list"),
    ],
)
def test_srs_input_refused_naming_the_variable(variable, value, words):
    values = dict(SRS_OK)
    values[variable] = value
    with pytest.raises(AnsibleFilterError) as err:
        srs.srs_config(values)
    assert str(err.value).startswith("Invalid SRS input: ")
    assert words in str(err.value)


def test_srs_every_problem_in_one_message():
    values = dict(SRS_OK, domain="bad domain", exclude_domains=["-x-.test"], secret_path="relative")
    with pytest.raises(AnsibleFilterError) as err:
        srs.srs_config(values)
    for name in ("srs_domain", "srs_exclude_domains[0]", "srs_secret_path"):
        assert name in str(err.value)


def test_previous_secrets_are_never_shown():
    secret = "sec ret with spaces"
    with pytest.raises(AnsibleFilterError) as err:
        srs.srs_config(dict(SRS_OK, previous_secrets=["goodsecret1", secret]))
    assert "srs_previous_secrets[1]" in str(err.value)
    assert "sec ret" not in str(err.value) and "goodsecret1" not in str(err.value)


def test_secret_file_keeps_the_host_secret_first():
    assert srs.srs_secret_file("hostsecret123\n", []) == "hostsecret123\n"
    assert srs.srs_secret_file("hostsecret123\nold1secret\n", ["old2secret", "hostsecret123", "old2secret"]) == (
        "hostsecret123\nold2secret\n"
    )
    assert srs.srs_secret_file("", ["old2secret"]) is None
    with pytest.raises(AnsibleFilterError) as err:
        srs.srs_secret_file("hostsecret123\n", ["bad secret"])
    assert "bad secret" not in str(err.value)


# -- the postfix role: forwards and SRS of forwarded mail only ----------------------------------------


def postfix_settings(**extra):
    values = copy.deepcopy(POSTFIX_OK)
    values.update(extra)
    return services.postfix_config(values)


def test_forwards_from_the_domain_list():
    entries = [
        {"name": "example.test", "forwards": {"bob": "bob@example.net", "team": ["a@example.net", "b@example.org"]}},
        {"name": "example.org"},
    ]
    out = postfix_settings(forward_domains=entries)
    assert out["forwards"] == [
        ["bob@example.test", "bob@example.net"],
        ["team@example.test", "a@example.net, b@example.org"],
    ]
    main = _postfix.parse_main_cf(postfix_files(out)[0]["content"])
    assert main["virtual_alias_maps"] == "hash:/etc/postfix/mailauth_forwards"
    assert "virtual_alias_maps" not in _postfix.parse_main_cf(postfix_files(postfix_settings())[0]["content"])


@pytest.mark.parametrize(
    ("forwards", "words"),
    [
        ({"Bob Smith": "bob@example.net"}, "forward_domains[0] (example.test).forwards['Bob Smith']"),
        ({"bob": "not an address"}, "forwards['bob']"),
        ({"bob": "bob@example.net, carol@example.net"}, "forwards['bob']"),
        ({"bob": "bob@bad..net"}, "forwards['bob']"),
        ({"bob": []}, "forwards['bob'] needs at least one address"),
        (["bob@example.net"], "must be a dictionary"),
    ],
)
def test_forwards_refused_naming_the_entry(forwards, words):
    with pytest.raises(AnsibleFilterError) as err:
        postfix_settings(forward_domains=[{"name": "example.test", "forwards": forwards}])
    assert str(err.value).startswith("Invalid Postfix input: ")
    assert "postfix_" + words in str(err.value) or words in str(err.value)


SRS_POSTFIX = {
    "sender_canonical_maps": ["tcp:127.0.0.1:10001"],
    "sender_canonical_classes": ["envelope_sender"],
    "recipient_canonical_maps": ["tcp:127.0.0.1:10002"],
    "recipient_canonical_classes": ["envelope_recipient", "header_recipient"],
    "sender_canonical_exclude_domains": ["example.test", ".example.org"],
    "mydestination_extra": ["fwd.example.test"],
}


def test_srs_rewrites_forwarded_mail_only():
    out = postfix_settings(**SRS_POSTFIX)
    main_cf, master_cf = (f["content"] for f in postfix_files(out))
    main = _postfix.parse_main_cf(main_cf)
    # Not in main.cf: there it would rewrite every sender, mail delivered here included.
    assert "sender_canonical_maps" not in main
    assert main["recipient_canonical_maps"] == "tcp:127.0.0.1:10002"
    assert main["recipient_canonical_classes"] == "envelope_recipient, header_recipient"
    assert main["sender_dependent_default_transport_maps"] == "regexp:/etc/postfix/mailauth_sender_transport"
    assert "fwd.example.test" in main["mydestination"]
    services_ = {entry[0]: entry for entry in _postfix.parse_master_cf(master_cf)}
    cleanup = services_["mailauth-srs-cleanup"]
    assert "sender_canonical_maps=tcp:127.0.0.1:10001" in cleanup
    assert (
        "127.0.0.1:10027" in services_ and "cleanup_service_name=mailauth-srs-cleanup" in services_["127.0.0.1:10027"]
    )
    assert services_["mailauth-srs"][7] == "smtp"
    # The loopback smtpd relays for loopback only, and the relay invariant holds.
    assert _postfix.relay_problems(main_cf, master_cf) == []
    assert out["sender_transport"] == [
        "if /@/",
        r"!/@(example\.test|.+\.example\.org)$/ mailauth-srs:[127.0.0.1]:10027",
        "endif",
    ]


def test_sender_transport_pattern_matches_what_it_should():
    """The regexp (POSIX ERE, the same in Python for these patterns) keeps local senders, routes the others."""
    rule = _postfix.sender_transport(["example.test", ".example.org"])[1]
    pattern = re.fullmatch(r"!/(.*)/ .*", rule).group(1)
    for sender, local in [
        ("alice@example.test", True),
        ("alice@sub.example.org", True),
        ("alice@example.org", False),
        ("alice@example.net", False),
        ("alice@notexample.test", False),
        ("alice@example.test.evil.net", False),
    ]:
        assert bool(re.search(pattern, sender, re.I)) is local, sender


def test_srs_settings_off_leave_main_cf_as_it_was():
    before = postfix_files(postfix_settings())
    assert (
        postfix_files(postfix_settings(sender_canonical_maps=[], recipient_canonical_maps=[], forward_domains=[]))
        == before
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("sender_canonical_maps", ["tcp:127.0.0.1"]),
        ("sender_canonical_maps", ["tcp:127.0.0.1:10001, hash:/etc/x"]),
        ("recipient_canonical_maps", ["hash:relative/path"]),
        ("recipient_canonical_maps", ["hash:/etc/../shadow"]),
        ("recipient_canonical_maps", ["ldap:/etc/postfix/ldap.cf\n"]),
        ("sender_canonical_classes", ["header_recipient"]),
        ("recipient_canonical_classes", ["envelope_sender"]),
        ("sender_canonical_exclude_domains", ["-x-.test"]),
        ("mydestination_extra", ["bad domain"]),
    ],
)
def test_srs_postfix_input_refused(variable, value):
    with pytest.raises(AnsibleFilterError) as err:
        postfix_settings(**{variable: value})
    assert "postfix_" + variable in str(err.value)


@pytest.mark.parametrize(
    "table",
    ["tcp:127.0.0.1:10001", "socketmap:unix:/run/postsrsd/socket:forward", "socketmap:inet:[::1]:10003:reverse"],
)
def test_lookup_tables_of_both_postsrsd_versions(table):
    assert _postfix.lookup_table(table, "x") == table


def test_main_cf_extra_cannot_set_sender_canonical_maps():
    with pytest.raises(AnsibleFilterError) as err:
        postfix_settings(main_cf_extra={"sender_canonical_maps": "tcp:127.0.0.1:10001"})
    assert "which the role manages" in str(err.value)
