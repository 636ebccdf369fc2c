# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DNS reading for the lint and ``mail_dns_info``: one resolver front end on dnspython.

:class:`DnsLookup` asks a resolver (the system's, or one given nameserver and port) and
memoises its answers; :func:`query_server` asks one authoritative server directly. Every
failure that is not an answer (timeout, SERVFAIL, REFUSED) is a :class:`LookupFailure`.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.mailauth.core.plugins.module_utils import _deps
from ansible_collections.mailauth.core.plugins.module_utils._txt import from_wire_strings

LIBRARIES = (
    "dns.exception",
    "dns.flags",
    "dns.message",
    "dns.name",
    "dns.query",
    "dns.rcode",
    "dns.rdatatype",
    "dns.resolver",
)
dns_exception = _deps.load("dns.exception")
dns_flags = _deps.load("dns.flags")
dns_message = _deps.load("dns.message")
dns_name = _deps.load("dns.name")
dns_query = _deps.load("dns.query")
dns_rcode = _deps.load("dns.rcode")
dns_rdatatype = _deps.load("dns.rdatatype")
dns_resolver = _deps.load("dns.resolver")


class LookupFailure(Exception):
    """A DNS query that could not be answered (timeout, SERVFAIL, REFUSED)."""


class DnsLookup:
    """A small dnspython resolver front end: TXT, addresses and MX, NXDOMAIN reported as ``None``.

    ``nameserver`` (an IP address) and ``port`` send every query to one server; without them
    the system resolver configuration is used. Answers are memoised for the object's lifetime.
    """

    def __init__(self, nameserver: str | None = None, port: int = 53, timeout: float = 5.0) -> None:
        try:
            _deps.need(*LIBRARIES)
        except _deps.MissingLibrary as exc:
            raise LookupFailure(str(exc)) from None
        if nameserver:
            try:
                ipaddress.ip_address(nameserver)
            except ValueError:
                raise LookupFailure("nameserver must be an IP address, got %r" % nameserver) from None
            self.resolver = dns_resolver.Resolver(configure=False)
            self.resolver.nameservers = [nameserver]
        else:
            self.resolver = dns_resolver.Resolver(configure=True)
        self.resolver.port = int(port)
        self.resolver.lifetime = float(timeout)
        self.resolver.timeout = float(timeout)
        self.queries = 0
        self._cache: dict[tuple[str, str], list | None] = {}

    def query(self, name: str, rdtype: str) -> list | None:
        """The rdatas of ``name``/``rdtype``: ``None`` for NXDOMAIN, ``[]`` for no data."""
        key = (name.lower().rstrip("."), rdtype)
        if key in self._cache:
            return self._cache[key]
        self.queries += 1
        try:
            answer = self.resolver.resolve(key[0] + ".", rdtype, raise_on_no_answer=False, search=False)
            result: list | None = list(answer.rrset) if answer.rrset is not None else []
        except dns_resolver.NXDOMAIN:
            result = None
        except dns_resolver.NoAnswer:
            result = []
        except dns_exception.Timeout:
            raise LookupFailure("DNS query %s %s timed out" % (key[0], rdtype)) from None
        except dns_resolver.NoNameservers as exc:
            raise LookupFailure("no nameserver answered %s %s: %s" % (key[0], rdtype, exc)) from None
        except dns_exception.DNSException as exc:
            raise LookupFailure("DNS query %s %s failed: %s" % (key[0], rdtype, exc)) from None
        self._cache[key] = result
        return result

    def fresh(self, name: str, rdtype: str) -> list | None:
        """Like :meth:`query`, without the memo (for polling)."""
        self._cache.pop((name.lower().rstrip("."), rdtype), None)
        return self.query(name, rdtype)

    def txt(self, name: str, fresh: bool = False) -> list[str] | None:
        """The logical TXT values at ``name`` (``None`` for NXDOMAIN)."""
        rdatas = (self.fresh if fresh else self.query)(name, "TXT")
        if rdatas is None:
            return None
        return [from_wire_strings(r.strings) for r in rdatas]

    def addresses(self, name: str, families: tuple = ("A", "AAAA")) -> list[str] | None:
        """IPv4/IPv6 addresses of ``name``; ``None`` when every query said NXDOMAIN."""
        found: list[str] = []
        nxdomain = True
        for rdtype in families:
            rdatas = self.query(name, rdtype)
            if rdatas is not None:
                nxdomain = False
                found += [r.address for r in rdatas]
        return None if nxdomain else found

    def mx(self, name: str) -> list[str] | None:
        """The exchange host names of ``name`` (``None`` for NXDOMAIN)."""
        rdatas = self.query(name, "MX")
        if rdatas is None:
            return None
        return [r.exchange.to_text(omit_final_dot=True).lower() for r in rdatas]

    def zone_nameservers(self, domain: str) -> tuple[str, list[str]]:
        """The zone that holds ``domain`` and the host names of its NS records, sorted."""
        try:
            zone = dns_resolver.zone_for_name(domain, resolver=self.resolver)
            ns_rrset = self.resolver.resolve(zone, "NS")
        except dns_exception.DNSException as exc:
            raise LookupFailure("cannot find the zone and nameservers of %s: %s" % (domain, exc)) from None
        hosts = sorted(r.target.to_text(omit_final_dot=True).lower() for r in ns_rrset)
        return zone.to_text(omit_final_dot=True).lower(), hosts


def query_server(server: str, port: int, name: str, timeout: float, rdtype: str = "TXT") -> list | None:
    """Ask one nameserver directly (no recursion); logical TXT values, or ``None`` for NXDOMAIN."""
    try:
        _deps.need(*LIBRARIES)
    except _deps.MissingLibrary as exc:
        raise LookupFailure(str(exc)) from None
    qname = dns_name.from_text(name)
    query = dns_message.make_query(qname, rdtype)
    query.flags &= ~dns_flags.RD
    try:
        response, _tcp = dns_query.udp_with_fallback(query, server, timeout=timeout, port=port)
    except (dns_exception.DNSException, OSError) as exc:
        raise LookupFailure(
            "nameserver %s port %d did not answer %s %s: %s" % (server, port, name, rdtype, exc)
        ) from None
    rcode = response.rcode()
    if rcode == dns_rcode.NXDOMAIN:
        return None
    if rcode != dns_rcode.NOERROR:
        raise LookupFailure("nameserver %s answered %s for %s %s" % (server, dns_rcode.to_text(rcode), name, rdtype))
    if not response.flags & dns_flags.AA:
        raise LookupFailure("nameserver %s is not authoritative for %s" % (server, name))
    wanted = dns_rdatatype.from_text(rdtype)
    target = qname
    for _hop in range(8):  # follow a CNAME chain inside the answer
        rrset = next((r for r in response.answer if r.name == target and r.rdtype == wanted), None)
        if rrset is not None:
            if wanted == dns_rdatatype.TXT:
                return [from_wire_strings(r.strings) for r in rrset]
            return [r.to_text() for r in rrset]
        cname = next((r for r in response.answer if r.name == target and r.rdtype == dns_rdatatype.CNAME), None)
        if cname is None:
            return []
        target = cname[0].target
    return []
