# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Planning: the desired records (``_entries.desired_items``) against what a provider holds.

Rules (docs/dns-design.md):

- The module owns only its names, and at the domain apex only the SPF value: every other TXT
  value there (e.g. ``google-site-verification=...``) is kept, byte for byte.
- SPF is merged with an existing SPF record (``spf_merge``: merge | replace | keep) through
  ``_spf.merge_spf``; the result never holds two SPF records.
- Values are compared semantically (``_txt.txt_equal``): ``"a" "b"`` equals ``"ab"``, so a value
  published in another split or spacing is not rewritten (no endless drift).
- ``state: absent`` removes only the values the module manages.
- At a name shared with foreign values the existing TTL is kept (changing it would change the
  foreign records too); elsewhere the entry's ``ttl`` is applied.
"""

from __future__ import annotations

import typing as t

from ansible_collections.mailauth.core.plugins.module_utils._entries import DesiredRecord
from ansible_collections.mailauth.core.plugins.module_utils._provider import (
    Change,
    Provider,
    ProviderError,
    RecordSet,
    name_in_zone,
    normalize_name,
)
from ansible_collections.mailauth.core.plugins.module_utils._spf import merge_spf
from ansible_collections.mailauth.core.plugins.module_utils._txt import is_spf, to_zone_text, txt_equal


class Plan(t.NamedTuple):
    """The outcome of planning."""

    changes: dict  # zone -> [Change], zones in first-seen order
    records: list  # one dict per managed record set (what the module manages)
    entries: list  # one dict per change: zone, name, type, action, before, after


def _owner_domain(item: DesiredRecord) -> str:
    """The domain whose zone holds the record (the report domain for ``_report._dmarc``)."""
    if item.kind == "report":
        return item.rrset.name.split("._report._dmarc.", 1)[1]
    return item.domain


def resolve_zones(provider: Provider, items: list[DesiredRecord]) -> list[str]:
    """The zone of each item: the entry's ``zone``, else the provider's ``find_zones`` (one batch)."""
    unknown = sorted({_owner_domain(i) for i in items if not i.zone})
    found = provider.find_zones(unknown) if unknown else {}
    zones = []
    for item in items:
        zone = normalize_name(item.zone) if item.zone else found[normalize_name(_owner_domain(item))]
        if not name_in_zone(item.rrset.name, zone):
            raise ProviderError("%s: record %s is not inside zone %s" % (item.domain, item.rrset.name, zone))
        zones.append(zone)
    return zones


def _match(existing: list[str], value: str) -> int | None:
    for index, candidate in enumerate(existing):
        if txt_equal(candidate, value):
            return index
    return None


def _same_values(a: list[str], b: list[str]) -> bool:
    """Multiset equality under ``txt_equal``."""
    if len(a) != len(b):
        return False
    rest = list(b)
    for value in a:
        index = _match(rest, value)
        if index is None:
            return False
        rest.pop(index)
    return True


def _reuse(existing: list[str], wanted: list[str]) -> list[str]:
    """``wanted``, with each value replaced by a semantically equal existing one where there is one."""
    pool = list(existing)
    out = []
    for value in wanted:
        index = _match(pool, value)
        out.append(pool.pop(index) if index is not None else value)
    return out


def plan_item(item: DesiredRecord, existing: RecordSet | None) -> tuple[RecordSet | None, list[str]]:
    """The RRset to hold at ``item``'s name afterwards (None: no RRset) and the values we manage."""
    rrset = item.rrset
    before_values = list(existing.values) if existing is not None else []
    present = item.state == "present"
    foreign: list[str] = []
    if item.kind == "spf":
        desired_spf = rrset.values[0] if present and rrset.values else None
        after_values = merge_spf(before_values, desired_spf, item.spf_merge)
        after_values = _reuse(before_values, after_values)
        managed = [v for v in after_values if is_spf(v)] if present else []
        foreign = [v for v in after_values if not is_spf(v)]
    else:
        after_values = _reuse(before_values, list(rrset.values)) if present else []
        managed = list(after_values)
    if not after_values:
        return None, managed
    ttl = rrset.ttl
    if existing is not None and foreign:
        ttl = existing.ttl
    return RecordSet(rrset.name, rrset.rtype, ttl, after_values), managed


def change_for(before: RecordSet | None, after: RecordSet | None) -> Change | None:
    """The change from ``before`` to ``after`` (None when they mean the same)."""
    if before is None and after is None:
        return None
    if before is None:
        return Change("create", None, after)
    if after is None:
        return Change("delete", before, None)
    if before.ttl == after.ttl and _same_values(before.values, after.values):
        return None
    return Change("update", before, after)


def build_plan(provider: Provider, items: list[DesiredRecord]) -> Plan:
    """Read what the provider holds (one batched read per zone) and plan every change."""
    zones = resolve_zones(provider, items)
    names_by_zone: dict[str, dict[str, list[str]]] = {}
    for item, zone in zip(items, zones):
        names_by_zone.setdefault(zone, {}).setdefault(item.rrset.rtype, []).append(item.rrset.name)
    existing: dict[tuple[str, str], RecordSet] = {}
    for zone, by_type in names_by_zone.items():
        for rtype, names in by_type.items():
            for name, rrset in provider.get_rrsets(zone, names, rtype).items():
                existing[(name, rtype)] = rrset
    changes: dict[str, list[Change]] = {zone: [] for zone in names_by_zone}
    records, entries = [], []
    for item, zone in zip(items, zones):
        key = (item.rrset.name, item.rrset.rtype)
        before = existing.get(key)
        after, managed = plan_item(item, before)
        change = change_for(before, after)
        records.append(
            {
                "domain": item.domain,
                "kind": item.kind,
                "zone": zone,
                "name": item.rrset.name,
                "type": item.rrset.rtype,
                "ttl": after.ttl if after is not None else item.rrset.ttl,
                "state": item.state,
                "values": managed,
                "changed": change is not None,
            }
        )
        if change is None:
            continue
        changes[zone].append(change)
        entries.append(
            {
                "zone": zone,
                "name": change.name,
                "type": change.rtype,
                "action": change.action,
                "before": change.before.to_dict() if change.before is not None else None,
                "after": change.after.to_dict() if change.after is not None else None,
            }
        )
    return Plan({z: c for z, c in changes.items() if c}, records, entries)


def rrset_text(rrset: RecordSet | None) -> str:
    """Zone-file lines of an RRset, for diff output."""
    if rrset is None:
        return ""
    lines = []
    for value in rrset.values:
        text = to_zone_text(value) if rrset.rtype == "TXT" else value
        lines.append("%s. %d IN %s %s\n" % (rrset.name, rrset.ttl, rrset.rtype, text))
    return "".join(lines)


def diff_for(plan: Plan) -> list[dict]:
    """Ansible diff dicts (before/after zone-file text), one per changed name."""
    out = []
    for zone, changes in plan.changes.items():
        for change in changes:
            header = "%s %s (zone %s)" % (change.name, change.rtype, zone)
            out.append(
                {
                    "before_header": header,
                    "after_header": header,
                    "before": rrset_text(change.before),
                    "after": rrset_text(change.after),
                }
            )
    return out
