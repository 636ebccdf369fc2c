# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dns_records against a real BIND 9 (primary + secondary on loopback) through RFC 2136."""

from __future__ import annotations

import base64
import os
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dnsdata import domain, serials, spf_values
from servers import free_port, run_module, run_playbook

from ansible_collections.mailauth.core.plugins.module_utils import _entries, _plan
from ansible_collections.mailauth.core.plugins.module_utils._provider import ProviderError, get_provider

FOREIGN = "google-site-verification=Xy9-kept-by-dns-records"


def public_key_b64(bits: int) -> str:
    if bits < 1024:  # cryptography does not generate weak keys; a public key needs only n and e
        modulus = int.from_bytes(os.urandom(bits // 8), "big") | (1 << (bits - 1)) | 1
        public = rsa.RSAPublicNumbers(65537, modulus).public_key()
    else:
        public = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def rsa4096():
    return public_key_b64(4096)


def module_args(bind, domains, **provider_overrides):
    return {
        "provider": "rfc2136",
        "rfc2136": bind.provider_options(**provider_overrides),
        "domains": domains,
        "lint_nameserver": bind.primary,
        "lint_port": bind.port,
    }


def test_one_update_per_zone_served_by_both_servers_4096_bit_split(bind_clean, rsa4096):
    """What only BIND shows (the four steps, foreign TXT and SPF merge are in test_provider_contract.py):
    check mode leaves the SOA serials alone, the zone's changes go in ONE UPDATE message, a no-op run
    keeps the serial, and the secondary (NOTIFY/IXFR) serves the 4096-bit key in <=255-octet strings."""
    bind = bind_clean
    bind.nsupdate('add example.test. 300 "%s"' % FOREIGN)
    before_serials = serials(bind)
    updates = bind.update_count()
    args = module_args(bind, [domain(dkim=[{"selector": "mx1", "key_type": "rsa", "public_key": rsa4096}])])

    assert run_module("dns_records", args, check=True)["changed"] is True
    assert bind.update_count() == updates and serials(bind) == before_serials

    applied = run_module("dns_records", args)
    assert not applied.get("failed"), applied.get("msg")
    assert applied["api_calls"]["write"] == 1 and bind.update_count() == updates + 1

    serial = bind.serial("example.test")
    assert run_module("dns_records", args)["changed"] is False
    assert bind.serial("example.test") == serial and bind.update_count() == updates + 1

    bind.wait_synced("example.test")
    expected_dkim = "v=DKIM1; k=rsa; p=" + rsa4096
    for server in bind.servers:
        apex = bind.txt("example.test", server)
        assert FOREIGN in apex and spf_values(apex) == ["v=spf1 mx ip4:192.0.2.10 -all"]
        assert bind.txt("mx1._domainkey.example.test", server) == [expected_dkim]
        strings = bind.txt_strings("mx1._domainkey.example.test", server)[0]
        assert len(strings) > 1 and all(len(s) <= 255 for s in strings)
        assert bind.txt("_dmarc.example.test", server) == ["v=DMARC1; p=reject; rua=mailto:dmarc@example.test"]


def test_split_value_is_not_rewritten(bind_clean):
    """A value published in other character-strings ("a" "b" == "ab") is no drift."""
    bind = bind_clean
    bind.nsupdate('add _dmarc.example.test. 600 "v=DMARC1; " "p=reject; " "rua=mailto:dmarc@example.test"')
    args = module_args(
        bind, [{"name": "example.test", "ttl": 600, "dmarc": {"p": "reject", "rua": ["dmarc@example.test"]}}]
    )
    serial = bind.serial("example.test")
    result = run_module("dns_records", args)
    assert result["changed"] is False, result["plan"]
    assert bind.serial("example.test") == serial


def test_state_absent_removes_only_managed_values(bind_clean, rsa4096):
    bind = bind_clean
    bind.nsupdate('add example.test. 300 "%s"' % FOREIGN)
    entry = domain(dkim=[{"selector": "mx1", "public_key": rsa4096}])
    assert run_module("dns_records", module_args(bind, [entry]))["changed"] is True
    gone = dict(entry, state="absent")
    result = run_module("dns_records", module_args(bind, [gone]))
    assert result["changed"] is True
    assert {p["action"] for p in result["plan"]} == {"update", "delete"}
    assert bind.txt("example.test") == [FOREIGN]
    assert bind.txt("_dmarc.example.test") == []
    assert bind.txt("mx1._domainkey.example.test") == []
    assert run_module("dns_records", module_args(bind, [gone]))["changed"] is False


BAD_INPUT = [
    ({"name": "exa mple.test"}, "exa mple.test"),
    ({"name": "example.test", "dkim": [{"selector": "bad selector!", "value": "v=DKIM1; p=AAAA"}]}, "selector"),
    ({"name": "example.test", "spf": {"mechanisms": ["frobnicate:x"], "all": "-all"}}, "frobnicate"),
    ({"name": "example.test", "spf": {"ip4": ["300.1.2.3"], "all": "-all"}}, "300.1.2.3"),
    ({"name": "example.test", "spf": {"ip4": ["192.0.2.0/33"], "all": "-all"}}, "192.0.2.0/33"),
    ({"name": "example.test", "spf": {"ip6": ["2001:db8::/129"], "all": "-all"}}, "2001:db8::/129"),
    ({"name": "example.test", "dmarc": {"p": "maybe"}}, "maybe"),
    ({"name": "example.test", "dmarc": {"p": "reject", "adkim": "x"}}, "adkim"),
    ({"name": "example.test", "dmarc": {"value": "v=DMARC1; p=reject; bogus=1"}}, "bogus"),
]


@pytest.mark.parametrize(("entry", "needle"), BAD_INPUT, ids=[b[1] for b in BAD_INPUT])
def test_bad_input_fails_before_any_change(bind_clean, entry, needle):
    bind = bind_clean
    before = serials(bind)
    updates = bind.update_count()
    good = domain("example.net")  # a valid entry in the same run is not published either
    result = run_module("dns_records", module_args(bind, [good, entry]))
    assert result.get("failed") is True
    assert needle in result["msg"]
    assert result["api_calls"]["write"] == 0
    assert serials(bind) == before
    assert bind.update_count() == updates


def test_too_small_key_fails(bind_clean):
    bind = bind_clean
    before = serials(bind)
    entry = domain(dkim=[{"selector": "mx1", "public_key": public_key_b64(512)}])
    result = run_module("dns_records", module_args(bind, [entry]))
    assert result.get("failed") is True
    assert "512" in result["msg"]
    assert serials(bind) == before


def test_zone_that_does_not_exist(bind_clean):
    bind = bind_clean
    before = serials(bind)
    result = run_module("dns_records", module_args(bind, [domain("example.test"), domain("example.com")]))
    assert result.get("failed") is True
    assert "example.com" in result["msg"] and "nothing was changed" in result["msg"]
    assert serials(bind) == before
    explicit = run_module("dns_records", module_args(bind, [domain("mail.example.test", zone="mail.example.test")]))
    assert explicit.get("failed") is True
    assert serials(bind) == before


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"key_secret": base64.b64encode(b"0" * 32).decode()}, "TSIG"),
        ({"key_name": "no-such-key"}, "TSIG"),
        ({"key_algorithm": "hmac-sha512"}, "TSIG"),
    ],
    ids=["wrong-secret", "unknown-key", "wrong-algorithm"],
)
def test_wrong_tsig(bind_clean, overrides, needle):
    bind = bind_clean
    before = serials(bind)
    updates = bind.update_count()
    result = run_module("dns_records", module_args(bind, [domain()], **overrides))
    assert result.get("failed") is True
    assert needle in result["msg"]
    assert bind.tsig["secret"] not in result["msg"]
    assert serials(bind) == before
    assert bind.update_count() == updates


