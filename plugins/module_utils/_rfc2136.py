# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""RFC 2136 dynamic update provider (dnspython), with TSIG.

Reads: the SOA and TXT queries of a batch are pipelined over one TCP connection (one round
trip per batch of up to ``PIPELINE`` queries; ``calls["queries"]`` counts the messages).
Writes: ONE UPDATE message per zone. Every changed RRset carries a prerequisite: the exact
RRset read before must still be there (RFC 2136 2.4.2, value dependent), or, for a new RRset,
must not exist (2.4.4). A concurrent change makes the server answer NXRRSET/YXRRSET, and the
zone is left untouched.
"""

from __future__ import annotations

import base64
import binascii
import socket
import time

from ansible_collections.mailauth.core.plugins.module_utils._provider import (
    Change,
    MissingLibraryError,
    Provider,
    ProviderError,
    RecordSet,
    normalize_name,
)
from ansible_collections.mailauth.core.plugins.module_utils._txt import from_wire_strings, to_wire_strings

try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.opcode
    import dns.query
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdataset
    import dns.rdatatype
    import dns.rdtypes.ANY.TXT
    import dns.tsig
    import dns.update

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = exc

PIPELINE = 100
TSIG_ALGORITHMS = (
    "hmac-md5",
    "hmac-sha1",
    "hmac-sha224",
    "hmac-sha256",
    "hmac-sha256-128",
    "hmac-sha384",
    "hmac-sha384-192",
    "hmac-sha512",
    "hmac-sha512-256",
)


def _rcode_text(rcode: int) -> str:
    try:
        return dns.rcode.to_text(rcode)
    except Exception:  # pragma: no cover - unknown code
        return str(rcode)


class Rfc2136Provider(Provider):
    """Dynamic DNS updates against one primary server (e.g. BIND 9)."""

    name = "rfc2136"

    def __init__(self, options: dict | None = None) -> None:
        if not HAS_DNSPYTHON:
            raise MissingLibraryError("dnspython", str(DNSPYTHON_IMPORT_ERROR))
        super().__init__(options)
        opts = self.options
        server = opts.get("server")
        if not server:
            raise ProviderError("rfc2136: the option server is required")
        self.server = str(server)
        self.port = int(opts.get("port") or 53)
        self.timeout = float(opts.get("timeout") or 10)
        self.keyring = None
        self.key_name = None
        key_name = opts.get("key_name")
        key_secret = opts.get("key_secret")
        algorithm = (opts.get("key_algorithm") or "hmac-sha256").lower()
        if bool(key_name) != bool(key_secret):
            raise ProviderError("rfc2136: key_name and key_secret go together")
        if algorithm not in TSIG_ALGORITHMS:
            raise ProviderError(
                "rfc2136: unknown key_algorithm %r (choose one of %s)" % (algorithm, ", ".join(TSIG_ALGORITHMS))
            )
        if key_name:
            try:
                secret = base64.b64decode(str(key_secret), validate=True)
            except (binascii.Error, ValueError):
                raise ProviderError("rfc2136: key_secret is not valid base64") from None
            if not secret:
                raise ProviderError("rfc2136: key_secret is empty")
            try:
                self.key_name = dns.name.from_text(key_name)
                self.keyring = dns.tsig.Key(self.key_name, secret, dns.name.from_text(algorithm))
            except (dns.exception.DNSException, ValueError) as exc:
                raise ProviderError("rfc2136: invalid TSIG key %s: %s" % (key_name, exc)) from None
        self._address: tuple | None = None
        # (name, rtype) -> rdataset as read, so prerequisites repeat the exact wire form.
        self._raw: dict[tuple[str, str], object] = {}

    # -- transport ------------------------------------------------------------------------
    def _where(self) -> str:
        return "%s port %d" % (self.server, self.port)

    def _connect(self) -> socket.socket:
        try:
            if self._address is None:
                infos = socket.getaddrinfo(self.server, self.port, type=socket.SOCK_STREAM)
                if not infos:
                    raise OSError("no address")
                self._address = infos[0]
            family, stype, proto, _canon, sockaddr = self._address
            sock = socket.socket(family, stype, proto)
            sock.settimeout(self.timeout)
            try:
                sock.connect(sockaddr)
            except BaseException:
                sock.close()
                raise
            sock.setblocking(False)
            return sock
        except socket.gaierror as exc:
            raise ProviderError("rfc2136: cannot resolve server %s: %s" % (self.server, exc)) from None
        except socket.timeout:
            raise ProviderError("rfc2136: timeout connecting to %s" % self._where()) from None
        except OSError as exc:
            raise ProviderError("rfc2136: cannot connect to %s: %s" % (self._where(), exc.strerror or exc)) from None

    def _make_query(self, qname: str, rtype: str):
        query = dns.message.make_query(qname + ".", rtype)
        query.flags &= ~dns.flags.RD
        if self.keyring is not None:
            query.use_tsig(self.keyring)
        return query

    def _pipeline(self, questions: list[tuple[str, str]]) -> list:
        """Send the queries of ``questions`` over one TCP connection; answers in question order.

        Up to PIPELINE queries are in flight at once; each window is one round trip. Responses
        are matched by message id (a server may answer pipelined queries out of order). Their
        TSIG signature is not verified (reads only); a rejected key shows as NOTAUTH.
        """
        results: list = [None] * len(questions)
        if not questions:
            return results
        sock = self._connect()
        try:
            for start in range(0, len(questions), PIPELINE):
                window = list(range(start, min(start + PIPELINE, len(questions))))
                pending = {}
                expiration = time.time() + self.timeout
                for index in window:
                    query = self._make_query(*questions[index])
                    while query.id in pending:
                        query = self._make_query(*questions[index])
                    pending[query.id] = (index, query)
                    dns.query.send_tcp(sock, query, expiration)
                self.count("read")
                self.calls["queries"] += len(window)
                while pending:
                    response = dns.query.receive_tcp(sock, expiration, keyring=False)[0]
                    entry = pending.pop(response.id, None)
                    if entry is None:
                        raise ProviderError("rfc2136: unexpected response id from %s" % self._where())
                    index, query = entry
                    if not query.is_response(response):
                        raise ProviderError("rfc2136: mismatched response from %s" % self._where())
                    results[index] = response
        except dns.exception.Timeout:
            raise ProviderError("rfc2136: timeout waiting for %s" % self._where()) from None
        except EOFError:
            raise ProviderError("rfc2136: %s closed the connection" % self._where()) from None
        except OSError as exc:
            raise ProviderError("rfc2136: connection to %s failed: %s" % (self._where(), exc)) from None
        except dns.exception.DNSException as exc:
            raise ProviderError("rfc2136: bad response from %s: %s" % (self._where(), exc)) from None
        finally:
            sock.close()
        return results

    def _check_read_rcode(self, response, qname: str) -> None:
        rcode = response.rcode()
        if rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            return
        if rcode == dns.rcode.NOTAUTH:
            if self.keyring is not None:
                raise ProviderError(
                    "rfc2136: %s rejected the TSIG key %s (NOTAUTH: wrong key name, secret or algorithm)"
                    % (self._where(), self.key_name.to_text(omit_final_dot=True))
                )
            raise ProviderError("rfc2136: %s is not authoritative for %s (NOTAUTH)" % (self._where(), qname))
        if rcode == dns.rcode.REFUSED:
            raise ProviderError("rfc2136: %s refused the query for %s (no zone there?)" % (self._where(), qname))
        raise ProviderError("rfc2136: %s answered %s for %s" % (self._where(), _rcode_text(rcode), qname))

    # -- zones ----------------------------------------------------------------------------
    def find_zones(self, names: list[str]) -> dict[str, str]:
        """The zone of each name, by one pipelined batch of SOA queries to the server."""
        names = [normalize_name(n) for n in names]
        todo = sorted({n for n in names if n not in self._zone_cache})
        responses = self._pipeline([(n, "SOA") for n in todo])
        for qname, response in zip(todo, responses):
            self._check_read_rcode(response, qname)
            zone = None
            for section in (response.answer, response.authority):
                for rrset in section:
                    if rrset.rdtype == dns.rdatatype.SOA:
                        zone = rrset.name.to_text(omit_final_dot=True).lower()
                        break
                if zone:
                    break
            if zone is None or not (qname == zone or qname.endswith("." + zone)):
                raise ProviderError(
                    "rfc2136: no zone for %s on %s (the server is not authoritative for it, or it is delegated)"
                    % (qname, self._where())
                )
            self._zone_cache[qname] = zone
        return {n: self._zone_cache[n] for n in names}

    def find_zone(self, name: str) -> str:
        return self.find_zones([name])[normalize_name(name)]

    # -- records --------------------------------------------------------------------------
    def get_rrsets(self, zone: str, names: list[str], rtype: str = "TXT") -> dict[str, RecordSet]:
        zone = normalize_name(zone)
        rtype = rtype.upper()
        wanted = sorted({normalize_name(n) for n in names})
        responses = self._pipeline([(n, rtype) for n in wanted])
        result: dict[str, RecordSet] = {}
        qtype = dns.rdatatype.from_text(rtype)
        for qname, response in zip(wanted, responses):
            self._check_read_rcode(response, qname)
            if not response.flags & dns.flags.AA:
                raise ProviderError(
                    "rfc2136: %s gave a non-authoritative answer for %s (is it the primary of %s?)"
                    % (self._where(), qname, zone)
                )
            for rrset in response.answer:
                if rrset.rdtype != qtype or rrset.name.to_text(omit_final_dot=True).lower() != qname:
                    continue
                values = [self._rdata_value(rdata, rtype) for rdata in rrset]
                result[qname] = RecordSet(qname, rtype, rrset.ttl, values)
                self._raw[(qname, rtype)] = dns.rdataset.from_rdata_list(rrset.ttl, list(rrset))
        return result

    @staticmethod
    def _rdata_value(rdata, rtype: str) -> str:
        if rtype == "TXT":
            return from_wire_strings(rdata.strings)
        return rdata.to_text()

    def _rdata(self, value: str, rtype: str):
        if rtype == "TXT":
            return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, to_wire_strings(value))
        return dns.rdata.from_text(dns.rdataclass.IN, rtype, value)

    def _rdatas(self, rrset: RecordSet, reuse) -> list:
        """Rdatas of ``rrset``; values read from the server keep their exact wire form."""
        known = {}
        if reuse is not None:
            for rdata in reuse:
                known.setdefault(self._rdata_value(rdata, rrset.rtype), rdata)
        out = []
        for value in rrset.values:
            out.append(known[value] if value in known else self._rdata(value, rrset.rtype))
        return out

    def build_update(self, zone: str, changes: list[Change]):
        """The one UPDATE message (with prerequisites) for all ``changes`` of ``zone``."""
        zone = normalize_name(zone)
        if self.keyring is not None:
            update = dns.update.UpdateMessage(zone + ".", keyring=self.keyring)
        else:
            update = dns.update.UpdateMessage(zone + ".")
        for change in changes:
            name = change.name
            if not (name == zone or name.endswith("." + zone)):
                raise ProviderError("rfc2136: %s is not in zone %s" % (name, zone), zone=zone)
            owner = dns.name.from_text(name + ".")
            rtype = change.rtype
            raw = self._raw.get((name, rtype))
            if change.before is None:
                update.absent(owner, rtype)
            else:
                before = self._rdatas(change.before, raw)
                update.present(owner, dns.rdataset.from_rdata_list(0, before))
            if change.after is None:
                update.delete(owner, rtype)
            else:
                after = self._rdatas(change.after, raw)
                update.replace(owner, dns.rdataset.from_rdata_list(change.after.ttl, after))
        return update

    def apply(self, zone: str, changes: list[Change]) -> None:
        zone = normalize_name(zone)
        if not changes:
            return
        update = self.build_update(zone, changes)
        sock = self._connect()
        try:
            self.count("write")
            response = dns.query.tcp(update, self._address[4][0], timeout=self.timeout, port=self.port, sock=sock)
        except dns.tsig.PeerBadKey:
            raise ProviderError(
                "rfc2136: %s does not know the TSIG key %s (BADKEY); zone %s was not changed"
                % (self._where(), self.key_name.to_text(omit_final_dot=True), zone),
                zone=zone,
            ) from None
        except dns.tsig.PeerBadSignature:
            raise ProviderError(
                "rfc2136: %s rejected the TSIG signature of key %s (BADSIG: wrong secret or algorithm); "
                "zone %s was not changed" % (self._where(), self.key_name.to_text(omit_final_dot=True), zone),
                zone=zone,
            ) from None
        except (dns.tsig.PeerBadTime, dns.tsig.PeerBadTruncation) as exc:
            raise ProviderError(
                "rfc2136: %s rejected the TSIG of the update for zone %s (%s)" % (self._where(), zone, exc), zone=zone
            ) from None
        except dns.exception.Timeout:
            raise ProviderError(
                "rfc2136: timeout waiting for %s; the update of zone %s may or may not have been applied, re-run"
                % (self._where(), zone),
                zone=zone,
            ) from None
        except (OSError, EOFError) as exc:
            raise ProviderError(
                "rfc2136: connection to %s failed during the update of zone %s: %s" % (self._where(), zone, exc),
                zone=zone,
            ) from None
        except dns.exception.DNSException as exc:
            raise ProviderError(
                "rfc2136: bad response from %s to the update of zone %s: %s" % (self._where(), zone, exc), zone=zone
            ) from None
        finally:
            sock.close()
        rcode = response.rcode()
        if rcode == dns.rcode.NOERROR:
            for change in changes:
                self._raw.pop((change.name, change.rtype), None)
            return
        reasons = {
            dns.rcode.REFUSED: "the server refused the update (allow-update / update-policy does not grant it)",
            dns.rcode.NOTAUTH: "the server is not authoritative for the zone or rejected the TSIG key (NOTAUTH)",
            dns.rcode.NOTZONE: "a name is outside the zone (NOTZONE)",
            dns.rcode.NXRRSET: "a record changed since it was read (NXRRSET: concurrent change detected, re-run)",
            dns.rcode.YXRRSET: "a record appeared since it was read (YXRRSET: concurrent change detected, re-run)",
            dns.rcode.YXDOMAIN: "a name appeared since it was read (YXDOMAIN: concurrent change detected, re-run)",
            dns.rcode.NXDOMAIN: "a name disappeared since it was read (NXDOMAIN: concurrent change detected, re-run)",
            dns.rcode.SERVFAIL: "the server failed to apply the update (SERVFAIL)",
        }
        reason = reasons.get(rcode, "the server answered %s" % _rcode_text(rcode))
        raise ProviderError(
            "rfc2136: update of zone %s at %s failed: %s; zone %s was not changed"
            % (zone, self._where(), reason, zone),
            zone=zone,
        )
