# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Data that playbooks/site.yml derives between its plays, computed here rather than in Jinja."""

from __future__ import annotations

import typing as t


def dkim_entries(entries: t.Sequence[t.Mapping[str, t.Any]]) -> t.List[t.Dict[str, t.Any]]:
    """Each domain entry that has ``dkim``, reduced to ``name`` and ``dkim``.

    What mail_dns_info waits for after publishing: only the DKIM records, not the whole entry.
    """
    return [{"name": entry["name"], "dkim": entry["dkim"]} for entry in entries if "dkim" in entry]
