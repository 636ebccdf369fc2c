# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""moto's Route 53 in server mode on loopback, behind a counting and fault-injecting proxy.

Used by tests/integration/test_dns_records_route53.py and bench/dns_publish.py.

- ``MotoServer``: ``moto_server -H 127.0.0.1 -p <free port>`` as a subprocess.
- ``AwsProxy``: an HTTP proxy on 127.0.0.1 in front of moto. It logs every request the server
  side receives (operation name derived from method and path), so tests count
  ``ChangeResourceRecordSets`` calls independently of the provider's own counter, and it can
  answer the next N requests of an operation with an error (``Throttling``,
  ``PriorRequestNotComplete``, HTTP 5xx) before forwarding again.
"""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.1"
ACCESS_KEY = "AKIAMAILAUTHTEST0001"
SECRET_KEY = "mailauth-test-secret-key-not-a-real-one"
REGION = "us-east-1"


def client(endpoint_url: str):
    """A boto3 Route 53 client for moto at ``endpoint_url`` with the lab's credentials."""
    import boto3

    return boto3.client(
        "route53",
        endpoint_url=endpoint_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )


_OPERATIONS = (
    ("POST", re.compile(r"^/2013-04-01/hostedzone/[^/]+/rrset/?$"), "ChangeResourceRecordSets"),
    ("GET", re.compile(r"^/2013-04-01/hostedzone/[^/]+/rrset/?$"), "ListResourceRecordSets"),
    ("GET", re.compile(r"^/2013-04-01/hostedzonesbyname/?$"), "ListHostedZonesByName"),
    ("GET", re.compile(r"^/2013-04-01/hostedzone/?$"), "ListHostedZones"),
    ("POST", re.compile(r"^/2013-04-01/hostedzone/?$"), "CreateHostedZone"),
    ("GET", re.compile(r"^/2013-04-01/hostedzone/[^/]+/?$"), "GetHostedZone"),
    ("GET", re.compile(r"^/2013-04-01/change/[^/]+/?$"), "GetChange"),
)

_ERROR_XML = (
    '<?xml version="1.0"?>\n'
    '<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
    "<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
    "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
)


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def operation_of(method: str, path: str) -> str:
    path = path.split("?", 1)[0]
    for op_method, pattern, name in _OPERATIONS:
        if method == op_method and pattern.match(path):
            return name
    return "%s %s" % (method, path)


class MotoServer:
    """``moto_server`` on 127.0.0.1, a free port, as a child process."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = "http://%s:%d" % (HOST, self.port)
        self.log = Path(log_dir) / "moto.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> None:
        binary = Path(sys.executable).parent / "moto_server"
        self.proc = subprocess.Popen(
            [str(binary), "-H", HOST, "-p", str(self.port)],
            stdout=open(self.log, "wb"),  # noqa: SIM115 - lives as long as the process
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("moto_server exited: %s" % self.log.read_text(errors="replace")[-2000:])
            try:
                with urllib.request.urlopen(self.url + "/moto-api/", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto_server did not answer within %.0fs" % timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def _post(self, path: str, data: bytes = b"") -> None:
        request = urllib.request.Request(
            self.url + path, data=data, method="POST", headers={"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def reset(self) -> None:
        """Forget every hosted zone and record."""
        self._post("/moto-api/reset")

    def require_auth(self, enabled: bool) -> None:
        """Make moto check signatures and IAM permissions of every request (or stop doing so)."""
        self._post("/moto-api/reset-auth", b"0" if enabled else b"inf")


class _Fault:
    def __init__(self, operation: str, status: int, code: str, message: str, times: int, skip: int) -> None:
        self.operation = operation
        self.skip = skip
        self.status = status
        self.code = code
        self.message = message
        self.remaining = times


class AwsProxy:
    """A logging, fault-injecting HTTP proxy on 127.0.0.1 in front of ``upstream``."""

    def __init__(self, upstream: str) -> None:
        match = re.match(r"^http://([^:/]+):(\d+)$", upstream)
        if not match:
            raise ValueError(upstream)
        self.upstream = (match.group(1), int(match.group(2)))
        self.requests: list[tuple[str, str]] = []  # (operation, "forwarded" | "fault <code>")
        self.faults: list[_Fault] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                operation = operation_of(self.command, self.path)
                fault = proxy._take_fault(operation)
                if fault is not None:
                    proxy._log(operation, "fault %s" % fault.code)
                    payload = _ERROR_XML.format(code=fault.code, message=fault.message).encode()
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                proxy._log(operation, "forwarded")
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                    self.send_response(response.status)
                    for key, value in response.getheaders():
                        if key.lower() in ("transfer-encoding", "connection", "content-length", "server", "date"):
                            continue
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://%s:%d" % (HOST, self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _log(self, operation: str, outcome: str) -> None:
        with self.lock:
            self.requests.append((operation, outcome))

    def _take_fault(self, operation: str) -> _Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.operation != operation:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                if fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    # -- test API -------------------------------------------------------------------------
    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.faults.clear()

    def inject(
        self, operation: str, code: str, times: int, status: int = 400, message: str = "injected", skip: int = 0
    ) -> None:
        """After ``skip`` requests of ``operation`` pass, answer the next ``times`` with AWS error ``code``."""
        with self.lock:
            self.faults.append(_Fault(operation, status, code, message, times, skip))

    def count(self, operation: str, outcome: str | None = None) -> int:
        with self.lock:
            return sum(1 for op, out in self.requests if op == operation and (outcome is None or out == outcome))

    def total(self) -> int:
        with self.lock:
            return len(self.requests)
