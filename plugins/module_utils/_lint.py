# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lint of SPF (RFC 7208), DMARC (RFC 7489 / RFC 9989) and DKIM (RFC 6376, RFC 8301) records.

Every check returns findings: dicts with ``severity`` (``error`` or ``warning``), ``record``
(the DNS name), ``code`` and ``message``. Errors stop ``dns_records`` before anything is
written; warnings are returned to the user. The SPF lookup count follows includes and
redirects through live DNS with a :class:`_resolver.DnsLookup`.
"""

from __future__ import annotations

import ipaddress
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils._dkim_record import (
    DKIM_KEY_TYPES,
    MIN_RSA_BITS,
    RECOMMENDED_RSA_BITS,
    is_revoked,
    public_key_info,
)
from ansible_collections.mailauth.core.plugins.module_utils._names import RecordError
from ansible_collections.mailauth.core.plugins.module_utils._reporting import (
    DMARC_TAGS,
    PolicyKind,
    dmarc_tag,
    dmarc_tags,
    dmarc_uri,
    is_dmarc,
)
from ansible_collections.mailauth.core.plugins.module_utils._resolver import DnsLookup, LookupFailure
from ansible_collections.mailauth.core.plugins.module_utils._spf import (
    SPF_LOOKUP_LIMIT,
    SPF_LOOKUP_MECHANISMS,
    SpfTerm,
    parse_spf_term,
    queryable,
)
from ansible_collections.mailauth.core.plugins.module_utils._txt import is_spf, parse_tag_list

SPF_VOID_LIMIT = 2
SPF_MX_LIMIT = 10
SPF_SIZE_WARN = 450
DNS_UDP_SIZE = 512
# Bounds the walk of include/redirect trees, however large they are: counting stops here.
_MAX_WALK = 3 * SPF_LOOKUP_LIMIT

ERROR = "error"
WARNING = "warning"


def finding(severity: str, record: str, code: str, message: str) -> dict:
    """One lint finding."""
    return {"severity": severity, "record": record, "code": code, "message": message}


def has_errors(findings: list[dict]) -> bool:
    return any(f["severity"] == ERROR for f in findings)


def format_findings(findings: list[dict], severity: str | None = ERROR) -> str:
    """A one-line summary of findings (of one severity, or all) for a failure message."""
    chosen = [f for f in findings if severity is None or f["severity"] == severity]
    return "; ".join("%s: %s (%s)" % (f["record"], f["message"], f["code"]) for f in chosen)


# -- SPF -------------------------------------------------------------------------------------------


def _spf_terms(value: str, record: str, findings: list[dict]) -> list[SpfTerm] | None:
    """Parse an SPF value term by term; syntax errors become findings. None if not SPF at all."""
    if not is_spf(value):
        findings.append(finding(ERROR, record, "spf-syntax", "the record does not start with 'v=spf1'"))
        return None
    terms = []
    for raw in value.split(" ")[1:]:
        if not raw:
            continue
        try:
            terms.append(parse_spf_term(raw))
        except RecordError as exc:
            findings.append(finding(ERROR, record, "spf-syntax", "%s (RFC 7208 section 12)" % exc))
    return terms


def lint_spf_value(value: str, record: str) -> list[dict]:
    """Offline checks of one SPF value: syntax, ptr, all/redirect, modifiers, size."""
    findings: list[dict] = []
    try:
        value.encode("ascii")
    except UnicodeEncodeError:
        findings.append(finding(ERROR, record, "spf-syntax", "an SPF record holds ASCII characters only"))
        return findings
    terms = _spf_terms(value, record, findings)
    if terms is None:
        return findings
    size = len(value.encode("utf-8"))
    if size > DNS_UDP_SIZE:
        findings.append(
            finding(
                WARNING,
                record,
                "spf-size-512",
                "the SPF record is %d bytes: with the rest of the answer it cannot fit a 512-byte DNS "
                "reply, receivers must retry over TCP or EDNS and some give up (RFC 7208 3.4)" % size,
            )
        )
    elif size > SPF_SIZE_WARN:
        findings.append(
            finding(
                WARNING,
                record,
                "spf-size-450",
                "the SPF record is %d bytes; keep it under %d so the DNS reply fits 512 bytes (RFC 7208 3.4)"
                % (size, SPF_SIZE_WARN),
            )
        )
    seen_all = None
    modifiers: dict[str, int] = {}
    for term in terms:
        if term.kind == "modifier":
            modifiers[term.name] = modifiers.get(term.name, 0) + 1
            if term.name not in ("redirect", "exp"):
                findings.append(
                    finding(WARNING, record, "spf-unknown-modifier", "unknown modifier %r is ignored" % term.raw)
                )
            continue
        if term.has_macro and "%{p" in term.domain.lower():  # type: ignore[union-attr]
            findings.append(
                finding(
                    WARNING,
                    record,
                    "spf-p-macro",
                    "%r uses the p macro: it costs a reverse lookup of the client that may be a void lookup, "
                    "and is slow and unreliable; do not use it (RFC 7208 7.3)" % term.raw,
                )
            )
        if term.domain and not term.has_macro and not queryable(term.domain):
            findings.append(
                finding(
                    WARNING,
                    record,
                    "spf-target-invalid",
                    "%r names no domain DNS can look up (an empty label, a label over 63 or a name over 253 "
                    "characters): it never matches (RFC 7208 4.3, 5)" % term.raw,
                )
            )
        if seen_all is not None:
            findings.append(
                finding(
                    WARNING,
                    record,
                    "spf-after-all",
                    "%r comes after %r and is never evaluated (RFC 7208 5.1)" % (term.raw, seen_all.raw),
                )
            )
        if term.name == "all":
            seen_all = seen_all or term
            if term.qualifier == "+":
                findings.append(
                    finding(WARNING, record, "spf-pass-all", "'+all' lets every host on the Internet pass SPF")
                )
        elif term.name == "ptr":
            findings.append(
                finding(WARNING, record, "spf-ptr", "'ptr' is slow and unreliable; do not use it (RFC 7208 5.5)")
            )
        elif term.name in ("ip4", "ip6"):
            network = ipaddress.ip_network(term.network, strict=False)  # type: ignore[arg-type]
            if str(network.network_address) != term.network.split("/")[0]:  # type: ignore[union-attr]
                findings.append(
                    finding(
                        WARNING,
                        record,
                        "spf-host-bits",
                        "%r has host bits set; it means %s" % (term.raw, network.with_prefixlen),
                    )
                )
    for name, count in modifiers.items():
        if name in ("redirect", "exp") and count > 1:
            findings.append(
                finding(ERROR, record, "spf-duplicate-modifier", "%s= appears %d times (RFC 7208 6)" % (name, count))
            )
    if seen_all is not None and "redirect" in modifiers:
        findings.append(
            finding(WARNING, record, "spf-redirect-ignored", "redirect= is ignored because 'all' is present")
        )
    if seen_all is None and "redirect" not in modifiers:
        findings.append(
            finding(
                WARNING,
                record,
                "spf-no-all",
                "no 'all' and no redirect=: mail from other hosts gets 'neutral'; end with -all or ~all",
            )
        )
    return findings


def lint_spf_values(values: list[str], record: str) -> list[dict]:
    """Check the TXT values at a name for SPF: at most one SPF record, each one valid."""
    spf = [v for v in values if is_spf(v)]
    findings: list[dict] = []
    if len(spf) > 1:
        findings.append(
            finding(
                ERROR,
                record,
                "spf-multiple",
                "%d SPF records at one name: receivers return permerror (RFC 7208 3.2)" % len(spf),
            )
        )
    for value in spf:
        findings += lint_spf_value(value, record)
    return findings


class SpfLookups(t.NamedTuple):
    lookups: int
    void_lookups: int
    findings: list
    chain: list  # "domain: term" for every term that costs a lookup, in walk order


def spf_lookups(domain: str, value: str | None, lookup: DnsLookup) -> SpfLookups:
    """Count the DNS lookups of an SPF record, following include and redirect through live DNS.

    ``value`` is the SPF record of ``domain`` (e.g. the one about to be published); ``None``
    reads it from DNS. Counts worst case (every term evaluated). Checks the 10-lookup and the
    2-void-lookup limits (RFC 7208 4.6.4), includes/redirects without an SPF record and loops.
    Terms whose domain holds a macro are counted but not followed.

    Void lookups (an answer with no record, or NXDOMAIN) are counted per client family, as a
    receiver counts them: ``a`` and the addresses of each ``mx`` host are looked up as A for an
    IPv4 client and AAAA for an IPv6 one (RFC 7208 5.3, 5.4), so an empty A answer is void for
    IPv4 clients only; the TXT of include/redirect, the MX query and ``exists`` (always A, 5.7)
    are void for both. ``void_lookups`` is the larger of the two counts.
    """
    state = {"lookups": 0, "voids4": 0, "voids6": 0, "walked": 0, "truncated": 0}

    def void(families: str = "46") -> None:
        for family in families:
            state["voids" + family] += 1

    findings: list[dict] = []
    chain: list[str] = []
    record = domain

    def fetch_spf(target: str, via: str) -> str | None:
        try:
            values = lookup.txt(target)
        except LookupFailure as exc:
            findings.append(finding(WARNING, record, "spf-dns-error", "%s: %s (temperror)" % (via, exc)))
            return None
        if not values:
            void()
        spf = [v for v in (values or []) if is_spf(v)]
        if not spf:
            findings.append(
                finding(ERROR, record, "spf-include-missing", "%s: %s has no SPF record (permerror)" % (via, target))
            )
            return None
        if len(spf) > 1:
            msg = "%s: %s has %d SPF records (permerror)" % (via, target, len(spf))
            findings.append(finding(ERROR, record, "spf-multiple", msg))
            return None
        return spf[0]

    def walk(current: str, spf_value: str, stack: tuple) -> None:
        state["walked"] += 1
        nested: list[dict] = []
        terms = _spf_terms(spf_value, current, nested)
        if current != domain:
            for item in nested:
                item["record"] = record
                item["message"] = "in %s: %s" % (current, item["message"])
        findings.extend(nested)
        if not terms:
            return
        has_all = any(x.kind == "mechanism" and x.name == "all" for x in terms)
        for term in terms:
            is_redirect = term.kind == "modifier" and term.name == "redirect"
            if term.name not in SPF_LOOKUP_MECHANISMS and not is_redirect:
                continue
            if term.kind == "modifier" and not is_redirect:
                continue
            if is_redirect and has_all:
                continue
            if state["lookups"] >= _MAX_WALK:
                state["truncated"] = 1
                return
            state["lookups"] += 1
            chain.append("%s: %s" % (current, term.raw))
            if term.has_macro or term.name == "ptr":
                continue
            target = (term.domain or current).lower().rstrip(".")
            if not queryable(target):  # never matches, nothing to look up (lint_spf_value warns)
                continue
            via = "%s in %s" % (term.raw, current)
            if term.name == "include" or is_redirect:
                if target in stack:
                    findings.append(
                        finding(ERROR, record, "spf-loop", "%s: %s is already being evaluated (loop)" % (via, target))
                    )
                    continue
                nested_value = fetch_spf(target, via)
                if nested_value is not None:
                    walk(target, nested_value, (*stack, target))
                continue
            try:
                if term.name == "mx":
                    hosts = lookup.mx(target)
                    if not hosts:
                        void()
                    elif len(hosts) > SPF_MX_LIMIT:
                        findings.append(
                            finding(
                                ERROR,
                                record,
                                "spf-mx-limit",
                                "%s: %s has %d MX hosts, more than %d (permerror)"
                                % (via, target, len(hosts), SPF_MX_LIMIT),
                            )
                        )
                    for host in (hosts or [])[:SPF_MX_LIMIT]:
                        _address_voids(lookup, host, void)
                elif term.name == "a":
                    _address_voids(lookup, target, void)
                elif term.name == "exists" and not lookup.addresses(target, ("A",)):
                    void()
            except LookupFailure as exc:
                findings.append(finding(WARNING, record, "spf-dns-error", "%s: %s (temperror)" % (via, exc)))

    if value is None:
        value = fetch_spf(domain, "the SPF record of %s" % domain)
        if value is None:
            return SpfLookups(0, max(state["voids4"], state["voids6"]), findings, chain)
    walk(domain.lower().rstrip("."), value, (domain.lower().rstrip("."),))
    if state["lookups"] > SPF_LOOKUP_LIMIT:
        findings.append(
            finding(
                ERROR,
                record,
                "spf-lookup-limit",
                "SPF needs %s%d DNS lookups, more than the limit of %d (permerror, RFC 7208 4.6.4): %s"
                % ("at least " if state["truncated"] else "", state["lookups"], SPF_LOOKUP_LIMIT, ", ".join(chain)),
            )
        )
    voids = max(state["voids4"], state["voids6"])
    if voids > SPF_VOID_LIMIT:
        clients = [name for name, key in (("IPv4", "voids4"), ("IPv6", "voids6")) if state[key] > SPF_VOID_LIMIT]
        findings.append(
            finding(
                ERROR,
                record,
                "spf-void-limit",
                "%d lookups return no answer for %s clients, more than the limit of %d (permerror, RFC 7208 4.6.4)"
                % (voids, " and ".join(clients), SPF_VOID_LIMIT),
            )
        )
    return SpfLookups(state["lookups"], voids, findings, chain)


def _address_voids(lookup: DnsLookup, host: str, void: t.Callable[[str], None]) -> None:
    """Count the void address lookups of ``host``: an empty A is void for IPv4 clients, AAAA for IPv6."""
    for rdtype, family in (("A", "4"), ("AAAA", "6")):
        if not lookup.query(host, rdtype):
            void(family)


# -- DMARC ---------------------------------------------------------------------------------------------


def lint_dmarc_value(value: str, record: str) -> list[dict]:
    """Check one DMARC record (RFC 7489, and the changes of RFC 9989) with the tag rules of the record model."""
    findings: list[dict] = []
    try:
        tags = dmarc_tags(value, record, published=True)
    except RecordError as exc:
        code = "dmarc-duplicate-tag" if "appears twice" in str(exc) else "dmarc-syntax"
        if code == "dmarc-syntax":
            exc = RecordError("a DMARC record is 'v=DMARC1; p=...' with v=DMARC1 first")
        return [finding(ERROR, record, code, str(exc))]
    for name, tag_value in tags[1:]:
        tag = DMARC_TAGS.get(name)
        if tag is None:
            findings.append(finding(WARNING, record, "dmarc-unknown-tag", "unknown tag %s= is ignored" % name))
            continue
        if tag.removed:
            findings.append(
                finding(
                    WARNING,
                    record,
                    "dmarc-removed-tag",
                    "%s= was removed by RFC 9989 (%s); older receivers may still read it" % (name, tag.removed),
                )
            )
        if tag.separator == ",":
            findings += _lint_dmarc_uris(name, tag_value, record)
            continue
        try:
            dmarc_tag(tag, tag_value, name, raw=True)
        except RecordError as exc:
            findings.append(finding(ERROR, record, "dmarc-value", "%s=%s is invalid: %s" % (name, tag_value, exc)))
    names = [name for name, _value in tags]
    if "p" not in names:
        findings.append(
            finding(
                WARNING,
                record,
                "dmarc-no-p",
                "no p= tag: RFC 9989 receivers apply p=none and RFC 7489 receivers ignore the record",
            )
        )
    elif names[1] != "p":
        findings.append(finding(WARNING, record, "dmarc-p-order", "RFC 7489 receivers expect p= right after v=DMARC1"))
    return findings


def _lint_dmarc_uris(name: str, tag_value: str, record: str) -> list[dict]:
    findings = []
    for item in tag_value.split(","):
        item = item.strip()
        if ":" not in item:
            findings.append(finding(ERROR, record, "dmarc-uri", "%s entry %r needs a mailto: scheme" % (name, item)))
            continue
        if not item.lower().startswith("mailto:"):
            findings.append(
                finding(
                    WARNING, record, "dmarc-uri", "%s entry %r: receivers send reports by mailto: only" % (name, item)
                )
            )
            continue
        try:
            dmarc_uri(item, name)
        except RecordError as exc:
            findings.append(finding(ERROR, record, "dmarc-uri", str(exc)))
            continue
        if "!" in item:
            findings.append(
                finding(
                    WARNING,
                    record,
                    "dmarc-uri-size",
                    "%s entry %r: the !size suffix is obsolete (RFC 9989)" % (name, item),
                )
            )
    return findings


def lint_dmarc_values(values: list[str], record: str) -> list[dict]:
    """Check the TXT values at ``_dmarc.<domain>``: exactly one DMARC record, valid."""
    dmarc = [v for v in values if is_dmarc(v)]
    findings: list[dict] = []
    if len(dmarc) > 1:
        findings.append(
            finding(ERROR, record, "dmarc-multiple", "%d DMARC records: receivers ignore them all" % len(dmarc))
        )
    if not dmarc and values:
        findings.append(finding(ERROR, record, "dmarc-syntax", "no TXT value here starts with v=DMARC1"))
    for value in dmarc:
        findings += lint_dmarc_value(value, record)
    return findings


def lint_policy_values(policy: PolicyKind, values: list[str], record: str, expected: bool = False) -> list[dict]:
    """Check the TXT values at an MTA-STS or TLS-RPT name: at most one record of the kind, valid.

    RFC 8461 3.1 and RFC 8460 3: with several records the sender sees none. ``expected``: the
    caller said one should be there.
    """
    code = policy.kind.replace("_", "-")
    records = [v for v in values if policy.owns(v)]
    findings: list[dict] = []
    if not records and expected:
        findings.append(
            finding(ERROR, record, code + "-missing", "no %s record (v=%s)" % (policy.label, policy.version))
        )
    if len(records) > 1:
        findings.append(
            finding(
                ERROR,
                record,
                code + "-multiple",
                "%d %s records: senders ignore them all" % (len(records), policy.label),
            )
        )
    for value in records:
        try:
            policy.build({"value": value}, record)
        except RecordError as exc:
            findings.append(finding(ERROR, record, code + "-syntax", str(exc)))
    return findings


# -- DKIM ------------------------------------------------------------------------------------------------


def dkim_key_findings(key_type: str, bits: int, record: str) -> list[dict]:
    """Key size policy: RSA below 1024 bits is an error, below 2048 a warning."""
    if key_type != "rsa":
        return []
    if bits < MIN_RSA_BITS:
        return [
            finding(
                ERROR,
                record,
                "dkim-key-size",
                "RSA key of %d bits: verifiers reject keys under %d bits (RFC 8301); use %d"
                % (bits, MIN_RSA_BITS, RECOMMENDED_RSA_BITS),
            )
        ]
    if bits < RECOMMENDED_RSA_BITS:
        return [
            finding(
                WARNING,
                record,
                "dkim-key-size",
                "RSA key of %d bits is weak; use %d bits" % (bits, RECOMMENDED_RSA_BITS),
            )
        ]
    return []


def lint_dkim_value(value: str, record: str, revoked: bool = False) -> list[dict]:
    """Check one DKIM key record: syntax, key type, key size, hashes, flags.

    revoked: the selector is meant to be revoked (``revoked: true``): an empty ``p=`` is what it should
    serve (RFC 6376 3.6.1), and a key served there is an error (``dkim-not-revoked``).
    """
    findings: list[dict] = []
    tags = parse_tag_list(value)
    if not tags:
        return [finding(ERROR, record, "dkim-syntax", "not a DKIM key record (tag=value; ... p=<key>)")]
    seen: dict[str, str] = {}
    for index, (name, tag_value) in enumerate(tags):
        if name in seen:
            findings.append(finding(ERROR, record, "dkim-syntax", "tag %s= appears more than once" % name))
        seen[name] = tag_value
        if name == "v" and (index != 0 or tag_value != "DKIM1"):
            findings.append(finding(ERROR, record, "dkim-syntax", "v= must come first and be DKIM1"))
    if "p" not in seen:
        findings.append(finding(ERROR, record, "dkim-syntax", "the p= tag (public key) is missing"))
        return findings
    k = seen.get("k", "rsa")
    if k not in DKIM_KEY_TYPES:
        findings.append(finding(ERROR, record, "dkim-key-type", "k=%s is not rsa or ed25519" % k))
        return findings
    p_value = "".join(seen["p"].split())
    if not p_value:
        if not revoked:
            findings.append(finding(WARNING, record, "dkim-revoked", "p= is empty: the key is revoked"))
    elif revoked:
        findings.append(
            finding(ERROR, record, "dkim-not-revoked", "the selector is revoked but a key is served (p= not empty)")
        )
    else:
        try:
            key_type, bits, _p = public_key_info(p_value, k)
            findings += dkim_key_findings(key_type, bits, record)
        except RecordError as exc:
            findings.append(finding(ERROR, record, "dkim-key", str(exc)))
    if "h" in seen:
        hashes = [h for h in seen["h"].replace(" ", "").split(":") if h]
        if hashes == ["sha1"]:
            findings.append(finding(ERROR, record, "dkim-hash", "h=sha1 only: verifiers reject sha1 (RFC 8301)"))
        elif "sha1" in hashes:
            findings.append(finding(WARNING, record, "dkim-hash", "h= lists sha1, which must not be used (RFC 8301)"))
    flags = seen.get("t", "").replace(" ", "").split(":")
    if "y" in flags:
        findings.append(
            finding(WARNING, record, "dkim-testing", "t=y: the domain is testing DKIM; verifiers may ignore failures")
        )
    return findings


def lint_dkim_values(values: list[str], record: str, revoked: bool = False) -> list[dict]:
    """Check the TXT records at one DKIM selector (revoked: it is meant to be revoked, see lint_dkim_value)."""
    findings = [f for v in values for f in lint_dkim_value(v, record, revoked)]
    if len(values) > 1:
        return [
            finding(
                ERROR, record, "dkim-multiple", "%d TXT records at one DKIM selector: verifiers fail" % len(values)
            ),
            *findings,
        ]
    return findings


# -- desired records ----------------------------------------------------------------------------------------


def lint_desired(items, lookup: DnsLookup | None = None) -> list[dict]:
    """Lint the records ``_entries.desired_items()`` returns, before they are published.

    With ``lookup``, the SPF lookup count is checked through live DNS too.
    """
    findings: list[dict] = []
    for item in items:
        rrset = item.rrset
        if not rrset.values:
            continue
        if item.kind == "spf":
            findings += lint_spf_values(rrset.values, rrset.name)
            if lookup is not None:
                findings += spf_lookups(rrset.name, rrset.values[0], lookup).findings
        elif item.kind == "dkim":
            # A desired value with an empty p= comes from revoked: true only (a hand-written one is refused).
            revoked = bool(rrset.values) and all(is_revoked(v) for v in rrset.values)
            findings += lint_dkim_values(rrset.values, rrset.name, revoked=revoked)
        elif item.kind == "dmarc":
            findings += lint_dmarc_values(rrset.values, rrset.name)
    return _unique(findings)


def _unique(findings: list[dict]) -> list[dict]:
    out, seen = [], set()
    for item in findings:
        key = (item["severity"], item["record"], item["code"], item["message"])
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
