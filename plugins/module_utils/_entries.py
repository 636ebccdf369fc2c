# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Domain entries: from the declarative list (docs/dns-design.md) to the record sets and DKIM keys they ask for.

Validates each entry, expands it into the SPF, DKIM, DMARC, ``_report._dmarc``, MTA-STS and TLS-RPT
record sets the module owns, and derives the per-host key lists the roles use.
"""

from __future__ import annotations

import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _schema
from ansible_collections.mailauth.core.plugins.module_utils._dkim_record import (
    DKIM_KEY_TYPES,
    DKIM_KEYS,
    ED25519_SIZE,
    RSA_SIZES,
    build_dkim,
)
from ansible_collections.mailauth.core.plugins.module_utils._fields import check_keys, int_range
from ansible_collections.mailauth.core.plugins.module_utils._names import (
    RecordError,
    check_domain,
    check_name,
    check_selector,
    check_text,
)
from ansible_collections.mailauth.core.plugins.module_utils._provider import RecordSet
from ansible_collections.mailauth.core.plugins.module_utils._reporting import POLICY_KINDS, build_dmarc, dmarc_uri
from ansible_collections.mailauth.core.plugins.module_utils._spf import SPF_MERGE_MODES, build_spf
from ansible_collections.mailauth.core.plugins.module_utils._txt import parse_tag_list

DEFAULT_TTL = 3600
_ENTRY_KEYS = _schema.keys(_schema.ENTRY)
_STATES = _schema.choices(_schema.ENTRY, "state")


class DesiredRecord(t.NamedTuple):
    """One record set the module owns, with what it is and the zone hint from the domain entry."""

    domain: str  # the mail domain whose entry produced it
    kind: str  # spf | dkim | dmarc | report | mta_sts | tls_rpt
    zone: str | None  # the entry's ``zone`` (for ``report``: the zone of the report domain's entry)
    state: str  # present | absent
    spf_merge: str  # the entry's spf_merge (meaningful for kind spf)
    rrset: RecordSet  # values: [] when state is absent (at the apex: only the SPF value goes)


def _dkim_entries(dkim, domain: str) -> list[dict]:
    if dkim is None:
        return []
    if isinstance(dkim, dict):
        return [dkim]
    if isinstance(dkim, list):
        for entry in dkim:
            if not isinstance(entry, dict):
                raise RecordError("%s: each dkim entry must be a dictionary, got %r" % (domain, entry))
        return dkim
    raise RecordError("%s: dkim must be a list of selectors, got %r" % (domain, dkim))


def _ttl(value, domain: str) -> int:
    if value is None:
        return DEFAULT_TTL
    return int_range(value, 1, 2147483647, "%s: ttl" % domain)


def desired_items(domains: list[dict]) -> list[DesiredRecord]:
    """Validate the domain entries and return every record set they own (see docs/dns-design.md).

    Entries with ``state: absent`` yield their record sets with empty ``values``: the names whose
    managed values must go (at the apex only the SPF value). Keys of an entry that this model does
    not know (e.g. ``mail_hosts`` of the shared inventory list) are ignored; unknown keys inside
    ``spf``, ``dkim``, ``dmarc``, ``mta_sts`` and ``tls_rpt`` are errors.
    """
    if not isinstance(domains, list):
        raise RecordError("domains must be a list of domain entries, got %r" % (domains,))
    entries = []
    seen_domains: dict[str, dict] = {}
    for entry in domains:
        if not isinstance(entry, dict):
            raise RecordError("each domain entry must be a dictionary, got %r" % (entry,))
        domain = check_domain(entry.get("name"), "mail domain")
        if domain in seen_domains:
            raise RecordError("domain %s is listed twice" % domain)
        seen_domains[domain] = entry
        entries.append((domain, entry))
    items: list[DesiredRecord] = []
    owners: dict[str, str] = {}

    def own(domain, kind, zone, state, merge, name, ttl, values):
        name = check_name(name, "%s: the %s record name" % (domain, kind))
        if name in owners:
            raise RecordError("%s: record %s is also produced by %s" % (domain, name, owners[name]))
        owners[name] = domain
        items.append(DesiredRecord(domain, kind, zone, state, merge, RecordSet(name, "TXT", ttl, values)))

    for domain, entry in entries:
        check_text({k: v for k, v in entry.items() if k in _ENTRY_KEYS}, domain)
        state = entry.get("state") or "present"
        if state not in _STATES:
            raise RecordError("%s: state must be %s, got %r" % (domain, " or ".join(_STATES), state))
        present = state == "present"
        zone = entry.get("zone")
        if zone is not None:
            zone = check_domain(zone, "%s: zone" % domain, allow_underscore=True, min_labels=1)
            if not (domain == zone or domain.endswith("." + zone)):
                raise RecordError("%s: the domain is not inside zone %s" % (domain, zone))
        ttl = _ttl(entry.get("ttl"), domain)
        merge = entry.get("spf_merge") or "merge"
        if merge not in SPF_MERGE_MODES:
            raise RecordError("%s: spf_merge must be one of %s, got %r" % (domain, ", ".join(SPF_MERGE_MODES), merge))
        if entry.get("spf") is not None:
            values = [build_spf(entry["spf"], domain)] if present else []
            own(domain, "spf", zone, state, merge, domain, ttl, values)
        for dkim in _dkim_entries(entry.get("dkim"), domain):
            if present:
                selector, value = build_dkim(dkim, domain)
                values = [value]
            else:
                check_keys(dkim, DKIM_KEYS, "%s: dkim" % domain)
                try:
                    selector, values = check_selector(dkim.get("selector")), []
                except RecordError as exc:
                    raise RecordError("%s: %s" % (domain, exc)) from None
            own(domain, "dkim", zone, state, merge, "%s._domainkey.%s" % (selector, domain), ttl, values)
        if entry.get("dmarc") is not None:
            if present:
                value, report_domains = build_dmarc(entry["dmarc"], domain)
            else:
                value, report_domains = None, _report_domains_loose(entry["dmarc"])
            own(domain, "dmarc", zone, state, merge, "_dmarc." + domain, ttl, [value] if present else [])
            for rdomain in report_domains:
                if rdomain == domain or rdomain not in seen_domains:
                    continue
                rzone = seen_domains[rdomain].get("zone")
                rzone = check_domain(rzone, "%s: zone" % rdomain, True, 1) if rzone is not None else None
                name = "%s._report._dmarc.%s" % (domain, rdomain)
                own(domain, "report", rzone, state, merge, name, ttl, ["v=DMARC1"] if present else [])
        for policy in POLICY_KINDS:
            if entry.get(policy.kind) is not None:
                values = [policy.build(entry[policy.kind], domain)] if present else []
                own(domain, policy.kind, zone, state, merge, policy.name(domain), ttl, values)
    return items


def _report_domains_loose(dmarc) -> list[str]:
    """Report domains of a dmarc intent being removed (best effort: no validation failure)."""
    domains = []
    if isinstance(dmarc, str):
        tags = dict(parse_tag_list(dmarc) or [])
        items = tags.get("rua", "").split(",") + tags.get("ruf", "").split(",")
    elif isinstance(dmarc, dict):
        items = []
        for name in ("rua", "ruf"):
            value = dmarc.get(name)
            items += value if isinstance(value, list) else [value] if isinstance(value, str) else []
    else:
        items = []
    for item in items:
        if isinstance(item, str) and "@" in item:
            try:
                domains.append(dmarc_uri(item, "dmarc")[1])
            except RecordError:
                continue
    return domains


def desired_records(domains: list[dict]) -> list[RecordSet]:
    """The record sets the module owns for ``domains`` (validated; raises RecordError)."""
    return [item.rrset for item in desired_items(domains)]


def _choice_key_type(value, index: int) -> str:
    if value is None:
        return "rsa"
    if value not in DKIM_KEY_TYPES:
        raise RecordError("keys[%d].key_type must be one of %s, got %r" % (index, ", ".join(DKIM_KEY_TYPES), value))
    return value


def dkim_item(selector: str, record) -> dict:
    """The dkim entry of one selector from :func:`key_records`: its value, or ``revoked`` and ``key_type``."""
    if isinstance(record, dict):
        return {"selector": selector, **record}
    return {"selector": selector, "value": record}


def key_records(keys: list[dict]) -> dict[str, dict[str, t.Any]]:
    """``{domain: {selector: record}}`` of DKIM key results (dkim_key's ``value``, or ``record``, its deprecated name).

    A key with ``revoked: true`` (the opendkim role's records after an emergency rotation) gives
    ``{"revoked": True, "key_type": ...}`` instead of its record: the selector is published revoked.

    A key without a record yet (check mode, not generated) is left out. Two different records for
    one (domain, selector) are an error: a shared selector with different keys would break
    verification for one of them.
    """
    by_domain: dict[str, dict[str, t.Any]] = {}
    if not isinstance(keys, (list, type(None))):
        raise RecordError("keys must be a list of {domain, selector, value} dictionaries, got %s" % type(keys).__name__)
    for index, key in enumerate(keys or []):
        if not isinstance(key, dict):
            raise RecordError("keys[%d] must be a dictionary, got %s" % (index, type(key).__name__))
        name = "value" if key.get("value") else "record"
        record = key.get(name)
        if key.get("revoked") is True:
            # A revoked selector (emergency rotation): published as revoked, its key never.
            record = {"revoked": True, "key_type": _choice_key_type(key.get("key_type"), index)}
        elif not record:
            continue
        elif not isinstance(record, str):
            raise RecordError("keys[%d].%s must be a string, got %s" % (index, name, type(record).__name__))
        else:
            check_text(record, "keys[%d].%s" % (index, name))
        domain = check_domain(key.get("domain"), "keys[%d].domain" % index)
        selector = check_selector(key.get("selector"), "keys[%d].selector" % index)
        known = by_domain.setdefault(domain, {})
        if selector in known and known[selector] != record:
            raise RecordError(
                "two different DKIM keys use selector %r for %s: give each host its own selector, "
                "or install the same key everywhere (shared-key mode)" % (selector, domain)
            )
        known[selector] = record
    return by_domain


def attach_dkim_keys(domains: list[dict], keys: list[dict]) -> list[dict]:
    """Domain entries whose ``dkim`` lists the generated keys of every host that signs for them.

    ``keys`` are the per-key results of ``mailauth.core.dkim_key`` gathered from all hosts
    (``domain``, ``selector``, ``value``), or the opendkim role's ``opendkim_dns_records`` (the same
    names). A key without a record yet (check mode, not generated)
    is left out. Two hosts returning different records for one selector is an error: it means a
    shared selector with different keys, which would break verification for one of them.
    """
    by_domain = key_records(keys)
    if not isinstance(domains, (list, type(None))):
        raise RecordError("domains must be a list of domain entries, got %s" % type(domains).__name__)
    out = []
    for index, entry in enumerate(domains or []):
        if not isinstance(entry, dict):
            raise RecordError("domains[%d] must be a dictionary, got %s" % (index, type(entry).__name__))
        entry = dict(entry)
        name = check_domain(entry.get("name"), "domains[%d].name" % index)
        selectors = by_domain.get(name, {})
        if selectors:
            entry["dkim"] = [dkim_item(s, v) for s, v in sorted(selectors.items())]
        else:
            entry.pop("dkim", None)
        out.append(entry)
    return out


def publish_entries(domains: list[dict], keys: list[dict], missing: str = "fail") -> dict:
    """The input of the dns_publish role's ``dns_records`` call, from the shared domain list.

    Each entry keeps only the keys of a domain entry (``mail_hosts`` and other roles' keys go),
    ``dkim`` becomes a list of selectors with the keys of a DKIM entry only, and a selector without
    ``public_key`` or ``value`` takes its record from ``keys`` (see :func:`key_records`). When none is
    found it is kept (``dns_records`` then fails naming it) or, with ``missing: skip``, dropped.
    Returns ``{"domains": [...], "skipped": ["<selector>._domainkey.<domain>", ...]}``.
    """
    if missing not in ("fail", "skip"):
        raise RecordError("missing must be fail or skip, got %r" % (missing,))
    if not isinstance(domains, (list, type(None))):
        raise RecordError("domains must be a list of domain entries, got %s" % type(domains).__name__)
    by_domain = key_records(keys)
    out, skipped = [], []
    for index, entry in enumerate(domains or []):
        if not isinstance(entry, dict):
            raise RecordError("domains[%d] must be a dictionary, got %s" % (index, type(entry).__name__))
        entry = {k: v for k, v in entry.items() if k in _ENTRY_KEYS}
        if entry.get("dkim") is not None:
            name = check_domain(entry.get("name"), "domains[%d].name" % index)
            selectors = []
            for dkim in _dkim_entries(entry["dkim"], name):
                dkim = {k: v for k, v in dkim.items() if k in DKIM_KEYS}
                if not dkim.get("public_key") and not dkim.get("value") and dkim.get("revoked") is not True:
                    record = by_domain.get(name, {}).get(str(dkim.get("selector", "")).lower())
                    if isinstance(record, dict):
                        dkim.update(record)
                    elif record:
                        dkim["value"] = record
                    elif missing == "skip":
                        skipped.append("%s._domainkey.%s" % (dkim.get("selector", ""), name))
                        continue
                selectors.append(dkim)
            entry["dkim"] = selectors
        out.append(entry)
    return {"domains": out, "skipped": skipped}


def host_domains(entries: list[dict], host: str) -> list[dict]:
    """The entries of the domain list whose ``mail_hosts`` names ``host`` (in list order)."""
    return [e for e in entries or [] if host in (e.get("mail_hosts") or [])]


def signing_keys(entries: list[dict], selector_base: str, key_type: str = "rsa", key_size: int = 2048) -> list[dict]:
    """The DKIM keys that domain entries ask one host for, one dict per (domain, key).

    An entry's ``dkim`` is a dict or a list of dicts (dual signing); ``dkim: []`` asks for none,
    and a missing ``dkim`` asks for one key of ``key_type``. The default selector is
    ``<selector_base>-<type>``; Ed25519 keys are 256 bits. Values are passed through as given
    (the roles and M(mailauth.core.dkim_key) validate them), except the domain: lower case,
    without a trailing dot.
    """
    keys = []
    for entry in entries or []:
        spec = entry.get("dkim", {})
        domain = str(entry.get("name", "")).lower()
        if domain.endswith("."):
            domain = domain[:-1]
        for k in [spec] if isinstance(spec, dict) else spec:
            kt = k.get("key_type", key_type)
            keys.append(
                {
                    "domain": domain,
                    "selector": k.get("selector", "%s-%s" % (selector_base, kt)),
                    "key_type": kt,
                    "key_size": k.get("key_size", key_size) if kt == "rsa" else ED25519_SIZE,
                    "subdomains": k.get("subdomains", False),
                    "private_key_content": k.get("private_key_content"),
                }
            )
    return keys


def signing_key_problems(keys: list) -> list[str]:
    """Everything wrong with key dicts of the signing_keys shape, as sentences (empty: valid).

    Checked: the domain (a DNS name of two labels or more, given lower case and in ASCII), the
    selector (RFC 6376 3.1), the type, the RSA size, ``subdomains`` and ``private_key_content``,
    and that no (domain, selector) pair appears twice.
    """
    if not isinstance(keys, list):
        return ["the keys must be a list of dictionaries, got %s" % type(keys).__name__]
    domains, selectors, types, sizes, others, dups = [], [], [], [], [], []
    seen: set[tuple[str, str]] = set()
    for index, key in enumerate(keys):
        if not isinstance(key, dict):
            others.append("keys[%d] must be a dictionary" % index)
            continue
        domain, selector = key.get("domain"), key.get("selector")
        try:
            normal = check_domain(domain, "domain")
            if normal != domain:
                domains.append("%r (write %s)" % (domain, normal))
        except RecordError:
            domains.append(repr(domain))
        try:
            check_selector(selector)
        except RecordError:
            selectors.append(repr(selector))
        key_type = key.get("key_type")
        if key_type not in DKIM_KEY_TYPES:
            types.append(str(key_type))
        elif key_type == "rsa" and (isinstance(key.get("key_size"), bool) or key.get("key_size") not in RSA_SIZES):
            sizes.append(str(key.get("key_size")))
        if not isinstance(key.get("subdomains", False), bool):
            others.append("subdomains of %s must be true or false" % domain)
        if not isinstance(key.get("private_key_content"), (str, type(None))):
            others.append("private_key_content of %s must be a PEM string" % domain)
        pair = (str(domain).lower(), str(selector).lower())
        if pair in seen:
            dups.append("%s/%s" % (domain, selector))
        seen.add(pair)
    problems = []
    for bad, sentence in (
        (
            domains,
            "domains (mailauth_domains names) must be lower-case ASCII DNS names of two labels or more, got ",
        ),
        (
            selectors,
            "selectors must be dot-separated labels of letters, digits and inner hyphens (RFC 6376 3.1), got ",
        ),
        (types, "key types are %s, got " % " or ".join(DKIM_KEY_TYPES)),
        (sizes, "RSA keys are %s bits, got " % ", ".join(str(s) for s in RSA_SIZES)),
        (dups, "each (domain, selector) pair must be unique, got twice: "),
    ):
        if bad:
            problems.append(sentence + ", ".join(bad))
    return problems + others
