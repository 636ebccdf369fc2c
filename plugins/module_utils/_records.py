# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Record model: SPF, DKIM, DMARC, ``_report._dmarc``, MTA-STS and TLS-RPT values.

Builds the TXT values a mail domain needs from the declarative domain entry described in
``docs/dns-design.md``, validates that entry (every problem raises :class:`RecordError`
with a message naming the domain and the field), merges SPF with an existing record and
reads DKIM public keys.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _input
from ansible_collections.mailauth.core.plugins.module_utils._dkim import ED25519_SIZE, RSA_SIZES
from ansible_collections.mailauth.core.plugins.module_utils._provider import RecordSet
from ansible_collections.mailauth.core.plugins.module_utils._txt import is_spf, normalize, parse_tag_list

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the modules
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

DEFAULT_TTL = 3600
MIN_RSA_BITS = 1024
RECOMMENDED_RSA_BITS = 2048
SPF_MERGE_MODES = ("merge", "replace", "keep")
SPF_ALL = ("-all", "~all", "?all", "+all")
DMARC_POLICIES = ("none", "quarantine", "reject")
DMARC_FO = ("0", "1", "d", "s")
DKIM_KEY_TYPES = ("rsa", "ed25519")
DKIM_FLAGS = ("y", "s")
DKIM_HASHES = ("sha256",)
DKIM_SERVICE_TYPES = ("email", "*")

SPF_MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
SPF_LOOKUP_MECHANISMS = ("include", "a", "mx", "ptr", "exists")
SPF_LOOKUP_LIMIT = 10

_ENTRY_KEYS = ("name", "zone", "ttl", "state", "spf", "spf_merge", "dkim", "dmarc", "mta_sts", "tls_rpt")
_SPF_KEYS = ("mechanisms", "ip4", "ip6", "include", "redirect", "all", "value", "allow_pass_all")
_DKIM_KEYS = (
    "selector",
    "key_type",
    "key_size",
    "public_key",
    "flags",
    "hash_algorithms",
    "service_types",
    "value",
    "notes",
)
_DMARC_KEYS = ("p", "sp", "np", "pct", "adkim", "aspf", "rua", "ruf", "fo", "ri", "t", "value")
_MTA_STS_KEYS = ("id", "value")
_TLS_RPT_KEYS = ("rua", "value")

_MACRO = re.compile(r"%\{[slodiphcrtv][0-9]*r?[.\-+,/_=]*\}", re.IGNORECASE)
_MACRO_LITERAL = re.compile(r"%[%_\-]")
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]*)=(.*)\Z", re.DOTALL)
_MECHANISM = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9_.\-]*)(.*)\Z", re.DOTALL)
_DUAL_CIDR = re.compile(r"(.*?)(?:/([0-9]+))?(?://([0-9]+))?\Z", re.DOTALL)
_LOCAL_PART = re.compile(r"[A-Za-z0-9.#$%&'*+/=?^_`{|}~\-]+\Z")
_STS_ID = re.compile(r"[A-Za-z0-9]{1,32}\Z")
_DMARC_SIZE = re.compile(r"[0-9]+[kmgtKMGT]?\Z")


class RecordError(ValueError):
    """Invalid record intent or record value; the message is fit for a user."""


class SpfTerm(t.NamedTuple):
    """One parsed SPF term (mechanism or modifier)."""

    kind: str  # "mechanism" or "modifier"
    qualifier: str  # "+", "-", "~", "?" ("" for modifiers)
    name: str  # lower-case mechanism or modifier name
    domain: str | None  # domain-spec (mechanisms a, mx, ptr, include, exists; modifiers)
    network: str | None  # ip4/ip6 network
    cidr4: int | None
    cidr6: int | None
    raw: str

    @property
    def key(self) -> str:
        """A comparison key: qualifier made explicit, name lower-cased."""
        if self.kind == "modifier":
            rest = "=" + self.raw.split("=", 1)[1]
        else:
            match = _MECHANISM.match(self.raw.lstrip("+-~?"))
            rest = match.group(3) if match else ""
        if "%" not in rest:
            rest = rest.lower()
        return "%s%s%s" % (self.qualifier, self.name, rest)

    @property
    def has_macro(self) -> bool:
        return bool(self.domain and "%" in self.domain)


class DesiredRecord(t.NamedTuple):
    """One record set the module owns, with what it is and the zone hint from the domain entry."""

    domain: str  # the mail domain whose entry produced it
    kind: str  # spf | dkim | dmarc | report | mta_sts | tls_rpt
    zone: str | None  # the entry's ``zone`` (for ``report``: the zone of the report domain's entry)
    state: str  # present | absent
    spf_merge: str  # the entry's spf_merge (meaningful for kind spf)
    rrset: RecordSet  # values: [] when state is absent (at the apex: only the SPF value goes)


# -- names ------------------------------------------------------------------------------------


def check_domain(name, what: str = "domain name", allow_underscore: bool = False, min_labels: int = 2) -> str:
    """Validate a DNS name; return it absolute, lower case, ASCII (IDNA), without the trailing dot."""
    try:
        return _input.domain(name, what, min_labels=min_labels, underscore=allow_underscore)
    except _input.InputError as exc:
        raise RecordError(str(exc)) from None


def check_selector(selector, what: str = "DKIM selector") -> str:
    """Validate a DKIM selector (RFC 6376 3.1: dot-separated LDH labels); return it lower-cased."""
    if isinstance(selector, str) and "_domainkey" in selector.lower():
        raise RecordError("%s %r must not contain _domainkey; give the selector only" % (what, selector))
    try:
        return _input.selector(selector, what)
    except _input.InputError as exc:
        raise RecordError(str(exc)) from None


