# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Postfix configuration: the role's variables validated into main.cf and master.cf, and the relay invariant.

:func:`build` turns the postfix role's variables into what its templates render (every value
checked with :mod:`_input`; every problem reported at once, naming the variable).
:func:`relay_problems` reads the rendered main.cf and master.cf, as Postfix would, and checks
that no smtpd service lets a client relay other than through ``permit_mynetworks`` (with
checked networks) or ``permit_sasl_authenticated``, with a reject at the end.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import typing as t

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.mailauth.core.plugins.module_utils import _input
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems, extras

# Postfix parameter names: letters, digits and underscores (smtp_tls_CApath has capitals).
PARAM_NAME = r"[A-Za-z][A-Za-z0-9_]*"
# One smtpd restriction: a name, optionally with one table or service argument.
RESTRICTION = r"[a-z][a-z0-9_]*(?: [a-z0-9_]+:[^\s,]+)?"
# A service endpoint as Postfix reaches a milter or a policy service: unix:PATH, relative to the
# queue directory (private/policyd-spf) or absolute, every component starting with a letter, digit
# or _ (so no '..'); or inet:HOST:PORT, HOST a name, an IPv4 address or [IPv6] (_input.host_port).
ENDPOINT_UNIX = r"unix:/?[A-Za-z0-9_][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*"
# A value of mydestination: a domain, or text built from $parameter references.
DESTINATION = r"(?:\$\{?[a-z_]+\}?|[A-Za-z0-9.\-])+"
# An alias (local part) and an alias target (a local user or an address; no pipes, files or includes).
ALIAS_NAME = r"[a-z0-9][a-z0-9._+\-]*"
ALIAS_TARGET = r"[A-Za-z0-9][A-Za-z0-9._+\-]*(?:@[A-Za-z0-9.\-]+)?"
# master.cf fields.
SERVICE_NAME = r"[A-Za-z0-9][A-Za-z0-9._\-]*|(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):[A-Za-z0-9]+"
SERVICE_KEYS = ("service", "type", "private", "unpriv", "chroot", "wakeup", "maxproc", "command", "args")
SERVICE_TYPES = ("inet", "unix", "unix-dgram", "fifo", "pass")
FLAG = r"[yn\-]"
WAKEUP = r"-|[0-9]+\??"
MAXPROC = r"-|[0-9]+"
COMMAND = r"[a-z][a-z0-9_\-]*"
# master.cf arguments: `-o name=value` (no whitespace in the value) or other single words.
ARG = r"-o [A-Za-z][A-Za-z0-9_]*=\S*|[^\s]+"
TLS_LEVELS_SMTPD = ("none", "may", "encrypt")
TLS_LEVELS_SMTP = ("none", "may", "encrypt", "dane", "verify", "secure")
INET_PROTOCOLS = ("all", "ipv4", "ipv6", "ipv4, ipv6")
MILTER_ACTIONS = ("accept", "reject", "tempfail", "quarantine")
# A Postfix time value: a number and an optional unit (seconds by default).
TIME = r"[0-9]+[smhdw]?"
# The master.cf name of the SPF policy daemon (postfix-policyd-spf-python's README): its spawn
# time limit is the main.cf parameter policyd-spf_time_limit.
POLICYD_SPF = "policyd-spf"

# One rule of a regexp: header_checks table: /pattern/flags ACTION [text], the pattern's slashes
# escaped; the actions cleanup(8) takes (header_checks(5)).
HEADER_CHECK = r"!?/(?:[^/\\]|\\.)+/[imx]*[ \t]+([A-Z]+)(?:[ \t]+\S.*)?"
HEADER_ACTIONS = ("BCC", "DISCARD", "DUNNO", "FILTER", "HOLD", "IGNORE", "INFO", "OK", "PREPEND")
HEADER_ACTIONS += ("REDIRECT", "REJECT", "REPLACE", "STRIP", "WARN")

# Restrictions that may come before the final reject of smtpd_relay_restrictions: the two ways a
# client is allowed to relay, and everything that can only reject or defer.
RELAY_PERMITS = ("permit_mynetworks", "permit_sasl_authenticated")

