# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SPF policy service as systemd runs it (one process on a unix socket), against a real BIND on loopback.

One named serves ``test.`` with a sender domain per SPF result (-all, ~all, ?all, no record, a
permerror record, an include of a zone that answers SERVFAIL) and a zone for local rules, redirect
and the guess. The service is the installed file (roles/spf_policy/files/spf_policy.py), its JSON
built by the role's filter code; each mode's actions and headers are read from the protocol, the
headers parsed with authres, over one kept connection per service as smtpd keeps it; one test
asks over several connections at once. A second run points the service at a UDP port that never
answers (a DNS timeout). Each service is stopped with SIGTERM and must exit 0.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import authres
import pytest
from header_checks import cleanup
from servers import _stop, dns_query, free_port, named_options, start_named

from ansible_collections.mailauth.core.plugins.module_utils import _spf_policy

ROOT = Path(__file__).resolve().parents[2]
DAEMON = ROOT / "roles/spf_policy/files/spf_policy.py"
CLIENT = "192.0.2.1"
ADDRESS = "127.0.0.1"

ZONE = """$TTL 60
@ SOA ns.test. root.test. 1 60 60 600 60
@ NS ns.test.
ns A 127.0.0.1
pass TXT "v=spf1 ip4:192.0.2.0/24 -all"
fail TXT "v=spf1 ip4:198.51.100.0/24 -all"
softfail TXT "v=spf1 ip4:198.51.100.0/24 ~all"
neutral TXT "v=spf1 ip4:198.51.100.0/24 ?all"
none A 192.0.2.1
permerror TXT "v=spf1 ip4:198.51.100.0/24 bogus -all"
temperror TXT "v=spf1 include:spf.broken.test -all"
minusall TXT "v=spf1 -all"
redirect TXT "v=spf1 ip4:198.51.100.7 redirect=fail.test"
"""
RESULTS = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
EXPECTED = {
    "tag": ("accept", "accept", "accept", "accept", "accept", "accept", "accept"),
    "defer_temperror": ("accept", "accept", "accept", "accept", "accept", "accept", "defer"),
    "reject_fail": ("accept", "reject", "accept", "accept", "accept", "accept", "defer"),
    "reject_softfail": ("accept", "reject", "reject", "accept", "accept", "accept", "defer"),
    "reject_neutral": ("accept", "reject", "reject", "reject", "accept", "accept", "defer"),
    "reject_not_pass": ("accept", "reject", "reject", "reject", "reject", "reject", "defer"),
}
VARIABLES = {
    "mode": "tag",
    "permerror": "default",
    "temperror": "default",
    "helo_mode": "off",
    "headers": "both",
    "authserv_id": "mx2.example.test",
    "whitelist": [],
    "helo_whitelist": [],
    "sender_whitelist": [],
    "skip_networks": ["127.0.0.0/8", "::1/128"],
    "local_rules": [],
    "guess_enabled": False,
    "guess": "v=spf1 a/24 mx/24 ptr",
    "reject_code": 550,
    "reject_status": "5.7.23",
    "reject_text": "SPF check failed",
    "defer_code": 451,
    "defer_status": "4.7.24",
    "defer_text": "try again later",
    "nameservers": [ADDRESS],
    "dns_port": 53,
    "dns_timeout": 5,
    "service_name": "mailauth_spf",
    "user": "mailauth-spf",
    "postfix_queue_directory": "/var/spool/postfix",
    "daemon_path": str(DAEMON),
    "config_path": "/unused.json",
    "secret_path": "/unused.secret",
}
SECRET = "integration0123456789abcdefghijk"


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    """named on 127.0.0.1: zone test. and a zone broken.test. whose file is missing (SERVFAIL)."""
    work = tmp_path_factory.mktemp("spf-named")
    port = free_port(ADDRESS)
    (work / "test.db").write_text(ZONE)
    conf = work / "named.conf"
    conf.write_text(
        named_options(work, port, [ADDRESS])
        + 'zone "test" { type primary; file "%s/test.db"; };\n' % work
        + 'zone "broken.test" { type primary; file "%s/missing.db"; };\n' % work
    )
    proc = start_named(conf, lambda: dns_query(ADDRESS, port, "test.", "SOA").answer, "named for the SPF policy")
    try:
        yield port
    finally:
        _stop(proc)


