# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The model of playbooks/check.yml: one status per domain from what mail_dns_info read on every
authoritative nameserver and what dkim_key read on the signing hosts.

Severity rules (the JSON report's ``severity``): ``error`` when a nameserver serves a wrong or no
record that the inventory expects, a DKIM key on a host does not match the key DNS serves (or
cannot be read), or lint reports an error (SPF over 10 lookups is one); ``warning`` for lint
warnings; ``ok`` otherwise. Key material never enters the model: a key is named by its fingerprint.
"""

from __future__ import annotations

import typing as t

from ansible_collections.mailauth.core.plugins.module_utils._dkim_record import keys_equal
from ansible_collections.mailauth.core.plugins.module_utils._reporting import POLICY_KINDS, is_dmarc
from ansible_collections.mailauth.core.plugins.module_utils._txt import is_spf, parse_tag_list, txt_equal

# Version of the JSON shape: bumped when a key is removed or changes meaning (keys may be added).
FORMAT = 1
SEVERITIES = ("ok", "warning", "error")
# What a selector can be (mailauth.core.dkim_rotation's states; due: a rotation step is due; revoked: retired by an
# emergency rotation, published with an empty p= until its grace is over).
SELECTOR_STATES = ("future", "active", "retired", "revoked", "due")
# The keys of a domain entry that mail_dns_info compares with what DNS serves.
_EXPECTED_KEYS = ("spf", "dmarc", *(policy.kind for policy in POLICY_KINDS))


def _p(value: str) -> str | None:
    tags = dict(parse_tag_list(value) or [])
    return "".join(tags["p"].split()) if "p" in tags else None


def _key_served(values: t.Sequence, p_value: str) -> bool:
    return any(_p(v) and keys_equal(_p(v), p_value) for v in values)


def selector_states(plan: t.Optional[t.Sequence[t.Mapping[str, t.Any]]]) -> dict[tuple[str, str], str]:
    """``{(domain, selector): state}`` from mailauth.core.dkim_rotation's plan of one host.

    ``due``: a retired selector past its grace (awaiting removal) or an active one past the interval.
    ``revoked``: a selector an emergency rotation revoked (until it is removed, past its grace too).
    """
    out: dict[tuple[str, str], str] = {}
    for item in plan or []:
        domain = item["domain"]
        for name in item.get("future") or []:
            out[(domain, name)] = "future"
        for name in item.get("retired") or []:
            out[(domain, name)] = "due" if name in (item.get("remove") or []) else "retired"
        for name in item.get("revoked") or []:
            out[(domain, name)] = "revoked"
        out[(domain, item["active"])] = "due" if item.get("due") else "active"
    return out


def host_keys(
    host: str, results: t.Sequence[t.Mapping[str, t.Any]], plan: t.Optional[t.Sequence[t.Mapping[str, t.Any]]] = None
) -> list[dict]:
    """dkim_key's ``dkim_keys`` of one host reduced to what the report needs (no key material).

    plan: the host's rotation plan (mailauth.core.dkim_rotation); each key's ``state`` comes from it (default active).
    """
    states = selector_states(plan)
    return [
        {
            "host": host,
            "domain": key["domain"],
            "selector": key["selector"],
            "key_type": key.get("key_type"),
            "p": _p(key["value"]) if key.get("value") else None,
            "fingerprint": key.get("fingerprint"),
            "state": states.get((key["domain"], key["selector"]), "active"),
        }
        for key in results
    ]


def _keys_by_domain(keys: t.Sequence[t.Mapping[str, t.Any]]) -> dict[str, dict[str, list]]:
    out: dict[str, dict[str, list]] = {}
    for key in keys:
        out.setdefault(key["domain"], {}).setdefault(key["selector"], []).append(key)
    return out


def dns_specs(domains: t.Sequence[t.Mapping[str, t.Any]], keys: t.Sequence[t.Mapping[str, t.Any]]) -> list[dict]:
    """mail_dns_info's ``domains``: each inventory entry's expected records and its hosts' DKIM keys."""
    by_domain = _keys_by_domain(keys)
    out = []
    for entry in domains:
        name = str(entry["name"]).lower().rstrip(".")
        spec: dict = {"name": name}
        for key in _EXPECTED_KEYS:
            if entry.get(key) is not None:
                spec[key] = entry[key]
        spec["dkim"] = []
        for selector, found in sorted(by_domain.get(name, {}).items()):
            p_values = sorted({k["p"] for k in found if k["p"]})
            item = {"selector": selector}
            if any(k.get("state") == "revoked" for k in found):
                item.update(revoked=True, key_type=next((k["key_type"] for k in found if k.get("key_type")), "rsa"))
            elif len(p_values) == 1:
                item["public_key"] = p_values[0]
            spec["dkim"].append(item)
        out.append(spec)
    return out


def unread_hosts(domains: t.Sequence[t.Mapping[str, t.Any]], read: t.Sequence[str]) -> dict[str, list[str]]:
    """Per domain, the hosts of its ``mail_hosts`` whose keys were not read (unreachable, failed)."""
    out = {}
    for entry in domains:
        missing = sorted(set(entry.get("mail_hosts") or []) - set(read))
        if missing:
            out[str(entry["name"]).lower().rstrip(".")] = missing
    return out


def _problem(severity: str, check: str, record: str, message: str, code: str = "") -> dict:
    return {"severity": severity, "check": check, "record": record, "code": code or check, "message": message}


def _servers(info: t.Mapping[str, t.Any]) -> list[tuple[str, str]]:
    """(label, address) of every nameserver queried; one ("dns", None) when served is empty."""
    names: dict[str, str] = {}
    for ns in info.get("nameservers") or []:
        names.setdefault(ns["address"], ns["name"])
    return [("%s (%s)" % (names[a], a) if a in names else a, a) for a in sorted(info.get("served") or {})]


def _record_problems(info: t.Mapping[str, t.Any]) -> list[dict]:
    """An error for every nameserver that does not serve an expected SPF, DMARC, MTA-STS or TLS-RPT record."""
    checks = [("spf", info["spf"], is_spf), ("dmarc", info["dmarc"], is_dmarc)]
    checks += [(p.kind, info.get(p.kind) or {}, p.owns) for p in POLICY_KINDS]
    problems = []
    servers = _servers(info)
    for kind, item, owns in checks:
        expected = item.get("expected")
        if not expected:
            continue
        label = "SPF" if kind == "spf" else kind.upper().replace("_", "-")
        views = [(label_, info["served"][address].get(item["name"]) or []) for label_, address in servers]
        if not servers:
            views = [("DNS", item["records"])]
        for server, values in views:
            records = [v for v in values if owns(v)]
            if len(records) == 1 and txt_equal(records[0], expected):
                continue
            if not records:
                message = "%s serves no %s record (expected %r)" % (server, label, expected)
            else:
                message = "%s serves %s %s, expected %r" % (
                    server,
                    label,
                    " and ".join(repr(r) for r in records),
                    expected,
                )
            problems.append(_problem("error", kind, item["name"], message, "%s-mismatch" % kind.replace("_", "-")))
    return problems


def _selectors(info: t.Mapping[str, t.Any], keys: t.Mapping[str, list]) -> tuple[list[dict], list[dict]]:
    """Each selector of the domain (state, hosts, fingerprint, match) and its problems."""
    servers = _servers(info)
    read = {item["selector"]: item for item in info.get("dkim") or []}
    selectors, problems = [], []
    for selector, found in sorted(keys.items()):
        name = "%s._domainkey.%s" % (selector, info["name"])
        hosts = sorted({k["host"] for k in found})
        p_values = {k["p"] for k in found if k["p"]}
        missing = sorted(k["host"] for k in found if not k["p"])
        entry = {
            "selector": selector,
            "state": next((k["state"] for k in found if k.get("state")), "active"),
            "name": name,
            "hosts": hosts,
            "key_type": next((k["key_type"] for k in found if k["key_type"]), None),
            "fingerprint": next((k["fingerprint"] for k in found if k["fingerprint"]), None),
            "key_match": None,
            "served": {},
        }
        # A revoked key never signs: its key file no longer matters.
        if entry["state"] == "revoked":
            problems += _revoked(entry, servers, info, read.get(selector) or {})
            selectors.append(entry)
            continue
        if missing:
            problems.append(
                _problem("error", "dkim", name, "no private key for selector %s on %s" % (selector, ", ".join(missing)))
            )
        if len(p_values) > 1:
            problems.append(
                _problem("error", "dkim", name, "hosts %s hold different keys for one selector" % ", ".join(hosts))
            )
        if len(p_values) == 1:
            p_value = next(iter(p_values))
            views = [(label, address, info["served"][address].get(name) or []) for label, address in servers]
            if not servers:
                views = [("DNS", "dns", (read.get(selector) or {}).get("records") or [])]
            for label, address, values in views:
                ok = _key_served(values, p_value)
                entry["served"][address] = ok
                if ok:
                    continue
                if any(_p(v) for v in values):
                    message = "%s serves another public key than the private key on %s" % (label, ", ".join(hosts))
                    problems.append(_problem("error", "dkim", name, message, "dkim-key-mismatch"))
                else:
                    message = "%s serves no DKIM key for selector %s" % (label, selector)
                    problems.append(_problem("error", "dkim", name, message, "dkim-missing"))
            entry["key_match"] = all(entry["served"].values()) if entry["served"] else None
        selectors.append(entry)
    return selectors, problems


def _revoked(entry: dict, servers: list, info: t.Mapping[str, t.Any], read: t.Mapping[str, t.Any]) -> list[dict]:
    """A revoked selector: a warning while every server serves it revoked (p= empty), an error if one serves a key."""
    name, selector = entry["name"], entry["selector"]
    views = [(label, address, info["served"][address].get(name) or []) for label, address in servers]
    if not servers:
        views = [("DNS", "dns", read.get("records") or [])]
    keyed, absent = [], []
    for label, address, values in views:
        entry["served"][address] = bool(values) and all(_p(v) == "" for v in values)
        if any(_p(v) for v in values):
            keyed.append(label)
        elif not values:
            absent.append(label)
    if keyed:
        message = "%s still serve%s the key of revoked selector %s: mail signed with it still verifies" % (
            ", ".join(keyed),
            "s" if len(keyed) == 1 else "",
            selector,
        )
        return [_problem("error", "dkim", name, message, "dkim-not-revoked")]
    if absent:
        message = "%s serve%s no record for revoked selector %s (removed before its grace ended)" % (
            ", ".join(absent),
            "s" if len(absent) == 1 else "",
            selector,
        )
        return [_problem("warning", "dkim", name, message, "dkim-revoked")]
    message = "selector %s is revoked (p= empty on every server): mail signed with it fails DKIM" % selector
    return [_problem("warning", "dkim", name, message, "dkim-revoked")]


def domain_status(info: t.Mapping[str, t.Any], keys: t.Mapping[str, list], unread_hosts: t.Sequence[str]) -> dict:
    """One domain of the report from its mail_dns_info result and its keys ({selector: [key, ...]})."""
    problems = [
        _problem("error", "keys", info["name"], "the DKIM keys on %s could not be read" % host) for host in unread_hosts
    ]
    problems += _record_problems(info)
    selectors, dkim_problems = _selectors(info, keys)
    problems += dkim_problems
    reported = {(p["record"], p["code"]) for p in problems}
    for item in info.get("findings") or []:
        # mail_dns_info's own "missing" errors duplicate the per-nameserver ones above.
        if (item["record"], item["code"]) in reported:
            continue
        problems.append(_problem(item["severity"], "lint", item["record"], item["message"], item["code"]))
    severity = "ok"
    for problem in problems:
        if SEVERITIES.index(problem["severity"]) > SEVERITIES.index(severity):
            severity = problem["severity"]
    problems.sort(key=lambda p: -SEVERITIES.index(p["severity"]))
    return {
        "name": info["name"],
        "severity": severity,
        "zone": info.get("zone"),
        "nameservers": [dict(ns) for ns in info.get("nameservers") or []],
        "spf": {
            "records": list(info["spf"]["records"]),
            "expected": info["spf"]["expected"],
            "lookups": info["spf"]["lookups"],
            "void_lookups": info["spf"]["void_lookups"],
        },
        "dmarc": {"records": list(info["dmarc"]["records"]), "expected": info["dmarc"]["expected"]},
        "selectors": selectors,
        "problems": problems,
    }


def build(
    dns_info: t.Mapping[str, t.Any],
    keys: t.Sequence[t.Mapping[str, t.Any]],
    unread: t.Mapping[str, t.Sequence[str]] | None = None,
    generated: str = "",
) -> dict:
    """The whole report: mail_dns_info's result, every host's keys (host_keys) and, per domain,
    the hosts whose keys could not be read."""
    by_domain = _keys_by_domain(keys)
    domains = [
        domain_status(info, by_domain.get(info["name"], {}), (unread or {}).get(info["name"], []))
        for info in dns_info["domains"]
    ]
    counts = {severity: len([d for d in domains if d["severity"] == severity]) for severity in SEVERITIES}
    return {
        "format": FORMAT,
        "generated": generated,
        "summary": dict(domains=len(domains), **counts),
        "broken": [summary_line(d) for d in domains if d["severity"] == "error"],
        "domains": domains,
    }


def summary_line(domain: t.Mapping[str, t.Any]) -> str:
    """One line for a broken domain: its name and its errors."""
    errors = [p["message"] for p in domain["problems"] if p["severity"] == "error"]
    return "%s: %s" % (domain["name"], "; ".join(errors))