# Forwarding (the `forwards` of a mailauth_domains entry): a local part of one of the host's domains.
FORWARD_NAME = r"[a-z0-9][a-z0-9._+\-]*"
FORWARDS_MAP = "/etc/postfix/mailauth_forwards"
# A lookup table as main.cf names it: tcp:HOST:PORT, socketmap:unix:PATH:NAME or socketmap:inet:HOST:PORT:NAME
# (postsrsd 1.x and 2.x), or TYPE:/absolute/path for a file table.
FILE_TABLE = r"(?:hash|lmdb|cdb|btree|texthash|regexp|pcre|cidr):/[A-Za-z0-9_][A-Za-z0-9_./\-]*"
SOCKETMAP_UNIX = r"socketmap:unix:/?[A-Za-z0-9_][A-Za-z0-9_./\-]*:[A-Za-z0-9_]+"
SENDER_CLASSES = ("envelope_sender", "header_sender")
RECIPIENT_CLASSES = ("envelope_recipient", "header_recipient")
# Sender rewriting (SRS) of forwarded mail only: mail whose sender is not in the excluded domains and
# that goes to a remote recipient leaves through the SRS_TRANSPORT, which hands it to a loopback smtpd
# whose cleanup (SRS_CLEANUP) applies the sender_canonical_maps; everything else, mail delivered here
# included, keeps its envelope sender (README, "Forwarding and SRS").
SRS_TRANSPORT = "mailauth-srs"
SRS_CLEANUP = "mailauth-srs-cleanup"
SRS_REINJECT_HOST = "127.0.0.1"
SRS_REINJECT_PORT = 10027
SRS_REINJECT = "%s:%d" % (SRS_REINJECT_HOST, SRS_REINJECT_PORT)
SENDER_TRANSPORT_MAP = "/etc/postfix/mailauth_sender_transport"
RELAY_ENDS = ("reject_unauth_destination", "defer_unauth_destination", "reject", "defer")


def param_name(value: t.Any, field: str) -> str:
    """A main.cf parameter name, trimmed as Postfix trims it (``'mynetworks '`` is ``mynetworks``)."""
    _input.control_free(value, field)
    return _input.match(PARAM_NAME, value.strip(), field, "a Postfix parameter name (letters, digits, _)")


def param_value(value: t.Any, field: str) -> str:
    """A main.cf value: a string, number, boolean (yes/no) or list (joined with ', '); one line."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_input.string_list(value, field))
    return _input.text(value, field, allow_empty=True, scalars=True).strip()


def postfix_network(value: t.Any, field: str, allow_any: bool) -> str:
    """A mynetworks entry written the way Postfix reads it (IPv6 in brackets)."""
    net = _input.network(value, field, allow_any=allow_any)
    if net.version == 6:
        address = value.split("/")[0].strip("[]")  # as written: [::ffff:127.0.0.0]/104 stays so
        return "[%s]/%d" % (address, net.prefixlen)
    return str(net)


def _int(value: t.Any, field: str, minimum: int = 0) -> int:
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InputError("%s must be a whole number >= %d, got %r" % (field, minimum, value))
    return value


def _list(value: t.Any, field: str, check: t.Callable[[t.Any, str], t.Any], problems: Problems) -> t.List[t.Any]:
    items = problems.check(_input.string_list, value, field)
    if items is None:
        return []
    return [problems.check(check, item, "%s[%d]" % (field, index)) for index, item in enumerate(items)]


def _time(value: t.Any, field: str) -> str:
    """A Postfix time value: whole seconds, or a number and a unit (s, m, h, d, w)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _input.match(TIME, value, field, "a time (3600, 3600s, 1h)")


def _interfaces(value: t.Any, field: str) -> str:
    text = _input.text(value, field)
    if text in ("all", "loopback-only"):
        return text
    for index, item in enumerate(re.split(r"[\s,]+", text.strip())):
        _input.host_or_network(item, "%s (item %d)" % (field, index))
    return text


def _hostname(value: t.Any, field: str) -> str:
    return _input.domain(value, field, min_labels=1)


def _origin(value: t.Any, field: str) -> str:
    text = _input.text(value, field)
    if re.fullmatch(r"\$\{?(mydomain|myhostname)\}?", text):
        return text
    return _input.domain(text, field, min_labels=1)


def _relayhost(value: t.Any, field: str) -> str:
    """A smarthost: [host]:port, host:port or host (a name or, in brackets, an address); empty for none."""
    text = _input.text(value, field, allow_empty=True)
    if text:
        _input.host_port(text, field, brackets="any", form="[host]:port, host:port or host")
    return text


def _destination(value: t.Any, field: str) -> str:
    text = _input.match(DESTINATION, value, field, "a domain or $parameter text")
    return text if "$" in text else _input.domain(text, field, min_labels=1)


def endpoint(value: t.Any, field: str, what: str = "a policy service") -> str:
    """A milter or policy service endpoint: unix:PATH (no '..'), or inet:HOST:PORT with a valid host and port."""
    if isinstance(value, str) and re.fullmatch(ENDPOINT_UNIX, value):
        return value
    if not isinstance(value, str) or not value.startswith("inet:"):
        raise InputError("%s must be %s, unix:PATH or inet:HOST:PORT, got %r" % (field, what, value))
    _input.host_port(value[len("inet:") :], field, brackets="ipv6", port_required=True, form="inet:HOST:PORT")
    return value


def mailbox_transport(value: t.Any, field: str) -> str:
    """A mailbox_transport for LMTP delivery: lmtp:unix:PATH or lmtp:inet:HOST:PORT; empty for local(8)."""
    text = _input.text(value, field, allow_empty=True)
    if not text:
        return ""
    try:
        if not text.startswith("lmtp:"):
            raise InputError(text)
        endpoint(text[len("lmtp:") :], field)
    except InputError:
        raise InputError(
            "%s must be lmtp:unix:PATH (no '..') or lmtp:inet:HOST:PORT (LMTP delivery), got %r" % (field, text)
        ) from None
    return text


