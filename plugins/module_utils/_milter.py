# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the milter roles share: the socket, the daemon settings, the extra settings and the result.

Used by :mod:`_opendkim`, :mod:`_opendmarc`, :mod:`_dkimpy_milter` and :mod:`_arc`: the one socket syntax, the
one place that turns a socket into Postfix's milter address and into the directory the role
creates, and the checks every Sendmail-style milter daemon (OpenDKIM, OpenDMARC) applies the same
way (AutoRestartRate, host lists, extra settings, config sections).
"""

from __future__ import annotations

import posixpath
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _input
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems, extras

_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
SOCKET = r"inet6?:" + _PORT + r"@(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])|local:/[A-Za-z0-9_./\-]+"
SOCKET_WHAT = "inet:PORT@HOST (port 1-65535) or local:/absolute/path"
# A setting name as OpenDKIM and OpenDMARC read it (case-insensitively).
SETTING_NAME = r"[A-Za-z][A-Za-z0-9]*"
# AutoRestartRate: n/t, t in seconds or with a unit.
RESTART_RATE = r"[0-9]+/[0-9]+[smhdSMHD]?"


def postfix_address(socket: str, queue_directory: str) -> str:
    """How Postfix reaches a (checked) milter socket.

    ``inet:PORT@HOST`` becomes ``inet:HOST:PORT``; a unix socket below Postfix's queue directory
    becomes a path relative to it (valid inside and outside the chroot); other unix sockets keep
    their absolute path.
    """
    if socket.startswith("local:"):
        path = socket[len("local:") :]
        below = queue_directory.rstrip("/") + "/"
        return "unix:" + (path[len(below) :] if path.startswith(below) else path)
    port, host = socket.split(":", 1)[1].split("@", 1)
    return "inet:%s:%s" % (host, port)


def socket_directory(socket: str) -> t.Optional[str]:
    """The directory of a unix socket (the role creates it, owned by the milter's user); None for inet."""
    return posixpath.dirname(socket[len("local:") :]) if socket.startswith("local:") else None


def wait_target(socket: str) -> t.Dict[str, t.Any]:
    """What ansible.builtin.wait_for waits on for a (checked) socket: ``path``, or ``host`` and ``port``."""
    if socket.startswith("local:"):
        return {"path": socket[len("local:") :]}
    port, host = socket.split(":", 1)[1].split("@", 1)
    return {"host": host[1:-1] if host.startswith("[") else host, "port": int(port)}


def addresses(out: t.Dict[str, t.Any]) -> None:
    """Complete a checked ``out["socket"]``: Postfix's milter address, the socket directory, the wait target."""
    out["postfix_milter"] = postfix_address(out["socket"], out["postfix_queue_directory"])
    out["socket_directory"] = socket_directory(out["socket"])
    out["wait"] = wait_target(out["socket"])


def setting_value(value: t.Any, field: str) -> str:
    """A config file value: one line (a boolean is yes/no, a list is joined with commas)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(_input.string_list(value, field))
    return _input.text(value, field, scalars=True).strip()


def hosts(value: t.Any, field: str, p: Problems) -> t.List[str]:
    """A list of hosts (IP, CIDR or name), each checked; problems kept in p."""
    items = p.check(_input.string_list, value, field)
    return [
        h for h in (p.check(_input.host_or_network, h, "%s[%d]" % (field, i)) for i, h in enumerate(items or [])) if h
    ]


def daemon(v: t.Mapping[str, t.Any], prefix: str, p: Problems, out: t.Dict[str, t.Any]) -> None:
    """Check the socket, Postfix's queue directory and (with ``out["auto_restart"]``) AutoRestartRate into out."""
    out["socket"] = p.match(v["socket"], prefix + "socket", SOCKET, SOCKET_WHAT)
    out["postfix_queue_directory"] = p.check(
        _input.absolute_path, v["postfix_queue_directory"], prefix + "postfix_queue_directory"
    )
    if out["auto_restart"]:
        out["auto_restart_rate"] = p.match(
            v["auto_restart_rate"],
            prefix + "auto_restart_rate",
            RESTART_RATE,
            "n/t with t in seconds or with s, m, h or d (e.g. 10/1h)",
        )


def conf_extra(
    v: t.Mapping[str, t.Any], prefix: str, p: Problems, daemon_name: str, managed: t.AbstractSet[str]
) -> t.List[t.List[str]]:
    """The checked ``<prefix>conf_extra`` settings; a setting the role writes (``managed``, lower case) is refused."""
    return extras(
        v["conf_extra"],
        prefix + "conf_extra",
        p,
        lambda x, y: _input.match(SETTING_NAME, x, y, "an %s setting name (letters, digits)" % daemon_name),
        setting_value,
        managed,
        fold=str.lower,
        how=" (%s reads names case-insensitively)" % daemon_name,
    )


def finish(
    out: t.Dict[str, t.Any],
    p: Problems,
    sections: t.Callable[[t.Mapping[str, t.Any]], t.Iterable[t.Tuple[str, t.Sequence[t.Tuple[str, t.Any]]]]],
    extra: t.List[t.List[str]],
    prefix: str,
) -> t.Dict[str, t.Any]:
    """Raise every problem found, else complete out: the config sections (extras last) and Postfix's address.

    ``sections(out)`` lists the role's (comment, settings) pairs; it runs only on checked values.
    """
    p.raise_any()
    conf = [{"comment": c, "settings": [[n, val] for n, val in s if val is not None]} for c, s in sections(out)]
    if extra:
        conf.append({"comment": "Extra settings (%sconf_extra)" % prefix, "settings": extra})
    out["conf"] = conf
    addresses(out)
    return out
