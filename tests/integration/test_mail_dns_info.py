# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mailauth.core.mail_dns_info against a real BIND primary and secondary on loopback."""

from __future__ import annotations

import base64
import socket
import threading

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsigkeyring
import dns.update
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.mailauth.core.plugins.module_utils import _txt

KEY = rsa.generate_private_key(public_exponent=65537, key_size=4096).public_key()
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()


def pem(key) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def p_value(key) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def add_txt(bind, zone: str, name: str, value: str, ttl: int = 60) -> None:
    bind.nsupdate("add %s %d %s" % (name, ttl, _txt.to_zone_text(value)), zone=zone)


def add_record(bind, zone: str, name: str, rtype: str, text: str, ttl: int = 60) -> None:
    keyring = dns.tsigkeyring.from_text({bind.tsig["name"]: (bind.tsig["algorithm"], bind.tsig["secret"])})
    update = dns.update.UpdateMessage(zone, keyring=keyring)
    update.add(name, ttl, rtype, text)
    response = dns.query.tcp(update, bind.primary, timeout=5, port=bind.port)
    assert response.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(response.rcode())


def codes(findings, severity=None):
    return sorted(f["code"] for f in findings if severity is None or f["severity"] == severity)


def test_records_lint_lookup_count_and_key_match(bind_clean, module_runner):
    bind = bind_clean
    dkim_value = "v=DKIM1; k=rsa; p=" + p_value(KEY)
    add_txt(bind, "example.org", "example.org.", "google-site-verification=abc")
    add_txt(bind, "example.org", "example.org.", "v=spf1 mx include:_spf1.example.org -all")
    add_txt(bind, "example.org", "_spf1.example.org.", "v=spf1 a:relay.example.org include:_spf2.example.org ~all")
    add_txt(bind, "example.org", "_spf2.example.org.", "v=spf1 a ?all")
    add_txt(bind, "example.org", "_dmarc.example.org.", "v=DMARC1; p=reject; pct=50; rua=mailto:d@example.net")
    add_txt(bind, "example.org", "mx1._domainkey.example.org.", dkim_value)
    # relay dual-stack: an A-only host would be a void lookup for IPv6 clients (RFC 7208 4.6.4, 5.3)
    add_record(bind, "example.org", "relay.example.org.", "A", "192.0.2.25")
    add_record(bind, "example.org", "relay.example.org.", "AAAA", "2001:db8::25")
    add_txt(bind, "example.org", "old._domainkey.example.org.", "v=DKIM1; k=rsa; p=" + p_value(OTHER_KEY))
    # example.net: an include chain of 11 lookups
    for level in range(11):
        nxt = "include:inc%d.example.net " % (level + 1) if level < 10 else ""
        add_txt(bind, "example.net", "inc%d.example.net." % level, "v=spf1 %s-all" % nxt)
    add_txt(bind, "example.net", "example.net.", "v=spf1 include:inc0.example.net -all")
    bind.wait_synced("example.org")
    bind.wait_synced("example.net")
    assert len(bind.txt_strings("mx1._domainkey.example.org")[0]) == 3  # really split on the wire

    result = module_runner(
        "mail_dns_info",
        {
            "domains": [
                {
                    "name": "example.org",
                    "spf": "v=spf1  mx include:_spf1.example.org -all",
                    "dmarc": {"p": "reject", "rua": ["d@example.net"]},
                    "dkim": [
                        {"selector": "mx1", "public_key": pem(KEY), "value": dkim_value},
                        {"selector": "old", "public_key": pem(KEY)},
                        {"selector": "missing"},
                    ],
                },
                {"name": "example.net"},
            ],
            "nameserver": bind.servers[0],
            "port": bind.port,
            "all_authoritative": True,
        },
        check=True,
    )
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    org, net = result["domains"]
    assert org["zone"] == "example.org"
    assert sorted(ns["address"] for ns in org["nameservers"]) == sorted(bind.servers)
    assert org["consistent"] is True
    assert set(org["served"]) == set(bind.servers)
    assert org["spf"]["records"] == ["v=spf1 mx include:_spf1.example.org -all"]
    assert org["spf"]["match"] is True
    # mx, include:_spf1, a:relay, include:_spf2, a -- the mx and the last a find nothing (void)
    assert org["spf"]["lookups"] == 5
    assert org["spf"]["void_lookups"] == 2
    assert org["dmarc"]["records"] == ["v=DMARC1; p=reject; pct=50; rua=mailto:d@example.net"]
    assert org["dmarc"]["match"] is False  # pct=50 is not in the expected record
    mx1, old, missing = org["dkim"]
    assert (mx1["public_key_match"], mx1["value_match"], mx1["key_type"], mx1["key_size"]) == (True, True, "rsa", 4096)
    assert mx1["records"] == [dkim_value]
    assert (old["public_key_match"], old["key_size"]) == (False, 2048)
    assert missing["records"] == [] and missing["public_key_match"] is None
    assert codes(org["findings"], "warning") == ["dmarc-removed-tag", "dmarc-report-authorisation"]
    assert codes(org["findings"], "error") == ["dkim-missing"]
    assert net["spf"]["lookups"] == 11
    assert codes(net["findings"], "error") == ["spf-lookup-limit"]
    assert "11 DNS lookups" in net["findings"][0]["message"]
    assert result["error_count"] == 2


