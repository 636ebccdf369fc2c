# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Planning logic (_plan.py) against an in-memory provider."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.mailauth.core.plugins.module_utils import _entries, _names, _plan
from ansible_collections.mailauth.core.plugins.module_utils._provider import (
    Change,
    Provider,
    ProviderError,
    RecordSet,
    get_provider,
    relative_name,
    zone_for,
)

FOREIGN = "google-site-verification=abc"
SPF = {"mechanisms": ["mx"], "all": "-all"}


class MemoryProvider(Provider):
    name = "memory"

    def __init__(self, zones, records=None):
        super().__init__({})
        self.zones = list(zones)
        self.records = {r.name: r for r in (records or [])}
        self.reads = []

    def list_zones(self):
        self.count("read")
        return self.zones

    def get_rrsets(self, zone, names, rtype="TXT"):
        self.count("read")
        self.reads.append((zone, sorted(names)))
        return {n: self.records[n].copy() for n in names if n in self.records}

    def apply(self, zone, changes):
        self.count("write")
        for change in changes:
            if change.after is None:
                del self.records[change.name]
            else:
                self.records[change.name] = change.after.copy()


def plan(provider, *entries):
    return _plan.build_plan(provider, _entries.desired_items(list(entries)))


def txt(name, *values, ttl=3600):
    return RecordSet(name, "TXT", ttl, list(values))


def test_create_everything_one_read_per_zone():
    provider = MemoryProvider(["example.test", "example.net"])
    result = plan(
        provider,
        {"name": "example.test", "spf": SPF, "dmarc": {"p": "reject", "rua": ["d@example.net"]}},
        {"name": "example.net", "dmarc": {"p": "none"}},
    )
    assert sorted(result.changes) == ["example.net", "example.test"]
    assert {(e["name"], e["action"]) for e in result.entries} == {
        ("example.test", "create"),
        ("_dmarc.example.test", "create"),
        ("_dmarc.example.net", "create"),
        ("example.test._report._dmarc.example.net", "create"),
    }
    assert provider.calls["read"] == 3  # zone list + one batched read per zone
    assert sorted(read[0] for read in provider.reads) == ["example.net", "example.test"]


def test_foreign_apex_value_is_kept_with_its_ttl():
    provider = MemoryProvider(["example.test"], [txt("example.test", FOREIGN, ttl=300)])
    result = plan(provider, {"name": "example.test", "spf": SPF, "ttl": 60})
    (change,) = result.changes["example.test"]
    assert change.action == "update"
    assert change.after.values == [FOREIGN, "v=spf1 mx -all"]
    assert change.after.ttl == 300
    record = result.records[0]
    assert record["values"] == ["v=spf1 mx -all"]


@pytest.mark.parametrize(
    ("mode", "after"),
    [
        ("merge", "v=spf1 mx a:old.example.test -all"),
        ("replace", "v=spf1 mx -all"),
        ("keep", "v=spf1 a:old.example.test ~all"),
    ],
)
def test_existing_spf_is_merged_never_two(mode, after):
    provider = MemoryProvider(["example.test"], [txt("example.test", "v=spf1 a:old.example.test ~all", FOREIGN)])
    result = plan(provider, {"name": "example.test", "spf": SPF, "spf_merge": mode})
    provider.apply("example.test", result.changes.get("example.test", []))
    values = provider.records["example.test"].values
    assert [v for v in values if v.startswith("v=spf1")] == [after]
    assert FOREIGN in values


def test_split_or_spaced_value_is_no_drift():
    existing = [
        txt("example.test", "v=spf1  MX   -all"),  # other spacing and case
        txt("_dmarc.example.test", "v=DMARC1;p=reject"),  # what "v=DMARC1;" "p=reject" joins to
    ]
    provider = MemoryProvider(["example.test"], existing)
    result = plan(provider, {"name": "example.test", "spf": SPF, "dmarc": {"p": "reject"}})
    assert result.entries == [] and result.changes == {}


