# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ARC with rspamd: the arc role's variables validated into the rspamd files it writes.

rspamd runs as a milter (the proxy worker in milter mode with ``self_scan``), restricted to ARC:
the C module ``dkim`` (which the ``arc`` plugin calls to verify and sign), the ``arc`` plugin
(validation, and sealing where a domain is set) and ``milter_headers`` (only its
``authentication-results`` routine, for ``arc=pass|fail|none``). Every other plugin is disabled
(:func:`files`, from the list of plugins installed on the host), and a settings rule lets only the
ARC symbols run, so nothing is scored. Every value that reaches a file is checked here first.
"""

from __future__ import annotations

import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _input, _milter, _rspamd_dkim
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems

# The rspamd plugins the role keeps; every other installed plugin gets ``enabled = false``. ``settings``
# applies the rules of local.d/settings.conf (only the ARC and signing symbols run).
KEPT_PLUGINS = ("arc", "milter_headers", "settings")
# The symbols that may run (the settings rule): ARC's and what its results need.
SYMBOLS = (
    "ARC_CHECK",
    "ARC_CALLBACK",
    "ARC_ALLOW",
    "ARC_REJECT",
    "ARC_INVALID",
    "ARC_DNSFAIL",
    "ARC_NA",
    "ARC_SIGNED",
    "MILTER_HEADERS",
)
# Every address, as the settings rule for all messages matches it. rspamd's settings plugin compares an
# address with a /0 network for equality (a mask of 0 means "no mask" in check_ip_setting): "0.0.0.0/0"
# matches 0.0.0.0 only. Two halves per family match every address.
ALL_ADDRESSES = ("0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1")
# rspamd's actions the role switches off (null): rspamd never acts on a message, whatever its score.
ACTIONS = ("reject", "add_header", "rewrite_subject", "greylist")
# rspamd's workers the role switches off: the proxy (milter, self_scan) does all the work.
DISABLED_WORKERS = ("normal", "controller", "fuzzy")
# A plugin file name in /usr/share/rspamd/plugins, without .lua.
PLUGIN = r"[a-z0-9_]+"
KEY_SIZES = (1024, 2048, 3072, 4096)
# rspamd's key directory (the dkim_key module writes <dir>/<domain>/<selector>.private).
RSPAMD_USER = "_rspamd"
# Below /etc/rspamd: the whole configuration as rspamadm configtest checks it (see :func:`files`).
CHECK_FILE = "mailauth-arc-check.conf"


def _quote(value: str) -> str:
    """A UCL string: the values reaching here are checked names, paths and addresses (no quote, no backslash)."""
    if '"' in value or "\\" in value:
        raise ValueError("unquotable value %r" % value)
    return '"%s"' % value


def bind_socket(socket: str) -> str:
    """rspamd's bind_socket for a checked milter socket (``local:/path`` or ``inet:PORT@HOST``)."""
    if socket.startswith("local:"):
        return "%s mode=0660 owner=%s" % (socket[len("local:") :], RSPAMD_USER)
    port, host = socket.split(":", 1)[1].split("@", 1)
    return "%s:%s" % (host, port)


