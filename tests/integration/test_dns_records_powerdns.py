# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dns_records against a real PowerDNS Authoritative server (gsqlite3) through its HTTP API.

A small HTTP proxy on loopback (servers.CountingProxy) sits between the module and the API: it
counts every request the server receives (so check mode is proved to send no PATCH) and injects
5xx faults.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dnsdata import domain, serials, spf_values
from servers import CountingProxy, free_port, run_module

FOREIGN = "google-site-verification=pdns-foreign-value"


@pytest.fixture(scope="module")
def proxy(pdns):
    p = CountingProxy(pdns.api_url)
    yield p
    p.close()


@pytest.fixture
def pdns_clean(pdns, proxy):
    pdns.reset()
    proxy.requests.clear()
    proxy.faults.clear()
    return pdns


@pytest.fixture(scope="module")
def rsa4096():
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def module_args(pdns, proxy, domains, **overrides):
    options = pdns.provider_options(api_url=proxy.url)
    options.update(overrides)
    return {"provider": "powerdns", "powerdns": options, "domains": domains, "lint_dns": False}


def test_one_patch_per_zone_serials_and_4096_bit_split(pdns_clean, proxy, rsa4096):
    """What only PowerDNS shows (the four steps, foreign TXT, SPF merge and a failed zone are in
    test_provider_contract.py): every GET counted as a read, check mode keeps the serials, the zone's
    changes go in ONE PATCH, a no-op run keeps the serial, and the API stores the 4096-bit key split."""
    pdns = pdns_clean
    pdns.set_rrset("example.test", "example.test", ['"%s"' % FOREIGN])
    before = serials(pdns)
    proxy.requests.clear()
    args = module_args(pdns, proxy, [domain(dkim=[{"selector": "mx1", "public_key": rsa4096}])])

    first = run_module("dns_records", args, check=True)
    assert first["changed"] is True
    assert proxy.count("PATCH") == 0 and proxy.count("GET") == first["api_calls"]["read"]
    assert serials(pdns) == before

    second = run_module("dns_records", args)
    assert not second.get("failed"), second.get("msg")
    assert second["api_calls"]["write"] == 1 and proxy.count("PATCH") == 1

    serial = pdns.serial("example.test")
    assert run_module("dns_records", args)["changed"] is False
    assert proxy.count("PATCH") == 1 and pdns.serial("example.test") == serial

    # read back: DNS (dnspython against pdns) and the API itself
    expected_dkim = "v=DKIM1; k=rsa; p=" + rsa4096
    apex = pdns.txt("example.test")
    assert FOREIGN in apex and spf_values(apex) == ["v=spf1 mx ip4:192.0.2.10 -all"]
    assert pdns.txt("mx1._domainkey.example.test") == [expected_dkim]
    contents = pdns.rrset("mx1._domainkey.example.test")
    assert len(contents) == 1 and contents[0].count('" "') >= 2  # split into <=255-byte strings
    assert pdns.txt("_dmarc.example.test") == ["v=DMARC1; p=reject; rua=mailto:dmarc@example.test"]


def test_split_value_is_not_rewritten(pdns_clean, proxy):
    pdns = pdns_clean
    pdns.set_rrset("example.test", "_dmarc.example.test", ['"v=DMARC1; p=" "reject"'], ttl=600)
    args = module_args(pdns, proxy, [{"name": "example.test", "ttl": 600, "dmarc": {"p": "reject"}}])
    result = run_module("dns_records", args)
    assert result["changed"] is False, result["plan"]
    assert proxy.count("PATCH") == 0


def test_wrong_api_key(pdns_clean, proxy):
    pdns = pdns_clean
    before = serials(pdns)
    result = run_module("dns_records", module_args(pdns, proxy, [domain()], api_key="wrong-key"))
    assert result.get("failed") is True
    assert "api_key" in result["msg"] and "wrong-key" not in result["msg"]
    assert proxy.count("PATCH") == 0 and serials(pdns) == before


def test_zone_that_does_not_exist(pdns_clean, proxy):
    pdns = pdns_clean
    before = serials(pdns)
    result = run_module("dns_records", module_args(pdns, proxy, [domain("example.test"), domain("example.com")]))
    assert result.get("failed") is True
    assert "example.com" in result["msg"] and "nothing was changed" in result["msg"]
    assert proxy.count("PATCH") == 0 and serials(pdns) == before


def test_bad_input_sends_nothing(pdns_clean, proxy):
    pdns = pdns_clean
    result = run_module(
        "dns_records", module_args(pdns, proxy, [domain(), {"name": "example.net", "spf": {"ip4": ["10.0.0.0/40"]}}])
    )
    assert result.get("failed") is True and "10.0.0.0/40" in result["msg"]
    assert proxy.requests == []


def test_server_unreachable(pdns_clean, proxy):
    pdns = pdns_clean
    closed = "http://127.0.0.1:%d" % free_port("127.0.0.1")
    result = run_module("dns_records", module_args(pdns, proxy, [domain()], api_url=closed))
    assert result.get("failed") is True
    assert "refused" in result["msg"].lower() and "nothing was changed" in result["msg"]
