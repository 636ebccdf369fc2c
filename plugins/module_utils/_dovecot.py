# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dovecot configuration: the dovecot role's variables validated into what local.conf renders.

Dovecot is the SASL authority of Postfix's submission service (auth only); :func:`build` checks
every value that reaches ``/etc/dovecot/local.conf`` with :mod:`_input`.
"""

from __future__ import annotations

import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _input
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems

MECHANISM = r"[A-Za-z0-9-]+"


def build(v: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """Validate the dovecot role's variables (names without ``dovecot_``); return what the templates render."""
    p = Problems()
    field = "dovecot_sasl_mechanisms"
    mechanisms = p.check(_input.string_list, v["sasl_mechanisms"], field) or []
    out: t.Dict[str, t.Any] = {
        "sasl_mechanisms": [
            p.match(m, "%s[%d]" % (field, i), MECHANISM, "a mechanism") for i, m in enumerate(mechanisms)
        ],
    }
    if not mechanisms and not p.items:
        p.add("%s must name at least one mechanism" % field)
    p.raise_any()
    return out
