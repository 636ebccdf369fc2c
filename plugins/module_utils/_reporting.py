# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DMARC (RFC 7489) and the reporting records: ``_dmarc``, MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) values."""

from __future__ import annotations

import re
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _schema
from ansible_collections.mailauth.core.plugins.module_utils._fields import as_list, check_keys, choice, int_range
from ansible_collections.mailauth.core.plugins.module_utils._names import RecordError, check_domain, check_text
from ansible_collections.mailauth.core.plugins.module_utils._txt import normalize, parse_tag_list

DMARC_POLICIES = _schema.choices(_schema.DMARC, "p")
DMARC_FO = _schema.choices(_schema.DMARC, "fo")
# DMARC tags by name, from the table: the builder, the validator and the linter share them.
DMARC_TAGS = {item.tag: item for item in _schema.DMARC if item.tag}
_DMARC_KEYS = _schema.keys(_schema.DMARC)
_MTA_STS_KEYS = _schema.keys(_schema.MTA_STS)
_TLS_RPT_KEYS = _schema.keys(_schema.TLS_RPT)
# RFC 7489 6.4: dmarc-version = "v" *WSP "=" *WSP %x44 %x4d %x41 %x52 %x43 %x31. A quoted ABNF literal
# ("v") is case-insensitive (RFC 5234 2.3), the %x bytes ("DMARC1") are not.
_DMARC_VERSION = re.compile(r"[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;.*)?", re.DOTALL)
_KEYWORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_LOCAL_PART = re.compile(r"[A-Za-z0-9.#$%&'*+/=?^_`{|}~\-]+\Z")
_STS_ID = re.compile(r"[A-Za-z0-9]{1,32}\Z")
_DMARC_SIZE = re.compile(r"[0-9]+[kmgtKMGT]?\Z")


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


def is_dmarc(value) -> bool:
    """Whether a TXT value is a DMARC record: it starts with ``v=DMARC1`` (RFC 7489 6.4, ``v`` in any case)."""
    return isinstance(value, str) and _DMARC_VERSION.fullmatch(value) is not None


def dmarc_tag(tag: _schema.Field, value, what: str, raw: bool = False) -> tuple[str, list[str]]:
    """One DMARC tag checked against its row of the table: ``(tag text, report domains)``.

    ``value`` is a field's value (a list, a number, ``True``...) or, with ``raw``, the text of the
    tag in a record; names and values are compared case-insensitively (RFC 7489 6.4: quoted ABNF
    literals). Raises RecordError naming ``what``.
    """
    domains: list[str] = []
    if tag.separator == ",":
        items = value.split(",") if raw else as_list(value, what)
        uris = []
        for item in items:
            if raw and not item.strip().lower().startswith("mailto:"):
                raise RecordError("%s entries must be mailto: URIs, got %r" % (what, item.strip()))
            uri, domain = dmarc_uri(item, what)
            uris.append(uri)
            domains.append(domain)
        return ",".join(dict.fromkeys(uris)), list(dict.fromkeys(domains))
    if tag.separator == ":":
        items = value.split(":") if isinstance(value, str) else as_list(value, what)
        options = [choice(str(x), tag.choices, what) for x in items]
        return ":".join(dict.fromkeys(options)), domains
    if tag.low is not None:
        return str(int_range(value, tag.low, tag.high, what)), domains
    if tag.choices:
        if isinstance(value, bool) and tag.choices == ("y", "n"):
            value = "y" if value else "n"
        return choice(value, tag.choices, what), domains
    if not isinstance(value, str) or not all(_KEYWORD.fullmatch(x.strip()) for x in value.split(":")):
        raise RecordError("%s must be a colon-separated list of keywords, got %r" % (what, value))
    return value.strip(), domains


def build_dmarc(dmarc, domain: str = "the domain") -> tuple[str, list[str]]:
    """``(value, report_domains)`` for a ``dmarc`` intent; report_domains are the rua/ruf domains."""
    what = "%s: dmarc" % domain
    check_text(dmarc, what)
    if isinstance(dmarc, str):
        dmarc = {"value": dmarc}
    check_keys(dmarc, _DMARC_KEYS, what)
    if dmarc.get("value") is not None:
        others = [k for k in _DMARC_KEYS if k != "value" and dmarc.get(k) is not None]
        if others:
            raise RecordError("%s: give either value or %s, not both" % (what, ", ".join(others)))
        return check_dmarc_value(dmarc["value"], what)
    if dmarc.get("p") is None:
        raise RecordError(
            "%s.p is required (%s)" % (what, ", ".join(DMARC_POLICIES[:-1]) + " or " + DMARC_POLICIES[-1])
        )
    tags = ["v=DMARC1"]
    report_domains: list[str] = []
    for tag in DMARC_TAGS.values():
        if tag.option and dmarc.get(tag.name) is not None:
            text, domains = dmarc_tag(tag, dmarc[tag.name], "%s.%s" % (what, tag.name))
            if text:
                tags.append("%s=%s" % (tag.tag, text))
            report_domains += [d for d in domains if d not in report_domains]
    return "; ".join(tags), report_domains


