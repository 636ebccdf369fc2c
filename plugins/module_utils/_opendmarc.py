# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenDMARC configuration: the opendmarc role's variables validated into opendmarc.conf and its host list.

:func:`build` checks every value that reaches opendmarc.conf or ignore.hosts with :mod:`_input`
and returns what the templates render; :func:`conf` is the one list of the settings the role
writes (OpenDMARC reads setting names case-insensitively, so extras are compared
case-insensitively against it).
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.mailauth.core.plugins.module_utils import _input, _milter
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems

# Where OpenDMARC takes the SPF result from: "header", the first Received-SPF field of the
# message (the SPF policy service's, prepended above every header the client sent), or "self",
# its own check with libspf2, every SPF header of the message ignored.
SPF_SOURCES = ("header", "self")
CONF_DIR = "/etc/opendmarc"


def conf(o: t.Mapping[str, t.Any]) -> t.List[t.Tuple[str, t.List[t.Tuple[str, t.Any]]]]:
    """opendmarc.conf as sections of (setting, value); None leaves a setting out. The one list of managed settings."""
    enforce = bool(o.get("enforce"))
    restart = bool(o.get("auto_restart"))
    self_spf = o.get("spf_source") == "self"
    return [
        (
            "",
            [
                ("Syslog", "true"),
                ("UserID", "opendmarc"),
                ("UMask", "007"),
                ("PidFile", o.get("pid_file")),
                ("Socket", o.get("socket")),
            ],
        ),
        (
            "One authserv-id: written in every Authentication-Results field and the only one trusted"
            " (OpenDKIM's AuthservID is the same).",
            [
                ("AuthservID", o.get("authserv_id")),
                ("TrustedAuthservIDs", o.get("authserv_id")),
                ("AuthservIDWithJobID", "false"),
            ],
        ),
        (
            "Inputs: the organisational domain from Debian's public suffix list; SPF from the first"
            " Received-SPF field (header) or OpenDMARC's own check (self); DKIM from OpenDKIM's field.",
            [
                ("PublicSuffixList", o.get("public_suffix_list")),
                ("SPFIgnoreResults", "true" if self_spf else "false"),
                ("SPFSelfValidate", "true" if self_spf else "false"),
                ("IgnoreHosts", "%s/ignore.hosts" % CONF_DIR),
                ("IgnoreAuthenticatedClients", "true" if o.get("ignore_authenticated_clients") else "false"),
            ],
        ),
        (
            "Enforcement: p=reject is answered 550 5.7.1, p=quarantine held in Postfix's hold queue"
            " (HoldQuarantinedMessages) or tagged, both sampled with pct; off, every verdict is a header only.",
            [
                ("RejectFailures", "true" if enforce else "false"),
                ("HoldQuarantinedMessages", "true" if enforce and o.get("hold_quarantined") else "false"),
                ("RejectMultiValueFrom", "true" if enforce else "false"),
            ],
        ),
        (
            "Reports off: no history file (aggregate reports need a database), no failure reports.",
            [
                ("FailureReports", "false"),
                ("RecordAllMessages", "false"),
                ("SoftwareHeader", "false"),
            ],
        ),
        (
            "Supervision: the parent process restarts the filter when it dies, at most AutoRestartRate (n/t).",
            [
                ("AutoRestart", "true" if restart else None),
                ("AutoRestartRate", o.get("auto_restart_rate") if restart else None),
            ],
        ),
    ]


MANAGED = frozenset(name.lower() for _comment, settings in conf({}) for name, _value in settings) | frozenset(
    # Off by omission (documented): the history file of aggregate reports.
    ["historyfile"]
)


def build(v: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """Validate the opendmarc role's variables (names without ``opendmarc_``); return what the templates render."""
    p = Problems()

    def f(name: str) -> str:
        return "opendmarc_" + name

    out: t.Dict[str, t.Any] = {
        "authserv_id": p.check(_input.authserv_id, v["authserv_id"], f("authserv_id")),
        "spf_source": p.check(_input.choice, v["spf_source"], f("spf_source"), SPF_SOURCES),
        "public_suffix_list": p.check(_input.absolute_path, v["public_suffix_list"], f("public_suffix_list")),
        "pid_file": v["pid_file"],
    }
    # Booleans as Ansible reads them (true, "yes", "false", ...; extra vars arrive as strings), strictly.
    for flag in ("enforce", "hold_quarantined", "auto_restart", "ignore_authenticated_clients"):
        try:
            out[flag] = boolean(v[flag], strict=True)
        except TypeError:
            p.add("%s must be true or false, got %r" % (f(flag), v[flag]))
            out[flag] = False
    _milter.daemon(v, "opendmarc_", p, out)
    out["ignore_hosts"] = _milter.hosts(v["ignore_hosts"], f("ignore_hosts"), p)
    extra = _milter.conf_extra(v, "opendmarc_", p, "OpenDMARC", MANAGED)
    return _milter.finish(out, p, conf, extra, "opendmarc_")
