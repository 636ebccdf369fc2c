# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SRS (Sender Rewriting Scheme): the srs role's variables validated into postsrsd's settings.

:func:`build` checks every srs_ variable (every problem reported at once, naming the variable) and
returns what the role renders: the settings of postsrsd 1.x (``/etc/default/postsrsd``, read by
Debian's launcher) and the facts the postfix role takes (``srs_postfix_*``). The role's variables
say what SRS does (domain, exclusions, secrets, hash length); how postsrsd is told (file, ports,
table types) stays in here, so that postsrsd 2.x can be added without a change users see.
:func:`secret_file` builds the secrets file: the host's own secret first (it signs), then the
older ones (they still verify). Secrets never appear in a message.
"""

from __future__ import annotations

import re
import shlex
import typing as t

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.mailauth.core.plugins.module_utils import _input
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems

SEPARATORS = ("=", "+", "-")
# A secret: printable ASCII without whitespace (postsrsd reads one secret a line).
SECRET = r"[!-~]{8,1024}"
# postsrsd 1.x (Debian 12 and 13): two TCP lookup tables on loopback, settings in /etc/default/postsrsd.
LISTEN = "127.0.0.1"
FORWARD_PORT = 10001
REVERSE_PORT = 10002
DEFAULT_FILE = "/etc/default/postsrsd"
RUN_AS = "postsrsd"
CHROOT = "/var/lib/postsrsd"


def exclusion(value: t.Any, field: str) -> str:
    """An exclusion: a domain (that domain only) or .domain (its subdomains, not the domain itself)."""
    _input.control_free(value, field)
    if value.startswith("."):
        return "." + _input.domain(value[1:], field, min_labels=1)
    return _input.domain(value, field, min_labels=1)


def _int(value: t.Any, field: str, low: int, high: int) -> int:
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,3}", value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InputError("%s must be a whole number from %d to %d, got %r" % (field, low, high, value))
    return value


def secret(value: t.Any, field: str) -> str:
    """A secret: 8 to 1024 printable ASCII characters, no whitespace; the message never shows it."""
    if not isinstance(value, str) or re.fullmatch(SECRET, value) is None:
        raise InputError("%s must be 8 to 1024 printable ASCII characters without whitespace (not shown)" % field)
    return value


def build(v: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """Validate the srs role's variables (names without the ``srs_`` prefix) into what the role renders."""
    p = Problems()
    out: t.Dict[str, t.Any] = {
        "domain": p.check(_input.domain, v["domain"], "srs_domain"),
        "secret_path": p.check(_input.absolute_path, v["secret_path"], "srs_secret_path"),
        "separator": p.check(_input.choice, v["separator"], "srs_separator", SEPARATORS),
        "hash_length": p.check(_int, v["hash_length"], "srs_hash_length", 1, 64),
        "hash_minimum": p.check(_int, v["hash_minimum"], "srs_hash_minimum", 1, 64),
        "service_state": p.check(_input.choice, v["service_state"], "srs_service_state", ("started", "stopped")),
        "service_enabled": boolean(v["service_enabled"], strict=False),
    }
    excludes = p.check(_input.string_list, v["exclude_domains"], "srs_exclude_domains") or []
    checked = [p.check(exclusion, item, "srs_exclude_domains[%d]" % i) for i, item in enumerate(excludes)]
    out["exclude_domains"] = list(dict.fromkeys(x for x in checked if x))
    previous = v["previous_secrets"]
    if previous is None:
        previous = []
    if not isinstance(previous, list):
        p.add("srs_previous_secrets must be a list of secrets (not shown)")
        previous = []
    out["previous_secrets"] = [p.check(secret, s, "srs_previous_secrets[%d]" % i) for i, s in enumerate(previous)]
    if None not in (out["hash_length"], out["hash_minimum"]) and out["hash_minimum"] > out["hash_length"]:
        p.add("srs_hash_minimum (%d) must not exceed srs_hash_length (%d)" % (out["hash_minimum"], out["hash_length"]))
    p.raise_any()
    started = out["service_state"] == "started"
    out["postsrsd_default"] = [
        [name, shlex.quote(str(value))]
        for name, value in (
            ("SRS_DOMAIN", out["domain"]),
            ("SRS_EXCLUDE_DOMAINS", ",".join(out["exclude_domains"])),
            ("SRS_SEPARATOR", out["separator"]),
            ("SRS_SECRET", out["secret_path"]),
            ("SRS_HASHLENGTH", out["hash_length"]),
            ("SRS_HASHMIN", out["hash_minimum"]),
            ("SRS_FORWARD_PORT", FORWARD_PORT),
            ("SRS_REVERSE_PORT", REVERSE_PORT),
            ("RUN_AS", RUN_AS),
            ("SRS_LISTEN_ADDR", LISTEN),
            ("CHROOT", CHROOT),
        )
    ]
    out["default_file"] = DEFAULT_FILE
    out["ports"] = [FORWARD_PORT, REVERSE_PORT]
    # What Postfix needs (the postfix role's variables of the same names): the forward table for the
    # envelope sender of forwarded mail only, the reverse table for the envelope recipient (bounces to
    # an SRS address) and, so that they reach this host, the SRS domain as a local destination.
    out["postfix"] = {
        "sender_canonical_maps": ["tcp:%s:%d" % (LISTEN, FORWARD_PORT)] if started else [],
        "sender_canonical_classes": ["envelope_sender"],
        "recipient_canonical_maps": ["tcp:%s:%d" % (LISTEN, REVERSE_PORT)] if started else [],
        "recipient_canonical_classes": ["envelope_recipient", "header_recipient"],
        "sender_canonical_exclude_domains": list(dict.fromkeys([*out["exclude_domains"], out["domain"]])),
        "mydestination_extra": [out["domain"]] if started else [],
    }
    return out


def secret_file(current: t.Any, previous: t.Sequence[str]) -> t.Optional[str]:
    """The secrets file: the host's secret (first line of ``current``) signs, the ``previous`` ones still verify.

    None when the host has no secret yet (check mode before the package made one). The host's secret
    is kept as it is; a previous secret equal to it is not repeated.
    """
    lines = [line.strip() for line in str(current or "").splitlines() if line.strip()]
    if not lines:
        return None
    own = secret(lines[0], "the host's secret (first line of srs_secret_path)")
    rest = [s for s in dict.fromkeys(secret(s, "srs_previous_secrets") for s in previous) if s != own]
    return "\n".join([own, *rest]) + "\n"