def header_check(value: t.Any, field: str) -> str:
    """One rule of a regexp: header_checks table (one line, a header_checks(5) action); shown only as its position."""
    text = _input.text(value, field).strip()
    found = re.fullmatch(HEADER_CHECK, text)
    if not found or found.group(1) not in HEADER_ACTIONS:
        # The rules may hold the SPF policy's secret: the message names the rule, not its text.
        raise InputError("%s must be one regexp table rule, /pattern/ ACTION [text] (header_checks(5))" % field)
    return text


def _class(value: t.Any, field: str, choices: t.Sequence[str]) -> str:
    return _input.choice(value, field, choices)


def lookup_table(value: t.Any, field: str) -> str:
    """A lookup table: tcp:HOST:PORT, socketmap:unix:PATH:NAME, socketmap:inet:HOST:PORT:NAME or TYPE:/path."""
    text = _input.text(value, field)
    if (re.fullmatch(FILE_TABLE, text) or re.fullmatch(SOCKETMAP_UNIX, text)) and ".." not in text.split("/"):
        return text
    form = "a lookup table (tcp:HOST:PORT, socketmap:unix:PATH:NAME, socketmap:inet:HOST:PORT:NAME, hash:/path, ...)"
    for prefix in ("tcp:", "socketmap:inet:"):
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            if prefix.startswith("socketmap"):
                rest, _colon, name = rest.rpartition(":")
                _input.match(r"[A-Za-z0-9_]+", name, field, form)
            _input.host_port(rest, field, brackets="ipv6", port_required=True, form=form)
            return text
    raise InputError("%s must be %s, got %r" % (field, form, text))


def forwards(entries: t.Any, field: str, problems: Problems) -> t.List[t.List[str]]:
    """Rows of the forwards table, [local@domain, "target, target"], from domain entries' ``forwards``.

    ``forwards`` of an entry maps a local part of its domain to one address or a list of addresses.
    """
    rows: t.List[t.List[str]] = []
    if not isinstance(entries, list):
        problems.add("%s must be a list of domain entries, got %r" % (field, entries))
        return rows
    for index, entry in enumerate(entries):
        where = "%s[%d]" % (field, index)
        if not isinstance(entry, dict):
            problems.add("%s must be a domain entry (a dictionary), got %r" % (where, entry))
            continue
        table = entry.get("forwards")
        if table is None:
            continue
        name = problems.check(_hostname, entry.get("name"), where + ".name")
        where = "%s (%s).forwards" % (where, name or entry.get("name"))
        if not isinstance(table, dict):
            problems.add("%s must be a dictionary (local part: address or list of addresses), got %r" % (where, table))
            continue
        for local, targets in sorted(table.items(), key=lambda item: str(item[0])):
            at = "%s[%r]" % (where, local)
            local = problems.match(local, at, FORWARD_NAME, "a local part (lower case letters, digits, . _ + -)")
            targets = [targets] if isinstance(targets, str) else targets
            checked = _list(targets, at, _input.email, problems)
            if not checked and targets is not None:
                problems.add("%s needs at least one address" % at)
            if name and local and checked and all(checked):
                rows.append(["%s@%s" % (local, name), ", ".join(dict.fromkeys(checked))])
    return rows


def sender_transport(excluded: t.Sequence[str]) -> t.List[str]:
    """The regexp: table sending forwarded mail (a sender outside ``excluded``, not <>) through the SRS transport.

    ``excluded`` holds domains and .domains (subdomains only), as the srs role's exclusions.
    """
    names = []
    for item in excluded:
        # Checked domain names: only the dots need escaping.
        names.append(".+\\." + item[1:].replace(".", "\\.") if item.startswith(".") else item.replace(".", "\\."))
    rule = "!/@(%s)$/ %s:[%s]:%d" % ("|".join(names), SRS_TRANSPORT, SRS_REINJECT_HOST, SRS_REINJECT_PORT)
    if not names:
        rule = "/./ %s:[%s]:%d" % (SRS_TRANSPORT, SRS_REINJECT_HOST, SRS_REINJECT_PORT)
    # Only senders with a domain: the null sender of a bounce (which trivial-rewrite looks up under
    # a name without @, not as "<>") leaves as it is.
    return ["if /@/", rule, "endif"]