def test_wait_until_both_servers_serve_the_key(bind_clean, module_runner):
    bind = bind_clean
    value = "v=DKIM1; k=rsa; p=" + p_value(KEY)
    add_txt(bind, "example.test", "new._domainkey.example.test.", value)
    result = module_runner(
        "mail_dns_info",
        {
            "domains": [{"name": "example.test", "dkim": [{"selector": "new", "public_key": pem(KEY)}]}],
            "nameserver": bind.servers[0],
            "port": bind.port,
            "all_authoritative": True,
            "wait": True,
            "wait_timeout": 30,
            "wait_interval": 0.2,
        },
    )
    assert not result.get("failed"), result.get("msg")
    assert result["waited"] < 30
    served = result["domains"][0]["served"]
    for server in bind.servers:
        assert served[server]["new._domainkey.example.test"] == [value]
    assert result["domains"][0]["dkim"][0]["public_key_match"] is True


def test_mta_sts_and_tls_rpt_are_verified_and_linted(bind_clean, module_runner):
    """Everything dns_records publishes is verified: _mta-sts and _smtp._tls TXT (RFC 8461 3.1, RFC 8460 3)."""
    bind = bind_clean
    add_txt(bind, "example.org", "_mta-sts.example.org.", "v=STSv1; id=20260101")
    add_txt(bind, "example.org", "_smtp._tls.example.org.", "v=TLSRPTv1;rua=mailto:tls@example.org")
    add_txt(bind, "example.org", "_smtp._tls.example.org.", "unrelated")
    # example.net: two MTA-STS records (senders see no policy) and a TLS-RPT record with a bad URI
    add_txt(bind, "example.net", "_mta-sts.example.net.", "v=STSv1; id=1")
    add_txt(bind, "example.net", "_mta-sts.example.net.", "v=STSv1; id=2")
    add_txt(bind, "example.net", "_smtp._tls.example.net.", "v=TLSRPTv1; rua=ftp://x.example.net/")
    bind.wait_synced("example.org")
    bind.wait_synced("example.net")
    args = {
        "domains": [
            {
                "name": "example.org",
                "mta_sts": {"id": "20260101"},
                "tls_rpt": {"rua": ["tls@example.org"]},
            },
            {"name": "example.net", "mta_sts": "v=STSv1; id=2"},
            {"name": "example.test", "mta_sts": 7, "tls_rpt": ["tls@example.test"]},
        ],
        "nameserver": bind.servers[0],
        "port": bind.port,
        "all_authoritative": True,
    }
    for _step in ("check", "apply"):  # read-only: the same answer in check mode and without it
        result = module_runner("mail_dns_info", args, check=_step == "check")
        assert not result.get("failed"), result.get("msg")
        assert result["changed"] is False
        org, net, test = result["domains"]
        assert org["mta_sts"] == {
            "name": "_mta-sts.example.org",
            "records": ["v=STSv1; id=20260101"],
            "expected": "v=STSv1; id=20260101",
            "match": True,
        }
        assert org["tls_rpt"]["records"] == ["v=TLSRPTv1;rua=mailto:tls@example.org"]
        assert org["tls_rpt"]["expected"] == "v=TLSRPTv1; rua=mailto:tls@example.org"
        assert org["tls_rpt"]["match"] is True  # compared semantically
        assert [f for f in org["findings"] if f["code"].startswith(("mta-sts", "tls-rpt"))] == []
        assert net["mta_sts"]["match"] is False
        assert codes(net["findings"], "error") == ["mta-sts-multiple", "tls-rpt-syntax"]
        assert net["tls_rpt"]["expected"] is None and net["tls_rpt"]["match"] is None
        assert (test["mta_sts"]["records"], test["mta_sts"]["match"]) == ([], False)
        assert codes(test["findings"], "error") == ["mta-sts-missing", "tls-rpt-missing"]


