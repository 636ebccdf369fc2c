# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unbound configuration: the unbound role's variables validated into unbound.conf and resolv.conf.

:func:`build` checks every value that reaches unbound.conf or /etc/resolv.conf with :mod:`_input`
and returns what the templates render; :func:`server` is the one list of the ``server:`` settings
the role writes (extras are compared against it), :data:`DEFAULT_LOCAL_ZONES` the zones unbound
answers locally unless told ``nodefault``.
"""

from __future__ import annotations

import ipaddress
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _input
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems, extras

# unbound.conf(5) sizes: a number of bytes, or with k, m or g.
SIZE = r"[1-9][0-9]{0,9}[kmgKMG]?"
SETTING_NAME = r"[a-z][a-z0-9-]*"
# resolv.conf(5) options: a word, or word:number (ndots:1, timeout:2, edns0, trust-ad).
RESOLV_OPTION = r"[a-z][a-z0-9-]*(?::[0-9]{1,2})?"
MAX_THREADS = 64

# The zones unbound answers itself by default (unbound.conf(5), "local-zone"), checked with
# `unbound-control list_local_zones` on Debian 12 (1.17) and 13 (1.22 and later): the RFC 6761 and
# RFC 8375 names, and the reverse zones of loopback, the IPv6 special ranges and the RFC 1918 (AS112)
# networks, which `unblock-lan-zones` controls. service.arpa and resolver.arpa come with later versions;
# nodefault for a zone a version does not know is accepted and does nothing.
DEFAULT_LOCAL_ZONES = (
    "test",
    "invalid",
    "onion",
    "home.arpa",
    "resolver.arpa",
    "service.arpa",
    "localhost",
)
# The reverse zones of the RFC 1918 networks (AS112): answered locally unless unblock-lan-zones.
LAN_REVERSE_ZONES = tuple(
    ["10.in-addr.arpa", "168.192.in-addr.arpa"] + ["%d.172.in-addr.arpa" % n for n in range(16, 32)]
)

CONTROL_INTERFACE = "/run/unbound.ctl"
PID_FILE = "/run/unbound.pid"


def server(o: t.Mapping[str, t.Any]) -> t.List[t.Tuple[str, t.List[t.Tuple[str, t.Any]]]]:
    """The server: clause as sections of (setting, value); a list value repeats the setting, None leaves it out.

    The one list of managed server settings: extras may not set any of them.
    """
    dnssec = bool(o.get("dnssec"))
    lan = bool(o.get("unblock_lan_zones"))
    return [
        (
            "Listening: loopback only, and only loopback clients (unbound reads these at start, not on reload).",
            [
                ("interface", o.get("interfaces") or []),
                ("port", "53"),
                ("do-ip6", "yes" if o.get("ipv6") else "no"),
                ("access-control", o.get("access_control") or []),
                ("num-threads", str(o.get("num_threads")) if o.get("num_threads") else None),
                ("username", "unbound"),
                ("chroot", '""'),
                ("directory", '"/etc/unbound"'),
                ("pidfile", '"%s"' % PID_FILE),
            ],
        ),
        (
            "Logging and statistics (unbound-control stats_noreset).",
            [
                ("use-syslog", "yes"),
                ("verbosity", "1"),
                ("log-servfail", "yes"),
                ("statistics-interval", "0"),
                ("statistics-cumulative", "no"),
                ("extended-statistics", "yes" if o.get("extended_statistics") else "no"),
            ],
        ),
        (
            "Cache. serve-expired stays off unless asked: an answer past its TTL would hide a changed SPF record or"
            " a revoked DKIM key, and turn a DNS failure (temperror, a 4xx defer) into a verdict on stale data.",
            [
                ("msg-cache-size", o.get("msg_cache_size")),
                ("rrset-cache-size", o.get("rrset_cache_size")),
                ("cache-max-ttl", str(o.get("cache_max_ttl")) if o.get("cache_max_ttl") is not None else None),
                ("prefetch", "yes" if o.get("prefetch") else "no"),
                ("prefetch-key", "yes" if o.get("prefetch") and dnssec else None),
                ("serve-expired", "yes" if o.get("serve_expired") else "no"),
            ],
        ),
        (
            "DNSSEC: the validator, with Debian's root trust anchor (dns-root-data; unbound keeps it up to date).",
            [
                ("module-config", '"validator iterator"' if dnssec else '"iterator"'),
                ("auto-trust-anchor-file", '"%s"' % o.get("trust_anchor_file") if dnssec else None),
                ("domain-insecure", ['"%s."' % z for z in o.get("domain_insecure") or []] if dnssec else None),
                ("harden-glue", "yes"),
                ("harden-dnssec-stripped", "yes" if dnssec else None),
                ("qname-minimisation", "yes"),
            ],
        ),
        (
            "Upstreams on loopback (a forwarder or stub on this host) are queried only when this says no.",
            [("do-not-query-localhost", "no" if o.get("loopback_upstreams") else None)],
        ),
        (
            "Local zones: the defaults unbound answers itself (RFC 6761), but for the zones that must be looked up.",
            [
                ("unblock-lan-zones", "yes" if lan else "no"),
                ("insecure-lan-zones", "yes" if lan else "no"),
                ("local-zone", ['"%s." nodefault' % z for z in o.get("nodefault_zones") or []]),
            ],
        ),
    ]


MANAGED = frozenset(name for _comment, settings in server({}) for name, _value in settings)


def _value(value: t.Any, field: str) -> t.List[str]:
    """An unbound.conf value of an extra setting, or a list of them (the setting repeated): one line each."""
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, (list, tuple)):
        return [_input.text(v, "%s[%d]" % (field, i), scalars=True).strip() for i, v in enumerate(value)]
    return [_input.text(value, field, scalars=True).strip()]


_TRUE = ("yes", "true", "on", "1")
_FALSE = ("no", "false", "off", "0")


def _flag(value: t.Any, field: str, p: Problems) -> bool:
    """A boolean as Ansible passes it (true, or "yes"/"true"/"on"/"1" from -e and inventories)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    p.add("%s must be true or false, got %r" % (field, value))
    return False