def check_name(name: str, what: str) -> str:
    """A record name built from checked parts (``_dmarc.<domain>``...): the DNS length limits again."""
    try:
        return _input.derived_name(name, what)
    except _input.InputError as exc:
        raise RecordError(str(exc)) from None


def check_text(value, what: str) -> None:
    """Refuse control characters (newline, NUL, tab...) in every string of an intent (dicts and lists too).

    ``public_key`` may hold the lines of a PEM; the key parser checks it.
    """
    try:
        _input.no_controls_deep(value, what, multiline=("public_key",))
    except _input.InputError as exc:
        raise RecordError(str(exc)) from None


def _check_domain_spec(spec: str, what: str) -> str:
    """An SPF domain-spec: a domain name, or a macro-string ending in a macro or a top label."""
    if not spec:
        raise RecordError("%s: the domain is empty" % what)
    if "%" not in spec:
        return check_domain(spec, what, allow_underscore=True, min_labels=1)
    rest = _MACRO.sub("", spec)
    rest = _MACRO_LITERAL.sub("", rest)
    if "%" in rest:
        raise RecordError("%s: invalid macro in %r (use %%{x}, %%%%, %%_ or %%-)" % (what, spec))
    if any(ord(c) < 0x21 or ord(c) > 0x7E for c in spec):
        raise RecordError("%s: %r holds characters not allowed in an SPF domain" % (what, spec))
    return spec


# -- SPF --------------------------------------------------------------------------------------


def parse_spf_term(term: str) -> SpfTerm:
    """Parse one SPF term (RFC 7208 section 12); raise RecordError on a syntax error."""
    if not term:
        raise RecordError("empty SPF term")
    mod = _MODIFIER.match(term)
    if mod:
        name = mod.group(1).lower()
        value = mod.group(2)
        if name in ("redirect", "exp"):
            return SpfTerm("modifier", "", name, _check_domain_spec(value, "SPF %s=" % name), None, None, None, term)
        if any(ord(c) < 0x21 or ord(c) > 0x7E for c in value):
            raise RecordError("SPF modifier %r holds characters that are not allowed" % term)
        return SpfTerm("modifier", "", name, value, None, None, None, term)
    match = _MECHANISM.match(term)
    if not match:
        raise RecordError("SPF term %r is not a mechanism or a modifier" % term)
    qualifier = match.group(1) or "+"
    name = match.group(2).lower()
    rest = match.group(3)
    if name not in SPF_MECHANISMS:
        raise RecordError("unknown SPF mechanism %r in %r (known: %s)" % (name, term, ", ".join(SPF_MECHANISMS)))
    if name == "all":
        if rest:
            raise RecordError("SPF 'all' takes no argument: %r" % term)
        return SpfTerm("mechanism", qualifier, name, None, None, None, None, term)
    if name in ("include", "exists"):
        if not rest.startswith(":") or len(rest) < 2:
            raise RecordError("SPF %s needs a domain: %s:<domain>, got %r" % (name, name, term))
        domain = _check_domain_spec(rest[1:], "SPF %s" % name)
        return SpfTerm("mechanism", qualifier, name, domain, None, None, None, term)
    if name == "ptr":
        domain = None
        if rest:
            if not rest.startswith(":"):
                raise RecordError("SPF ptr takes an optional :<domain>, got %r" % term)
            domain = _check_domain_spec(rest[1:], "SPF ptr")
        return SpfTerm("mechanism", qualifier, name, domain, None, None, None, term)
    if name in ("a", "mx"):
        cidr = _DUAL_CIDR.match(rest)
        spec, c4, c6 = cidr.group(1), cidr.group(2), cidr.group(3)  # type: ignore[union-attr]
        domain = None
        if spec:
            if not spec.startswith(":"):
                raise RecordError("SPF %s takes an optional :<domain> and /<cidr>, got %r" % (name, term))
            domain = _check_domain_spec(spec[1:], "SPF %s" % name)
        cidr4 = _cidr(c4, 32, term)
        cidr6 = _cidr(c6, 128, term)
        return SpfTerm("mechanism", qualifier, name, domain, None, cidr4, cidr6, term)
    # ip4 / ip6
    if not rest.startswith(":") or len(rest) < 2:
        raise RecordError("SPF %s needs an address: %s:<address>[/<prefix>], got %r" % (name, name, term))
    network = rest[1:]
    check_network(network, 4 if name == "ip4" else 6, strict=False)
    return SpfTerm("mechanism", qualifier, name, None, network, None, None, term)


def _cidr(text: str | None, maximum: int, term: str) -> int | None:
    if text is None:
        return None
    value = int(text)
    if value > maximum or (len(text) > 1 and text.startswith("0")):
        raise RecordError("SPF prefix length /%s in %r is invalid (0-%d)" % (text, term, maximum))
    return value


def check_network(text, version: int, strict: bool = True) -> str:
    """Validate an IPv4/IPv6 address or network; return its canonical text (no /32 or /128)."""
    if not isinstance(text, str) or not text.strip():
        raise RecordError("an ip%d entry must be a non-empty string, got %r" % (version, text))
    text = text.strip()
    cls = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network
    try:
        network = cls(text, strict=True)
    except ValueError as exc:
        if "has host bits set" in str(exc):
            if strict:
                fixed = cls(text, strict=False)
                raise RecordError(
                    "ip%d %r has host bits set; did you mean %s?" % (version, text, fixed.with_prefixlen)
                ) from None
            network = cls(text, strict=False)
        else:
            raise RecordError("ip%d %r is not a valid IPv%d address or network" % (version, text, version)) from None
    if "/" in text and text.split("/", 1)[1].startswith("0") and text.split("/", 1)[1] != "0":
        raise RecordError("ip%d %r: the prefix length must not have leading zeros" % (version, text))
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return network.with_prefixlen


