# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Field helpers for record intents: lists, known keys, choices and number ranges."""

from __future__ import annotations

from ansible_collections.mailauth.core.plugins.module_utils._names import RecordError


def as_list(value, what: str) -> list:
    if value is None:
        return []
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise RecordError("%s must be a list, got %r" % (what, value))


def check_keys(data: dict, allowed: tuple, what: str) -> None:
    if not isinstance(data, dict):
        raise RecordError("%s must be a dictionary, got %r" % (what, data))
    unknown = sorted(k for k in data if k not in allowed)
    if unknown:
        raise RecordError("%s: unknown option(s) %s (known: %s)" % (what, ", ".join(unknown), ", ".join(allowed)))


def choice(value, allowed: tuple, what: str) -> str:
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        raise RecordError("%s must be one of %s, got %r" % (what, ", ".join(allowed), value))
    return value.strip().lower()


def int_range(value, low: int, high: int, what: str) -> int:
    if isinstance(value, bool):
        raise RecordError("%s must be a number, got %r" % (what, value))
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise RecordError("%s must be a whole number, got %r" % (what, value)) from None
    if not low <= number <= high:
        raise RecordError("%s must be between %d and %d, got %d" % (what, low, high, number))
    return number
