# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SPF (RFC 7208): parsing, building, policy checks, lookup constants and merging with an existing record."""

from __future__ import annotations

import ipaddress
import re
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _schema
from ansible_collections.mailauth.core.plugins.module_utils._fields import as_list, check_keys
from ansible_collections.mailauth.core.plugins.module_utils._input import MAX_LABEL, MAX_NAME
from ansible_collections.mailauth.core.plugins.module_utils._names import RecordError, check_domain, check_text
from ansible_collections.mailauth.core.plugins.module_utils._txt import is_spf, normalize

SPF_MERGE_MODES = _schema.choices(_schema.ENTRY, "spf_merge")
SPF_ALL = _schema.choices(_schema.SPF, "all")
SPF_MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
SPF_LOOKUP_MECHANISMS = ("include", "a", "mx", "ptr", "exists")
SPF_LOOKUP_LIMIT = 10

_SPF_KEYS = _schema.keys(_schema.SPF)

# RFC 7208 section 12. Macro letters c, r and t are allowed only in exp text (7.3); a transformer
# digit is nonzero (7.3). Matched with fullmatch: a "$" would accept a final newline.
_MACRO_EXPAND = r"(?:%\{[slodiphv](?:[1-9][0-9]*)?r?[.\-+,/_=]*\}|%%|%_|%-)"
_MACRO_LITERAL = r"[\x21-\x24\x26-\x7e]"
_MACRO_STRING = re.compile(r"(?:%s|%s)*" % (_MACRO_EXPAND, _MACRO_LITERAL), re.IGNORECASE)
_TOPLABEL = r"(?:[a-z0-9]*[a-z][a-z0-9]*|[a-z0-9]+-[a-z0-9-]*[a-z0-9])"
_DOMAIN_SPEC = re.compile(
    r"(?:%s|%s)*(?:\.%s\.?|%s)" % (_MACRO_EXPAND, _MACRO_LITERAL, _TOPLABEL, _MACRO_EXPAND), re.IGNORECASE
)
_A_MX_ARGS = re.compile(r"(?::(?P<spec>[\x21-\x7e]*?))?(?:/(?P<c4>[0-9]+))?(?://(?P<c6>[0-9]+))?")
_TERM_CHARS = re.compile(r"[\x21-\x7e]+")
_IP_TEXT = {4: re.compile(r"[0-9./]+"), 6: re.compile(r"[0-9A-Fa-f:./]+")}
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]*)=(.*)\Z", re.DOTALL)
_MECHANISM = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9_.\-]*)(.*)\Z", re.DOTALL)


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


def _check_domain_spec(spec: str, what: str) -> str:
    """An SPF domain-spec (RFC 7208 7.1): a macro-string that ends in a macro or a dot and a top label.

    ``:`` and ``/`` are macro-literals and allowed; ``a:museum`` and ``a:foo-bar`` have no valid
    top label and are refused. Returned lower-cased without a final dot when it holds no macro.
    """
    if not spec:
        raise RecordError("%s: the domain is empty" % what)
    if _TERM_CHARS.fullmatch(spec) is None:
        raise RecordError("%s: %r holds characters other than printable ASCII" % (what, spec))
    if _MACRO_STRING.fullmatch(spec) is None:
        raise RecordError(
            "%s: invalid macro in %r (use %%{x} with x one of s, l, o, d, i, p, h, v; %%%%, %%_ or %%-)" % (what, spec)
        )
    if _DOMAIN_SPEC.fullmatch(spec) is None:
        raise RecordError(
            "%s: %r must end in a macro or a dot and a top label (letters, digits, inner hyphens; not all digits)"
            % (what, spec)
        )
    if "%" in spec:
        return spec
    return spec.lower()[:-1] if spec.endswith(".") else spec.lower()


def _publishable(spec: str, what: str) -> str:
    """A domain-spec this collection publishes: the RFC grammar and, without macros, a host name too.

    Stricter than what the lint accepts in a published record: no empty or over-long label, no
    ``:`` or ``/``, no space (a name that could never match is a mistake in an intent).
    """
    if spec and "%" not in spec:
        check_domain(spec, what, allow_underscore=True, min_labels=1)
    return _check_domain_spec(spec, what)


