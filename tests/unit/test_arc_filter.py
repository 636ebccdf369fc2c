# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The arc role's filters as a user sees them: the rspamd files written for each choice, and bad input.

Every problem is reported in one message that names its variable, before anything is written.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.filter import arc as arc_filter

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = yaml.safe_load((ROOT / "roles/arc/defaults/main.yml").read_text())
ROLE_VARS = yaml.safe_load((ROOT / "roles/arc/vars/main.yml").read_text())
SPECS = yaml.safe_load((ROOT / "roles/arc/meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]

OK = {
    "domain": "fwd.example.org",
    "selector": "fwd-arc",
    "key_size": 2048,
    "key_dir": "/var/lib/dkim/arc",
    "authserv_id": "fwd.example.org",
    "mta_hostname": "FWD.example.org",
    "reuse_auth_results": True,
    "trusted_forwarders": [],
    "socket": "local:/var/spool/postfix/rspamd/milter.sock",
    "postfix_queue_directory": "/var/spool/postfix",
    "nameservers": ["192.0.2.53"],
    "plugins": ["arc", "milter_headers", "rbl", "dmarc", "spf", "dkim_signing", "settings"],
    "dkim_signing": False,
    "dkim_keys": [],
    "dkim_source_key_dir": "/etc/dkimkeys",
    "dkim_key_dir": "/var/lib/rspamd/dkim",
    "dkim_sign_networks": ["127.0.0.1", "::1"],
}


def build(**changes):
    return arc_filter.arc_config(dict(copy.deepcopy(OK), **changes))


def files(**changes):
    return {f["path"]: f for f in arc_filter.arc_files(build(**changes), "# header")}


def refused(**changes):
    with pytest.raises(AnsibleFilterError) as err:
        build(**changes)
    return str(err.value)


def test_the_filter_reads_every_variable_the_role_passes_and_each_is_documented():
    assert set(ROLE_VARS["arc_input"]) == set(OK)
    for name in OK:
        if name != "plugins":
            assert "arc_" + name in DEFAULTS
            assert "arc_" + name in SPECS
    assert set(DEFAULTS) <= set(SPECS)


def test_a_sealer_gets_one_rsa_key_and_its_domain_in_arc_conf():
    out = build()
    assert out["key_specs"] == [
        {"domain": "fwd.example.org", "selector": "fwd-arc", "key_type": "rsa", "key_size": 2048}
    ]
    arc = files()["/etc/rspamd/local.d/arc.conf"]["content"]
    assert arc.startswith("# header\n")
    assert "sign_inbound = true;" in arc
    assert '"fwd.example.org" {' in arc
    assert 'path = "/var/lib/dkim/arc/fwd.example.org/fwd-arc.private";' in arc
    assert 'selector = "fwd-arc";' in arc
    assert "use_domain_custom = \"return function(task) return 'fwd.example.org' end\";" in arc
    assert "reuse_auth_results = true;" in arc
    assert "use_redis = false;" in arc


def test_without_a_domain_the_host_validates_only():
    out = build(domain="")
    assert out["sealing"] is False and out["key_specs"] == [] and out["key_path"] == ""
    arc = files(domain="")["/etc/rspamd/local.d/arc.conf"]["content"]
    assert "sign_inbound = false;" in arc and "domain {" not in arc


def test_only_the_arc_plugins_stay_on_and_the_other_workers_are_off():
    written = files()
    assert "/etc/rspamd/override.d/rbl.conf" in written
    assert written["/etc/rspamd/override.d/dkim_signing.conf"]["content"] == "# header\nenabled = false;\n"
    assert "/etc/rspamd/override.d/arc.conf" not in written
    assert "/etc/rspamd/override.d/milter_headers.conf" not in written
    for worker in ("normal", "controller", "fuzzy"):
        assert "enabled = false;" in written["/etc/rspamd/override.d/worker-%s.inc" % worker]["content"]
    assert 'filters = "dkim";' in written["/etc/rspamd/local.d/options.inc"]["content"]
    assert 'nameserver = ["192.0.2.53"];' in written["/etc/rspamd/local.d/options.inc"]["content"]
    actions = written["/etc/rspamd/local.d/actions.conf"]["content"]
    assert "reject = null;" in actions and "add_header = null;" in actions
    headers = written["/etc/rspamd/local.d/milter_headers.conf"]["content"]
    assert 'use = ["authentication-results"];' in headers and "remove = false;" in headers
    # A broken chain is reported as arc=fail (RFC 8617), not rspamd's own "reject".
    assert 'fail = "ARC_REJECT";' in headers and 'reject = "MAILAUTH_ARC_UNUSED";' in headers


def test_the_settings_rules_apply_to_every_message():
    """rspamd compares an address with a /0 network for equality: every address is two /1 halves per family."""
    written = files()
    assert "/etc/rspamd/override.d/settings.conf" not in written  # the plugin that applies the rules runs
    settings = written["/etc/rspamd/local.d/settings.conf"]["content"]
    assert "/0" not in settings
    line = next(x for x in settings.splitlines() if x.strip().startswith("ip = "))
    halves = [ipaddress.ip_network(x) for x in re.findall(r'"([^"]+)"', line)]
    for version, everything in ((4, "0.0.0.0/0"), (6, "::/0")):
        family = [n for n in halves if n.version == version]
        assert list(ipaddress.collapse_addresses(family)) == [ipaddress.ip_network(everything)]
        assert all(n.prefixlen > 0 for n in family)


def test_the_milter_socket_for_rspamd_and_for_postfix():
    out = build()
    proxy = files()["/etc/rspamd/local.d/worker-proxy.inc"]["content"]
    assert 'bind_socket = "/var/spool/postfix/rspamd/milter.sock mode=0660 owner=_rspamd";' in proxy
    assert "milter = yes;" in proxy and "self_scan = yes;" in proxy
    assert out["postfix_milter"] == "unix:rspamd/milter.sock"
    assert out["socket_directory"] == "/var/spool/postfix/rspamd"
    assert out["wait"] == {"path": "/var/spool/postfix/rspamd/milter.sock"}
    inet = build(socket="inet:11332@127.0.0.1")
    assert inet["postfix_milter"] == "inet:127.0.0.1:11332" and inet["socket_directory"] is None
    assert inet["wait"] == {"host": "127.0.0.1", "port": 11332}
    assert inet["bind_socket"] == "127.0.0.1:11332"


def test_the_whole_configuration_is_checked_last():
    written = arc_filter.arc_files(build(), "")
    assert written[-1]["path"] == "/etc/rspamd/mailauth-arc-check.conf"
    assert written[-1]["validate"] == "rspamadm configtest -c %s"
    assert written[-1]["content"] == '.include "/etc/rspamd/rspamd.conf"\n'
    assert all("validate" not in f for f in written[:-1])


def test_trusted_forwarders_become_rspamds_whitelisted_signers():
    arc = files(trusted_forwarders=["Lists.Example.net"])["/etc/rspamd/local.d/arc.conf"]["content"]
    assert 'whitelisted_signers_map = ["lists.example.net"];' in arc


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"selector": "bad.sel"}, "arc_selector: 'bad.sel' is not a DNS label"),
        ({"selector": "-x"}, "arc_selector"),
        ({"domain": "no_such..domain"}, "arc_domain"),
        ({"domain": 'x";evil.org'}, "arc_domain"),
        ({"key_size": 512}, "arc_key_size must be one of"),
        ({"key_size": True}, "arc_key_size must be one of"),
        ({"socket": "local:relative"}, "arc_socket"),
        ({"nameservers": ["10.0.0.0/8"]}, "arc_nameservers[0] must be an address"),
        ({"nameservers": "192.0.2.1"}, "arc_nameservers"),
        ({"trusted_forwarders": ["ok.example", 'bad"q.example']}, "arc_trusted_forwarders[1]"),
        ({"key_dir": "relative/dir"}, "arc_key_dir"),
        ({"authserv_id": "a b"}, "arc_authserv_id"),
        ({"authserv_id": "other.example.org"}, "must equal Postfix's myhostname"),
        ({"plugins": ["ok", "../x"]}, "arc_plugins[1]"),
        ({"domain": "fwd.example.org\n"}, "arc_domain"),
    ],
)
def test_bad_input_is_refused_naming_the_variable(changes, message):
    assert message in refused(**changes)


def test_every_problem_in_one_message():
    text = refused(selector="a.b", key_size=1, socket="tcp:1")
    assert "arc_selector" in text and "arc_key_size" in text and "arc_socket" in text


def test_a_missing_variable_is_named():
    values = copy.deepcopy(OK)
    del values["selector"]
    with pytest.raises(AnsibleFilterError, match="arc_selector is missing"):
        arc_filter.arc_config(values)


def test_arc_files_wants_arc_configs_result():
    with pytest.raises(AnsibleFilterError):
        arc_filter.arc_files({"domain": "x"})
