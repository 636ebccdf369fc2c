"""Integration tests: the real mailauth.core.config_files module run by ansible-playbook on localhost."""

from __future__ import annotations

import grp
import hashlib
import os
import stat
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown to nobody:nogroup needs root")

# A checker that accepts `key = value` lines and comments, like a service's own `-n` check.
CHECK = 'sh -c \'grep -Evq "^(#.*|[a-z_]+ = .*|)$" "$1" && { echo "$1: syntax error" >&2; exit 1; }; exit 0\' check %s'


def args(base: Path, conf: str = "a = 1\n") -> dict:
    return {
        "directories": [{"path": str(base / "etc"), "owner": "root", "group": "nogroup", "mode": "0750"}],
        "files": [
            {"path": str(base / "etc" / "table"), "content": "one\ntwo\n", "group": "nogroup", "mode": "0640"},
            {"path": str(base / "etc" / "svc.conf"), "content": conf, "validate": CHECK},
        ],
    }


def tree(base: Path) -> dict:
    out = {}
    for path in sorted(base.rglob("*")):
        st = path.lstat()
        out[str(path.relative_to(base))] = (
            path.read_bytes() if path.is_file() else None,
            stat.S_IMODE(st.st_mode),
            st.st_gid,
        )
    return out


def test_four_steps_and_the_diff(tmp_path, module_runner):
    base = tmp_path / "root"
    base.mkdir()

    planned = module_runner("config_files", args(base), check=True, diff=True)
    assert planned.get("failed") is not True, planned
    assert planned["changed"] is True
    assert planned["changed_files"] == [str(base / "etc" / "table"), str(base / "etc" / "svc.conf")]
    assert tree(base) == {}
    assert any(d.get("after", "").startswith("a = 1\n") for d in planned["diff"])

    applied = module_runner("config_files", args(base), diff=True)
    assert applied["changed"] is True, applied
    assert (base / "etc" / "svc.conf").read_text() == "a = 1\n"
    assert stat.S_IMODE((base / "etc").stat().st_mode) == 0o750
    assert stat.S_IMODE((base / "etc" / "table").stat().st_mode) == 0o640
    assert (base / "etc" / "table").stat().st_gid == grp.getgrnam("nogroup").gr_gid

    for check in (True, False):
        again = module_runner("config_files", args(base), check=check, diff=True)
        assert again["changed"] is False, again
        assert again["changed_files"] == []
    assert [f["checksum"] for f in again["files"]] == [hashlib.sha1(c).hexdigest() for c in (b"one\ntwo\n", b"a = 1\n")]


def test_a_failed_check_leaves_every_file_as_it_was(tmp_path, module_runner):
    base = tmp_path / "root"
    base.mkdir()
    assert module_runner("config_files", args(base))["changed"] is True
    before = tree(base)

    bad = args(base, conf="a = 1\nthis is not valid\n")
    bad["files"][0]["content"] = "one\ntwo\nthree\n"  # would change too, and must be put back
    result = module_runner("config_files", bad)
    assert result["failed"] is True
    assert "svc.conf: the check" in result["msg"] and "syntax error" in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"]
    assert tree(base) == before
    assert not [p for p in os.listdir(base / "etc") if p.endswith(".tmp")]


def test_bad_input_is_refused_before_any_change(tmp_path, module_runner):
    base = tmp_path / "root"
    base.mkdir()
    bad = args(base)
    bad["files"].append({"path": "relative/file", "content": "x"})
    bad["files"].append({"path": str(base / "etc" / "x"), "content": "x", "owner": "no-such-user-x"})
    result = module_runner("config_files", bad)
    assert result["failed"] is True
    assert "must be absolute" in result["msg"] and "no-such-user-x" in result["msg"], result["msg"]
    assert tree(base) == {}


def test_check_mode_plans_a_group_the_package_creates_later(tmp_path, module_runner):
    """A new host's plan: a group that does not exist yet is a warning in check mode, a failure when applied."""
    base = tmp_path / "root"
    base.mkdir()
    planned = args(base)
    planned["files"][0]["group"] = "no-such-group-x"
    result = module_runner("config_files", planned, check=True, diff=True)
    assert result.get("failed") is not True and result["changed"] is True, result
    assert any("group no-such-group-x is not on the host yet" in w for w in result["warnings"]), result
    assert str(base / "etc" / "table") in [d["after_header"] for d in result["diff"]]
    assert tree(base) == {}
    applied = module_runner("config_files", planned)
    assert applied["failed"] is True and "group 'no-such-group-x' does not exist" in applied["msg"], applied
    assert tree(base) == {}


def test_a_missing_check_program_is_named_and_nothing_changes(tmp_path, module_runner):
    base = tmp_path / "root"
    base.mkdir()
    assert module_runner("config_files", args(base))["changed"] is True
    before = tree(base)
    bad = args(base, conf="a = 2\n")
    bad["files"][0]["content"] = "changed\n"
    bad["files"][1]["validate"] = "/usr/sbin/no-such-checker -n %s"
    result = module_runner("config_files", bad)
    assert result["failed"] is True
    assert "no-such-checker" in result["msg"] and "is not installed" in result["msg"], result["msg"]
    assert "Error executing command" not in result["msg"] and "Traceback" not in result["msg"]
    assert tree(base) == before


def test_validate_set_sees_every_file_and_a_failure_changes_nothing(tmp_path, module_runner):
    base = tmp_path / "root"
    base.mkdir()
    assert module_runner("config_files", args(base))["changed"] is True
    before = tree(base)
    # Fails unless the staging directory holds both files with their new content, as Postfix's
    # `postfix -c DIR check` reads main.cf and master.cf together.
    set_check = 'sh -c \'grep -q three "$1/table" && grep -q "a = 2" "$1/svc.conf" && exit 1; exit 0\' check %s'
    bad = args(base, conf="a = 2\n")
    bad["files"][0]["content"] = "one\ntwo\nthree\n"
    bad["validate_set"] = set_check
    result = module_runner("config_files", bad)
    assert result["failed"] is True and "validate_set: the check" in result["msg"], result
    assert tree(base) == before
    bad["files"][0]["content"] = "one\ntwo\nfour\n"
    for check in (True, False, True, False):
        result = module_runner("config_files", bad, check=check, diff=True)
        assert result.get("failed") is not True, result
    assert result["changed"] is False
    assert (base / "etc" / "table").read_text() == "one\ntwo\nfour\n"
