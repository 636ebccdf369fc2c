# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DKIM key records (RFC 6376 3.6.1, RFC 8463): key types and sizes, the public-key encoder, build and check.

The record side of DKIM: it never reads or writes key files (that is :mod:`_dkim`, which imports
the constants and the encoder from here).
"""

from __future__ import annotations

import base64
import binascii

from ansible_collections.mailauth.core.plugins.module_utils import _deps, _input, _schema
from ansible_collections.mailauth.core.plugins.module_utils._fields import as_list, check_keys
from ansible_collections.mailauth.core.plugins.module_utils._names import RecordError, check_selector, check_text
from ansible_collections.mailauth.core.plugins.module_utils._txt import normalize, parse_tag_list

# The parts of cryptography the DKIM code uses; modules ask for them with _deps.require(module, *CRYPTOGRAPHY).
CRYPTOGRAPHY = (
    "cryptography.hazmat.primitives.serialization",
    "cryptography.hazmat.primitives.asymmetric.ed25519",
    "cryptography.hazmat.primitives.asymmetric.rsa",
)
serialization, ed25519, rsa = (_deps.load(name) for name in CRYPTOGRAPHY)

DKIM_KEY_TYPES = _schema.choices(_schema.DKIM, "key_type")
RSA_SIZES = (1024, 2048, 3072, 4096)
ED25519_SIZE = 256
MIN_RSA_BITS = 1024
RECOMMENDED_RSA_BITS = 2048
DKIM_FLAGS = _schema.choices(_schema.DKIM, "flags")
DKIM_HASHES = _schema.choices(_schema.DKIM, "hash_algorithms")
DKIM_SERVICE_TYPES = _schema.choices(_schema.DKIM, "service_types")
DKIM_KEYS = _schema.keys(_schema.DKIM)


def _require_cryptography() -> None:
    try:
        _deps.need(*CRYPTOGRAPHY)
    except _deps.MissingLibrary as exc:  # pragma: no cover - depends on the host
        raise RecordError("%s (to read DKIM public keys)" % exc) from None


def public_key_p(public) -> tuple[str, int, str]:
    """``(key_type, bits, p)`` for a loaded RSA or Ed25519 public key: the one DKIM ``p=`` encoder.

    ``p`` is base64 of the SubjectPublicKeyInfo DER for RSA and of the raw 32-byte key for
    Ed25519 (RFC 8463 4.2).
    """
    if isinstance(public, rsa.RSAPublicKey):
        der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return "rsa", public.key_size, base64.b64encode(der).decode("ascii")
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return "ed25519", ED25519_SIZE, base64.b64encode(raw).decode("ascii")
    raise RecordError(
        "DKIM supports RSA and Ed25519 keys only, got a %s key" % type(public).__name__.replace("PublicKey", "")
    )


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
    found = public_key_p(loaded)
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
    for item in as_list(value, what):
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
    check_keys(entry, DKIM_KEYS, "%s: dkim" % domain)
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
    check_keys(entry, DKIM_KEYS, what)
    check_text(entry, what)
    key_type = entry.get("key_type")
    if key_type is not None and key_type not in DKIM_KEY_TYPES:
        raise RecordError("%s: key_type must be one of %s, got %r" % (what, ", ".join(DKIM_KEY_TYPES), key_type))
    revoked = entry.get("revoked", False)
    if not isinstance(revoked, bool):
        raise RecordError("%s: revoked must be true or false, got %r" % (what, revoked))
    if revoked:
        if entry.get("public_key") or entry.get("value"):
            raise RecordError(
                "%s: a revoked selector publishes no key; give revoked without public_key or value" % what
            )
        return revoked_value(key_type or "rsa")
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


def revoked_value(key_type: str) -> str:
    """The record of a revoked selector (RFC 6376 3.6.1: an empty ``p=`` means the key is revoked)."""
    if key_type not in DKIM_KEY_TYPES:
        raise RecordError("key_type must be one of %s, got %r" % (", ".join(DKIM_KEY_TYPES), key_type))
    return "v=DKIM1; k=%s; p=" % key_type


def is_revoked(value: str) -> bool:
    """Whether a DKIM key record has an empty ``p=`` (what :func:`revoked_value` builds)."""
    tags = dict(parse_tag_list(value) or []) if isinstance(value, str) else {}
    return "p" in tags and not "".join(tags["p"].split())


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
        raise RecordError("%s: p= is empty (a revoked key); set revoked: true to revoke a selector" % what)
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
