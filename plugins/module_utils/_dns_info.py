# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The logic of ``mailauth.core.mail_dns_info``: read what live DNS serves, lint it, compare
it with expected values and wait until every authoritative nameserver serves them."""

from __future__ import annotations

import contextlib
import time
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _input
from ansible_collections.mailauth.core.plugins.module_utils._dkim_record import (
    DKIM_KEY_TYPES,
    keys_equal,
    public_key_info,
)
from ansible_collections.mailauth.core.plugins.module_utils._lint import (
    finding,
    lint_dkim_values,
    lint_dmarc_values,
    lint_policy_values,
    lint_spf_values,
    spf_lookups,
)
from ansible_collections.mailauth.core.plugins.module_utils._names import (
    RecordError,
    check_name,
    check_selector,
    check_text,
)
from ansible_collections.mailauth.core.plugins.module_utils._reporting import (
    POLICY_KINDS,
    build_dmarc,
    dmarc_uri,
    is_dmarc,
)
from ansible_collections.mailauth.core.plugins.module_utils._resolver import DnsLookup, LookupFailure, query_server
from ansible_collections.mailauth.core.plugins.module_utils._spf import build_spf
from ansible_collections.mailauth.core.plugins.module_utils._txt import (
    is_spf,
    parse_tag_list,
    txt_equal,
)


class DnsInfoError(Exception):
    """A failure fit for the user (bad input, unreachable servers, wait timed out)."""

    def __init__(self, msg: str, result: dict | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result or {}


class Expected(t.NamedTuple):
    name: str
    what: str  # text for messages
    check: t.Callable[[list], bool]


# -- querying ---------------------------------------------------------------------------------------


class Reader:
    """Reads TXT values from every target: the given servers, or the resolver when there are none."""

    def __init__(self, lookup: DnsLookup, servers: list[str], port: int, timeout: float) -> None:
        self.lookup = lookup
        self.servers = servers
        self.port = port
        self.timeout = timeout

    @property
    def targets(self) -> list[str]:
        return list(self.servers) or ["resolver"]

    def read(self, target: str, name: str) -> list[str] | None:
        if target == "resolver":
            return self.lookup.txt(name, fresh=True)
        return query_server(target, self.port, name, self.timeout)


def authoritative_servers(domain: str, lookup: DnsLookup) -> tuple[str, list[dict]]:
    """The zone of ``domain`` and its nameservers (names and IP addresses) via NS records."""
    try:
        zone, hosts = lookup.zone_nameservers(domain)
    except LookupFailure as exc:
        raise DnsInfoError(str(exc)) from None
    servers = []
    for host in hosts:
        try:
            addresses = lookup.addresses(host)
        except LookupFailure as exc:
            raise DnsInfoError("cannot resolve nameserver %s of %s: %s" % (host, domain, exc)) from None
        if not addresses:
            raise DnsInfoError("nameserver %s of %s has no address" % (host, domain))
        servers.extend({"name": host, "address": address} for address in addresses)
    return zone, servers


_POLICIES = tuple(policy.kind for policy in POLICY_KINDS)


# -- expected values ----------------------------------------------------------------------------------


def _dkim_p(value: str) -> str | None:
    tags = dict(parse_tag_list(value) or [])
    return "".join(tags["p"].split()) if "p" in tags else None


def _all_revoked(values: list) -> bool:
    """Whether every value is a DKIM record with an empty ``p=`` (a revoked key)."""
    return all(_dkim_p(v) == "" for v in values)


def _key_matches(values: list, public_key: str) -> bool:
    for value in values:
        p_value = _dkim_p(value)
        if p_value and keys_equal(p_value, public_key):
            return True
    return False


def normalise_spec(spec: dict) -> dict:
    """Validate one ``domains`` entry of the module; compute the expected values."""
    if not isinstance(spec, dict):
        raise RecordError("each entry of domains must be a dictionary, got %s" % type(spec).__name__)
    try:
        name = _input.lookup_name(spec.get("name"), "domain")
    except _input.InputError as exc:
        raise RecordError(str(exc)) from None
    check_text({k: v for k, v in spec.items() if k in ("spf", "dmarc", "dkim", *_POLICIES)}, name)
    out: dict = {"name": name, "spf": None, "dmarc": None, "dkim": []}
    for policy in POLICY_KINDS:
        out[policy.kind] = None
        if spec.get(policy.kind) is not None:
            check_name(policy.name(name), "%s: the %s record name" % (name, policy.label))
            out[policy.kind] = policy.build(spec[policy.kind], name)
    if spec.get("spf") is not None:
        # Only compared with what DNS serves, never published: a pass-all record may be waited for.
        out["spf"] = build_spf(spec["spf"], name, allow_pass_all=True)
    if spec.get("dmarc") is not None:
        check_name("_dmarc." + name, "%s: the DMARC record name" % name)
        out["dmarc"] = build_dmarc(spec["dmarc"], name)[0]
    dkim = spec.get("dkim") or []
    if not isinstance(dkim, list):
        raise RecordError("%s: dkim must be a list of selectors, got %s" % (name, type(dkim).__name__))
    for index, entry in enumerate(dkim):
        if not isinstance(entry, dict):
            raise RecordError("%s: dkim[%d] must be a dictionary, got %s" % (name, index, type(entry).__name__))
        selector = check_selector(entry.get("selector"), "%s: dkim[%d].selector" % (name, index))
        check_name("%s._domainkey.%s" % (selector, name), "%s: the DKIM record name" % name)
        item = {"selector": selector, "public_key": None, "value": None, "revoked": False, "absent": False}
        if entry.get("revoked") not in (None, False, True):
            raise RecordError("%s: dkim selector %s: revoked must be true or false" % (name, selector))
        if entry.get("key_type") not in (None, *DKIM_KEY_TYPES):
            raise RecordError(
                "%s: dkim selector %s: key_type must be one of %s" % (name, selector, ", ".join(DKIM_KEY_TYPES))
            )
        if entry.get("absent"):
            if entry.get("public_key") or entry.get("value") or entry.get("revoked"):
                raise RecordError(
                    "%s: dkim selector %s: absent takes no public_key, value or revoked" % (name, selector)
                )
            item["absent"] = True
        if entry.get("revoked"):
            if entry.get("public_key") or entry.get("value"):
                raise RecordError("%s: dkim selector %s: revoked takes no public_key or value" % (name, selector))
            item["revoked"] = True
        if entry.get("public_key"):
            try:
                item["public_key"] = public_key_info(entry["public_key"])[2]
            except RecordError as exc:
                raise RecordError("%s: dkim selector %s: %s" % (name, selector, exc)) from None
        if entry.get("value"):
            item["value"] = entry["value"]
        out["dkim"].append(item)
    return out


def expected_items(spec: dict) -> list[Expected]:
    """What ``wait`` waits for: the expected values, or any DKIM record for a bare selector."""
    items = []
    if spec["spf"]:
        expected_spf = spec["spf"]
        items.append(
            Expected(
                spec["name"],
                "SPF %r" % expected_spf,
                lambda v, e=expected_spf: [x for x in v if is_spf(x)] == [x for x in v if txt_equal(x, e)] != [],
            )
        )
    if spec["dmarc"]:
        expected_dmarc = spec["dmarc"]
        items.append(
            Expected(
                "_dmarc." + spec["name"],
                "DMARC %r" % expected_dmarc,
                lambda v, e=expected_dmarc: len(v) == 1 and txt_equal(v[0], e),
            )
        )
    for policy in POLICY_KINDS:
        if spec.get(policy.kind):
            items.append(
                Expected(
                    policy.name(spec["name"]),
                    "%s %r" % (policy.label, spec[policy.kind]),
                    lambda v, e=spec[policy.kind], p=policy: (
                        [x for x in v if p.owns(x)] == [x for x in v if txt_equal(x, e)] != []
                    ),
                )
            )
    for dkim in spec["dkim"]:
        name = "%s._domainkey.%s" % (dkim["selector"], spec["name"])
        if dkim["value"]:
            items.append(
                Expected(name, "DKIM %r" % dkim["value"], lambda v, e=dkim["value"]: any(txt_equal(x, e) for x in v))
            )
        if dkim["public_key"]:
            items.append(
                Expected(name, "the given DKIM public key", lambda v, k=dkim["public_key"]: _key_matches(v, k))
            )
        if dkim["absent"]:
            items.append(Expected(name, "no DKIM record (removed)", lambda v: v == []))
        elif dkim["revoked"]:
            # RFC 6376 3.6.1: served revoked (p= empty) and nothing else at the selector.
            items.append(Expected(name, "the revoked DKIM record (p= empty)", lambda v: v != [] and _all_revoked(v)))
        elif not dkim["value"] and not dkim["public_key"]:
            items.append(Expected(name, "a DKIM record", lambda v: any(_dkim_p(x) for x in v)))
    return items


# -- inspection -----------------------------------------------------------------------------------------


def _read_all(reader: Reader, names: list[str]) -> tuple[dict, list[dict]]:
    """``{target: {name: values or None}}`` and findings for servers that failed."""
    served: dict = {}
    problems = []
    for target in reader.targets:
        served[target] = {}
        for name in names:
            try:
                served[target][name] = reader.read(target, name)
            except LookupFailure as exc:
                served[target][name] = None
                problems.append(finding("warning", name, "dns-error", "%s (temperror)" % exc))
    return served, problems


def inspect(spec: dict, reader: Reader, lookup: DnsLookup, do_lint: bool = True) -> dict:
    """What DNS serves for one domain, with lint findings and matches against expected values."""
    domain = spec["name"]
    names = [domain, "_dmarc." + domain] + ["%s._domainkey.%s" % (d["selector"], domain) for d in spec["dkim"]]
    names += [policy.name(domain) for policy in POLICY_KINDS]
    served, findings = _read_all(reader, names)
    view = served[reader.targets[0]]
    # A name whose query failed is temperror only: not also "no record".
    failed = {f["record"] for f in findings if f["code"] == "dns-error"}

    def values(name: str) -> list:
        return list(view.get(name) or [])

    consistent = all(
        sorted(served[target].get(name) or []) == sorted(values(name)) for target in served for name in names
    )
    if not consistent:
        for name in names:
            differing = [target for target in served if sorted(served[target].get(name) or []) != sorted(values(name))]
            if differing:
                findings.append(
                    finding(
                        "warning",
                        name,
                        "inconsistent",
                        "%s serve(s) other values than %s" % (", ".join(differing), reader.targets[0]),
                    )
                )
    apex = values(domain)
    spf_records = [v for v in apex if is_spf(v)]
    spf: dict = {
        "name": domain,
        "records": spf_records,
        "expected": spec["spf"],
        "match": None,
        "lookups": None,
        "void_lookups": None,
        "lookup_chain": [],
    }
    if spec["spf"]:
        spf["match"] = len(spf_records) == 1 and txt_equal(spf_records[0], spec["spf"])
    dmarc_name = "_dmarc." + domain
    dmarc_records = [v for v in values(dmarc_name) if is_dmarc(v)]
    dmarc = {"name": dmarc_name, "records": dmarc_records, "expected": spec["dmarc"], "match": None}
    if spec["dmarc"]:
        dmarc["match"] = len(dmarc_records) == 1 and txt_equal(dmarc_records[0], spec["dmarc"])
    policies = {}
    for policy in POLICY_KINDS:
        name = policy.name(domain)
        expected = spec.get(policy.kind)
        records = [v for v in values(name) if policy.owns(v)]
        policies[policy.kind] = {"name": name, "records": records, "expected": expected, "match": None}
        if expected:
            policies[policy.kind]["match"] = len(records) == 1 and txt_equal(records[0], expected)
        if do_lint:
            findings += lint_policy_values(policy, values(name), name, expected=bool(expected))
    dkim_out = []
    for dkim in spec["dkim"]:
        name = "%s._domainkey.%s" % (dkim["selector"], domain)
        records = values(name)
        item = {
            "selector": dkim["selector"],
            "name": name,
            "records": records,
            "key_type": None,
            "key_size": None,
            "public_key_match": None,
            "value_match": None,
            "revoked": dkim["revoked"],
            "revoked_match": (records != [] and _all_revoked(records)) if dkim["revoked"] else None,
        }
        for value in records:
            p_value = _dkim_p(value)
            if p_value:
                with contextlib.suppress(RecordError):
                    k = dict(parse_tag_list(value) or []).get("k")
                    item["key_type"], item["key_size"], _p = public_key_info(p_value, k)
                break
        if dkim["public_key"]:
            item["public_key_match"] = _key_matches(records, dkim["public_key"])
        if dkim["value"]:
            item["value_match"] = any(txt_equal(v, dkim["value"]) for v in records)
        dkim_out.append(item)
        if do_lint:
            if not records and name not in failed and not dkim["absent"]:
                findings.append(
                    finding("error", name, "dkim-missing", "no DKIM record for selector %s" % dkim["selector"])
                )
            findings += lint_dkim_values(records, name, revoked=dkim["revoked"])
    if do_lint:
        if not spf_records:
            if domain not in failed:
                findings.append(finding("warning", domain, "spf-missing", "no SPF record: receivers get 'none'"))
        else:
            findings += lint_spf_values(apex, domain)
            result = spf_lookups(domain, spf_records[0], lookup) if len(spf_records) == 1 else None
            if result is not None:
                spf["lookups"] = result.lookups
                spf["void_lookups"] = result.void_lookups
                spf["lookup_chain"] = result.chain
                findings += result.findings
        if not dmarc_records and dmarc_name not in failed:
            findings.append(finding("warning", dmarc_name, "dmarc-missing", "no DMARC record"))
        findings += lint_dmarc_values(values(dmarc_name), dmarc_name)
        findings += _report_authorisation(domain, dmarc_records, lookup)
    return {
        "name": domain,
        "spf": spf,
        "dmarc": dmarc,
        "dkim": dkim_out,
        **policies,
        "served": served if len(served) > 1 or reader.servers else {},
        "consistent": consistent,
        "findings": _dedupe(findings),
    }


def _report_authorisation(domain: str, dmarc_records: list, lookup: DnsLookup) -> list[dict]:
    """Warn when rua/ruf send reports to another domain that does not authorise it (RFC 7489 7.1)."""
    findings = []
    if len(dmarc_records) != 1:
        return findings
    tags = dict(parse_tag_list(dmarc_records[0]) or [])
    report_domains = []
    for tag in ("rua", "ruf"):
        for item in tags.get(tag, "").split(","):
            try:
                report_domains.append(dmarc_uri(item, tag)[1])
            except RecordError:
                continue
    for rdomain in dict.fromkeys(report_domains):
        if rdomain == domain or rdomain.endswith("." + domain) or domain.endswith("." + rdomain):
            continue
        name = "%s._report._dmarc.%s" % (domain, rdomain)
        try:
            published = lookup.txt(name) or []
        except LookupFailure as exc:
            findings.append(finding("warning", name, "dns-error", str(exc)))
            continue
        if not any(is_dmarc(v) for v in published):
            findings.append(
                finding(
                    "warning",
                    name,
                    "dmarc-report-authorisation",
                    "%s does not authorise reports for %s: receivers will not send them" % (rdomain, domain),
                )
            )
    return findings


def _dedupe(findings: list[dict]) -> list[dict]:
    seen, out = set(), []
    for item in findings:
        key = tuple(sorted(item.items()))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def wait_until_served(
    specs: list[dict],
    reader: Reader,
    timeout: float,
    interval: float,
    clock: t.Callable[[], float] = time.monotonic,
    sleep: t.Callable[[float], None] = time.sleep,
) -> float:
    """Poll until every target serves every expected value; return the seconds waited.

    Raises DnsInfoError naming each server and record still missing when ``timeout`` passes.
    """
    pending = [(target, item) for spec in specs for item in expected_items(spec) for target in reader.targets]
    if not pending:
        raise DnsInfoError("wait needs something to wait for: give spf, dmarc, dkim, mta_sts or tls_rpt for a domain")
    start = clock()
    last: dict = {}
    while True:
        still = []
        for target, item in pending:
            try:
                served = reader.read(target, item.name)
                last[(target, item.name)] = served
            except LookupFailure as exc:
                last[(target, item.name)] = str(exc)
                still.append((target, item))
                continue
            if not item.check(list(served or [])):
                still.append((target, item))
        pending = still
        elapsed = clock() - start
        if not pending:
            return round(elapsed, 3)
        if elapsed >= timeout:
            details = []
            for target, item in pending:
                got = last.get((target, item.name))
                got_text = got if isinstance(got, str) else ("NXDOMAIN" if got is None else repr(got))
                details.append("%s does not serve %s at %s (it serves: %s)" % (target, item.what, item.name, got_text))
            raise DnsInfoError(
                "timed out after %ds waiting for every nameserver to serve the expected records: %s"
                % (timeout, "; ".join(details))
            )
        sleep(max(0.0, min(interval, timeout - elapsed)))


def run(params: dict) -> dict:
    """The whole module: validate, discover servers, optionally wait, then inspect."""
    try:
        specs = [normalise_spec(spec) for spec in params["domains"]]
    except RecordError as exc:
        raise DnsInfoError(str(exc)) from None
    if not specs:
        raise DnsInfoError("domains must list at least one domain")
    if params.get("nameserver") is not None:
        try:
            _input.text(params["nameserver"], "nameserver")
        except _input.InputError as exc:
            raise DnsInfoError(str(exc)) from None
    try:
        lookup = DnsLookup(params.get("nameserver"), params.get("port") or 53, params.get("timeout") or 5.0)
    except LookupFailure as exc:
        raise DnsInfoError(str(exc)) from None
    port = params.get("port") or 53
    timeout = params.get("timeout") or 5.0
    readers = {}
    nameservers: dict = {}
    for spec in specs:
        servers: list[str] = []
        if params.get("all_authoritative"):
            zone, found = authoritative_servers(spec["name"], lookup)
            nameservers[spec["name"]] = {"zone": zone, "nameservers": found}
            servers = list(dict.fromkeys(item["address"] for item in found))
        elif params.get("nameserver"):
            servers = [params["nameserver"]]
        readers[spec["name"]] = Reader(lookup, servers, port, timeout)
    waited = None
    if params.get("wait"):
        waited = 0.0
        for spec in specs:
            waited += wait_until_served(
                [spec], readers[spec["name"]], max(0.0, params["wait_timeout"] - waited), params["wait_interval"]
            )
    results = []
    for spec in specs:
        result = inspect(spec, readers[spec["name"]], lookup, params.get("lint", True))
        if spec["name"] in nameservers:
            result.update(nameservers[spec["name"]])
        results.append(result)
    findings = [f for r in results for f in r["findings"]]
    return {
        "changed": False,
        "domains": results,
        "findings": findings,
        "error_count": len([f for f in findings if f["severity"] == "error"]),
        "warning_count": len([f for f in findings if f["severity"] == "warning"]),
        "waited": waited,
    }
