# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The unbound role: its variables validated by the unbound_config filter, and the files its templates render.

Each test feeds the filter what the role feeds it (the role's defaults, as in vars/main.yml) and
asserts what the user gets: the unbound.conf and resolv.conf lines, or one message naming every
bad variable.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import comment
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ansible_collections.mailauth.core.plugins.filter import unbound as services
from ansible_collections.mailauth.core.plugins.module_utils import _unbound

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = yaml.safe_load((ROOT / "roles/unbound/defaults/main.yml").read_text())
SPECS = yaml.safe_load((ROOT / "roles/unbound/meta/argument_specs.yml").read_text())["argument_specs"]["main"][
    "options"
]
ROLE_VARS = yaml.safe_load((ROOT / "roles/unbound/vars/main.yml").read_text())

OK = {
    "interfaces": ["127.0.0.1", "::1"],
    "num_threads": DEFAULTS["unbound_num_threads"],
    "msg_cache_size": DEFAULTS["unbound_msg_cache_size"],
    "rrset_cache_size": DEFAULTS["unbound_rrset_cache_size"],
    "cache_max_ttl": DEFAULTS["unbound_cache_max_ttl"],
    "prefetch": DEFAULTS["unbound_prefetch"],
    "serve_expired": DEFAULTS["unbound_serve_expired"],
    "extended_statistics": DEFAULTS["unbound_extended_statistics"],
    "dnssec": DEFAULTS["unbound_dnssec"],
    "trust_anchor_file": DEFAULTS["unbound_trust_anchor_file"],
    "domain_insecure": DEFAULTS["unbound_domain_insecure"],
    "forward_zones": DEFAULTS["unbound_forward_zones"],
    "stub_zones": DEFAULTS["unbound_stub_zones"],
    "nodefault_zones": DEFAULTS["unbound_nodefault_zones"],
    "domains": [],
    "unblock_lan_zones": DEFAULTS["unbound_unblock_lan_zones"],
    "server_extra": DEFAULTS["unbound_server_extra"],
    "manage_resolv_conf": DEFAULTS["unbound_manage_resolv_conf"],
    "resolv_conf_options": DEFAULTS["unbound_resolv_conf_options"],
}
LAB_NS = "172.30.77.10"


def build(**changes):
    values = copy.deepcopy(OK)
    values.update(changes)
    return services.unbound_config(values)


def render(template: str, settings) -> str:
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "roles/unbound/templates")),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["comment"] = comment
    return env.get_template(template).render(ansible_managed="Ansible managed", unbound_settings=settings)


def conf_lines(text: str) -> list:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_the_filter_reads_every_variable_the_role_passes():
    """vars/main.yml passes each unbound_ variable of the defaults (but packages and service) under its short name."""
    passed = set(ROLE_VARS["unbound_input"])
    assert passed == set(OK)
    role_vars = {"unbound_" + name for name in passed}
    not_passed = {"unbound_packages", "unbound_service_state", "unbound_service_enabled"}
    assert role_vars | not_passed == set(DEFAULTS)
    assert set(DEFAULTS) | {"mailauth_domains"} == set(SPECS)


def test_defaults_give_a_loopback_only_validating_cache():
    text = render("unbound.conf.j2", build())
    got = conf_lines(text)
    assert got[0] == "server:"
    for line in (
        "interface: 127.0.0.1",
        "interface: ::1",
        "port: 53",
        "do-ip6: yes",
        "access-control: 0.0.0.0/0 refuse",
        "access-control: ::0/0 refuse",
        "access-control: 127.0.0.0/8 allow",
        "access-control: ::1/128 allow",
        "msg-cache-size: 32m",
        "rrset-cache-size: 64m",
        "prefetch: yes",
        "serve-expired: no",
        'module-config: "validator iterator"',
        'auto-trust-anchor-file: "/var/lib/unbound/root.key"',
        "unblock-lan-zones: no",
        "remote-control:",
        "control-enable: yes",
        "control-interface: /run/unbound.ctl",
    ):
        assert line in got, line
    # Full recursion from the root: no forward or stub zone, no zone opened.
    assert not [line for line in got if line.startswith(("forward-", "stub-", "local-zone", "domain-insecure"))]
    assert "0.0.0.0" not in " ".join(line for line in got if line.startswith("interface"))


