# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DKIM key rotation: the state file of a signing host, its lock, and the plan of each slot.

A **slot** is one configured key: (domain, key_type, configured selector), what ``mailauth_domains``
or ``opendkim_keys`` yield. Each slot holds selectors in a state: ``future`` (key made, record being
published, not signing), ``active`` (signing; exactly one), ``retired`` (not signing, record published
until ``since + grace``; ``revoked`` after an emergency rotation: published with an empty ``p=``,
never signing). A selector is forgotten once removed.
No state for a slot means its configured selector is active (what every host had before rotation).

Pure Python (no Ansible import): the module ``dkim_rotation`` and the filter ``dkim_rotation_keys``
call it, and the unit tests test it directly. Times are seconds since the epoch (UTC) in the API and
ISO 8601 (``2026-12-02T06:30:00Z``) in the file.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import json
import os
import re
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _files, _input
from ansible_collections.mailauth.core.plugins.module_utils._dkim_record import DKIM_KEY_TYPES
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError

FORMAT = 1
STATES = ("future", "active", "retired")
DEFAULT_PATH = "/var/lib/mailauth/dkim-rotation.json"
DEFAULT_LOCK = "/var/lib/mailauth/dkim-rotation.lock"
# date-based: a new selector per rotation day, e.g. mx1-rsa-20261202.
DEFAULT_TEMPLATE = "{selector}-%Y%m%d"
ACTIONS = ("start", "switch", "remove", "none")
# Placeholders of a selector template: the slot's selector and key type, and UTC date/time fields.
TEMPLATE = re.compile(r"(?:[A-Za-z0-9.-]|\{selector\}|\{key_type\}|%[YmdHMSjy])+")
DURATION = re.compile(r"([0-9]{1,9})([smhdw]?)")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
ISO = "%Y-%m-%dT%H:%M:%SZ"

Slot = t.Dict[str, t.Any]
State = t.Dict[str, t.Any]


class RotationError(Exception):
    """Invalid input, a corrupt state file, or a lock held by another run; nothing was changed."""


# --------------------------------------------------------------------------- values


def duration(value: t.Any, field: str, default_unit: str = "s") -> int:
    """Seconds of ``180d``, ``12h``, ``7d``, ``3600`` (default_unit when no unit: Postfix's is ``d``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = _input.text(value, field).strip()
    m = DURATION.fullmatch(text)
    if not m:
        raise InputError("%s must be a duration such as 7d, 12h, 90m or 3600s, got %r" % (field, value))
    return int(m.group(1)) * UNITS[m.group(2) or default_unit]


def iso(ts: t.Optional[float]) -> t.Optional[str]:
    """ISO 8601 UTC text of an epoch time (None stays None)."""
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(int(ts), tz=datetime.timezone.utc).strftime(ISO)


def epoch(text: t.Any, field: str) -> t.Optional[int]:
    """Epoch seconds of an ISO 8601 UTC text written by :func:`iso` (None stays None)."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise RotationError("%s must be a time such as 2026-12-02T06:30:00Z, got %r" % (field, text))
    try:
        when = datetime.datetime.strptime(text, ISO).replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise RotationError("%s must be a time such as 2026-12-02T06:30:00Z, got %r" % (field, text)) from None
    return int(when.timestamp())


def check_template(template: t.Any, field: str = "rotate_dkim_selector_template") -> str:
    """A selector template: letters, digits, dots, hyphens, {selector}, {key_type} and %Y %m %d %H %M %S %j %y."""
    text = _input.text(template, field)
    if not TEMPLATE.fullmatch(text):
        raise InputError(
            "%s may hold letters, digits, dots, hyphens, {selector}, {key_type} and %%Y %%m %%d %%H %%M %%S %%j %%y"
            " only, got %r" % (field, template)
        )
    if "%" not in text and "{" not in text:
        raise InputError("%s must change with the date or the slot (e.g. {selector}-%%Y%%m%%d), got %r" % (field, text))
    return text


def render_selector(template: str, slot: Slot, now: float, taken: t.Collection[str], field: str) -> str:
    """The new selector of a slot: the template rendered at now (UTC), validated, made unique with -2, -3..."""
    when = datetime.datetime.fromtimestamp(int(now), tz=datetime.timezone.utc)
    base = template.replace("{selector}", slot["slot"]).replace("{key_type}", slot["key_type"])
    name = when.strftime(base).lower()
    where = "%s rendered for %s/%s (%s)" % (field, slot["domain"], slot["slot"], name)
    name = _input.selector(name, where)
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = _input.selector("%s-%d" % (name, n), where)
    return candidate


