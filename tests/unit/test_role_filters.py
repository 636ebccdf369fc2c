# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the roles derive in Python instead of Jinja loops: dkim_key's arguments, the DNS records
of its result, dkimpy-milter's key rows and tables, and site.yml's DKIM wait list.

Each test feeds a filter what the role feeds it and asserts what the role (and so the user) gets,
rendering the role's own templates where the rows end up in a file.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import comment
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ansible_collections.mailauth.core.plugins.filter import domains, services

ROOT = Path(__file__).resolve().parents[2]
PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI...\n-----END PRIVATE KEY-----\n"

DKIMPY_OK = {
    "socket": "local:/var/spool/postfix/dkimpy-milter/dkimpy-milter.sock",
    "opendkim_socket": "local:/var/spool/postfix/opendkim/opendkim.sock",
    "canonicalization": "relaxed/simple",
    "internal_hosts": ["127.0.0.1", "::1"],
    "originating_daemon_name": "ORIGINATING",
    "pem_dir": "/etc/dkimkeys",
    "key_dir": "/etc/dkimpy-milter/keys",
    "postfix_queue_directory": "/var/spool/postfix",
    "pid_file": "/run/dkimpy-milter/dkimpy-milter.pid",
    "keys": [],
}


def render(template: str, **variables) -> str:
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "roles")),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["comment"] = comment
    return env.get_template(template).render(ansible_managed="Ansible managed", **variables)


def lines(text: str) -> list:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_key_specs_from_the_domain_list():
    entries = [
        {"name": "example.test", "mail_hosts": ["mx1"], "dkim": [{"key_type": "rsa"}, {"key_type": "ed25519"}]},
        {"name": "example.org", "mail_hosts": ["mx1"], "dkim": {"selector": "shared", "private_key_content": PEM}},
    ]
    keys = domains.dkim_keys(entries, "mx1")
    assert services.opendkim_key_specs(keys) == [
        {"domain": "example.test", "selector": "mx1-rsa", "key_type": "rsa", "key_size": 2048},
        {"domain": "example.test", "selector": "mx1-ed25519", "key_type": "ed25519", "key_size": 256},
        {
            "domain": "example.org",
            "selector": "shared",
            "key_type": "rsa",
            "key_size": 2048,
            "private_key_content": PEM,
        },
    ]
    assert services.opendkim_key_specs([]) == []


@pytest.mark.parametrize(
    ("value", "words"),
    [("not a list", "list of key dictionaries"), ([{"domain": "example.test"}], "a key has no selector")],
)
def test_key_specs_refuse_what_is_not_a_key(value, words):
    with pytest.raises(AnsibleFilterError, match=words):
        services.opendkim_key_specs(value)


def test_dns_records_from_dkim_key_results():
    results = [
        {
            "domain": "example.test",
            "selector": "mx1-rsa",
            "key_type": "rsa",
            "value": "v=DKIM1; k=rsa; p=MIIB",
            "fingerprint": "SHA256:a",
        },
        {
            "domain": "example.test",
            "selector": "mx1-ed25519",
            "key_type": "ed25519",
            "value": None,
            "fingerprint": None,
        },
    ]
    assert services.opendkim_dns_records(results) == [
        {
            "name": "mx1-rsa._domainkey.example.test",
            "domain": "example.test",
            "selector": "mx1-rsa",
            "key_type": "rsa",
            "value": "v=DKIM1; k=rsa; p=MIIB",
            "fingerprint": "SHA256:a",
            "revoked": False,
        },
        {
            "name": "mx1-ed25519._domainkey.example.test",
            "domain": "example.test",
            "selector": "mx1-ed25519",
            "key_type": "ed25519",
            "value": None,
            "fingerprint": None,
            "revoked": False,
        },
    ]
    with pytest.raises(AnsibleFilterError, match="a result has no value"):
        services.opendkim_dns_records([{"domain": "example.test", "selector": "s", "key_type": "rsa"}])


def test_dns_records_publish_a_revoked_key_without_its_key():
    results = [
        {
            "domain": "example.test",
            "selector": "old",
            "key_type": "ed25519",
            "value": "v=DKIM1; k=ed25519; p=AAAA",
            "fingerprint": "SHA256:a",
        },
        {
            "domain": "example.test",
            "selector": "new",
            "key_type": "rsa",
            "value": "v=DKIM1; k=rsa; p=MIIB",
            "fingerprint": "SHA256:b",
        },
    ]
    revoked = [{"domain": "example.test", "selector": "old", "key_type": "ed25519", "revoked": True}]
    records = services.opendkim_dns_records(results, revoked)
    assert records[0]["value"] == "v=DKIM1; k=ed25519; p="
    assert records[0]["revoked"] is True and records[0]["fingerprint"] is None
    assert records[1]["value"] == "v=DKIM1; k=rsa; p=MIIB" and records[1]["revoked"] is False