def test_lab_forward_everything_to_ns_without_dnssec():
    """The lab's settings: everything forwarded to ns, no validation, the lab's test. and reverse zones looked up."""
    settings = build(
        interfaces=["127.0.0.1"],
        forward_zones=[{"name": ".", "addresses": [LAB_NS]}],
        dnssec=False,
        domains=["example.test", "example.org", "example.net"],
        unblock_lan_zones=True,
    )
    got = conf_lines(render("unbound.conf.j2", settings))
    assert 'module-config: "iterator"' in got
    assert not [line for line in got if "trust-anchor" in line or line.startswith("domain-insecure")]
    assert got[-4:] == ["forward-zone:", 'name: "."', "forward-addr: %s" % LAB_NS, "forward-first: no"]
    assert 'local-zone: "test." nodefault' in got
    assert "unblock-lan-zones: yes" in got and "insecure-lan-zones: yes" in got
    assert "do-ip6: no" in got
    assert settings["nameservers"] == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("names", "lan", "opened"),
    [
        (["example.test"], False, ["test"]),
        (["test"], False, ["test"]),
        (["."], False, []),
        (["example.org", "mail.example.org"], False, []),
        (["x.onion", "router.home.arpa"], False, ["home.arpa", "onion"]),
        (["77.30.172.in-addr.arpa"], False, ["30.172.in-addr.arpa"]),
        (["77.30.172.in-addr.arpa"], True, []),
        (["1.168.192.in-addr.arpa"], False, ["168.192.in-addr.arpa"]),
        (["testing.org"], False, []),
    ],
)
def test_default_local_zones_holding_a_lookup_are_opened(names, lan, opened):
    settings = build(forward_zones=[{"name": n, "addresses": [LAB_NS]} for n in names], unblock_lan_zones=lan)
    assert settings["nodefault_zones"] == sorted(opened)
    got = conf_lines(render("unbound.conf.j2", settings))
    assert [line for line in got if line.startswith("local-zone")] == [
        'local-zone: "%s." nodefault' % zone for zone in sorted(opened)
    ]


def test_listed_zones_stubs_insecure_and_ports():
    settings = build(
        nodefault_zones=["Invalid."],
        domain_insecure=["example.test", "corp.example"],
        stub_zones=[{"name": "corp.example", "addresses": ["192.0.2.53", "2001:db8::53@5353"], "first": True}],
        forward_zones=[{"name": "example.com", "addresses": ["192.0.2.1@853"]}],
        server_extra={"so-reuseport": True, "private-domain": ["corp.example", "example.test"]},
        resolv_conf_options=["edns0", "ndots:1"],
    )
    got = conf_lines(render("unbound.conf.j2", settings))
    assert 'local-zone: "invalid." nodefault' in got
    assert 'local-zone: "test." nodefault' not in got  # example.test is only insecure, not looked up
    assert [line for line in got if line.startswith("domain-insecure")] == [
        'domain-insecure: "example.test."',
        'domain-insecure: "corp.example."',
    ]
    stub = got.index("stub-zone:")
    assert got[stub : stub + 5] == [
        "stub-zone:",
        'name: "corp.example."',
        "stub-addr: 192.0.2.53",
        "stub-addr: 2001:db8::53@5353",
        "stub-first: yes",
    ]
    assert "forward-addr: 192.0.2.1@853" in got
    assert [line for line in got if line.startswith(("so-reuseport", "private-domain"))] == [
        "private-domain: corp.example",
        "private-domain: example.test",
        "so-reuseport: yes",
    ]
    resolv = conf_lines(render("resolv.conf.j2", settings))
    assert resolv == ["nameserver 127.0.0.1", "nameserver ::1", "options edns0 ndots:1"]