def _check_publishable(terms: list[SpfTerm], what: str) -> None:
    for term in terms:
        if term.domain is not None and (term.kind == "mechanism" or term.name in ("redirect", "exp")):
            _publishable(term.domain or "", "%s: %s" % (what, term.raw))


def queryable(domain: str) -> bool:
    """Whether a domain-spec without macros is a name DNS can look up (labels of 1-63 octets, <= 253)."""
    name = domain.rstrip(".")
    return len(name) <= MAX_NAME and all(0 < len(label) <= MAX_LABEL for label in name.split("."))


def parse_spf_term(term: str) -> SpfTerm:
    """Parse one SPF term (RFC 7208 section 12); raise RecordError on a syntax error."""
    if not term:
        raise RecordError("empty SPF term")
    if _TERM_CHARS.fullmatch(term) is None:
        raise RecordError("SPF term %r holds a character other than printable ASCII" % term)
    mod = _MODIFIER.match(term)
    if mod:
        name = mod.group(1).lower()
        value = mod.group(2)
        if name in ("redirect", "exp"):
            return SpfTerm("modifier", "", name, _check_domain_spec(value, "SPF %s=" % name), None, None, None, term)
        if _MACRO_STRING.fullmatch(value) is None:
            raise RecordError(
                "SPF modifier %r: its value must be a macro-string (RFC 7208 6, 7.1): invalid macro" % term
            )
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
        args = _A_MX_ARGS.fullmatch(rest)
        if args is None:
            raise RecordError("SPF %s takes an optional :<domain> and /<cidr>, got %r" % (name, term))
        domain = None
        if args.group("spec") is not None:
            domain = _check_domain_spec(args.group("spec"), "SPF %s" % name)
        cidr4 = _cidr(args.group("c4"), 32, term)
        cidr6 = _cidr(args.group("c6"), 128, term)
        return SpfTerm("mechanism", qualifier, name, domain, None, cidr4, cidr6, term)
    # ip4 / ip6
    if not rest.startswith(":") or len(rest) < 2:
        raise RecordError("SPF %s needs an address: %s:<address>[/<prefix>], got %r" % (name, name, term))
    network = rest[1:]
    version = 4 if name == "ip4" else 6
    if _IP_TEXT[version].fullmatch(network) is None:
        raise RecordError("ip%d %r is not a valid IPv%d address or network" % (version, network, version))
    check_network(network, version, strict=False)
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
    check_keys(spf, _SPF_KEYS, what)
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

    for mech in as_list(spf.get("mechanisms"), what + ".mechanisms"):
        if not isinstance(mech, str) or not mech.strip():
            raise RecordError("%s.mechanisms: %r is not an SPF mechanism" % (what, mech))
        mech = mech.strip()
        try:
            parsed = parse_spf_term(mech)
            _check_publishable([parsed], what + ".mechanisms")
        except RecordError as exc:
            if str(exc).startswith(what):
                raise
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
        for addr in as_list(spf.get(key), "%s.%s" % (what, key)):
            if isinstance(addr, str) and addr.lower().startswith(key + ":"):
                addr = addr[4:]
            try:
                add("%s:%s" % (key, check_network(addr, version, strict=True)))
            except RecordError as exc:
                raise RecordError("%s.%s: %s" % (what, key, exc)) from None
    for target in as_list(spf.get("include"), what + ".include"):
        if isinstance(target, str) and target.lower().startswith("include:"):
            target = target[8:]
        if not isinstance(target, str):
            raise RecordError("%s.include: %r is not a domain name" % (what, target))
        add("include:%s" % _publishable(target.strip().rstrip("."), what + ".include"))
    redirect = spf.get("redirect")
    qualifier = spf.get("all")
    if redirect:
        if not isinstance(redirect, str):
            raise RecordError("%s.redirect: %r is not a domain name" % (what, redirect))
        if qualifier:
            raise RecordError("%s: set either redirect or all; with 'all' a redirect is ignored (RFC 7208 6.1)" % what)
        terms.append("redirect=%s" % _publishable(redirect.strip().rstrip("."), what + ".redirect"))
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
        terms = parse_spf(value)
    except RecordError as exc:
        raise RecordError("%s: %s" % (what, exc)) from None
    _check_publishable(terms, what)
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