def test_wait_for_mta_sts_and_tls_rpt(bind_clean, module_runner):
    bind = bind_clean
    add_txt(bind, "example.test", "_mta-sts.example.test.", "v=STSv1; id=abc")
    add_txt(bind, "example.test", "_smtp._tls.example.test.", "v=TLSRPTv1; rua=https://rpt.example.test/v1")
    result = module_runner(
        "mail_dns_info",
        {
            "domains": [
                {"name": "example.test", "mta_sts": "v=STSv1; id=abc", "tls_rpt": ["https://rpt.example.test/v1"]}
            ],
            "nameserver": bind.servers[0],
            "port": bind.port,
            "all_authoritative": True,
            "wait": True,
            "wait_timeout": 30,
            "wait_interval": 0.2,
        },
    )
    assert not result.get("failed"), result.get("msg")
    domain = result["domains"][0]
    assert domain["mta_sts"]["match"] is True and domain["tls_rpt"]["match"] is True
    for server in bind.servers:
        assert domain["served"][server]["_mta-sts.example.test"] == ["v=STSv1; id=abc"]


class StaleServer:
    """An authoritative server on 127.0.0.4 that still serves old TXT values (a lagging secondary)."""

    address = "127.0.0.4"

    def __init__(self, port: int, zone: str, txt: dict) -> None:
        self.zone = dns.name.from_text(zone)
        self.txt = {dns.name.from_text(k): v for k, v in txt.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.address, port))
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            question = query.question[0]
            if question.name in self.txt and question.rdtype == dns.rdatatype.TXT:
                texts = [_txt.to_zone_text(v) for v in self.txt[question.name]]
                response.answer.append(dns.rrset.from_text_list(question.name, 60, "IN", "TXT", texts))
            self.sock.sendto(response.to_wire(), peer)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()


def test_wait_times_out_when_one_server_lags(bind_clean, module_runner):
    bind = bind_clean
    add_txt(bind, "example.test", "_dmarc.example.test.", "v=DMARC1; p=reject")
    keyring = dns.tsigkeyring.from_text({bind.tsig["name"]: (bind.tsig["algorithm"], bind.tsig["secret"])})
    update = dns.update.UpdateMessage("example.test", keyring=keyring)
    update.add("ns3", 300, "A", StaleServer.address)
    update.add("@", 300, "NS", "ns3.example.test.")
    assert dns.query.tcp(update, bind.servers[0], timeout=5, port=bind.port).rcode() == dns.rcode.NOERROR
    bind.wait_synced("example.test")
    with StaleServer(bind.port, "example.test", {"_dmarc.example.test": ["v=DMARC1; p=none"]}):
        result = module_runner(
            "mail_dns_info",
            {
                "domains": [{"name": "example.test", "dmarc": "v=DMARC1; p=reject"}],
                "nameserver": bind.servers[0],
                "port": bind.port,
                "all_authoritative": True,
                "wait": True,
                "wait_timeout": 2,
                "wait_interval": 0.3,
            },
        )
    assert result.get("failed") is True
    msg = result["msg"]
    assert msg.startswith("timed out after 2s waiting for every nameserver to serve the expected records")
    assert "127.0.0.4 does not serve DMARC 'v=DMARC1; p=reject' at _dmarc.example.test" in msg
    assert "v=DMARC1; p=none" in msg
    for server in bind.servers:  # the up-to-date servers are not blamed
        assert "%s does not serve" % server not in msg


def test_bad_input_fails_clearly(bind, module_runner):
    result = module_runner(
        "mail_dns_info",
        {"domains": [{"name": "bad-.test"}], "nameserver": bind.servers[0], "port": bind.port},
    )
    assert result["failed"] is True
    assert "domain (label 'bad-'): 'bad-' is not a DNS label" in result["msg"]
    result = module_runner(
        "mail_dns_info",
        {"domains": [{"name": "example.test"}], "nameserver": "ns1.example.test", "port": bind.port},
    )
    assert result["failed"] is True
    assert "nameserver must be an IP address" in result["msg"]