def parse_spf(value: str) -> list[SpfTerm]:
    """Parse a complete SPF value; raise RecordError on the first syntax error."""
    if not isinstance(value, str):
        raise RecordError("an SPF value must be a string, got %r" % (value,))
    if not is_spf(value):
        raise RecordError("an SPF record starts with 'v=spf1', got %r" % value[:40])
    if any(c not in " " and (ord(c) < 0x21 or ord(c) > 0x7E) for c in value):
        raise RecordError("SPF record %r holds characters other than printable ASCII and spaces" % value[:60])
    return [parse_spf_term(term) for term in value.split(" ")[1:] if term]


def _as_list(value, what: str) -> list:
    if value is None:
        return []
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise RecordError("%s must be a list, got %r" % (what, value))


def _check_keys(data: dict, allowed: tuple, what: str) -> None:
    if not isinstance(data, dict):
        raise RecordError("%s must be a dictionary, got %r" % (what, data))
    unknown = sorted(k for k in data if k not in allowed)
    if unknown:
        raise RecordError("%s: unknown option(s) %s (known: %s)" % (what, ", ".join(unknown), ", ".join(allowed)))


def build_spf(spf, domain: str = "the domain", allow_pass_all: bool = False) -> str:
    """The SPF value for an ``spf`` intent (dict), or a complete value (string) validated.

    A record that lets every host pass (``+all``, or ``?all`` with nothing before it) is refused
    unless ``allow_pass_all`` (argument or key of the intent) is true; a record that needs more than
    10 DNS lookups by its own terms is always refused (RFC 7208 4.6.4).
    """
    what = "%s: spf" % domain
    check_text(spf, what)
    if isinstance(spf, str):
        return check_spf_policy(_validated_spf_value(spf, what), what, allow_pass_all)
    _check_keys(spf, _SPF_KEYS, what)
    allow = spf.get("allow_pass_all", False)
    if not isinstance(allow, bool):
        raise RecordError("%s.allow_pass_all must be true or false, got %r" % (what, allow))
    allow = allow or allow_pass_all
    if spf.get("value") is not None:
        others = [k for k in _SPF_KEYS if k not in ("value", "allow_pass_all") and spf.get(k)]
        if others:
            raise RecordError("%s: give either value or %s, not both" % (what, ", ".join(others)))
        return check_spf_policy(_validated_spf_value(spf["value"], what), what, allow)
    terms: list[str] = []

    def add(term: str) -> None:
        parsed = parse_spf_term(term)
        if parsed.key not in [parse_spf_term(x).key for x in terms]:
            terms.append(term)

    for mech in _as_list(spf.get("mechanisms"), what + ".mechanisms"):
        if not isinstance(mech, str) or not mech.strip():
            raise RecordError("%s.mechanisms: %r is not an SPF mechanism" % (what, mech))
        mech = mech.strip()
        try:
            parsed = parse_spf_term(mech)
        except RecordError as exc:
            raise RecordError("%s.mechanisms: %s" % (what, exc)) from None
        if parsed.kind == "modifier":
            raise RecordError(
                "%s.mechanisms: %r is a modifier; use the redirect option (exp= is not supported)" % (what, mech)
            )
        if parsed.name == "all":
            raise RecordError("%s.mechanisms: set the 'all' option instead of listing %r" % (what, mech))
        if parsed.name in ("ip4", "ip6"):
            try:
                check_network(parsed.network, 4 if parsed.name == "ip4" else 6, strict=True)
            except RecordError as exc:
                raise RecordError("%s.mechanisms: %s" % (what, exc)) from None
        add(mech)
    for version in (4, 6):
        key = "ip%d" % version
        for addr in _as_list(spf.get(key), "%s.%s" % (what, key)):
            if isinstance(addr, str) and addr.lower().startswith(key + ":"):
                addr = addr[4:]
            try:
                add("%s:%s" % (key, check_network(addr, version, strict=True)))
            except RecordError as exc:
                raise RecordError("%s.%s: %s" % (what, key, exc)) from None
    for target in _as_list(spf.get("include"), what + ".include"):
        if isinstance(target, str) and target.lower().startswith("include:"):
            target = target[8:]
        if not isinstance(target, str):
            raise RecordError("%s.include: %r is not a domain name" % (what, target))
        add("include:%s" % _check_domain_spec(target.strip().rstrip("."), what + ".include"))
    redirect = spf.get("redirect")
    qualifier = spf.get("all")
    if redirect:
        if not isinstance(redirect, str):
            raise RecordError("%s.redirect: %r is not a domain name" % (what, redirect))
        if qualifier:
            raise RecordError("%s: set either redirect or all; with 'all' a redirect is ignored (RFC 7208 6.1)" % what)
        terms.append("redirect=%s" % _check_domain_spec(redirect.strip().rstrip("."), what + ".redirect"))
    else:
        if qualifier is None:
            qualifier = "-all"
        if qualifier == "all":
            qualifier = "+all"
        if qualifier not in SPF_ALL:
            raise RecordError("%s.all must be one of %s, got %r" % (what, ", ".join(SPF_ALL), qualifier))
        terms.append(qualifier)
    return check_spf_policy(" ".join(["v=spf1", *terms]), what, allow)


def spf_lookup_count(terms: list[SpfTerm]) -> int:
    """DNS lookups a record's own terms cost (include, a, mx, ptr, exists, redirect; RFC 7208 4.6.4)."""
    return len([x for x in terms if x.name in SPF_LOOKUP_MECHANISMS or x.name == "redirect"])


