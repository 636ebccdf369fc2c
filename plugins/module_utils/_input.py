# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The input layer: full-match validators for every string that reaches a file, a zone or a command.

Every function takes the value and the name of the field it came from, returns the value
normalised, and raises :class:`InputError` with a message that names the field and the
problem. Patterns are matched with ``re.fullmatch`` (a ``$`` would match before a final
newline), and control characters are refused everywhere.
"""

from __future__ import annotations

import ipaddress
import os
import re
import typing as t

MAX_NAME = 253  # RFC 1035 2.3.4: a name in text form, without the trailing dot
MAX_LABEL = 63

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators (str.splitlines splits on them).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_LABEL_UNDERSCORE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# RFC 5322 dot-atom text of a local part.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


class InputError(ValueError):
    """A value that may not reach a file, a zone or a command; the message names the field."""


def _show(value: t.Any) -> str:
    """The value as the message shows it: repr, so that a newline is visible, shortened."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def control_free(value: t.Any, field: str) -> str:
    """Return value if it is a string without control characters (newline, tab, NUL, DEL...)."""
    if not isinstance(value, str):
        raise InputError("%s must be a string, got %s %s" % (field, type(value).__name__, _show(value)))
    found = _CONTROL.search(value)
    if found:
        raise InputError(
            "%s must not contain control characters (found %r at position %d in %s)"
            % (field, found.group(), found.start(), _show(value))
        )
    return value


def text(value: t.Any, field: str, allow_empty: bool = False, scalars: bool = False) -> str:
    """A single-line string (numbers too when scalars): no control characters, not empty unless allowed."""
    if scalars and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    control_free(value, field)
    if not allow_empty and not value.strip():
        raise InputError("%s must not be empty" % field)
    return value


def match(pattern: str | t.Pattern[str], value: t.Any, field: str, what: str) -> str:
    """Return value if the whole of it matches pattern; what says in words what is expected."""
    control_free(value, field)
    if re.fullmatch(pattern, value) is None:
        raise InputError("%s must be %s, got %s" % (field, what, _show(value)))
    return value


def choice(value: t.Any, field: str, choices: t.Sequence[str]) -> str:
    """One of choices, exactly."""
    if value not in choices:
        raise InputError("%s must be one of %s, got %s" % (field, ", ".join(choices), _show(value)))
    return value


def string_list(value: t.Any, field: str) -> t.List[str]:
    """A list of single-line strings (a bare string is refused: it is not a list)."""
    if not isinstance(value, (list, tuple)):
        raise InputError("%s must be a list, got %s %s" % (field, type(value).__name__, _show(value)))
    return [text(item, "%s[%d]" % (field, index), scalars=True) for index, item in enumerate(value)]


# -- DNS names -------------------------------------------------------------------------------


def label(value: t.Any, field: str, underscore: bool = False) -> str:
    """One DNS label, lower-cased: letters, digits, inner hyphens (and underscores if allowed)."""
    control_free(value, field)
    lowered = value.lower()
    if re.fullmatch(_LABEL_UNDERSCORE if underscore else _LABEL, lowered) is None:
        raise InputError(
            "%s: %s is not a DNS label (1-63 letters, digits%s or inner hyphens)"
            % (field, _show(value), ", underscores" if underscore else "")
        )
    return lowered


def domain(value: t.Any, field: str, min_labels: int = 2, underscore: bool = False) -> str:
    """A domain name: IDNA to ASCII, lower case, no trailing dot, every label checked, <= 253 characters."""
    control_free(value, field)
    name = value[:-1] if value.endswith(".") else value
    if not name:
        raise InputError("%s must be a domain name, got %s" % (field, _show(value)))
    if " " in name:
        raise InputError("%s: %s is not a domain name (it holds a space)" % (field, _show(value)))
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError as err:
            raise InputError(
                "%s: %s is not a valid internationalised domain name: %s" % (field, _show(value), err)
            ) from None
    name = name.lower()
    labels = name.split(".")
    if len(labels) < min_labels:
        raise InputError("%s: %s needs at least %d labels (e.g. example.org)" % (field, _show(value), min_labels))
    if len(name) > MAX_NAME:
        raise InputError("%s: %s is longer than %d characters" % (field, _show(value), MAX_NAME))
    for part in labels:
        if not part:
            raise InputError("%s: %s has an empty label" % (field, _show(value)))
        if len(part) > MAX_LABEL:
            raise InputError("%s: %s has a label longer than %d characters" % (field, _show(value), MAX_LABEL))
        label(part, "%s (label %r)" % (field, part), underscore=underscore)
    if len(labels) > 1 and labels[-1].isdigit():
        raise InputError("%s: %s looks like an IP address, not a domain name" % (field, _show(value)))
    return name


def derived_name(name: str, field: str) -> str:
    """A name built from checked parts (selector._domainkey.domain, _dmarc.domain): the length limits again."""
    if len(name) > MAX_NAME:
        raise InputError(
            "%s: the name %s would be %d characters long, more than DNS allows (%d)"
            % (field, _show(name), len(name), MAX_NAME)
        )
    return domain(name, field, min_labels=1, underscore=True)


