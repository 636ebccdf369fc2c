# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TXT codec: split, quote, parse and compare logical TXT values.

A *logical* value is the text of one TXT record with its character-strings joined
(``"a" "b"`` is the logical value ``ab``). Providers convert logical values to and
from their wire or API format with the helpers here.
"""

from __future__ import annotations

import re

from ansible_collections.mailauth.core.plugins.module_utils import _deps

dns_exception = _deps.load("dns.exception")
dns_rdata = _deps.load("dns.rdata")

MAX_STRING = 255

# Tags whose values are lists of tokens separated by ':' or ',' (whitespace around
# the separators is folding white space the RFCs allow).
_LIST_TAGS = {
    "dkim": frozenset(("h", "k", "s", "t")),
    "dmarc": frozenset(("rua", "ruf", "fo")),
    "tlsrpt": frozenset(("rua",)),
}
_TAGGED_VERSIONS = {"DKIM1": "dkim", "DMARC1": "dmarc", "STSv1": "tagged", "TLSRPTv1": "tlsrpt"}
_TAG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_WS = re.compile(r"\s+")
_WS_AROUND_SEP = re.compile(r"\s*([,:])\s*")


class TxtError(ValueError):
    """A TXT value that cannot be encoded or parsed."""


def _utf8(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    return value.encode("utf-8")


def split_bytes(data: bytes, limit: int = MAX_STRING) -> list[bytes]:
    """Split ``data`` into strings of at most ``limit`` bytes, never inside a UTF-8 sequence."""
    if limit < 4:
        raise TxtError("the TXT string limit must be at least 4 bytes (one UTF-8 character)")
    if limit > MAX_STRING:
        raise TxtError("a TXT character-string holds at most %d bytes" % MAX_STRING)
    if not data:
        return [b""]
    chunks = []
    start = 0
    size = len(data)
    while start < size:
        end = min(start + limit, size)
        if end < size:
            # Back off while the first byte after the cut is a UTF-8 continuation byte.
            cut = end
            while cut > start and (data[cut] & 0xC0) == 0x80:
                cut -= 1
            if cut > start:
                end = cut
        chunks.append(data[start:end])
        start = end
    return chunks


def split_txt(value: str, limit: int = MAX_STRING) -> list[str]:
    """Split a logical value into strings of at most ``limit`` UTF-8 bytes each.

    A multi-byte UTF-8 character is never split between two strings. The empty
    value is one empty string.
    """
    return [chunk.decode("utf-8") for chunk in split_bytes(_utf8(value), limit)]


def to_wire_strings(value: str, limit: int = MAX_STRING) -> list[bytes]:
    """The character-strings (bytes) of one TXT record, e.g. for ``dns.rdtypes.ANY.TXT.TXT``."""
    return split_bytes(_utf8(value), limit)


def _escape_chunk(chunk: bytes, octal: bool = False) -> str:
    out = []
    for byte in chunk:
        if byte == 0x22:
            out.append('\\"')
        elif byte == 0x5C:
            out.append("\\\\")
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            # Zone files write other bytes as three decimal digits, Route 53 as three octal digits.
            out.append("\\%03o" % byte if octal else "\\%03d" % byte)
    return "".join(out)


def quote_strings(chunks: list[bytes] | list[str], octal: bool = False) -> str:
    """Quote already split character-strings as zone-file text: ``"one" "two"``."""
    return " ".join('"%s"' % _escape_chunk(_utf8(chunk), octal) for chunk in chunks)


def to_zone_text(value: str, limit: int = MAX_STRING, octal: bool = False) -> str:
    """Render a logical value as zone-file (presentation) text.

    The value is split on raw bytes first and each string is escaped afterwards,
    so an escape (``\\"``, ``\\\\``, ``\\DDD``) never straddles two strings.
    Non-ASCII and control bytes are written as ``\\DDD`` (decimal), or with
    ``octal`` as three octal digits (Route 53's flavour).
    """
    return quote_strings(split_bytes(_utf8(value), limit), octal)


def from_wire_strings(strings) -> str:
    """Join the character-strings of one TXT record (``rdata.strings``) into a logical value."""
    data = b"".join(_utf8(s) for s in strings)
    return data.decode("utf-8", errors="replace")


def from_zone_text(text: str) -> str:
    """Parse zone-file (presentation) text of one TXT record and return the logical value."""
    try:
        _deps.need("dns.rdata")
    except _deps.MissingLibrary as exc:
        raise TxtError("cannot parse TXT presentation format: %s" % exc) from None
    try:
        rdata = dns_rdata.from_text("IN", "TXT", text)
    except (dns_exception.DNSException, ValueError) as exc:
        raise TxtError("cannot parse TXT text %r: %s" % (text, exc)) from None
    return from_wire_strings(rdata.strings)


def _logical(value) -> str:
    if isinstance(value, (list, tuple)):
        return from_wire_strings(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise TxtError("a TXT value must be a string or a list of strings, not %s" % type(value).__name__)
    return value


def _normalize_spf(value: str) -> str:
    terms = value.split()
    out = [terms[0].lower()]
    for term in terms[1:]:
        # Mechanism and modifier names are case-insensitive (RFC 7208 4.6.1); the
        # argument may hold case-sensitive macros, so it is left alone.
        match = re.fullmatch(r"([+\-~?]?)([A-Za-z][A-Za-z0-9_.\-]*)(.*)", term, re.DOTALL)
        if match:
            term = match.group(1) + match.group(2).lower() + match.group(3)
        out.append(term)
    return " ".join(out)


def parse_tag_list(value: str) -> list[tuple[str, str]] | None:
    """Parse a tag=value list (RFC 6376 3.2); ``None`` if ``value`` is not one."""
    parts = value.split(";")
    if parts and not parts[-1].strip():
        parts = parts[:-1]
    tags = []
    for part in parts:
        if "=" not in part:
            return None
        name, _eq, tag_value = part.partition("=")
        name = name.strip()
        if not _TAG_NAME.match(name):
            return None
        tags.append((name, tag_value.strip()))
    return tags or None


def _tag_list_kind(tags: list[tuple[str, str]]) -> str | None:
    first_name, first_value = tags[0]
    if first_name == "v":
        return _TAGGED_VERSIONS.get(first_value)
    names = {tag[0] for tag in tags}
    # A DKIM key record may omit v=; p= is the one tag it must carry.
    if "p" in names and names <= {"v", "g", "h", "k", "n", "p", "s", "t"}:
        return "dkim"
    return None


def _normalize_tag_value(kind: str, name: str, tag_value: str) -> str:
    if kind == "dkim" and name == "p":
        return _WS.sub("", tag_value)
    if name in _LIST_TAGS.get(kind, ()):
        tag_value = _WS_AROUND_SEP.sub(r"\1", tag_value)
    return _WS.sub(" ", tag_value)


def normalize(value) -> str:
    """The normal form of a TXT value, used for semantic comparison.

    ``value`` is a logical value or a list of character-strings (joined first).
    SPF records get single spaces between terms and lower-case mechanism names.
    DKIM, DMARC, MTA-STS and TLS-RPT tag lists get ``tag=value`` pairs joined by
    ``"; "``, with the white space the RFCs allow around tags, ``=``, ``;`` and list
    separators removed (and all of it inside a DKIM ``p=``). Any other value is
    returned unchanged. ``normalize(normalize(x)) == normalize(x)``.
    """
    text = _logical(value)
    if is_spf(text):
        return _normalize_spf(text)
    tags = parse_tag_list(text)
    if tags:
        kind = _tag_list_kind(tags)
        if kind:
            return "; ".join("%s=%s" % (name, _normalize_tag_value(kind, name, tv)) for name, tv in tags)
    return text


def txt_equal(a, b) -> bool:
    """Whether two TXT values (logical or lists of strings) mean the same."""
    return normalize(a) == normalize(b)


def is_spf(value) -> bool:
    """Whether a TXT value is an SPF record (starts with the ``v=spf1`` version term)."""
    text = _logical(value).lower()
    return text.rstrip(" ") == "v=spf1" or text.startswith("v=spf1 ")