def test_concurrent_change_is_detected_not_overwritten(bind_clean):
    """Between the read and the UPDATE someone changes the apex: the prerequisite catches it."""
    bind = bind_clean
    bind.nsupdate('add example.test. 300 "%s"' % FOREIGN)
    provider = get_provider("rfc2136", bind.provider_options())
    items = _entries.desired_items([domain()])
    plan = _plan.build_plan(provider, items)
    bind.nsupdate('add example.test. 300 "added-concurrently"')
    serial = bind.serial("example.test")
    with pytest.raises(ProviderError, match="concurrent change"):
        provider.apply("example.test", plan.changes["example.test"])
    assert bind.serial("example.test") == serial
    assert bind.txt("example.test") == sorted([FOREIGN, "added-concurrently"])
    # a fresh plan sees the new value and keeps it
    provider = get_provider("rfc2136", bind.provider_options())
    plan = _plan.build_plan(provider, items)
    provider.apply("example.test", plan.changes["example.test"])
    assert bind.txt("example.test") == sorted([FOREIGN, "added-concurrently", "v=spf1 mx ip4:192.0.2.10 -all"])
    assert provider.calls["write"] == 1


def test_report_authorisation_across_zones(bind_clean):
    bind = bind_clean
    entries = [
        {"name": "example.test", "dmarc": {"p": "reject", "rua": ["dmarc@example.net"]}},
        {"name": "example.net", "dmarc": {"p": "none"}},
    ]
    result = run_module("dns_records", module_args(bind, entries))
    assert not result.get("failed"), result.get("msg")
    assert bind.txt("example.test._report._dmarc.example.net") == ["v=DMARC1"]
    assert sorted(result["applied_zones"]) == ["example.net", "example.test"]
    assert result["api_calls"]["write"] == 2


