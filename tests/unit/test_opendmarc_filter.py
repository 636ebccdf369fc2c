# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The opendmarc_config filter and OpenDKIM's verification settings, as a user sees them.

What opendmarc.conf says for each choice (one authserv-id written and trusted, enforcement,
hold, SPF source), the Postfix facts, and bad input: every problem reported in one message that
names its variable, before anything is rendered.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.filter import opendmarc as opendmarc_filter
from ansible_collections.mailauth.core.plugins.module_utils import _opendkim

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = yaml.safe_load((ROOT / "roles/opendmarc/defaults/main.yml").read_text())
ROLE_VARS = yaml.safe_load((ROOT / "roles/opendmarc/vars/main.yml").read_text())

OK = {
    "authserv_id": "mx2.example.net",
    "enforce": True,
    "hold_quarantined": False,
    "spf_source": "header",
    "ignore_hosts": ["127.0.0.1", "::1"],
    "ignore_authenticated_clients": True,
    "public_suffix_list": "/usr/share/publicsuffix/public_suffix_list.dat",
    "socket": "local:/var/spool/postfix/opendmarc/opendmarc.sock",
    "postfix_queue_directory": "/var/spool/postfix",
    "pid_file": "/run/opendmarc/opendmarc.pid",
    "auto_restart": True,
    "auto_restart_rate": "10/1h",
    "conf_extra": {},
}


def settings(**changes):
    values = dict(copy.deepcopy(OK), **changes)
    out = opendmarc_filter.opendmarc_config(values)
    return {name: value for section in out["conf"] for name, value in section["settings"]}, out


def refused(**changes):
    with pytest.raises(AnsibleFilterError) as err:
        opendmarc_filter.opendmarc_config(dict(copy.deepcopy(OK), **changes))
    return str(err.value)


def test_the_filter_reads_every_variable_the_role_passes():
    assert set(ROLE_VARS["opendmarc_input"]) == set(OK)
    for name in OK:
        if name != "pid_file":
            assert "opendmarc_" + name in DEFAULTS


def test_one_authserv_id_written_and_trusted():
    conf = settings(authserv_id="MX2.Example.NET")[0]
    assert conf["AuthservID"] == conf["TrustedAuthservIDs"] == "mx2.example.net"
    assert conf["AuthservIDWithJobID"] == "false"


def test_defaults_enforce_reject_and_tag_quarantine():
    conf, out = settings()
    assert conf["RejectFailures"] == "true"
    assert conf["HoldQuarantinedMessages"] == "false"
    assert conf["RejectMultiValueFrom"] == "true"
    assert conf["PublicSuffixList"] == "/usr/share/publicsuffix/public_suffix_list.dat"
    assert conf["IgnoreHosts"] == "/etc/opendmarc/ignore.hosts"
    assert conf["FailureReports"] == "false"
    assert "HistoryFile" not in conf
    assert out["postfix_milter"] == "unix:opendmarc/opendmarc.sock"
    assert out["socket_directory"] == "/var/spool/postfix/opendmarc"
    assert out["wait"] == {"path": "/var/spool/postfix/opendmarc/opendmarc.sock"}
    assert out["ignore_hosts"] == ["127.0.0.1", "::1"]


@pytest.mark.parametrize("value", [True, "true", "yes"])
def test_hold_quarantined(value):
    conf = settings(hold_quarantined=value)[0]
    assert conf["HoldQuarantinedMessages"] == "true"


@pytest.mark.parametrize("value", [False, "false", "no"])
def test_enforce_false_as_extra_vars_give_it(value):
    conf = settings(enforce=value)[0]
    assert conf["RejectFailures"] == "false"


def test_enforce_off_tags_only_even_with_hold():
    conf = settings(enforce=False, hold_quarantined=True)[0]
    assert conf["RejectFailures"] == "false"
    assert conf["HoldQuarantinedMessages"] == "false"
    assert conf["RejectMultiValueFrom"] == "false"


@pytest.mark.parametrize(
    "source, ignore, self_validate",
    [("header", "false", "false"), ("self", "true", "true")],
)
def test_spf_source(source, ignore, self_validate):
    conf = settings(spf_source=source)[0]
    assert (conf["SPFIgnoreResults"], conf["SPFSelfValidate"]) == (ignore, self_validate)


def test_inet_socket_has_no_group():
    out = settings(socket="inet:8893@127.0.0.1")[1]
    assert out["postfix_milter"] == "inet:127.0.0.1:8893"
    assert out["socket_directory"] is None


def test_auto_restart_off_leaves_the_rate_out():
    conf = settings(auto_restart=False, auto_restart_rate="garbage")[0]
    assert "AutoRestart" not in conf and "AutoRestartRate" not in conf


