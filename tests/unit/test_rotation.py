"""Unit tests for plugins/module_utils/_rotation.py (state, plan, lock) and the dkim_rotation_keys filter."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.mailauth.core.plugins.module_utils import _rotation
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError

DAY = 86400
T0 = 1796169600  # 2026-12-02T00:00:00Z
SLOT = {"domain": "example.test", "key_type": "rsa", "slot": "mx1-rsa"}
ED = {"domain": "example.test", "key_type": "ed25519", "slot": "mx1-ed25519"}


def test_duration_units_and_refusals():
    assert _rotation.duration("7d", "g") == 7 * DAY
    assert _rotation.duration("12h", "g") == 12 * 3600
    assert _rotation.duration(3600, "g") == 3600
    assert _rotation.duration("5", "maximal_queue_lifetime", "d") == 5 * DAY
    for bad in ("7 days", "7d\n", "-1d", "", "7dd"):
        with pytest.raises(InputError, match="g"):
            _rotation.duration(bad, "g")


def test_template_rendered_validated_and_unique():
    assert _rotation.render_selector(_rotation.DEFAULT_TEMPLATE, SLOT, T0, set(), "t") == "mx1-rsa-20261202"
    taken = {"mx1-rsa-20261202", "mx1-rsa-20261202-2"}
    assert _rotation.render_selector(_rotation.DEFAULT_TEMPLATE, SLOT, T0, taken, "t") == "mx1-rsa-20261202-3"
    assert _rotation.render_selector("k{key_type}%y%j", SLOT, T0, set(), "t") == "krsa26336"
    with pytest.raises(InputError, match="rotate_dkim_selector_template"):
        _rotation.check_template("{selector}_%Y", "rotate_dkim_selector_template")
    with pytest.raises(InputError, match="must change"):
        _rotation.check_template("fixed", "t")
    with pytest.raises(InputError, match="control"):
        _rotation.check_template("a\n%Y", "t")
    # a hyphen at the end of a label renders to an invalid selector: refused, naming the template
    with pytest.raises(InputError, match=r"rotate_dkim_selector_template rendered for example\.test/mx1-rsa"):
        _rotation.render_selector("{selector}.%Y-", SLOT, T0, set(), "rotate_dkim_selector_template")
    with pytest.raises(InputError, match="rendered"):
        _rotation.render_selector("x" * 60 + "%Y%m%d", SLOT, T0, set(), "t")


def test_no_state_is_configured_selector_active_and_nothing_to_do():
    items = _rotation.plan(_rotation.empty(), [SLOT], T0, interval=180 * DAY)
    assert items[0]["action"] == "none"
    assert items[0]["active"] == "mx1-rsa"
    assert items[0]["due"] is False  # age unknown
    keys = [{"domain": "example.test", "selector": "mx1-rsa", "key_type": "rsa", "key_size": 2048}]
    assert _rotation.derive_keys(keys, None) == [dict(keys[0], state="active", revoked=False)]


def test_full_rotation_future_active_retired_removed(tmp_path):
    path = str(tmp_path / "state" / "dkim-rotation.json")
    state = _rotation.load(path)
    # due by age (key file time)
    items = _rotation.plan(state, [SLOT, ED], T0, 180 * DAY, active_since=lambda s, n: T0 - 200 * DAY)
    assert [i["action"] for i in items] == ["start", "start"]
    assert _rotation.start(state, [SLOT, ED], items, T0) == [
        "example.test/mx1-rsa-20261202",
        "example.test/mx1-ed25519-20261202",
    ]
    _rotation.save(path, state)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    state = _rotation.load(path)
    items = _rotation.plan(state, [SLOT, ED], T0 + 60, 180 * DAY)
    assert [(i["action"], i["selector"]) for i in items] == [
        ("switch", "mx1-rsa-20261202"),
        ("switch", "mx1-ed25519-20261202"),
    ]
    # only the served one switches: each algorithm independently
    assert _rotation.switch(state, [SLOT, ED], {"example.test/mx1-rsa-20261202"}, T0 + 120) == [
        "example.test/mx1-rsa-20261202"
    ]
    items = _rotation.plan(state, [SLOT, ED], T0 + 180, 180 * DAY, grace=7 * DAY)
    assert items[0]["action"] == "none" and items[0]["active"] == "mx1-rsa-20261202"
    assert items[0]["retired"] == ["mx1-rsa"] and items[0]["remove"] == []
    assert items[1]["action"] == "switch"
    keys = [
        {"domain": "example.test", "selector": "mx1-rsa", "key_type": "rsa", "private_key_content": "PEM"},
        {"domain": "example.test", "selector": "mx1-ed25519", "key_type": "ed25519"},
    ]
    derived = _rotation.derive_keys(keys, state)
    assert [(k["selector"], k["state"], k.get("private_key_content", "-")) for k in derived] == [
        ("mx1-rsa", "retired", "PEM"),
        ("mx1-rsa-20261202", "active", None),
        ("mx1-ed25519", "active", "-"),
        ("mx1-ed25519-20261202", "future", None),
    ]
    # grace over: remove, then forget
    items = _rotation.plan(state, [SLOT], T0 + 120 + 7 * DAY, 180 * DAY, grace=7 * DAY)
    assert items[0]["action"] == "remove" and items[0]["remove"] == ["mx1-rsa"]
    assert _rotation.forget(state, [SLOT], {"example.test/mx1-rsa"}) == ["example.test/mx1-rsa"]
    items = _rotation.plan(state, [SLOT], T0 + 120 + 7 * DAY, 180 * DAY)
    assert items[0]["action"] == "none" and items[0]["retired"] == []
    # not due again before the interval
    assert items[0]["due"] is False
    items = _rotation.plan(state, [SLOT], T0 + 120 + 180 * DAY, 180 * DAY)
    assert items[0]["action"] == "start" and items[0]["due"] is True


def test_emergency_revokes_at_switch_and_removes_after_the_grace():
    state = _rotation.empty()
    items = _rotation.plan(state, [SLOT], T0, None, now_domains={"example.test"}, emergency=True)
    assert items[0]["action"] == "start" and items[0]["emergency"] is True
    _rotation.start(state, [SLOT], items, T0)
    _rotation.switch(state, [SLOT], {"example.test/mx1-rsa-20261202"}, T0 + 10)
    retired = [s for s in _rotation.selectors(state, SLOT) if s["state"] == "retired"]
    assert retired == [{"name": "mx1-rsa", "state": "retired", "since": "2026-12-02T00:00:10Z", "revoked": True}]
    # Published revoked through the grace (7 days by default), then removed as a retired selector is.
    keys = _rotation.derive_keys([{"domain": "example.test", "selector": "mx1-rsa", "key_type": "rsa"}], state)
    assert [(k["selector"], k["revoked"]) for k in keys] == [("mx1-rsa", True), ("mx1-rsa-20261202", False)]
    during = _rotation.plan(state, [SLOT], T0 + 11, None)[0]
    assert during["remove"] == [] and during["revoked"] == ["mx1-rsa"] and during["action"] == "none"
    assert _rotation.plan(state, [SLOT], T0 + 7 * DAY - 1, None)[0]["remove"] == []
    after = _rotation.plan(state, [SLOT], T0 + 10 + 7 * DAY, None)
    assert after[0]["remove"] == ["mx1-rsa"] and after[0]["action"] == "remove"
    assert _rotation.summary(after)["remove_keys"] == [
        {"domain": "example.test", "selector": "mx1-rsa", "key_type": "rsa"}
    ]
    assert _rotation.forget(state, [SLOT], {"example.test/mx1-rsa"}) == ["example.test/mx1-rsa"]
    assert [s["name"] for s in _rotation.selectors(state, SLOT)] == ["mx1-rsa-20261202"]


def test_a_second_emergency_during_the_grace_revokes_the_new_key_too():
    state = _rotation.empty()
    items = _rotation.plan(state, [SLOT], T0, None, now_domains={"example.test"}, emergency=True)
    _rotation.start(state, [SLOT], items, T0)
    _rotation.switch(state, [SLOT], {"example.test/mx1-rsa-20261202"}, T0 + 10)
    items = _rotation.plan(state, [SLOT], T0 + 3600, None, now_domains={"example.test"}, emergency=True)
    assert items[0]["action"] == "start" and items[0]["selector"] == "mx1-rsa-20261202-2"
    _rotation.start(state, [SLOT], items, T0 + 3600)
    _rotation.switch(state, [SLOT], {"example.test/mx1-rsa-20261202-2"}, T0 + 3610)
    plan = _rotation.plan(state, [SLOT], T0 + 3611, None)[0]
    assert plan["active"] == "mx1-rsa-20261202-2"
    assert plan["revoked"] == ["mx1-rsa", "mx1-rsa-20261202"]


def test_forced_rotation_only_for_named_domains():
    other = {"domain": "other.test", "key_type": "rsa", "slot": "mx1-rsa"}
    items = _rotation.plan(_rotation.empty(), [SLOT, other], T0, None, now_domains={"other.test"})
    assert [i["action"] for i in items] == ["none", "start"]
    assert items[1]["emergency"] is False


def test_forced_rotation_only_for_named_key_types():
    # Dual signing: rotate only the ed25519 selector now; the RSA slot of the same domain is left alone.
    items = _rotation.plan(
        _rotation.empty(), [SLOT, ED], T0, None, now_domains={"example.test"}, now_key_types={"ed25519"}
    )
    assert [i["action"] for i in items] == ["none", "start"]
    assert items[1]["selector"] == "mx1-ed25519-20261202"
    # empty: every key type of the named domains
    items = _rotation.plan(_rotation.empty(), [SLOT, ED], T0, None, now_domains={"example.test"}, now_key_types=set())
    assert [i["action"] for i in items] == ["start", "start"]
    # a scheduled rotation that is due is not filtered by key type
    items = _rotation.plan(
        _rotation.empty(),
        [SLOT, ED],
        T0,
        1,
        now_domains=set(),
        now_key_types={"ed25519"},
        active_since=lambda slot, name: T0 - DAY,
    )
    assert [i["action"] for i in items] == ["start", "start"]


def test_resume_reuses_the_future_name():
    state = _rotation.empty()
    items = _rotation.plan(state, [SLOT], T0, None, now_domains={"example.test"})
    _rotation.start(state, [SLOT], items, T0)
    # a later run (next day) does not start another one: it switches the one already started
    items = _rotation.plan(state, [SLOT], T0 + DAY, None, now_domains={"example.test"})
    assert items[0]["action"] == "switch" and items[0]["selector"] == "mx1-rsa-20261202"


def test_corrupt_state_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("{not json")
    with pytest.raises(_rotation.RotationError, match=str(path)):
        _rotation.load(str(path))
    path.write_text(json.dumps({"format": 1, "slots": {"a/rsa/x": {"selectors": [{"name": "x", "state": "future"}]}}}))
    with pytest.raises(_rotation.RotationError, match="0 active"):
        _rotation.load(str(path))
    path.write_text(
        json.dumps({"format": 1, "slots": {"a/rsa/x": {"selectors": [{"name": "bad_name!", "state": "active"}]}}})
    )
    with pytest.raises(_rotation.RotationError):
        _rotation.load(str(path))


def test_lock_exclusive_reentrant_and_take_over(tmp_path):
    path = str(tmp_path / "lock" / "dkim-rotation.lock")
    assert _rotation.acquire(path, "run1", "ctl", 4242, T0) == (True, "")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert _rotation.acquire(path, "run1", "ctl", 4242, T0) == (False, "")
    with pytest.raises(_rotation.RotationError, match="run run1 from ctl pid 4242"):
        _rotation.acquire(path, "run2", "ctl", 4343, T0 + 1)
    held = _rotation.lock_info(path)
    assert not _rotation.lock_stale(held, T0 + 1, 3600, "ctl", lambda pid: True)
    assert _rotation.lock_stale(held, T0 + 1, 3600, "ctl", lambda pid: False)  # killed run on this controller
    assert not _rotation.lock_stale(held, T0 + 1, 3600, "other", lambda pid: False)  # another controller's
    assert _rotation.lock_stale(held, T0 + 3600, 3600, "other", lambda pid: True)  # too old
    changed, warning = _rotation.acquire(path, "run2", "ctl", 4343, T0 + 2, take_over="run1")
    assert changed and "took over the stale lock of run run1" in warning
    assert not _rotation.release(path, "run1")
    assert _rotation.release(path, "run2")
    assert _rotation.lock_info(path) is None


def test_slots_from_keys_validates_and_dedups():
    keys = [
        {"domain": "Example.test", "selector": "mx1-rsa", "key_type": "rsa"},
        {"domain": "example.test", "selector": "mx1-rsa", "key_type": "rsa"},
    ]
    assert _rotation.slots_from_keys(keys) == [SLOT]
    with pytest.raises(InputError, match=r"slots\[0\].selector"):
        _rotation.slots_from_keys([{"domain": "example.test", "selector": "bad selector"}])


def test_check_report_states_from_the_plan():
    from ansible_collections.mailauth.core.plugins.module_utils import _check_report

    state = _rotation.empty()
    items = _rotation.plan(state, [SLOT], T0, None, now_domains={"example.test"})
    _rotation.start(state, [SLOT], items, T0)
    plan = _rotation.plan(state, [SLOT], T0, 180 * DAY, grace=DAY)
    results = [
        {"domain": "example.test", "selector": "mx1-rsa", "key_type": "rsa", "value": None, "fingerprint": None},
        {"domain": "example.test", "selector": "mx1-rsa-20261202", "key_type": "rsa", "value": None},
    ]
    keys = _check_report.host_keys("mx1", results, plan)
    assert [(k["selector"], k["state"]) for k in keys] == [("mx1-rsa", "active"), ("mx1-rsa-20261202", "future")]
    _rotation.switch(state, [SLOT], {"example.test/mx1-rsa-20261202"}, T0)
    later = _rotation.plan(state, [SLOT], T0 + 2 * DAY, 180 * DAY, grace=DAY)
    assert _check_report.selector_states(later) == {
        ("example.test", "mx1-rsa"): "due",  # retired past its grace, awaiting removal
        ("example.test", "mx1-rsa-20261202"): "active",
    }
    aged = _rotation.plan(state, [SLOT], T0 + 181 * DAY, 180 * DAY, grace=DAY)
    assert _check_report.selector_states(aged)[("example.test", "mx1-rsa-20261202")] == "due"
    assert set(_check_report.selector_states(aged).values()) <= set(_check_report.SELECTOR_STATES)
    assert _check_report.host_keys("mx1", results[:1])[0]["state"] == "active"  # no plan: active


def test_absent_entries_for_dns_records():
    domains = [{"name": "example.test", "zone": "example.test", "ttl": 300, "mail_hosts": ["mx1"]}]
    assert _rotation.absent_entries(
        ["example.test/mx1-rsa", "example.test/mx1-rsa", "example.org/shared"], domains
    ) == [
        {
            "name": "example.test",
            "state": "absent",
            "dkim": [{"selector": "mx1-rsa"}],
            "zone": "example.test",
            "ttl": 300,
        },
        {"name": "example.org", "state": "absent", "dkim": [{"selector": "shared"}]},
    ]
    with pytest.raises(InputError, match=r"removals\[0\] selector"):
        _rotation.absent_entries(["example.test/bad selector"], domains)


def test_summary_lists_switches_and_removals():
    state = _rotation.empty()
    _rotation.start(state, [SLOT], _rotation.plan(state, [SLOT], T0, None, now_domains={"example.test"}), T0)
    s = _rotation.summary(_rotation.plan(state, [SLOT], T0, None))
    assert s == {"switch": ["example.test/mx1-rsa-20261202"], "remove": [], "remove_keys": []}


def test_shared_key_made_on_the_first_host_and_copied_by_the_others():
    import base64

    org = {"domain": "example.org", "key_type": "rsa", "slot": "shared"}
    state = _rotation.empty()
    _rotation.start(state, [org], _rotation.plan(state, [org], T0, None, now_domains={"example.org"}), T0)
    configured = [
        {
            "domain": "example.org",
            "selector": "shared",
            "key_type": "rsa",
            "key_size": 2048,
            "private_key_content": "OLD",
        },
        {"domain": "example.test", "selector": "mx3-rsa", "key_type": "rsa", "key_size": 2048},
    ]
    keys = _rotation.derive_keys(configured, state)
    domains = [{"name": "example.org", "mail_hosts": ["mx1", "mx3"]}]
    future = [k for k in keys if k["state"] == "future"]
    spec = {"domain": "example.org", "selector": "shared-20261202", "key_type": "rsa", "key_size": 2048}
    assert _rotation.shared_keys(future, domains, ["mx1", "mx3"], "mx1") == {"make": [spec], "copies": []}
    mx3 = _rotation.shared_keys(future, domains, ["mx1", "mx3"], "mx3")
    assert mx3 == {"make": [], "copies": [dict(spec, source="mx1")]}
    # mx3 before the copy (check mode): the old shared key and its own key, not the rotated one
    assert [s["selector"] for s in _rotation.key_specs(keys, mx3, [])] == ["shared", "mx3-rsa"]
    copies = [{"item": mx3["copies"][0], "content": base64.b64encode(b"-----BEGIN PRIVATE KEY-----").decode()}]
    specs = _rotation.key_specs(keys, mx3, copies)
    assert specs[0]["private_key_content"] == "OLD"
    assert specs[-1] == dict(spec, private_key_content="-----BEGIN PRIVATE KEY-----")
    with pytest.raises(_rotation.RotationError, match=r"example\.org/shared-20261202"):
        _rotation.key_specs(keys, mx3, [{"item": mx3["copies"][0], "content": "!!"}])


def test_filters_validate_the_state_and_judge_the_lock():
    from ansible.errors import AnsibleFilterError

    from ansible_collections.mailauth.core.plugins.filter import rotation

    keys = [{"domain": "example.test", "selector": "mx1-rsa", "key_type": "rsa"}]
    assert rotation.dkim_rotation_keys(keys, None) == [dict(keys[0], state="active", revoked=False)]
    bad = {"format": 1, "slots": {"example.test/rsa/mx1-rsa": {"selectors": [{"name": "x;y", "state": "active"}]}}}
    with pytest.raises(AnsibleFilterError, match="dkim_rotation_keys"):
        rotation.dkim_rotation_keys(keys, bad)
    me = rotation.dkim_rotation_lock(None)
    assert me["pid"] == os.getppid() and me["take_over"] == ""
    import time

    now = _rotation.iso(time.time())
    live = {"run_id": "r1", "controller": me["controller"], "pid": os.getpid(), "started": now}
    assert rotation.dkim_rotation_lock(live)["take_over"] == ""
    dead = dict(live, pid=2**22 + 12345)  # above the default pid_max: no such process
    assert rotation.dkim_rotation_lock(dead)["take_over"] == "r1"
    other = dict(dead, controller="elsewhere.example")
    assert rotation.dkim_rotation_lock(other)["take_over"] == ""
    assert rotation.dkim_rotation_lock(other, "0s")["take_over"] == "r1"
    with pytest.raises(AnsibleFilterError, match="rotate_dkim_lock_timeout"):
        rotation.dkim_rotation_lock(None, "1 hour")
