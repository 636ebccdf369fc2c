# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SPF policy service's decisions, case by case (roles/spf_policy/files/spf_policy.py, imported from the file).

The configuration is built by the role's own filter code (module_utils/_spf_policy.build), so every
test reads what the role would install. SPF evaluation is replaced by a table of results, except in
the local-rule tests, which run pyspf on records given in the test (no network: ip4 mechanisms only).
"""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import authres
import pytest
import spf

from ansible_collections.mailauth.core.plugins.module_utils import _spf_policy

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("spf_policy", ROOT / "roles/spf_policy/files/spf_policy.py")
daemon = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(daemon)
HC_SPEC = importlib.util.spec_from_file_location("header_checks", ROOT / "tests/lib/header_checks.py")
hc = importlib.util.module_from_spec(HC_SPEC)
HC_SPEC.loader.exec_module(hc)

DEFAULTS = {
    "mode": "tag",
    "permerror": "default",
    "temperror": "default",
    "helo_mode": "off",
    "headers": "both",
    "authserv_id": "mx2.example.test",
    "whitelist": [],
    "helo_whitelist": [],
    "sender_whitelist": [],
    "skip_networks": ["127.0.0.0/8", "::1/128"],
    "local_rules": [],
    "guess_enabled": False,
    "guess": "v=spf1 a/24 mx/24 ptr",
    "reject_code": 550,
    "reject_status": "5.7.23",
    "reject_text": "SPF check failed",
    "defer_code": 451,
    "defer_status": "4.7.24",
    "defer_text": "try again later",
    "nameservers": [],
    "dns_port": 53,
    "dns_timeout": 20,
    "service_name": "mailauth_spf",
    "user": "mailauth-spf",
    "postfix_queue_directory": "/var/spool/postfix",
    "daemon_path": "/usr/local/lib/mailauth/spf_policy.py",
    "config_path": "/etc/mailauth/spf_policy.json",
    "secret_path": "/etc/mailauth/spf_policy.secret",
}
SECRET = "0123456789abcdefghijklmnopqrstuv"
RESULTS = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
CLIENT = "203.0.113.9"


def config(tmp_path, **overrides):
    """The role's JSON for these variables, written and read back as the daemon reads it."""
    secret = tmp_path / "spf_policy.secret"
    secret.write_text(SECRET + "\n")
    values = dict(DEFAULTS, secret_path=str(secret), **overrides)
    path = tmp_path / "spf_policy.json"
    path.write_text(json.dumps(_spf_policy.build(values)["config"]))
    return daemon.load_config(str(path))


def delivered(answer):
    """A PREPEND answer's header as Postfix's cleanup writes it, through the role's header_checks rules."""
    assert answer.startswith("PREPEND ")
    return hc.cleanup(_spf_policy.header_checks("mx2.example.test", SECRET, True), answer[len("PREPEND ") :])


def fake(mail=None, helo=None):
    """An evaluate() that answers from fixed results and records its calls."""
    calls = []

    def evaluate(cfg, ip, sender, helo_name):
        calls.append((ip, sender, helo_name))
        result = mail if sender else helo
        identity = "mailfrom" if sender else "helo"
        domain = daemon.sender_domain(sender) if sender else helo_name
        return {
            "result": result,
            "identity": identity,
            "domain": domain,
            "sender": sender,
            "guess": False,
            "comment": "test",
            "received_spf": "%s (test) client-ip=%s; identity=%s" % (daemon.RESULT_NAMES[result], ip, identity),
        }

    evaluate.calls = calls
    return evaluate


def request(sender="joe@example.org", helo="mail.example.org", client=CLIENT, **extra):
    req = {
        "request": "smtpd_access_policy",
        "protocol_state": "RCPT",
        "client_address": client,
        "helo_name": helo,
        "sender": sender,
        "recipient": "bob@example.test",
        "instance": "1a2b.1",
    }
    req.update(extra)
    return req


# -- the decision table: every mode x every result --------------------------------------------

EXPECTED = {
    #                   pass      fail      softfail  neutral   none      permerror temperror
    "tag": ("accept", "accept", "accept", "accept", "accept", "accept", "accept"),
    "defer_temperror": ("accept", "accept", "accept", "accept", "accept", "accept", "defer"),
    "reject_fail": ("accept", "reject", "accept", "accept", "accept", "accept", "defer"),
    "reject_softfail": ("accept", "reject", "reject", "accept", "accept", "accept", "defer"),
    "reject_neutral": ("accept", "reject", "reject", "reject", "accept", "accept", "defer"),
    "reject_not_pass": ("accept", "reject", "reject", "reject", "reject", "reject", "defer"),
}