def lookup_name(value: t.Any, field: str) -> str:
    """A name to look up and lint (``_spf.example.com``, an include target): labels may hold underscores."""
    return domain(value, field, underscore=True)


def selector(value: t.Any, field: str) -> str:
    """A DKIM selector (RFC 6376 3.1): dot-separated LDH labels, lower-cased, without _domainkey."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and "_domainkey" in value.lower():
        raise InputError("%s must be the selector only, without _domainkey, got %s" % (field, _show(value)))
    name = domain(value, field, min_labels=1)
    if value.endswith("."):
        raise InputError("%s: a selector has no trailing dot, got %s" % (field, _show(value)))
    return name


def email(value: t.Any, field: str) -> str:
    """An address local@domain (dot-atom local part; the domain is checked like any domain)."""
    control_free(value, field)
    local, at, host = value.rpartition("@")
    if not at or re.fullmatch(_LOCAL_PART, local) is None:
        raise InputError("%s must be an address local@domain, got %s" % (field, _show(value)))
    return "%s@%s" % (local, domain(host, field))


# -- addresses and networks -------------------------------------------------------------------


def network(value: t.Any, field: str, allow_any: bool = False) -> t.Union[ipaddress.IPv4Network, ipaddress.IPv6Network]:
    """An IP address or CIDR network (``[v6]/len`` too); host bits set are refused; /0 only with allow_any."""
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        value = str(value)
    text(value, field)
    raw = value
    bracket = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](/[0-9]{1,3})?", raw)
    if bracket:
        raw = bracket.group(1) + (bracket.group(2) or "")
    try:
        net = ipaddress.ip_network(raw, strict=True)
    except ValueError as err:
        raise InputError("%s: %s is not an IP address or network: %s" % (field, _show(value), err)) from None
    if net.prefixlen == 0 and not allow_any:
        raise InputError(
            "%s: %s matches every address on the Internet; that would let anyone in" % (field, _show(value))
        )
    return net


def host_or_network(value: t.Any, field: str, allow_any: bool = False) -> str:
    """An IP address, a CIDR network or a host name (OpenDKIM's host lists); returned as written."""
    text(value, field)
    try:
        network(value, field, allow_any=allow_any)
    except InputError as err:
        if re.fullmatch(r"[0-9A-Fa-f:.\[\]/]+", value):  # it was meant as an address
            raise err from None
        domain(value, field, min_labels=1)
    return value


HOST_PORT = r"(?:\[([^\[\]]+)\]|([^\[\]:]+))(?::([0-9]{1,5}))?"
BRACKETS = ("any", "ipv6")


def host_port(
    value: t.Any, field: str, brackets: str = "any", port_required: bool = False, form: str = "[host]:port"
) -> t.Tuple[str, t.Optional[int]]:
    """A host and a port as Postfix writes them (``host``, ``host:port``, ``[host]:port``): (host, port or None).

    The one rule that differs between Postfix's settings is what brackets hold:

    - ``brackets="any"`` (a next hop such as ``relayhost``): a name or an address; brackets turn
      off the MX lookup, so an address must be in brackets, and a bare host is a name.
    - ``brackets="ipv6"`` (a service endpoint such as ``inet:host:port``): only an IPv6 address,
      whose colons would otherwise end the host; an IPv4 address and a name stand bare.

    The port, 1-65535, is optional unless ``port_required``. ``form`` names the expected shape in the
    error message.
    """
    if brackets not in BRACKETS:
        raise ValueError("brackets must be one of %s" % ", ".join(BRACKETS))
    text(value, field)
    found = re.fullmatch(HOST_PORT, value)
    port = found.group(3) if found else None
    if found is None or (port is None and port_required) or (port and not 1 <= int(port) <= 65535):
        raise InputError("%s must be %s (port 1-65535), got %s" % (field, form, _show(value)))
    bracketed, host = found.group(1) is not None, found.group(1) or found.group(2)
    if not host.isascii():
        domain(host, field, min_labels=1)  # a clear message if it is no name at all
        raise InputError("%s: write %s in its ASCII (xn--) form" % (field, _show(host)))
    if brackets == "ipv6":
        if bracketed:
            if network(host, field).version != 6:
                raise InputError("%s: only IPv6 addresses go in brackets, got %s" % (field, _show(value)))
        elif re.fullmatch(r"[0-9.]+", host):
            network(host, field)
        else:
            domain(host, field, min_labels=1)
    elif bracketed and re.fullmatch(r"[0-9A-Fa-f:.]+", host):
        network(host, field)
    else:
        domain(host, field, min_labels=1)
    return host, int(port) if port else None


def smtp_reply_code(value: t.Any, field: str, classes: str = "45") -> int:
    """An SMTP reply code (RFC 5321 4.2) whose first digit is in classes."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{3}", value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 200 <= value <= 599 or str(value)[0] not in classes:
        raise InputError("%s must be an SMTP reply code %sxx, got %s" % (field, "xx or ".join(classes), _show(value)))
    if str(value)[1] not in "012345":
        raise InputError("%s: %s is not an SMTP reply code (second digit 0-5)" % (field, _show(value)))
    return value


def enhanced_status_code(value: t.Any, field: str, classes: str = "45") -> str:
    """An RFC 3463 enhanced status code class.subject.detail (e.g. 5.7.23), its class in classes."""
    text(value, field)
    if re.fullmatch(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}", value) is None:
        raise InputError("%s must be an enhanced status code like 5.7.23 (RFC 3463), got %s" % (field, _show(value)))
    if value[0] not in classes:
        raise InputError("%s: %s must start with %s" % (field, _show(value), " or ".join(classes)))
    return value


def authserv_id(value: t.Any, field: str) -> str:
    """The authserv-id of Authentication-Results (RFC 8601 2.5): one host-name-like token, no spaces or ';'.

    Every component of a host (SPF policy, OpenDKIM, OpenDMARC, ARC) writes and trusts the same
    one, compared case-insensitively, so it is returned lower-cased.
    """
    return domain(value, field, min_labels=1)


# -- paths ------------------------------------------------------------------------------------


def absolute_path(value: t.Any, field: str) -> str:
    """An absolute, normalised path without control characters, whitespace or '..' components."""
    text(value, field)
    if not value.startswith("/"):
        raise InputError("%s must be an absolute path, got %s" % (field, _show(value)))
    if re.search(r"\s", value):
        raise InputError("%s must not contain whitespace, got %s" % (field, _show(value)))
    if ".." in value.split("/"):
        raise InputError("%s must not contain '..', got %s" % (field, _show(value)))
    return os.path.normpath(value)


# -- modules: hostile input (dkim_key, dns_records, mail_dns_info and the filters) --------------
# Kept as one block at the end of the file: other sessions append their own blocks.

_PEM_PRIVATE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----(.*?)(?:-----END \1-----|\Z)",
    re.DOTALL,
)
_BASE64_BLOB = re.compile(r"[A-Za-z0-9+/=\s]{64,}")
MIN_MASKED_LINE = 4  # shorter lines of a key are not masked: they would blank out unrelated text


def no_controls_deep(value: t.Any, field: str, multiline: t.Sequence[str] = ()) -> None:
    """Refuse control characters in every string of a nested dict/list; keys named in multiline may hold lines."""
    if isinstance(value, str):
        control_free(value, field)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                control_free(key, "%s key" % field)
            if key in multiline:
                if item is not None and not isinstance(item, str):
                    control_free(item, "%s.%s" % (field, key))
                continue
            no_controls_deep(item, "%s.%s" % (field, key), multiline)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            no_controls_deep(item, "%s[%d]" % (field, index), multiline)


def _der_private_key(blob: str) -> bool:
    """Whether blob is base64 of a DER private key (PKCS#1 or PKCS#8), the body of a PEM without its lines."""
    import base64
    import binascii

    try:
        der = base64.b64decode("".join(blob.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(der) < 40 or der[0] != 0x30:
        return False
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError:  # pragma: no cover - the modules report the missing library
        return False
    try:
        serialization.load_der_private_key(der, password=None)
    except TypeError:
        return True  # an encrypted private key: still private key material
    except Exception:
        return False
    return True


def private_key_strings(value: t.Any) -> t.Set[str]:
    """Everything to mask for private key material found in any string of value (nested dicts and lists).

    For each key found: the whole string that holds it, the PEM block, its base64 body joined, and
    every line of it (at least MIN_MASKED_LINE characters). Empty when value holds no private key.
    """
    found: t.Set[str] = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= private_key_strings(item)
        return found
    if isinstance(value, (list, tuple)):
        for item in value:
            found |= private_key_strings(item)
        return found
    if not isinstance(value, str):
        return found
    blocks = [m.group(0) for m in _PEM_PRIVATE.finditer(value)]
    if not blocks and len(value) >= 64:
        blocks = [m.group(0) for m in _BASE64_BLOB.finditer(value) if _der_private_key(m.group(0))]
    if not blocks:
        return found
    found.add(value)
    for block in blocks:
        found.add(block)
        found.add(block.strip())
        lines = [line.strip() for line in block.splitlines()]
        found.add("".join(line for line in lines if not line.startswith("-----")))
        found.update(line for line in lines if len(line) >= MIN_MASKED_LINE)
    found.discard("")
    return found


def has_private_key(value: t.Any) -> bool:
    """Whether any string of value holds private key material (PEM or base64 DER)."""
    return bool(private_key_strings(value))


def private_key_paths(value: t.Any, field: str) -> t.List[str]:
    """The fields (``domains[0].dkim[1].public_key``) of value whose string holds private key material."""
    if isinstance(value, dict):
        return [
            p
            for key, item in value.items()
            for p in private_key_paths(item, "%s.%s" % (field, key) if field else str(key))
        ]
    if isinstance(value, (list, tuple)):
        return [p for index, item in enumerate(value) for p in private_key_paths(item, "%s[%d]" % (field, index))]
    return [field] if isinstance(value, str) and private_key_strings(value) else []