def srs_services(myhostname: str, maps: t.Sequence[str], classes: t.Sequence[str]) -> t.List[t.Dict[str, t.Any]]:
    """The master.cf services of sender rewriting for forwarded mail: transport, loopback smtpd, cleanup."""
    host = SRS_REINJECT_HOST
    return [
        {
            "service": SRS_TRANSPORT,
            "type": "unix",
            "command": "smtp",
            "args": ["-o syslog_name=postfix/srs-forward", "-o smtp_tls_security_level=none"],
        },
        {
            "service": SRS_REINJECT,
            "type": "inet",
            "private": "n",
            "command": "smtpd",
            "args": [
                "-o syslog_name=postfix/srs-reinject",
                "-o cleanup_service_name=" + SRS_CLEANUP,
                # Not this host's name: the smtp client would take the greeting for a mail loop.
                "-o myhostname=srs-reinject." + myhostname,
                "-o mynetworks=%s/32" % host,
                "-o smtpd_relay_restrictions=permit_mynetworks,reject",
                "-o smtpd_client_restrictions=",
                "-o smtpd_helo_restrictions=",
                "-o smtpd_sender_restrictions=",
                "-o smtpd_recipient_restrictions=",
                "-o smtpd_tls_security_level=none",
                "-o smtpd_sasl_auth_enable=no",
                "-o smtpd_milters=",
                "-o smtpd_milter_maps=",
                # The milters and header checks saw the mail when it arrived; address mappings stay on.
                "-o receive_override_options=no_header_body_checks,no_milters",
            ],
        },
        {
            "service": SRS_CLEANUP,
            "type": "unix",
            "private": "n",
            "maxproc": "0",
            "command": "cleanup",
            "args": [
                "-o syslog_name=postfix/srs-cleanup",
                "-o sender_canonical_maps=" + ",".join(maps),
                "-o sender_canonical_classes=" + ",".join(classes),
            ],
        },
    ]


def _restriction(value: t.Any, field: str) -> str:
    """One restriction; a check_policy_service endpoint is checked as such."""
    text = _input.match(RESTRICTION, value, field, "a restriction (name [type:table])")
    name, _space, argument = text.partition(" ")
    if name == "check_policy_service":
        endpoint(argument, field)
    return text


def _restrictions(value: t.Any, field: str, problems: Problems) -> t.List[str]:
    return [r for r in _list(value, field, _restriction, problems) if r]


def _milters(value: t.Any, field: str, problems: Problems) -> t.List[str]:
    return [m for m in _list(value, field, lambda v, f: endpoint(v, f, "a milter"), problems) if m]


def milter_actions(value: t.Any, field: str, milters: t.Sequence[str], problems: Problems) -> t.Dict[str, str]:
    """postfix_milter_actions: milter endpoint -> what Postfix does when that milter does not answer.

    Every endpoint must be one of the configured milters, every action one of MILTER_ACTIONS.
    """
    if not isinstance(value, dict):
        problems.add("%s must be a dictionary (milter endpoint: action), got %r" % (field, value))
        return {}
    out: t.Dict[str, str] = {}
    for name, action in value.items():
        where = "%s[%r]" % (field, name)
        if name not in milters:
            problems.add(
                "%s: %r is not one of the configured milters (%s)" % (field, name, ", ".join(milters) or "none")
            )
            continue
        checked = problems.check(_input.choice, action, where, MILTER_ACTIONS)
        if checked:
            out[name] = checked
    return out


def milter_entry(endpoint_: str, actions: t.Mapping[str, str]) -> str:
    """A milter as main.cf, master.cf and the milter map name it: with its own default_action (Postfix >= 3.0).

    Written without whitespace, so that it is one word in a master.cf -o override too.
    """
    action = actions.get(endpoint_)
    return "{%s,default_action=%s}" % (endpoint_, action) if action else endpoint_


def _service(raw: t.Any, field: str, chroot_default: str, problems: Problems) -> t.Optional[t.Dict[str, t.Any]]:
    """One master.cf service, every field checked; None if a field is wrong."""
    if not isinstance(raw, dict):
        problems.add("%s must be a dictionary (service, type, command, ...), got %r" % (field, raw))
        return None
    before = len(problems.items)
    missing = [key for key in ("service", "type", "command") if raw.get(key) in (None, "")]
    if missing:
        problems.add("%s lacks %s" % (field, ", ".join(missing)))
        return None
    unknown = sorted(set(raw) - set(SERVICE_KEYS))
    if unknown:
        problems.add("%s has unknown keys %s" % (field, ", ".join(map(str, unknown))))
    out = {
        "service": problems.match(raw["service"], field + ".service", SERVICE_NAME, "a service name"),
        "type": problems.check(_input.choice, raw["type"], field + ".type", SERVICE_TYPES),
        "command": problems.match(raw["command"], field + ".command", COMMAND, "a Postfix daemon name"),
    }
    for key, pattern, what in (
        ("private", FLAG, "y, n or -"),
        ("unpriv", FLAG, "y, n or -"),
        ("chroot", FLAG, "y, n or -"),
        ("wakeup", WAKEUP, "- or seconds (optionally with ?)"),
        ("maxproc", MAXPROC, "- or a number"),
    ):
        value = raw.get(key)
        if value is None:
            value = chroot_default if key == "chroot" else "-"
        out[key] = problems.match(str(value), "%s.%s" % (field, key), pattern, what)
    args = problems.check(_input.string_list, raw.get("args") or [], field + ".args")
    out["args"] = [
        problems.match(arg.strip(), "%s.args[%d]" % (field, index), ARG, "-o name=value or one word")
        for index, arg in enumerate(args or [])
    ]
    return out if len(problems.items) == before else None