def test_extras_are_rendered_sorted():
    _conf, out = settings(conf_extra={"RequiredHeaders": True, "DNSTimeout": 10})
    assert out["conf"][-1] == {
        "comment": "Extra settings (opendmarc_conf_extra)",
        "settings": [["DNSTimeout", "10"], ["RequiredHeaders", "yes"]],
    }


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"authserv_id": "mx2 example.net"}, "opendmarc_authserv_id"),
        ({"authserv_id": "mx2.example.net;dkim=pass"}, "opendmarc_authserv_id"),
        ({"authserv_id": "mx2.example.net\n"}, "opendmarc_authserv_id"),
        ({"spf_source": "both"}, "opendmarc_spf_source"),
        ({"enforce": "maybe"}, "opendmarc_enforce"),
        ({"hold_quarantined": 2}, "opendmarc_hold_quarantined"),
        ({"auto_restart": "sometimes"}, "opendmarc_auto_restart"),
        ({"ignore_authenticated_clients": None}, "opendmarc_ignore_authenticated_clients"),
        ({"socket": "unix:/tmp/x.sock"}, "opendmarc_socket"),
        ({"socket": "local:/var/spool/postfix/opendmarc/o.sock\nSocket x"}, "opendmarc_socket"),
        ({"postfix_queue_directory": "spool"}, "opendmarc_postfix_queue_directory"),
        ({"public_suffix_list": "/usr/share/../x dat"}, "opendmarc_public_suffix_list"),
        ({"ignore_hosts": ["127.0.0.1", "bad host"]}, "opendmarc_ignore_hosts[1]"),
        ({"ignore_hosts": "127.0.0.1"}, "opendmarc_ignore_hosts"),
        ({"auto_restart_rate": "10 per hour"}, "opendmarc_auto_restart_rate"),
        ({"conf_extra": {"RejectFailures": False}}, "opendmarc_conf_extra['RejectFailures']"),
        ({"conf_extra": {"authservid": "x"}}, "opendmarc_conf_extra['authservid']"),
        ({"conf_extra": {"HistoryFile": "/var/run/opendmarc.dat"}}, "opendmarc_conf_extra['HistoryFile']"),
        ({"conf_extra": {"Bad Name": "x"}}, "opendmarc_conf_extra['Bad Name']"),
        ({"conf_extra": {"DNSTimeout": "5\nRejectFailures false"}}, "opendmarc_conf_extra['DNSTimeout']"),
        ({"conf_extra": ["x"]}, "opendmarc_conf_extra"),
    ],
)
def test_bad_input_names_the_variable(changes, expected):
    message = refused(**changes)
    assert message.startswith("Invalid OpenDMARC input: ")
    assert expected in message


def test_every_problem_in_one_message():
    message = refused(authserv_id="a b", spf_source="x", ignore_hosts=["-"])
    for name in ("opendmarc_authserv_id", "opendmarc_spf_source", "opendmarc_ignore_hosts[0]"):
        assert name in message


def test_a_missing_variable_is_named():
    values = copy.deepcopy(OK)
    del values["spf_source"]
    with pytest.raises(AnsibleFilterError, match="opendmarc_spf_source is missing"):
        opendmarc_filter.opendmarc_config(values)


def test_not_a_dict():
    with pytest.raises(AnsibleFilterError, match="dictionary"):
        opendmarc_filter.opendmarc_config(["x"])


# -- OpenDKIM's verification settings (the opendkim role's table) -----------------------------

OPENDKIM = {
    "mode": "sv",
    "authserv_id": "mx2.example.net",
    "on_dns_error": "tempfail",
    "canonicalization": "relaxed/simple",
    "socket": "local:/var/spool/postfix/opendkim/opendkim.sock",
    "postfix_queue_directory": "/var/spool/postfix",
    "pid_file": "/run/opendkim/opendkim.pid",
    "key_dir": "/etc/dkimkeys",
    "oversign_headers": ["From"],
    "internal_hosts": ["127.0.0.1"],
    "trusted_hosts": ["127.0.0.1"],
    "originating_daemon_name": "ORIGINATING",
    "nameservers": [],
    "resolver_nodefault_zones": [],
    "trust_anchor_file": "",
    "log_why": False,
    "auto_restart": True,
    "auto_restart_rate": "10/1h",
    "conf_extra": {},
    "rsa_keys": True,
}


def opendkim_conf(**changes):
    out = _opendkim.build(dict(copy.deepcopy(OPENDKIM), **changes))
    return {name: value for section in out["conf"] for name, value in section["settings"]}


@pytest.mark.parametrize("mode", ["v", "sv"])
def test_opendkim_verifier_reports_and_never_rejects(mode):
    conf = opendkim_conf(mode=mode, authserv_id="MX2.example.net", inbound=True)
    assert conf["AuthservID"] == "mx2.example.net"
    assert conf["AlwaysAddARHeader"] == "yes"
    assert conf["RemoveARAll"] == "yes"
    for setting in ("On-NoSignature", "On-BadSignature", "On-KeyNotFound"):
        assert conf[setting] == "accept"
    assert conf["On-DNSError"] == "tempfail"
    assert opendkim_conf(on_dns_error="accept", inbound=True)["On-DNSError"] == "accept"


def test_opendkim_sending_host_keeps_the_defaults():
    conf = opendkim_conf(mode="sv", inbound=False)
    for setting in ("AuthservID", "AlwaysAddARHeader", "RemoveARAll", "On-BadSignature", "On-DNSError"):
        assert setting not in conf


def test_opendkim_signer_only_has_no_verification_settings():
    conf = opendkim_conf(mode="s")
    for setting in ("AuthservID", "AlwaysAddARHeader", "RemoveARAll", "On-BadSignature", "On-DNSError"):
        assert setting not in conf


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"authserv_id": "mx2 example.net"}, "opendkim_authserv_id"),
        ({"authserv_id": ""}, "opendkim_authserv_id"),
        ({"on_dns_error": "reject"}, "opendkim_on_dns_error"),
        ({"conf_extra": {"RemoveARAll": "no"}}, "opendkim_conf_extra['RemoveARAll']"),
        ({"conf_extra": {"on-badsignature": "reject"}}, "opendkim_conf_extra['on-badsignature']"),
    ],
)
def test_opendkim_bad_verification_input_names_the_variable(changes, expected):
    with pytest.raises(Exception) as err:
        _opendkim.build(dict(copy.deepcopy(OPENDKIM), **changes))
    assert expected in str(err.value)
