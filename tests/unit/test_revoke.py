"""A revoked DKIM selector (RFC 6376 3.6.1, p= empty): the field, the record, the linter, the check report."""

from __future__ import annotations

import pytest
from test_check_report import NS, P_OTHER, P, codes, dkim_value, info, keys, report

from ansible_collections.mailauth.core.plugins.filter import check as check_filters
from ansible_collections.mailauth.core.plugins.filter import publish
from ansible_collections.mailauth.core.plugins.module_utils import (
    _dkim_record,
    _dns_info,
    _entries,
    _lint,
    _rotation,
    _schema,
)
from ansible_collections.mailauth.core.plugins.module_utils._names import RecordError

DOMAIN = "example.test"


def test_the_field_is_defined_once_and_offered_everywhere():
    field = _schema.field(_schema.DKIM, "revoked")
    assert (field.type, field.default) == ("bool", False)
    dkim = _schema.entry_argument_spec()["domains"]["options"]["dkim"]["options"]
    assert dkim["revoked"] == {"type": "bool", "default": False}
    assert "revoked" in _schema.entry_docs()["domains"]["suboptions"]["dkim"]["suboptions"]


@pytest.mark.parametrize("key_type", ["rsa", "ed25519"])
def test_revoked_publishes_an_empty_p(key_type):
    selector, value = _dkim_record.build_dkim({"selector": "old", "key_type": key_type, "revoked": True}, DOMAIN)
    assert (selector, value) == ("old", "v=DKIM1; k=%s; p=" % key_type)
    assert _dkim_record.is_revoked(value)
    # no key type: RSA, the default of RFC 6376
    assert _dkim_record.dkim_value({"revoked": True}) == "v=DKIM1; k=rsa; p="


def test_a_hand_written_empty_p_is_refused_and_revoked_takes_no_key():
    with pytest.raises(RecordError, match=r"example.test: dkim selector old: p= is empty .*revoked: true"):
        _dkim_record.build_dkim({"selector": "old", "value": "v=DKIM1; k=rsa; p="}, DOMAIN)
    with pytest.raises(RecordError, match="revoked without public_key or value"):
        _dkim_record.build_dkim({"selector": "old", "revoked": True, "value": "v=DKIM1; k=rsa; p=" + P}, DOMAIN)
    with pytest.raises(RecordError, match="revoked must be true or false, got 'yes'"):
        _dkim_record.build_dkim({"selector": "old", "revoked": "yes"}, DOMAIN)


def test_dns_records_items_publish_the_revoked_record_and_lint_calls_it_intended():
    entry = {"name": DOMAIN, "dkim": [{"selector": "old", "key_type": "ed25519", "revoked": True}]}
    (item,) = _entries.desired_items([entry])
    assert item.rrset.name == "old._domainkey.example.test"
    assert item.rrset.values == ["v=DKIM1; k=ed25519; p="]
    assert _lint.lint_desired([item]) == []


def test_lint_revoked_intended_silent_unintended_warning_key_served_error():
    assert _lint.lint_dkim_values(["v=DKIM1; k=rsa; p="], "s._domainkey.x", revoked=True) == []
    assert [f["code"] for f in _lint.lint_dkim_values(["v=DKIM1; k=rsa; p="], "s._domainkey.x")] == ["dkim-revoked"]
    found = _lint.lint_dkim_values([dkim_value(P)], "s._domainkey.x", revoked=True)
    assert [(f["severity"], f["code"]) for f in found] == [("error", "dkim-not-revoked")]


def test_publish_filters_carry_the_revoked_records():
    records = [
        {
            "domain": DOMAIN,
            "selector": "old",
            "key_type": "ed25519",
            "value": "v=DKIM1; k=ed25519; p=",
            "revoked": True,
        },
        {"domain": DOMAIN, "selector": "new", "key_type": "ed25519", "value": dkim_value(P), "revoked": False},
    ]
    (entry,) = publish.dkim_publish([{"name": DOMAIN}], records)
    assert entry["dkim"] == [
        {"selector": "new", "value": dkim_value(P)},
        {"selector": "old", "revoked": True, "key_type": "ed25519"},
    ]
    out = publish.dns_publish_entries([{"name": DOMAIN, "dkim": [{"selector": "old"}]}], records)
    assert out["domains"][0]["dkim"] == [{"selector": "old", "revoked": True, "key_type": "ed25519"}]
    # and what dns_records makes of it
    (item,) = _entries.desired_items(out["domains"])
    assert item.rrset.values == ["v=DKIM1; k=ed25519; p="]


def test_mail_dns_info_waits_for_the_revoked_record_only():
    spec = _dns_info.normalise_spec({"name": DOMAIN, "dkim": [{"selector": "old", "revoked": True, "key_type": "rsa"}]})
    (expected,) = _dns_info.expected_items(spec)
    assert expected.check(["v=DKIM1; k=rsa; p="]) is True
    assert expected.check([dkim_value(P)]) is False
    assert expected.check(["v=DKIM1; k=rsa; p=", dkim_value(P)]) is False
    assert expected.check([]) is False
    with pytest.raises(RecordError, match="revoked takes no public_key or value"):
        _dns_info.normalise_spec({"name": DOMAIN, "dkim": [{"selector": "old", "revoked": True, "public_key": P}]})


