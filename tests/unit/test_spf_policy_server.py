# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SPF policy service's server loop: one long-running process, many Postfix connections on a unix socket.

The real server (roles/spf_policy/files/spf_policy.py) on a socket in tmp_path, SPF evaluation
replaced by a table of results (no network); the last test starts the file as systemd does, with
the listening socket as fd 3 (LISTEN_FDS), and stops it with SIGTERM.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_spf_policy_daemon import CLIENT, config, daemon, delivered, fake

ROOT = Path(__file__).resolve().parents[2]
DAEMON = ROOT / "roles/spf_policy/files/spf_policy.py"


def wire(sender="joe@example.org", instance="1a2b.1", client=CLIENT, **extra) -> bytes:
    """One request as Postfix writes it."""
    attrs = {
        "request": "smtpd_access_policy",
        "protocol_state": "RCPT",
        "client_address": client,
        "helo_name": "mail.example.org",
        "sender": sender,
        "recipient": "bob@example.test",
        "instance": instance,
    }
    attrs.update(extra)
    return "".join("%s=%s\n" % item for item in attrs.items()).encode() + b"\n"


def answer(conn: socket.socket) -> str:
    """One answer (up to the empty line), or '' when the server closed the connection."""
    data = b""
    while not data.endswith(b"\n\n"):
        chunk = conn.recv(4096)
        if not chunk:
            return data.decode()
        data += chunk
    return data.decode()[: -len("\n\n")]


@pytest.fixture
def server(tmp_path):
    """Start the server on a socket in tmp_path with a fake evaluate; yields a connect() function."""
    started = []

    def start(evaluate, **overrides):
        cfg = config(tmp_path, **overrides)
        path = str(tmp_path / "spf.sock")
        srv = daemon.Server(cfg, path=path, evaluate_fn=evaluate)
        thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        started.append(srv)

        def connect() -> socket.socket:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(10)
            conn.connect(path)
            return conn

        return connect

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def test_many_requests_and_messages_on_one_connection(server):
    connect = server(fake(mail="fail"), mode="tag")
    with connect() as conn:
        for message in ("m1", "m2", "m3"):
            conn.sendall(wire(instance=message))
            assert answer(conn).startswith("action=PREPEND Received-SPF: Fail ")
            conn.sendall(wire(instance=message))
            # Under its secret name; Postfix's header_checks rename it (test_spf_policy_daemon.delivered).
            assert delivered(answer(conn)[len("action=") :]).startswith(
                "Authentication-Results: mx2.example.test; spf=fail"
            )
            conn.sendall(wire(instance=message, recipient="carol@example.test"))
            assert answer(conn) == "action=DUNNO"


def test_a_reject_is_answered_on_a_kept_connection(server):
    connect = server(fake(mail="fail"), mode="reject_fail")
    with connect() as conn:
        for _attempt in range(2):
            conn.sendall(wire())
            assert answer(conn).startswith("action=550 5.7.23 SPF check failed (SPF fail for mailfrom example.org)")


def test_connections_are_served_concurrently_each_with_its_own_state(server):
    """Eight connections are inside evaluate() at the same time (a barrier only they can pass)."""
    count = 8
    barrier = threading.Barrier(count, timeout=10)
    base = fake(mail="pass")

    def evaluate(cfg, ip, sender, helo):
        barrier.wait()
        return base(cfg, ip, sender, helo)

    connect = server(evaluate)
    results = {}

    def client(index):
        with connect() as conn:
            conn.sendall(wire(instance="msg%d" % index, sender="u%d@example.org" % index))
            first = answer(conn)
            conn.sendall(wire(instance="msg%d" % index, sender="u%d@example.org" % index))
            results[index] = (first, answer(conn))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not barrier.broken
    assert sorted(results) == list(range(count))
    for index, (first, second) in results.items():
        assert first.startswith("action=PREPEND Received-SPF: Pass ")
        assert delivered(second[len("action=") :]).startswith("Authentication-Results: ")
        assert "smtp.mailfrom=u%d@example.org" % index in second


