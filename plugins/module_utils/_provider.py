# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Provider-neutral DNS data types, the ``Provider`` base class and the provider registry.

See ``docs/dns-design.md`` for the contract. Backends live in ``_<name>.py`` next to this
file and are imported lazily by :func:`get_provider`, so a run that publishes to BIND never
imports boto3.
"""

from __future__ import annotations

import collections
import typing as t

CHANGE_ACTIONS = ("create", "update", "delete")

# The backends, each ``_<name>.py`` with one class (see get_provider()). The imports in
# get_provider() are written out so that Ansible's module packer (AnsiballZ) ships every backend.
PROVIDER_NAMES = ("rfc2136", "route53", "powerdns", "cloudflare", "zonefile")


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


class MissingLibraryError(ProviderError):
    """A backend's third-party library (dnspython, boto3) is not installed on the controller.

    Backends guard their imports with try/except ImportError and raise this from ``__init__``;
    the module turns it into ``missing_required_lib(library)``.
    """

    def __init__(self, library: str, exception: str | None = None) -> None:
        super().__init__("the Python library %s is required but is not installed" % library)
        self.library = library
        self.exception = exception


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

    Subclasses implement ``get_rrsets`` and ``apply``, and either ``find_zone`` or ``list_zones``
    (the base ``find_zone`` picks the longest matching zone from ``list_zones``). Every API round
    trip is counted in ``self.calls`` under ``read`` or ``write`` (use :meth:`count`).
    """

    name = "base"

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
    """Instantiate the backend ``name`` with its option dict. Imports the backend lazily.

    Classes: ``_rfc2136.Rfc2136Provider``, ``_route53.Route53Provider``, ``_powerdns.PowerDNSProvider``,
    ``_cloudflare.CloudflareProvider``, ``_zonefile.ZonefileProvider``.
    """
    if name == "rfc2136":
        from ansible_collections.mailauth.core.plugins.module_utils._rfc2136 import Rfc2136Provider as cls
    elif name == "route53":
        from ansible_collections.mailauth.core.plugins.module_utils._route53 import Route53Provider as cls
    elif name == "powerdns":
        from ansible_collections.mailauth.core.plugins.module_utils._powerdns import PowerDNSProvider as cls
    elif name == "cloudflare":
        from ansible_collections.mailauth.core.plugins.module_utils._cloudflare import CloudflareProvider as cls
    elif name == "zonefile":
        from ansible_collections.mailauth.core.plugins.module_utils._zonefile import ZonefileProvider as cls
    else:
        raise ProviderError("unknown DNS provider %r (choose one of %s)" % (name, ", ".join(PROVIDER_NAMES)))
    return cls(options or {})