def _role_play(bind, domains, dkim_records, missing="fail"):
    return [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "vars": {
                "mailauth_domains": domains,
                "dns_publish_provider": "rfc2136",
                "dns_publish_rfc2136": bind.provider_options(),
                "dns_publish_dkim_records": dkim_records,
                "dns_publish_dkim_missing": missing,
                "dns_publish_lint_nameserver": bind.primary,
                "dns_publish_lint_port": bind.port,
            },
            "roles": ["mailauth.core.dns_publish"],
        }
    ]


def _role_result(output):
    tasks = output["plays"][0]["tasks"]
    task = next(t for t in tasks if t["hosts"]["localhost"].get("action") == "mailauth.core.dns_records")
    return task["hosts"]["localhost"], output["stats"]["localhost"]


def test_role_dns_publish_four_steps(bind_clean, rsa4096):
    """The role takes the inventory's mailauth_domains as they are (mail_hosts, dkim as one dict)."""
    bind = bind_clean
    domains = [
        {
            "name": "example.test",
            "mail_hosts": ["mx1"],
            "spf": {"mechanisms": ["mx"], "all": "-all"},
            "dmarc": {"p": "reject", "rua": ["dmarc@example.test"]},
            "dkim": {"selector": "mx1", "key_type": "rsa", "key_size": 4096},
        },
        {"name": "example.net", "mail_hosts": ["mx1"], "dkim": [{"selector": "mx1"}], "spf": {"all": "-all"}},
    ]
    record = "v=DKIM1; k=rsa; p=" + rsa4096
    keys = [{"domain": "example.test", "selector": "mx1", "value": record, "path": "/x", "changed": True}]
    before = serials(bind)
    plays = _role_play(bind, domains, keys, missing="skip")

    result, stats = _role_result(run_playbook(plays, check=True, diff=True))
    assert stats["failures"] == 0, result
    assert result["changed"] is True and result["api_calls"]["write"] == 0, result
    assert serials(bind) == before
    result, stats = _role_result(run_playbook(plays))
    assert stats["failures"] == 0, result
    assert result["changed"] is True
    for step in (dict(check=True), {}):
        result, stats = _role_result(run_playbook(plays, **step))
        assert stats["failures"] == 0, result
        assert result["changed"] is False, result["plan"]
    assert bind.txt("mx1._domainkey.example.test") == [record]
    assert bind.txt("example.net") == ["v=spf1 -all"]
    assert bind.txt("mx1._domainkey.example.net") == []  # no key: skipped (dns_publish_dkim_missing=skip)

    failing, stats = _role_result(run_playbook(_role_play(bind, domains, keys, missing="fail")))
    assert stats["failures"] == 1 and failing.get("failed") is True
    assert "mx1" in failing["msg"] and "example.net" in failing["msg"]


def test_silent_server_times_out_with_a_clear_error():
    """A server that accepts the connection and never answers: a timeout, reported as such."""
    import socket

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        provider = get_provider("rfc2136", {"server": "127.0.0.1", "port": listener.getsockname()[1], "timeout": 1})
        with pytest.raises(ProviderError, match="timeout"):
            provider.find_zone("example.test")
        provider = get_provider("rfc2136", {"server": "127.0.0.1", "port": free_port("127.0.0.1"), "timeout": 1})
        with pytest.raises(ProviderError, match="cannot connect"):
            provider.find_zone("example.test")
    finally:
        listener.close()


# ---------------------------------------------------------------------------------------------
# large change sets and the zone-transfer read path
def many(count: int, public_key: str, zone: str = "example.test", prefix: str = "m") -> list:
    """``count`` mail domains below ``zone`` (given explicitly), each with SPF, a DKIM key and DMARC."""
    return [
        {
            "name": "%s%03d.%s" % (prefix, i, zone),
            "zone": zone,
            "ttl": 300,
            "spf": {"mechanisms": ["mx"], "all": "-all"},
            "dkim": [{"selector": "mx1", "key_type": "rsa", "public_key": public_key}],
            "dmarc": {"p": "reject"},
        }
        for i in range(count)
    ]


