# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The provider contract, run by every backend of the registry through mailauth.core.dns_records.

1. Four steps: check (changed, zero writes, the plan and its diff), apply, check again (changed
   false), apply again (changed false, zero writes).
2. A foreign TXT value at the apex is kept byte for byte, and an existing SPF record is merged
   (one SPF record afterwards, holding the old and the new mechanisms); ``spf_merge: keep`` leaves
   it alone, ``replace`` replaces it.
3. A write fault on the second of two zones: the first zone is applied and reported, the failed
   zone is named and unchanged, the error says why (the backend's own words), and a re-run
   completes the work.

Backends: rfc2136 on BIND, powerdns and lexicon (lexicon's PowerDNS provider) on pdns_server,
route53 on moto, cloudflare on a stateful fake of its API, zonefile on a directory. A backend's
own test file holds only what is specific to it.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dns.zone
import moto_lab
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from servers import CountingProxy, LoopbackHttp, run_module

from ansible_collections.mailauth.core.plugins.module_utils import _providers, _txt

HERE = Path(__file__).resolve().parent
ZONES = ("example.test", "example.net")
FOREIGN = "google-site-verification=contract-foreign-value"
OLD_SPF = "v=spf1 include:_spf.example.org ~all"


# ---------------------------------------------------------------------------------------------
# a fake Cloudflare API (the PowerDNS API is reached through servers.CountingProxy)
class FakeCloudflare(LoopbackHttp):
    """Zones and TXT records in memory; GET zones, GET dns_records (one page), POST batch."""

    def __init__(self, zones: tuple) -> None:
        super().__init__()
        self.zones = {uuid.uuid4().hex: z for z in zones}
        self.records: dict = {}  # id -> {id, zone_id, type, name, content, ttl}

    def _zone_id(self, zone: str) -> str:
        return next(i for i, z in self.zones.items() if z == zone)

    def add(self, zone: str, name: str, content: str, ttl: int = 300) -> None:
        record_id = uuid.uuid4().hex
        self.records[record_id] = dict(
            id=record_id, zone_id=self._zone_id(zone), type="TXT", name=name, content=content, ttl=ttl
        )

    def handle(self, method, path, body, headers):
        split = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        parts = split.path.split("/")[3:]  # /client/v4/<...>
        ok = {"success": True, "errors": [], "result_info": {"page": 1, "total_pages": 1}}
        with self.lock:
            if parts == ["zones"]:
                result = [{"id": i, "name": z} for i, z in self.zones.items() if z == query.get("name")]
            elif len(parts) == 3 and parts[2] == "dns_records":
                result = [
                    dict(r)
                    for r in self.records.values()
                    if r["zone_id"] == parts[1]
                    and r["type"] == query.get("type")
                    and ("name" not in query or r["name"] == query["name"])
                ]
            elif len(parts) == 4 and parts[3] == "batch" and method == "POST":
                batch = json.loads(body)
                for op in batch.get("deletes", []):
                    del self.records[op["id"]]
                for op in batch.get("patches", []):
                    self.records[op["id"]].update({k: v for k, v in op.items() if v is not None})
                for op in batch.get("posts", []):
                    zone = self.zones[parts[1]]
                    self.add(zone, op["name"], op["content"], op["ttl"])
                result = {}
            else:
                return 404, json.dumps({"success": False, "errors": [{"code": 7003, "message": "no route"}]}).encode()
        return 200, json.dumps(dict(ok, result=result)).encode()

    def values(self, name: str) -> list:
        with self.lock:
            return sorted(_txt.from_zone_text(r["content"]) for r in self.records.values() if r["name"] == name)


# ---------------------------------------------------------------------------------------------
# one adapter per backend: args(), seed(), values(), writes(), fault(zone)
class Rfc2136:
    fault_words = "refused"

    def __init__(self, bind):
        self.bind = bind
        bind.reset()
        self.denied: list = []

    def args(self):
        return {"provider": "rfc2136", "rfc2136": self.bind.provider_options()}

    def seed(self, name, values):
        self.bind.nsupdate(*["add %s. 300 %s" % (name, _txt.to_zone_text(v)) for v in values])

    def values(self, name):
        return sorted(self.bind.txt(name))

    def writes(self):
        return self.bind.update_count()

    def fault(self, zone):
        self.bind.set_update_allowed(zone, False)
        self.denied.append(zone)

    def heal(self):
        for zone in self.denied:
            self.bind.set_update_allowed(zone, True)

    def close(self):
        self.heal()


class PowerDNS:
    name = "powerdns"
    fault_words = "503"

    def __init__(self, pdns):
        self.pdns = pdns
        pdns.reset()
        self.proxy = CountingProxy(pdns.api_url)

    def args(self):
        return {"provider": "powerdns", "powerdns": self.pdns.provider_options(api_url=self.proxy.url)}

    def seed(self, name, values):
        zone = next(z for z in ZONES if name == z or name.endswith("." + z))
        self.pdns.set_rrset(zone, name, [_txt.to_zone_text(v) for v in values])

    def values(self, name):
        return sorted(self.pdns.txt(name))

    def writes(self):
        return self.proxy.writes()

    def fault(self, zone):
        self.proxy.faults.append(["PATCH", zone, 503, 100])

    def heal(self):
        self.proxy.faults.clear()

    def close(self):
        self.proxy.close()


class Lexicon(PowerDNS):
    """lexicon's PowerDNS provider against the same pdns_server."""

    def args(self):
        options = {
            "provider_name": "powerdns",
            "credentials": {"auth_token": self.pdns.api_key},
            "settings": {"pdns_server": self.proxy.url, "pdns_server_id": "localhost"},
            "split_txt": True,
        }
        return {"provider": "lexicon", "lexicon": options}


class Route53:
    fault_words = "HTTP 500"

    def __init__(self, aws):
        self.server, self.proxy = aws
        self.server.require_auth(False)
        self.server.reset()
        self.client = moto_lab.client(self.server.url)
        self.zone_ids = {}
        for zone in ZONES:
            created = self.client.create_hosted_zone(Name=zone, CallerReference="contract-%s" % uuid.uuid4().hex)
            self.zone_ids[zone] = created["HostedZone"]["Id"].split("/")[-1]
        self.proxy.clear()

    def args(self):
        options = {
            "endpoint_url": self.proxy.url,
            "aws_access_key_id": moto_lab.ACCESS_KEY,
            "aws_secret_access_key": moto_lab.SECRET_KEY,
            "region": moto_lab.REGION,
            "max_attempts": 1,
        }
        return {"provider": "route53", "route53": options}

    def _zone(self, name):
        return next(z for z in ZONES if name == z or name.endswith("." + z))

    def seed(self, name, values):
        rrset = {"Name": name + ".", "Type": "TXT", "TTL": 300, "ResourceRecords": []}
        rrset["ResourceRecords"] = [{"Value": _txt.to_zone_text(v)} for v in values]
        self.client.change_resource_record_sets(
            HostedZoneId=self.zone_ids[self._zone(name)],
            ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": rrset}]},
        )

    def values(self, name):
        sets = self.client.list_resource_record_sets(
            HostedZoneId=self.zone_ids[self._zone(name)], StartRecordName=name + ".", StartRecordType="TXT"
        )["ResourceRecordSets"]
        for rrset in sets:
            if rrset["Name"] == name + "." and rrset["Type"] == "TXT":
                return sorted(_txt.from_zone_text(r["Value"]) for r in rrset["ResourceRecords"])
        return []

    def writes(self):
        return self.proxy.count("ChangeResourceRecordSets")

    def fault(self, zone):
        # The second zone's change batch is the second ChangeResourceRecordSets request of the run.
        self.proxy.inject("ChangeResourceRecordSets", "InternalFailure", times=100, status=500, skip=1)

    def heal(self):
        self.proxy.clear()

    def close(self):
        self.server.reset()


class Cloudflare:
    fault_words = "HTTP 400"

    def __init__(self):
        self.api = FakeCloudflare(ZONES)

    def args(self):
        options = {"api_token": "contract-token", "api_url": self.api.url + "/client/v4", "retries": 0}
        return {"provider": "cloudflare", "cloudflare": options}

    def seed(self, name, values):
        zone = next(z for z in ZONES if name == z or name.endswith("." + z))
        for value in values:
            self.api.add(zone, name, _txt.to_zone_text(value))

    def values(self, name):
        return self.api.values(name)

    def writes(self):
        return self.api.writes()

    def fault(self, zone):
        self.api.faults.append(["POST", self.api._zone_id(zone), 400, 100])

    def heal(self):
        self.api.faults.clear()

    def close(self):
        self.api.close()


class Zonefile:
    fault_words = "zonefile: cannot"

    def __init__(self, path: Path):
        self.path = path
        self.path.mkdir()
        for zone in ZONES:
            (path / ("%s.zone" % zone)).write_text("$ORIGIN %s.\n" % zone)

    def args(self):
        return {"provider": "zonefile", "zonefile": {"path": str(self.path)}}

    def _zone(self, name):
        return next(z for z in ZONES if name == z or name.endswith("." + z))

    def seed(self, name, values):
        zone = self._zone(name)
        owner = "@" if name == zone else name[: -len(zone) - 1]
        with open(self.path / ("%s.zone" % zone), "a") as handle:
            for value in values:
                handle.write("%s 300 IN TXT %s\n" % (owner, _txt.to_zone_text(value)))

    def values(self, name):
        """TXT values of ``name`` in the zone snippet (the source of truth), read with dnspython."""
        zone = self._zone(name)
        text = (self.path / ("%s.zone" % zone)).read_text()
        parsed = dns.zone.from_text(text, origin=zone + ".", relativize=False, check_origin=False)
        rdataset = parsed.get_rdataset(name + ".", "TXT")
        return sorted(b"".join(r.strings).decode() for r in rdataset) if rdataset else []

    def writes(self):
        return sum(p.stat().st_mtime_ns for p in sorted(self.path.iterdir()))

    def fault(self, zone):
        # The zone's JSON file cannot be replaced: a directory stands in its place.
        target = self.path / ("%s.json" % zone)
        if target.exists():
            target.unlink()
        target.mkdir()
        self.broken = target

    def heal(self):
        self.broken.rmdir()

    def close(self):
        pass


BACKENDS = ("rfc2136", "powerdns", "lexicon", "route53", "cloudflare", "zonefile")


def test_the_contract_covers_every_registered_provider():
    assert set(BACKENDS) == set(_providers.PROVIDER_NAMES)


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    name = request.param
    if name == "rfc2136":
        made = Rfc2136(request.getfixturevalue("bind"))
    elif name in ("powerdns", "lexicon"):
        made = (PowerDNS if name == "powerdns" else Lexicon)(request.getfixturevalue("pdns"))
    elif name == "route53":
        made = Route53(request.getfixturevalue("aws"))
    elif name == "cloudflare":
        made = Cloudflare()
    else:
        made = Zonefile(tmp_path / "zones")
    made.name = name
    yield made
    made.close()


@pytest.fixture(scope="module")
def dkim_2048():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def entry(name: str, dkim: str) -> dict:
    return {
        "name": name,
        "ttl": 300,
        "spf": {"mechanisms": ["mx"], "ip4": ["192.0.2.10"], "all": "-all"},
        "dkim": [{"selector": "mx1", "key_type": "rsa", "public_key": dkim}],
        "dmarc": {"p": "reject", "rua": ["dmarc@%s" % name]},
    }


def publish(backend, domains: list, check: bool = False) -> dict:
    args = dict(backend.args(), domains=domains, lint_dns=False)
    return run_module("dns_records", args, check=check, diff=check)


def test_four_steps_foreign_txt_kept_spf_merged(backend, dkim_2048):
    backend.seed("example.test", [FOREIGN, OLD_SPF])
    domains = [entry("example.test", dkim_2048)]
    before = backend.writes()

    planned = publish(backend, domains, check=True)
    assert not planned.get("failed"), planned.get("msg")
    assert planned["changed"] is True
    assert planned["api_calls"]["write"] == 0
    assert backend.writes() == before, "check mode wrote to the provider"
    assert {(e["name"], e["action"]) for e in planned["plan"]} == {
        ("example.test", "update"),
        ("mx1._domainkey.example.test", "create"),
        ("_dmarc.example.test", "create"),
    }
    assert any("mx1._domainkey.example.test" in d["after_header"] for d in planned["diff"]), "diff shows the plan"
    assert backend.values("mx1._domainkey.example.test") == []
    assert backend.values("example.test") == sorted([FOREIGN, OLD_SPF])

    applied = publish(backend, domains)
    assert not applied.get("failed"), applied.get("msg")
    assert applied["changed"] is True and applied["applied_zones"] == ["example.test"]
    apex = backend.values("example.test")
    assert FOREIGN in apex
    spf = [v for v in apex if v.startswith("v=spf1")]
    assert len(spf) == 1, apex
    assert spf == ["v=spf1 mx ip4:192.0.2.10 include:_spf.example.org -all"]
    dkim = backend.values("mx1._domainkey.example.test")
    assert len(dkim) == 1 and dkim[0].replace(" ", "").endswith("p=" + dkim_2048)
    assert backend.values("_dmarc.example.test") == ["v=DMARC1; p=reject; rua=mailto:dmarc@example.test"]

    after_apply = backend.writes()
    again = publish(backend, domains, check=True)
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] is False and again["plan"] == [] and again["api_calls"]["write"] == 0
    last = publish(backend, domains)
    assert not last.get("failed"), last.get("msg")
    assert last["changed"] is False and last["plan"] == [] and last["api_calls"]["write"] == 0
    assert backend.writes() == after_apply
    assert FOREIGN in backend.values("example.test")
    dkim = next(r for r in last["records"] if r["kind"] == "dkim")
    assert dkim["values"] == ["v=DKIM1; k=rsa; p=" + dkim_2048]


def test_revoke_in_four_steps(backend, dkim_2048):
    """A published key revoked (revoked: true, RFC 6376 3.6.1): check, apply, check, apply."""
    assert not publish(backend, [entry("example.test", dkim_2048)]).get("failed")
    revoked = [{"name": "example.test", "ttl": 300, "dkim": [{"selector": "mx1", "key_type": "rsa", "revoked": True}]}]
    before = backend.writes()

    planned = publish(backend, revoked, check=True)
    assert not planned.get("failed"), planned.get("msg")
    assert planned["changed"] is True and planned["api_calls"]["write"] == 0
    assert [(e["name"], e["action"]) for e in planned["plan"]] == [("mx1._domainkey.example.test", "update")]
    assert backend.writes() == before, "check mode wrote to the provider"
    assert backend.values("mx1._domainkey.example.test")[0].replace(" ", "").endswith("p=" + dkim_2048)

    applied = publish(backend, revoked)
    assert not applied.get("failed"), applied.get("msg")
    assert applied["changed"] is True
    assert [v.replace(" ", "") for v in backend.values("mx1._domainkey.example.test")] == ["v=DKIM1;k=rsa;p="]
    assert backend.values("_dmarc.example.test") == ["v=DMARC1; p=reject; rua=mailto:dmarc@example.test"]

    after_apply = backend.writes()
    again = publish(backend, revoked, check=True)
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] is False and again["plan"] == []
    last = publish(backend, revoked)
    assert not last.get("failed"), last.get("msg")
    assert last["changed"] is False and last["api_calls"]["write"] == 0
    assert backend.writes() == after_apply