@pytest.mark.parametrize("mode", list(EXPECTED))
@pytest.mark.parametrize("index,result", list(enumerate(RESULTS)))
def test_every_mode_and_result(tmp_path, mode, index, result):
    cfg = config(tmp_path, mode=mode)
    service = daemon.Service(cfg, fake(mail=result))
    answer = service.handle(request())
    expected = EXPECTED[mode][index]
    if expected == "reject":
        assert answer == "550 5.7.23 SPF check failed (SPF %s for mailfrom example.org)" % result
    elif expected == "defer":
        assert answer == "451 4.7.24 try again later (SPF %s for mailfrom example.org)" % result
    else:
        assert answer.startswith("PREPEND Received-SPF: %s " % daemon.RESULT_NAMES[result])
    assert "result=%s" % result in service.logged[0]
    assert "action=%s" % expected in service.logged[0]


@pytest.mark.parametrize("mode", list(EXPECTED))
@pytest.mark.parametrize("setting", ["tag", "defer", "reject"])
@pytest.mark.parametrize("result", ["permerror", "temperror"])
def test_error_settings_override_every_mode(tmp_path, mode, setting, result):
    cfg = config(tmp_path, mode=mode, **{result: setting})
    answer = daemon.Service(cfg, fake(mail=result)).handle(request())
    expected = {"tag": "PREPEND ", "defer": "451 4.7.24 ", "reject": "550 5.7.23 "}[setting]
    assert answer.startswith(expected)


# -- HELO, the null sender ---------------------------------------------------------------------


def test_helo_is_checked_separately_with_its_own_mode(tmp_path):
    cfg = config(tmp_path, mode="tag", helo_mode="reject_fail")
    evaluate = fake(mail="pass", helo="fail")
    answer = daemon.Service(cfg, evaluate).handle(request())
    assert answer == "550 5.7.23 SPF check failed (SPF fail for helo mail.example.org)"
    assert (CLIENT, "", "mail.example.org") in evaluate.calls


def test_helo_in_tag_mode_only_adds_its_result(tmp_path):
    cfg = config(tmp_path, mode="reject_fail", helo_mode="tag")
    service = daemon.Service(cfg, fake(mail="pass", helo="fail"))
    first = service.handle(request())
    second = service.handle(request())
    assert first.startswith("PREPEND Received-SPF: Pass ")
    assert second.startswith("PREPEND X-Mailauth-SPF-%s: " % SECRET)
    header = authres.AuthenticationResultsHeader.parse(delivered(second))
    found = {(r.method, r.result, getattr(r, "smtp_helo", None)) for r in header.results}
    assert ("spf", "fail", "mail.example.org") in found
    assert ("spf", "pass", None) in found


def test_helo_off_is_not_looked_up(tmp_path):
    evaluate = fake(mail="pass", helo="fail")
    daemon.Service(config(tmp_path, helo_mode="off"), evaluate).handle(request())
    assert evaluate.calls == [(CLIENT, "joe@example.org", "mail.example.org")]


@pytest.mark.parametrize("helo_mode", ["off", "tag"])
def test_null_sender_is_judged_on_helo_with_the_mail_from_mode(tmp_path, helo_mode):
    cfg = config(tmp_path, mode="reject_fail", helo_mode=helo_mode)
    evaluate = fake(mail=None, helo="fail")
    answer = daemon.Service(cfg, evaluate).handle(request(sender=""))
    assert answer == "550 5.7.23 SPF check failed (SPF fail for helo mail.example.org)"
    assert evaluate.calls == [(CLIENT, "", "mail.example.org")]


def test_null_sender_pass_on_helo_gets_the_helo_header(tmp_path):
    service = daemon.Service(config(tmp_path, mode="reject_fail"), fake(helo="pass"))
    assert service.handle(request(sender="")).startswith("PREPEND Received-SPF: Pass ")
    header = authres.AuthenticationResultsHeader.parse(delivered(service.handle(request(sender=""))))
    assert [(r.result, r.smtp_helo) for r in header.results] == [("pass", "mail.example.org")]
    assert "sender_domain=<>" in service.logged[0]


def test_address_literal_helo_is_none_without_lookup(tmp_path):
    evaluate = fake(helo="fail")
    service = daemon.Service(config(tmp_path, mode="reject_not_pass"), evaluate)
    answer = service.handle(request(sender="", helo="[203.0.113.9]"))
    assert answer == "550 5.7.23 SPF check failed (SPF none for helo [203.0.113.9])"
    assert evaluate.calls == []


