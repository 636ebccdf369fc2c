# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dkimpy-milter configuration: the dkimpy_milter role's variables validated into dkimpy-milter.conf.

:func:`build` checks every value that reaches dkimpy-milter.conf or its tables with :mod:`_input`
(names, hosts and syntax shared with :mod:`_opendkim`, whose keys it signs with ed25519) and
returns what the templates render.
"""

from __future__ import annotations

import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _input, _milter, _opendkim, _postfix
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems


def unbracketed(host: str) -> str:
    """An IPv6 entry without brackets (dkimpy-milter strips only a leading '[' and a final ']'); others as written."""
    if "[" not in host:
        return host
    net = _input.network(host, "dkimpy_milter_internal_hosts")
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def key_problems(keys: t.Any) -> t.List[str]:
    """What dkimpy-milter cannot sign, as sentences (empty when valid): more than one ed25519 key for a domain.

    dkimpy-milter applies the first SigningTable match, so a second key of a domain would never sign.
    """
    domains = [k.get("domain") for k in keys if isinstance(k, dict)] if isinstance(keys, list) else []
    if len(set(domains)) == len(domains):
        return []
    return [
        "each domain may have one ed25519 key (dkimpy-milter applies the first match), got "
        + ", ".join(str(d) for d in domains)
    ]


def _keys(raw: t.Any, pem_dir: t.Optional[str], key_dir: t.Optional[str], p: Problems) -> t.List[t.Dict[str, t.Any]]:
    """The ed25519 keys as rows: key name, domain, selector, subdomains, PEM source and dkimpy-milter's key file."""
    field = "dkimpy_milter_keys"
    if not isinstance(raw, list) or not all(isinstance(k, dict) for k in raw):
        p.add("%s must be a list of {domain, selector, subdomains} dictionaries, got %r" % (field, raw))
        return []
    for problem in key_problems(raw):
        p.add("%s: %s" % (field, problem))
    rows = []
    for index, key in enumerate(raw):
        domain = p.check(_input.domain, key.get("domain"), "%s[%d].domain" % (field, index))
        selector = p.check(_input.selector, key.get("selector"), "%s[%d].selector" % (field, index))
        subdomains = key.get("subdomains", False)
        if not isinstance(subdomains, bool):
            p.add("%s[%d].subdomains must be true or false, got %r" % (field, index, subdomains))
        if domain and selector and pem_dir and key_dir:
            name = "%s._domainkey.%s" % (selector, domain)
            rows.append(
                {
                    "name": name,
                    "domain": domain,
                    "selector": selector,
                    "subdomains": subdomains is True,
                    "source": "%s/%s/%s.private" % (pem_dir, domain, selector),
                    "target": "%s/%s.key" % (key_dir, name),
                }
            )
    return rows


def dual(ed25519_keys: t.Sequence[t.Mapping[str, t.Any]], rsa_keys: t.Any) -> bool:
    """Whether OpenDKIM's RSA keys (domain, subdomains) cover every ed25519 key: its mail is then RSA-signed too."""
    if not isinstance(rsa_keys, list):
        return False
    covered = {(k.get("domain"), k.get("subdomains", False) is True) for k in rsa_keys if isinstance(k, dict)}
    return bool(ed25519_keys) and all(
        (k["domain"], True) in covered or (not k["subdomains"] and (k["domain"], False) in covered)
        for k in ed25519_keys
    )


def build(v: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """Validate the dkimpy_milter role's variables (names without ``dkimpy_milter_``); return what the templates render.

    ``opendkim_socket`` (empty when OpenDKIM is not configured in the play) is the socket this one must differ from.
    """
    p = Problems()

    def f(name: str) -> str:
        return "dkimpy_milter_" + name

    out: t.Dict[str, t.Any] = {
        "socket": p.match(v["socket"], f("socket"), _milter.SOCKET, _milter.SOCKET_WHAT),
        "canonicalization": p.check(
            _input.choice, v["canonicalization"], f("canonicalization"), _opendkim.CANONICALIZATIONS
        ),
        "originating_daemon_name": p.match(
            v["originating_daemon_name"], f("originating_daemon_name"), _opendkim.DAEMON_NAME, "a daemon name"
        ),
        "pem_dir": p.check(_input.absolute_path, v["pem_dir"], f("pem_dir")),
        "key_dir": p.check(_input.absolute_path, v["key_dir"], f("key_dir")),
        "postfix_queue_directory": p.check(
            _input.absolute_path, v["postfix_queue_directory"], f("postfix_queue_directory")
        ),
        "pid_file": v["pid_file"],
        "default_action": p.check(
            _input.choice, v.get("default_action", "accept"), f("default_action"), _postfix.MILTER_ACTIONS
        ),
    }
    if out["socket"] and out["socket"] == v.get("opendkim_socket"):
        p.add("dkimpy_milter_socket and opendkim_socket must differ")
    internal_hosts = _milter.hosts(v["internal_hosts"], f("internal_hosts"), p)
    keys = _keys(v["keys"], out["pem_dir"], out["key_dir"], p)
    p.raise_any()
    # Named ed25519_keys, not keys: `settings.keys` in a template is the dictionary method.
    out["ed25519_keys"] = keys
    # dkimpy-milter matches one "*" as a suffix of the From: address and the first match wins:
    # exact domains first, then the subdomain patterns.
    out["signing_table"] = [["*@" + k["domain"], k["name"]] for k in keys] + [
        ["*." + k["domain"], k["name"]] for k in keys if k["subdomains"]
    ]
    # The arguments of files/dkimpy_ed25519_keys.py: SOURCE=TARGET per key.
    out["key_file_args"] = ["%s=%s" % (k["source"], k["target"]) for k in keys]
    # dkimpy-milter splits a one-token InternalHosts file line on ':' (so '::1' broke the whole list):
    # it gets the list inline, as a comma-separated dataset.
    out["internal_hosts"] = "csl:" + ",".join(unbracketed(h) for h in internal_hosts)
    _milter.addresses(out)
    # The postfix role's postfix_milter_actions for this milter: its own default action only where the mail it
    # signs is RSA-signed by OpenDKIM too (dual signing); else Postfix's global default applies.
    out["dual"] = dual(keys, v.get("rsa_keys", []))
    out["postfix_milter_actions"] = {out["postfix_milter"]: out["default_action"]} if out["dual"] else {}
    return out
