# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Amazon Route 53 backend (boto3).

* Credentials come from the options (``aws_access_key_id``, ``aws_secret_access_key``,
  ``aws_session_token``, ``profile``) or, when none is given, from boto3's usual chain (environment, shared files,
  instance or container roles). ``endpoint_url`` points the client at another endpoint.
* Reads are batched: one ``ListResourceRecordSets`` page (up to 300 RRsets) starting at the
  first name still unknown, so a zone with a few mail domains is read in one round trip.
* All changes of a zone go in ONE ``ChangeBatch`` (atomic at Route 53), split only at Route 53's
  request limits (1,000 ``ResourceRecord`` elements, 32,000 characters of ``Value``; an
  ``UPSERT`` counts twice). An update is sent as ``DELETE`` of the exact old RRset plus
  ``CREATE`` of the new one: if somebody changed the RRset after we read it, Route 53 rejects
  the whole batch and nothing is overwritten.
* botocore's ``adaptive`` retry mode retries ``Throttling`` and ``PriorRequestNotComplete``
  (both are in its throttling and transient error lists) and HTTP 5xx, with backoff.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _deps, _txt
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

# boto3 and botocore, loaded through _deps when a Route53Provider is made (so that a run with another
# provider never imports them); None until then.
REQUIREMENTS = ("boto3", "botocore.config", "botocore.exceptions")
LIBRARIES = {"boto3": "boto3>=1.28", "botocore": "botocore>=1.31"}
boto3: t.Any = None
botocore: t.Any = None


def _load_boto3() -> None:
    """Import boto3 and botocore (raises _deps.MissingLibrary when they are missing)."""
    global boto3, botocore
    _deps.need(*REQUIREMENTS, libraries=LIBRARIES)
    boto3 = _deps.load("boto3")
    botocore = _deps.load("botocore")


# Route 53 limits of one ChangeResourceRecordSets request (Route 53 developer guide, "Quotas").
MAX_RECORDS_PER_REQUEST = 1000
MAX_VALUE_CHARS_PER_REQUEST = 32000
# Route 53 answers at most 300 RRsets per ListResourceRecordSets page.
MAX_ITEMS_PER_PAGE = 300

DEFAULT_REGION = "us-east-1"
DEFAULT_MAX_ATTEMPTS = 10

_CREDENTIAL_ERRORS = frozenset(
    (
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "InvalidSignatureException",
    )
)
_PERMISSION_ERRORS = frozenset(("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"))
_THROTTLE_ERRORS = frozenset(("Throttling", "ThrottlingException", "PriorRequestNotComplete"))
_WRITE_OPERATIONS = frozenset(("ChangeResourceRecordSets",))

_ROUTE53_ESCAPE = re.compile(r"\\(\\|[0-7]{3}|.)", re.DOTALL)
_OCTAL_NAME_ESCAPE = re.compile(r"\\([0-7]{3})")


def _client_error(exc: Exception) -> tuple[str, str]:
    """``(code, message)`` of a botocore ClientError (also from the ``Errors`` list some endpoints send)."""
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    code = error.get("Code") or ""
    message = error.get("Message") or ""
    if not code:
        nested = (response.get("Errors") or {}).get("Error") or {}
        if isinstance(nested, list):
            nested = nested[0] if nested else {}
        code = nested.get("Code") or ""
        message = message or nested.get("Message") or ""
    return code or "Unknown", message or str(exc)


# -- TXT values in Route 53's format ----------------------------------------------------------
def txt_to_route53(value: str) -> str:
    """One logical TXT value as a Route 53 ``Value``: quoted strings of at most 255 bytes each,
    other bytes than printable ASCII as a backslash and three OCTAL digits."""
    return _txt.to_zone_text(value, octal=True)


def txt_from_route53(value: str) -> str:
    """A Route 53 TXT ``Value`` (quoted strings, octal escapes) as one logical value."""
    text = value.strip()
    if not text.startswith('"'):
        # Route 53 requires quotes; an unquoted value is taken literally.
        return text

    def _to_decimal(match: re.Match) -> str:
        escaped = match.group(1)
        if len(escaped) == 3:
            return "\\%03d" % int(escaped, 8)
        return "\\" + escaped

    try:
        return _txt.from_zone_text(_ROUTE53_ESCAPE.sub(_to_decimal, text))
    except _txt.TxtError as exc:
        raise ProviderError("Route 53 returned a TXT value that cannot be parsed: %s" % exc) from None