def check_spf_policy(value: str, what: str, allow_pass_all: bool = False) -> str:
    """Refuse an SPF value that lets every host pass (unless allowed) or needs more than 10 lookups by itself."""
    terms = parse_spf(value)
    mechs, _mods, all_term, _redirect = _spf_parts(terms)
    if all_term is not None and not allow_pass_all:
        if all_term.qualifier == "+":
            raise RecordError(
                "%s: %r lets every host on the Internet send mail as this domain; use -all or ~all "
                "(or set allow_pass_all: true if you really mean it)" % (what, all_term.raw)
            )
        if all_term.qualifier == "?" and not mechs:
            raise RecordError(
                "%s: '?all' with no mechanism before it makes SPF say nothing about any host; list the "
                "senders before it (or set allow_pass_all: true if you really mean it)" % what
            )
    count = spf_lookup_count(terms)
    if count > SPF_LOOKUP_LIMIT:
        raise RecordError(
            "%s: the record needs %d DNS lookups by its own terms (include, a, mx, ptr, exists, redirect), "
            "more than the limit of %d (permerror, RFC 7208 4.6.4)" % (what, count, SPF_LOOKUP_LIMIT)
        )
    return value


def _validated_spf_value(value, what: str) -> str:
    if not isinstance(value, str):
        raise RecordError("%s: an SPF value must be a string, got %r" % (what, value))
    check_text(value, what)
    value = " ".join(value.split())
    try:
        parse_spf(value)
    except RecordError as exc:
        raise RecordError("%s: %s" % (what, exc)) from None
    return value


def _spf_parts(terms: list[SpfTerm]):
    """Split terms into (mechanisms without all, modifiers without redirect, all term, redirect term).

    Mechanisms after ``all`` are dropped: they are never evaluated (RFC 7208 5.1).
    """
    mechs, mods, all_term, redirect = [], [], None, None
    for term in terms:
        if term.kind == "modifier":
            if term.name == "redirect":
                redirect = redirect or term
            else:
                mods.append(term)
        elif term.name == "all":
            all_term = all_term or term
        elif all_term is None:
            mechs.append(term)
    return mechs, mods, all_term, redirect


def merge_spf(existing_values: list[str], desired_spf: str | None, mode: str = "merge") -> list[str]:
    """The TXT values to publish at a name that should carry ``desired_spf``.

    ``existing_values`` are all logical TXT values at the name; values that are not SPF are
    kept in place. The result never holds two SPF records:

    - ``replace``: every existing SPF record is replaced by ``desired_spf``;
    - ``keep``: an existing SPF record is left as it is; ``desired_spf`` is added only when none exists;
    - ``merge``: the desired mechanisms, then the mechanisms and modifiers only the existing record(s)
      hold, then the desired ``all`` (or ``redirect``). An existing record that already holds every
      desired term and the same ``all``/``redirect`` is left unchanged.

    ``desired_spf=None`` removes the SPF record (modes ``merge``/``replace``; ``keep`` leaves it).
    """
    if mode not in SPF_MERGE_MODES:
        raise RecordError("spf_merge must be one of %s, got %r" % (", ".join(SPF_MERGE_MODES), mode))
    existing = list(existing_values)
    spf_idx = [i for i, v in enumerate(existing) if is_spf(v)]
    if mode == "keep" and spf_idx:
        return existing
    if desired_spf is None:
        return [v for v in existing if not is_spf(v)]
    if not spf_idx:
        return [*existing, desired_spf]
    new_spf = desired_spf
    if mode == "merge":
        new_spf = _merge_spf_values([existing[i] for i in spf_idx], desired_spf)
    result = []
    for i, value in enumerate(existing):
        if i == spf_idx[0]:
            result.append(new_spf)
        elif i not in spf_idx:
            result.append(value)
    return result


def _merge_spf_values(existing_spf: list[str], desired_spf: str) -> str:
    desired_terms = parse_spf(desired_spf)
    d_mechs, d_mods, d_all, d_redirect = _spf_parts(desired_terms)
    parsed_existing = []
    for value in existing_spf:
        try:
            parsed_existing.append(parse_spf(value))
        except RecordError as exc:
            raise RecordError(
                "the existing SPF record %r cannot be merged (%s); fix it or set spf_merge: replace" % (value, exc)
            ) from None
    if len(parsed_existing) == 1:
        e_mechs, e_mods, e_all, e_redirect = _spf_parts(parsed_existing[0])
        e_keys = {x.key for x in e_mechs + e_mods}
        same_end = (d_all.key if d_all else None) == (e_all.key if e_all else None) and (
            d_redirect.key if d_redirect else None
        ) == (e_redirect.key if e_redirect and not e_all else None)
        if same_end and all(x.key in e_keys for x in d_mechs + d_mods):
            return existing_spf[0]
    keys = {x.key for x in d_mechs}
    mod_names = {x.name for x in d_mods}
    extra_mechs, extra_mods = [], []
    for terms in parsed_existing:
        e_mechs, e_mods, _e_all, _e_redirect = _spf_parts(terms)
        for term in e_mechs:
            if term.key not in keys:
                keys.add(term.key)
                extra_mechs.append(term)
        for term in e_mods:
            if term.name not in mod_names:
                mod_names.add(term.name)
                extra_mods.append(term)
    out = ["v=spf1"]
    out += [x.raw for x in d_mechs + extra_mechs + d_mods + extra_mods]
    if d_redirect is not None and d_all is None:
        out.append(d_redirect.raw)
    elif d_all is not None:
        out.append(d_all.raw)
    merged = normalize(" ".join(out))
    count = spf_lookup_count(parse_spf(merged))
    if count > SPF_LOOKUP_LIMIT:
        raise RecordError(
            "merging with the existing SPF record %r would need %d DNS lookups, more than the limit of %d "
            "(RFC 7208 4.6.4); remove terms or set spf_merge: replace" % (existing_spf[0], count, SPF_LOOKUP_LIMIT)
        )
    return merged