def test_wait_for_a_removed_record():
    (entry,) = _rotation.gone_entries(["example.test/old", "example.test/older"])
    assert entry == {
        "name": DOMAIN,
        "dkim": [{"selector": "old", "absent": True}, {"selector": "older", "absent": True}],
    }
    (expected, _other) = _dns_info.expected_items(_dns_info.normalise_spec(entry))
    assert expected.check([]) is True
    assert expected.check(["v=DKIM1; k=rsa; p="]) is False
    with pytest.raises(RecordError, match="absent takes no public_key, value or revoked"):
        _dns_info.normalise_spec({"name": DOMAIN, "dkim": [{"selector": "old", "absent": True, "revoked": True}]})


def revoked_plan():
    slot = {"domain": DOMAIN, "key_type": "ed25519", "slot": "mx1-ed25519"}
    state = _rotation.empty()
    items = _rotation.plan(state, [slot], 1_800_000_000, None, now_domains={DOMAIN}, emergency=True)
    _rotation.start(state, [slot], items, 1_800_000_000)
    _rotation.switch(state, [slot], {"%s/%s" % (DOMAIN, items[0]["selector"])}, 1_800_000_010)
    return _rotation.plan(state, [slot], 1_800_000_020, None)


def revoked_keys(host="mx1"):
    results = [
        {
            "domain": DOMAIN,
            "selector": "mx1-ed25519",
            "key_type": "ed25519",
            "value": dkim_value(P),
            "fingerprint": "SHA256:abc",
        },
    ]
    return check_filters.check_host_keys(results, host, revoked_plan())


def test_check_report_revoked_served_everywhere_is_a_warning():
    key_list = revoked_keys()
    assert key_list[0]["state"] == "revoked"
    (spec,) = check_filters.check_dns_specs([{"name": DOMAIN}], key_list)
    assert spec["dkim"] == [{"selector": "mx1-ed25519", "revoked": True, "key_type": "ed25519"}]
    model = report(info(dkim=["v=DKIM1; k=ed25519; p="]), key_list=key_list)
    (domain,) = model["domains"]
    assert domain["severity"] == "warning" and model["broken"] == []
    assert codes(domain, "warning") == ["dkim-revoked"]
    (selector,) = domain["selectors"]
    assert selector["state"] == "revoked"
    assert selector["served"] == {NS[0]["address"]: True, NS[1]["address"]: True}


def test_check_report_a_server_still_serving_the_key_is_broken():
    model = report(info(dkim=["v=DKIM1; k=ed25519; p="], dkim2=[dkim_value(P_OTHER)]), key_list=revoked_keys())
    (domain,) = model["domains"]
    assert domain["severity"] == "error"
    assert model["broken"] == [
        "example.test: ns2.example.test (127.0.0.3) still serves the key of revoked selector mx1-ed25519:"
        " mail signed with it still verifies"
    ]
    assert codes(domain) == ["dkim-not-revoked"]


def test_check_report_revoked_text_in_markdown():
    from ansible_collections.mailauth.core.plugins.module_utils import _check_render

    model = report(info(dkim=["v=DKIM1; k=ed25519; p="]), key_list=revoked_keys())
    assert "mx1-ed25519 (revoked, ed25519, served revoked)" in _check_render.to_markdown(model)
    # an unrelated good domain keeps its active selector
    assert report(info(), key_list=keys())["domains"][0]["severity"] == "ok"


def test_site_chain_state_to_records_publishes_the_revoked_selector_and_signs_the_new_one():
    """opendkim role -> site.yml -> dns_publish: the filters in their order, after an emergency switch."""
    from ansible_collections.mailauth.core.plugins.filter import rotation, services

    slot = {"domain": DOMAIN, "key_type": "ed25519", "slot": "mx1-ed25519"}
    state = _rotation.empty()
    items = _rotation.plan(state, [slot], 1_800_000_000, None, now_domains={DOMAIN}, emergency=True)
    _rotation.start(state, [slot], items, 1_800_000_000)
    _rotation.switch(state, [slot], {"%s/%s" % (DOMAIN, items[0]["selector"])}, 1_800_000_010)
    configured = [{"domain": DOMAIN, "selector": "mx1-ed25519", "key_type": "ed25519", "key_size": 256}]
    key_list = rotation.dkim_rotation_keys(configured, state)
    signing = [k["selector"] for k in key_list if k["state"] == "active" and not k["revoked"]]
    assert signing == [items[0]["selector"]]
    results = [
        {
            "domain": DOMAIN,
            "selector": k["selector"],
            "key_type": "ed25519",
            "value": dkim_value(P if i else P_OTHER),
            "fingerprint": "SHA256:%d" % i,
        }
        for i, k in enumerate(key_list)
    ]
    records = services.opendkim_dns_records(results, [k for k in key_list if k["revoked"]])
    domains = publish.dkim_publish([{"name": DOMAIN, "mail_hosts": ["mx1"]}], records)
    entries = publish.dns_publish_entries(domains, [])["domains"]
    values = {i.rrset.name: i.rrset.values for i in _entries.desired_items(entries)}
    assert values == {
        "mx1-ed25519._domainkey.example.test": ["v=DKIM1; k=ed25519; p="],
        "%s._domainkey.example.test" % items[0]["selector"]: [dkim_value(P)],
    }
