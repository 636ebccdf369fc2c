# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One HTTP/JSON client for the HTTP providers, on Ansible's ``open_url``.

Bounded retries with exponential backoff for HTTP 429 and 5xx (``Retry-After`` honoured, capped)
and, for reads, for connection failures. A write is retried after a 5xx only when the caller says
it is safe (``retry_5xx``): a non-idempotent request may have been applied. Every attempt is
counted on the provider (``Provider.count``).
"""

from __future__ import annotations

import json
import socket
import time
import typing as t

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import open_url

BACKOFF_BASE = 0.5
BACKOFF_MAX = 8.0


class HttpError(Exception):
    """A request failed: ``status`` is the HTTP status (None when the server was not reached)."""

    def __init__(self, status: int | None, body: bytes | None, reason: str = "") -> None:
        super().__init__(reason or "HTTP %s" % status)
        self.status = status
        self.body = body
        self.reason = reason

    def json(self) -> t.Any:
        """The error body decoded as JSON (None when it is not JSON)."""
        try:
            return json.loads(self.body or b"")
        except (ValueError, TypeError):
            return None


def backoff(attempt: int, retry_after: str | None = None) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): ``Retry-After`` if given, else exponential."""
    if retry_after:
        try:
            return min(max(float(retry_after), 0.0), BACKOFF_MAX)
        except ValueError:
            pass
    return min(BACKOFF_BASE * (2**attempt), BACKOFF_MAX)


class JsonClient:
    """JSON requests to one API base URL with fixed headers, counted on ``counter(kind)``."""

    def __init__(
        self,
        base_url: str,
        headers: dict,
        counter: t.Callable[[str], None],
        timeout: int = 30,
        validate_certs: bool = True,
        retries: int = 3,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers, Accept="application/json")
        self.counter = counter
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.retries = retries
        self.sleep = sleep

    def request(
        self,
        method: str,
        path: str,
        query: dict | None = None,
        body: t.Any = None,
        kind: str = "read",
        retry_5xx: bool | None = None,
    ) -> t.Any:
        """Send one request (with retries) and return the decoded JSON (None for an empty body).

        Raises HttpError. ``retry_5xx`` defaults to True for reads and False for writes.
        """
        url = self.base_url + path
        if query:
            url += "?" + urlencode(query)
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body, sort_keys=True)
            headers["Content-Type"] = "application/json"
        if retry_5xx is None:
            retry_5xx = kind == "read"
        attempt = 0
        while True:
            self.counter(kind)
            try:
                response = open_url(
                    url,
                    data=data,
                    headers=headers,
                    method=method,
                    timeout=self.timeout,
                    validate_certs=self.validate_certs,
                    follow_redirects="none",
                    use_netrc=False,
                    http_agent="mailauth.core",
                )
                payload = response.read()
            except HTTPError as exc:
                status = exc.code
                try:
                    error_body = exc.read()
                except (OSError, ValueError):
                    error_body = None
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                retryable = status == 429 or (status >= 500 and retry_5xx)
                if retryable and attempt < self.retries:
                    self.sleep(backoff(attempt, retry_after))
                    attempt += 1
                    continue
                raise HttpError(status, error_body, "HTTP %d" % status) from None
            except (URLError, socket.timeout, OSError) as exc:
                if kind == "read" and attempt < self.retries:
                    self.sleep(backoff(attempt))
                    attempt += 1
                    continue
                raise HttpError(None, None, str(getattr(exc, "reason", exc))) from None
            if not payload:
                return None
            try:
                return json.loads(payload)
            except ValueError:
                raise HttpError(response.getcode(), payload, "the answer is not JSON") from None
