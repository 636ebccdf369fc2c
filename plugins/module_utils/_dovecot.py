# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dovecot configuration: the role's variables validated into what local.conf and the Sieve script render.

Dovecot is the SASL authority of Postfix's submission service and, with ``dovecot_lmtp_enabled``,
the local delivery agent (LMTP with a global Sieve script that files failed mail to Junk).
:func:`build` checks every value that reaches ``/etc/dovecot/local.conf``, the Sieve script and
the retention units with :mod:`_input`, and says which configuration dialect (Dovecot 2.3 or 2.4)
the host's Dovecot reads.
"""

from __future__ import annotations

import re
import typing as t

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.mailauth.core.plugins.module_utils import _input
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError
from ansible_collections.mailauth.core.plugins.module_utils._settings import Problems

MECHANISM = r"[A-Za-z0-9-]+"
# A Debian package name (Debian policy 5.6.1).
PACKAGE = r"[a-z0-9][a-z0-9+.\-]+"
# A mailbox name: one level (no hierarchy separator), letters, digits, '.'-free so that it is the
# same name on maildir (separator '.') and in doveadm's and systemd's command lines.
MAILBOX = r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}"
# The mail directory under each user's home (Maildir): relative, no '..', no variables.
MAIL_DIR = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*"
# The Dovecot versions whose configuration syntax the role writes: Debian 12 has 2.3, Debian 13 2.4.
DIALECTS = ("2.3", "2.4")
# A Debian version of dovecot-core as dpkg-query or apt-cache print it (epoch optional).
VERSION = re.compile(r"(?:^|\n)(?:Version: )?(?:[0-9]+:)?([0-9]+)\.([0-9]+)[.0-9]*")

# Postfix's side of LMTP delivery: the socket in Postfix's queue directory (its chroot), and the
# value of postfix_mailbox_transport that reaches it (relative to the queue directory).
LMTP_SOCKET = "/var/spool/postfix/private/dovecot-lmtp"
MAILBOX_TRANSPORT = "lmtp:unix:private/dovecot-lmtp"
# The global Sieve script (sieve_before): compiled next to itself (.svbin) by the role.
SIEVE_SCRIPT = "/etc/dovecot/sieve/mailauth-junk.sieve"

# The start of a header written by this host: the authserv-id (%s, a POSIX ERE), optionally with
# OpenDMARC's '/job-id' (AuthservIDWithJobID) and an RFC 8601 version, then ';' and any results
# before the one tested.
_AR = r"^%s(/[^;[:space:]]+)?([[:space:]]+1)?[[:space:]]*;(.*;)?[[:space:]]*"
# OpenDMARC 1.4.2 writes "<id>; dmarc=fail (p=<policy> dis=<disposition>) header.from=<domain>";
# a delivered failure carries "dis=none" unless OpenDMARC held it (HoldQuarantinedMessages), so the
# policy (p=, after sp) or the disposition (dis=) names the condition.
_DMARC = _AR + r"dmarc=fail[[:space:]]*\(([^)]*[[:space:]])?(p|dis)=%s[[:space:])]"
_SPF_AR = _AR + r"spf=%s([[:space:];(]|$)"
# Received-SPF (RFC 7208 9.1): "<result> (comment) key=value; ... receiver=<id>; ...".
_SPF_RECEIVED = r"^%s([[:space:];(].*)?[[:space:];]receiver=%s([[:space:];]|$)"

# The conditions dovecot_junk_on may name: for each, the headers (name, POSIX ERE with the
# authserv-id as %(id)s) whose match files a message to the junk mailbox. Only headers carrying
# this host's authserv-id count; anyone else's say nothing.
JUNK_CONDITIONS: t.Dict[str, t.List[t.Tuple[str, str]]] = {
    "dmarc_quarantine": [("Authentication-Results", _DMARC % ("%(id)s", "quarantine"))],
    "dmarc_reject": [("Authentication-Results", _DMARC % ("%(id)s", "reject"))],
    "spf_fail": [
        ("Authentication-Results", _SPF_AR % ("%(id)s", "fail")),
        ("Received-SPF", _SPF_RECEIVED % ("fail", "%(id)s")),
    ],
    "spf_softfail": [
        ("Authentication-Results", _SPF_AR % ("%(id)s", "softfail")),
        ("Received-SPF", _SPF_RECEIVED % ("softfail", "%(id)s")),
    ],
}


def ere_literal(text: str) -> str:
    """Text matched literally by a POSIX extended regular expression."""
    return re.sub(r"([.\[\]()*+?{}|^$\\])", r"\\\1", text)


def sieve_string(text: str) -> str:
    """A Sieve quoted string (RFC 5228 2.4.2), quotes included."""
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def dialect(version: t.Any, field: str = "dovecot-core version") -> str:
    """The configuration dialect (2.3 or 2.4) of a dovecot-core package version."""
    found = VERSION.search(version) if isinstance(version, str) else None
    if found is None:
        raise InputError("%s: cannot read a Dovecot version from %r (is dovecot-core installable?)" % (field, version))
    major_minor = "%s.%s" % found.groups()
    if major_minor not in DIALECTS:
        raise InputError("%s: Dovecot %s is not supported (2.3 or 2.4)" % (field, major_minor))
    return major_minor


def junk_rules(conditions: t.Sequence[str], authserv_id: str) -> t.List[t.Dict[str, str]]:
    """The Sieve tests (header, quoted regex, condition) that file a message to junk, in the order given."""
    escaped = ere_literal(authserv_id)
    return [
        {"condition": name, "header": sieve_string(header), "regex": sieve_string(regex % {"id": escaped})}
        for name in conditions
        for header, regex in JUNK_CONDITIONS[name]
    ]


def _days(value: t.Any, field: str) -> int:
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 36500:
        raise InputError("%s must be a whole number of days, 0 (off) to 36500, got %r" % (field, value))
    return value


def _mail_settings(dialect_: str, mail_dir: str) -> t.List[t.List[str]]:
    """Where mail lives, as each dialect says it: Maildir under the user's home, INBOX at its root."""
    if dialect_ == "2.3":
        return [["mail_location", "maildir:~/%s" % mail_dir]]
    return [
        ["mail_driver", "maildir"],
        ["mail_path", "%%{home}/%s" % mail_dir],
        # Debian's 10-mail.conf puts INBOX in /var/mail (mbox); 2.4's maildir default would be
        # .INBOX: the root of the Maildir keeps the layout 2.3 writes.
        ["mail_inbox_path", "%%{home}/%s" % mail_dir],
    ]


