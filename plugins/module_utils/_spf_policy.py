# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Inbound SPF: the spf_policy role's variables validated into the policy service's JSON and Postfix's wiring.

:func:`build` checks every variable with :mod:`_input` (all problems in one message, each naming
its ``spf_policy_`` variable) and returns the normalised configuration the daemon
(``roles/spf_policy/files/spf_policy.py``) reads: whitelist ranges and netmasks become CIDR lists,
the mode becomes an action table per SPF result, the local rules and the guessed record are
parsed with :mod:`_spf`. :func:`action_table` is the one definition of the six modes.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _input, _spf
from ansible_collections.mailauth.core.plugins.module_utils._names import RecordError
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems

RESULTS = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
# The results each mode rejects (besides permerror and temperror, which have their own settings).
MODE_REJECTS = {
    "tag": (),
    "defer_temperror": (),
    "reject_fail": ("fail",),
    "reject_softfail": ("fail", "softfail"),
    "reject_neutral": ("fail", "softfail", "neutral"),
    "reject_not_pass": ("fail", "softfail", "neutral", "none"),
}
MODES = tuple(MODE_REJECTS)
HELO_MODES = ("off", *MODES)
ERROR_ACTIONS = ("default", "tag", "defer", "reject")
HEADERS = {
    "received_spf": ["received_spf"],
    "authentication_results": ["authentication_results"],
    "both": ["received_spf", "authentication_results"],
}
# SMTP reply text: printable ASCII (it goes into an SMTP reply and the log).
REPLY_TEXT = r"[\x20-\x7e]{1,200}"
MAX_DNS_TIMEOUT = 60
# The policy prepends its Authentication-Results under this name followed by the host's secret
# (SECRET, kept in spf_policy_secret_path); Postfix's header_checks rename it (see header_checks).
AR_HEADER_PREFIX = "X-Mailauth-SPF-"
SECRET = r"[a-z0-9]{32}"
SECRET_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def action_table(mode: str, permerror: str = "default", temperror: str = "default") -> t.Dict[str, str]:
    """What the service does with each SPF result in a mode: accept (tag with headers), defer or reject.

    permerror and temperror ``default`` follow the mode: permerror is rejected only by
    ``reject_not_pass``; temperror is tagged by ``tag`` and deferred by every other mode.
    """
    table = {r: ("reject" if r in MODE_REJECTS[mode] else "accept") for r in RESULTS}
    table["permerror"] = ("reject" if mode == "reject_not_pass" else "accept") if permerror == "default" else permerror
    table["temperror"] = ("accept" if mode == "tag" else "defer") if temperror == "default" else temperror
    return {r: ("accept" if a == "tag" else a) for r, a in table.items()}


def networks(value: t.Any, field: str) -> t.List[str]:
    """One address list entry as CIDR networks: an IP, a CIDR, address/netmask or a range ``first-last``.

    Host bits set in a network are an error (it would not mean what it says); a range is
    summarised into the fewest CIDR networks (``ipaddress.summarize_address_range``).
    """
    text = _input.text(value, field, scalars=True).strip()
    if "-" in text:
        first, _sep, last = (part.strip() for part in text.partition("-"))
        try:
            low, high = ipaddress.ip_address(first), ipaddress.ip_address(last)
        except ValueError as err:
            raise _input.InputError("%s: %r is not a range first-last of addresses: %s" % (field, text, err)) from None
        if low.version != high.version:
            raise _input.InputError("%s: the range %r mixes IPv4 and IPv6" % (field, text))
        if low > high:
            raise _input.InputError("%s: the range %r ends before it starts" % (field, text))
        nets = list(ipaddress.summarize_address_range(low, high))
        if any(n.prefixlen == 0 for n in nets):
            raise _input.InputError("%s: %r matches every address" % (field, text))
        return [n.with_prefixlen for n in nets]
    return [_input.network(text, field).with_prefixlen]


def network_list(value: t.Any, field: str, p: Problems) -> t.List[str]:
    """Every entry of a list of addresses, networks and ranges, as CIDR networks (duplicates removed)."""
    items = p.check(_input.string_list, value, field) or []
    out: t.List[str] = []
    for index, item in enumerate(items):
        for net in p.check(networks, item, "%s[%d]" % (field, index)) or []:
            if net not in out:
                out.append(net)
    return out


def domain_list(value: t.Any, field: str, p: Problems) -> t.List[str]:
    """A list of domain names, lower case, without the trailing dot."""
    items = p.check(_input.string_list, value, field) or []
    return [d for d in (p.check(_input.domain, x, "%s[%d]" % (field, i), 1) for i, x in enumerate(items)) if d]


