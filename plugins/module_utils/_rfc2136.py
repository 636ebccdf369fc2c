# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""RFC 2136 dynamic update provider (dnspython), with TSIG.

Reads: when more than ``TRANSFER_MIN_NAMES`` names of a zone are wanted, the zone is read with
ONE zone transfer (AXFR, TSIG-signed with the same key); if the server refuses the transfer
(REFUSED, NOTAUTH, NOTIMP or a TSIG error), the names are queried instead. The SOA and TXT
queries of a batch are pipelined over one TCP connection (one round trip per batch of up to
``PIPELINE`` queries). ``calls["read"]`` counts round trips, ``calls["queries"]`` the request
messages, ``calls["transfers"]`` the zone transfers tried (``transfers_refused`` those refused).

Writes: ONE UPDATE message per zone while the zone's changes fit in one DNS message (64 KiB over
TCP, less room for the TSIG record). Larger change sets are split into several UPDATE messages,
sent in order on one TCP connection, each one waiting for the answer to the one before. Every
changed RRset carries a prerequisite in the message that changes it: the exact RRset read before
must still be there (RFC 2136 2.4.2, value dependent), or, for a new RRset, must not exist
(2.4.4). A concurrent change makes the server answer NXRRSET/YXRRSET and that message changes
nothing. Atomicity is per message: when message k fails, messages 1..k-1 stay applied, the rest
is not sent, and the error names what was applied (a re-run completes the work).
"""

from __future__ import annotations

import base64
import binascii
import socket
import time
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _deps
from ansible_collections.mailauth.core.plugins.module_utils._provider import (
    Change,
    Provider,
    ProviderError,
    RecordSet,
    RequestError,
    normalize_name,
    option,
    send_in_order,
)
from ansible_collections.mailauth.core.plugins.module_utils._txt import from_wire_strings, to_wire_strings

# dnspython, loaded through _deps (None when missing; Rfc2136Provider() then raises MissingLibrary).
REQUIREMENTS = (
    "dns.exception",
    "dns.flags",
    "dns.message",
    "dns.name",
    "dns.opcode",
    "dns.query",
    "dns.rcode",
    "dns.rdata",
    "dns.rdataclass",
    "dns.rdataset",
    "dns.rdatatype",
    "dns.rdtypes.ANY.TXT",
    "dns.tsig",
    "dns.update",
    "dns.xfr",
    "dns.zone",
)
LIBRARIES = {"dns": "dnspython>=2.3"}
dns = _deps.load("dns") if not _deps.missing(*REQUIREMENTS) else None

PIPELINE = 100
# Read a zone by AXFR when more names than this are wanted from it.
TRANSFER_MIN_NAMES = 20
# A DNS message over TCP has a 16-bit length prefix; keep room for the TSIG record (key and
# algorithm names of up to 255 bytes each, a MAC of up to 64 bytes, and its fixed fields).
MAX_MESSAGE_SIZE = 65535
TSIG_RESERVE = 1024
HEADER_SIZE = 12
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
    DESCRIPTION = "Dynamic updates (RFC 2136) with TSIG, for example to BIND 9, Knot or PowerDNS."
    BATCHING = "One UPDATE message per zone, with prerequisites; split only at the 64 KiB message size."
    REQUIREMENTS = REQUIREMENTS
    LIBRARIES = LIBRARIES
    OPTIONS: t.ClassVar[dict] = {
        "server": option("str", "The primary server (address or name).", required=True),
        "port": option("int", "Its port.", default=53),
        "key_name": option("str", "TSIG key name.", no_log=False),
        "key_secret": option("str", "TSIG key secret (base64).", no_log=True),
        "key_algorithm": option(
            "str", "TSIG algorithm.", default="hmac-sha256", choices=list(TSIG_ALGORITHMS), no_log=False
        ),
        "timeout": option("int", "Seconds to wait for each answer of the server.", default=10),
    }

    def __init__(self, options: dict | None = None) -> None:
        _deps.need(*REQUIREMENTS, libraries=LIBRARIES)
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
        # zone -> its contents by AXFR (until the zone is written); zones whose transfer was refused.
        self._transferred: dict[str, object] = {}
        self._no_transfer: set[str] = set()
        self.max_message_size = MAX_MESSAGE_SIZE

    # -- transport ------------------------------------------------------------------------
    def _where(self) -> str:
        return "%s port %d" % (self.server, self.port)

    def _resolve(self) -> tuple:
        """The server's address info (resolved once)."""
        if self._address is None:
            try:
                infos = socket.getaddrinfo(self.server, self.port, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise ProviderError("rfc2136: cannot resolve server %s: %s" % (self.server, exc)) from None
            if not infos:
                raise ProviderError("rfc2136: cannot resolve server %s: no address" % self.server)
            self._address = infos[0]
        return self._address

    def _connect(self) -> socket.socket:
        family, stype, proto, _canon, sockaddr = self._resolve()
        try:
            sock = socket.socket(family, stype, proto)
            sock.settimeout(self.timeout)
            try:
                sock.connect(sockaddr)
            except BaseException:
                sock.close()
                raise
            sock.setblocking(False)
            return sock
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
        """The named RRsets of ``zone``: one AXFR for many names, else pipelined queries."""
        zone = normalize_name(zone)
        rtype = rtype.upper()
        wanted = sorted({normalize_name(n) for n in names})
        if len(wanted) > TRANSFER_MIN_NAMES:
            transferred = self._transfer(zone)
            if transferred is not None:
                return self._from_transfer(zone, transferred, wanted, rtype)
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

    def _transfer(self, zone: str):
        """The whole ``zone`` by one AXFR (TSIG-signed), or None when the server refuses it.

        A refusal (REFUSED, NOTAUTH, NOTIMP, or a TSIG error on the transfer) is remembered for
        the zone, and the caller falls back to one query per name, whose errors are precise.
        """
        if zone in self._transferred:
            return self._transferred[zone]
        if zone in self._no_transfer:
            return None
        target = dns.zone.Zone(zone + ".", relativize=False)
        query = dns.xfr.make_query(target, serial=None, keyring=self.keyring)[0]
        query.flags &= ~dns.flags.RD
        self.count("read")
        self.calls["queries"] += 1
        self.calls["transfers"] += 1
        try:
            dns.query.inbound_xfr(self._resolve()[4][0], target, query, port=self.port, timeout=self.timeout)
        except dns.xfr.TransferError as exc:
            if exc.rcode in (dns.rcode.REFUSED, dns.rcode.NOTAUTH, dns.rcode.NOTIMP):
                self._no_transfer.add(zone)
                self.calls["transfers_refused"] += 1
                return None
            raise ProviderError(
                "rfc2136: %s answered %s to the zone transfer of %s" % (self._where(), _rcode_text(exc.rcode), zone)
            ) from None
        except dns.tsig.PeerError:
            self._no_transfer.add(zone)
            self.calls["transfers_refused"] += 1
            return None
        except dns.exception.Timeout:
            raise ProviderError(
                "rfc2136: timeout during the zone transfer of %s from %s" % (zone, self._where())
            ) from None
        except (OSError, EOFError) as exc:
            raise ProviderError(
                "rfc2136: connection to %s failed during the zone transfer of %s: %s" % (self._where(), zone, exc)
            ) from None
        except dns.exception.DNSException as exc:
            raise ProviderError("rfc2136: bad zone transfer of %s from %s: %s" % (zone, self._where(), exc)) from None
        self._transferred[zone] = target
        return target

    def _from_transfer(self, zone: str, transferred, wanted: list[str], rtype: str) -> dict[str, RecordSet]:
        """The ``wanted`` RRsets of a transferred zone (names below a delegation are an error)."""
        origin = transferred.origin
        cuts = [
            name.to_text(omit_final_dot=True).lower()
            for name, node in transferred.nodes.items()
            if name != origin and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS) is not None
        ]
        qtype = dns.rdatatype.from_text(rtype)
        result: dict[str, RecordSet] = {}
        for qname in wanted:
            if not (qname == zone or qname.endswith("." + zone)):
                raise ProviderError("rfc2136: %s is not in zone %s" % (qname, zone), zone=zone)
            for cut in cuts:
                if qname == cut or qname.endswith("." + cut):
                    raise ProviderError(
                        "rfc2136: %s is delegated away from zone %s (at %s); give the zone that holds it"
                        % (qname, zone, cut),
                        zone=zone,
                    )
            rdataset = transferred.get_rdataset(dns.name.from_text(qname + "."), qtype)
            if rdataset is None or len(rdataset) == 0:
                continue
            values = [self._rdata_value(rdata, rtype) for rdata in rdataset]
            result[qname] = RecordSet(qname, rtype, rdataset.ttl, values)
            self._raw[(qname, rtype)] = dns.rdataset.from_rdata_list(rdataset.ttl, list(rdataset))
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

    # -- updates --------------------------------------------------------------------------
    def _prepared(self, zone: str, change: Change) -> tuple:
        """(owner, rtype, before rdatas or None, after rdatas or None) of one change of ``zone``."""
        name = change.name
        if not (name == zone or name.endswith("." + zone)):
            raise ProviderError("rfc2136: %s is not in zone %s" % (name, zone), zone=zone)
        raw = self._raw.get((name, change.rtype))
        before = self._rdatas(change.before, raw) if change.before is not None else None
        after = self._rdatas(change.after, raw) if change.after is not None else None
        return dns.name.from_text(name + "."), change.rtype, before, after

    @staticmethod
    def _size(origin, owner, before, after) -> int:
        """An upper bound of the bytes one change adds to an UPDATE message of zone ``origin``.

        Every owner name is counted as its labels below the zone plus a 2-byte pointer to the zone
        name of the zone section (compression can point only into the first 16 KiB, so later
        owners may not shrink further), each RR with its 10 fixed bytes and its RDATA.
        """
        relative = owner.relativize(origin)
        name = 2 if relative == dns.name.empty else sum(len(label) + 1 for label in relative.labels) + 2
        empty = name + 10
        size = 0
        if before is None:
            size += empty  # prerequisite: RRset does not exist
        else:
            size += sum(empty + len(rdata.to_wire()) for rdata in before)  # RRset exists, these values
        if after is None:
            size += empty  # delete the RRset
        else:
            if before is not None:
                size += empty  # replace: delete the RRset, then add
            size += sum(empty + len(rdata.to_wire()) for rdata in after)
        return size

    def _budget(self, zone: str) -> int:
        """Bytes of one UPDATE message left for prerequisites and updates."""
        question = len(dns.name.from_text(zone + ".").to_wire()) + 4
        return self.max_message_size - TSIG_RESERVE - HEADER_SIZE - question

    def split_changes(self, zone: str, changes: list[Change]) -> list[list[Change]]:
        """``changes`` in order, cut into the fewest runs whose UPDATE messages fit in one DNS message.

        Raises ProviderError when one change alone does not fit.
        """
        zone = normalize_name(zone)
        origin = dns.name.from_text(zone + ".")
        budget = self._budget(zone)
        chunks: list[list[Change]] = []
        used = budget + 1
        for change in changes:
            owner, _rtype, before, after = self._prepared(zone, change)
            size = self._size(origin, owner, before, after)
            if size > budget:
                raise ProviderError(
                    "rfc2136: the change of %s %s needs about %d bytes, more than one DNS message holds (%d); "
                    "zone %s was not changed" % (change.name, change.rtype, size, budget, zone),
                    zone=zone,
                )
            if used + size > budget:
                chunks.append([])
                used = 0
            chunks[-1].append(change)
            used += size
        return chunks

    def build_update(self, zone: str, changes: list[Change]):
        """One UPDATE message (with prerequisites) for ``changes`` of ``zone``.

        A new RRset is added after a does-not-exist prerequisite; a changed RRset is replaced after
        a value-dependent exists prerequisite; a removed RRset is deleted after the same.
        """
        zone = normalize_name(zone)
        if self.keyring is not None:
            update = dns.update.UpdateMessage(zone + ".", keyring=self.keyring)
        else:
            update = dns.update.UpdateMessage(zone + ".")
        for change in changes:
            owner, rtype, before, after = self._prepared(zone, change)
            if before is None:
                update.absent(owner, rtype)
            else:
                update.present(owner, dns.rdataset.from_rdata_list(0, before))
            if after is None:
                update.delete(owner, rtype)
            elif before is None:
                update.add(owner, dns.rdataset.from_rdata_list(change.after.ttl, after))
            else:
                update.replace(owner, dns.rdataset.from_rdata_list(change.after.ttl, after))
        return update

    def build_updates(self, zone: str, changes: list[Change]) -> list[tuple]:
        """The UPDATE messages for all ``changes`` of ``zone``: ``(message, its changes)`` in order."""
        return [(self.build_update(zone, chunk), chunk) for chunk in self.split_changes(zone, changes)]

    def apply(self, zone: str, changes: list[Change]) -> None:
        zone = normalize_name(zone)
        if not changes:
            return
        messages = self.build_updates(zone, changes)
        self._transferred.pop(zone, None)
        sock = self._connect()

        def send(_number: int, message: tuple) -> None:
            update, chunk = message
            rcode = self._send_update(sock, update).rcode()
            if rcode != dns.rcode.NOERROR:
                raise RequestError(UPDATE_FAILURES.get(rcode, "the server answered %s" % _rcode_text(rcode)))
            for change in chunk:
                self._raw.pop((change.name, change.rtype), None)

        head = "rfc2136: update of zone %s at %s failed" % (zone, self._where())
        try:
            send_in_order(zone, messages, send, lambda m: [c.name for c in m[1]], head, "UPDATE message")
        finally:
            sock.close()

    def _send_update(self, sock, update):
        """Send one UPDATE on ``sock`` and wait for its answer; transport and TSIG errors as RequestError."""
        key = self.key_name.to_text(omit_final_dot=True) if self.key_name is not None else ""
        try:
            self.count("write")
            return dns.query.tcp(update, self._address[4][0], timeout=self.timeout, port=self.port, sock=sock)
        except dns.tsig.PeerBadKey:
            reason = "%s does not know the TSIG key %s (BADKEY)" % (self._where(), key)
        except dns.tsig.PeerBadSignature:
            reason = "%s rejected the TSIG signature of key %s (BADSIG: wrong secret or algorithm)" % (
                self._where(),
                key,
            )
        except (dns.tsig.PeerBadTime, dns.tsig.PeerBadTruncation) as exc:
            reason = "%s rejected the TSIG of the update (%s)" % (self._where(), exc)
        except dns.exception.Timeout:
            raise RequestError("timeout waiting for %s" % self._where(), unsure=True) from None
        except (OSError, EOFError) as exc:
            raise RequestError("connection to %s failed: %s" % (self._where(), exc), unsure=True) from None
        except dns.exception.DNSException as exc:
            raise RequestError("bad response from %s: %s" % (self._where(), exc), unsure=True) from None
        raise RequestError(reason)


UPDATE_FAILURES = {}
if dns is not None:
    UPDATE_FAILURES = {
        dns.rcode.REFUSED: "the server refused the update (allow-update / update-policy does not grant it)",
        dns.rcode.NOTAUTH: "the server is not authoritative for the zone or rejected the TSIG key (NOTAUTH)",
        dns.rcode.NOTZONE: "a name is outside the zone (NOTZONE)",
        dns.rcode.NXRRSET: "a record changed since it was read (NXRRSET: concurrent change detected, re-run)",
        dns.rcode.YXRRSET: "a record appeared since it was read (YXRRSET: concurrent change detected, re-run)",
        dns.rcode.YXDOMAIN: "a name appeared since it was read (YXDOMAIN: concurrent change detected, re-run)",
        dns.rcode.NXDOMAIN: "a name disappeared since it was read (NXDOMAIN: concurrent change detected, re-run)",
        dns.rcode.SERVFAIL: "the server failed to apply the update (SERVFAIL)",
    }
