# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The dovecot role's LMTP and junk filing input: validation, the 2.3 and 2.4 syntax, and what the junk rules match.

The rules are POSIX extended regular expressions in Sieve strings; here they are read back from
the rendered script and run with Python's re (the only class they use, [[:space:]], becomes \\s),
case-insensitively as Sieve's default comparator compares. The same matrix was delivered for
real through Postfix, LMTP and Pigeonhole on Debian 12 and 13 (roles/dovecot/README.md).
"""

from __future__ import annotations

import copy
import re

import pytest
from ansible.errors import AnsibleFilterError
from test_hostile_inputs_roles import DOVECOT_OK, render

from ansible_collections.mailauth.core.plugins.filter import services
from ansible_collections.mailauth.core.plugins.module_utils import _dovecot

ID = "mx2.example.net"
LMTP = {**copy.deepcopy(DOVECOT_OK), "lmtp_enabled": True, "authserv_id": ID}
V23 = "1:2.3.19.1+dfsg1-2.1+deb12u6"
V24 = "Package: dovecot-core\nVersion: 1:2.4.1+dfsg1-6\nArchitecture: amd64\n"


def settings(**changes):
    return services.dovecot_config({**copy.deepcopy(LMTP), **changes})


def files(**changes):
    s = settings(**changes)
    return (
        render("dovecot/templates/local.conf.j2", dovecot_settings=s),
        render("dovecot/templates/junk.sieve.j2", dovecot_settings=s),
    )


@pytest.mark.parametrize(
    ("version", "dialect"),
    [(V23, "2.3"), ("2.3.4.1-5+deb10u7", "2.3"), (V24, "2.4"), ("1:2.4.1+dfsg1-6", "2.4")],
)
def test_dialect_from_the_debian_version(version, dialect):
    assert settings(version=version)["dialect"] == dialect


@pytest.mark.parametrize(("version", "words"), [("1:2.2.36-1", "not supported"), ("", "cannot read"), (None, "cannot")])
def test_unknown_version_refused(version, words):
    with pytest.raises(AnsibleFilterError, match=words):
        settings(version=version)


def test_lmtp_off_is_sasl_only():
    s = services.dovecot_config(copy.deepcopy(DOVECOT_OK))
    assert s["packages"] == ["dovecot-core"]
    assert s["postfix_mailbox_transport"] == "" and s["junk_retention_days"] == 0
    conf = render("dovecot/templates/local.conf.j2", dovecot_settings=s)
    assert "lmtp" not in conf and "sieve" not in conf and "mail_location" not in conf


def test_lmtp_off_ignores_a_version_it_does_not_need():
    assert services.dovecot_config({**copy.deepcopy(DOVECOT_OK), "version": ""})["lmtp_enabled"] is False


def test_dovecot_23_syntax():
    conf, _script = files(version=V23)
    assert "mail_location = maildir:~/Maildir\n" in conf
    assert "plugin {\n  sieve_before = /etc/dovecot/sieve/mailauth-junk.sieve\n}" in conf
    assert "  mail_plugins = $mail_plugins sieve\n  # " in conf
    assert "  auth_username_format = %Ln\n" in conf
    assert "sieve_script" not in conf and "mail_driver" not in conf
    assert "unix_listener /var/spool/postfix/private/dovecot-lmtp {\n    mode = 0600\n    user = postfix" in conf
    assert "  mailbox Junk {\n    special_use = \\Junk\n  }" in conf


def test_dovecot_24_syntax():
    conf, _script = files(version=V24)
    assert "mail_driver = maildir\nmail_path = %{home}/Maildir\nmail_inbox_path = %{home}/Maildir\n" in conf
    assert "sieve_script mailauth_junk {\n  type = before\n  path = /etc/dovecot/sieve/mailauth-junk.sieve\n}" in conf
    assert "  mail_plugins {\n    sieve = yes\n  }\n" in conf
    assert "  auth_username_format = %{user | username | lower}\n" in conf
    assert "plugin {" not in conf and "mail_location" not in conf and "$mail_plugins" not in conf


def test_packages_and_transport():
    s = settings()
    assert s["packages"] == ["dovecot-core", "dovecot-lmtpd", "dovecot-sieve"]
    assert s["postfix_mailbox_transport"] == "lmtp:unix:private/dovecot-lmtp"
    assert s["lmtp_socket"] == "/var/spool/postfix/private/" + s["postfix_mailbox_transport"].rsplit("/", 1)[1]


def _rules(script):
    """(header, Python regex) pairs read back from the rendered Sieve script."""
    out = []
    for header, regex in re.findall(r'header :regex "([^"]+)" "((?:[^"\\]|\\.)*)"', script):
        regex = re.sub(r"\\(.)", r"\1", regex)  # the Sieve string's escapes
        out.append((header, regex.replace("[:space:]", r"\s").replace(r"[\s]", r"\s")))
    return out


def junked(script, headers):
    rules = _rules(script)
    return any(
        name.lower() == header.lower() and re.search(regex, value, re.IGNORECASE)
        for name, value in headers
        for header, regex in rules
    )


AR = "Authentication-Results"
QUARANTINE = [
    ("own", [(AR, ID + "; dmarc=fail (p=quarantine dis=quarantine) header.from=example.test")], True),
    ("own-upper-case", [(AR, "MX2.Example.NET; DMARC=FAIL (p=quarantine dis=quarantine) header.from=x.test")], True),
    ("own-job-id", [(AR, ID + "/4A1B2C3D; dmarc=fail (p=reject dis=quarantine) header.from=x.test")], True),
    ("own-version", [(AR, ID + " 1; dmarc=fail (p=quarantine dis=quarantine) header.from=x.test")], True),
    ("own-after-spf", [(AR, ID + "; spf=pass smtp.mailfrom=x.test; dmarc=fail (p=quarantine dis=quarantine)")], True),
    ("foreign", [(AR, "mx.example.org; dmarc=fail (p=quarantine dis=quarantine) header.from=x.test")], False),
    ("foreign-prefix", [(AR, "xmx2.example.net; dmarc=fail (p=quarantine dis=quarantine) header.from=x")], False),
    ("foreign-suffix", [(AR, ID + ".evil.test; dmarc=fail (p=quarantine dis=quarantine) header.from=x")], False),
    ("dot-is-literal", [(AR, "mx2xexample.net; dmarc=fail (p=quarantine dis=quarantine) header.from=x")], False),
    ("foreign-ours-inside", [(AR, "mx.example.org; x=" + ID + "; dmarc=fail (p=quarantine dis=quarantine)")], False),
    ("own-none", [(AR, ID + "; dmarc=fail (p=none dis=none) header.from=x.test")], False),
    # OpenDMARC 1.4.2 writes dis=none on every quarantine failure it delivers (dis=quarantine only when it holds).
    ("own-delivered", [(AR, ID + "; dmarc=fail (p=quarantine dis=none) header.from=x.test")], True),
    ("own-pass", [(AR, ID + "; dmarc=pass (p=quarantine dis=none) header.from=x.test")], False),
    ("own-reject", [(AR, ID + "; dmarc=fail (p=reject dis=reject) header.from=x.test")], False),
    ("own-in-comment-only", [(AR, ID + "; spf=pass (dmarc=fail dis=quarantine) smtp.mailfrom=x.test")], False),
    ("other-header", [("X-Authentication-Results", ID + "; dmarc=fail (p=quarantine dis=quarantine)")], False),
    ("own-spf-fail", [(AR, ID + "; spf=fail smtp.mailfrom=x.test")], False),
]


@pytest.mark.parametrize(("headers", "expected"), [c[1:] for c in QUARANTINE], ids=[c[0] for c in QUARANTINE])
def test_dmarc_quarantine_rule(headers, expected):
    _conf, script = files()
    assert junked(script, headers) is expected


SPF = [
    ("ar-fail", [(AR, ID + "; spf=fail smtp.mailfrom=x.test")], True),
    ("ar-fail-comment", [(AR, ID + "; spf=fail (sender not allowed) smtp.mailfrom=x.test")], True),
    ("ar-fail-last", [(AR, ID + "; dkim=none; spf=fail")], True),
    ("ar-softfail", [(AR, ID + "; spf=softfail smtp.mailfrom=x.test")], False),
    ("ar-foreign", [(AR, "mx.example.org; spf=fail smtp.mailfrom=x.test")], False),
    (
        "received-spf-own",
        [("Received-SPF", "Fail (mailfrom) identity=mailfrom; client-ip=192.0.2.1; receiver=" + ID)],
        True,
    ),
    (
        "received-spf-own-middle",
        [("Received-SPF", "fail (x) receiver=" + ID + "; identity=mailfrom; client-ip=192.0.2.1")],
        True,
    ),
    ("received-spf-foreign", [("Received-SPF", "Fail (mailfrom) identity=mailfrom; receiver=mx.example.org")], False),
    ("received-spf-prefix", [("Received-SPF", "Fail (mailfrom) identity=mailfrom; receiver=x" + ID)], False),
    ("received-spf-other-key", [("Received-SPF", "Fail (mailfrom) identity=mailfrom; xreceiver=" + ID)], False),
    ("received-spf-none", [("Received-SPF", "None (mailfrom) identity=mailfrom; receiver=" + ID)], False),
    ("received-spf-softfail", [("Received-SPF", "Softfail (mailfrom) identity=mailfrom; receiver=" + ID)], False),
]


@pytest.mark.parametrize(("headers", "expected"), [c[1:] for c in SPF], ids=[c[0] for c in SPF])
def test_spf_fail_rule(headers, expected):
    _conf, script = files(junk_on=["spf_fail"])
    assert junked(script, headers) is expected


def test_spf_fail_is_off_by_default():
    _conf, script = files()
    assert not junked(script, [(AR, ID + "; spf=fail smtp.mailfrom=x.test")])


def test_softfail_and_dmarc_reject_conditions():
    _conf, script = files(junk_on=["spf_softfail", "dmarc_reject"])
    assert junked(script, [(AR, ID + "; spf=softfail smtp.mailfrom=x.test")])
    assert junked(script, [(AR, ID + "; dmarc=fail (p=reject dis=reject) header.from=x.test")])
    assert not junked(script, [(AR, ID + "; dmarc=fail (p=quarantine dis=quarantine) header.from=x.test")])


def test_script_files_to_the_junk_mailbox_and_stops():
    _conf, script = files(junk_mailbox="Spam")
    assert 'require ["fileinto", "mailbox", "regex"];' in script
    assert '  fileinto :create "Spam";\n  stop;\n' in script
    conf, _script = files(junk_mailbox="Spam")
    assert "  mailbox Spam {\n    special_use = \\Junk\n  }" in conf


def test_no_condition_keeps_everything():
    _conf, script = files(junk_on=[])
    assert "keep;" in script and "fileinto" not in script and "require" not in script


def test_authserv_id_is_escaped_for_regex_and_sieve():
    rule = _dovecot.junk_rules(["dmarc_quarantine"], "a.b-c")[0]
    assert rule["regex"].startswith('"^a\\\\.b-c(')
    assert _dovecot.sieve_string('a"b\\c') == '"a\\"b\\\\c"'
    assert _dovecot.ere_literal("a.b*c[d]^$") == "a\\.b\\*c\\[d\\]\\^\\$"


BAD = [
    ("authserv_id", "mx2.example.net; dmarc=pass", "dovecot_authserv_id"),
    ("authserv_id", "mx2 example.net", "dovecot_authserv_id"),
    ("authserv_id", "mx2.example.net\nx", "dovecot_authserv_id"),
    ("junk_mailbox", "Junk/Sub", "dovecot_junk_mailbox"),
    ("junk_mailbox", "Junk.Sub", "dovecot_junk_mailbox"),
    ("junk_mailbox", 'Ju"nk', "dovecot_junk_mailbox"),
    ("junk_mailbox", "", "dovecot_junk_mailbox"),
    ("mail_dir", "../Maildir", "dovecot_mail_dir"),
    ("mail_dir", "/var/mail", "dovecot_mail_dir"),
    ("mail_dir", "%{user}/Maildir", "dovecot_mail_dir"),
    ("junk_on", ["dmarc_quarantine", "dkim_fail"], "dovecot_junk_on[1]"),
    ("junk_on", "dmarc_quarantine", "dovecot_junk_on"),
    ("junk_retention_days", -1, "dovecot_junk_retention_days"),
    ("junk_retention_days", "30d", "dovecot_junk_retention_days"),
    ("junk_retention_days", True, "dovecot_junk_retention_days"),
    ("lmtp_packages", ["dovecot-lmtpd; rm"], "dovecot_lmtp_packages[0]"),
]


@pytest.mark.parametrize(("variable", "value", "named"), BAD, ids=["%s-%d" % (b[0], i) for i, b in enumerate(BAD)])
def test_bad_input_is_refused_naming_the_variable(variable, value, named):
    with pytest.raises(AnsibleFilterError, match=re.escape(named)):
        settings(**{variable: value})


def test_every_problem_in_one_message():
    with pytest.raises(AnsibleFilterError) as err:
        settings(authserv_id="a b", junk_mailbox="a/b", junk_retention_days=-1, junk_on=["x"])
    message = str(err.value)
    for name in ("dovecot_authserv_id", "dovecot_junk_mailbox", "dovecot_junk_retention_days", "dovecot_junk_on[0]"):
        assert name in message


def test_lmtp_enabled_must_be_a_boolean():
    with pytest.raises(AnsibleFilterError, match="dovecot_lmtp_enabled must be true or false"):
        settings(lmtp_enabled="perhaps")


def test_retention_units_render():
    s = settings(junk_retention_days="7")
    service = render("dovecot/templates/mailauth-junk-expunge.service.j2", dovecot_settings=s)
    assert "ExecStart=/usr/local/sbin/mailauth-junk-expunge Junk 7\n" in service
    timer = render("dovecot/templates/mailauth-junk-expunge.timer.j2", dovecot_settings=s)
    assert "OnCalendar=daily\n" in timer and "WantedBy=timers.target" in timer