def dmarc_tags(value, what: str = "DMARC record", published: bool = False) -> list[tuple[str, str]]:
    """The tags of a DMARC record, names lower-cased; raise RecordError if it is not one.

    RFC 7489 6.4: ``v=DMARC1`` first (``DMARC1`` case-sensitive), white space (space, tab) allowed
    around ``=`` and ``;``, each tag at most once. Input to publish refuses every control character
    (tab included); a ``published`` record read from DNS may hold the tabs the ABNF allows.
    """
    if not isinstance(value, str):
        raise RecordError("%s: value must be a string, got %r" % (what, value))
    check_text(value.replace("\t", " ") if published else value, what)
    tags = parse_tag_list(value)
    if not tags or not is_dmarc(value) or tags[0][1] != "DMARC1":
        raise RecordError("%s: a DMARC record starts with v=DMARC1, got %r" % (what, value[:40]))
    seen = set()
    out = []
    for name, tag_value in tags:
        name = name.lower()
        if name in seen:
            raise RecordError("%s: tag %s appears twice" % (what, name))
        seen.add(name)
        out.append((name, tag_value))
    return out


def check_dmarc_value(value, what: str = "DMARC record") -> tuple[str, list[str]]:
    """Validate a complete DMARC value; return ``(normalised value, report domains)``."""
    report_domains: list[str] = []
    tags = dmarc_tags(value, what)
    for name, tag_value in tags[1:]:
        if name not in DMARC_TAGS:
            raise RecordError("%s: unknown tag %s=" % (what, name))
        domains = dmarc_tag(DMARC_TAGS[name], tag_value, "%s: %s" % (what, name), raw=True)[1]
        report_domains += [d for d in domains if d not in report_domains]
    if "p" not in dict(tags):
        raise RecordError("%s: the p= tag is required" % what)
    return normalize(value), report_domains


def _complete(intent) -> bool:
    """Whether an intent given as a string is a complete record (``v=...``) rather than an id or an address."""
    return isinstance(intent, str) and intent.lstrip()[:2].lower() == "v="


def build_mta_sts(mta_sts, domain: str = "the domain") -> str:
    """``v=STSv1; id=...`` (RFC 8461 3.1)."""
    what = "%s: mta_sts" % domain
    check_text(mta_sts, what)
    if _complete(mta_sts):
        mta_sts = {"value": mta_sts}
    elif isinstance(mta_sts, (str, int)) and not isinstance(mta_sts, bool):
        mta_sts = {"id": mta_sts}
    check_keys(mta_sts, _MTA_STS_KEYS, what)
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
    if _complete(tls_rpt):
        tls_rpt = {"value": tls_rpt}
    elif isinstance(tls_rpt, (str, list)):
        tls_rpt = {"rua": tls_rpt}
    check_keys(tls_rpt, _TLS_RPT_KEYS, what)
    if tls_rpt.get("value") is not None:
        value = tls_rpt["value"]
        tags = parse_tag_list(value) if isinstance(value, str) else None
        if not tags or tags[0] != ("v", "TLSRPTv1") or "rua" not in dict(tags):
            raise RecordError("%s: value must be 'v=TLSRPTv1; rua=<uri>[,<uri>]', got %r" % (what, value))
        for item in dict(tags)["rua"].split(","):
            _tlsrpt_uri(item, what + ".rua")
        return normalize(value)
    uris = [_tlsrpt_uri(x, what + ".rua") for x in as_list(tls_rpt.get("rua"), what + ".rua")]
    if not uris:
        raise RecordError("%s.rua needs at least one address or https URL" % what)
    return "v=TLSRPTv1; rua=%s" % ",".join(dict.fromkeys(uris))


class PolicyKind(t.NamedTuple):
    """A TXT record a domain entry publishes beside DMARC: where it lives, its version tag and its builder."""

    kind: str  # the key of the domain entry
    prefix: str  # the record is at <prefix><domain>
    version: str  # the value of its first tag, v=
    label: str
    build: t.Callable[..., str]

    def name(self, domain: str) -> str:
        return self.prefix + domain

    def owns(self, value) -> bool:
        """Whether a TXT value is a record of this kind (its first tag is v=<version>)."""
        tags = parse_tag_list(value) if isinstance(value, str) else None
        return bool(tags) and tags[0] == ("v", self.version)


POLICY_KINDS = (
    PolicyKind("mta_sts", "_mta-sts.", "STSv1", "MTA-STS", build_mta_sts),  # RFC 8461 3.1
    PolicyKind("tls_rpt", "_smtp._tls.", "TLSRPTv1", "TLS-RPT", build_tls_rpt),  # RFC 8460 3
)