# --------------------------------------------------------------------------- the state


def slot_key(domain: str, key_type: str, selector: str) -> str:
    """The state file's key of a slot."""
    return "%s/%s/%s" % (domain, key_type, selector)


def slots_from_keys(keys: t.Sequence[t.Mapping[str, t.Any]], field: str = "slots") -> t.List[Slot]:
    """Validated slots (domain, key_type, slot) of configured keys (the dkim_keys shape: domain, selector, key_type)."""
    out, seen = [], set()
    for i, key in enumerate(keys or []):
        where = "%s[%d]" % (field, i)
        if not isinstance(key, t.Mapping):
            raise InputError("%s must be a dictionary, got %r" % (where, key))
        domain = _input.domain(key.get("domain"), where + ".domain")
        key_type = _input.choice(key.get("key_type", "rsa"), where + ".key_type", DKIM_KEY_TYPES)
        selector = _input.selector(key.get("slot") or key.get("selector"), where + ".selector")
        k = slot_key(domain, key_type, selector)
        if k not in seen:
            seen.add(k)
            out.append({"domain": domain, "key_type": key_type, "slot": selector})
    return out


def empty() -> State:
    """A state with no slot."""
    return {"format": FORMAT, "slots": {}}


def parse(text: str, path: str) -> State:
    """The state from the file's text; a file that is not a format-1 state is an error naming the file."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise RotationError("%s is not a rotation state (JSON: %s); restore it or remove it" % (path, err)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("slots"), dict):
        raise RotationError("%s is not a format-%d rotation state; restore it or remove it" % (path, FORMAT))
    for key, slot in data["slots"].items():
        where = "%s: slot %s" % (path, key)
        if not isinstance(slot, dict) or not isinstance(slot.get("selectors"), list):
            raise RotationError("%s has no selector list" % where)
        actives = 0
        for sel in slot["selectors"]:
            if not isinstance(sel, dict) or sel.get("state") not in STATES:
                raise RotationError("%s: a selector has no valid state (%s)" % (where, ", ".join(STATES)))
            try:
                _input.selector(sel.get("name"), where + " selector name")
            except InputError as err:
                raise RotationError(str(err)) from None
            epoch(sel.get("since"), where + " since")
            actives += sel["state"] == "active"
        if actives != 1:
            raise RotationError("%s has %d active selectors, not 1" % (where, actives))
    return data


def load(path: str) -> State:
    """The state at path; an absent file is an empty state."""
    try:
        with open(path, encoding="utf-8") as handle:
            return parse(handle.read(), path)
    except FileNotFoundError:
        return empty()


def dump(state: State) -> str:
    """The file's text: sorted, indented JSON with a final newline (stable for diffs)."""
    return json.dumps(state, indent=2, sort_keys=True) + "\n"


def save(path: str, state: State) -> None:
    """Write the state atomically, root-only (directory 0700, file 0600)."""
    directory = os.path.dirname(path)
    _files.ensure_dir(directory, 0o700, os.getuid(), os.getgid(), False)
    _files.write_atomic(path, dump(state).encode("utf-8"), 0o600, os.getuid(), os.getgid())


def selectors(state: State, slot: Slot) -> t.List[t.Dict[str, t.Any]]:
    """The selectors of a slot; no entry = its configured selector, active since an unknown time."""
    entry = state["slots"].get(slot_key(slot["domain"], slot["key_type"], slot["slot"]))
    if entry is None:
        return [{"name": slot["slot"], "state": "active", "since": None}]
    return entry["selectors"]


def _put(state: State, slot: Slot, sels: t.List[t.Dict[str, t.Any]]) -> None:
    state["slots"][slot_key(slot["domain"], slot["key_type"], slot["slot"])] = {
        "domain": slot["domain"],
        "key_type": slot["key_type"],
        "slot": slot["slot"],
        "selectors": sels,
    }


# --------------------------------------------------------------------------- the plan