def test_no_drift_after_apply():
    provider = MemoryProvider(["example.test"], [txt("example.test", FOREIGN)])
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    value = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()  # > 255 bytes
    entry = {"name": "example.test", "spf": SPF, "dkim": [{"selector": "s1", "value": value}]}
    first = plan(provider, entry)
    for zone, changes in first.changes.items():
        provider.apply(zone, changes)
    assert plan(provider, entry).entries == []


def test_ttl_change_of_owned_name_is_an_update():
    provider = MemoryProvider(["example.test"], [txt("_dmarc.example.test", "v=DMARC1; p=reject", ttl=300)])
    result = plan(provider, {"name": "example.test", "ttl": 900, "dmarc": {"p": "reject"}})
    (change,) = result.changes["example.test"]
    assert change.action == "update" and change.after.ttl == 900


def test_absent_removes_only_managed_values():
    provider = MemoryProvider(
        ["example.test"],
        [
            txt("example.test", FOREIGN, "v=spf1 mx -all"),
            txt("_dmarc.example.test", "v=DMARC1; p=reject"),
            txt("s1._domainkey.example.test", "v=DKIM1; p=AAAA"),
        ],
    )
    entry = {
        "name": "example.test",
        "state": "absent",
        "spf": SPF,
        "dmarc": {"p": "reject"},
        "dkim": [{"selector": "s1"}],
    }
    result = plan(provider, entry)
    actions = {c.name: c.action for c in result.changes["example.test"]}
    assert actions == {
        "example.test": "update",
        "_dmarc.example.test": "delete",
        "s1._domainkey.example.test": "delete",
    }
    provider.apply("example.test", result.changes["example.test"])
    assert provider.records == {"example.test": txt("example.test", FOREIGN)}
    assert plan(provider, entry).entries == []


def test_absent_spf_alone_deletes_the_rrset():
    provider = MemoryProvider(["example.test"], [txt("example.test", "v=spf1 mx -all")])
    result = plan(provider, {"name": "example.test", "state": "absent", "spf": SPF})
    assert [c.action for c in result.changes["example.test"]] == ["delete"]


def test_unknown_zone_and_zone_mismatch():
    provider = MemoryProvider(["example.test"])
    with pytest.raises(ProviderError, match=r"no zone found for example\.com"):
        plan(provider, {"name": "example.com", "spf": SPF})
    with pytest.raises(_names.RecordError, match="not inside zone"):
        plan(provider, {"name": "example.test", "zone": "example.net", "spf": SPF})


def test_explicit_zone_is_used_without_lookup():
    provider = MemoryProvider([])
    result = plan(provider, {"name": "mail.example.test", "zone": "example.test", "dmarc": {"p": "none"}})
    assert list(result.changes) == ["example.test"]
    assert provider.calls["read"] == 1  # no zone listing


def test_diff_text():
    provider = MemoryProvider(["example.test"], [txt("example.test", FOREIGN, ttl=300)])
    result = plan(provider, {"name": "example.test", "spf": SPF})
    (diff,) = _plan.diff_for(result)
    assert diff["before"] == 'example.test. 300 IN TXT "%s"\n' % FOREIGN
    assert diff["after"].splitlines() == [
        'example.test. 300 IN TXT "%s"' % FOREIGN,
        'example.test. 300 IN TXT "v=spf1 mx -all"',
    ]


def test_long_values_render_split():
    text = _plan.rrset_text(txt("s._domainkey.example.test", "p=" + "B" * 300))
    assert text.count('" "') == 1


def test_change_and_helpers():
    a = txt("example.test", "x")
    with pytest.raises(ValueError):
        Change("create", a, a)
    with pytest.raises(ValueError):
        Change("upsert", None, a)
    assert _plan.change_for(None, None) is None
    assert _plan.change_for(a, a.copy()) is None
    assert Change("delete", a, None).to_dict()["after"] is None
    assert zone_for("a.b.example.test", ["test", "example.test", "b.example.test.x"]) == "example.test"
    assert relative_name("Mail.Example.Test.", "example.test") == "mail"
    with pytest.raises(ProviderError, match="unknown DNS provider"):
        get_provider("bind9", {})