# -- skips and whitelists ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides,req,reason",
    [
        ({}, request(sasl_username="alice"), "authenticated"),
        ({}, request(client="127.0.0.1"), "skip_networks"),
        ({}, request(client="::1"), "skip_networks"),
        ({"skip_networks": ["192.168.0.0/16"]}, request(client="192.168.7.7"), "skip_networks"),
        ({"whitelist": ["203.0.113.9"]}, request(), "whitelist"),
        ({"whitelist": ["203.0.113.0/24"]}, request(), "whitelist"),
        ({"whitelist": ["203.0.113.0/255.255.255.0"]}, request(), "whitelist"),
        ({"whitelist": ["203.0.113.5-203.0.113.10"]}, request(), "whitelist"),
        ({"whitelist": ["203.0.113.5-203.0.113.10"]}, request(client="::ffff:203.0.113.9"), "whitelist"),
        ({"whitelist": ["2001:db8::1-2001:db8::ff"]}, request(client="2001:db8::42"), "whitelist"),
        ({"whitelist": ["2001:db8::/32"]}, request(client="2001:db8:1::1"), "whitelist"),
        ({"helo_whitelist": ["Mail.Example.org"]}, request(helo="MAIL.example.org."), "helo_whitelist"),
        ({"sender_whitelist": ["example.org"]}, request(sender="Joe@EXAMPLE.org"), "sender_whitelist"),
    ],
)
def test_skips_are_never_checked(tmp_path, overrides, req, reason):
    evaluate = fake(mail="fail", helo="fail")
    service = daemon.Service(config(tmp_path, mode="reject_not_pass", helo_mode="reject_fail", **overrides), evaluate)
    assert service.handle(req) == "DUNNO"
    assert evaluate.calls == []
    assert "action=skip reason=%s" % reason in service.logged[0]


@pytest.mark.parametrize(
    "overrides,req",
    [
        ({"whitelist": ["203.0.113.10-203.0.113.20"]}, request()),
        ({"whitelist": ["203.0.113.8/255.255.255.254"]}, request(client="203.0.113.10")),
        ({"whitelist": ["2001:db8::1-2001:db8::ff"]}, request(client="2001:db8::100")),
        ({"helo_whitelist": ["example.org"]}, request(helo="mail.example.org")),
        ({"sender_whitelist": ["example.org"]}, request(sender="joe@sub.example.org")),
        ({"skip_networks": []}, request(client="127.0.0.1")),
    ],
)
def test_near_misses_are_checked(tmp_path, overrides, req):
    service = daemon.Service(config(tmp_path, mode="reject_fail", **overrides), fake(mail="fail"))
    assert service.handle(req).startswith("550 5.7.23 ")


# -- one verdict per message, one header per answer --------------------------------------------


def test_two_headers_over_two_requests_then_dunno_for_more_recipients(tmp_path):
    evaluate = fake(mail="pass")
    service = daemon.Service(config(tmp_path), evaluate)
    answers = [service.handle(request(recipient="r%d@example.test" % i)) for i in range(4)]
    assert answers[0].startswith("PREPEND Received-SPF: Pass ")
    assert answers[1].startswith("PREPEND X-Mailauth-SPF-%s: mx2.example.test; spf=pass" % SECRET)
    assert delivered(answers[1]).startswith("Authentication-Results: mx2.example.test; spf=pass")
    assert answers[2:] == ["DUNNO", "DUNNO"]
    assert len(evaluate.calls) == 1
    assert len(service.logged) == 1


@pytest.mark.parametrize(
    "choice,first", [("received_spf", "Received-SPF: "), ("authentication_results", "X-Mailauth-SPF-" + SECRET + ": ")]
)
def test_one_header(tmp_path, choice, first):
    service = daemon.Service(config(tmp_path, headers=choice), fake(mail="pass"))
    assert service.handle(request())[len("PREPEND ") :].startswith(first)
    assert service.handle(request()) == "DUNNO"


def test_reject_is_repeated_for_every_recipient_and_a_new_message_is_judged_again(tmp_path):
    service = daemon.Service(config(tmp_path, mode="reject_fail"), fake(mail="fail"))
    first = service.handle(request())
    assert service.handle(request(recipient="other@example.test")) == first
    service.evaluate = fake(mail="pass")
    assert service.handle(request(instance="1a2b.2")).startswith("PREPEND ")


def test_authentication_results_parse_with_authres(tmp_path):
    service = daemon.Service(config(tmp_path, headers="authentication_results"), fake(mail="softfail"))
    name, _sep, value = delivered(service.handle(request())).partition(": ")
    assert name == "Authentication-Results"
    header = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + value)
    assert header.authserv_id == "mx2.example.test"
    assert [(r.method, r.result, r.smtp_mailfrom) for r in header.results] == [("spf", "softfail", "joe@example.org")]