def main_cf(o: t.Mapping[str, t.Any]) -> t.List[t.Tuple[str, t.List[t.Tuple[str, t.Any]]]]:
    """main.cf as sections of (parameter, value); a value None leaves the parameter out.

    This table is the one list of the parameters the role manages: main.cf.j2 renders it, and
    postfix_main_cf_extra may set none of them (see :data:`MANAGED`).
    """
    milters = bool(o.get("milters") or o.get("signing_milters"))

    def entries(name: str) -> str:
        return ", ".join(milter_entry(m, o.get("milter_actions") or {}) for m in o.get(name) or [])

    sasl = o.get("submission_enabled")
    policyd_spf = any(s.get("service") == POLICYD_SPF for s in o.get("master_services") or [])
    return [
        (
            "",
            [
                ("compatibility_level", "3.6"),
                ("biff", "no"),
                ("append_dot_mydomain", "no"),
                ("readme_directory", "no"),
            ],
        ),
        (
            "",
            [
                ("myhostname", o.get("myhostname")),
                ("mydomain", o.get("mydomain") or None),
                ("myorigin", o.get("myorigin")),
                ("mydestination", ", ".join(o.get("mydestination") or [])),
                ("mynetworks", " ".join(o.get("mynetworks") or [])),
                ("inet_interfaces", o.get("inet_interfaces")),
                ("inet_protocols", o.get("inet_protocols")),
                ("relayhost", o.get("relayhost") or ""),
            ],
        ),
        (
            "",
            [
                ("alias_maps", "hash:/etc/aliases"),
                ("alias_database", "hash:/etc/aliases"),
                ("mailbox_size_limit", "0"),
                ("message_size_limit", o.get("message_size_limit")),
                ("recipient_delimiter", "+"),
                # Local delivery through Dovecot's LMTP (the dovecot role's dovecot_postfix_mailbox_transport).
                ("mailbox_transport", o.get("mailbox_transport") or None),
                ("maillog_file", o.get("maillog_file") or None),
                # Forwarding (mailauth_domains forwards) and SRS: only forwarded mail leaves with a
                # rewritten sender (README, "Forwarding and SRS"); bounces to SRS addresses are reversed.
                ("virtual_alias_maps", "hash:" + FORWARDS_MAP if o.get("forwards") else None),
                ("recipient_canonical_maps", ", ".join(o.get("recipient_canonical_maps") or []) or None),
                (
                    "recipient_canonical_classes",
                    ", ".join(o.get("recipient_canonical_classes") or [])
                    if o.get("recipient_canonical_maps")
                    else None,
                ),
                (
                    "sender_dependent_default_transport_maps",
                    "regexp:" + SENDER_TRANSPORT_MAP if o.get("sender_canonical_maps") else None,
                ),
            ],
        ),
        (
            "Relay policy: never an open relay (checked on this file and master.cf before they go live).",
            [
                ("smtpd_relay_restrictions", ", ".join(o.get("smtpd_relay_restrictions") or [])),
                ("smtpd_recipient_restrictions", ", ".join(o.get("smtpd_recipient_restrictions") or []) or None),
                ("smtpd_helo_required", "yes"),
                ("disable_vrfy_command", "yes"),
            ],
        ),
        (
            "Policy services (check_policy_service): how long spawn lets the SPF policy daemon run.",
            [
                (POLICYD_SPF + "_time_limit", o.get("policyd_spf_time_limit") if policyd_spf else None),
            ],
        ),
        (
            "Header checks in cleanup: the SPF policy's Authentication-Results renamed, forged ones removed (README).",
            [
                ("header_checks", "regexp:" + HEADER_CHECKS_MAP if o.get("header_checks") else None),
            ],
        ),
        (
            "TLS",
            [
                ("smtpd_tls_cert_file", o.get("smtpd_tls_cert_file")),
                ("smtpd_tls_key_file", o.get("smtpd_tls_key_file")),
                ("smtpd_tls_security_level", o.get("smtpd_tls_security_level")),
                ("smtpd_tls_session_cache_database", "btree:${data_directory}/smtpd_scache"),
                ("smtp_tls_security_level", o.get("smtp_tls_security_level")),
                ("smtp_tls_CApath", "/etc/ssl/certs"),
                ("smtp_tls_session_cache_database", "btree:${data_directory}/smtp_scache"),
            ],
        ),
        (
            "Mail leaves as the milters signed it: no line breaking, no 8BITMIME to 7BIT conversion (README).",
            [
                ("smtp_line_length_limit", o.get("smtp_line_length_limit")),
                # The LMTP client (delivery to Dovecot) breaks lines the same way: the stored copy kept its signatures.
                ("lmtp_line_length_limit", o.get("smtp_line_length_limit")),
                ("disable_mime_output_conversion", "yes"),
            ],
        ),
        (
            "Milters; the signing milters (postfix_signing_milters) only for mynetworks, submission and sendmail.",
            [
                ("smtpd_milters", entries("milters") if milters else None),
                (
                    "smtpd_milter_maps",
                    "cidr:" + MILTER_MAP if o.get("signing_milters") or o.get("inbound_milters") else None,
                ),
                ("non_smtpd_milters", entries("non_smtpd_milters") if milters else None),
                ("milter_default_action", o.get("milter_default_action") if milters else None),
                ("milter_protocol", o.get("milter_protocol") if milters else None),
            ],
        ),
        (
            "SASL through Dovecot; enabled per service in master.cf (submission only).",
            [
                ("smtpd_sasl_type", "dovecot" if sasl else None),
                ("smtpd_sasl_path", "private/auth" if sasl else None),
                ("smtpd_sasl_auth_enable", "no" if sasl else None),
            ],
        ),
    ]