def test_restart_settings_are_what_unbound_reads_at_start_only():
    base = render("restart-settings.j2", build())
    assert conf_lines(base) == [
        "interface: 127.0.0.1",
        "interface: ::1",
        "port: 53",
        "num-threads: 1",
        "username: unbound",
        "control-interface: /run/unbound.ctl",
    ]
    assert render("restart-settings.j2", build(msg_cache_size="128m", prefetch=False, dnssec=False)) == base
    assert render("restart-settings.j2", build(num_threads=2)) != base
    assert render("restart-settings.j2", build(interfaces=["127.0.0.1"])) != base


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"interfaces": ["0.0.0.0"]}, ["unbound_interfaces[0]", "not a loopback address"]),
        ({"interfaces": ["192.0.2.1"]}, ["unbound_interfaces[0]", "not a loopback address"]),
        ({"interfaces": ["localhost"]}, ["unbound_interfaces[0]", "must be a loopback address"]),
        ({"interfaces": []}, ["unbound_interfaces must list at least one"]),
        ({"interfaces": ["127.0.0.1", "127.0.0.1"]}, ["listed twice"]),
        ({"interfaces": "127.0.0.1"}, ["unbound_interfaces must be a list"]),
        ({"num_threads": 0}, ["unbound_num_threads must be a number from 1 to 64"]),
        ({"num_threads": True}, ["unbound_num_threads"]),
        ({"msg_cache_size": "32 m"}, ["unbound_msg_cache_size must be a size"]),
        ({"rrset_cache_size": "64m\ninterface: 0.0.0.0"}, ["unbound_rrset_cache_size", "control characters"]),
        ({"rrset_cache_size": "64t"}, ["unbound_rrset_cache_size must be a size"]),
        ({"cache_max_ttl": 0}, ["unbound_cache_max_ttl"]),
        ({"prefetch": "maybe"}, ["unbound_prefetch must be true or false"]),
        ({"num_threads": "two"}, ["unbound_num_threads"]),
        ({"trust_anchor_file": "root.key"}, ["unbound_trust_anchor_file must be an absolute path"]),
        ({"domain_insecure": ["."]}, ["unbound_domain_insecure may not hold the root"]),
        ({"domain_insecure": ["exa mple.test"]}, ["unbound_domain_insecure[0]", "holds a space"]),
        ({"domain_insecure": ['test" ; x']}, ["unbound_domain_insecure[0]"]),
        ({"forward_zones": [{"name": ".", "addresses": ["192.0.2.0/24"]}]}, ["forward_zones[0].addresses[0]"]),
        ({"forward_zones": [{"name": ".", "addresses": ["ns.example"]}]}, ["must be an IP address"]),
        ({"forward_zones": [{"name": ".", "addresses": ["192.0.2.1@0"]}]}, ["port", "1 to 65535"]),
        ({"forward_zones": [{"name": ".", "addresses": []}]}, ["at least one server"]),
        ({"forward_zones": [{"name": ".", "addresses": "192.0.2.1"}]}, ["addresses must be a list"]),
        ({"forward_zones": [{"name": "example.test"}, {"name": "Example.TEST."}]}, ["listed twice"]),
        ({"forward_zones": [{"name": ".", "addresses": ["192.0.2.1"], "tls": True}]}, ["unknown keys tls"]),
        (
            {"forward_zones": [{"name": ".", "addresses": ["192.0.2.1"], "first": "sometimes"}]},
            ["first must be true or false"],
        ),
        ({"forward_zones": {"name": "."}}, ["unbound_forward_zones must be a list"]),
        ({"forward_zones": [{"name": ".", "addresses": ["127.0.0.1"]}]}, ["127.0.0.1 of . is unbound itself"]),
        ({"stub_zones": [{"name": "x.test", "addresses": ["::1@53"]}]}, ["::1@53 of x.test. is unbound itself"]),
        ({"stub_zones": [{"name": ".", "addresses": ["192.0.2.1"]}]}, ["unbound_stub_zones may not hold the root"]),
        (
            {
                "stub_zones": [{"name": "example.test", "addresses": ["192.0.2.1"]}],
                "forward_zones": [{"name": "example.test", "addresses": ["192.0.2.2"]}],
            },
            ["both hold example.test"],
        ),
        ({"nodefault_zones": ["."]}, ["unbound_nodefault_zones may not hold the root"]),
        ({"nodefault_zones": ["bad_zone!"]}, ["unbound_nodefault_zones[0]"]),
        ({"domains": ["exa mple.test"]}, ["unbound_domains[0]"]),
        ({"resolv_conf_options": ["edns0 rotate"]}, ["unbound_resolv_conf_options[0] must be a resolv.conf option"]),
        ({"server_extra": {"interface": "0.0.0.0"}}, ["sets interface, which the role manages"]),
        ({"server_extra": {"access-control": "0.0.0.0/0 allow"}}, ["sets access-control, which the role manages"]),
        ({"server_extra": {"Bad Name": "1"}}, ["unbound_server_extra['Bad Name']"]),
        ({"server_extra": {"so-rcvbuf": "1m\nforward-zone:"}}, ["control characters"]),
        ({"server_extra": ["so-rcvbuf"]}, ["unbound_server_extra must be a dictionary"]),
    ],
)
def test_bad_input_is_refused_naming_the_variable(changes, words):
    with pytest.raises(AnsibleFilterError) as err:
        build(**changes)
    message = str(err.value)
    assert message.startswith("Invalid unbound input: ")
    for word in words:
        assert word in message