def build(v: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """Validate the arc role's variables (names without ``arc_``); return what the role writes and publishes."""
    p = Problems()

    def f(name: str) -> str:
        return "arc_" + name

    out: t.Dict[str, t.Any] = {
        "authserv_id": p.check(_input.authserv_id, v["authserv_id"], f("authserv_id")),
        "key_dir": p.check(_input.absolute_path, v["key_dir"], f("key_dir")),
        "reuse_auth_results": bool(v["reuse_auth_results"]),
        "auto_restart": False,
    }
    # rspamd writes the authserv-id the MTA gives it (MTA-Name, Postfix's milter macro j, that is myhostname):
    # the role cannot set it otherwise, so it refuses a host whose two names differ.
    mta = p.check(_input.authserv_id, v["mta_hostname"], f("mta_hostname"))
    if out["authserv_id"] and mta and out["authserv_id"] != mta:
        p.add(
            "%s (%s) must equal Postfix's myhostname (%s, arc_mta_hostname): rspamd writes that name as the"
            " authserv-id of Authentication-Results" % (f("authserv_id"), out["authserv_id"], mta)
        )
    domain = v["domain"]
    out["domain"] = "" if domain in ("", None) else p.check(_input.domain, domain, f("domain"))
    # One label: rspamd reads the selector into a file name and the seal's s= tag.
    out["selector"] = p.check(_input.label, v["selector"], f("selector"))
    size = v["key_size"]
    if isinstance(size, bool) or not isinstance(size, int) or size not in KEY_SIZES:
        p.add(
            "%s must be one of %s (RSA bits; ARC seals are rsa-sha256 only), got %r" % (f("key_size"), KEY_SIZES, size)
        )
    out["key_size"] = size
    _milter.daemon(v, "arc_", p, out)
    nameservers = p.check(_input.string_list, v["nameservers"], f("nameservers")) or []
    out["nameservers"] = []
    for i, server in enumerate(nameservers):
        if "/" in server:
            p.add("%s[%d] must be an address, not a network, got %r" % (f("nameservers"), i, server))
            continue
        net = p.check(_input.network, server, "%s[%d]" % (f("nameservers"), i), True)
        if net is not None:
            out["nameservers"].append(str(net.network_address))
    forwarders = p.check(_input.string_list, v["trusted_forwarders"], f("trusted_forwarders")) or []
    out["trusted_forwarders"] = [
        d
        for d in (p.check(_input.domain, x, "%s[%d]" % (f("trusted_forwarders"), i)) for i, x in enumerate(forwarders))
        if d
    ]
    plugins = p.check(_input.string_list, v["plugins"], f("plugins")) or []
    out["plugins"] = sorted(
        {
            x
            for x in (
                p.match(x, "%s[%d]" % (f("plugins"), i), PLUGIN, "an rspamd plugin name") for i, x in enumerate(plugins)
            )
            if x
        }
    )
    out["dkim"] = _rspamd_dkim.build(v, p)
    p.raise_any()
    _milter.addresses(out)
    out["bind_socket"] = bind_socket(out["socket"])
    out["sealing"] = bool(out["domain"])
    out["key_specs"] = (
        [{"domain": out["domain"], "selector": out["selector"], "key_type": "rsa", "key_size": size}]
        if out["sealing"]
        else []
    )
    out["key_path"] = "%s/%s/%s.private" % (out["key_dir"], out["domain"], out["selector"]) if out["sealing"] else ""
    kept = KEPT_PLUGINS + ((_rspamd_dkim.PLUGIN,) if out["dkim"]["signing"] else ())
    out["disabled_plugins"] = [x for x in out["plugins"] if x not in kept]
    out["symbols"] = list(SYMBOLS) + (list(_rspamd_dkim.SYMBOLS) if out["dkim"]["signing"] else [])
    return out


def files(s: t.Mapping[str, t.Any]) -> t.List[t.Tuple[str, t.List[str]]]:
    """The rspamd files (path below /etc/rspamd, lines) for checked settings: the one list of what is written."""
    q = _quote
    sealing = s["sealing"]
    arc = [
        "# Validation always; sealing only with a domain (arc_domain).",
        "sign_inbound = %s;" % ("true" if sealing else "false"),
        "sign_local = %s;" % ("true" if sealing else "false"),
        "sign_authenticated = %s;" % ("true" if sealing else "false"),
        "allow_envfrom_empty = true;",
        "allow_hdrfrom_mismatch = true;",
        "allow_username_mismatch = true;",
        "use_esld = false;",
        "use_redis = false;",
        "try_fallback = false;",
        "# The seal's AAR is the Authentication-Results field the checks before rspamd wrote (OpenDKIM, OpenDMARC).",
        "reuse_auth_results = %s;" % ("true" if s["reuse_auth_results"] else "false"),
    ]
    if sealing:
        arc += [
            "# One sealing domain for every message, whatever its addresses.",
            "use_domain_custom = %s;" % q("return function(task) return '%s' end" % s["domain"]),
            "domain {",
            "  %s {" % q(s["domain"]),
            "    selector = %s;" % q(s["selector"]),
            "    path = %s;" % q(s["key_path"]),
            "  }",
            "}",
        ]
    if s["trusted_forwarders"]:
        arc.append("whitelisted_signers_map = [%s];" % ", ".join(q(d) for d in s["trusted_forwarders"]))
    options = ['filters = "dkim";', "# rspamd's own resolver (it ignores nothing in resolv.conf but adds no cache)."]
    if s["nameservers"]:
        options += ["dns {", "  nameserver = [%s];" % ", ".join(q(n) for n in s["nameservers"]), "}"]
    result = [
        ("local.d/options.inc", options),
        (
            "local.d/worker-proxy.inc",
            [
                "bind_socket = %s;" % q(s["bind_socket"]),
                "milter = yes;",
                "# The proxy scans itself: no normal worker behind it.",
                'upstream "local" {',
                "  default = yes;",
                "  self_scan = yes;",
                "}",
                "count = 1;",
                "timeout = 120s;",
                "discard_on_reject = false;",
                "quarantine_on_reject = false;",
            ],
        ),
        ("local.d/arc.conf", arc),
        (
            "local.d/actions.conf",
            ["# No action: the few symbols rspamd's built-in rules still add never reject, hold or mark a message."]
            + ["%s = null;" % action for action in ACTIONS],
        ),
        (
            "local.d/milter_headers.conf",
            [
                "# Only Authentication-Results (arc=), added beside the other checks' fields, none removed.",
                "use = [%s];" % q("authentication-results"),
                "skip_local = false;",
                "skip_authenticated = false;",
                "extended_spam_headers = false;",
                "routines {",
                "  authentication-results {",
                # rspamd's default (and 0) removes EVERY field of that name before it adds its own
                # (milter_headers.lua: `if remove then`, and 0 is true in Lua; 0 = all in the milter
                # reply): OpenDKIM's, OpenDMARC's and the SPF policy's results would be lost. Seen in the lab.
                "    remove = false;",
                "    # RFC 8617 results: a broken chain is arc=fail (rspamd says reject; that key points nowhere).",
                "    arc_symbols {",
                '      pass = "ARC_ALLOW";',
                '      fail = "ARC_REJECT";',
                '      reject = "MAILAUTH_ARC_UNUSED";',
                '      permerror = "ARC_INVALID";',
                '      temperror = "ARC_DNSFAIL";',
                '      none = "ARC_NA";',
                "    }",
                "  }",
                "}",
            ],
        ),
        (
            "local.d/settings.conf",
            [
                "# Every message: only the ARC (and DKIM signing) symbols run (no scoring, no other check).",
                "arc_only {",
                "  priority = high;",
                "  authenticated = true;",
                "  apply {",
                "    symbols_enabled = [%s];" % ", ".join(q(x) for x in s["symbols"]),
                "  }",
                "}",
                "arc_only_all {",
                "  priority = low;",
                "  ip = [%s];" % ", ".join(q(x) for x in ALL_ADDRESSES),
                "  apply {",
                "    symbols_enabled = [%s];" % ", ".join(q(x) for x in s["symbols"]),
                "  }",
                "}",
            ],
        ),
    ]
    if s["dkim"]["signing"]:
        result.append(("local.d/dkim_signing.conf", _rspamd_dkim.lines(s["dkim"], q)))
    result += [("override.d/worker-%s.inc" % w, ["enabled = false;"]) for w in DISABLED_WORKERS]
    result += [("override.d/%s.conf" % x, ["enabled = false;"]) for x in s["disabled_plugins"]]
    # Last: a configuration that includes the real one, checked with `rspamadm configtest -c` once every file
    # above is in place (config_files restores them all if the check fails).
    result.append((CHECK_FILE, ['.include "/etc/rspamd/rspamd.conf"']))
    return result


def config_files(s: t.Mapping[str, t.Any], header: str = "") -> t.List[t.Dict[str, t.Any]]:
    """The files argument of mailauth.core.config_files: each file of :func:`files` with a comment header."""
    head = header.rstrip("\n") + "\n" if header else ""
    out: t.List[t.Dict[str, t.Any]] = []
    for path, lines in files(s):
        entry: t.Dict[str, t.Any] = {
            "path": "/etc/rspamd/" + path,
            "content": head + "".join(line + "\n" for line in lines),
            "mode": "0644",
        }
        if path == CHECK_FILE:
            entry["validate"] = "rspamadm configtest -c %s"
        out.append(entry)
    return out