MILTER_MAP = "/etc/postfix/milters_internal.cidr"
HEADER_CHECKS_MAP = "/etc/postfix/mailauth_header_checks"
# Managed but never written to main.cf: there they would rewrite every sender, mail delivered here
# included; the SRS cleanup service in master.cf gets them (:func:`srs_services`).
NOT_IN_MAIN_CF = frozenset(("sender_canonical_maps", "sender_canonical_classes"))
MANAGED = frozenset(name for _comment, params in main_cf({}) for name, _value in params) | NOT_IN_MAIN_CF


def build(v: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """Validate the postfix role's variables (names without the ``postfix_`` prefix).

    Returns what the templates render: ``main_cf`` (sections of parameters), ``master_services``,
    ``aliases`` and ``milter_map``. Raises InputError listing every problem, each naming its
    ``postfix_`` variable.
    """
    p = Problems()

    def f(name: str) -> str:
        return "postfix_" + name

    allow_open = boolean(v.get("allow_open_networks", False), strict=False)
    out: t.Dict[str, t.Any] = {
        "myhostname": p.check(_hostname, v["myhostname"], f("myhostname")),
        # Empty: not written (Postfix derives it from myhostname).
        "mydomain": p.check(_hostname, v["mydomain"], f("mydomain")) if v["mydomain"] else "",
        "myorigin": p.check(_origin, v["myorigin"], f("myorigin")),
        "relayhost": p.check(_relayhost, v["relayhost"], f("relayhost")),
        "inet_interfaces": p.check(_interfaces, v["inet_interfaces"], f("inet_interfaces")),
        "inet_protocols": p.check(_input.choice, v["inet_protocols"], f("inet_protocols"), INET_PROTOCOLS),
        "message_size_limit": p.check(_int, v["message_size_limit"], f("message_size_limit")),
        "smtp_line_length_limit": p.check(_int, v["smtp_line_length_limit"], f("smtp_line_length_limit")),
        "smtpd_tls_security_level": p.check(
            _input.choice, v["smtpd_tls_security_level"], f("smtpd_tls_security_level"), TLS_LEVELS_SMTPD
        ),
        "smtp_tls_security_level": p.check(
            _input.choice, v["smtp_tls_security_level"], f("smtp_tls_security_level"), TLS_LEVELS_SMTP
        ),
        "milter_default_action": p.check(
            _input.choice, v["milter_default_action"], f("milter_default_action"), MILTER_ACTIONS
        ),
        "milter_protocol": p.check(_int, v["milter_protocol"], f("milter_protocol"), 2),
        "policyd_spf_time_limit": p.check(_time, v["policyd_spf_time_limit"], f("policyd_spf_time_limit")),
        "mailbox_transport": p.check(mailbox_transport, v.get("mailbox_transport", ""), f("mailbox_transport")),
    }
    for name in ("smtpd_tls_cert_file", "smtpd_tls_key_file"):
        out[name] = p.check(_input.absolute_path, v[name], f(name))
    out["maillog_file"] = v["maillog_file"] and p.check(_input.absolute_path, v["maillog_file"], f("maillog_file"))

    domains = [d for d in _list(v["domains"], f("domains"), _hostname, p) if d]
    destinations = [d for d in _list(v["mydestination"], f("mydestination"), _destination, p) if d]
    out["mydestination"] = list(dict.fromkeys(destinations + domains))
    out["mynetworks"] = [
        n for n in _list(v["mynetworks"], f("mynetworks"), lambda x, y: postfix_network(x, y, allow_open), p) if n
    ]
    out["smtpd_relay_restrictions"] = _restrictions(v["smtpd_relay_restrictions"], f("smtpd_relay_restrictions"), p)
    for problem in restriction_problems(
        _tokens(" ".join(out["smtpd_relay_restrictions"])), f("smtpd_relay_restrictions")
    ):
        p.add(problem)
    out["smtpd_recipient_restrictions"] = _restrictions(
        v["smtpd_recipient_restrictions"], f("smtpd_recipient_restrictions"), p
    )
    out["milters"] = _milters(v["milters"], f("milters"), p)
    out["header_checks"] = [r for r in _list(v.get("header_checks", []), f("header_checks"), header_check, p) if r]
    out["header_checks_path"] = HEADER_CHECKS_MAP
    out["signing_milters"] = _milters(v["signing_milters"], f("signing_milters"), p)
    # Milters only mail from outside gets (OpenDKIM verifying only, where rspamd signs): a subset of milters.
    out["inbound_milters"] = _milters(v.get("inbound_milters", []), f("inbound_milters"), p)
    for m in out["inbound_milters"]:
        if m and m not in out["milters"]:
            p.add(
                "%s: %r is not one of postfix_milters (%s)"
                % (f("inbound_milters"), m, ", ".join(out["milters"]) or "none")
            )
    out["non_smtpd_milters"] = _milters(v["non_smtpd_milters"], f("non_smtpd_milters"), p)
    configured = list(dict.fromkeys(out["milters"] + out["signing_milters"] + out["non_smtpd_milters"]))
    out["milter_actions"] = milter_actions(v.get("milter_actions", {}), f("milter_actions"), configured, p)

    out["forwards"] = forwards(v.get("forward_domains", []), f("forward_domains"), p)
    out["forwards_path"] = FORWARDS_MAP
    for kind, classes in (("sender", SENDER_CLASSES), ("recipient", RECIPIENT_CLASSES)):
        name = kind + "_canonical_maps"
        out[name] = [m for m in _list(v.get(name, []), f(name), lookup_table, p) if m]
        name = kind + "_canonical_classes"
        raw = v.get(name, list(classes[:1]))
        out[name] = [c for c in _list(raw, f(name), functools.partial(_class, choices=classes), p) if c]
    out["sender_canonical_exclude_domains"] = [
        d
        for d in _list(
            v.get("sender_canonical_exclude_domains", []),
            f("sender_canonical_exclude_domains"),
            lambda x, y: "." + _hostname(x[1:], y) if isinstance(x, str) and x.startswith(".") else _hostname(x, y),
            p,
        )
        if d
    ]
    extra_destinations = _list(v.get("mydestination_extra", []), f("mydestination_extra"), _hostname, p)
    out["mydestination"] = list(dict.fromkeys(out["mydestination"] + [d for d in extra_destinations if d]))
    out["sender_transport"] = sender_transport(out["sender_canonical_exclude_domains"])
    out["sender_transport_path"] = SENDER_TRANSPORT_MAP

    aliases = v["aliases"]
    out["aliases"] = []
    if not isinstance(aliases, dict):
        p.add("postfix_aliases must be a dictionary (name: target or list of targets), got %r" % (aliases,))
    else:
        for name, targets in sorted(aliases.items(), key=lambda item: str(item[0])):
            field = "postfix_aliases[%r]" % (name,)
            name = p.match(name, field, ALIAS_NAME, "a local part (lower case)")
            targets = [targets] if isinstance(targets, str) else targets
            checked = _list(
                targets, field, lambda x, y: _input.match(ALIAS_TARGET, x, y, "a local user or an address"), p
            )
            if name and checked and all(checked):
                out["aliases"].append([name, ", ".join(checked)])

    out["main_cf_extra"] = extras(
        v["main_cf_extra"],
        f("main_cf_extra"),
        p,
        param_name,
        param_value,
        MANAGED,
        how="; use the role variable for it instead",
    )

    chroot = "y" if boolean(v["chroot"], strict=False) else "n"
    services = list(v["master_services_base"])
    if boolean(v["submission_enabled"], strict=False):
        submission = dict(v["master_submission"])
        if (out["signing_milters"] or out["inbound_milters"]) and all(out["milters"] + out["signing_milters"]):
            every = ",".join(milter_entry(m, out["milter_actions"]) for m in trusted_milters(out))
            submission["args"] = [*submission.get("args", []), "-o smtpd_milters=" + every]
        services.append(submission)
    if out["sender_canonical_maps"] and out["myhostname"]:
        services += srs_services(out["myhostname"], out["sender_canonical_maps"], out["sender_canonical_classes"])
    extra_services = v["master_services"]
    if not isinstance(extra_services, list):
        p.add("postfix_master_services must be a list of services, got %r" % (extra_services,))
        extra_services = []
    out["master_services"] = []
    seen_services: t.Dict[t.Tuple[str, str], str] = {}
    for index, raw in enumerate(services + extra_services):
        field = "postfix_master_services[%d]" % (index - len(services)) if index >= len(services) else "master.cf"
        service = _service(raw, field, chroot, p)
        if service is None:
            continue
        key = (service["service"], service["type"])
        if key in seen_services:
            p.add("%s defines the %s %s service a second time" % (field, key[0], key[1]))
        seen_services[key] = field
        out["master_services"].append(service)
    p.raise_any()
    out["submission_enabled"] = boolean(v["submission_enabled"], strict=False)
    every_milter = out["milters"] + [m for m in out["signing_milters"] if m not in out["milters"]]
    out["non_smtpd_milters"] = list(
        dict.fromkeys([m for m in out["non_smtpd_milters"] if m not in out["inbound_milters"]] + out["signing_milters"])
    )
    trusted_entries = [milter_entry(m, out["milter_actions"]) for m in trusted_milters(out)]
    out["milter_map"] = (
        milter_map(out["mynetworks"], trusted_entries or ["DISABLE"])
        if out["signing_milters"] or out["inbound_milters"]
        else []
    )
    out["all_milters"] = every_milter
    sections = [{"comment": c, "params": [[n, val] for n, val in ps if val is not None]} for c, ps in main_cf(out)]
    if out["main_cf_extra"]:
        sections.append({"comment": "Extra parameters (postfix_main_cf_extra)", "params": out["main_cf_extra"]})
    out["main_cf"] = sections
    return out


# -- the relay invariant, on the rendered files -----------------------------------------------


def parse_main_cf(text: str) -> t.Dict[str, str]:
    """Parameters as Postfix reads main.cf: continuation lines start with whitespace, the last definition wins."""
    params: t.Dict[str, str] = {}
    logical: t.List[str] = []
    for line in [*text.splitlines(), ""]:
        if line[:1].isspace() and logical and line.strip() and not line.lstrip().startswith("#"):
            logical[-1] += " " + line.strip()
            continue
        if line.strip() and not line.lstrip().startswith("#"):
            logical.append(line.strip())
    for entry in logical:
        name, eq, value = entry.partition("=")
        if eq:
            params[name.strip()] = value.strip()
    return params


def parse_master_cf(text: str) -> t.List[t.List[str]]:
    """Services as master reads master.cf: a line starting with whitespace continues the previous one."""
    entries: t.List[t.List[str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[:1].isspace() and entries:
            entries[-1].extend(line.split())
        else:
            entries.append(line.split())
    return entries


def _overrides(args: t.Sequence[str], where: str, problems: t.List[str]) -> t.Dict[str, str]:
    out: t.Dict[str, str] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "-o" or (arg.startswith("-o") and len(arg) > 2):
            value = arg[2:] if len(arg) > 2 else (args[index + 1] if index + 1 < len(args) else "")
            index += 1 if len(arg) > 2 else 2
            if value.startswith("{"):
                problems.append("%s: -o { ... } overrides cannot be checked; write name=value" % where)
                continue
            name, _eq, val = value.partition("=")
            out[name] = val
        else:
            index += 1
    return out


def _expand(value: str, params: t.Mapping[str, str], depth: int = 0) -> str:
    if depth > 10:
        raise InputError("parameter references nest too deeply in %r" % value)

    def ref(found: t.Match[str]) -> str:
        name = found.group(1) or found.group(2)
        if name not in params:
            raise InputError("$%s is not defined" % name)
        return _expand(params[name], params, depth + 1)

    return re.sub(r"\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)", ref, value)


def _tokens(value: str) -> t.List[str]:
    return [token for token in re.split(r"[\s,]+", value) if token]


def restriction_problems(relay: t.Sequence[str], field: str) -> t.List[str]:
    """Why a smtpd_relay_restrictions list (tokens) could let a client relay other than by the two permits."""
    problems = []
    if not relay or relay[-1] not in RELAY_ENDS:
        problems.append("%s must end in %s, got %r" % (field, " or ".join(RELAY_ENDS), " ".join(relay)))
    for token in relay[:-1]:
        if token in RELAY_PERMITS or token in RELAY_ENDS or token.startswith(("reject_", "defer_")):
            continue
        if token == "warn_if_reject":
            continue
        problems.append(
            "%s holds %r; only %s may let a client relay, and nothing else may come before the final reject"
            % (field, token, " and ".join(RELAY_PERMITS))
        )
    return problems


def relay_problems(main_cf: str, master_cf: str, allow_open_networks: bool = False) -> t.List[str]:
    """Every smtpd service relays only for permit_mynetworks (checked networks) and permit_sasl_authenticated."""
    main = parse_main_cf(main_cf)
    problems: t.List[str] = []
    for entry in parse_master_cf(master_cf):
        if len(entry) < 8 or entry[7] != "smtpd":
            continue
        where = "master.cf service %s (%s)" % (entry[0], entry[1])
        params = dict(main)
        params.update(_overrides(entry[8:], where, problems))
        try:
            relay = _tokens(_expand(params.get("smtpd_relay_restrictions", ""), params))
            networks = _tokens(_expand(params.get("mynetworks", ""), params))
        except InputError as err:
            problems.append("%s: %s" % (where, err))
            continue
        problems += restriction_problems(relay, where + ": smtpd_relay_restrictions")
        if "permit_mynetworks" in relay:
            for token in networks:
                try:
                    postfix_network(token.lstrip("!"), "%s: mynetworks" % where, allow_open_networks)
                except InputError as err:
                    problems.append(str(err))
    return problems


def trusted_milters(o: t.Mapping[str, t.Any]) -> t.List[str]:
    """The milters of trusted clients (mynetworks, submission): all but the inbound ones, then the signing ones."""
    inbound = o.get("inbound_milters") or []
    return list(dict.fromkeys([m for m in o["milters"] if m not in inbound] + list(o.get("signing_milters") or [])))


def milter_map(networks: t.Sequence[str], milters: t.Sequence[str]) -> t.List[t.List[str]]:
    """Rows of a cidr: table giving milters to clients in networks (IPv6 without brackets)."""
    rows = []
    for net in networks:
        parsed = ipaddress.ip_network(net.replace("[", "").replace("]", ""))
        rows.append([str(parsed.network_address) + "/" + str(parsed.prefixlen), ", ".join(milters)])
    return rows
