# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenDKIM configuration: the opendkim role's variables validated into opendkim.conf and its host lists.

:func:`build` checks every value that reaches opendkim.conf or a table
with :mod:`_input` and returns what the templates render; :func:`conf` is the one list of the
settings the role writes (OpenDKIM reads setting names case-insensitively, so extras are
compared case-insensitively against it).
"""

from __future__ import annotations

import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _input, _milter
from ansible_collections.mailauth.core.plugins.module_utils._dkim_record import revoked_value
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems

# RFC 5322 field names (printable ASCII but the colon).
HEADER_NAME = r"[!-9;-~]+"
DAEMON_NAME = r"[A-Za-z0-9_.\-]+"
MODES = ("s", "v", "sv")
# What OpenDKIM does with a message whose key lookup failed (temporary DNS error): tempfail
# (451, retried by the sender) or accept (delivered with dkim=temperror).
DNS_ERROR_ACTIONS = ("tempfail", "accept")
CANONICALIZATIONS = ("relaxed", "simple", "relaxed/relaxed", "relaxed/simple", "simple/relaxed", "simple/simple")

TABLES = "/etc/opendkim"


def conf(o: t.Mapping[str, t.Any]) -> t.List[t.Tuple[str, t.List[t.Tuple[str, t.Any]]]]:
    """opendkim.conf as sections of (setting, value); None leaves a setting out. The one list of managed settings."""
    signing = bool(o.get("rsa_keys"))
    restart = bool(o.get("auto_restart"))
    # The receiver settings only on hosts that check inbound mail (opendkim_inbound); a sending host in mode sv
    # keeps OpenDKIM's defaults, as the lab's load proof runs them.
    verifying = "v" in (o.get("mode") or "") and bool(o.get("inbound"))
    return [
        (
            "",
            [
                ("Syslog", "yes"),
                ("SyslogSuccess", "yes"),
                ("LogWhy", "yes" if o.get("log_why") else "no"),
                ("UserID", "opendkim"),
                ("UMask", "007"),
                ("PidFile", o.get("pid_file")),
                ("Socket", o.get("socket")),
            ],
        ),
        (
            "One algorithm per instance in 2.11.0~beta2: RSA here, ed25519 through dkimpy-milter.",
            [
                ("Mode", o.get("mode")),
                ("Canonicalization", o.get("canonicalization")),
                ("SignatureAlgorithm", "rsa-sha256"),
                ("OversignHeaders", ",".join(o.get("oversign_headers") or [])),
                ("MultipleSignatures", "yes" if signing else None),
                ("KeyTable", "file:%s/KeyTable" % TABLES if signing else None),
                ("SigningTable", "refile:%s/SigningTable" % TABLES if signing else None),
                ("ExternalIgnoreList", "%s/TrustedHosts" % TABLES),
                ("InternalHosts", "%s/InternalHosts" % TABLES),
                ("MacroList", "daemon_name|%s" % o.get("originating_daemon_name")),
            ],
        ),
        (
            "Verification: one Authentication-Results field with the host's authserv-id for every message,"
            " dkim=none included; a failing signature is reported, never rejected. RemoveARAll yes: every incoming"
            " Authentication-Results field that claims this authserv-id is removed, whatever it reports; no where"
            " Postfix's header_checks remove forged ones and bring the SPF policy's in (opendkim_remove_ar_all).",
            [
                ("AuthservID", o.get("authserv_id") if verifying else None),
                ("AlwaysAddARHeader", "yes" if verifying else None),
                ("RemoveARAll", ("yes" if o.get("remove_ar_all", True) else "no") if verifying else None),
                ("On-NoSignature", "accept" if verifying else None),
                ("On-BadSignature", "accept" if verifying else None),
                ("On-KeyNotFound", "accept" if verifying else None),
                ("On-DNSError", o.get("on_dns_error") if verifying else None),
            ],
        ),
        (
            "DNS (verification): libunbound, pointed at the host's resolvers. ResolverConfiguration only for"
            " RFC 6761 zones of a lab (2.11.0~beta2 re-reads it for every message: see the role's README).",
            [
                ("Nameservers", ",".join(o.get("nameservers") or []) or None),
                (
                    "ResolverConfiguration",
                    "%s/unbound.conf" % TABLES if o.get("resolver_nodefault_zones") else None,
                ),
                ("TrustAnchorFile", o.get("trust_anchor_file") or None),
            ],
        ),
        (
            "Supervision: the parent process restarts the filter when it dies, at most AutoRestartRate (n/t).",
            [
                ("AutoRestart", "yes" if restart else None),
                ("AutoRestartRate", o.get("auto_restart_rate") if restart else None),
            ],
        ),
    ]


MANAGED = frozenset(name.lower() for _comment, settings in conf({}) for name, _value in settings)


def build(v: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """Validate the opendkim role's variables (names without ``opendkim_``); return what the templates render."""
    p = Problems()

    def f(name: str) -> str:
        return "opendkim_" + name

    out: t.Dict[str, t.Any] = {
        "mode": p.check(_input.choice, v["mode"], f("mode"), MODES),
        "canonicalization": p.check(_input.choice, v["canonicalization"], f("canonicalization"), CANONICALIZATIONS),
        "originating_daemon_name": p.match(
            v["originating_daemon_name"], f("originating_daemon_name"), DAEMON_NAME, "a daemon name"
        ),
        "authserv_id": p.check(_input.authserv_id, v["authserv_id"], f("authserv_id")),
        "inbound": bool(v.get("inbound", False)),
        "remove_ar_all": bool(v.get("remove_ar_all", True)),
        "on_dns_error": p.check(_input.choice, v["on_dns_error"], f("on_dns_error"), DNS_ERROR_ACTIONS),
        "key_dir": p.check(_input.absolute_path, v["key_dir"], f("key_dir")),
        "pid_file": v["pid_file"],
        "log_why": bool(v["log_why"]),
        "auto_restart": bool(v["auto_restart"]),
        "rsa_keys": bool(v["rsa_keys"]),
    }
    _milter.daemon(v, "opendkim_", p, out)
    out["trust_anchor_file"] = v["trust_anchor_file"] and p.check(
        _input.absolute_path, v["trust_anchor_file"], f("trust_anchor_file")
    )
    headers = p.check(_input.string_list, v["oversign_headers"], f("oversign_headers")) or []
    out["oversign_headers"] = [
        p.match(h, "%s[%d]" % (f("oversign_headers"), i), HEADER_NAME, "a header field name")
        for i, h in enumerate(headers)
    ]
    nameservers = p.check(_input.string_list, v["nameservers"], f("nameservers")) or []
    out["nameservers"] = [
        str(net.network_address)
        for net in (
            p.check(_input.network, n, "%s[%d]" % (f("nameservers"), i), True) for i, n in enumerate(nameservers)
        )
        if net is not None
    ]
    if any(net.count("/") for net in nameservers if isinstance(net, str)):
        p.add("opendkim_nameservers must be addresses, not networks")
    zones = p.check(_input.string_list, v["resolver_nodefault_zones"], f("resolver_nodefault_zones")) or []
    out["resolver_nodefault_zones"] = [
        p.check(_input.domain, z, "%s[%d]" % (f("resolver_nodefault_zones"), i), 1) for i, z in enumerate(zones)
    ]
    out["internal_hosts"] = _milter.hosts(v["internal_hosts"], f("internal_hosts"), p)
    out["trusted_hosts"] = _milter.hosts(v["trusted_hosts"], f("trusted_hosts"), p)

    extra = _milter.conf_extra(v, "opendkim_", p, "OpenDKIM", MANAGED)
    return _milter.finish(out, p, conf, extra, "opendkim_")


