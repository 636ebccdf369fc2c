"""dkim_publish: keys from many hosts attached to the one list of domains."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.filter.publish import dkim_publish

DOMAINS = [
    {"name": "example.test", "mail_hosts": ["mx1", "mx3"], "dkim": {"key_type": "rsa"}, "spf": {"all": "-all"}},
    {"name": "example.net", "mail_hosts": ["mx2"], "dkim": {"key_type": "rsa"}},
]


def key(domain, selector, record):
    return {"domain": domain, "selector": selector, "record": record, "fingerprint": "x"}


def test_per_host_selectors_of_one_domain_are_all_published():
    keys = [key("example.test", "mx1-rsa", "v=DKIM1; k=rsa; p=AAA"), key("example.test", "mx3-rsa", "v=DKIM1; p=BBB")]
    out = dkim_publish(DOMAINS, keys)
    assert out[0]["dkim"] == [
        {"selector": "mx1-rsa", "value": "v=DKIM1; k=rsa; p=AAA"},
        {"selector": "mx3-rsa", "value": "v=DKIM1; p=BBB"},
    ]
    assert out[0]["spf"] == {"all": "-all"} and out[0]["mail_hosts"] == ["mx1", "mx3"]
    # a domain without any generated key publishes no DKIM record
    assert "dkim" not in out[1]
    # the input is not modified
    assert DOMAINS[0]["dkim"] == {"key_type": "rsa"}


def test_shared_key_reported_by_several_hosts_is_published_once():
    same = "v=DKIM1; k=rsa; p=SHARED"
    out = dkim_publish(DOMAINS, [key("example.test", "shared", same), key("example.test", "shared", same)])
    assert out[0]["dkim"] == [{"selector": "shared", "value": same}]


def test_keys_without_record_yet_are_left_out():
    out = dkim_publish(DOMAINS, [{"domain": "example.test", "selector": "mx1-rsa", "record": None}])
    assert "dkim" not in out[0]


def test_one_selector_with_two_different_keys_is_an_error():
    keys = [key("example.test", "s1", "v=DKIM1; p=AAA"), key("example.test", "s1", "v=DKIM1; p=BBB")]
    with pytest.raises(AnsibleFilterError, match=r"two different DKIM keys use selector 's1' for example\.test"):
        dkim_publish(DOMAINS, keys)


def test_bad_selector_is_an_error():
    with pytest.raises(AnsibleFilterError, match="dkim_publish"):
        dkim_publish(DOMAINS, [key("example.test", "bad selector!", "v=DKIM1; p=AAA")])


def test_opendkim_role_records_with_value_key_are_accepted():
    out = dkim_publish(DOMAINS, [{"domain": "example.net", "selector": "mx2-rsa", "value": "v=DKIM1; p=CCC"}])
    assert out[1]["dkim"] == [{"selector": "mx2-rsa", "value": "v=DKIM1; p=CCC"}]


# -- dns_publish_entries: the dns_publish role's input ---------------------------------------------------------

from ansible_collections.mailauth.core.plugins.filter.publish import dns_publish_entries

ROLE_DOMAINS = [
    {
        "name": "Example.TEST",
        "mail_hosts": ["mx1"],
        "spf": {"all": "-all"},
        "dkim": {"selector": "mx1-rsa", "key_type": "rsa", "subdomains": False, "private_key_content": None},
    },
    {"name": "example.net", "dkim": [{"selector": "s1", "value": "v=DKIM1; p=OWN"}, {"selector": "s2"}]},
    {"name": "example.org", "dmarc": {"p": "none"}},
]


def test_entries_keep_entry_keys_and_fill_selectors_from_key_records():
    keys = [
        key("example.test", "mx1-rsa", "v=DKIM1; k=rsa; p=AAA"),
        {"domain": "example.net", "selector": "S2", "value": "v=DKIM1; p=BBB"},
    ]
    out = dns_publish_entries(ROLE_DOMAINS, keys)
    assert out == {
        "domains": [
            {
                "name": "Example.TEST",
                "spf": {"all": "-all"},
                "dkim": [{"selector": "mx1-rsa", "key_type": "rsa", "value": "v=DKIM1; k=rsa; p=AAA"}],
            },
            {
                "name": "example.net",
                "dkim": [{"selector": "s1", "value": "v=DKIM1; p=OWN"}, {"selector": "s2", "value": "v=DKIM1; p=BBB"}],
            },
            {"name": "example.org", "dmarc": {"p": "none"}},
        ],
        "skipped": [],
    }
    assert ROLE_DOMAINS[0]["dkim"]["subdomains"] is False  # the input is not modified


def test_selector_without_key_material_is_kept_for_dns_records_to_refuse_or_skipped():
    kept = dns_publish_entries(ROLE_DOMAINS, [])
    assert kept["domains"][1]["dkim"] == [{"selector": "s1", "value": "v=DKIM1; p=OWN"}, {"selector": "s2"}]
    assert kept["skipped"] == []
    skipped = dns_publish_entries(ROLE_DOMAINS, [], "skip")
    assert skipped["domains"][0]["dkim"] == []
    assert skipped["domains"][1]["dkim"] == [{"selector": "s1", "value": "v=DKIM1; p=OWN"}]
    assert skipped["skipped"] == ["mx1-rsa._domainkey.example.test", "s2._domainkey.example.net"]


def test_output_feeds_dns_records_entry_validation():
    from ansible_collections.mailauth.core.plugins.module_utils import _entries, _schema

    out = dns_publish_entries([ROLE_DOMAINS[0], ROLE_DOMAINS[2]], [], "skip")["domains"]
    assert all(set(entry) <= set(_schema.keys(_schema.ENTRY)) for entry in out)
    names = [item.rrset.name for item in _entries.desired_items(out)]
    assert names == ["example.test", "_dmarc.example.org"]


@pytest.mark.parametrize(
    ("domains", "keys", "missing", "message"),
    [
        (
            ROLE_DOMAINS,
            [key("example.net", "s2", "v=DKIM1; p=A"), key("example.net", "s2", "v=DKIM1; p=B")],
            "fail",
            "two different DKIM keys",
        ),
        (ROLE_DOMAINS, [], "maybe", "missing must be fail or skip"),
        ("example.test", [], "fail", "must be a list of domain entries"),
        ([{"name": "a.test", "dkim": "mx1"}], [], "fail", "dkim must be a list of selectors"),
    ],
)
def test_bad_input_is_an_error_naming_the_filter(domains, keys, missing, message):
    with pytest.raises(AnsibleFilterError, match="dns_publish_entries.*" + message):
        dns_publish_entries(domains, keys, missing)