def build(v: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """Validate the dovecot role's variables (names without ``dovecot_``); return what the templates render."""
    p = Problems()

    def f(name: str) -> str:
        return "dovecot_" + name

    mechanisms = p.check(_input.string_list, v["sasl_mechanisms"], f("sasl_mechanisms")) or []
    out: t.Dict[str, t.Any] = {
        "sasl_mechanisms": [
            p.match(m, "%s[%d]" % (f("sasl_mechanisms"), i), MECHANISM, "a mechanism") for i, m in enumerate(mechanisms)
        ],
    }
    if not mechanisms and not p.items:
        p.add("%s must name at least one mechanism" % f("sasl_mechanisms"))
    lmtp = p.check(_bool, v.get("lmtp_enabled", False), f("lmtp_enabled"))
    out["lmtp_enabled"] = bool(lmtp)
    packages: t.List[str] = []
    for name in ("packages", "lmtp_packages") if lmtp else ("packages",):
        items = p.check(_input.string_list, v[name], f(name)) or []
        packages += [p.match(x, "%s[%d]" % (f(name), i), PACKAGE, "a Debian package name") for i, x in enumerate(items)]
    out["packages"] = list(dict.fromkeys(packages))
    if lmtp:
        out["dialect"] = p.check(dialect, v["version"])
        out["authserv_id"] = p.check(_input.authserv_id, v["authserv_id"], f("authserv_id"))
        out["junk_mailbox"] = p.match(v["junk_mailbox"], f("junk_mailbox"), MAILBOX, "a mailbox name (letters, digits)")
        out["mail_dir"] = p.match(v["mail_dir"], f("mail_dir"), MAIL_DIR, "a directory under the home (Maildir)")
        out["junk_retention_days"] = p.check(_days, v["junk_retention_days"], f("junk_retention_days"))
        conditions = p.check(_input.string_list, v["junk_on"], f("junk_on")) or []
        for index, name in enumerate(conditions):
            p.check(_input.choice, name, "%s[%d]" % (f("junk_on"), index), sorted(JUNK_CONDITIONS))
        out["junk_on"] = list(dict.fromkeys(conditions))
    p.raise_any()
    if lmtp:
        out["mail_settings"] = _mail_settings(out["dialect"], out["mail_dir"])
        out["junk_rules"] = junk_rules(out["junk_on"], out["authserv_id"])
        out["junk_mailbox_sieve"] = sieve_string(out["junk_mailbox"])
        out["lmtp_socket"] = LMTP_SOCKET
        out["sieve_script"] = SIEVE_SCRIPT
        out["postfix_mailbox_transport"] = MAILBOX_TRANSPORT
    else:
        out["junk_retention_days"] = 0
        out["postfix_mailbox_transport"] = ""
    return out


def _bool(value: t.Any, field: str) -> bool:
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise InputError("%s must be true or false, got %r" % (field, value)) from None
