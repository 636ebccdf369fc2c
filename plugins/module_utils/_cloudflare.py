# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Cloudflare backend: the REST API v4 through Ansible's ``open_url``, with an API token.

* Zones are found by name (``GET /zones?name=``), longest match first.
* Records are read with ``GET /zones/{id}/dns_records?type=TXT`` (and ``&name=`` when one
  name is wanted), page by page.
* All changes of a zone go in ONE ``POST /zones/{id}/dns_records/batch`` (deletes, patches and
  posts in one database transaction); more only when a zone has more changes than the batch
  limit of the plan (``batch_size``, 200 on the Free plan).
* TXT content is sent as quoted strings of at most 255 bytes (``"a" "b"``). Cloudflare may
  answer with the content quoted, split differently, or unquoted (records made by hand);
  values are compared semantically (``_txt.txt_equal``), so a re-run changes nothing.
* HTTP 429 and 5xx are retried a bounded number of times with backoff. The batch POST is not
  idempotent: after a 5xx it is re-sent only when a fresh read shows the zone untouched.
"""

from __future__ import annotations

import json
import time
import typing as t

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.mailauth.core.plugins.module_utils import _txt
from ansible_collections.mailauth.core.plugins.module_utils._http import HttpError, JsonClient, backoff
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

DEFAULT_API_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_BATCH_SIZE = 200
DEFAULT_RETRIES = 3
DEFAULT_TIMEOUT = 30
PER_PAGE = 1000
MAX_PAGES = 1000


class _Record:
    """One Cloudflare DNS record of an RRset: its id, logical value, TTL and content as stored."""

    __slots__ = ("content", "id", "ttl", "value")

    def __init__(self, record_id: str, value: str, ttl: int, content: str) -> None:
        self.id = record_id
        self.value = value
        self.ttl = ttl
        self.content = content


def content_to_value(rtype: str, content: str) -> str:
    """Cloudflare ``content`` as a logical value (TXT: quoted strings joined; unquoted kept as is)."""
    if rtype != "TXT":
        return content
    text = (content or "").strip()
    if text.startswith('"') and text.endswith('"'):
        try:
            return _txt.from_zone_text(text)
        except _txt.TxtError:
            return text
    return content or ""


def value_to_content(rtype: str, value: str) -> str:
    """A logical value as the ``content`` we send: TXT as quoted strings of at most 255 bytes."""
    if rtype != "TXT":
        return value
    return _txt.to_zone_text(value)


def _same(rtype: str, left: str, right: str) -> bool:
    return _txt.txt_equal(left, right) if rtype == "TXT" else left == right


class CloudflareProvider(Provider):
    """Cloudflare zones through the REST API v4.

    Options: ``api_token`` (required, a token with Zone:Read and DNS:Edit), ``api_url``,
    ``batch_size``, ``retries``, ``timeout``, ``validate_certs``.
    """

    name = "cloudflare"
    DESCRIPTION = "Cloudflare DNS through the REST API v4, with an API token."
    BATCHING = (
        "One C(dns_records/batch) request per zone (one database transaction); split beyond"
        " O(cloudflare.batch_size) operations."
    )
    OPTIONS: t.ClassVar[dict] = {
        "api_token": option("str", "A Cloudflare API token with DNS edit permission.", required=True, no_log=True),
        "api_url": option("str", "Base URL of the API (default C(https://api.cloudflare.com/client/v4))."),
        "batch_size": option(
            "int",
            [
                "Most changes in one C(dns_records/batch) request (the plan's limit, 200 on the Free plan).",
                "A zone with more changes is sent in several requests, in order.",
            ],
            default=DEFAULT_BATCH_SIZE,
        ),
        "retries": option("int", "Retries of a request answered with HTTP 429 or 5xx (with backoff).", default=3),
        "timeout": option("int", "Seconds to wait for each HTTP request.", default=DEFAULT_TIMEOUT),
        "validate_certs": option("bool", "Whether to validate the TLS certificate of the API.", default=True),
    }

    def __init__(self, options: dict | None = None) -> None:
        super().__init__(options)
        opts = self.options
        self.api_token = opts.get("api_token") or ""
        if not self.api_token:
            raise ProviderError("cloudflare: api_token is required")
        self.api_url = (opts.get("api_url") or DEFAULT_API_URL).rstrip("/")
        batch_size = opts.get("batch_size")
        self.batch_size = DEFAULT_BATCH_SIZE if batch_size is None else int(batch_size)
        if self.batch_size < 1:
            raise ProviderError("cloudflare: batch_size must be 1 or more")
        retries = opts.get("retries")
        self.retries = DEFAULT_RETRIES if retries is None else int(retries)
        self.timeout = int(opts.get("timeout") or DEFAULT_TIMEOUT)
        self.validate_certs = opts.get("validate_certs", True) is not False
        self.http = JsonClient(
            self.api_url,
            {"Authorization": "Bearer %s" % self.api_token},
            self.count,
            timeout=self.timeout,
            validate_certs=self.validate_certs,
            retries=self.retries,
        )
        self._zone_ids: dict[str, str | None] = {}
        self._records: dict[tuple[str, str, str], list[_Record]] = {}
        # record id -> name, for the names a batch request changes (a delete carries only the id)
        self._id_names: dict[str, str] = {}

    # -- HTTP -----------------------------------------------------------------------------
    def _message(self, status: int | None, body: bytes | str | None, what: str) -> str:
        detail = ""
        if body:
            try:
                data = json.loads(body)
                errors = data.get("errors") or []
                parts = []
                for error in errors:
                    text = str(error.get("message", ""))
                    if error.get("code") is not None:
                        text += " [%s]" % error["code"]
                    parts.append(text)
                detail = "; ".join(p for p in parts if p)
            except (ValueError, AttributeError, TypeError):
                detail = ""
        if status in (401, 403):
            return (
                "Cloudflare refused the API token while trying to %s (HTTP %s%s). Check api_token: it needs "
                "Zone:Read and DNS:Edit for the zone." % (what, status, ": " + detail if detail else "")
            )
        if status is not None and status >= 500:
            return "Cloudflare failed to %s (HTTP %s%s); nothing was changed by this request." % (
                what,
                status,
                ": " + detail if detail else "",
            )
        return "Cloudflare failed to %s (HTTP %s%s)" % (what, status, ": " + detail if detail else "")

    def _request(
        self,
        method: str,
        path: str,
        what: str,
        query: dict | None = None,
        body: t.Any = None,
        kind: str = "read",
        retry_5xx: bool = True,
    ) -> dict:
        """One API call through the shared client; returns the decoded JSON envelope.

        Raises ProviderError; ``.status`` on it carries the last HTTP status (None when unreachable).
        """
        try:
            envelope = self.http.request(method, path, query=query, body=body, kind=kind, retry_5xx=retry_5xx)
        except HttpError as exc:
            if exc.status is None:
                message = "cannot reach the Cloudflare API at %s to %s: %s" % (self.api_url, what, exc.reason)
            elif exc.status < 400:
                message = "Cloudflare answered %s with something that is not JSON" % what
            else:
                message = self._message(exc.status, exc.body, what)
            error = ProviderError(message)
            error.status = exc.status  # type: ignore[attr-defined]
            raise error from None
        if envelope is None:
            envelope = {}
        if not isinstance(envelope, dict) or envelope.get("success") is False:
            error = ProviderError(self._message(200, json.dumps(envelope), what))
            error.status = 200  # type: ignore[attr-defined]
            raise error
        return envelope

    def _paged(self, path: str, query: dict, what: str) -> list[dict]:
        results: list[dict] = []
        for page in range(1, MAX_PAGES + 1):
            envelope = self._request("GET", path, what, query=dict(query, page=page))
            results.extend(envelope.get("result") or [])
            info = envelope.get("result_info") or {}
            total_pages = int(info.get("total_pages") or 1)
            if page >= total_pages or not envelope.get("result"):
                break
        return results

    # -- zones ----------------------------------------------------------------------------
    def _lookup_zone(self, name: str) -> str | None:
        if name not in self._zone_ids:
            zones = self._request("GET", "/zones", "look up zone %s" % name, query={"name": name}).get("result") or []
            zone_id = None
            for zone in zones:
                if normalize_name(zone.get("name", "")) == name:
                    zone_id = zone["id"]
                    break
            self._zone_ids[name] = zone_id
        return self._zone_ids[name]

    def find_zone(self, name: str) -> str:
        """The longest zone holding ``name`` (one ``GET /zones?name=`` per candidate, cached)."""
        zone, tried = self.find_zone_upward(name, lambda c: None if self._lookup_zone(c) else "no such zone")
        if zone is None:
            raise ProviderError(
                "no Cloudflare zone found for %s that this token can see (tried %s)"
                % (normalize_name(name), ", ".join(c for c, _reason in tried))
            )
        return zone

    def zone_id(self, zone: str) -> str:
        zone = normalize_name(zone)
        zone_id = self._lookup_zone(zone)
        if not zone_id:
            raise ProviderError("Cloudflare has no zone named %s that this token can see" % zone, zone=zone)
        return zone_id

    # -- records --------------------------------------------------------------------------
    def _read(self, zone: str, names: list[str], rtype: str) -> dict[str, list[_Record]]:
        zone_id = self.zone_id(zone)
        wanted = {normalize_name(n) for n in names}
        query: dict[str, t.Any] = {"type": rtype, "per_page": PER_PAGE}
        if len(wanted) == 1:
            query["name"] = next(iter(wanted))
        records = self._paged(
            "/zones/%s/dns_records" % quote(zone_id, safe=""), query, "read the %s records of %s" % (rtype, zone)
        )
        out: dict[str, list[_Record]] = {name: [] for name in wanted}
        for record in records:
            name = normalize_name(record.get("name", ""))
            if name not in wanted or record.get("type") != rtype:
                continue
            content = record.get("content", "")
            out[name].append(
                _Record(record["id"], content_to_value(rtype, content), int(record.get("ttl", 1)), content)
            )
        return out

    def get_rrsets(self, zone: str, names: list[str], rtype: str = "TXT") -> dict[str, RecordSet]:
        """Read the named RRsets (one paged listing per zone); remembers the record ids for apply()."""
        zone = normalize_name(zone)
        rtype = rtype.upper()
        found: dict[str, RecordSet] = {}
        for name, records in self._read(zone, names, rtype).items():
            self._records[(zone, name, rtype)] = records
            if records:
                ttl = min(r.ttl for r in records)
                found[name] = RecordSet(name, rtype, ttl, [r.value for r in records])
        return found

    def build_batch(self, zone: str, changes: list[Change]) -> dict[str, list[dict]]:
        """The deletes, patches and posts that turn the records read by get_rrsets into the plan."""
        zone = normalize_name(zone)
        deletes: list[dict] = []
        patches: list[dict] = []
        posts: list[dict] = []
        missing = [c.name for c in changes if c.before is not None and (zone, c.name, c.rtype) not in self._records]
        if missing:
            self.get_rrsets(zone, missing, changes[0].rtype)
        for change in changes:
            rtype = change.rtype
            existing = list(self._records.get((zone, change.name, rtype), []))
            if change.before is None and existing:
                raise ProviderError(
                    "%s %s appeared in Cloudflare zone %s after it was read; run again" % (change.name, rtype, zone),
                    zone=zone,
                )
            wanted = list(change.after.values) if change.after is not None else []
            ttl = change.after.ttl if change.after is not None else None
            keep: list[tuple[_Record, str]] = []
            for value in list(wanted):
                for record in existing:
                    if _same(rtype, record.value, value):
                        keep.append((record, value))
                        existing.remove(record)
                        wanted.remove(value)
                        break
            for record, _value in keep:
                if ttl is not None and record.ttl != ttl:
                    patches.append({"id": record.id, "type": rtype, "name": change.name, "ttl": ttl})
            # Records that go and values that come: rewrite records in place, then delete or add the rest.
            for record in existing:
                self._id_names[record.id] = change.name
                if wanted:
                    value = wanted.pop(0)
                    patches.append(
                        {
                            "id": record.id,
                            "type": rtype,
                            "name": change.name,
                            "content": value_to_content(rtype, value),
                            "ttl": ttl,
                        }
                    )
                else:
                    deletes.append({"id": record.id})
            for value in wanted:
                posts.append(
                    {"type": rtype, "name": change.name, "content": value_to_content(rtype, value), "ttl": ttl}
                )
        return {"deletes": deletes, "patches": patches, "posts": posts}

    @staticmethod
    def split_batch(batch: dict[str, list[dict]], size: int) -> list[dict[str, list[dict]]]:
        """Split one batch into requests of at most ``size`` operations (deletes first, like the API)."""
        operations = [(kind, op) for kind in ("deletes", "patches", "posts") for op in batch.get(kind, [])]
        requests = []
        for start in range(0, len(operations), size):
            request: dict[str, list[dict]] = {}
            for kind, op in operations[start : start + size]:
                request.setdefault(kind, []).append(op)
            requests.append(request)
        return requests

    def _untouched(self, zone: str, names: list[str], rtype: str) -> bool:
        """Whether the records of ``names`` are still exactly as read (ids and contents)."""
        current = self._read(zone, names, rtype)
        for name in names:
            before = sorted((r.id, r.content, r.ttl) for r in self._records.get((zone, name, rtype), []))
            now = sorted((r.id, r.content, r.ttl) for r in current.get(name, []))
            if before != now:
                return False
        return True

    def _request_names(self, request: dict[str, list[dict]]) -> list[str]:
        """The names one batch request changes."""
        ops = [op for kind in ("deletes", "patches", "posts") for op in request.get(kind, [])]
        return [op.get("name") or self._id_names.get(op.get("id", ""), "") for op in ops]

    def apply(self, zone: str, changes: list[Change]) -> None:
        """All changes of ``zone`` in one batch call (more only beyond ``batch_size`` operations).

        Requests are sent in order (``send_in_order``): when a later one fails, the error and
        ``ProviderError.applied`` name what the earlier ones applied.
        """
        if not changes:
            return
        zone = normalize_name(zone)
        zone_id = self.zone_id(zone)
        rtype = changes[0].rtype
        batch = self.build_batch(zone, changes)
        requests = self.split_batch(batch, self.batch_size)
        names = sorted({c.name for c in changes})
        path = "/zones/%s/dns_records/batch" % quote(zone_id, safe="")
        what = "change the records of %s" % zone

        def send(number: int, request: dict) -> None:
            for attempt in range(self.retries + 1):
                try:
                    self._request("POST", path, what, body=request, kind="write", retry_5xx=False)
                    return
                except ProviderError as exc:
                    status = getattr(exc, "status", None)
                    if status is not None and status >= 500 and attempt < self.retries and number == 1:
                        # The batch is one transaction: re-send only if it certainly did not apply.
                        if self._untouched(zone, names, rtype):
                            time.sleep(backoff(attempt))
                            continue
                        raise RequestError(
                            "Cloudflare answered HTTP %s to the batch and the records are no longer as read "
                            "(the batch may have been applied); run again to converge" % status,
                            unsure=True,
                        ) from None
                    if status in (401, 403):
                        raise RequestError(str(exc)) from None
                    raise RequestError(
                        "%s. Run again to plan against the current records" % str(exc).rstrip("."),
                        unsure=status is None,
                    ) from None

        try:
            send_in_order(
                zone,
                requests,
                send,
                self._request_names,
                "cloudflare: change of zone %s failed" % zone,
                "batch request",
            )
        finally:
            # The cached records are stale now.
            for name in names:
                self._records.pop((zone, name, rtype), None)