@pytest.mark.parametrize(("mode", "expected"), [("keep", OLD_SPF), ("replace", "v=spf1 mx -all")])
def test_spf_merge_keep_and_replace(backend, mode, expected):
    backend.seed("example.test", [FOREIGN, OLD_SPF])
    domains = [{"name": "example.test", "spf": {"mechanisms": ["mx"], "all": "-all"}, "spf_merge": mode}]
    result = publish(backend, domains)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is (mode == "replace")
    assert backend.values("example.test") == sorted([FOREIGN, expected])
    assert publish(backend, domains)["changed"] is False


def test_fault_on_the_second_zone_then_rerun(backend, dkim_2048):
    domains = [entry("example.test", dkim_2048), entry("example.net", dkim_2048)]
    backend.fault("example.net")
    try:
        failed = publish(backend, domains)
    finally:
        backend.heal()
    assert failed.get("failed") is True
    assert failed["failed_zone"] == "example.net", failed.get("msg")
    assert failed["applied_zones"] == ["example.test"]
    assert failed["changed"] is True
    assert "example.test" in failed["msg"] and backend.fault_words in failed["msg"], failed["msg"]
    assert len(backend.values("mx1._domainkey.example.test")) == 1
    # The failed zone holds exactly what the error reports as applied (zonefile: its snippet was
    # written, the JSON file was not; the others: nothing).
    done = failed["failed_zone_applied"]
    if backend.name == "zonefile":
        assert set(done) == {"example.net", "mx1._domainkey.example.net", "_dmarc.example.net"}
        assert "file 1 was applied" in failed["msg"]
    else:
        assert done == []
    dmarc = ["v=DMARC1; p=reject; rua=mailto:dmarc@example.net"] if "_dmarc.example.net" in done else []
    assert backend.values("_dmarc.example.net") == dmarc

    rerun = publish(backend, domains)
    assert not rerun.get("failed"), rerun.get("msg")
    assert {e["zone"] for e in rerun["plan"]} <= {"example.net"}
    assert backend.values("_dmarc.example.net") == ["v=DMARC1; p=reject; rua=mailto:dmarc@example.net"]
    assert publish(backend, domains)["changed"] is False