def test_every_problem_in_one_message():
    with pytest.raises(AnsibleFilterError) as err:
        build(interfaces=["10.0.0.1"], msg_cache_size="lots", nodefault_zones=["a b"], num_threads=99)
    message = str(err.value)
    for name in (
        "unbound_interfaces[0]",
        "unbound_msg_cache_size",
        "unbound_nodefault_zones[0]",
        "unbound_num_threads",
    ):
        assert name in message
    assert message.count(";") == 3


def test_a_missing_variable_is_named():
    values = copy.deepcopy(OK)
    del values["forward_zones"]
    with pytest.raises(AnsibleFilterError, match="the variable unbound_forward_zones is missing"):
        services.unbound_config(values)


def test_managed_settings_are_the_ones_written():
    """One list: every server setting the role writes is refused as an extra, and only those."""
    written = {name for section in build()["server"] for name, _value in section["settings"]}
    lab = build(
        forward_zones=[{"name": ".", "addresses": [LAB_NS]}], domains=["example.test"], domain_insecure=["x.test"]
    )
    written |= {name for section in lab["server"] for name, _value in section["settings"]}
    assert written <= _unbound.MANAGED
    assert {"interface", "access-control", "local-zone", "domain-insecure", "serve-expired"} <= _unbound.MANAGED


def test_strings_from_the_command_line_are_read_as_ansible_reads_them():
    """-e unbound_num_threads=2 unbound_prefetch=no arrive as strings."""
    settings = build(num_threads="2", prefetch="no", dnssec="False", cache_max_ttl="3600")
    got = conf_lines(render("unbound.conf.j2", settings))
    assert "num-threads: 2" in got and "prefetch: no" in got and "cache-max-ttl: 3600" in got
    assert 'module-config: "iterator"' in got


def test_loopback_upstreams_are_allowed_only_when_listed():
    """unbound never queries 127.0.0.0/8 or ::1 unless do-not-query-localhost is no: only set for such an upstream."""
    assert "do-not-query-localhost: no" not in conf_lines(render("unbound.conf.j2", build()))
    remote = build(forward_zones=[{"name": ".", "addresses": [LAB_NS]}])
    assert "do-not-query-localhost: no" not in conf_lines(render("unbound.conf.j2", remote))
    local = build(interfaces=["127.0.0.1"], stub_zones=[{"name": "corp.test", "addresses": ["127.0.0.2@5300"]}])
    assert "do-not-query-localhost: no" in conf_lines(render("unbound.conf.j2", local))