def _decode_name(name: str) -> str:
    """A record or zone name as Route 53 returns it (``\\052`` octal escapes), normalised."""
    return normalize_name(_OCTAL_NAME_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name))


def _fqdn(name: str) -> str:
    return normalize_name(name) + "."


def _sort_keys(name: str) -> tuple[str, str]:
    """Keys of ``name`` in Route 53's listing order: labels reversed, with and without the final dot.

    Route 53 sorts ``com.example.www.`` (trailing dot included); some emulators leave the dot
    out. The two orders differ only for labels with characters below ``.``; a name is taken as
    "covered" by a listed page only when both orders agree.
    """
    reversed_labels = ".".join(reversed(normalize_name(name).split(".")))
    return reversed_labels + ".", reversed_labels


# -- change batches ---------------------------------------------------------------------------
def change_cost(change: dict) -> tuple[int, int]:
    """``(ResourceRecord elements, Value characters)`` of one Route 53 change; UPSERT counts twice."""
    records = change["ResourceRecordSet"].get("ResourceRecords") or []
    factor = 2 if change["Action"] == "UPSERT" else 1
    return factor * len(records), factor * sum(len(record["Value"]) for record in records)


def split_batches(
    units: list[list[dict]],
    max_records: int = MAX_RECORDS_PER_REQUEST,
    max_chars: int = MAX_VALUE_CHARS_PER_REQUEST,
) -> list[list[dict]]:
    """Pack units of Route 53 changes into as few requests as the limits allow.

    A unit (e.g. the DELETE and CREATE of one updated RRset) is never split across requests.
    The order of the units is kept. Raises ProviderError when one unit alone exceeds a limit.
    """
    batches: list[list[dict]] = []
    current: list[dict] = []
    records = chars = 0
    for unit in units:
        unit_records = unit_chars = 0
        for change in unit:
            n_records, n_chars = change_cost(change)
            unit_records += n_records
            unit_chars += n_chars
        if unit_records > max_records or unit_chars > max_chars:
            name = unit[0]["ResourceRecordSet"]["Name"] if unit else "?"
            raise ProviderError(
                "the change of %s alone exceeds Route 53's request limits (%d records, %d characters; "
                "the limits are %d and %d)" % (name, unit_records, unit_chars, max_records, max_chars)
            )
        if current and (records + unit_records > max_records or chars + unit_chars > max_chars):
            batches.append(current)
            current = []
            records = chars = 0
        current.extend(unit)
        records += unit_records
        chars += unit_chars
    if current:
        batches.append(current)
    return batches


def _rrset_dict(rrset: RecordSet) -> dict:
    values = rrset.values
    if rrset.rtype == "TXT":
        values = [txt_to_route53(value) for value in values]
    return {
        "Name": _fqdn(rrset.name),
        "Type": rrset.rtype,
        "TTL": rrset.ttl,
        "ResourceRecords": [{"Value": value} for value in values],
    }


def _values_from_route53(rtype: str, raw: dict) -> list[str]:
    values = [record["Value"] for record in raw.get("ResourceRecords") or []]
    if rtype == "TXT":
        return [txt_from_route53(value) for value in values]
    return values


def _same_values(rtype: str, left: list[str], right: list[str]) -> bool:
    if len(left) != len(right):
        return False
    if rtype != "TXT":
        return sorted(left) == sorted(right)
    remaining = list(right)
    for value in left:
        for i, other in enumerate(remaining):
            if _txt.txt_equal(value, other):
                del remaining[i]
                break
        else:
            return False
    return True


def _unique_names(batch: list[dict]) -> list[str]:
    """The record names of one change batch, in order, each once."""
    names: list[str] = []
    for change in batch:
        name = normalize_name(change["ResourceRecordSet"]["Name"])
        if name not in names:
            names.append(name)
    return names


