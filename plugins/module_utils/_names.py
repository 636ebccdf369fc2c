# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Names in the record model: mail domains, zones, DKIM selectors, derived record names.

One checker per kind of name, built on :mod:`_input`; every problem raises :class:`RecordError`
with a message naming the field. ``check_text`` refuses control characters in a whole intent.
"""

from __future__ import annotations

from ansible_collections.mailauth.core.plugins.module_utils import _input


class RecordError(ValueError):
    """Invalid record intent or record value; the message is fit for a user."""


def check_domain(name, what: str = "domain name", allow_underscore: bool = False, min_labels: int = 2) -> str:
    """Validate a DNS name; return it absolute, lower case, ASCII (IDNA), without the trailing dot."""
    try:
        return _input.domain(name, what, min_labels=min_labels, underscore=allow_underscore)
    except _input.InputError as exc:
        raise RecordError(str(exc)) from None


def check_selector(selector, what: str = "DKIM selector") -> str:
    """Validate a DKIM selector (RFC 6376 3.1: dot-separated LDH labels); return it lower-cased."""
    if isinstance(selector, str) and "_domainkey" in selector.lower():
        raise RecordError("%s %r must not contain _domainkey; give the selector only" % (what, selector))
    try:
        return _input.selector(selector, what)
    except _input.InputError as exc:
        raise RecordError(str(exc)) from None


def check_name(name: str, what: str) -> str:
    """A record name built from checked parts (``_dmarc.<domain>``...): the DNS length limits again."""
    try:
        return _input.derived_name(name, what)
    except _input.InputError as exc:
        raise RecordError(str(exc)) from None


def check_text(value, what: str) -> None:
    """Refuse control characters (newline, NUL, tab...) in every string of an intent (dicts and lists too).

    ``public_key`` may hold the lines of a PEM; the key parser checks it.
    """
    try:
        _input.no_controls_deep(value, what, multiline=("public_key",))
    except _input.InputError as exc:
        raise RecordError(str(exc)) from None