# -- DKIM keys ---------------------------------------------------------------------------------


def _require_cryptography() -> None:
    if not HAS_CRYPTOGRAPHY:  # pragma: no cover
        raise RecordError("the Python library cryptography is required to read DKIM public keys")


def public_key_info(key, key_type: str | None = None) -> tuple[str, int, str]:
    """Read a public key; return ``(key_type, bits, p)`` where ``p`` is the DKIM ``p=`` value.

    ``key`` is PEM (``PUBLIC KEY`` or ``RSA PUBLIC KEY``), or base64 of a DER
    SubjectPublicKeyInfo, a PKCS#1 RSAPublicKey or a raw 32-byte Ed25519 key. ``p`` is base64
    of the SubjectPublicKeyInfo DER for RSA and of the raw key for Ed25519 (RFC 8463).
    """
    _require_cryptography()
    if isinstance(key, bytes):
        key = key.decode("ascii", errors="replace")
    if not isinstance(key, str) or not key.strip():
        raise RecordError("a DKIM public key must be a non-empty string")
    text = key.strip()
    if "PRIVATE KEY" in text or _input.has_private_key(text):
        raise RecordError("this is a private key; give the public key (never publish or pass the private key)")
    try:
        if text.startswith("-----BEGIN"):
            loaded = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            raw = base64.b64decode("".join(text.split()), validate=True)
            if len(raw) == 32 and key_type != "rsa":
                loaded = ed25519.Ed25519PublicKey.from_public_bytes(raw)
            else:
                loaded = serialization.load_der_public_key(raw)
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError) as exc:
        reason = (str(exc).splitlines() or ["invalid data"])[0]
        raise RecordError("cannot read the DKIM public key: %s" % reason) from None
    except Exception as exc:  # cryptography raises UnsupportedAlgorithm for unknown key types
        raise RecordError("cannot read the DKIM public key: %s" % exc) from None
    if isinstance(loaded, rsa.RSAPublicKey):
        der = loaded.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        found = ("rsa", loaded.key_size, base64.b64encode(der).decode("ascii"))
    elif isinstance(loaded, ed25519.Ed25519PublicKey):
        raw = loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        found = ("ed25519", 256, base64.b64encode(raw).decode("ascii"))
    else:
        raise RecordError(
            "DKIM supports RSA and Ed25519 keys only, got a %s key" % type(loaded).__name__.replace("PublicKey", "")
        )
    if key_type is not None and key_type != found[0]:
        raise RecordError("key_type is %s but the public key is an %s key" % (key_type, found[0]))
    return found


def check_key_strength(key_type: str, bits: int, what: str = "DKIM key") -> None:
    """Raise RecordError for an RSA key below 1024 bits."""
    if key_type == "rsa" and bits < MIN_RSA_BITS:
        raise RecordError(
            "%s: an RSA key of %d bits is too small; at least %d bits are required (RFC 8301), %d recommended"
            % (what, bits, MIN_RSA_BITS, RECOMMENDED_RSA_BITS)
        )


def keys_equal(a: str, b: str) -> bool:
    """Whether two public keys (any form :func:`public_key_info` reads) are the same key."""
    try:
        return public_key_info(a)[2] == public_key_info(b)[2]
    except RecordError:
        return "".join(a.split()) == "".join(b.split())


def _token_list(value, allowed: tuple, what: str) -> list[str]:
    items = []
    for item in _as_list(value, what):
        if not isinstance(item, str) or item.strip().lower() not in allowed:
            raise RecordError("%s: %r is not one of %s" % (what, item, ", ".join(allowed)))
        item = item.strip().lower()
        if item not in items:
            items.append(item)
    return items


def build_dkim(entry: dict, domain: str = "the domain") -> tuple[str, str]:
    """``(selector, value)`` for one DKIM entry of a domain (see docs/dns-design.md)."""
    if not isinstance(entry, dict):
        raise RecordError("%s: a dkim entry must be a dictionary, got %r" % (domain, entry))
    _check_keys(entry, _DKIM_KEYS, "%s: dkim" % domain)
    check_text(entry, "%s: dkim" % domain)
    try:
        selector = check_selector(entry.get("selector"))
    except RecordError as exc:
        raise RecordError("%s: %s" % (domain, exc)) from None
    return selector, dkim_value(entry, "%s: dkim selector %s" % (domain, selector))


def dkim_value(entry: dict, what: str = "DKIM record") -> str:
    """The DKIM key record for ``entry`` (keys as a dkim entry; ``selector`` is not needed)."""
    if not isinstance(entry, dict):
        raise RecordError("%s: expected a dictionary, got %r" % (what, entry))
    _check_keys(entry, _DKIM_KEYS, what)
    check_text(entry, what)
    key_type = entry.get("key_type")
    if key_type is not None and key_type not in DKIM_KEY_TYPES:
        raise RecordError("%s: key_type must be one of %s, got %r" % (what, ", ".join(DKIM_KEY_TYPES), key_type))
    if entry.get("value"):
        if entry.get("public_key"):
            raise RecordError("%s: give either value or public_key, not both" % what)
        return check_dkim_value(entry["value"], what, key_type)
    if not entry.get("public_key"):
        raise RecordError("%s: public_key or value is required to publish the DKIM record" % what)
    try:
        found_type, bits, p_value = public_key_info(entry["public_key"], key_type)
    except RecordError as exc:
        raise RecordError("%s: %s" % (what, exc)) from None
    check_key_strength(found_type, bits, what)
    tags = ["v=DKIM1"]
    hashes = _token_list(entry.get("hash_algorithms"), DKIM_HASHES, what + ": hash_algorithms")
    if hashes:
        tags.append("h=" + ":".join(hashes))
    tags.append("k=" + found_type)
    services = _token_list(entry.get("service_types"), DKIM_SERVICE_TYPES, what + ": service_types")
    if services:
        tags.append("s=" + ":".join(services))
    flags = _token_list(entry.get("flags"), DKIM_FLAGS, what + ": flags")
    if flags:
        tags.append("t=" + ":".join(flags))
    notes = entry.get("notes")
    if notes:
        if not isinstance(notes, str) or ";" in notes or any(ord(c) < 0x20 or ord(c) > 0x7E for c in notes):
            raise RecordError("%s: notes must be printable ASCII without ';'" % what)
        tags.append("n=" + notes)
    tags.append("p=" + p_value)
    return "; ".join(tags)


