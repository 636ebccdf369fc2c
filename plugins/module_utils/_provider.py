# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Provider-neutral DNS data types and the ``Provider`` base class.

See ``docs/dns-design.md`` for the contract and ``docs/adding-a-provider.md`` for a new backend.
Each backend lives in ``_<name>.py`` next to this file, declares its name, options and batching
on its class (see :class:`Provider`), and is listed once in ``_providers.py``, the registry.
Backends load their third-party libraries through ``_deps`` when instantiated, so a run that
publishes to BIND never imports boto3.
"""

from __future__ import annotations

import collections
import typing as t

CHANGE_ACTIONS = ("create", "update", "delete")

# The keys an option declaration may carry: Ansible's argument-spec keys plus ``description``.
OPTION_KEYS = frozenset(("type", "description", "required", "default", "choices", "no_log", "elements"))


def option(type: str, description: str | list, **spec: t.Any) -> dict:
    """One provider option: its argument-spec entry plus its documentation (``description``)."""
    unknown = set(spec) - OPTION_KEYS
    if unknown:
        raise ValueError("unknown option keys %s" % ", ".join(sorted(unknown)))
    return dict(spec, type=type, description=description)


class ProviderError(Exception):
    """Every provider failure, with a message fit for a user (no traceback, no secret).

    ``zone`` is the zone the failure concerns; ``applied`` the names of that zone already changed
    when a zone's changes need several requests and a later one failed (else empty).
    """

    def __init__(self, msg: str, zone: str | None = None, applied: t.Iterable[str] | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.zone = zone
        self.applied = list(applied or [])

    def __str__(self) -> str:
        return self.msg


def normalize_name(name: str) -> str:
    """Absolute DNS name, lower case, without the trailing dot."""
    if not isinstance(name, str):
        raise ProviderError("a DNS name must be a string, got %r" % (name,))
    name = name.strip()
    if name.endswith(".") and name != ".":
        name = name[:-1]
    return name.lower()


def name_in_zone(name: str, zone: str) -> bool:
    """True when ``name`` is ``zone`` or below it."""
    name = normalize_name(name)
    zone = normalize_name(zone)
    return name == zone or name.endswith("." + zone)


def relative_name(name: str, zone: str) -> str:
    """``name`` relative to ``zone`` (``@`` for the apex)."""
    name = normalize_name(name)
    zone = normalize_name(zone)
    if name == zone:
        return "@"
    if not name.endswith("." + zone):
        raise ProviderError("%s is not in zone %s" % (name, zone), zone=zone)
    return name[: -(len(zone) + 1)]


def zone_for(name: str, zones: t.Iterable[str]) -> str | None:
    """The longest zone of ``zones`` that holds ``name`` (None when none does)."""
    best = None
    for zone in zones:
        zone = normalize_name(zone)
        if name_in_zone(name, zone) and (best is None or len(zone) > len(best)):
            best = zone
    return best


class RecordSet:
    """One RRset: absolute lower-case ``name`` without trailing dot, type, TTL and logical values.

    For TXT, ``values`` holds logical values: the character-strings of one TXT record joined,
    unquoted. Providers convert to and from their wire/API format with ``_txt.py``.
    """

    __slots__ = ("name", "rtype", "ttl", "values")

    def __init__(self, name: str, rtype: str, ttl: int, values: t.Iterable[str]) -> None:
        self.name = normalize_name(name)
        self.rtype = rtype.upper()
        self.ttl = int(ttl)
        self.values = list(values)

    def copy(self) -> RecordSet:
        return RecordSet(self.name, self.rtype, self.ttl, list(self.values))

    def to_dict(self) -> dict:
        return {"name": self.name, "type": self.rtype, "ttl": self.ttl, "values": list(self.values)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordSet):
            return NotImplemented
        return (self.name, self.rtype, self.ttl, self.values) == (other.name, other.rtype, other.ttl, other.values)

    def __hash__(self) -> int:
        return hash((self.name, self.rtype, self.ttl, tuple(self.values)))

    def __repr__(self) -> str:
        return "RecordSet(%r, %r, %r, %r)" % (self.name, self.rtype, self.ttl, self.values)


class Change:
    """One planned change of one RRset: ``create`` (before None), ``update`` or ``delete`` (after None)."""

    __slots__ = ("action", "after", "before")

    def __init__(self, action: str, before: RecordSet | None, after: RecordSet | None) -> None:
        if action not in CHANGE_ACTIONS:
            raise ValueError("unknown change action %r" % (action,))
        if action == "create" and (before is not None or after is None):
            raise ValueError("a create has no before and an after")
        if action == "delete" and (before is None or after is not None):
            raise ValueError("a delete has a before and no after")
        if action == "update" and (before is None or after is None):
            raise ValueError("an update has a before and an after")
        self.action = action
        self.before = before
        self.after = after

    @property
    def name(self) -> str:
        rrset = self.after if self.after is not None else self.before
        return rrset.name  # type: ignore[union-attr]

    @property
    def rtype(self) -> str:
        rrset = self.after if self.after is not None else self.before
        return rrset.rtype  # type: ignore[union-attr]

    def to_dict(self) -> dict:
        return {
            "action": self.action,
            "name": self.name,
            "type": self.rtype,
            "before": self.before.to_dict() if self.before is not None else None,
            "after": self.after.to_dict() if self.after is not None else None,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Change):
            return NotImplemented
        return (self.action, self.before, self.after) == (other.action, other.before, other.after)

    def __repr__(self) -> str:
        return "Change(%r, %r, %r)" % (self.action, self.before, self.after)


class Provider:
    """Base class of the DNS backends.

    A backend declares, on its class: ``name`` (the value of the module's ``provider`` option),
    ``DESCRIPTION`` (one line for the docs), ``OPTIONS`` (name -> :func:`option`; the module's
    and the role's options and the doc fragment are built from it), ``BATCHING`` (how a zone's
    changes become requests, for the docs), ``REQUIREMENTS`` (the libraries it needs, as
    ``_deps`` import names), ``LIBRARIES`` (the pip requirement of each top-level package of
    ``REQUIREMENTS``; requirements.txt is generated from them) and ``FALLBACK`` (True for a
    record-by-record backend listed after the native ones). It implements ``get_rrsets`` and
    ``apply``, and either ``find_zone`` or ``list_zones`` (the base ``find_zone`` picks the longest
    matching zone from ``list_zones``).
    Every API round trip is counted in ``self.calls`` under ``read`` or ``write`` (use :meth:`count`).
    """

    name = "base"
    DESCRIPTION = ""
    OPTIONS: t.ClassVar[dict] = {}
    BATCHING = ""
    REQUIREMENTS: t.ClassVar[tuple] = ()
    LIBRARIES: t.ClassVar[dict] = {}
    FALLBACK = False

    def __init__(self, options: dict | None = None) -> None:
        self.options = dict(options or {})
        self.calls: collections.Counter = collections.Counter(read=0, write=0)
        self._zones: list[str] | None = None
        self._zone_cache: dict[str, str] = {}

    # -- accounting -----------------------------------------------------------------------
    def count(self, kind: str, n: int = 1) -> None:
        """Record ``n`` API round trips of ``kind`` (``read`` or ``write``)."""
        if kind not in ("read", "write"):
            raise ValueError("call kind must be read or write")
        self.calls[kind] += n

    # -- zones ----------------------------------------------------------------------------
    def list_zones(self) -> list[str]:
        """All zones the credentials can see (names normalised). Override, or override find_zone."""
        raise NotImplementedError

    def find_zone(self, name: str) -> str:
        """The zone that holds ``name``; raises ProviderError if none."""
        name = normalize_name(name)
        if name in self._zone_cache:
            return self._zone_cache[name]
        if self._zones is None:
            self._zones = [normalize_name(z) for z in self.list_zones()]
        zone = zone_for(name, self._zones)
        if zone is None:
            raise ProviderError("no zone found for %s at provider %s" % (name, self.name))
        self._zone_cache[name] = zone
        return zone

    def find_zone_upward(self, name: str, probe: t.Callable[[str], str | None]) -> tuple[str | None, list]:
        """For APIs without a zone list: the longest of ``name`` and its parents that ``probe`` accepts.

        ``probe(candidate)`` returns None for a zone, else why it is not one. Returns the zone (None
        when no candidate is one; cached) and the ``(candidate, reason)`` pairs tried before it.
        """
        name = normalize_name(name)
        if name in self._zone_cache:
            return self._zone_cache[name], []
        labels = name.split(".")
        tried = []
        for i in range(len(labels) - 1):
            candidate = ".".join(labels[i:])
            reason = probe(candidate)
            if reason is None:
                self._zone_cache[name] = candidate
                return candidate, tried
            tried.append((candidate, reason))
        return None, tried

    def find_zones(self, names: list[str]) -> dict[str, str]:
        """The zone of each name (``find_zone`` per name; backends may batch)."""
        return {normalize_name(n): self.find_zone(n) for n in names}

    # -- records --------------------------------------------------------------------------
    def get_rrsets(self, zone: str, names: list[str], rtype: str = "TXT") -> dict[str, RecordSet]:
        """Batched read of the named RRsets of one zone, keyed by name; missing names are absent."""
        raise NotImplementedError

    def apply(self, zone: str, changes: list[Change]) -> None:
        """Apply all changes of one zone, atomically where the API allows, in the fewest calls."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections (optional)."""


def get_provider(name: str, options: dict | None = None) -> Provider:
    """Instantiate the backend ``name`` with its option dict (the registry is ``_providers``)."""
    from ansible_collections.mailauth.core.plugins.module_utils import _providers

    return _providers.get_provider(name, options)


# How many names of a partly applied zone an error message lists.
ERROR_NAMES = 20


class RequestError(ProviderError):
    """A backend's request for one zone failed.

    ``unsure`` when it may have been applied (a timeout); ``sent`` when it was applied and what
    failed came after (for example waiting for the change to be in sync).
    """

    def __init__(self, msg: str, unsure: bool = False, sent: bool = False) -> None:
        super().__init__(msg)
        self.unsure = unsure
        self.sent = sent


def partial_failure(
    head: str,
    reason: str,
    zone: str,
    applied: list[str],
    number: int,
    total: int,
    unit: str,
    unsure: bool = False,
    sent: bool = False,
) -> ProviderError:
    """The error for request ``number`` of ``total`` of ``zone``, naming the names already ``applied``.

    ``unit`` names a request (``UPDATE message``, ``change batch``, ``batch request``); its last word
    is used on its own (``message 1 was applied``, ``messages 1-2 were applied``). ``sent`` when
    request ``number`` itself was applied and what failed came after it (waiting for it to be in sync).
    """
    done = number if sent else number - 1
    if total > 1:
        head += " in %s %d of %d" % (unit, number, total)
    if not applied:
        tail = "it may or may not have been applied, re-run" if unsure else "zone %s was not changed" % zone
        return ProviderError("%s: %s; %s" % (head, reason, tail), zone=zone)
    short = unit.split()[-1]
    plural = "es" if short.endswith(("ch", "sh", "s", "x")) else "s"
    shown = ", ".join(applied[:ERROR_NAMES])
    if len(applied) > ERROR_NAMES:
        shown += " and %d more" % (len(applied) - ERROR_NAMES)
    return ProviderError(
        "%s: %s; the change set of zone %s needs %d %s%s and atomicity is per %s: %s applied "
        "(%d changes: %s)%s, the rest of the zone was not changed; re-run to complete the work"
        % (
            head,
            reason,
            zone,
            total,
            unit,
            plural,
            short,
            "%s 1 was" % short if done == 1 else "%s%s 1-%d were" % (short, plural, done),
            len(applied),
            shown,
            ", %s %d may or may not have been applied" % (short, number) if unsure else "",
        ),
        zone=zone,
        applied=applied,
    )


def send_in_order(
    zone: str,
    requests: list,
    send: t.Callable[[int, t.Any], None],
    names: t.Callable[[t.Any], t.Iterable[str]],
    head: str,
    unit: str = "request",
) -> None:
    """Send the requests of one zone in order, each after the one before succeeded.

    Every backend whose zone changes may need several requests uses this: ``send(number, request)``
    raises :class:`RequestError` (or ProviderError) with the reason, and the error raised here says
    which names the requests before it applied (``ProviderError.applied``), so the module reports them
    in ``failed_zone_applied``. ``names(request)`` gives the names a request changes.
    """
    applied: list[str] = []
    for number, request in enumerate(requests, 1):
        try:
            send(number, request)
        except ProviderError as exc:
            sent = bool(getattr(exc, "sent", False))
            if sent:
                _extend(applied, names(request))
            unsure = bool(getattr(exc, "unsure", False))
            raise partial_failure(head, exc.msg, zone, applied, number, len(requests), unit, unsure, sent) from None
        _extend(applied, names(request))


def _extend(applied: list[str], names: t.Iterable[str]) -> None:
    for name in names:
        if name not in applied:
            applied.append(name)
