# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mailauth.core.dns_records with the cloudflare provider, against recorded HTTP exchanges.

The exchanges in cloudflare_cassettes/ were constructed by hand from Cloudflare's public API v4
documentation (see the README there); they were not captured from the live API. A replay server on
127.0.0.1 serves them in order and checks that every request the module sends matches the
recording (method, path, query, bearer token, JSON body).
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from servers import run_module

CASSETTES = Path(__file__).resolve().parent / "cloudflare_cassettes"


class ReplayServer:
    """Serves one cassette's interactions in order on 127.0.0.1 and checks each request."""

    def __init__(self, cassette: str) -> None:
        self.cassette = json.loads((CASSETTES / (cassette + ".json")).read_text())
        self.interactions = self.cassette["interactions"]
        self.position = 0
        self.mismatches: list[str] = []
        self.received: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, body = replay.answer(self.command, self.path, dict(self.headers), raw)
                payload = json.dumps(body).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/client/v4" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, method: str, target: str, headers: dict, raw: bytes) -> tuple[int, dict, dict]:
        split = urlsplit(target)
        query = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        with self.lock:
            self.received.append((method, split.path))
            if self.position >= len(self.interactions):
                self.mismatches.append("unexpected extra request %s %s %s" % (method, split.path, query))
                return 418, {}, {"success": False, "errors": [{"code": 0, "message": "replay: no more interactions"}]}
            expected = self.interactions[self.position]
            want = expected["request"]
            problems = []
            if method != want["method"]:
                problems.append("method %s != %s" % (method, want["method"]))
            if split.path != want["path"]:
                problems.append("path %s != %s" % (split.path, want["path"]))
            if query != want.get("query", {}):
                problems.append("query %s != %s" % (query, want.get("query", {})))
            if body != want.get("body"):
                problems.append(
                    "body %s != %s" % (json.dumps(body, sort_keys=True), json.dumps(want.get("body"), sort_keys=True))
                )
            if auth != "Bearer " + self.token:
                problems.append("authorization header is not the recorded token")
            if problems:
                self.mismatches.append(
                    "interaction %d (%s): %s" % (self.position, expected.get("step", ""), "; ".join(problems))
                )
                return 418, {}, {"success": False, "errors": [{"code": 0, "message": "replay mismatch"}]}
            self.position += 1
            response = expected["response"]
            return response["status"], dict(response.get("headers", {})), response["body"]

    @property
    def token(self) -> str:
        return self.cassette["token"]

    def writes(self) -> int:
        with self.lock:
            return sum(1 for method, _path in self.received if method != "GET")

    def assert_all_used(self) -> None:
        assert self.mismatches == [], "\n".join(self.mismatches)
        assert self.position == len(self.interactions), "unused interactions from %d: %s" % (
            self.position,
            [i.get("step") for i in self.interactions[self.position :]],
        )

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def replay(request):
    servers = []

    def start(cassette: str) -> ReplayServer:
        server = ReplayServer(cassette)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def domain(cassette: dict) -> dict:
    return {
        "name": "example.test",
        "ttl": 300,
        "spf": {"mechanisms": ["mx"], "all": "-all"},
        "spf_merge": "merge",
        "dkim": [{"selector": "mx1", "key_type": "rsa", "public_key": cassette["dkim_public_key"]}],
        "dmarc": {"p": "reject", "rua": ["dmarc@example.test"]},
    }


def publish(server: ReplayServer, check: bool = False, token: str | None = None) -> dict:
    args = {
        "provider": "cloudflare",
        "cloudflare": {"api_token": token or server.token, "api_url": server.url},
        "domains": [domain(server.cassette)],
        "lint_dns": False,
    }
    return run_module("dns_records", args, check=check)


def test_cassette_dkim_key_is_rsa_4096():
    cassette = json.loads((CASSETTES / "four_step.json").read_text())
    key = load_der_public_key(base64.b64decode(cassette["dkim_public_key"]))
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 4096


def test_requests_match_the_documented_api(replay):
    """The four steps of the contract (test_provider_contract.py, against a stateful fake) replayed
    against exchanges built from Cloudflare's API documentation: the replay server checks every
    request (method, path, query, token, JSON body); check mode sends no write, the whole zone goes in
    ONE batch call, and a no-op run sends none."""
    server = replay("four_step")
    first = publish(server, check=True)
    assert first["changed"] is True and server.writes() == 0
    apex = next(e for e in first["plan"] if e["name"] == "example.test")
    assert "google-site-verification=abc123" in apex["after"]["values"]
    second = publish(server)
    assert not second.get("failed"), second.get("msg")
    assert server.writes() == 1 and second["api_calls"]["write"] == 1  # one batch call for the whole zone
    third = publish(server, check=True)
    assert third["changed"] is False
    fourth = publish(server)
    assert fourth["changed"] is False and server.writes() == 1
    server.assert_all_used()


def test_equivalent_forms_are_not_rewritten(replay):
    """Values stored split elsewhere, unquoted or without optional spaces are the same values."""
    server = replay("equivalent_forms")
    check = publish(server, check=True)
    assert not check.get("failed"), check.get("msg")
    assert check["changed"] is False
    apply = publish(server)
    assert not apply.get("failed"), apply.get("msg")
    assert apply["changed"] is False
    assert server.writes() == 0
    server.assert_all_used()


def test_bad_token_is_a_clear_error(replay):
    server = replay("bad_token")
    result = publish(server)
    assert result.get("failed") is True
    assert "401" in result["msg"]
    assert "api_token" in result["msg"]
    assert "nothing was changed" in result["msg"]
    assert server.token not in json.dumps(result)
    assert server.writes() == 0
    server.assert_all_used()


def test_server_errors_retried_then_zone_untouched_and_rerun_completes(replay):
    server = replay("server_errors")
    first = publish(server)
    assert first.get("failed") is True
    assert "HTTP 500" in first["msg"]
    assert first["applied_zones"] == []
    assert first["changed"] is False
    # 4 batch attempts, each after a fresh read that shows the zone untouched
    assert server.writes() == 4

    second = publish(server)
    assert not second.get("failed"), second.get("msg")
    assert second["changed"] is True
    assert second["applied_zones"] == ["example.test"]
    assert server.writes() == 5
    server.assert_all_used()


def test_provider_options_pass_through_the_module(replay):
    """batch_size, retries, timeout and validate_certs are module options the provider reads."""
    server = replay("equivalent_forms")
    args = {
        "provider": "cloudflare",
        "cloudflare": {
            "api_token": server.token,
            "api_url": server.url,
            "batch_size": 50,
            "retries": 1,
            "timeout": 10,
            "validate_certs": False,
        },
        "domains": [domain(server.cassette)],
        "lint_dns": False,
    }
    result = run_module("dns_records", args, check=True)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert server.writes() == 0
    bad = dict(args, cloudflare=dict(args["cloudflare"], batch_size=0))
    refused = run_module("dns_records", bad)
    assert refused.get("failed") is True
    assert "batch_size must be 1 or more" in refused["msg"]