def plan(
    state: State,
    slots: t.Sequence[Slot],
    now: float,
    interval: t.Optional[int] = None,
    grace: int = 7 * 86400,
    template: str = DEFAULT_TEMPLATE,
    now_domains: t.Optional[t.Collection[str]] = None,
    emergency: bool = False,
    active_since: t.Optional[t.Callable[[Slot, str], t.Optional[float]]] = None,
    now_key_types: t.Optional[t.Collection[str]] = None,
) -> t.List[t.Dict[str, t.Any]]:
    """What a run does to each slot, one dict per slot: action start, switch, remove or none.

    start: no future selector, and the slot is in now_domains and, where now_key_types is not empty, of one
    of those key types (a forced or emergency rotation), or its active selector is older than interval.
    switch: a future selector exists (the run switches it once every authoritative nameserver serves it).
    remove: retired selectors whose grace is over (revoked ones too: a revoked selector is published with an
    empty ``p=`` through the grace).
    A slot may need a removal and a start or switch at once: ``remove`` lists the selectors to remove
    whatever the action. active_since(slot, name) supplies a start time when the state has none
    (the host's key file time).
    """
    out = []
    for slot in slots:
        sels = selectors(state, slot)
        by_state = {s: [x for x in sels if x["state"] == s] for s in STATES}
        active = by_state["active"][0]
        since = epoch(active.get("since"), "since")
        if since is None and active_since is not None:
            since = active_since(slot, active["name"])
        # Revoked selectors too stay published (revoked) through the grace, then go as retired ones do.
        remove = [x["name"] for x in by_state["retired"] if (epoch(x.get("since"), "since") or 0) + grace <= now]
        forced = (
            now_domains is not None
            and slot["domain"] in now_domains
            and (not now_key_types or slot["key_type"] in now_key_types)
        )
        item = {
            "domain": slot["domain"],
            "key_type": slot["key_type"],
            "slot": slot["slot"],
            "active": active["name"],
            "active_since": iso(since),
            "future": [x["name"] for x in by_state["future"]],
            "retired": [x["name"] for x in by_state["retired"]],
            "revoked": [x["name"] for x in by_state["retired"] if x.get("revoked")],
            "remove": remove,
            "due": bool(interval) and since is not None and since + (interval or 0) <= now,
            "selector": None,
            "emergency": False,
        }
        if by_state["future"]:
            item["action"] = "switch"
            item["selector"] = by_state["future"][0]["name"]
            item["emergency"] = bool(by_state["future"][0].get("emergency"))
        elif forced or item["due"]:
            item["action"] = "start"
            taken = {x["name"] for x in sels} | {slot["slot"]}
            item["selector"] = render_selector(template, slot, now, taken, "rotate_dkim_selector_template")
            item["emergency"] = bool(emergency and forced)
        else:
            item["action"] = "remove" if remove else "none"
        out.append(item)
    return out


def summary(items: t.Sequence[t.Mapping[str, t.Any]]) -> t.Dict[str, t.Any]:
    """What the playbook acts on: ``switch`` and ``remove`` (``domain/selector`` names), ``remove_keys`` (dkim_key)."""
    return {
        "switch": ["%s/%s" % (i["domain"], i["selector"]) for i in items if i["action"] == "switch"],
        "remove": ["%s/%s" % (i["domain"], name) for i in items for name in i["remove"]],
        "remove_keys": [
            {"domain": i["domain"], "selector": name, "key_type": i["key_type"]} for i in items for name in i["remove"]
        ],
    }


def absent_entries(
    removals: t.Sequence[t.Any], domains: t.Sequence[t.Mapping[str, t.Any]]
) -> t.List[t.Dict[str, t.Any]]:
    """dns_records entries (state absent) deleting the DKIM records of removals (``domain/selector`` names).

    The zone and TTL of each domain come from its entry in domains (mailauth_domains); names are validated.
    """
    by_domain: t.Dict[str, t.List[str]] = {}
    for i, name in enumerate(removals or []):
        text = _input.text(name, "removals[%d]" % i)
        domain, _slash, selector = text.partition("/")
        domain = _input.domain(domain, "removals[%d] domain" % i)
        selector = _input.selector(selector, "removals[%d] selector" % i)
        if selector not in by_domain.setdefault(domain, []):
            by_domain[domain].append(selector)
    zones = {str(d.get("name", "")).lower().rstrip("."): d for d in domains or [] if isinstance(d, t.Mapping)}
    out = []
    for domain, sels in by_domain.items():
        entry: t.Dict[str, t.Any] = {"name": domain, "state": "absent", "dkim": [{"selector": s} for s in sels]}
        for name in ("zone", "ttl"):
            if zones.get(domain, {}).get(name) is not None:
                entry[name] = zones[domain][name]
        out.append(entry)
    return out


def gone_entries(removals: t.Sequence[t.Any]) -> t.List[t.Dict[str, t.Any]]:
    """mail_dns_info's ``domains`` waiting until no authoritative server serves the removed records (``absent``)."""
    return [
        {"name": entry["name"], "dkim": [dict(d, absent=True) for d in entry["dkim"]]}
        for entry in absent_entries(removals, [])
    ]


