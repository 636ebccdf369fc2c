"""dkim_keys: the keys that entries of the domain list ask one host for."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.filter.domains import (
    FilterModule,
    dkim_key_problems,
    dkim_keys,
    host_domains,
)


def test_registered():
    assert set(FilterModule().filters()) == {"host_domains", "dkim_keys", "dkim_key_problems"}


def test_host_domains_keeps_the_entries_naming_the_host_in_order():
    entries = [
        {"name": "a.test", "mail_hosts": ["mx1", "mx2"]},
        {"name": "b.test", "mail_hosts": ["mx2"]},
        {"name": "c.test"},
        {"name": "d.test", "mail_hosts": ["mx1"], "dkim": []},
        {"name": "e.test", "mail_hosts": None},
    ]
    assert [e["name"] for e in host_domains(entries, "mx1")] == ["a.test", "d.test"]
    assert [e["name"] for e in host_domains(entries, "mx2")] == ["a.test", "b.test"]
    assert host_domains(entries, "mx9") == []
    assert host_domains(None, "mx1") == []
    # The entries are returned as given, dkim and all.
    assert host_domains(entries, "mx1")[1] is entries[3]


def test_host_domains_names_a_host_exactly():
    # A substring of a host name is not the host (mx1 is not mx10).
    assert host_domains([{"name": "a.test", "mail_hosts": ["mx10"]}], "mx1") == []


@pytest.mark.parametrize(
    "entries, message",
    [
        ("a.test", "must be a list of domain entries"),
        ([{"name": "a.test"}, "b.test"], "must be a list of domain entries"),
        ([{"name": "a.test", "mail_hosts": "mx1"}], "mail_hosts of a.test must be a list"),
    ],
)
def test_host_domains_rejects_malformed_input(entries, message):
    with pytest.raises(AnsibleFilterError, match=message):
        host_domains(entries, "mx1")


def test_default_key_per_domain_with_per_host_selector():
    out = dkim_keys([{"name": "Example.TEST.", "mail_hosts": ["mx1"]}], "mx1")
    assert out == [
        {
            "domain": "example.test",
            "selector": "mx1-rsa",
            "key_type": "rsa",
            "key_size": 2048,
            "subdomains": False,
            "private_key_content": None,
        }
    ]


def test_dual_signing_explicit_values_and_no_key():
    entries = [
        {
            "name": "a.test",
            "dkim": [{"key_type": "rsa", "key_size": 3072, "subdomains": True}, {"key_type": "ed25519"}],
        },
        {"name": "b.test", "dkim": {"selector": "s2026", "private_key_content": "PEM"}},
        {"name": "c.test", "dkim": []},
    ]
    out = dkim_keys(entries, "mx3", key_type="ed25519", key_size=4096)
    assert [(k["domain"], k["selector"], k["key_type"], k["key_size"], k["subdomains"]) for k in out] == [
        ("a.test", "mx3-rsa", "rsa", 3072, True),
        ("a.test", "mx3-ed25519", "ed25519", 256, False),
        # the host's default type applies when the entry names none
        ("b.test", "s2026", "ed25519", 256, False),
    ]
    assert out[2]["private_key_content"] == "PEM"
    # the input is not modified
    assert entries[1]["dkim"] == {"selector": "s2026", "private_key_content": "PEM"}


def test_default_rsa_size_follows_the_argument():
    assert dkim_keys([{"name": "a.test"}], "h", key_size=1024)[0]["key_size"] == 1024


@pytest.mark.parametrize(
    "entries, message",
    [
        ("a.test", "must be a list of domain entries"),
        (["a.test"], "must be a list of domain entries"),
        ([{"name": "a.test", "dkim": None}], "dkim of a.test must be a dictionary or a list of dictionaries"),
        ([{"name": "a.test", "dkim": ["rsa"]}], "dkim of a.test must be a dictionary or a list of dictionaries"),
    ],
)
def test_bad_input_is_a_clear_error(entries, message):
    with pytest.raises(AnsibleFilterError, match=message):
        dkim_keys(entries, "mx1")


def test_keys_from_the_filter_have_no_problems():
    entries = [{"name": "d%04d.example.test" % i, "dkim": [{}, {"key_type": "ed25519"}]} for i in range(1000)]
    assert dkim_key_problems(dkim_keys(entries, "mx1")) == []


def key(**kw):
    base = {"domain": "a.test", "selector": "s1", "key_type": "rsa", "key_size": 2048, "subdomains": False}
    base.update(kw)
    return base


@pytest.mark.parametrize(
    "keys, expected",
    [
        (
            [key(domain="exa mple..test")],
            [
                "domains (mailauth_domains names) must be lower-case ASCII DNS names of two labels or more,"
                " got 'exa mple..test'"
            ],
        ),
        (
            [key(domain="Example.TEST")],
            [
                "domains (mailauth_domains names) must be lower-case ASCII DNS names of two labels or more,"
                " got 'Example.TEST' (write example.test)"
            ],
        ),
        (
            [key(domain="test")],
            ["domains (mailauth_domains names) must be lower-case ASCII DNS names of two labels or more, got 'test'"],
        ),
        (
            [key(selector="bad_selector!")],
            [
                "selectors must be dot-separated labels of letters, digits and inner hyphens (RFC 6376 3.1),"
                " got 'bad_selector!'"
            ],
        ),
        ([key(key_type="dsa")], ["key types are rsa or ed25519, got dsa"]),
        (
            [key(key_size=1000), key(selector="s2", key_size=True)],
            ["RSA keys are 1024, 2048, 3072, 4096 bits, got 1000, True"],
        ),
        ([key(), key(selector="S1")], ["each (domain, selector) pair must be unique, got twice: a.test/S1"]),
        ([key(subdomains="yes")], ["subdomains of a.test must be true or false"]),
        ([key(private_key_content=42)], ["private_key_content of a.test must be a PEM string"]),
        (["a.test"], ["keys[0] must be a dictionary"]),
        ("a.test", ["the keys must be a list of dictionaries, got str"]),
    ],
)
def test_problems_are_sentences(keys, expected):
    assert dkim_key_problems(keys) == expected


def test_valid_keys_of_every_kind():
    keys = [key(key_size=s, selector="s%d" % s) for s in (1024, 2048, 3072, 4096)]
    keys.append(key(key_type="ed25519", key_size=256, selector="e1", subdomains=True, private_key_content="PEM"))
    assert dkim_key_problems(keys) == []