def parse_dkim(value: str) -> dict:
    """The tags of a DKIM key record as a dict; raise RecordError if it is not one."""
    if not isinstance(value, str):
        raise RecordError("a DKIM record must be a string, got %r" % (value,))
    tags = parse_tag_list(value)
    if not tags:
        raise RecordError("%r is not a DKIM key record (tag=value; ... with p=)" % value[:60])
    result: dict = {}
    for index, (name, tag_value) in enumerate(tags):
        if name in result:
            raise RecordError("DKIM record: tag %s= appears twice (RFC 6376 3.2)" % name)
        if name == "v" and index != 0:
            raise RecordError("DKIM record: v= must be the first tag")
        result[name] = tag_value
    if "v" in result and result["v"] != "DKIM1":
        raise RecordError("DKIM record: v= must be DKIM1, got %r" % result["v"])
    if "p" not in result:
        raise RecordError("DKIM record: the p= tag (public key) is missing")
    return result


def check_dkim_value(value, what: str = "DKIM record", key_type: str | None = None) -> str:
    """Validate a complete DKIM key record (from e.g. mailauth.core.dkim_key); return it normalised."""
    if not isinstance(value, str):
        raise RecordError("%s: value must be a string, got %r" % (what, value))
    check_text(value, what + ": value")
    try:
        tags = parse_dkim(value)
    except RecordError as exc:
        raise RecordError("%s: %s" % (what, exc)) from None
    k = tags.get("k", "rsa")
    if k not in DKIM_KEY_TYPES:
        raise RecordError("%s: k=%s is not a supported key type (%s)" % (what, k, ", ".join(DKIM_KEY_TYPES)))
    if key_type is not None and key_type != k:
        raise RecordError("%s: key_type is %s but the value has k=%s" % (what, key_type, k))
    p_value = "".join(tags["p"].split())
    if not p_value:
        raise RecordError("%s: p= is empty (a revoked key); remove the record with state=absent instead" % what)
    try:
        found_type, bits, _p = public_key_info(p_value, k)
    except RecordError as exc:
        raise RecordError("%s: %s" % (what, exc)) from None
    check_key_strength(found_type, bits, what)
    if "h" in tags:
        for algo in tags["h"].replace(" ", "").split(":"):
            if algo == "sha1":
                raise RecordError("%s: h=sha1 must not be used (RFC 8301)" % what)
    return normalize(value)


# -- DMARC, MTA-STS, TLS-RPT ---------------------------------------------------------------------


def check_mailbox(address, what: str) -> tuple[str, str]:
    """Validate ``local@domain``; return ``(address, domain)`` with the domain normalised."""
    if not isinstance(address, str) or "@" not in address:
        raise RecordError("%s: %r is not an e-mail address" % (what, address))
    local, _at, domain = address.strip().rpartition("@")
    if not local or not _LOCAL_PART.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise RecordError(
            "%s: %r has an invalid local part (',', ';', '!' and spaces are not allowed)" % (what, address)
        )
    domain = check_domain(domain, "%s: the domain of %r" % (what, address))
    return "%s@%s" % (local, domain), domain


def dmarc_uri(item, what: str) -> tuple[str, str]:
    """``(uri, domain)`` for a DMARC rua/ruf entry: an address or ``mailto:`` URI (``!size`` allowed)."""
    if not isinstance(item, str) or not item.strip():
        raise RecordError("%s: %r is not an e-mail address" % (what, item))
    text = item.strip()
    if ":" in text.split("@")[0]:
        scheme, _colon, rest = text.partition(":")
        if scheme.lower() != "mailto":
            raise RecordError("%s: only mailto: report addresses are supported, got %r" % (what, item))
        text = rest
    size = ""
    if "!" in text:
        text, _bang, size = text.partition("!")
        if not _DMARC_SIZE.match(size):
            raise RecordError("%s: %r has an invalid size limit after '!'" % (what, item))
        size = "!" + size
    address, domain = check_mailbox(text, what)
    return "mailto:%s%s" % (address, size), domain


def _tlsrpt_uri(item, what: str) -> str:
    if not isinstance(item, str) or not item.strip():
        raise RecordError("%s: %r is not an e-mail address or https URL" % (what, item))
    text = item.strip()
    if text.lower().startswith("https://"):
        host = text[8:].split("/", 1)[0].split(":", 1)[0]
        check_domain(host, "%s: the host of %r" % (what, item))
        if any(c in text for c in ",; ") or any(ord(c) < 0x21 or ord(c) > 0x7E for c in text):
            raise RecordError("%s: %r holds characters not allowed in a TLS-RPT URI" % (what, item))
        return text
    if text.lower().startswith("mailto:"):
        text = text[7:]
    elif ":" in text.split("@")[0]:
        raise RecordError("%s: only mailto: and https: URIs are allowed, got %r" % (what, item))
    return "mailto:%s" % check_mailbox(text, what)[0]


