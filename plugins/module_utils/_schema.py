# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The schema of a domain entry: one table per record kind, and what is derived from the tables.

Each table lists the fields of one record kind (name, type, choices, default, record tag,
documentation). From them come the ``domains`` argument spec of ``mailauth.core.dns_records``
(:func:`entry_argument_spec`), the ``mailauth.core.domain_entry`` doc fragment and the
``dns_publish`` role's argument spec (:func:`entry_docs`, written by ``hacking/gen_specs.py``),
the known keys the builders accept and the DMARC tag rules of the one DMARC validator.

Adding a field (a DMARC tag, say) means adding a row here; the generated files are refreshed with
``python hacking/gen_specs.py`` and a unit test fails while they differ.
"""

from __future__ import annotations

import typing as t


class Field(t.NamedTuple):
    """One field of a domain entry or of one of its record kinds."""

    name: str
    type: str  # str, int, bool, list, dict, raw (Ansible argument-spec types)
    doc: tuple  # sentences of the documentation
    elements: str | None = None  # for lists
    choices: tuple = ()  # the allowed values (lower case; the validators compare case-insensitively)
    spec_choices: bool = False  # enforce the choices in the argument spec too (exact case)
    default: t.Any = None
    required: bool = False
    no_log: bool | None = None
    options: tuple = ()  # sub-fields of a dict or a list of dicts
    tag: str | None = None  # the record tag this field becomes (DMARC)
    low: int | None = None  # number range (int fields)
    high: int | None = None
    separator: str | None = None  # list tags: the separator inside the tag value (fo ":", rua ",")
    removed: str | None = None  # a tag that a newer RFC removed: why (the linter warns)
    option: bool = True  # False: a tag accepted in a raw value only, not offered as a field


def _list(name: str, *doc: str, **kw) -> Field:
    return Field(name, "list", doc, elements="str", **kw)


def _str(name: str, *doc: str, **kw) -> Field:
    return Field(name, "str", doc, **kw)


VALUE_DOC = "A complete record instead of the fields above."

SPF = (
    _list("mechanisms", "Mechanisms such as V(mx), V(a), V(a:mail.example.test)."),
    _list("ip4", "IPv4 addresses or networks."),
    _list("ip6", "IPv6 addresses or networks."),
    _list("include", "Domains for C(include:) mechanisms."),
    _str("redirect", "Domain for the C(redirect=) modifier."),
    _str(
        "all",
        "The final C(all) mechanism, for example V(-all) or V(~all).",
        "V(+all) (or V(all)), which lets every host on the Internet send mail as the domain, is refused"
        " unless O(domains[].spf.allow_pass_all=true); so is V(?all) with no mechanism before it.",
        choices=("-all", "~all", "?all", "+all"),
    ),
    _str(
        "value",
        "A complete SPF record instead of the fields above.",
        "Refused when it ends in V(+all) (or V(?all) alone) unless O(domains[].spf.allow_pass_all=true),"
        " and when its own terms need more than 10 DNS lookups (RFC 7208 4.6.4), whether DNS lint is on or off.",
    ),
    Field(
        "allow_pass_all",
        "bool",
        (
            "Publish a record that lets every host pass SPF (V(+all), or V(?all) with nothing before it)."
            " Without it such a record is refused. Almost never what you want.",
        ),
        default=False,
    ),
)

DKIM = (
    _str("selector", "The selector.", required=True),
    _str("key_type", "The key type.", choices=("rsa", "ed25519"), spec_choices=True),
    Field("key_size", "int", ("The expected key size in bits (checked against the key).",), no_log=False),
    _str(
        "public_key",
        "Base64 of the public key (SubjectPublicKeyInfo DER for RSA, raw 32 bytes for Ed25519), or a PEM public key.",
        no_log=False,
    ),
    _list("flags", "Flags for C(t=), V(y) and/or V(s).", choices=("y", "s")),
    _list("hash_algorithms", "Hash algorithms for C(h=).", choices=("sha256",)),
    _list("service_types", "Service types for C(s=).", choices=("email", "*")),
    _str("notes", "Text for C(n=)."),
    _str(
        "value",
        "A complete C(v=DKIM1; k=...; p=...) value, for example the C(record) of an entry of"
        " RV(mailauth.core.dkim_key#module:dkim_keys).",
        "A value with an empty C(p=) is refused: only O(domains[].dkim[].revoked) revokes a key.",
    ),
    Field(
        "revoked",
        "bool",
        (
            "Publish the selector as revoked: C(v=DKIM1; k=<key_type>; p=) (RFC 6376 3.6.1, an empty C(p=)),"
            " without C(public_key) or C(value). Verifiers then fail every signature made with the old key"
            " (an emergency rotation, docs/rotation.md).",
        ),
        default=False,
    ),
)

_POLICIES = ("none", "quarantine", "reject")
# RFC 7489 6.3 and its DMARCbis successor RFC 9989; the order is the order the builder writes the tags in.
DMARC = (
    _str(
        "p",
        "Policy, V(none), V(quarantine) or V(reject) (required unless C(value) is given).",
        tag="p",
        choices=_POLICIES,
    ),
    _str("sp", "Subdomain policy, V(none), V(quarantine) or V(reject).", tag="sp", choices=_POLICIES),
    _str(
        "np",
        "Policy for non-existent subdomains (RFC 9989), V(none), V(quarantine) or V(reject).",
        tag="np",
        choices=_POLICIES,
    ),
    Field(
        "pct",
        "int",
        ("Percentage (removed by RFC 9989; lint warns).",),
        tag="pct",
        low=0,
        high=100,
        removed="use t=y to test a policy instead of a percentage",
    ),
    _str("adkim", "DKIM alignment, V(r) or V(s).", tag="adkim", choices=("r", "s")),
    _str("aspf", "SPF alignment, V(r) or V(s).", tag="aspf", choices=("r", "s")),
    _list("rua", "Aggregate report addresses (C(mailto:) is added when missing).", tag="rua", separator=","),
    _list("ruf", "Failure report addresses.", tag="ruf", separator=","),
    _str(
        "fo",
        "Failure reporting options, V(0), V(1), V(d) and/or V(s), separated by colons.",
        tag="fo",
        choices=("0", "1", "d", "s"),
        separator=":",
    ),
    Field(
        "ri",
        "int",
        ("Report interval in seconds (removed by RFC 9989; lint warns).",),
        tag="ri",
        low=0,
        high=4294967295,
        removed="receivers send aggregate reports daily",
    ),
    _str("rf", "Failure report format.", tag="rf", option=False, removed="failure reports use one format (RFC 9991)"),
    _str(
        "psd",
        "Public suffix domain flag (RFC 9989), V(y), V(n) or V(u).",
        tag="psd",
        choices=("y", "n", "u"),
    ),
    _str("t", "Test mode flag (RFC 9989), V(y) or V(n).", tag="t", choices=("y", "n")),
    _str("value", "A complete DMARC record instead of the fields above."),
)

MTA_STS = (
    _str("id", "The policy id (1 to 32 letters and digits)."),
    _str("value", "A complete C(v=STSv1; id=...) value."),
)

TLS_RPT = (
    _list("rua", "Report addresses or https URLs."),
    _str("value", "A complete C(v=TLSRPTv1; rua=...) value."),
)

ENTRY = (
    _str("name", "The mail domain.", required=True),
    _str(
        "zone",
        "The DNS zone that holds the domain's records. Found through the provider when omitted"
        " (with O(provider=zonefile) the longest existing zone file, else the domain itself).",
    ),
    Field("ttl", "int", ("TTL of the records (default 3600).",)),
    _str(
        "state",
        "V(present) publishes the records; V(absent) removes the values this module manages"
        " (at the apex only the SPF value).",
        choices=("present", "absent"),
        spec_choices=True,
        default="present",
    ),
    Field("spf", "dict", ("SPF intent for the domain apex. Omit to leave SPF alone.",), options=SPF),
    _str(
        "spf_merge",
        "How to treat an existing SPF record at the apex. V(merge) adds the desired mechanisms to"
        " it, V(replace) replaces it, V(keep) leaves it as it is (and adds one only when none exists).",
        choices=("merge", "replace", "keep"),
        spec_choices=True,
        default="merge",
    ),
    Field("dkim", "list", ("DKIM selectors of the domain.",), elements="dict", options=DKIM),
    Field("dmarc", "dict", ("DMARC policy of the domain, published at C(_dmarc.<domain>).",), options=DMARC),
    Field("mta_sts", "dict", ("MTA-STS policy id, published at C(_mta-sts.<domain>).",), options=MTA_STS),
    Field("tls_rpt", "dict", ("TLS reporting, published at C(_smtp._tls.<domain>).",), options=TLS_RPT),
)

ENTRY_DOC = "The mail domains and what to publish for each."

# Fields of a mailauth_domains entry that the service roles read and mailauth.core.dns_records does not
# (the dns_publish role drops them before its call). The dns_publish role's argument spec lists them
# (hacking/gen_specs.py), so that an inventory entry carrying them passes its validation.
ROLE_ENTRY = (
    _list("mail_hosts", "The hosts that send and receive for the domain (read by the postfix and opendkim roles)."),
    Field(
        "forwards",
        "dict",
        (
            "Forwards of the domain's addresses (read by the postfix role): a local part of the domain, then the"
            " address or list of addresses its mail goes to (a virtual alias; with the srs role, forwarded mail"
            " leaves with an SRS sender).",
        ),
    ),
)


def field(fields: tuple, name: str) -> Field:
    """The field called ``name`` of a table."""
    for item in fields:
        if item.name == name:
            return item
    raise KeyError(name)


def keys(fields: tuple) -> tuple:
    """The names a builder accepts for a table (fields offered as options)."""
    return tuple(item.name for item in fields if item.option)


def choices(fields: tuple, name: str) -> tuple:
    """The allowed values of one field."""
    return field(fields, name).choices


def _option(item: Field) -> dict:
    """What the argument spec and the documentation of a field both say: type, elements, required, choices, default."""
    entry: dict = {"type": item.type}
    if item.elements:
        entry["elements"] = item.elements
    if item.required:
        entry["required"] = True
    if item.choices and item.spec_choices:
        entry["choices"] = list(item.choices)
    if item.default is not None:
        entry["default"] = item.default
    return entry


def argument_spec(fields: tuple) -> dict:
    """The Ansible argument spec of a table (fields offered as options)."""
    spec = {}
    for item in fields:
        if not item.option:
            continue
        entry = _option(item)
        if item.no_log is not None:
            entry["no_log"] = item.no_log
        if item.options:
            entry["options"] = argument_spec(item.options)
        spec[item.name] = entry
    return spec


def docs(fields: tuple) -> dict:
    """The documentation (``options``/``suboptions`` of DOCUMENTATION or a role spec) of a table."""
    out = {}
    for item in fields:
        if not item.option:
            continue
        entry = {"description": list(item.doc) if len(item.doc) > 1 else item.doc[0], **_option(item)}
        if item.options:
            entry["suboptions"] = docs(item.options)
        out[item.name] = entry
    return out


def entry_argument_spec() -> dict:
    """The ``domains`` option of ``mailauth.core.dns_records``: a list of domain entries."""
    return {"domains": {"type": "list", "elements": "dict", "required": True, "options": argument_spec(ENTRY)}}


def entry_docs() -> dict:
    """The documentation of the ``domains`` option (the ``mailauth.core.domain_entry`` doc fragment)."""
    return {
        "domains": {
            "description": [ENTRY_DOC],
            "type": "list",
            "elements": "dict",
            "required": True,
            "suboptions": docs(ENTRY),
        }
    }