def local_rules(value: t.Any, field: str, p: Problems) -> str:
    """The local mechanisms as one string of SPF terms; no ``all`` and no modifiers."""
    items = p.check(_input.string_list, value, field) or []
    out = []
    for index, item in enumerate(items):
        where = "%s[%d]" % (field, index)
        for raw in item.split():
            try:
                term = _spf.parse_spf_term(raw)
            except RecordError as err:
                p.add("%s: %s" % (where, err))
                continue
            if term.kind != "mechanism" or term.name == "all":
                p.add("%s: %r is not allowed; local rules are mechanisms other than all" % (where, raw))
            else:
                out.append(raw)
    return " ".join(out)


def guess_record(value: t.Any, field: str) -> str:
    """The guessed record: a complete SPF value (v=spf1 ...), without parentheses (it goes into a header comment)."""
    text = _input.text(value, field).strip()
    if "(" in text or ")" in text:
        raise _input.InputError("%s must not contain parentheses, got %r" % (field, text))
    try:
        _spf.parse_spf(text)
    except RecordError as err:
        raise _input.InputError("%s: %s" % (field, err)) from None
    return " ".join(text.split())


def _int(value: t.Any, field: str, low: int, high: int) -> int:
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _input.InputError("%s must be a whole number from %d to %d, got %r" % (field, low, high, value))
    return value


def _reply(v: t.Mapping[str, t.Any], kind: str, classes: str, p: Problems) -> t.Dict[str, t.Any]:
    """code, status and text of the reject or defer reply; the status class must be the code's."""
    f = "spf_policy_%s_" % kind
    code = p.check(_input.smtp_reply_code, v[kind + "_code"], f + "code", classes)
    status = p.check(_input.enhanced_status_code, v[kind + "_status"], f + "status", classes)
    text = p.match(v[kind + "_text"], f + "text", REPLY_TEXT, "1 to 200 printable ASCII characters")
    if code is not None and status is not None and str(code)[0] != status[0]:
        p.add("%sstatus %s does not match %scode %d (same class: %s.x.x)" % (f, status, f, code, str(code)[0]))
    return {"code": code, "status": status, "text": text.strip() if text else text}


def forged_ar_pattern(authserv_id: str, posix: bool = True) -> str:
    """The regular expression of an Authentication-Results field that claims ``authserv_id``.

    As the daemons read it (RFC 8601, compared case-insensitively; the table is case-insensitive):
    the header name, optional whitespace and the colon (RFC 5322 4.5's obsolete syntax, which
    Postfix takes as a header and its milter client passes on under the bare name), then
    whitespace, comments (not nested) and a quote in any order, then the id, then anything that
    cannot continue a name (``;``, whitespace, ``/`` version, a comment, a quote or the end).
    ``rx.example.test.evil`` and ``rx.example.test-2`` are foreign and kept. ``posix`` gives
    Postfix's regexp: (POSIX ERE) syntax, else Python's (the same language, for the tests);
    each alternative starts with a different character, so matching is linear.
    """
    space = "[[:space:]]" if posix else r"\s"
    escaped = "".join("\\" + c if c == "." else c for c in authserv_id)
    return '^Authentication-Results%s*:(%s|\\([^()]*\\)|")*%s([^-.a-z0-9_]|$)' % (space, space, escaped)


def header_checks(authserv_id: str, secret: str, renamed: bool, received_spf: bool = True) -> t.List[str]:
    """Postfix header_checks rules (regexp: table) for this host's Authentication-Results.

    The policy's field, prepended under ``AR_HEADER_PREFIX + secret`` (``renamed``), becomes
    ``Authentication-Results`` (REPLACE output is not checked again); every other field that
    claims this host's authserv-id, which only a client can have sent, is removed. Milters read
    the message as cleanup wrote it, so OpenDKIM and OpenDMARC never see a forged one.
    Without the policy's own Received-SPF (``received_spf`` false) every Received-SPF field is
    the client's, and OpenDMARC 1.4.2 would take the first one as the SPF result: all are removed.
    """
    rules = []
    if renamed:
        rules.append("/^%s%s:(.*)/ REPLACE Authentication-Results:$1" % (AR_HEADER_PREFIX, secret))
    rules.append("/%s/ IGNORE" % forged_ar_pattern(authserv_id))
    if not received_spf:
        rules.append("/^Received-SPF[[:space:]]*:/ IGNORE")
    return rules


def secret_wiring(settings: t.Mapping[str, t.Any], secret: t.Any, secret_path: str) -> t.Dict[str, t.Any]:
    """The header_checks rules for the validated settings and the host's secret (never shown in an error)."""
    if not isinstance(secret, str) or not re.fullmatch(SECRET, secret):
        raise _input.InputError(
            "%s does not hold 32 characters a-z and 0-9 (remove it: the role writes a new one)" % secret_path
        )
    config = settings["config"]
    renamed = "authentication_results" in config["headers"]
    received = "received_spf" in config["headers"]
    return {"postfix_header_checks": header_checks(config["authserv_id"], secret, renamed, received)}


