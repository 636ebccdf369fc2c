# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Postfix cleanup's header_checks for the tests: a regexp: table applied to one logical header.

Each rule is ``/pattern/ ACTION [text]``; the first rule whose pattern matches decides (as in
header_checks(5)); REPLACE substitutes ``$1``..``$9`` and its result is not checked again, IGNORE
removes the header. The patterns are the roles' POSIX EREs; the one POSIX class they use,
``[[:space:]]``, becomes Python's ``\\s``, matching is case-insensitive (the table's default ``i``).
The real Postfix runs the same rules in the containers and the lab.
"""

from __future__ import annotations

import re
import typing as t

RULE = re.compile(r"/((?:[^/\\]|\\.)+)/[ \t]+([A-Z]+)(?:[ \t]+(.*))?", re.S)


def compile_rule(rule: str) -> t.Tuple[t.Pattern[str], str, str]:
    found = RULE.fullmatch(rule)
    assert found, rule
    pattern, action, text = found.groups()
    return re.compile(pattern.replace("[[:space:]]", r"\s"), re.I | re.S), action, text or ""


def _substitute(text: str, groups: t.Sequence[t.Optional[str]]) -> str:
    """$1..$9 of a REPLACE text."""
    return re.sub(r"\$([1-9])", lambda m: groups[int(m.group(1)) - 1] or "", text)


def cleanup(rules: t.Sequence[str], header: str) -> t.Optional[str]:
    """The header as cleanup writes it (None: removed)."""
    for rule in rules:
        pattern, action, text = compile_rule(rule)
        found = pattern.search(header)
        if not found:
            continue
        if action == "IGNORE":
            return None
        if action == "REPLACE":
            return _substitute(text, found.groups())
        return header
    return header