class Policy:
    """The service as systemd runs it: one process on a unix socket; smtpd's kept connection."""

    def __init__(self, tmp_path: Path, name: str, **overrides) -> None:
        secret = tmp_path / ("%s.secret" % name)
        secret.write_text(SECRET + "\n")
        values = dict(VARIABLES, secret_path=str(secret), **overrides)
        path = tmp_path / ("%s.json" % name)
        path.write_text(json.dumps(_spf_policy.build(values)["config"]))
        assert subprocess.run([sys.executable, str(DAEMON), "--check", str(path)], check=False).returncode == 0
        self.socket_path = str(tmp_path / ("%s.sock" % name))
        self.proc = subprocess.Popen([sys.executable, str(DAEMON), "--socket", self.socket_path, str(path)])
        self.count = 0
        self.conn = self.connect()
        self.stream = self.conn.makefile("rw", encoding="utf-8", newline="\n")

    def connect(self) -> socket.socket:
        """A new connection, once the service listens."""
        deadline = time.monotonic() + 30
        while True:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(60)
            try:
                conn.connect(self.socket_path)
                return conn
            except OSError:
                conn.close()
                assert self.proc.poll() is None, "the service exited with %s" % self.proc.returncode
                assert time.monotonic() < deadline, "the service does not listen on %s" % self.socket_path
                time.sleep(0.1)

    def ask(self, sender: str, helo: str = "mail.pass.test", client: str = CLIENT, instance: str = "") -> str:
        self.count += 1
        attrs = {
            "request": "smtpd_access_policy",
            "protocol_state": "RCPT",
            "protocol_name": "ESMTP",
            "client_address": client,
            "client_name": "unknown",
            "helo_name": helo,
            "sender": sender,
            "recipient": "bob@example.test",
            "instance": instance or "i%d" % self.count,
            "sasl_username": "",
        }
        self.stream.write("".join("%s=%s\n" % kv for kv in attrs.items()) + "\n")
        self.stream.flush()
        line = self.stream.readline()
        assert self.stream.readline() == "\n"
        assert line.startswith("action=")
        return line[len("action=") :].rstrip("\n")

    def message(self, sender: str, **kwargs) -> list:
        """The answers to the two restriction entries of one message (headers: both)."""
        instance = "m%d" % self.count
        return [self.ask(sender, instance=instance, **kwargs) for _answer in range(2)]

    def close(self) -> int:
        self.stream.close()
        self.conn.close()
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=10)


@pytest.fixture
def policy(named, tmp_path):
    made = []

    def make(**overrides):
        overrides.setdefault("dns_port", named)
        made.append(Policy(tmp_path, "p%d" % len(made), **overrides))
        return made[-1]

    yield make
    for p in made:
        assert p.close() == 0


def spf_results(answer: str) -> list:
    """The policy's field as Postfix's cleanup delivers it (header_checks rename it from its secret name)."""
    assert answer.startswith("PREPEND X-Mailauth-SPF-%s: " % SECRET)
    delivered = cleanup(_spf_policy.header_checks("mx2.example.test", SECRET, True), answer[len("PREPEND ") :])
    header = authres.AuthenticationResultsHeader.parse(delivered)
    assert header.authserv_id == "mx2.example.test"
    return [(r.result, r.smtp_mailfrom, getattr(r, "smtp_helo", None)) for r in header.results]


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_every_mode_against_real_dns(policy, mode):
    p = policy(mode=mode)
    for result, expected in zip(RESULTS, EXPECTED[mode]):
        sender = "joe@%s.test" % result
        first, second = p.message(sender)
        if expected == "reject":
            assert first == second == "550 5.7.23 SPF check failed (SPF %s for mailfrom %s.test)" % (result, result)
        elif expected == "defer":
            assert first == second == "451 4.7.24 try again later (SPF %s for mailfrom %s.test)" % (result, result)
        else:
            name = {"softfail": "SoftFail", "permerror": "PermError", "temperror": "TempError"}.get(
                result, result.capitalize()
            )
            assert first.startswith("PREPEND Received-SPF: %s (mx2.example.test: " % name)
            assert "client-ip=192.0.2.1;" in first and 'envelope-from="%s"' % sender in first
            assert spf_results(second) == [(result, sender, None)]


def test_helo_mode_and_the_null_sender(policy):
    p = policy(mode="tag", helo_mode="reject_fail")
    assert (
        p.message("joe@pass.test", helo="fail.test")[0] == "550 5.7.23 SPF check failed (SPF fail for helo fail.test)"
    )
    first, second = p.message("joe@fail.test", helo="pass.test")
    assert first.startswith("PREPEND Received-SPF: Fail ")
    assert spf_results(second) == [("fail", "joe@fail.test", None), ("pass", None, "pass.test")]
    p = policy(mode="reject_fail", helo_mode="off")
    assert p.message("", helo="fail.test")[0] == "550 5.7.23 SPF check failed (SPF fail for helo fail.test)"
    first, second = p.message("", helo="pass.test")
    assert first.startswith("PREPEND Received-SPF: Pass ") and "identity=helo" in first
    assert spf_results(second) == [("pass", None, "pass.test")]