def _choice(value, allowed: tuple, what: str) -> str:
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        raise RecordError("%s must be one of %s, got %r" % (what, ", ".join(allowed), value))
    return value.strip().lower()


def _int_range(value, low: int, high: int, what: str) -> int:
    if isinstance(value, bool):
        raise RecordError("%s must be a number, got %r" % (what, value))
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise RecordError("%s must be a whole number, got %r" % (what, value)) from None
    if not low <= number <= high:
        raise RecordError("%s must be between %d and %d, got %d" % (what, low, high, number))
    return number


def build_dmarc(dmarc, domain: str = "the domain") -> tuple[str, list[str]]:
    """``(value, report_domains)`` for a ``dmarc`` intent; report_domains are the rua/ruf domains."""
    what = "%s: dmarc" % domain
    check_text(dmarc, what)
    if isinstance(dmarc, str):
        dmarc = {"value": dmarc}
    _check_keys(dmarc, _DMARC_KEYS, what)
    if dmarc.get("value") is not None:
        others = [k for k in _DMARC_KEYS if k != "value" and dmarc.get(k) is not None]
        if others:
            raise RecordError("%s: give either value or %s, not both" % (what, ", ".join(others)))
        return check_dmarc_value(dmarc["value"], what)
    if dmarc.get("p") is None:
        raise RecordError("%s.p is required (none, quarantine or reject)" % what)
    tags = ["v=DMARC1", "p=" + _choice(dmarc["p"], DMARC_POLICIES, what + ".p")]
    for name in ("sp", "np"):
        if dmarc.get(name) is not None:
            tags.append("%s=%s" % (name, _choice(dmarc[name], DMARC_POLICIES, "%s.%s" % (what, name))))
    if dmarc.get("pct") is not None:
        tags.append("pct=%d" % _int_range(dmarc["pct"], 0, 100, what + ".pct"))
    for name in ("adkim", "aspf"):
        if dmarc.get(name) is not None:
            tags.append("%s=%s" % (name, _choice(dmarc[name], ("r", "s"), "%s.%s" % (what, name))))
    report_domains: list[str] = []
    for name in ("rua", "ruf"):
        uris = []
        for item in _as_list(dmarc.get(name), "%s.%s" % (what, name)):
            uri, rdomain = dmarc_uri(item, "%s.%s" % (what, name))
            if uri not in uris:
                uris.append(uri)
            if rdomain not in report_domains:
                report_domains.append(rdomain)
        if uris:
            tags.append("%s=%s" % (name, ",".join(uris)))
    if dmarc.get("fo") is not None:
        fo = dmarc["fo"]
        items = fo.split(":") if isinstance(fo, str) else _as_list(fo, what + ".fo")
        options = [_choice(str(x), DMARC_FO, what + ".fo") for x in items]
        tags.append("fo=" + ":".join(dict.fromkeys(options)))
    if dmarc.get("ri") is not None:
        tags.append("ri=%d" % _int_range(dmarc["ri"], 0, 4294967295, what + ".ri"))
    if dmarc.get("t") is not None:
        test = dmarc["t"]
        if isinstance(test, bool):
            test = "y" if test else "n"
        tags.append("t=" + _choice(test, ("y", "n"), what + ".t"))
    return "; ".join(tags), report_domains


def check_dmarc_value(value, what: str = "DMARC record") -> tuple[str, list[str]]:
    """Validate a complete DMARC value; return ``(normalised value, report domains)``."""
    if not isinstance(value, str):
        raise RecordError("%s: value must be a string, got %r" % (what, value))
    check_text(value, what)
    tags = parse_tag_list(value)
    if not tags or tags[0] != ("v", "DMARC1"):
        raise RecordError("%s: a DMARC record starts with v=DMARC1, got %r" % (what, value[:40]))
    known = {"v", "p", "sp", "np", "pct", "adkim", "aspf", "rua", "ruf", "fo", "ri", "rf", "t", "psd"}
    seen = set()
    report_domains: list[str] = []
    for name, tag_value in tags:
        if name in seen:
            raise RecordError("%s: tag %s appears twice" % (what, name))
        seen.add(name)
        if name not in known:
            raise RecordError("%s: unknown tag %s=" % (what, name))
        if name in ("p", "sp", "np"):
            _choice(tag_value, DMARC_POLICIES, "%s: %s" % (what, name))
        elif name in ("adkim", "aspf"):
            _choice(tag_value, ("r", "s"), "%s: %s" % (what, name))
        elif name == "pct":
            _int_range(tag_value, 0, 100, what + ": pct")
        elif name == "ri":
            _int_range(tag_value, 0, 4294967295, what + ": ri")
        elif name == "t":
            _choice(tag_value, ("y", "n"), what + ": t")
        elif name == "psd":
            _choice(tag_value, ("y", "n", "u"), what + ": psd")
        elif name == "fo":
            for option in tag_value.replace(" ", "").split(":"):
                _choice(option, DMARC_FO, what + ": fo")
        elif name in ("rua", "ruf"):
            for item in tag_value.split(","):
                item = item.strip()
                if not item.lower().startswith("mailto:"):
                    raise RecordError("%s: %s entries must be mailto: URIs, got %r" % (what, name, item))
                rdomain = dmarc_uri(item, "%s: %s" % (what, name))[1]
                if rdomain not in report_domains:
                    report_domains.append(rdomain)
    if "p" not in seen:
        raise RecordError("%s: the p= tag is required" % what)
    return normalize(value), report_domains


