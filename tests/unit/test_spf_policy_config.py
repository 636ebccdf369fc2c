# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The spf_policy role's input: normalisation of the address lists and refusal of bad input, naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.filter.spf_policy import spf_policy_config
from ansible_collections.mailauth.core.plugins.module_utils import _spf_policy

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles/spf_policy"


def defaults(**overrides):
    """The role's defaults (without the prefix), the authserv-id resolved, then the overrides."""
    raw = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    values = {k[len("spf_policy_") :]: v for k, v in raw.items() if k != "spf_policy_packages"}
    values["authserv_id"] = "mx2.example.test"
    values.update(overrides)
    return values


def test_role_input_names_every_default():
    """vars/main.yml passes every variable of defaults/main.yml (one list) and the spec documents them."""
    spec = yaml.safe_load((ROLE / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    raw = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    passed = yaml.safe_load((ROLE / "vars/main.yml").read_text())["spf_policy_input"]
    assert set(raw) == set(spec)
    assert {"spf_policy_" + k for k in passed} == set(raw) - {"spf_policy_packages"}
    for name, option in spec.items():
        if "default" in option and name != "spf_policy_authserv_id":
            assert option["default"] == raw[name], name
        if "choices" in option and name == "spf_policy_mode":
            assert tuple(option["choices"]) == _spf_policy.MODES


def test_defaults_tag_and_never_block():
    out = spf_policy_config(defaults())
    assert out["mode"] == "tag"
    for table in out["config"]["actions"].values():
        assert set(table.values()) == {"accept"}
    assert out["postfix_restrictions"] == ["check_policy_service unix:private/mailauth_spf"] * 2
    # No master.cf service: systemd runs one process (mailauth-spf.socket/.service) on Postfix's private/.
    assert out["postfix_services"] == []
    assert out["socket_path"] == "/var/spool/postfix/private/mailauth_spf"


def test_socket_follows_the_queue_directory_and_service_name():
    out = spf_policy_config(defaults(postfix_queue_directory="/srv/postfix/", service_name="spf"))
    assert out["socket_path"] == "/srv/postfix/private/spf"
    assert out["postfix_restrictions"][0] == "check_policy_service unix:private/spf"


@pytest.mark.parametrize("headers,count", [("received_spf", 1), ("authentication_results", 1), ("both", 2)])
def test_one_restriction_per_header(headers, count):
    assert len(spf_policy_config(defaults(headers=headers))["postfix_restrictions"]) == count


@pytest.mark.parametrize(
    "entry,cidrs",
    [
        ("192.0.2.10", ["192.0.2.10/32"]),
        ("192.0.2.0/24", ["192.0.2.0/24"]),
        ("192.0.2.0/255.255.255.0", ["192.0.2.0/24"]),
        ("192.0.2.10-192.0.2.20", ["192.0.2.10/31", "192.0.2.12/30", "192.0.2.16/30", "192.0.2.20/32"]),
        ("192.0.2.0 - 192.0.2.255", ["192.0.2.0/24"]),
        ("2001:db8::1", ["2001:db8::1/128"]),
        ("2001:db8::/32", ["2001:db8::/32"]),
        ("[2001:db8::]/48", ["2001:db8::/48"]),
        ("2001:db8::-2001:db8::3", ["2001:db8::/126"]),
    ],
)
def test_whitelist_formats_become_cidr(entry, cidrs):
    assert spf_policy_config(defaults(whitelist=[entry]))["config"]["whitelist"] == cidrs


def test_duplicates_are_merged_and_skip_networks_take_the_same_formats():
    out = spf_policy_config(defaults(whitelist=["192.0.2.1", "192.0.2.1/32"], skip_networks=["10.0.0.0-10.0.0.255"]))
    assert out["config"]["whitelist"] == ["192.0.2.1/32"]
    assert out["config"]["skip_networks"] == ["10.0.0.0/24"]


@pytest.mark.parametrize(
    "overrides,words",
    [
        ({"mode": "reject_all"}, ["spf_policy_mode must be one of"]),
        ({"helo_mode": "reject"}, ["spf_policy_helo_mode"]),
        ({"permerror": "bounce"}, ["spf_policy_permerror"]),
        ({"temperror": True}, ["spf_policy_temperror"]),
        ({"headers": "all"}, ["spf_policy_headers"]),
        ({"whitelist": ["192.0.2.1/24"]}, ["spf_policy_whitelist[0]", "host bits set"]),
        ({"whitelist": ["192.0.2.1/255.255.255.0"]}, ["spf_policy_whitelist[0]", "host bits set"]),
        ({"whitelist": ["2001:db8::1/64"]}, ["spf_policy_whitelist[0]", "host bits set"]),
        ({"whitelist": ["192.0.2.20-192.0.2.10"]}, ["spf_policy_whitelist[0]", "ends before it starts"]),
        ({"whitelist": ["192.0.2.1-2001:db8::1"]}, ["spf_policy_whitelist[0]", "mixes IPv4 and IPv6"]),
        ({"whitelist": ["192.0.2.1-192.0.2"]}, ["spf_policy_whitelist[0]", "not a range"]),
        ({"whitelist": ["192.0.2.300"]}, ["spf_policy_whitelist[0]", "not an IP address"]),
        ({"whitelist": ["192.0.2.0/255.0.255.0"]}, ["spf_policy_whitelist[0]"]),
        ({"whitelist": ["0.0.0.0/0"]}, ["spf_policy_whitelist[0]", "every address"]),
        ({"whitelist": ["0.0.0.0-255.255.255.255"]}, ["spf_policy_whitelist[0]", "every address"]),
        ({"whitelist": ["192.0.2.1\n"]}, ["spf_policy_whitelist[0]", "control"]),
        ({"whitelist": "192.0.2.1"}, ["spf_policy_whitelist must be a list"]),
        ({"whitelist": ["192.0.2.1", "bad", "192.0.2.9/8"]}, ["spf_policy_whitelist[1]", "spf_policy_whitelist[2]"]),
        ({"skip_networks": ["10.0.0.1/8"]}, ["spf_policy_skip_networks[0]", "host bits set"]),
        ({"helo_whitelist": ["bad name"]}, ["spf_policy_helo_whitelist[0]"]),
        ({"sender_whitelist": ["exa_mple..org"]}, ["spf_policy_sender_whitelist[0]"]),
        ({"local_rules": ["-all"]}, ["spf_policy_local_rules[0]", "other than all"]),
        ({"local_rules": ["redirect=example.org"]}, ["spf_policy_local_rules[0]"]),
        ({"local_rules": ["ip4:192.0.2.300"]}, ["spf_policy_local_rules[0]"]),
        ({"local_rules": ["bogus:x"]}, ["spf_policy_local_rules[0]", "unknown SPF mechanism"]),
        ({"guess": "a/24 mx/24"}, ["spf_policy_guess", "v=spf1"]),
        ({"guess": "v=spf1 a (x)"}, ["spf_policy_guess", "parentheses"]),
        ({"reject_code": 250}, ["spf_policy_reject_code", "4xx or 5xx"]),
        ({"reject_code": 650}, ["spf_policy_reject_code"]),
        ({"reject_code": "55O"}, ["spf_policy_reject_code"]),
        ({"reject_status": "5.7"}, ["spf_policy_reject_status", "RFC 3463"]),
        ({"reject_status": "4.7.1"}, ["spf_policy_reject_status 4.7.1 does not match spf_policy_reject_code 550"]),
        ({"reject_text": "bad\r\n250 ok"}, ["spf_policy_reject_text", "control"]),
        ({"reject_text": ""}, ["spf_policy_reject_text"]),
        ({"reject_text": "é"}, ["spf_policy_reject_text", "printable ASCII"]),
        ({"defer_code": 550}, ["spf_policy_defer_code", "4xx"]),
        ({"defer_status": "5.7.24"}, ["spf_policy_defer_status", "must start with 4"]),
        ({"authserv_id": "mx2 example.test"}, ["spf_policy_authserv_id", "space"]),
        ({"authserv_id": "mx2;example"}, ["spf_policy_authserv_id"]),
        ({"nameservers": ["10.0.0.0/8"]}, ["spf_policy_nameservers[0]", "not a network"]),
        ({"nameservers": ["ns.example"]}, ["spf_policy_nameservers[0]"]),
        ({"dns_port": 0}, ["spf_policy_dns_port"]),
        ({"dns_timeout": 600}, ["spf_policy_dns_timeout"]),
        ({"guess_enabled": "yes"}, ["spf_policy_guess_enabled"]),
        ({"service_name": "mailauth-spf x"}, ["spf_policy_service_name"]),
        ({"user": "root"}, ["spf_policy_user must not be root"]),
        ({"user": "bad user"}, ["spf_policy_user"]),
        ({"postfix_queue_directory": "spool"}, ["spf_policy_postfix_queue_directory"]),
        ({"daemon_path": "relative/x.py"}, ["spf_policy_daemon_path"]),
        ({"config_path": "/etc/../x.json"}, ["spf_policy_config_path"]),
    ],
)
def test_bad_input_is_refused_naming_the_variable(overrides, words):
    with pytest.raises(AnsibleFilterError) as err:
        spf_policy_config(defaults(**overrides))
    message = str(err.value)
    assert message.startswith("Invalid SPF policy input: ")
    for word in words:
        assert word in message


def test_every_problem_in_one_message():
    with pytest.raises(AnsibleFilterError) as err:
        spf_policy_config(defaults(mode="x", whitelist=["192.0.2.1/24"], reject_code=250, authserv_id="a b"))
    message = str(err.value)
    for name in ("spf_policy_mode", "spf_policy_whitelist[0]", "spf_policy_reject_code", "spf_policy_authserv_id"):
        assert name in message


def test_a_missing_variable_is_named():
    values = defaults()
    del values["helo_mode"]
    with pytest.raises(AnsibleFilterError, match="spf_policy_helo_mode is missing"):
        spf_policy_config(values)


def test_local_rules_and_guess_are_normalised():
    out = spf_policy_config(
        defaults(
            local_rules=["ip4:192.0.2.0/24 a:backup.example.org", "?mx"], guess_enabled=True, guess="v=spf1  a  mx"
        )
    )
    assert out["config"]["local_rules"] == "ip4:192.0.2.0/24 a:backup.example.org ?mx"
    assert out["config"]["guess"] == "v=spf1 a mx"
    assert spf_policy_config(defaults())["config"]["guess"] is None


@pytest.mark.parametrize(
    "mode,rejects",
    [
        ("tag", set()),
        ("defer_temperror", set()),
        ("reject_fail", {"fail"}),
        ("reject_softfail", {"fail", "softfail"}),
        ("reject_neutral", {"fail", "softfail", "neutral"}),
        ("reject_not_pass", {"fail", "softfail", "neutral", "none", "permerror"}),
    ],
)
def test_action_table(mode, rejects):
    table = _spf_policy.action_table(mode)
    assert {r for r, a in table.items() if a == "reject"} == rejects
    assert table["pass"] == "accept"
    assert table["temperror"] == ("accept" if mode == "tag" else "defer")


def test_helo_off_still_has_a_table_for_the_null_sender():
    out = spf_policy_config(defaults(helo_mode="off", mode="reject_fail"))
    assert out["config"]["helo_check"] is False
    assert out["config"]["actions"]["mailfrom"]["fail"] == "reject"