def expected_records(entries: list, public_key: str) -> dict:
    out = {}
    for entry in entries:
        out[entry["name"]] = ["v=spf1 mx -all"]
        out["mx1._domainkey." + entry["name"]] = ["v=DKIM1; k=rsa; p=" + public_key]
        out["_dmarc." + entry["name"]] = ["v=DMARC1; p=reject"]
    return out


def test_change_set_larger_than_one_dns_message(bind_clean, rsa4096):
    """420 domains with 4096-bit keys (~430 KB of UPDATE) into one zone: several UPDATE messages,
    every record served by both servers, then nothing left to do."""
    bind = bind_clean
    entries = many(420, rsa4096)
    args = module_args(bind, entries)
    args["lint_dns"] = False
    updates = bind.update_count()

    check = run_module("dns_records", args, check=True)
    assert not check.get("failed"), check.get("msg")
    assert len(check["plan"]) == 3 * 420 and check["api_calls"] == {"read": 1, "write": 0}
    assert bind.update_count() == updates

    applied = run_module("dns_records", args)
    assert not applied.get("failed"), applied.get("msg")
    assert applied["changed"] is True and applied["applied_zones"] == ["example.test"]
    # one zone transfer to read; the writes are the UPDATE messages the server received
    assert applied["api_calls"]["read"] == 1
    writes = applied["api_calls"]["write"]
    assert writes >= 6  # 420 x ~1 KB does not fit in fewer 64 KiB messages
    assert writes <= 9
    assert bind.update_count() == updates + writes

    bind.wait_synced("example.test", timeout=60)
    expected = expected_records(entries, rsa4096)
    for server in bind.servers:
        for name, values in expected.items():
            assert bind.txt(name, server) == values, (server, name)
        strings = bind.txt_strings("mx1._domainkey.m419.example.test", server)[0]
        assert len(strings) == 3 and all(len(s) <= 255 for s in strings)

    serial = bind.serial("example.test")
    again = run_module("dns_records", args)
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] is False and again["plan"] == []
    assert again["api_calls"] == {"read": 1, "write": 0}
    assert bind.serial("example.test") == serial


def test_later_update_message_fails_then_rerun_completes(bind_clean, rsa4096):
    """A concurrent change to a name of the last UPDATE message: the messages before it stay
    applied, the error says so, the concurrent value is kept, and a re-run completes the work."""
    bind = bind_clean
    entries = many(200, rsa4096)
    provider = get_provider("rfc2136", bind.provider_options())
    plan = _plan.build_plan(provider, _entries.desired_items(entries))
    changes = plan.changes["example.test"]
    chunks = provider.split_changes("example.test", changes)
    assert len(chunks) >= 3
    apexes = {entry["name"] for entry in entries}
    victim = next(c.name for c in chunks[-1] if c.name in apexes)  # other TXT values there are kept
    bind.nsupdate('add %s. 300 "added-concurrently"' % victim)
    with pytest.raises(ProviderError) as raised:
        provider.apply("example.test", changes)
    message = str(raised.value)
    assert "UPDATE message %d of %d" % (len(chunks), len(chunks)) in message
    assert "concurrent change detected" in message
    assert "messages 1-%d were applied" % (len(chunks) - 1) in message
    assert "re-run to complete the work" in message
    done = [c.name for chunk in chunks[:-1] for c in chunk]
    assert raised.value.applied == done
    assert provider.calls["write"] == len(chunks)
    # the earlier messages are served, the last one changed nothing
    assert bind.txt(done[0]) != [] and bind.txt(done[-1]) != []
    assert bind.txt(victim) == ["added-concurrently"]
    for change in chunks[-1]:
        if change.name != victim:
            assert bind.txt(change.name) == []

    args = module_args(bind, entries)
    args["lint_dns"] = False
    rerun = run_module("dns_records", args)
    assert not rerun.get("failed"), rerun.get("msg")
    assert len(rerun["plan"]) == len(chunks[-1])
    expected = expected_records(entries, rsa4096)
    for name, values in expected.items():
        if name == victim:
            assert bind.txt(name) == sorted(["added-concurrently", *values])
        else:
            assert bind.txt(name) == values, name
    assert run_module("dns_records", args)["changed"] is False


