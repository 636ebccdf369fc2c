"""Unit tests for plugins/module_utils/_files.py (sets of config files, all or nothing)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ansible_collections.mailauth.core.plugins.module_utils import _files

UID = str(os.getuid())
GID = str(os.getgid())


def build(files, dirs=()):
    for item in list(files) + list(dirs):
        item.setdefault("owner", UID)
        item.setdefault("group", GID)
    return _files.build_specs(files, dirs)


def run_real(argv):
    import subprocess

    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def ensure(files, dirs=(), check_mode=False, run=run_real):
    specs, dir_specs = build(files, dirs)
    return _files.ensure_files(specs, dir_specs, check_mode=check_mode, run=run)


def mode_of(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_four_steps_check_apply_check_apply(tmp_path):
    conf = tmp_path / "etc" / "svc"

    def files():
        return [
            {"path": str(conf / "a.conf"), "content": "a = 1\n", "mode": "0640"},
            {"path": str(conf / "b.conf"), "content": "b = 2\n"},
        ]

    def dirs():
        return [{"path": str(conf), "mode": "0750"}]

    changed, results, diff = ensure(files(), dirs(), check_mode=True)
    assert changed and not conf.exists()
    assert [r["changed"] for r in results] == [True, True]
    assert any(d["after"].startswith("a = 1\n# mode 0640") for d in diff)

    changed, results, _diff = ensure(files(), dirs())
    assert changed
    assert (conf / "a.conf").read_text() == "a = 1\n"
    assert mode_of(conf / "a.conf") == 0o640 and mode_of(conf / "b.conf") == 0o644 and mode_of(conf) == 0o750

    for check_mode in (True, False):
        changed, results, diff = ensure(files(), dirs(), check_mode=check_mode)
        assert not changed and not diff
        assert [r["changed"] for r in results] == [False, False]
    assert not [n for n in os.listdir(conf) if n.endswith(".tmp")]


def test_mode_only_change_is_reported_and_fixed(tmp_path):
    path = tmp_path / "x"
    path.write_text("same\n")
    os.chmod(path, 0o600)
    changed, results, diff = ensure([{"path": str(path), "content": "same\n", "mode": "0644"}])
    assert changed and results[0]["mode"] == "0644"
    assert mode_of(path) == 0o644
    assert "mode 0600" in diff[0]["before"] and "mode 0644" in diff[0]["after"]


def test_validate_runs_on_the_staged_file_with_earlier_files_in_place(tmp_path):
    table = tmp_path / "table"
    conf = tmp_path / "conf"
    seen = {}

    def run(argv):
        seen["argv"] = argv
        seen["staged"] = Path(argv[-1]).read_text()
        seen["table"] = table.read_text()
        return 0, "", ""

    ensure(
        [
            {"path": str(table), "content": "t1\n"},
            {"path": str(conf), "content": "c1\n", "validate": "checker -n -x %s"},
        ],
        run=run,
    )
    assert seen["argv"][:3] == ["checker", "-n", "-x"] and seen["argv"][3] != str(conf)
    assert seen["staged"] == "c1\n" and seen["table"] == "t1\n"
    assert not os.path.exists(seen["argv"][3])


def test_failed_check_restores_every_file_of_the_run(tmp_path):
    table = tmp_path / "table"
    conf = tmp_path / "conf"
    new = tmp_path / "new"
    table.write_text("old table\n")
    conf.write_text("old conf\n")
    files = [
        {"path": str(table), "content": "new table\n"},
        {"path": str(new), "content": "brand new\n"},
        {"path": str(conf), "content": "broken\n", "validate": "sh -c 'echo bad line 3 >&2; exit 1' %s"},
    ]
    with pytest.raises(
        _files.FilesError, match=r"conf: the check .* failed \(exit 1\): bad line 3; no file was changed"
    ):
        ensure(files)
    assert table.read_text() == "old table\n"
    assert conf.read_text() == "old conf\n"
    assert not new.exists()
    assert sorted(os.listdir(tmp_path)) == ["conf", "table"]


def test_check_mode_runs_no_check_and_writes_nothing(tmp_path):
    def run(_argv):
        raise AssertionError("check mode ran a check command")

    before = sorted(os.listdir(tmp_path))
    changed, _results, _diff = ensure(
        [{"path": str(tmp_path / "c"), "content": "x\n", "validate": "false %s"}],
        [{"path": str(tmp_path / "d")}],
        check_mode=True,
        run=run,
    )
    assert changed
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([{"path": "relative", "content": ""}], "must be absolute"),
        ([{"path": "/x/a", "content": "", "mode": "rw"}], "quoted octal"),
        ([{"path": "/x/a", "content": "", "mode": True}], "quoted octal"),
        ([{"path": "/x/a", "content": "", "validate": "check"}], "must contain %s"),
        ([{"path": "/x/a", "content": ""}, {"path": "/x/a/", "content": ""}], "duplicates"),
        ([{"path": "/x/a", "content": "", "owner": "no-such-user-x"}], "user 'no-such-user-x' does not exist"),
        ([], "at least one file"),
    ],
)
def test_bad_input_is_refused_before_anything(files, message):
    with pytest.raises(_files.FilesError, match=message):
        build(files)


def test_symlink_in_place_of_a_file_is_refused(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep\n")
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(_files.FilesError, match="not a regular file"):
        ensure([{"path": str(tmp_path / "link"), "content": "x\n"}])
    assert target.read_text() == "keep\n"


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(_files.FilesError, match="does not exist"):
        ensure([{"path": str(tmp_path / "nope" / "f"), "content": "x\n"}])