def start(state: State, slots: t.Sequence[Slot], items: t.Sequence[t.Mapping[str, t.Any]], now: float) -> t.List[str]:
    """Write each start item's selector as future (before its key exists: a killed run reuses the name)."""
    by_key = {slot_key(s["domain"], s["key_type"], s["slot"]): s for s in slots}
    done = []
    for item in items:
        if item["action"] != "start":
            continue
        slot = by_key[slot_key(item["domain"], item["key_type"], item["slot"])]
        sels = [dict(x) for x in selectors(state, slot)]
        future = {"name": item["selector"], "state": "future", "since": iso(now)}
        if item.get("emergency"):
            future["emergency"] = True
        _put(state, slot, [*sels, future])
        done.append("%s/%s" % (item["domain"], item["selector"]))
    return done


def switch(state: State, slots: t.Sequence[Slot], served: t.Collection[str], now: float) -> t.List[str]:
    """Future selectors named in served (``domain/selector``) become active; the active one retires.

    An emergency future revokes the selector it replaces (``revoked: true``: its record is published with an
    empty ``p=`` from then on, through the grace).
    """
    done = []
    for slot in slots:
        sels = [dict(x) for x in selectors(state, slot)]
        future = [x for x in sels if x["state"] == "future"]
        if not future or "%s/%s" % (slot["domain"], future[0]["name"]) not in served:
            continue
        new = future[0]
        for x in sels:
            if x["state"] == "active":
                x["state"], x["since"] = "retired", iso(now)
                if new.get("emergency"):
                    x["revoked"] = True
        new["state"], new["since"] = "active", iso(now)
        new.pop("emergency", None)
        _put(state, slot, sels)
        done.append("%s/%s" % (slot["domain"], new["name"]))
    return done


def forget(state: State, slots: t.Sequence[Slot], removed: t.Collection[str]) -> t.List[str]:
    """Retired selectors named in removed (``domain/selector``: record and key gone) leave the state."""
    done = []
    for slot in slots:
        sels = selectors(state, slot)
        keep = [x for x in sels if not (x["state"] == "retired" and "%s/%s" % (slot["domain"], x["name"]) in removed)]
        if len(keep) != len(sels):
            done += ["%s/%s" % (slot["domain"], x["name"]) for x in sels if x not in keep]
            _put(state, slot, [dict(x) for x in keep])
    return done


# --------------------------------------------------------------------------- what the roles sign and publish


def derive_keys(keys: t.Sequence[t.Mapping[str, t.Any]], state: t.Optional[State]) -> t.List[t.Dict[str, t.Any]]:
    """The keys of a host with rotation applied: one per live selector, each with ``state`` and ``revoked``.

    keys are the configured keys (dkim_keys shape). The active selector signs; future and retired ones
    keep their key file and record. ``private_key_content`` (shared-key mode) stays with the configured
    selector only: a rotated selector's key lives on the host. No state: the input, each key active.
    """
    state = state or empty()
    out = []
    for key in keys or []:
        k = slot_key(str(key.get("domain")), str(key.get("key_type", "rsa")), str(key.get("selector")))
        entry = state["slots"].get(k)
        if entry is None:
            out.append(dict(key, state="active", revoked=False))
            continue
        for sel in entry["selectors"]:
            derived = dict(key, selector=sel["name"], state=sel["state"], revoked=bool(sel.get("revoked")))
            if sel["name"] != key.get("selector"):
                derived["private_key_content"] = None
                derived["shared"] = bool(key.get("private_key_content"))
            out.append(derived)
    return out


def shared_keys(
    keys: t.Sequence[t.Mapping[str, t.Any]],
    domains: t.Sequence[t.Mapping[str, t.Any]],
    play_hosts: t.Sequence[str],
    host: str,
) -> t.Dict[str, t.List[t.Dict[str, t.Any]]]:
    """Who makes and who copies the rotated selectors of shared keys (``shared``, from :func:`derive_keys`).

    The first host of the play among the domain's ``mail_hosts`` makes the key (``make``: dkim_key specs);
    the others copy it from there (``copies``: the spec and ``source``, that host). Per-host keys are in neither.
    """
    hosts_of = {
        str(d.get("name", "")).lower().rstrip("."): [h for h in play_hosts if h in (d.get("mail_hosts") or [])]
        for d in domains or []
        if isinstance(d, t.Mapping)
    }
    make, copy = [], []
    for key in keys or []:
        if not key.get("shared"):
            continue
        spec = {name: key.get(name) for name in ("domain", "selector", "key_type", "key_size")}
        holders = hosts_of.get(key["domain"]) or [host]
        if holders[0] == host:
            make.append(spec)
        else:
            copy.append(dict(spec, source=holders[0]))
    return {"make": make, "copies": copy}