def test_the_header_name_holds_the_secret_from_its_file(tmp_path):
    cfg = config(tmp_path, headers="authentication_results")
    assert cfg["ar_header"] == "X-Mailauth-SPF-" + SECRET
    (tmp_path / "spf_policy.secret").write_text("0123")
    with pytest.raises(ValueError) as err:
        daemon.load_config(str(tmp_path / "spf_policy.json"))
    assert "spf_policy.secret" in str(err.value) and "0123" not in str(err.value)


@pytest.mark.parametrize("content", [None, "", "Secret" * 6, SECRET + "x"])
def test_check_refuses_a_missing_or_malformed_secret(tmp_path, content):
    config(tmp_path)
    secret = tmp_path / "spf_policy.secret"
    if content is None:
        secret.unlink()
    else:
        secret.write_text(content)
    problems = daemon.check_config(str(tmp_path / "spf_policy.json"))
    assert len(problems) == 1 and "spf_policy.secret" in problems[0]
    assert not content or content not in problems[0]


def test_configured_codes_and_text(tmp_path):
    cfg = config(tmp_path, mode="reject_fail", reject_code=554, reject_status="5.7.1", reject_text="Go away")
    assert daemon.Service(cfg, fake(mail="fail")).handle(request()).startswith("554 5.7.1 Go away (SPF fail ")
    cfg = config(tmp_path, mode="reject_fail", reject_code=451, reject_status="4.7.1", reject_text="Later")
    assert daemon.Service(cfg, fake(mail="fail")).handle(request()).startswith("451 4.7.1 Later (")


def test_control_characters_never_reach_a_reply_or_header(tmp_path):
    service = daemon.Service(config(tmp_path, mode="reject_fail"), fake(mail="fail"))
    answer = service.handle(request(sender="joe@exa\rmple.org"))
    assert "\r" not in answer and "\n" not in answer


# -- the protocol ------------------------------------------------------------------------------


def test_read_request_until_empty_line_and_eof():
    stream = io.StringIO("request=smtpd_access_policy\nsender=a@b.example\nhelo_name=x=y\n\n")
    assert daemon.read_request(stream) == {
        "request": "smtpd_access_policy",
        "sender": "a@b.example",
        "helo_name": "x=y",
    }
    assert daemon.read_request(stream) is None


def test_check_config(tmp_path):
    config(tmp_path)
    assert daemon.check_config(str(tmp_path / "spf_policy.json")) == []
    (tmp_path / "bad.json").write_text('{"headers": []}')
    problems = daemon.check_config(str(tmp_path / "bad.json"))
    assert any("lacks actions" in p for p in problems)
    (tmp_path / "broken.json").write_text("{")
    assert daemon.check_config(str(tmp_path / "broken.json"))[0].startswith("cannot read")


# -- local rules: insertion, then pyspf on the result ---------------------------------------------


@pytest.mark.parametrize(
    "record,expected",
    [
        ("v=spf1 -all", "v=spf1 ip4:192.0.2.0/24 -all"),
        ("v=spf1 ip4:198.51.100.1 ~all", "v=spf1 ip4:198.51.100.1 ip4:192.0.2.0/24 ~all"),
        ("v=spf1 mx -ALL exp=x.example", "v=spf1 mx ip4:192.0.2.0/24 -ALL exp=x.example"),
        (
            "v=spf1 ip4:198.51.100.1 redirect=_spf.example.org",
            "v=spf1 ip4:198.51.100.1 redirect=_spf.example.org ip4:192.0.2.0/24",
        ),
        ("v=spf1 ip4:198.51.100.1", "v=spf1 ip4:198.51.100.1 ip4:192.0.2.0/24"),
        ("v=spf1 -all", "v=spf1 ip4:192.0.2.0/24 -all"),
    ],
)
def test_insert_local_rules(record, expected):
    assert daemon.insert_local_rules(record, "ip4:192.0.2.0/24") == expected


def test_pyspf_own_local_policy_leaves_minus_all_unchanged():
    """Why the service inserts the rules itself (the issue's known fact)."""
    assert spf.insert_libspf_local_policy("v=spf1 -all", "ip4:192.0.2.0/24") == "v=spf1 -all"


