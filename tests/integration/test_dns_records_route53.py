# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mailauth.core.dns_records with the route53 provider, against moto's server mode on loopback.

moto runs as ``moto_server -H 127.0.0.1 -p <port>``; the module talks to it through a proxy on
127.0.0.1 (route53/moto_lab.py) that logs what the server side receives, so write calls are
counted there and not only by the provider, and that injects faults (Throttling,
PriorRequestNotComplete, HTTP 5xx). Records are read back with amazon.aws.route53_info.
"""

from __future__ import annotations

import base64
import json

import moto_lab
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from servers import run_module

CHANGE = "ChangeResourceRecordSets"
FOREIGN = "google-site-verification=abc123"
OLD_SPF = "v=spf1 include:_spf.example.net ~all"


@pytest.fixture(scope="module")
def dkim_4096():
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


class Lab:
    """One test's view: moto reset, public zones example.test and example.net, proxy log cleared."""

    def __init__(self, server, proxy) -> None:
        self.server = server
        self.proxy = proxy
        server.require_auth(False)
        server.reset()
        # The test's own client goes straight to moto, not through the proxy.
        self.client = moto_lab.client(server.url)
        self.zone_ids = {}
        for zone in ("example.test", "example.net"):
            created = self.client.create_hosted_zone(Name=zone, CallerReference="mailauth-" + zone)
            self.zone_ids[zone] = created["HostedZone"]["Id"].split("/")[-1]
        proxy.clear()

    def put_txt(self, name: str, values: list[str], zone: str = "example.test", ttl: int = 300) -> None:
        # UPSERT, not CREATE: moto refuses a later CREATE that repeats a CREATE of its change journal
        # even when the same batch DELETEs the RRset first (real Route 53 accepts DELETE + CREATE).
        self.client.change_resource_record_sets(
            HostedZoneId=self.zone_ids[zone],
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": name + ".",
                            "Type": "TXT",
                            "TTL": ttl,
                            "ResourceRecords": [{"Value": '"%s"' % v} for v in values],
                        },
                    }
                ]
            },
        )

    def snapshot(self, zone: str) -> list:
        """Every RRset of ``zone`` as moto holds it (for "untouched" comparisons)."""
        sets = self.client.list_resource_record_sets(HostedZoneId=self.zone_ids[zone])["ResourceRecordSets"]
        return sorted(json.dumps(s, sort_keys=True) for s in sets)

    def options(self, **overrides) -> dict:
        options = {
            "endpoint_url": self.proxy.url,
            "aws_access_key_id": moto_lab.ACCESS_KEY,
            "aws_secret_access_key": moto_lab.SECRET_KEY,
            "region": moto_lab.REGION,
        }
        options.update(overrides)
        return options

    def publish(self, domains: list[dict], check: bool = False, **options) -> dict:
        args = {"provider": "route53", "route53": self.options(**options), "domains": domains, "lint_dns": False}
        return run_module("dns_records", args, check=check)

    def route53_info(self, zone: str) -> dict:
        """TXT values per name, read with amazon.aws.route53_info through Ansible (independent client)."""
        result = run_module(
            "amazon.aws.route53_info",
            {
                "query": "record_sets",
                "hosted_zone_id": self.zone_ids[zone],
                "max_items": "300",
                "endpoint_url": self.server.url,
                "access_key": moto_lab.ACCESS_KEY,
                "secret_key": moto_lab.SECRET_KEY,
                "region": moto_lab.REGION,
            },
        )
        assert not result.get("failed"), result.get("msg")
        out = {}
        for rrset in result["resource_record_sets"]:
            if rrset["type"] != "TXT":
                continue
            out[rrset["name"].rstrip(".")] = [r["value"] for r in rrset["resource_records"]]
        return out


@pytest.fixture
def lab(aws):
    return Lab(*aws)


