# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A milter's socket, as the milter roles take it (Sendmail style) and as Postfix reaches it.

Used by :mod:`_opendkim` and :mod:`_dkimpy_milter`: the one socket syntax, and the one place
that turns a socket into Postfix's milter address and into the directory the role creates.
"""

from __future__ import annotations

import posixpath
import typing as t

_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
SOCKET = r"inet6?:" + _PORT + r"@(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])|local:/[A-Za-z0-9_./\-]+"
SOCKET_WHAT = "inet:PORT@HOST (port 1-65535) or local:/absolute/path"


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