def test_refused_later_update_message_through_the_module(bind_clean, rsa4096):
    """The server refuses the UPDATE that touches the last domain: the module fails, names what it
    changed already (failed_zone_applied), and a re-run completes the work once the fault is gone."""
    bind = bind_clean
    entries = many(150, rsa4096)
    victim = "_dmarc." + entries[-1]["name"]
    args = module_args(bind, entries)
    args["lint_dns"] = False
    bind.deny_updates("example.test", [victim])
    try:
        failed = run_module("dns_records", args)
    finally:
        bind.deny_updates("example.test", [])
    assert failed.get("failed") is True
    assert failed["failed_zone"] == "example.test"
    assert failed["changed"] is True
    assert failed["applied_zones"] == []
    assert "refused the update" in failed["msg"]
    assert re.search(r"(message 1 was|messages 1-[0-9]+ were) applied", failed["msg"]), failed["msg"]
    assert "re-run to complete the work" in failed["msg"]
    done = failed["failed_zone_applied"]
    assert done and victim not in done
    assert failed["api_calls"]["write"] >= 2
    expected = expected_records(entries, rsa4096)
    for name in done:
        assert bind.txt(name) == expected[name]
    assert bind.txt(victim) == []

    rerun = run_module("dns_records", args)
    assert not rerun.get("failed"), rerun.get("msg")
    assert {p["name"] for p in rerun["plan"]} == set(expected) - set(done)
    for name, values in expected.items():
        assert bind.txt(name) == values, name
    assert run_module("dns_records", args)["changed"] is False


def seed_zone(bind, count: int) -> dict:
    """Publish some TXT values behind the module's back (foreign, split, multi-valued)."""
    lines = []
    for i in range(count):
        lines.append('add r%03d.example.test. 300 "%s"' % (i, FOREIGN))
        if i % 3 == 0:
            lines.append('add r%03d.example.test. 300 "v=spf1 " "mx -all"' % i)
    bind.nsupdate(*lines)
    expected = {}
    for i in range(count):
        values = [FOREIGN] + (["v=spf1 mx -all"] if i % 3 == 0 else [])
        expected["r%03d.example.test" % i] = sorted(values)
    return expected


def test_many_names_are_read_by_one_zone_transfer(bind_clean):
    bind = bind_clean
    expected = seed_zone(bind, 60)
    names = [*expected, "absent-1.example.test", "absent-2.example.test"]
    provider = get_provider("rfc2136", bind.provider_options())
    found = provider.get_rrsets("example.test", names)
    assert provider.calls["read"] == 1 and provider.calls["transfers"] == 1
    assert provider.calls["transfers_refused"] == 0
    assert sorted(found) == sorted(expected)
    for name, values in expected.items():
        assert sorted(found[name].values) == values
        assert found[name].ttl == 300
        assert sorted(found[name].values) == bind.txt(name)  # what dnspython reads from the server
    # a few names are still queried one by one (pipelined), no zone transfer
    few = get_provider("rfc2136", bind.provider_options())
    small = few.get_rrsets("example.test", names[:5])
    assert few.calls["transfers"] == 0 and few.calls["queries"] == 5 and few.calls["read"] == 1
    assert {n: sorted(r.values) for n, r in small.items()} == {n: expected[n] for n in names[:5]}


def test_refused_zone_transfer_falls_back_to_queries(bind_clean, rsa4096):
    bind = bind_clean
    expected = seed_zone(bind, 30)
    bind.set_transfer_allowed("example.test", False)
    try:
        # the server really refuses a transfer signed with the key
        import dns.query
        import dns.tsigkeyring
        import dns.xfr
        import dns.zone

        keyring = dns.tsigkeyring.from_text({bind.tsig["name"]: (bind.tsig["algorithm"], bind.tsig["secret"])})
        with pytest.raises(dns.xfr.TransferError):
            dns.zone.from_xfr(dns.query.xfr(bind.primary, "example.test", port=bind.port, keyring=keyring, lifetime=10))

        provider = get_provider("rfc2136", bind.provider_options())
        found = provider.get_rrsets("example.test", list(expected))
        assert provider.calls["transfers"] == 1 and provider.calls["transfers_refused"] == 1
        assert provider.calls["queries"] == 1 + 30  # the refused transfer, then one query per name
        assert provider.calls["read"] == 2
        assert {n: sorted(r.values) for n, r in found.items()} == expected
        # a second read of the zone does not ask for the transfer again
        provider.get_rrsets("example.test", list(expected))
        assert provider.calls["transfers"] == 1

        # the module publishes through the fallback, and a re-run changes nothing
        entries = many(25, rsa4096)
        args = module_args(bind, entries)
        args["lint_dns"] = False
        result = run_module("dns_records", args)
        assert not result.get("failed"), result.get("msg")
        assert result["api_calls"] == {"read": 2, "write": 1}
        for name, values in expected_records(entries, rsa4096).items():
            assert bind.txt(name) == values
        again = run_module("dns_records", args)
        assert again["changed"] is False and again["api_calls"]["write"] == 0
    finally:
        bind.set_transfer_allowed("example.test", True)