def test_dkimpy_milter_key_problems():
    assert services.dkimpy_milter_key_problems([]) == []
    assert services.dkimpy_milter_key_problems([{"domain": "a.test"}, {"domain": "b.test"}]) == []
    problems = services.dkimpy_milter_key_problems([{"domain": "a.test"}, {"domain": "a.test"}])
    assert problems == [
        "each domain may have one ed25519 key (dkimpy-milter applies the first match), got a.test, a.test"
    ]


def test_dkimpy_milter_tables_and_key_arguments():
    values = copy.deepcopy(DKIMPY_OK)
    values["keys"] = [
        {
            "domain": "example.test",
            "selector": "mx1-ed25519",
            "subdomains": True,
            "key_type": "ed25519",
            "private_key_content": PEM,
        },
        {"domain": "example.org", "selector": "mx1-ed25519"},
    ]
    settings = services.dkimpy_milter_config(values)
    assert PEM not in repr(settings)
    assert settings["key_file_args"] == [
        "/etc/dkimkeys/example.test/mx1-ed25519.private=/etc/dkimpy-milter/keys/mx1-ed25519._domainkey.example.test.key",
        "/etc/dkimkeys/example.org/mx1-ed25519.private=/etc/dkimpy-milter/keys/mx1-ed25519._domainkey.example.org.key",
    ]
    key_table = render("dkimpy_milter/templates/KeyTableEd25519.j2", dkimpy_milter_settings=settings)
    assert lines(key_table) == [
        "mx1-ed25519._domainkey.example.test example.test:mx1-ed25519:"
        "/etc/dkimpy-milter/keys/mx1-ed25519._domainkey.example.test.key",
        "mx1-ed25519._domainkey.example.org example.org:mx1-ed25519:"
        "/etc/dkimpy-milter/keys/mx1-ed25519._domainkey.example.org.key",
    ]
    signing_table = render("dkimpy_milter/templates/SigningTable.j2", dkimpy_milter_settings=settings)
    # Exact domains first, then the subdomain patterns: dkimpy-milter applies the first match.
    assert lines(signing_table) == [
        "*@example.test mx1-ed25519._domainkey.example.test",
        "*@example.org mx1-ed25519._domainkey.example.org",
        "*.example.test mx1-ed25519._domainkey.example.test",
    ]


@pytest.mark.parametrize(
    ("keys", "words"),
    [
        ([{"domain": "a.test", "selector": "s1"}, {"domain": "a.test", "selector": "s2"}], "one ed25519 key"),
        ([{"domain": "a.test\nb", "selector": "s"}], "dkimpy_milter_keys[0].domain"),
        ([{"domain": "a.test", "selector": "s;x"}], "dkimpy_milter_keys[0].selector"),
        ([{"domain": "a.test", "selector": "s", "subdomains": "yes"}], "true or false"),
        ("a.test", "must be a list"),
    ],
    ids=["two-per-domain", "domain-newline", "selector-junk", "subdomains-string", "not-a-list"],
)
def test_dkimpy_milter_keys_refused(keys, words):
    values = {**copy.deepcopy(DKIMPY_OK), "keys": keys}
    with pytest.raises(AnsibleFilterError) as err:
        services.dkimpy_milter_config(values)
    assert str(err.value).startswith("Invalid dkimpy-milter input: ")
    assert "dkimpy_milter_keys" in str(err.value)
    assert words in str(err.value)


def test_dkim_entries_keep_name_and_dkim_only():
    entries = [
        {"name": "example.test", "spf": {"all": "-all"}, "dkim": [{"selector": "mx1-rsa", "value": "v=DKIM1; p=x"}]},
        {"name": "example.net", "spf": {"all": "-all"}},
        {"name": "example.org", "dkim": []},
    ]
    assert services.dkim_entries(entries) == [
        {"name": "example.test", "dkim": [{"selector": "mx1-rsa", "value": "v=DKIM1; p=x"}]},
        {"name": "example.org", "dkim": []},
    ]
    with pytest.raises(AnsibleFilterError, match="needs a name"):
        services.dkim_entries([{"dkim": []}])


def test_no_jinja_loop_builds_data_in_vars_defaults_or_site():
    """Derived structures come from Python filters; the roles' vars, defaults and site.yml hold no for loop."""
    paths = [*ROOT.glob("roles/*/vars/*.yml"), *ROOT.glob("roles/*/defaults/*.yml"), *ROOT.glob("playbooks/*.yml")]
    offenders = [
        str(path.relative_to(ROOT))
        for path in paths
        if path.parts[-3] != "dns_publish" and ("{% for" in path.read_text() or "{%- for" in path.read_text())
    ]
    assert offenders == []
    assert yaml.safe_load((ROOT / "playbooks/site.yml").read_text())