def test_eof_in_the_middle_of_a_request_closes_quietly_and_the_server_goes_on(server):
    evaluate = fake(mail="pass")
    connect = server(evaluate)
    with connect() as conn:
        conn.sendall(wire()[:40])
        conn.shutdown(socket.SHUT_WR)
        assert answer(conn) == ""
    assert evaluate.calls == []
    with connect() as conn:
        conn.sendall(wire())
        assert answer(conn).startswith("action=PREPEND Received-SPF: Pass ")


@pytest.mark.parametrize(
    "garbage",
    [
        b"this is not a policy request\n\n",
        b"=value\n\n",
        b"request=smtpd_access_policy\nsender=" + b"a" * 9000 + b"\n\n",
        b"".join(b"x%d=1\n" % i for i in range(300)) + b"\n",
    ],
    ids=["no-equals", "no-name", "line-too-long", "too-many-attributes"],
)
def test_garbage_closes_the_connection_without_an_answer(server, garbage):
    evaluate = fake(mail="pass")
    connect = server(evaluate)
    with connect() as conn:
        conn.sendall(garbage)
        assert answer(conn) == ""
    assert evaluate.calls == []
    with connect() as conn:
        conn.sendall(wire())
        assert answer(conn).startswith("action=PREPEND ")


def test_other_requests_get_dunno_and_no_lookup(server):
    evaluate = fake(mail="fail")
    connect = server(evaluate, mode="reject_fail")
    with connect() as conn:
        conn.sendall(b"request=something_else\nsender=joe@example.org\n\n")
        assert answer(conn) == "action=DUNNO"
        conn.sendall(wire())
        assert answer(conn).startswith("action=550 ")
    assert len(evaluate.calls) == 1


def test_an_internal_error_defers_and_keeps_the_connection(server):
    def evaluate(cfg, ip, sender, helo):
        raise RuntimeError("boom")

    connect = server(evaluate, mode="reject_fail")
    with connect() as conn:
        conn.sendall(wire())
        assert answer(conn) == "action=DEFER_IF_PERMIT SPF policy service error"
        conn.sendall(wire(client="127.0.0.1"))
        assert answer(conn) == "action=DUNNO"


def test_read_request_on_bytes_decodes_utf8_and_stops_at_eof_mid_line():
    stream = io.BytesIO("sender=j\u00f6@example.org\n\nrequest=smtpd".encode())
    assert daemon.read_request(stream) == {"sender": "j\u00f6@example.org"}
    assert daemon.read_request(stream) is None


LAUNCH = """
import os, runpy, socket, sys
path, daemon, cfg = sys.argv[1:4]
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(path)
listener.listen(16)
fd = listener.detach()
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())
sys.argv = [daemon, cfg]
runpy.run_path(daemon, run_name="__main__")
"""


def test_main_serves_the_socket_systemd_passes_and_stops_on_sigterm(tmp_path):
    config(tmp_path, mode="reject_not_pass")  # writes spf_policy.json and its secret
    cfg = tmp_path / "spf_policy.json"
    path = str(tmp_path / "spf.sock")
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH, path, str(DAEMON), str(cfg)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                conn.settimeout(10)
                conn.connect(path)
                break
            except OSError:
                conn.close()
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
                time.sleep(0.1)
        with conn:
            for _request in range(3):  # loopback is a skip network: no DNS
                conn.sendall(wire(client="127.0.0.1"))
                assert answer(conn) == "action=DUNNO"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_main_without_a_socket_says_so(tmp_path):
    config(tmp_path)  # writes spf_policy.json and its secret
    cfg = tmp_path / "spf_policy.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
    done = subprocess.run([sys.executable, str(DAEMON), str(cfg)], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 2
    assert "no socket" in done.stderr