def _number(value: t.Any, field: str, low: int, high: int, unit: str, p: Problems) -> t.Optional[int]:
    """A whole number from low to high (a string of digits too, as -e passes it)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        p.add("%s must be a number%s from %d to %d, got %r" % (field, unit, low, high, value))
        return None
    return value


def _address(value: t.Any, field: str) -> str:
    """An upstream server, ``ADDR`` or ``ADDR@PORT`` (IPv4 or IPv6), as unbound's forward-addr/stub-addr take it."""
    raw = _input.text(value, field, scalars=True)
    host, at, port = raw.rpartition("@") if "@" in raw else (raw, "", "")
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise _input.InputError("%s must be an IP address, optionally @port, got %r" % (field, raw)) from None
    if at:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise _input.InputError("%s: the port of %r must be 1 to 65535" % (field, raw))
        return "%s@%d" % (addr, int(port))
    return str(addr)


def _zone(value: t.Any, field: str) -> str:
    """A zone name: ``.`` (the root) or a domain of one label or more, lower-cased, without the final dot."""
    if value == ".":
        return "."
    return _input.domain(value, field, min_labels=1, underscore=True)


def _zones(value: t.Any, field: str, p: Problems) -> t.List[str]:
    items = p.check(_input.string_list, value, field) or []
    return [z for z in (p.check(_zone, z, "%s[%d]" % (field, i)) for i, z in enumerate(items)) if z]


def _servers(value: t.Any, field: str, p: Problems) -> t.List[t.Dict[str, t.Any]]:
    """forward or stub zones: a list of {name, addresses, first}; names unique."""
    if not isinstance(value, list):
        p.add("%s must be a list of {name, addresses}, got %r" % (field, value))
        return []
    out = []
    seen: t.Set[str] = set()
    for i, entry in enumerate(value):
        where = "%s[%d]" % (field, i)
        if not isinstance(entry, dict):
            p.add("%s must be a dictionary {name, addresses}, got %r" % (where, entry))
            continue
        unknown = sorted(set(entry) - {"name", "addresses", "first"})
        if unknown:
            p.add("%s has unknown keys %s (known: name, addresses, first)" % (where, ", ".join(map(str, unknown))))
        name = p.check(_zone, entry.get("name"), where + ".name")
        if name in seen:
            p.add("%s.name: the zone %s is listed twice" % (where, name))
        seen.add(name)
        raw = entry.get("addresses")
        addresses = p.check(_input.string_list, raw, where + ".addresses") or []
        if raw is not None and not addresses and isinstance(raw, list):
            p.add("%s.addresses must list at least one server" % where)
        checked = [p.check(_address, a, "%s.addresses[%d]" % (where, j)) for j, a in enumerate(addresses)]
        first = _flag(entry.get("first", False), where + ".first", p)
        if name:
            out.append(
                {
                    "name": name,
                    "zone": "." if name == "." else name + ".",
                    "addresses": [a for a in checked if a],
                    "first": first,
                }
            )
    return out


def _under(name: str, zone: str) -> bool:
    return zone == "." or name == zone or name.endswith("." + zone)


def nodefault(names: t.Iterable[str], lan: bool) -> t.List[str]:
    """The default local zones that hold (or lie under) one of names: those unbound must look up.

    The root (``.``) counts for none: a forward of everything still leaves unbound's own answers for
    test. and the others, so those are opened by the zones and domains under them, or listed.
    """
    defaults = DEFAULT_LOCAL_ZONES + (() if lan else LAN_REVERSE_ZONES)
    found = []
    for zone in defaults:
        if any(n != "." and _under(n, zone) for n in names):
            found.append(zone)
    return found


