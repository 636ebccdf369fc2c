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

from ansible_collections.mailauth.core.plugins.module_utils import _input, _milter, _opendkim
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems


def unbracketed(host: str) -> str:
    """An IPv6 entry without brackets (dkimpy-milter strips only a leading '[' and a final ']'); others as written."""
    if "[" not in host:
        return host
    net = _input.network(host, "dkimpy_milter_internal_hosts")
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


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
    }
    if out["socket"] and out["socket"] == v.get("opendkim_socket"):
        p.add("dkimpy_milter_socket and opendkim_socket must differ")
    internal_hosts = _opendkim.hosts(v["internal_hosts"], f("internal_hosts"), p)
    p.raise_any()
    # dkimpy-milter splits a one-token InternalHosts file line on ':' (so '::1' broke the whole list):
    # it gets the list inline, as a comma-separated dataset.
    out["internal_hosts"] = "csl:" + ",".join(unbracketed(h) for h in internal_hosts)
    out["postfix_milter"] = _milter.postfix_address(out["socket"], out["postfix_queue_directory"])
    out["socket_directory"] = _milter.socket_directory(out["socket"])
    return out