def key_specs(
    keys: t.Sequence[t.Mapping[str, t.Any]],
    shared: t.Mapping[str, t.Any],
    copies: t.Sequence[t.Mapping[str, t.Any]],
) -> t.List[t.Dict[str, t.Any]]:
    """dkim_key's ``keys`` for every live key of a host, rotated shared keys included.

    shared is :func:`shared_keys`' result; copies are ``ansible.builtin.slurp`` results (``item``: a ``copies`` entry,
    ``content``: the base64 key file read on its source host). A rotated shared key this host neither makes nor
    has a copy of yet (check mode) is left out.
    """
    specs = []
    for key in keys or []:
        if key.get("shared") and key.get("state") == "future":
            continue
        spec = {name: key.get(name) for name in ("domain", "selector", "key_type", "key_size")}
        if key.get("private_key_content"):
            spec["private_key_content"] = key["private_key_content"]
        specs.append(spec)
    specs += [dict(spec) for spec in shared.get("make") or []]
    for copy in copies or []:
        if not copy.get("content"):
            continue
        item = copy.get("item") or {}
        spec = {name: item.get(name) for name in ("domain", "selector", "key_type", "key_size")}
        try:
            pem = base64.b64decode(copy["content"], validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, TypeError):
            pem = ""
        if not pem.startswith("-----BEGIN "):
            raise RotationError("the key copied for %s/%s is not a PEM file" % (spec["domain"], spec["selector"]))
        spec["private_key_content"] = pem
        specs.append(spec)
    return specs


# --------------------------------------------------------------------------- the lock


def lock_info(path: str) -> t.Optional[t.Dict[str, t.Any]]:
    """The lock's content, or None when there is no lock (an unreadable lock is reported as such)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("run_id"), str):
            return data
    except ValueError:
        pass
    return {"run_id": "", "controller": "", "pid": 0, "started": None, "corrupt": True}


def lock_stale(
    lock: t.Optional[t.Mapping[str, t.Any]], now: float, timeout: int, controller: str, alive: t.Callable[[int], bool]
) -> bool:
    """A lock is stale when corrupt, older than timeout, or made on this controller by a process that is gone."""
    if not lock:
        return False
    if lock.get("corrupt"):
        return True
    try:
        started = epoch(lock.get("started"), "lock started")
    except RotationError:
        return True
    if started is None or started + timeout <= now:
        return True
    pid = lock.get("pid")
    return lock.get("controller") == controller and isinstance(pid, int) and pid > 0 and not alive(pid)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(path: str, run_id: str, controller: str, pid: int, now: float, take_over: str = "") -> t.Tuple[bool, str]:
    """Take the lock for run_id; return (changed, warning). Held by another run (not take_over): RotationError."""
    mine = {"run_id": run_id, "controller": controller, "pid": pid, "started": iso(now)}
    directory = os.path.dirname(path)
    _files.ensure_dir(directory, 0o700, os.getuid(), os.getgid(), False)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        held = lock_info(path)
        if held is None:
            return acquire(path, run_id, controller, pid, now, take_over)
        if held.get("run_id") == run_id:
            return False, ""
        if take_over and held.get("run_id") == take_over:
            _files.write_atomic(path, json.dumps(mine).encode("utf-8"), 0o600, os.getuid(), os.getgid())
            return True, "took over the stale lock of run %s (%s pid %s, started %s)" % (
                held.get("run_id") or "?",
                held.get("controller") or "?",
                held.get("pid"),
                held.get("started"),
            )
        raise RotationError(
            "another rotation holds %s: run %s from %s pid %s, started %s; wait for it, or remove the lock if that"
            " run is gone (a lock older than rotate_dkim_lock_timeout is taken over)"
            % (path, held.get("run_id") or "?", held.get("controller") or "?", held.get("pid"), held.get("started"))
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(mine))
        handle.flush()
        os.fsync(handle.fileno())
    return True, ""


def release(path: str, run_id: str) -> bool:
    """Remove the lock if run_id holds it; return whether it was removed."""
    held = lock_info(path)
    if held is None or held.get("run_id") != run_id:
        return False
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return True