class Route53Provider(Provider):
    """Route 53 hosted zones through boto3.

    Options: ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token`` (also
    accepted as ``access_key``, ``secret_key``, ``session_token``), ``profile``, ``region``,
    ``endpoint_url``, ``validate_certs``, ``private_zone`` (use private hosted zones instead of
    public ones), ``max_attempts`` (botocore adaptive retries), ``wait`` and ``wait_timeout``
    (wait until Route 53 reports the change ``INSYNC``).
    """

    name = "route53"
    DESCRIPTION = (
        "Amazon Route 53. Credentials not given here come from the usual AWS chain (environment, shared files, "
        "instance role)."
    )
    BATCHING = "One ChangeBatch per zone; split only at 1,000 records or 32,000 characters of values."
    REQUIREMENTS = REQUIREMENTS
    LIBRARIES = LIBRARIES
    OPTIONS: t.ClassVar[dict] = {
        "aws_access_key_id": option("str", "AWS access key id.", no_log=False),
        "aws_secret_access_key": option("str", "AWS secret access key.", no_log=True),
        "aws_session_token": option("str", "AWS session token.", no_log=True),
        "region": option("str", "AWS region."),
        "endpoint_url": option("str", "Route53 endpoint URL (for example a local test server)."),
        "profile": option("str", "AWS profile name."),
        "max_attempts": option(
            "int",
            [
                "Attempts of botocore's adaptive retry mode (throttling, C(PriorRequestNotComplete), HTTP 5xx).",
                "Defaults to 10.",
            ],
        ),
        "private_zone": option(
            "bool", "Use the private hosted zone of the name instead of the public one.", default=False
        ),
        "wait": option("bool", "Wait until Route53 reports each change batch as C(INSYNC).", default=False),
        "wait_timeout": option("int", "Seconds to wait for C(INSYNC) when O(route53.wait=true).", default=300),
        "validate_certs": option("bool", "Whether to validate the TLS certificate of the endpoint.", default=True),
        "connect_timeout": option("int", "Seconds to wait for a connection to the endpoint.", default=30),
        "read_timeout": option("int", "Seconds to wait for an answer of the endpoint.", default=60),
    }

    def __init__(self, options: dict | None = None) -> None:
        super().__init__(options)
        _load_boto3()
        opts = self.options
        self.private_zone = bool(opts.get("private_zone"))
        self.wait = bool(opts.get("wait"))
        self.wait_timeout = int(opts.get("wait_timeout") or 300)
        max_attempts = int(opts.get("max_attempts") or DEFAULT_MAX_ATTEMPTS)
        if max_attempts < 1:
            raise ProviderError("route53 max_attempts must be 1 or more")
        config = botocore.config.Config(
            retries={"mode": "adaptive", "total_max_attempts": max_attempts},
            user_agent_extra="mailauth.core",
            connect_timeout=int(opts.get("connect_timeout") or 30),
            read_timeout=int(opts.get("read_timeout") or 60),
        )
        try:
            session = boto3.session.Session(
                aws_access_key_id=opts.get("aws_access_key_id") or opts.get("access_key") or None,
                aws_secret_access_key=opts.get("aws_secret_access_key") or opts.get("secret_key") or None,
                aws_session_token=opts.get("aws_session_token") or opts.get("session_token") or None,
                profile_name=opts.get("profile") or None,
                region_name=opts.get("region") or DEFAULT_REGION,
            )
            self.client = session.client(
                "route53",
                endpoint_url=opts.get("endpoint_url") or None,
                verify=opts.get("validate_certs", True) is not False,
                config=config,
            )
        except botocore.exceptions.ProfileNotFound as exc:
            raise ProviderError("route53: %s" % exc) from None
        except (botocore.exceptions.BotoCoreError, ValueError) as exc:
            raise ProviderError("route53: cannot create the client: %s" % exc) from None
        # Count every HTTP round trip, retries included.
        self.client.meta.events.register("before-send.route53", self._count_send)
        self._zone_ids: dict[str, list[str]] = {}
        self._raw: dict[tuple[str, str, str], dict] = {}
        self.change_ids: list[str] = []

    # -- plumbing -------------------------------------------------------------------------
    def _count_send(self, event_name: str = "", **kwargs: t.Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        self.count("write" if operation in _WRITE_OPERATIONS else "read")

    def _error(self, exc: Exception, what: str, zone: str | None = None) -> ProviderError:
        """A user-facing ProviderError for a botocore exception (never a secret, never a traceback)."""
        if isinstance(exc, botocore.exceptions.ClientError):
            code, message = _client_error(exc)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _CREDENTIAL_ERRORS or status == 401:
                return ProviderError(
                    "Route 53 rejected the credentials while trying to %s (%s: %s). Check aws_access_key_id, "
                    "aws_secret_access_key, aws_session_token or the AWS profile." % (what, code, message),
                    zone=zone,
                )
            if code in _PERMISSION_ERRORS or status == 403:
                return ProviderError(
                    "Route 53 denied the request to %s (%s: %s). The credentials need route53:"
                    "ListHostedZonesByName, route53:ListResourceRecordSets and "
                    "route53:ChangeResourceRecordSets." % (what, code, message),
                    zone=zone,
                )
            if code in _THROTTLE_ERRORS:
                return ProviderError(
                    "Route 53 kept throttling the request to %s after retrying (%s: %s). Nothing was "
                    "changed by this request; run again later or raise max_attempts." % (what, code, message),
                    zone=zone,
                )
            if code == "NoSuchHostedZone":
                return ProviderError("Route 53 has no hosted zone %s (%s)" % (zone or "?", message), zone=zone)
            if status is not None and status >= 500:
                return ProviderError(
                    "Route 53 failed to %s (HTTP %s, %s: %s) after %s attempt(s). A change batch is applied "
                    "completely or not at all; run again to complete the work."
                    % (
                        what,
                        status,
                        code,
                        message,
                        exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1,
                    ),
                    zone=zone,
                )
            return ProviderError("Route 53 failed to %s (%s: %s)" % (what, code, message), zone=zone)
        if isinstance(exc, botocore.exceptions.NoCredentialsError):
            return ProviderError(
                "route53: no AWS credentials found. Set aws_access_key_id and aws_secret_access_key, a "
                "profile, or the usual AWS environment variables.",
                zone=zone,
            )
        if isinstance(exc, botocore.exceptions.EndpointConnectionError):
            return ProviderError("route53: cannot reach the endpoint to %s: %s" % (what, exc), zone=zone)
        return ProviderError("route53: failed to %s: %s" % (what, exc), zone=zone)

    # -- zones ----------------------------------------------------------------------------
    def list_zones(self) -> list[str]:
        """The public (or, with ``private_zone``, the private) hosted zones, via ListHostedZonesByName."""
        zone_ids: dict[str, list[str]] = {}
        kwargs: dict[str, t.Any] = {"MaxItems": "100"}
        try:
            for _page in range(100000):
                response = self.client.list_hosted_zones_by_name(**kwargs)
                for zone in response.get("HostedZones", []):
                    private = bool(zone.get("Config", {}).get("PrivateZone", False))
                    if private != self.private_zone:
                        continue
                    zone_ids.setdefault(_decode_name(zone["Name"]), []).append(zone["Id"].split("/")[-1])
                if not response.get("IsTruncated"):
                    break
                kwargs["DNSName"] = response["NextDNSName"]
                kwargs["HostedZoneId"] = response["NextHostedZoneId"]
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._error(exc, "list the hosted zones") from None
        self._zone_ids = zone_ids
        return list(zone_ids)

    def zone_id(self, zone: str) -> str:
        """The hosted zone ID of the zone named ``zone`` (public, or private with ``private_zone``)."""
        zone = normalize_name(zone)
        if zone not in self._zone_ids:
            self._zones = [normalize_name(z) for z in self.list_zones()]
        ids = self._zone_ids.get(zone)
        kind = "private" if self.private_zone else "public"
        if not ids:
            raise ProviderError("Route 53 has no %s hosted zone named %s" % (kind, zone), zone=zone)
        if len(ids) > 1:
            raise ProviderError(
                "Route 53 has %d %s hosted zones named %s (%s); remove the duplicates"
                % (len(ids), kind, zone, ", ".join(sorted(ids))),
                zone=zone,
            )
        return ids[0]

    # -- records --------------------------------------------------------------------------
    def get_rrsets(self, zone: str, names: list[str], rtype: str = "TXT") -> dict[str, RecordSet]:
        """Read the named RRsets of one zone with as few ListResourceRecordSets pages as possible."""
        zone = normalize_name(zone)
        rtype = rtype.upper()
        zone_id = self.zone_id(zone)
        pending = sorted({normalize_name(name) for name in names}, key=_sort_keys)
        found: dict[str, RecordSet] = {}
        while pending:
            start = pending[0]
            try:
                response = self.client.list_resource_record_sets(
                    HostedZoneId=zone_id,
                    StartRecordName=_fqdn(start),
                    StartRecordType=rtype,
                    MaxItems=str(MAX_ITEMS_PER_PAGE),
                )
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                raise self._error(exc, "read the records of %s" % zone, zone) from None
            page = response.get("ResourceRecordSets", [])
            pending_set = set(pending)
            seen = set()
            for raw in page:
                name = _decode_name(raw["Name"])
                if raw.get("Type") != rtype or name not in pending_set:
                    continue
                if raw.get("SetIdentifier") or raw.get("AliasTarget") or raw.get("TrafficPolicyInstanceId"):
                    raise ProviderError(
                        "%s %s in Route 53 zone %s uses a routing policy or an alias; mailauth.core only "
                        "manages simple record sets" % (name, rtype, zone),
                        zone=zone,
                    )
                values = _values_from_route53(rtype, raw)
                found[name] = RecordSet(name, rtype, int(raw.get("TTL", 0)), values)
                self._raw[(zone, name, rtype)] = raw
                seen.add(name)
            truncated = bool(response.get("IsTruncated"))
            start_keys = _sort_keys(start)
            last_keys = _sort_keys(_decode_name(page[-1]["Name"])) if page else None
            still = []
            for name in pending:
                if name == start or name in seen:
                    continue
                keys = _sort_keys(name)
                after_start = keys[0] >= start_keys[0] and keys[1] >= start_keys[1]
                before_end = not truncated or (
                    last_keys is not None and keys[0] < last_keys[0] and keys[1] < last_keys[1]
                )
                if not (after_start and before_end):
                    still.append(name)
            pending = still
        return found

    def _delete_dict(self, zone: str, rrset: RecordSet) -> dict:
        """The exact RRset to DELETE: as Route 53 returned it when it still means ``rrset``."""
        raw = self._raw.get((zone, rrset.name, rrset.rtype))
        if (
            raw is not None
            and int(raw.get("TTL", -1)) == rrset.ttl
            and _same_values(rrset.rtype, _values_from_route53(rrset.rtype, raw), rrset.values)
        ):
            return {
                "Name": raw["Name"],
                "Type": raw["Type"],
                "TTL": raw["TTL"],
                "ResourceRecords": [dict(record) for record in raw.get("ResourceRecords", [])],
            }
        return _rrset_dict(rrset)

    def build_units(self, zone: str, changes: list[Change]) -> list[list[dict]]:
        """Route 53 change dicts, grouped per RRset (an update is DELETE of the old plus CREATE of the new)."""
        zone = normalize_name(zone)
        units = []
        for change in changes:
            unit = []
            if change.before is not None:
                unit.append({"Action": "DELETE", "ResourceRecordSet": self._delete_dict(zone, change.before)})
            if change.after is not None:
                unit.append({"Action": "CREATE", "ResourceRecordSet": _rrset_dict(change.after)})
            units.append(unit)
        return units

    def apply(self, zone: str, changes: list[Change]) -> None:
        """Send all changes of ``zone`` in one ChangeBatch (more only beyond Route 53's limits)."""
        if not changes:
            return
        zone = normalize_name(zone)
        zone_id = self.zone_id(zone)
        batches = split_batches(self.build_units(zone, changes))

        def send(_number: int, batch: list[dict]) -> None:
            try:
                response = self.client.change_resource_record_sets(
                    HostedZoneId=zone_id,
                    ChangeBatch={"Comment": "mailauth.core dns_records", "Changes": batch},
                )
            except botocore.exceptions.ClientError as exc:
                code, message = _client_error(exc)
                if code in ("InvalidChangeBatch", "InvalidInput"):
                    raise RequestError(
                        "Route 53 rejected the change batch: %s; the records may have been changed by someone "
                        "else since they were read. Run again to plan against the current records" % message
                    ) from None
                raise self._error(exc, "change the records of %s" % zone, zone) from None
            except botocore.exceptions.BotoCoreError as exc:
                raise self._error(exc, "change the records of %s" % zone, zone) from None
            change_id = response.get("ChangeInfo", {}).get("Id", "")
            self.change_ids.append(change_id)
            if self.wait and change_id:
                try:
                    self._wait(zone, change_id)
                except ProviderError as exc:
                    raise RequestError(exc.msg, sent=True) from None

        head = "route53: change of zone %s failed" % zone
        send_in_order(zone, batches, send, _unique_names, head, "change batch")

    def _wait(self, zone: str, change_id: str) -> None:
        delay = 5
        attempts = max(1, self.wait_timeout // delay)
        try:
            self.client.get_waiter("resource_record_sets_changed").wait(
                Id=change_id, WaiterConfig={"Delay": delay, "MaxAttempts": attempts}
            )
        except botocore.exceptions.WaiterError as exc:
            raise ProviderError(
                "Route 53 change %s for zone %s was sent but is not INSYNC after %d seconds: %s"
                % (change_id, zone, self.wait_timeout, exc),
                zone=zone,
            ) from None
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._error(exc, "wait for change %s" % change_id, zone) from None
