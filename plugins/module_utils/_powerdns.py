# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PowerDNS Authoritative HTTP API provider.

Reads: one ``GET /zones`` for the zone list, one ``GET /zones/<zone>`` per zone for its RRsets.
Writes: ONE ``PATCH /zones/<zone>`` per zone (PowerDNS applies a PATCH in one backend
transaction: all RRsets of the zone change, or none). The API has no prerequisites, so a
concurrent change between read and write cannot be detected here; record contents that were
read are sent back byte for byte, so foreign records keep their exact form.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.mailauth.core.plugins.module_utils._http import HttpError, JsonClient
from ansible_collections.mailauth.core.plugins.module_utils._provider import (
    Change,
    Provider,
    ProviderError,
    RecordSet,
    normalize_name,
    option,
)
from ansible_collections.mailauth.core.plugins.module_utils._txt import TxtError, from_zone_text, to_zone_text

DEFAULT_TIMEOUT = 30


class PowerDNSProvider(Provider):
    """PowerDNS Authoritative server, API v1 (``/api/v1/servers/<server_id>``)."""

    name = "powerdns"
    DESCRIPTION = "PowerDNS Authoritative HTTP API."
    BATCHING = "One PATCH per zone, applied by PowerDNS in one backend transaction."
    OPTIONS: t.ClassVar[dict] = {
        "api_url": option("str", "Base URL of the API, for example C(http://127.0.0.1:8081).", required=True),
        "api_key": option("str", "The API key.", required=True, no_log=True),
        "server_id": option("str", "The server id.", default="localhost"),
        "validate_certs": option("bool", "Whether to validate TLS certificates.", default=True),
    }

    def __init__(self, options: dict | None = None) -> None:
        super().__init__(options)
        opts = self.options
        api_url = opts.get("api_url")
        if not api_url:
            raise ProviderError("powerdns: the option api_url is required")
        if not opts.get("api_key"):
            raise ProviderError("powerdns: the option api_key is required")
        api_url = str(api_url).rstrip("/")
        if api_url.endswith("/api/v1"):
            api_url = api_url[: -len("/api/v1")]
        self.api_url = api_url
        self.server_id = str(opts.get("server_id") or "localhost")
        self.http = JsonClient(
            "%s/api/v1/servers/%s" % (api_url, quote(self.server_id, safe="")),
            {"X-API-Key": str(opts["api_key"])},
            self.count,
            timeout=int(opts.get("timeout") or DEFAULT_TIMEOUT),
            validate_certs=bool(opts.get("validate_certs", True)),
        )
        self._zone_ids: dict[str, str] = {}
        # (name, rtype) -> {logical value: content as read}
        self._raw: dict[tuple[str, str], dict[str, str]] = {}

    # -- HTTP -----------------------------------------------------------------------------
    def _request(self, kind: str, method: str, path: str, body=None, zone: str | None = None):
        where = "%s %s%s" % (method, self.http.base_url, path)
        not_changed = "; zone %s was not changed" % zone if kind == "write" and zone else ""
        try:
            return self.http.request(method, path, body=body, kind=kind)
        except HttpError as exc:
            if exc.status is None:
                if kind == "write":
                    not_changed = "; the PATCH of zone %s may or may not have been applied, re-run" % zone
                msg = "powerdns: %s failed: %s" % (where, exc.reason)
            else:
                data = exc.json()
                error = data.get("error") if isinstance(data, dict) else None
                detail = ": %s" % error if error else ""
                if exc.status in (401, 403):
                    msg = "powerdns: the API rejected the api_key (HTTP %d)" % exc.status
                elif exc.status == 404:
                    msg = "powerdns: not found: %s (HTTP 404%s)" % (where, detail)
                elif exc.status < 300:
                    msg = "powerdns: %s returned no JSON" % where
                else:
                    msg = "powerdns: %s failed with HTTP %d%s" % (where, exc.status, detail)
            raise ProviderError(msg + not_changed, zone=zone) from None

    # -- zones ----------------------------------------------------------------------------
    def list_zones(self) -> list[str]:
        zones = self._request("read", "GET", "/zones") or []
        out = []
        for zone in zones:
            name = normalize_name(zone.get("name", ""))
            self._zone_ids[name] = zone.get("id") or zone.get("name")
            out.append(name)
        return out

    def _zone_path(self, zone: str) -> str:
        zone_id = self._zone_ids.get(zone) or zone + "."
        return "/zones/%s" % quote(zone_id, safe="")

    # -- records --------------------------------------------------------------------------
    def get_rrsets(self, zone: str, names: list[str], rtype: str = "TXT") -> dict[str, RecordSet]:
        zone = normalize_name(zone)
        rtype = rtype.upper()
        wanted = {normalize_name(n) for n in names}
        data = self._request("read", "GET", self._zone_path(zone), zone=zone) or {}
        result: dict[str, RecordSet] = {}
        for rrset in data.get("rrsets", []):
            name = normalize_name(rrset.get("name", ""))
            if name not in wanted or rrset.get("type") != rtype:
                continue
            values = []
            raw = {}
            for record in rrset.get("records", []):
                if record.get("disabled"):
                    continue
                content = record.get("content", "")
                value = self._parse(content, rtype, name)
                values.append(value)
                raw.setdefault(value, content)
            if values:
                result[name] = RecordSet(name, rtype, rrset.get("ttl", 3600), values)
                self._raw[(name, rtype)] = raw
        return result

    @staticmethod
    def _parse(content: str, rtype: str, name: str) -> str:
        if rtype != "TXT":
            return content
        try:
            return from_zone_text(content)
        except TxtError as exc:
            raise ProviderError("powerdns: cannot read the TXT record of %s: %s" % (name, exc)) from None

    def _content(self, value: str, rtype: str, raw: dict) -> str:
        if value in raw:
            return raw[value]
        return to_zone_text(value) if rtype == "TXT" else value

    def build_patch(self, zone: str, changes: list[Change]) -> dict:
        """The body of the one PATCH for all ``changes`` of ``zone``."""
        zone = normalize_name(zone)
        rrsets = []
        for change in changes:
            name = change.name
            if not (name == zone or name.endswith("." + zone)):
                raise ProviderError("powerdns: %s is not in zone %s" % (name, zone), zone=zone)
            if change.after is None:
                rrsets.append({"name": name + ".", "type": change.rtype, "changetype": "DELETE"})
                continue
            raw = self._raw.get((name, change.rtype), {})
            rrsets.append(
                {
                    "name": name + ".",
                    "type": change.rtype,
                    "ttl": change.after.ttl,
                    "changetype": "REPLACE",
                    "records": [
                        {"content": self._content(v, change.rtype, raw), "disabled": False} for v in change.after.values
                    ],
                }
            )
        return {"rrsets": rrsets}

    def apply(self, zone: str, changes: list[Change]) -> None:
        zone = normalize_name(zone)
        if not changes:
            return
        body = self.build_patch(zone, changes)
        self._request("write", "PATCH", self._zone_path(zone), body=body, zone=zone)
        for change in changes:
            self._raw.pop((change.name, change.rtype), None)
