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


def ensure(files, dirs=(), check_mode=False, run=run_real, validate_set=None):
    specs, dir_specs = build(files, dirs)
    return _files.ensure_files(specs, dir_specs, check_mode=check_mode, run=run, validate_set=validate_set)


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
            {"path": str(conf), "content": "c1\n", "validate": "true -n -x %s"},
        ],
        run=run,
    )
    assert seen["argv"][:3] == ["true", "-n", "-x"] and seen["argv"][3] != str(conf)
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
        ([{"path": "/x/a", "content": None}], "content must be a string"),
        ([{"path": "/x/a", "content": {"a": 1}}], "content must be a string"),
        ([{"path": "/x/a", "content": ["x"]}], "content must be a string"),
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


def test_missing_check_program_is_named_before_anything_is_written(tmp_path):
    conf = tmp_path / "conf"
    conf.write_text("old\n")
    table = tmp_path / "table"
    files = [
        {"path": str(table), "content": "new table\n"},
        {"path": str(conf), "content": "new\n", "validate": "no-such-checker-x -n %s"},
    ]
    with pytest.raises(_files.FilesError, match=r"check program 'no-such-checker-x' .* is not installed"):
        ensure(files)
    assert conf.read_text() == "old\n" and not table.exists()
    assert sorted(os.listdir(tmp_path)) == ["conf"]


def test_a_check_that_cannot_run_restores_the_files(tmp_path):
    """The program vanishes between the plan and the run (OSError from the runner): files are put back."""
    table = tmp_path / "table"
    conf = tmp_path / "conf"
    table.write_text("old table\n")
    conf.write_text("old conf\n")

    def run(_argv):
        raise FileNotFoundError(2, "No such file or directory", "true")

    files = [
        {"path": str(table), "content": "new table\n"},
        {"path": str(conf), "content": "new conf\n", "validate": "true %s"},
    ]
    with pytest.raises(_files.FilesError, match=r"could not run: .*No such file or directory.*; no file was changed"):
        ensure(files, run=run)
    assert table.read_text() == "old table\n" and conf.read_text() == "old conf\n"
    assert sorted(os.listdir(tmp_path)) == ["conf", "table"]


def test_validate_set_checks_the_whole_set_before_any_file_moves(tmp_path):
    seen = {}

    def run(argv):
        directory = argv[-1]
        seen["files"] = {name: Path(directory, name).read_text() for name in os.listdir(directory)}
        seen["mode"] = mode_of(directory)
        return (
            (1, "", "fatal: master.cf: line 3: bad field count") if "bad" in seen["files"]["master.cf"] else (0, "", "")
        )

    main = tmp_path / "main.cf"
    master = tmp_path / "master.cf"
    main.write_text("old main\n")
    master.write_text("old master\n")
    files = [{"path": str(main), "content": "new main\n"}, {"path": str(master), "content": "bad\n"}]
    with pytest.raises(
        _files.FilesError, match=r"validate_set: the check .* failed .*bad field count; no file was changed"
    ):
        ensure(files, run=run, validate_set="true -c %s")
    assert seen["files"] == {"main.cf": "new main\n", "master.cf": "bad\n"} and seen["mode"] == 0o700
    assert main.read_text() == "old main\n" and master.read_text() == "old master\n"

    files[1]["content"] = "good\n"
    changed, _results, _diff = ensure(files, run=run, validate_set="true -c %s")
    assert changed and master.read_text() == "good\n" and main.read_text() == "new main\n"
    assert sorted(os.listdir(tmp_path)) == ["main.cf", "master.cf"]


def test_validate_set_does_not_run_when_nothing_changed_or_in_check_mode(tmp_path):
    def run(_argv):
        raise AssertionError("ran a check")

    (tmp_path / "main.cf").write_text("same\n")
    files = [{"path": str(tmp_path / "main.cf"), "content": "same\n"}]
    assert ensure(files, run=run, validate_set="true %s")[0] is False
    files[0]["content"] = "other\n"
    assert ensure(files, run=run, validate_set="true %s", check_mode=True)[0] is True
    assert (tmp_path / "main.cf").read_text() == "same\n"


def test_check_mode_plans_an_owner_that_an_earlier_task_creates(tmp_path):
    """A new host: the package that creates the user has not run; the plan shows the file, writes nothing."""
    pending: list = []
    raw = [{"path": str(tmp_path / "conf"), "content": "x\n", "owner": "no-such-user-x", "group": "no-such-group-x"}]
    specs, dirs = _files.build_specs(raw, [{"path": str(tmp_path / "d"), "group": "no-such-group-x"}], pending)
    assert pending == ["group no-such-group-x", "user no-such-user-x"]  # the directories first
    changed, results, diffs = _files.ensure_files(specs, dirs, check_mode=True, run=run_real)
    assert changed is True
    assert results[0]["owner"] == "no-such-user-x" and results[0]["group"] == "no-such-group-x"
    assert [d["after_header"] for d in diffs] == [str(tmp_path / "d") + " (directory)", str(tmp_path / "conf")]
    assert "group no-such-group-x" in diffs[0]["after"]
    assert os.listdir(tmp_path) == []
    assert "group no-such-group-x is not on the host yet" in _files.pending_warning(pending[0])
    # Without the list (applied), the same input is refused before anything.
    with pytest.raises(_files.FilesError, match="user 'no-such-user-x' does not exist"):
        _files.build_specs(raw)