def build_mta_sts(mta_sts, domain: str = "the domain") -> str:
    """``v=STSv1; id=...`` (RFC 8461 3.1)."""
    what = "%s: mta_sts" % domain
    check_text(mta_sts, what)
    if isinstance(mta_sts, (str, int)) and not isinstance(mta_sts, bool):
        mta_sts = {"id": mta_sts}
    _check_keys(mta_sts, _MTA_STS_KEYS, what)
    if mta_sts.get("value") is not None:
        value = mta_sts["value"]
        tags = parse_tag_list(value) if isinstance(value, str) else None
        if not tags or tags[0] != ("v", "STSv1") or "id" not in dict(tags):
            raise RecordError("%s: value must be 'v=STSv1; id=<1-32 letters or digits>', got %r" % (what, value))
        if not _STS_ID.match(dict(tags)["id"]):
            raise RecordError("%s: id must be 1 to 32 letters or digits" % what)
        return normalize(value)
    policy_id = mta_sts.get("id")
    if isinstance(policy_id, int) and not isinstance(policy_id, bool):
        policy_id = str(policy_id)
    if not isinstance(policy_id, str) or not _STS_ID.match(policy_id):
        raise RecordError("%s.id must be 1 to 32 letters or digits (e.g. 20260101), got %r" % (what, policy_id))
    return "v=STSv1; id=%s" % policy_id


def build_tls_rpt(tls_rpt, domain: str = "the domain") -> str:
    """``v=TLSRPTv1; rua=mailto:...`` (RFC 8460 3)."""
    what = "%s: tls_rpt" % domain
    check_text(tls_rpt, what)
    if isinstance(tls_rpt, (str, list)):
        tls_rpt = {"rua": tls_rpt}
    _check_keys(tls_rpt, _TLS_RPT_KEYS, what)
    if tls_rpt.get("value") is not None:
        value = tls_rpt["value"]
        tags = parse_tag_list(value) if isinstance(value, str) else None
        if not tags or tags[0] != ("v", "TLSRPTv1") or "rua" not in dict(tags):
            raise RecordError("%s: value must be 'v=TLSRPTv1; rua=<uri>[,<uri>]', got %r" % (what, value))
        for item in dict(tags)["rua"].split(","):
            _tlsrpt_uri(item, what + ".rua")
        return normalize(value)
    uris = [_tlsrpt_uri(x, what + ".rua") for x in _as_list(tls_rpt.get("rua"), what + ".rua")]
    if not uris:
        raise RecordError("%s.rua needs at least one address or https URL" % what)
    return "v=TLSRPTv1; rua=%s" % ",".join(dict.fromkeys(uris))


# -- domain entries ----------------------------------------------------------------------------


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
    return _int_range(value, 1, 2147483647, "%s: ttl" % domain)


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
        if state not in ("present", "absent"):
            raise RecordError("%s: state must be present or absent, got %r" % (domain, state))
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
                _check_keys(dkim, _DKIM_KEYS, "%s: dkim" % domain)
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
        if entry.get("mta_sts") is not None:
            values = [build_mta_sts(entry["mta_sts"], domain)] if present else []
            own(domain, "mta_sts", zone, state, merge, "_mta-sts." + domain, ttl, values)
        if entry.get("tls_rpt") is not None:
            values = [build_tls_rpt(entry["tls_rpt"], domain)] if present else []
            own(domain, "tls_rpt", zone, state, merge, "_smtp._tls." + domain, ttl, values)
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


def attach_dkim_keys(domains: list[dict], keys: list[dict]) -> list[dict]:
    """Domain entries whose ``dkim`` lists the generated keys of every host that signs for them.

    ``keys`` are the per-key results of ``mailauth.core.dkim_key`` gathered from all hosts
    (``domain``, ``selector``, ``record``), or the opendkim role's ``opendkim_dns_records``
    (``value`` instead of ``record``). A key without a record yet (check mode, not generated)
    is left out. Two hosts returning different records for one selector is an error: it means a
    shared selector with different keys, which would break verification for one of them.
    """
    by_domain: dict[str, dict[str, str]] = {}
    if not isinstance(keys, (list, type(None))):
        raise RecordError(
            "keys must be a list of {domain, selector, record} dictionaries, got %s" % type(keys).__name__
        )
    if not isinstance(domains, (list, type(None))):
        raise RecordError("domains must be a list of domain entries, got %s" % type(domains).__name__)
    for index, key in enumerate(keys or []):
        if not isinstance(key, dict):
            raise RecordError("keys[%d] must be a dictionary, got %s" % (index, type(key).__name__))
        record = key.get("record") or key.get("value")
        if not record:
            continue
        if not isinstance(record, str):
            raise RecordError("keys[%d].record must be a string, got %s" % (index, type(record).__name__))
        check_text(record, "keys[%d].record" % index)
        domain = check_domain(key.get("domain"), "keys[%d].domain" % index)
        selector = check_selector(key.get("selector"), "keys[%d].selector" % index)
        known = by_domain.setdefault(domain, {})
        if selector in known and known[selector] != record:
            raise RecordError(
                "two different DKIM keys use selector %r for %s: give each host its own selector, "
                "or install the same key everywhere (shared-key mode)" % (selector, domain)
            )
        known[selector] = record
    out = []
    for index, entry in enumerate(domains or []):
        if not isinstance(entry, dict):
            raise RecordError("domains[%d] must be a dictionary, got %s" % (index, type(entry).__name__))
        entry = dict(entry)
        name = check_domain(entry.get("name"), "domains[%d].name" % index)
        selectors = by_domain.get(name, {})
        if selectors:
            entry["dkim"] = [{"selector": s, "value": v} for s, v in sorted(selectors.items())]
        else:
            entry.pop("dkim", None)
        out.append(entry)
    return out


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