def test_local_rules_and_redirect(policy):
    plain = policy(mode="reject_fail")
    assert plain.message("joe@minusall.test")[0].startswith("550 ")
    assert plain.message("joe@redirect.test")[0].startswith("550 ")
    local = policy(mode="reject_fail", local_rules=["ip4:192.0.2.0/24"])
    for domain in ("minusall.test", "redirect.test", "fail.test"):
        first, second = local.message("joe@%s" % domain)
        assert first.startswith("PREPEND Received-SPF: Pass "), domain
        assert 'mechanism="ip4:192.0.2.0/24"' in first
        assert spf_results(second) == [("pass", "joe@%s" % domain, None)]
    assert local.message("joe@fail.test", client="203.0.113.5")[0].startswith("550 ")


def test_guess(policy):
    strict = policy(mode="reject_not_pass")
    assert strict.message("joe@none.test")[0].startswith("550 5.7.23 SPF check failed (SPF none ")
    guess = policy(mode="reject_not_pass", guess_enabled=True)
    first, second = guess.message("joe@none.test")
    assert first.startswith("PREPEND Received-SPF: Pass (mx2.example.test: best guess record v=spf1 a/24 mx/24 ptr")
    assert "best guess record" in second and spf_results(second) == [("pass", "joe@none.test", None)]
    # From elsewhere the guess says neutral: none stays (a guess never makes a result stricter).
    assert guess.message("joe@none.test", client="203.0.113.5")[0].startswith("550 5.7.23 SPF check failed (SPF none ")
    # A domain with a record is never guessed.
    assert guess.message("joe@fail.test")[0].startswith("550 5.7.23 SPF check failed (SPF fail ")


def test_whitelist_and_skips(policy):
    p = policy(mode="reject_not_pass", whitelist=["192.0.2.0-192.0.2.3"], sender_whitelist=["softfail.test"])
    assert p.message("joe@fail.test") == ["DUNNO", "DUNNO"]
    assert p.message("joe@softfail.test", client="203.0.113.5") == ["DUNNO", "DUNNO"]
    assert p.message("joe@fail.test", client="127.0.0.1") == ["DUNNO", "DUNNO"]
    assert p.message("joe@fail.test", client="192.0.2.4")[0].startswith("550 ")


@pytest.fixture
def silent_dns():
    """A UDP port that takes DNS queries and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ADDRESS, 0))
    yield sock.getsockname()[1]
    sock.close()


def test_dns_timeout_is_temperror(policy, silent_dns):
    p = policy(mode="defer_temperror", dns_port=silent_dns, dns_timeout=2)
    assert p.message("joe@pass.test")[0] == "451 4.7.24 try again later (SPF temperror for mailfrom pass.test)"
    tagged = policy(mode="tag", dns_port=silent_dns, dns_timeout=2)
    first, second = tagged.message("joe@pass.test")
    assert first.startswith("PREPEND Received-SPF: TempError ")
    assert spf_results(second) == [("temperror", "joe@pass.test", None)]


def test_concurrent_connections_against_real_dns(policy):
    """Eight smtpd-like connections at once, each with its own messages, to one process."""
    p = policy(mode="reject_fail")
    answers = {}

    def session(index):
        conn = p.connect()
        with conn, conn.makefile("rw", encoding="utf-8", newline="\n") as stream:
            got = []
            for result in ("pass", "fail", "softfail"):
                attrs = {
                    "request": "smtpd_access_policy",
                    "protocol_state": "RCPT",
                    "client_address": CLIENT,
                    "helo_name": "mail.pass.test",
                    "sender": "u%d@%s.test" % (index, result),
                    "instance": "c%d-%s" % (index, result),
                }
                stream.write("".join("%s=%s\n" % kv for kv in attrs.items()) + "\n")
                stream.flush()
                got.append(stream.readline().rstrip("\n"))
                assert stream.readline() == "\n"
            answers[index] = got

    threads = [threading.Thread(target=session, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == list(range(8))
    for got in answers.values():
        assert got[0].startswith("action=PREPEND Received-SPF: Pass ")
        assert got[1] == "action=550 5.7.23 SPF check failed (SPF fail for mailfrom fail.test)"
        assert got[2].startswith("action=PREPEND Received-SPF: SoftFail ")
    # The first connection still works after the others closed.
    assert p.message("joe@pass.test")[0].startswith("PREPEND Received-SPF: Pass ")