def build(v: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """Validate the unbound role's variables (names without ``unbound_``); return what the templates render."""
    p = Problems()

    def f(name: str) -> str:
        return "unbound_" + name

    out: t.Dict[str, t.Any] = {}
    interfaces = p.check(_input.string_list, v["interfaces"], f("interfaces")) or []
    out["interfaces"] = []
    for i, raw in enumerate(interfaces):
        where = "%s[%d]" % (f("interfaces"), i)
        try:
            addr = ipaddress.ip_address(raw)
        except ValueError:
            p.add("%s must be a loopback address (127.0.0.1 or ::1), got %r" % (where, raw))
            continue
        if not addr.is_loopback:
            p.add("%s: %s is not a loopback address (unbound serves this host only)" % (where, addr))
        elif str(addr) in out["interfaces"]:
            p.add("%s: %s is listed twice" % (where, addr))
        else:
            out["interfaces"].append(str(addr))
    if interfaces and not out["interfaces"] and not p.items:
        p.add("%s must list at least one loopback address" % f("interfaces"))
    if not interfaces:
        p.add("%s must list at least one loopback address (127.0.0.1, ::1)" % f("interfaces"))
    out["ipv6"] = any(":" in a for a in out["interfaces"])
    # Loopback clients only: everything else is refused (answered REFUSED), whatever listens.
    out["access_control"] = ["0.0.0.0/0 refuse", "::0/0 refuse", "127.0.0.0/8 allow", "::1/128 allow"]
    out["num_threads"] = _number(v["num_threads"], f("num_threads"), 1, MAX_THREADS, "", p)
    for name in ("msg_cache_size", "rrset_cache_size"):
        out[name] = p.match(v[name], f(name), SIZE, "a size in bytes, or with k, m or g (e.g. 64m)")
    out["cache_max_ttl"] = _number(v["cache_max_ttl"], f("cache_max_ttl"), 1, 604800, " of seconds", p)
    for name in (
        "prefetch",
        "serve_expired",
        "dnssec",
        "unblock_lan_zones",
        "extended_statistics",
        "manage_resolv_conf",
    ):
        out[name] = _flag(v[name], f(name), p)
    out["trust_anchor_file"] = p.check(_input.absolute_path, v["trust_anchor_file"], f("trust_anchor_file"))
    out["domain_insecure"] = _zones(v["domain_insecure"], f("domain_insecure"), p)
    if "." in out["domain_insecure"]:
        p.add("%s may not hold the root (.): set unbound_dnssec to false instead" % f("domain_insecure"))
    out["forward_zones"] = _servers(v["forward_zones"], f("forward_zones"), p)
    out["stub_zones"] = _servers(v["stub_zones"], f("stub_zones"), p)
    own = set(out["interfaces"]) | {a + "@53" for a in out["interfaces"]}
    for kind in ("forward_zones", "stub_zones"):
        for z in out[kind]:
            for a in own.intersection(z["addresses"]):
                p.add("%s: %s of %s is unbound itself (a loop)" % (f(kind), a, z["zone"]))
    out["loopback_upstreams"] = any(
        ipaddress.ip_address(a.split("@")[0]).is_loopback
        for z in out["forward_zones"] + out["stub_zones"]
        for a in z["addresses"]
    )
    both = {z["name"] for z in out["forward_zones"]} & {z["name"] for z in out["stub_zones"]}
    if both:
        p.add("%s and %s both hold %s" % (f("forward_zones"), f("stub_zones"), ", ".join(sorted(both))))
    for z in out["stub_zones"]:
        if z["name"] == ".":
            p.add("%s may not hold the root (.): forward it (unbound_forward_zones) instead" % f("stub_zones"))
    listed = _zones(v["nodefault_zones"], f("nodefault_zones"), p)
    domains = _zones(v["domains"], f("domains"), p)
    names = [z["name"] for z in out["forward_zones"] + out["stub_zones"]] + domains
    automatic = nodefault(names, out["unblock_lan_zones"])
    out["nodefault_zones"] = sorted(set(listed) | set(automatic) - {"."})
    if "." in listed:
        p.add("%s may not hold the root (.)" % f("nodefault_zones"))
    options = p.check(_input.string_list, v["resolv_conf_options"], f("resolv_conf_options")) or []
    out["resolv_conf_options"] = [
        p.match(o, "%s[%d]" % (f("resolv_conf_options"), i), RESOLV_OPTION, "a resolv.conf option (edns0, ndots:1)")
        for i, o in enumerate(options)
    ]
    server_extra = extras(
        v["server_extra"],
        f("server_extra"),
        p,
        lambda x, y: _input.match(SETTING_NAME, x, y, "an unbound.conf server setting name (lower case, digits, -)"),
        _value,
        MANAGED,
    )
    p.raise_any()
    sections = []
    for comment, settings in server(out):
        lines = []
        for name, value in settings:
            for item in value if isinstance(value, list) else [value]:
                if item is not None:
                    lines.append([name, item])
        sections.append({"comment": comment, "settings": lines})
    if server_extra:
        sections.append(
            {
                "comment": "Extra settings (unbound_server_extra)",
                "settings": [[n, val] for n, values in server_extra for val in values],
            }
        )
    out["server"] = sections
    out["control_interface"] = CONTROL_INTERFACE
    # What unbound applies only when it starts (a reload, SIGHUP, keeps its sockets and threads).
    out["restart_settings"] = [
        [n, val] for n, val in sections[0]["settings"] if n in ("interface", "port", "num-threads", "username")
    ] + [["control-interface", CONTROL_INTERFACE]]
    out["nameservers"] = list(out["interfaces"])
    return out
