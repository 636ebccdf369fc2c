# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DKIM signing with rspamd (the arc role's opt-in ``arc_dkim_signing``): validated into dkim_signing.conf.

The keys are the active keys the opendkim role resolved (``opendkim_rsa_keys`` + ``opendkim_ed25519_keys``),
the same truth OpenDKIM and dkimpy-milter sign with; rspamd reads its own copies (mailauth.core.rspamd_dkim_keys).
Only authenticated clients and the networks of ``arc_dkim_sign_networks`` (OpenDKIM's InternalHosts) are signed,
never inbound mail; no Redis, no fallback key, the From: domain exactly (no eSLD).
"""

from __future__ import annotations

import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _input, _rspamd_keys
from ansible_collections.mailauth.core.plugins.module_utils._dkim_record import DKIM_KEY_TYPES
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems

# The plugin and the symbol signing needs (kept beside ARC's).
PLUGIN = "dkim_signing"
SYMBOLS = ("DKIM_SIGNED",)
SAFE_PATH = r"/[A-Za-z0-9._+-]+(?:/[A-Za-z0-9._+-]+)*"


def build(v: t.Mapping[str, t.Any], p: Problems) -> t.Dict[str, t.Any]:
    """Validate the signing variables (names without ``arc_``); the keys without any key material."""

    def f(name: str) -> str:
        return "arc_dkim_" + name

    on = v.get("dkim_signing")
    if not isinstance(on, bool):
        p.add("arc_dkim_signing must be true or false, got %r" % (on,))
    out: t.Dict[str, t.Any] = {"signing": on is True, "keys": [], "sign_networks": []}
    if not out["signing"]:
        return out
    # A path rspamd reads unquoted-safe: the key copies' names are built from it.
    out["key_dir"] = p.match(v["dkim_key_dir"], f("key_dir"), SAFE_PATH, "an absolute path of letters, digits and ._+-")
    out["source_key_dir"] = p.check(_input.absolute_path, v["dkim_source_key_dir"], f("source_key_dir"))
    keys = v["dkim_keys"]
    if not isinstance(keys, list):
        p.add("%s must be a list of keys ({domain, selector, key_type}), got %s" % (f("keys"), type(keys).__name__))
        keys = []
    seen: t.Set[t.Tuple[str, str]] = set()
    for i, k in enumerate(keys):
        where = "%s[%d]" % (f("keys"), i)
        if not isinstance(k, dict):
            p.add("%s must be a dictionary, got %s" % (where, type(k).__name__))
            continue
        domain = p.check(_input.domain, k.get("domain"), where + ".domain")
        selector = p.check(_input.selector, k.get("selector"), where + ".selector")
        key_type = p.check(_input.choice, k.get("key_type", "rsa"), where + ".key_type", DKIM_KEY_TYPES)
        if k.get("subdomains"):
            p.add(
                "%s.subdomains: rspamd signs the From: domain exactly (use_esld = false); list each subdomain"
                " as a domain of its own, or sign with OpenDKIM" % where
            )
        if domain and selector and key_type:
            if (domain, selector) in seen:
                p.add("%s: %s/%s is listed twice" % (where, domain, selector))
                continue
            seen.add((domain, selector))
            out["keys"].append({"domain": domain, "selector": selector, "key_type": key_type})
    nets = p.check(_input.string_list, v["dkim_sign_networks"], f("sign_networks")) or []
    for i, n in enumerate(nets):
        net = p.check(
            _input.network, n, "%s[%d] (an address or network; rspamd reads no host name)" % (f("sign_networks"), i)
        )
        if net is not None:
            out["sign_networks"].append(str(net))
    return out


def lines(s: t.Mapping[str, t.Any], quote: t.Callable[[str], str]) -> t.List[str]:
    """local.d/dkim_signing.conf for checked settings: one ``domain`` entry per domain, one selector per key."""
    q = quote
    out = [
        "# Signs for authenticated clients and sign_networks only; never inbound mail.",
        "enabled = true;",
        "sign_authenticated = true;",
        "sign_local = false;",
        "sign_inbound = false;",
        "auth_only = true;",
        "sign_networks = [%s];" % ", ".join(q(n) for n in s["sign_networks"]),
        "# As OpenDKIM: the From: domain decides, whatever the envelope sender and the login.",
        'use_domain = "header";',
        "use_esld = false;",
        "allow_hdrfrom_mismatch = true;",
        "allow_username_mismatch = true;",
        "allow_envfrom_empty = true;",
        "use_redis = false;",
        "try_fallback = false;",
        "check_pubkey = false;",
        "domain {",
    ]
    domains: t.Dict[str, t.List[t.Mapping[str, str]]] = {}
    for k in s["keys"]:
        domains.setdefault(k["domain"], []).append(k)
    for domain in sorted(domains):
        out += ["  %s {" % q(domain), "    selectors = ["]
        for k in domains[domain]:
            path = _rspamd_keys.key_path(s["key_dir"], k["domain"], k["selector"])
            out.append("      { selector = %s; path = %s; }," % (q(k["selector"]), q(path)))
        out += ["    ];", "  }"]
    out.append("}")
    return out
