# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DMARC (RFC 7489) and the reporting records: ``_dmarc``, MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) values."""

from __future__ import annotations

import re

from ansible_collections.mailauth.core.plugins.module_utils._fields import as_list, check_keys, choice, int_range
from ansible_collections.mailauth.core.plugins.module_utils._names import RecordError, check_domain, check_text
from ansible_collections.mailauth.core.plugins.module_utils._txt import normalize, parse_tag_list

DMARC_POLICIES = ("none", "quarantine", "reject")
DMARC_FO = ("0", "1", "d", "s")
_DMARC_KEYS = ("p", "sp", "np", "pct", "adkim", "aspf", "rua", "ruf", "fo", "ri", "t", "value")
_MTA_STS_KEYS = ("id", "value")
_TLS_RPT_KEYS = ("rua", "value")
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
        raise RecordError("%s.p is required (none, quarantine or reject)" % what)
    tags = ["v=DMARC1", "p=" + choice(dmarc["p"], DMARC_POLICIES, what + ".p")]
    for name in ("sp", "np"):
        if dmarc.get(name) is not None:
            tags.append("%s=%s" % (name, choice(dmarc[name], DMARC_POLICIES, "%s.%s" % (what, name))))
    if dmarc.get("pct") is not None:
        tags.append("pct=%d" % int_range(dmarc["pct"], 0, 100, what + ".pct"))
    for name in ("adkim", "aspf"):
        if dmarc.get(name) is not None:
            tags.append("%s=%s" % (name, choice(dmarc[name], ("r", "s"), "%s.%s" % (what, name))))
    report_domains: list[str] = []
    for name in ("rua", "ruf"):
        uris = []
        for item in as_list(dmarc.get(name), "%s.%s" % (what, name)):
            uri, rdomain = dmarc_uri(item, "%s.%s" % (what, name))
            if uri not in uris:
                uris.append(uri)
            if rdomain not in report_domains:
                report_domains.append(rdomain)
        if uris:
            tags.append("%s=%s" % (name, ",".join(uris)))
    if dmarc.get("fo") is not None:
        fo = dmarc["fo"]
        items = fo.split(":") if isinstance(fo, str) else as_list(fo, what + ".fo")
        options = [choice(str(x), DMARC_FO, what + ".fo") for x in items]
        tags.append("fo=" + ":".join(dict.fromkeys(options)))
    if dmarc.get("ri") is not None:
        tags.append("ri=%d" % int_range(dmarc["ri"], 0, 4294967295, what + ".ri"))
    if dmarc.get("t") is not None:
        test = dmarc["t"]
        if isinstance(test, bool):
            test = "y" if test else "n"
        tags.append("t=" + choice(test, ("y", "n"), what + ".t"))
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
            choice(tag_value, DMARC_POLICIES, "%s: %s" % (what, name))
        elif name in ("adkim", "aspf"):
            choice(tag_value, ("r", "s"), "%s: %s" % (what, name))
        elif name == "pct":
            int_range(tag_value, 0, 100, what + ": pct")
        elif name == "ri":
            int_range(tag_value, 0, 4294967295, what + ": ri")
        elif name == "t":
            choice(tag_value, ("y", "n"), what + ": t")
        elif name == "psd":
            choice(tag_value, ("y", "n", "u"), what + ": psd")
        elif name == "fo":
            for option in tag_value.replace(" ", "").split(":"):
                choice(option, DMARC_FO, what + ": fo")
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
    if isinstance(tls_rpt, (str, list)):
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