def key_specs(keys: t.Sequence[t.Mapping[str, t.Any]]) -> t.List[t.Dict[str, t.Any]]:
    """The ``keys`` argument of mailauth.core.dkim_key, one entry per key of the dkim_keys shape.

    The names are dkim_key's own (``key_type``, ``key_size``); ``private_key_content`` is passed only
    when set (shared-key mode).
    """
    specs = []
    for key in keys:
        spec = {name: key[name] for name in ("domain", "selector", "key_type", "key_size")}
        if key.get("private_key_content"):
            spec["private_key_content"] = key["private_key_content"]
        specs.append(spec)
    return specs


def dns_records(
    results: t.Sequence[t.Mapping[str, t.Any]], revoked: t.Sequence[t.Mapping[str, t.Any]] = ()
) -> t.List[t.Dict[str, t.Any]]:
    """The TXT records to publish, one per key dkim_key returned (its ``dkim_keys``).

    Each is ``{name, domain, selector, key_type, value, fingerprint, revoked}``, dkim_key's names; ``value`` and
    ``fingerprint`` are None in check mode for a key that does not exist yet. A key named in revoked (keys with
    ``domain`` and ``selector``: an emergency rotation's old selector) is published revoked: ``revoked`` true,
    ``value`` the revoked record (``p=`` empty), no fingerprint.
    """
    gone = {(str(k.get("domain")), str(k.get("selector"))) for k in revoked or ()}
    out = []
    for key in results:
        is_revoked = (key["domain"], key["selector"]) in gone
        out.append(
            {
                "name": "%s._domainkey.%s" % (key["selector"], key["domain"]),
                "domain": key["domain"],
                "selector": key["selector"],
                "key_type": key["key_type"],
                "value": revoked_value(key["key_type"] or "rsa") if is_revoked else key["value"],
                "fingerprint": None if is_revoked else key["fingerprint"],
                "revoked": is_revoked,
            }
        )
    return out