def build(v: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """Validate the spf_policy role's variables (names without ``spf_policy_``).

    Returns ``config`` (the daemon's JSON), ``socket_path`` (where systemd listens for it),
    ``postfix_services`` (master.cf entries in the postfix role's format: none, the service runs
    under systemd) and ``postfix_restrictions`` (smtpd_recipient_restrictions entries).
    """
    p = Problems()

    def f(name: str) -> str:
        return "spf_policy_" + name

    mode = p.check(_input.choice, v["mode"], f("mode"), MODES)
    helo_mode = p.check(_input.choice, v["helo_mode"], f("helo_mode"), HELO_MODES)
    permerror = p.check(_input.choice, v["permerror"], f("permerror"), ERROR_ACTIONS)
    temperror = p.check(_input.choice, v["temperror"], f("temperror"), ERROR_ACTIONS)
    header_choice = p.check(_input.choice, v["headers"], f("headers"), tuple(HEADERS))
    authserv = p.check(_input.authserv_id, v["authserv_id"], f("authserv_id"))
    reject = _reply(v, "reject", "45", p)
    defer = _reply(v, "defer", "4", p)
    nameservers = []
    for index, ns in enumerate(p.check(_input.string_list, v["nameservers"], f("nameservers")) or []):
        net = p.check(_input.network, ns, "%s[%d]" % (f("nameservers"), index))
        if net is not None and net.num_addresses != 1:
            p.add("%s[%d] must be an address, not a network" % (f("nameservers"), index))
        elif net is not None:
            nameservers.append(str(net.network_address))
    dns_port = p.check(_int, v["dns_port"], f("dns_port"), 1, 65535)
    dns_timeout = p.check(_int, v["dns_timeout"], f("dns_timeout"), 1, MAX_DNS_TIMEOUT)
    guess_enabled = v["guess_enabled"]
    if not isinstance(guess_enabled, bool):
        p.add("%s must be true or false, got %r" % (f("guess_enabled"), guess_enabled))
    guess = p.check(guess_record, v["guess"], f("guess"))
    service = p.match(
        v["service_name"], f("service_name"), r"[a-z][a-z0-9_]{0,30}", "a socket name under private/ (a-z, 0-9, _)"
    )
    user = p.match(v["user"], f("user"), r"[a-z_][a-z0-9_-]{0,30}", "a system user name")
    if user in ("root", "postfix"):
        p.add("%s must not be root or postfix (the service needs no privileges), got %r" % (f("user"), user))
    queue = p.check(_input.absolute_path, v["postfix_queue_directory"], f("postfix_queue_directory"))
    p.check(_input.absolute_path, v["daemon_path"], f("daemon_path"))
    p.check(_input.absolute_path, v["config_path"], f("config_path"))
    secret_path = p.check(_input.absolute_path, v["secret_path"], f("secret_path"))
    config = {
        "authserv_id": authserv,
        "headers": HEADERS.get(header_choice or "", []),
        "helo_check": helo_mode not in (None, "off"),
        "whitelist": network_list(v["whitelist"], f("whitelist"), p),
        "skip_networks": network_list(v["skip_networks"], f("skip_networks"), p),
        "helo_whitelist": domain_list(v["helo_whitelist"], f("helo_whitelist"), p),
        "sender_whitelist": domain_list(v["sender_whitelist"], f("sender_whitelist"), p),
        "local_rules": local_rules(v["local_rules"], f("local_rules"), p),
        "reject": reject,
        "defer": defer,
        "nameservers": nameservers,
        "dns_port": dns_port,
        "dns_timeout": dns_timeout,
        # The daemon reads the secret of its Authentication-Results header name from this file.
        "ar_header_prefix": AR_HEADER_PREFIX,
        "secret_path": secret_path,
    }
    p.raise_any()
    config["guess"] = guess if guess_enabled else None
    config["actions"] = {
        "mailfrom": action_table(mode, permerror, temperror),
        "helo": action_table(helo_mode if helo_mode != "off" else "tag", permerror, temperror),
    }
    restriction = "check_policy_service unix:private/%s" % service
    return {
        "config": config,
        "mode": mode,
        "helo_mode": helo_mode,
        # The socket systemd listens on for the service (mailauth-spf.socket), in Postfix's private/.
        "socket_path": "%s/private/%s" % (str(queue).rstrip("/"), service),
        # The service runs under systemd, not from master.cf (kept for the postfix play, which reads it).
        "postfix_services": [],
        # One entry per header: Postfix takes one PREPEND per answer (see the role's README).
        "postfix_restrictions": [restriction] * len(config["headers"]),
    }
