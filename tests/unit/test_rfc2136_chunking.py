# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""RFC 2136: a zone's changes in the fewest UPDATE messages that each fit in one DNS message.

The last tests talk to a scripted DNS server on 127.0.0.1 (a thread of this test) to see what
the provider sends when a later message fails.
"""

from __future__ import annotations

import base64
import socket
import struct
import threading

import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.tsigkeyring
import dns.update
import pytest

from ansible_collections.mailauth.core.plugins.module_utils import _rfc2136
from ansible_collections.mailauth.core.plugins.module_utils._provider import (
    Change,
    ProviderError,
    RecordSet,
    get_provider,
)

ZONE = "bench.test"
SECRET = base64.b64encode(b"k" * 32).decode()
DKIM_2048 = "v=DKIM1; k=rsa; p=" + base64.b64encode(b"\x30" * 294).decode()  # the size of a 2048-bit key
DKIM_4096 = "v=DKIM1; k=rsa; p=" + base64.b64encode(b"\x30" * 550).decode()


def provider(**options):
    opts = {"server": "127.0.0.1", "key_name": "mailauth-test", "key_secret": SECRET}
    opts.update(options)
    return get_provider("rfc2136", opts)


def creates(n: int, dkim: str = DKIM_2048) -> list[Change]:
    out = []
    for i in range(n):
        domain = "d%04d.%s" % (i, ZONE)
        out.append(Change("create", None, RecordSet(domain, "TXT", 300, ["v=spf1 mx -all"])))
        out.append(Change("create", None, RecordSet("mx1._domainkey." + domain, "TXT", 300, [dkim])))
        out.append(Change("create", None, RecordSet("_dmarc." + domain, "TXT", 300, ["v=DMARC1; p=reject"])))
    return out


def sections(wire: bytes):
    """(prerequisite owners, update owners) of an UPDATE message on the wire."""
    keyring = dns.tsigkeyring.from_text({"mailauth-test": SECRET})
    message = dns.message.from_wire(wire, keyring=keyring)
    assert message.opcode() == dns.opcode.UPDATE
    prerequisites = {rrset.name.to_text(omit_final_dot=True) for rrset in message.prerequisite}
    updates = {rrset.name.to_text(omit_final_dot=True) for rrset in message.update}
    return prerequisites, updates, message


def test_small_change_set_is_one_message():
    messages = provider().build_updates(ZONE, creates(10))
    assert len(messages) == 1
    assert len(messages[0][1]) == 30


def test_1000_domains_are_split_into_messages_that_fit():
    changes = creates(1000)
    messages = provider().build_updates(ZONE, changes)
    sizes = [len(update.to_wire()) for update, _chunk in messages]  # signed with TSIG
    assert all(size <= _rfc2136.MAX_MESSAGE_SIZE for size in sizes)
    # order kept, nothing lost, nothing twice
    assert [c for _update, chunk in messages for c in chunk] == changes
    # tightly packed: no message but the last could have been merged with the next
    assert len(messages) <= -(-sum(sizes) // (_rfc2136.MAX_MESSAGE_SIZE - _rfc2136.TSIG_RESERVE)) + 1
    assert 8 <= len(messages) <= 11
    assert min(sizes[:-1]) > 0.85 * _rfc2136.MAX_MESSAGE_SIZE


def test_every_message_carries_the_prerequisites_of_its_own_rrsets():
    changes = creates(400, DKIM_4096)
    messages = provider().build_updates(ZONE, changes)
    assert len(messages) >= 4
    for update, chunk in messages:
        prerequisites, updates, parsed = sections(update.to_wire())
        names = {c.name for c in chunk}
        assert prerequisites == names
        assert updates == names
        # a create is "RRset does not exist" (class NONE, no data), then an add of the value
        for rrset in parsed.prerequisite:
            assert rrset.deleting == dns.rdataclass.NONE and rrset.rdtype == dns.rdatatype.TXT and len(rrset) == 0
        for rrset in parsed.update:
            assert rrset.deleting is None and len(rrset) == 1


def test_update_and_delete_keep_value_dependent_prerequisites():
    old = RecordSet("a.%s" % ZONE, "TXT", 300, ["google-site-verification=x", "v=spf1 -all"])
    new = RecordSet("a.%s" % ZONE, "TXT", 300, ["google-site-verification=x", "v=spf1 mx -all"])
    gone = RecordSet("_dmarc.a.%s" % ZONE, "TXT", 300, ["v=DMARC1; p=none"])
    update = provider().build_update(ZONE, [Change("update", old, new), Change("delete", gone, None)])
    _pre, _upd, parsed = sections(update.to_wire())
    exists: dict = {}
    for rrset in parsed.prerequisite:  # "RRset exists (value dependent)": class IN with the exact values
        assert rrset.deleting is None and rrset.ttl == 0
        exists.setdefault(rrset.name.to_text(omit_final_dot=True), []).extend(
            b"".join(r.strings).decode() for r in rrset
        )
    assert sorted(exists["a.bench.test"]) == sorted(old.values)
    assert exists["_dmarc.a.bench.test"] == gone.values
    # replace = delete the RRset (class ANY) then add the new values; delete = class ANY only
    ops = [
        (rrset.name.to_text(omit_final_dot=True), rrset.deleting, [b"".join(r.strings).decode() for r in rrset])
        for rrset in parsed.update
    ]
    assert ops == [
        ("a.bench.test", dns.rdataclass.ANY, []),
        ("a.bench.test", None, ["google-site-verification=x"]),
        ("a.bench.test", None, ["v=spf1 mx -all"]),
        ("_dmarc.a.bench.test", dns.rdataclass.ANY, []),
    ]


def test_a_smaller_limit_gives_more_messages():
    p = provider()
    p.max_message_size = 8192
    messages = p.build_updates(ZONE, creates(100))
    assert len(messages) >= 8
    assert all(len(update.to_wire()) <= 8192 for update, _chunk in messages)


def test_one_rrset_too_big_for_any_message_is_refused_before_sending():
    values = ["v=%04d;" % i + "x" * 250 for i in range(300)]  # ~78 KB in one RRset
    change = Change("create", None, RecordSet("big.%s" % ZONE, "TXT", 300, values))
    with pytest.raises(ProviderError, match="more than one DNS message holds"):
        provider().build_updates(ZONE, [change])


def test_name_outside_the_zone_is_refused():
    change = Change("create", None, RecordSet("example.org", "TXT", 300, ["v=spf1 -all"]))
    with pytest.raises(ProviderError, match="not in zone"):
        provider().build_updates(ZONE, [change])


# ---------------------------------------------------------------------------------------------
# a scripted server: answers the n-th UPDATE with rcodes[n]
class ScriptedServer:
    def __init__(self, rcodes: list[int]) -> None:
        self.rcodes = list(rcodes)
        self.received: list[dns.message.Message] = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.keyring = dns.tsigkeyring.from_text({"mailauth-test": SECRET})
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read(self, conn, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _serve(self) -> None:
        conn = self.listener.accept()[0]
        conn.settimeout(10)
        with conn:
            try:
                for rcode in self.rcodes:
                    (length,) = struct.unpack("!H", self._read(conn, 2))
                    request = dns.message.from_wire(self._read(conn, length), keyring=self.keyring)
                    self.received.append(request)
                    response = dns.message.make_response(request)
                    response.set_rcode(rcode)
                    wire = response.to_wire()
                    conn.sendall(struct.pack("!H", len(wire)) + wire)
            except (EOFError, OSError):
                return

    def close(self) -> None:
        self.thread.join(timeout=10)
        self.listener.close()


def test_later_message_fails_names_what_was_applied_and_stops():
    server = ScriptedServer([dns.rcode.NOERROR, dns.rcode.NOERROR, dns.rcode.YXRRSET, dns.rcode.NOERROR])
    try:
        p = provider(port=server.port, timeout=5)
        changes = creates(400, DKIM_4096)
        messages = p.build_updates(ZONE, changes)
        assert len(messages) >= 4
        first_two = [c for _update, chunk in messages[:2] for c in chunk]
        with pytest.raises(ProviderError) as raised:
            p.apply(ZONE, changes)
    finally:
        server.close()
    error = raised.value
    message = str(error)
    assert "UPDATE message 3 of %d" % len(messages) in message
    assert "concurrent change detected" in message
    assert "messages 1-2 were applied (%d changes: " % len(first_two) in message
    assert first_two[0].name in message
    assert "re-run to complete the work" in message
    assert error.applied == [c.name for c in first_two]
    assert error.zone == ZONE
    # message 4 was never sent, and all three went on one connection, in order
    assert len(server.received) == 3
    assert p.calls["write"] == 3
    for request, (_update, chunk) in zip(server.received, messages):
        assert {rrset.name.to_text(omit_final_dot=True) for rrset in request.update} == {c.name for c in chunk}


def test_first_message_fails_nothing_applied():
    server = ScriptedServer([dns.rcode.REFUSED])
    try:
        p = provider(port=server.port, timeout=5)
        with pytest.raises(ProviderError) as raised:
            p.apply(ZONE, creates(400, DKIM_4096))
    finally:
        server.close()
    assert "refused the update" in str(raised.value)
    assert "zone bench.test was not changed" in str(raised.value)
    assert raised.value.applied == []
    assert len(server.received) == 1


def test_all_messages_succeed():
    changes = creates(400, DKIM_4096)
    count = len(provider().build_updates(ZONE, changes))
    server = ScriptedServer([dns.rcode.NOERROR] * count)
    try:
        p = provider(port=server.port, timeout=5)
        p.apply(ZONE, changes)
    finally:
        server.close()
    assert len(server.received) == count
    assert p.calls["write"] == count
    sent = [rrset.name.to_text(omit_final_dot=True) for r in server.received for rrset in r.update]
    assert sent == [c.name for c in changes]