@pytest.mark.parametrize(
    "record,client,without,with_rules",
    [
        ("v=spf1 -all", "192.0.2.7", "fail", "pass"),
        ("v=spf1 ip4:198.51.100.1 ~all", "192.0.2.7", "softfail", "pass"),
        ("v=spf1 ip4:198.51.100.1", "192.0.2.7", "neutral", "pass"),
        ("v=spf1 -all", "198.51.100.9", "fail", "fail"),
        ("v=spf1 -ip4:192.0.2.7 -all", "192.0.2.7", "fail", "fail"),
    ],
)
def test_local_rules_change_the_result_as_if_before_all(record, client, without, with_rules):
    """pyspf evaluates the record with the rules inserted (ip4 only: no DNS)."""
    query = spf.query(i=client, s="joe@example.org", h="mail.example.org")
    assert query.check(spf=record)[0] == without
    query = spf.query(i=client, s="joe@example.org", h="mail.example.org")
    assert query.check(spf=daemon.insert_local_rules(record, "ip4:192.0.2.0/24"))[0] == with_rules


def test_evaluate_inserts_local_rules_into_the_sender_record_only(tmp_path, monkeypatch):
    records = {"example.org": "v=spf1 include:inc.example.net -all", "inc.example.net": "v=spf1 -all"}
    seen = []

    def dns_spf(self, domain):
        seen.append(domain)
        return records.get(domain)

    monkeypatch.setattr(spf.query, "dns_spf", dns_spf)
    cfg = config(tmp_path, local_rules=["ip4:192.0.2.0/24"])
    res = daemon.evaluate(cfg, "192.0.2.7", "joe@example.org", "mail.example.org")
    assert (res["result"], res["identity"], res["domain"]) == ("pass", "mailfrom", "example.org")
    assert res["comment"].startswith("local rule ip4:192.0.2.0/24")
    assert 'mechanism="ip4:192.0.2.0/24"' in res["received_spf"]
    res = daemon.evaluate(cfg, "198.51.100.7", "joe@example.org", "mail.example.org")
    assert res["result"] == "fail"


# -- the guess ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "real,guessed,wins",
    [
        ("none", "pass", True),
        ("none", "neutral", False),
        ("none", "fail", False),
        ("none", "softfail", False),
        ("none", "permerror", False),
        ("fail", "pass", True),
        ("pass", "fail", False),
        ("temperror", "pass", False),
    ],
)
def test_more_permissive(real, guessed, wins):
    assert daemon.more_permissive(real, guessed) is wins


def test_guess_applies_to_a_domain_without_record_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(spf.query, "dns_spf", lambda self, domain: None)
    cfg = config(tmp_path, guess_enabled=True, guess="v=spf1 ip4:192.0.2.0/24")
    res = daemon.evaluate(cfg, "192.0.2.7", "joe@example.org", "mail.example.org")
    assert (res["result"], res["guess"]) == ("pass", True)
    assert "best guess record v=spf1 ip4:192.0.2.0/24" in res["received_spf"]
    res = daemon.evaluate(cfg, "198.51.100.7", "joe@example.org", "mail.example.org")
    assert (res["result"], res["guess"]) == ("none", False)
    cfg = config(tmp_path, guess_enabled=False, guess="v=spf1 ip4:192.0.2.0/24")
    assert daemon.evaluate(cfg, "192.0.2.7", "joe@example.org", "mail.example.org")["result"] == "none"


def test_guess_is_not_used_when_the_domain_has_a_record(tmp_path, monkeypatch):
    monkeypatch.setattr(spf.query, "dns_spf", lambda self, domain: "v=spf1 -all")
    cfg = config(tmp_path, guess_enabled=True, guess="v=spf1 ip4:192.0.2.0/24")
    assert daemon.evaluate(cfg, "192.0.2.7", "joe@example.org", "mail.example.org")["result"] == "fail"


def test_guess_result_in_log_and_headers(tmp_path, monkeypatch):
    monkeypatch.setattr(spf.query, "dns_spf", lambda self, domain: None)
    cfg = config(tmp_path, guess_enabled=True, guess="v=spf1 ip4:192.0.2.0/24", helo_mode="off")
    service = daemon.Service(cfg)
    assert "best guess record" in service.handle(request(client="192.0.2.7"))
    ar = service.handle(request(client="192.0.2.7"))
    assert "best guess record" in ar
    assert "guess=yes" in service.logged[0]


def test_an_exception_in_pyspf_is_a_temperror(tmp_path, monkeypatch):
    def boom(self, domain):
        raise RuntimeError("boom")

    monkeypatch.setattr(spf.query, "dns_spf", boom)
    res = daemon.evaluate(config(tmp_path), "192.0.2.7", "joe@example.org", "mail.example.org")
    assert res["result"] == "temperror"