def strings(value: str) -> list[str]:
    """The character-strings of a Route 53 TXT value (no escapes in our test values)."""
    assert value.startswith('"') and value.endswith('"'), value
    return value[1:-1].split('" "')


def mail_domain(name: str, public_key: str, **extra) -> dict:
    entry = {
        "name": name,
        "ttl": 300,
        "spf": {"mechanisms": ["mx"], "all": "-all"},
        "dkim": [{"selector": "mx1", "key_type": "rsa", "public_key": public_key}],
        "dmarc": {"p": "reject", "rua": ["dmarc@%s" % name]},
    }
    entry.update(extra)
    return entry


def test_one_change_batch_per_zone_read_back_independently_4096_split(lab, dkim_4096):
    """What only Route 53 shows (the four steps, foreign TXT, SPF merge modes and a failed zone are in
    test_provider_contract.py): check mode leaves the zone as it was, the zone's changes go in ONE
    ChangeBatch after two reads, and an independent client (amazon.aws.route53_info) reads the
    merged apex and the 4096-bit key as <=255-octet character-strings."""
    lab.put_txt("example.test", [FOREIGN, OLD_SPF])
    before = lab.snapshot("example.test")
    domains = [mail_domain("example.test", dkim_4096, spf_merge="merge")]

    assert lab.publish(domains, check=True)["changed"] is True
    assert lab.proxy.count(CHANGE) == 0 and lab.snapshot("example.test") == before

    applied = lab.publish(domains)
    assert not applied.get("failed"), applied.get("msg")
    assert lab.proxy.count(CHANGE) == 1  # every change of the zone in ONE ChangeBatch
    assert applied["api_calls"] == {"read": 2, "write": 1}
    assert lab.publish(domains)["changed"] is False and lab.proxy.count(CHANGE) == 1

    txt = lab.route53_info("example.test")
    apex = sorted(txt["example.test"])
    assert apex == sorted(['"%s"' % FOREIGN, '"v=spf1 mx include:_spf.example.net -all"'])
    dkim = txt["mx1._domainkey.example.test"]
    assert len(dkim) == 1
    parts = strings(dkim[0])
    assert len(parts) > 1 and all(len(p) <= 255 for p in parts)
    assert "".join(parts) == "v=DKIM1; k=rsa; p=" + dkim_4096
    assert txt["_dmarc.example.test"] == ['"v=DMARC1; p=reject; rua=mailto:dmarc@example.test"']


def test_state_absent_removes_only_managed_values(lab, dkim_4096):
    lab.put_txt("example.test", [FOREIGN])
    domains = [mail_domain("example.test", dkim_4096)]
    assert lab.publish(domains)["changed"] is True
    removed = lab.publish([dict(domains[0], state="absent")])
    assert not removed.get("failed"), removed.get("msg")
    assert removed["changed"] is True
    assert lab.route53_info("example.test") == {"example.test": ['"%s"' % FOREIGN]}


def test_throttling_and_prior_request_not_complete_are_retried(lab, dkim_4096):
    lab.proxy.inject(CHANGE, "Throttling", times=2, message="Rate exceeded")
    lab.proxy.inject(
        CHANGE,
        "PriorRequestNotComplete",
        times=1,
        message="The request was rejected because Route 53 was still processing a prior request.",
    )
    result = lab.publish([mail_domain("example.test", dkim_4096)])
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert lab.proxy.count(CHANGE, "fault Throttling") == 2
    assert lab.proxy.count(CHANGE, "fault PriorRequestNotComplete") == 1
    assert lab.proxy.count(CHANGE, "forwarded") == 1
    assert result["api_calls"]["write"] == 4  # every round trip counted, retries included
    assert set(lab.route53_info("example.test")) == {
        "example.test",
        "mx1._domainkey.example.test",
        "_dmarc.example.test",
    }


