# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A service role's settings: problems collected across all variables, and extras that may not override.

Used by :mod:`_postfix` and :mod:`_opendkim`; the validators themselves are :mod:`_input`'s.
"""

from __future__ import annotations

import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _input
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError


class Problems:
    """Collects problems; each is one sentence naming the variable."""

    def __init__(self) -> None:
        self.items: t.List[str] = []

    def check(self, func: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Run a validator; keep its message and return None if it fails."""
        try:
            return func(*args, **kwargs)
        except InputError as err:
            self.items.append(str(err))
            return None

    def match(self, value: t.Any, field: str, pattern: str, what: str) -> t.Optional[str]:
        """_input.match, kept as a problem."""
        return self.check(_input.match, pattern, value, field, what)

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_any(self) -> None:
        """Raise one InputError with every problem, if there is any."""
        if self.items:
            raise InputError("; ".join(self.items))


def extras(
    raw: t.Any,
    field: str,
    p: Problems,
    name: t.Callable[[t.Any, str], str],
    value: t.Callable[[t.Any, str], str],
    managed: t.Collection[str],
    fold: t.Callable[[str], str] = str,
    how: str = "",
) -> t.List[t.List[str]]:
    """Checked [name, value] pairs of an extras dict, sorted; names are compared as the daemon compares them (fold).

    A name the role manages (its folded form in managed) or given twice is a problem naming the key.
    """
    if not isinstance(raw, dict):
        p.add("%s must be a dictionary (name: value), got %r" % (field, raw))
        return []
    out: t.List[t.List[str]] = []
    seen: t.Dict[str, str] = {}
    for raw_name, raw_value in raw.items():
        where = "%s[%r]" % (field, raw_name)
        checked_name = p.check(name, raw_name, where)
        checked_value = p.check(value, raw_value, where)
        if checked_name is None or checked_value is None:
            continue
        key = fold(checked_name)
        if key in managed:
            p.add("%s sets %s, which the role manages%s" % (where, checked_name, how))
        elif key in seen:
            p.add("%s sets %s a second time (also %s)" % (where, checked_name, seen[key]))
        else:
            seen[key] = where
            out.append([checked_name, checked_value])
    return sorted(out)