def test_server_error_retried_max_attempts_times_zone_untouched(lab, dkim_4096):
    """Route 53's retries (the contract's failed zone runs with max_attempts 1): every attempt for the
    second zone gets HTTP 500, the batch is tried max_attempts times, and the zone stays as it was."""
    domains = [mail_domain("example.test", dkim_4096), mail_domain("example.net", dkim_4096)]
    before = {zone: lab.snapshot(zone) for zone in lab.zone_ids}
    lab.proxy.inject(CHANGE, "InternalFailure", times=100, status=500, skip=1)
    failed = lab.publish(domains, max_attempts=3)
    assert failed.get("failed") is True
    assert "HTTP 500" in failed["msg"] and "re-run" in failed["msg"]
    assert lab.proxy.count(CHANGE, "forwarded") == 1
    assert lab.proxy.count(CHANGE, "fault InternalFailure") == 3  # max_attempts
    assert lab.snapshot(failed["failed_zone"]) == before[failed["failed_zone"]]


def test_wrong_credentials_is_a_clear_error(lab, dkim_4096):
    before = lab.snapshot("example.test")
    wrong = "wrong-secret-" + "x" * 20
    lab.server.require_auth(True)
    try:
        result = lab.publish([mail_domain("example.test", dkim_4096)], aws_secret_access_key=wrong)
    finally:
        lab.server.require_auth(False)
    assert result.get("failed") is True
    assert "rejected the credentials" in result["msg"]
    assert "nothing was changed" in result["msg"]
    assert wrong not in json.dumps(result)
    assert lab.proxy.count(CHANGE) == 0
    assert lab.snapshot("example.test") == before


def test_unknown_zone_is_a_clear_error_and_nothing_changes(lab, dkim_4096):
    before = {zone: lab.snapshot(zone) for zone in lab.zone_ids}
    result = lab.publish([mail_domain("example.test", dkim_4096), mail_domain("example.org", dkim_4096)])
    assert result.get("failed") is True
    assert "example.org" in result["msg"]
    assert "nothing was changed" in result["msg"]
    assert lab.proxy.count(CHANGE) == 0
    assert {zone: lab.snapshot(zone) for zone in lab.zone_ids} == before


def test_zone_split_at_the_request_limit_later_batch_fails_then_rerun(lab, dkim_4096):
    """60 domains with 4096-bit keys (~50,000 characters of Value) need two ChangeBatches; the
    second one fails: the names of the first are reported, and a re-run completes the work. The
    provider options wait, timeouts, validate_certs and private_zone pass through the module."""
    domains = [mail_domain("d%02d.example.test" % i, dkim_4096, zone="example.test") for i in range(60)]
    options = dict(max_attempts=1, wait=True, wait_timeout=30, connect_timeout=5, read_timeout=30, validate_certs=False)
    options["private_zone"] = False
    lab.proxy.inject(CHANGE, "InternalFailure", times=100, status=500, skip=1)
    failed = lab.publish(domains, **options)
    assert failed.get("failed") is True
    assert failed["failed_zone"] == "example.test"
    assert failed["changed"] is True
    assert lab.proxy.count(CHANGE, "forwarded") == 1
    assert lab.proxy.count("GetChange") >= 1  # wait=true: the first batch was waited for
    done = failed["failed_zone_applied"]
    assert 0 < len(done) < 3 * 60
    served = lab.route53_info("example.test")
    assert set(served) == set(done)

    lab.proxy.clear()
    rerun = lab.publish(domains, **options)
    assert not rerun.get("failed"), rerun.get("msg")
    assert {e["name"] for e in rerun["plan"]} == {n for d in domains for n in names_of(d)} - set(done)
    assert lab.proxy.count(CHANGE) == 1
    assert set(lab.route53_info("example.test")) == {n for d in domains for n in names_of(d)}
    assert lab.publish(domains, **options)["changed"] is False


def names_of(entry: dict) -> list[str]:
    return [entry["name"], "mx1._domainkey." + entry["name"], "_dmarc." + entry["name"]]
