# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File handling shared by the modules: atomic writes, owners and modes, and sets of config files.

Private; the public surface is the modules ``dkim_key`` and ``config_files``. Pure Python, no
Ansible import, so it can be unit-tested directly.

``ensure_files`` writes several configuration files in one module run (one round trip to the
host instead of two per file with ``ansible.builtin.template``): every file is staged in a
0600 temporary file next to its destination, checked with its ``validate`` command, and moved
into place with ``os.replace``, in the order given. If a check fails, the files already moved
in this run get their previous content back (new files are removed) and nothing else is
touched, so a run that fails leaves the host as it found it.
"""

from __future__ import annotations

import contextlib
import grp
import hashlib
import os
import pwd
import re
import shlex
import shutil
import stat
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

# run(argv) -> (rc, stdout, stderr); the module passes AnsibleModule.run_command.
Runner = Callable[[List[str]], Tuple[int, str, str]]


class FilesError(Exception):
    """Invalid input or a failed check; the files are as they were before the run."""


# --------------------------------------------------------------------------- owners and modes


class Pending(str):
    """A user or group name that does not exist yet: check mode plans with it (an earlier task creates it)."""


def pending_warning(what: str) -> str:
    """The check-mode warning for an owner or group in ``lookup_ids``' pending list."""
    return "check mode: %s is not on the host yet; the plan assumes an earlier task creates it" % what


def lookup_ids(owner: Any, group: Any, hint: str = "", pending: Optional[List[str]] = None) -> Tuple[Any, Any]:
    """Return (uid, gid) for user and group names or numeric ids, or raise FilesError.

    With ``pending`` (a list, check mode), a name missing on the host is returned as ``Pending(name)`` and
    recorded there instead of failing: a plan on a new host runs before the package or task that creates it.
    """

    def _lookup(value: Any, kind: str) -> Any:
        text = str(value).strip() if value is not None else ""
        if not text:
            raise FilesError("%s must be a user/group name or id" % kind)
        if text.isdigit():
            return int(text)
        try:
            if kind == "owner":
                return pwd.getpwnam(text).pw_uid
            return grp.getgrnam(text).gr_gid
        except KeyError:
            what = "user" if kind == "owner" else "group"
            if pending is not None:
                note = "%s %s" % (what, text)
                if note not in pending:
                    pending.append(note)
                return Pending(text)
            raise FilesError("%s %r does not exist on this host%s" % (what, text, hint)) from None

    return _lookup(owner, "owner"), _lookup(group, "group")


def parse_octal_mode(value: Any, what: str = "mode") -> int:
    """Return a permission mode from '0644', '644' or an int; refuse anything else."""
    if isinstance(value, bool):
        raise FilesError("%s must be a quoted octal string such as '0644', got %r" % (what, value))
    if isinstance(value, int):
        mode = value
    elif isinstance(value, str) and re.match(r"^0?[0-7]{3,4}$", value.strip()):
        mode = int(value.strip(), 8)
    else:
        raise FilesError("%s must be a quoted octal string such as '0644', got %r" % (what, value))
    if mode & ~0o7777:
        raise FilesError("%s %r is not a permission mode" % (what, value))
    return mode


def file_attrs(st: os.stat_result) -> Dict[str, Any]:
    """Mode, uid and gid of a stat result, as compared and shown in diffs."""
    return {"mode": "%04o" % stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}


def display_attrs(attrs: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """Attributes for the diff, with user and group names instead of ids when they exist."""
    if attrs is None:
        return None
    out = dict(attrs)
    if "uid" in out:
        uid = out.pop("uid")
        try:
            out["owner"] = uid if isinstance(uid, Pending) else pwd.getpwuid(uid).pw_name
        except KeyError:
            out["owner"] = uid
    if "gid" in out:
        gid = out.pop("gid")
        try:
            out["group"] = gid if isinstance(gid, Pending) else grp.getgrgid(gid).gr_name
        except KeyError:
            out["group"] = gid
    return out


def set_attrs(path: str, mode: int, uid: int, gid: int) -> None:
    """chown/chmod path through a descriptor opened without following a symlink."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- atomic writes


def stage(path: str, data: bytes, mode: int, uid: int, gid: int) -> str:
    """Write data to a new 0600 temp file next to path, set its owner and mode; return its name."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fchown(fd, uid, gid)
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def write_atomic(path: str, data: bytes, mode: int, uid: int, gid: int) -> None:
    """Write data to path through a 0600 temp file in the same directory and os.replace.

    On any failure the temp file is removed and path keeps its previous content.
    """
    tmp = stage(path, data, mode, uid, gid)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(os.path.dirname(path))


def fsync_dir(directory: str) -> None:
    """fsync a directory so that a rename in it survives a crash (best effort)."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def ensure_dir(path: str, mode: int, uid: Any, gid: Any, check_mode: bool) -> Optional[Tuple[Any, Any]]:
    """Make path a directory with mode/owner; return (before, after) attrs if anything changes."""
    want = {"mode": "%04o" % mode, "uid": uid, "gid": gid}
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not check_mode:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.mkdir(path, mode)
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        return None, want
    if not stat.S_ISDIR(st.st_mode):
        raise FilesError("%s exists and is not a directory (symlinks are refused)" % path)
    have = file_attrs(st)
    if have == want:
        return None
    if not check_mode:
        set_attrs(path, mode, uid, gid)
    return have, want


# --------------------------------------------------------------------------- sets of files


@dataclass
class FileSpec:
    """One file to ensure: its content, owner, mode and an optional check command."""

    path: str
    content: bytes
    mode: int
    uid: Any  # an int; a Pending name in check mode
    gid: Any
    validate: Optional[str] = None


@dataclass
class DirSpec:
    """One directory to ensure before the files are written."""

    path: str
    mode: int
    uid: Any  # an int; a Pending name in check mode
    gid: Any


def _abs_path(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise FilesError("%s: path must be a non-empty string" % where)
    if not os.path.isabs(value):
        raise FilesError("%s: path %r must be absolute" % (where, value))
    return os.path.normpath(value)


def build_specs(
    raw_files: Sequence[Dict[str, Any]], raw_dirs: Sequence[Dict[str, Any]] = (), pending: Optional[List[str]] = None
) -> Tuple[List[FileSpec], List[DirSpec]]:
    """Validate the module input; report every problem at once, before anything is touched.

    ``pending``: check mode's list of owners and groups not on the host yet (see ``lookup_ids``).
    """
    errors: List[str] = []
    files: List[FileSpec] = []
    dirs: List[DirSpec] = []
    seen: Dict[str, str] = {}
    for kind, raw_list in (("directories", raw_dirs), ("files", raw_files)):
        for index, raw in enumerate(raw_list or []):
            where = "%s[%d]" % (kind, index)
            try:
                path = _abs_path(raw.get("path"), where)
                where = "%s (%s)" % (where, path)
                if path in seen:
                    raise FilesError("%s duplicates %s" % (where, seen[path]))
                seen[path] = where
                uid, gid = lookup_ids(raw.get("owner", "root"), raw.get("group", "root"), pending=pending)
                default_mode = "0755" if kind == "directories" else "0644"
                mode = parse_octal_mode(raw.get("mode") or default_mode, "%s: mode" % where)
                if kind == "directories":
                    dirs.append(DirSpec(path, mode, uid, gid))
                    continue
                content = raw.get("content")
                if not isinstance(content, str):
                    raise FilesError(
                        "%s: content must be a string (the whole file), got %s" % (where, type(content).__name__)
                    )
                validate = raw.get("validate") or None
                if validate is not None and "%s" not in validate:
                    raise FilesError("%s: validate must contain %%s (the file to check), got %r" % (where, validate))
                files.append(FileSpec(path, content.encode("utf-8"), mode, uid, gid, validate))
            except FilesError as err:
                errors.append(str(err))
    if not files and not dirs and not errors:
        errors.append("give at least one file or directory")
    if errors:
        raise FilesError("invalid input: " + "; ".join(errors))
    return files, dirs


def _read_current(path: str) -> Tuple[Optional[bytes], Optional[os.stat_result]]:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None, None
    if not stat.S_ISREG(st.st_mode):
        raise FilesError("%s exists and is not a regular file (symlinks are refused)" % path)
    with open(path, "rb") as handle:
        return handle.read(), st


def _text(data: Optional[bytes]) -> str:
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "(binary content, %d bytes)\n" % len(data)


def _sha1(data: Optional[bytes]) -> Optional[str]:
    return hashlib.sha1(data).hexdigest() if data is not None else None  # the checksum ansible.builtin.stat reports


class _Change:
    """What ensure_files will do to one file."""

    def __init__(self, spec: FileSpec, old: Optional[bytes], st: Optional[os.stat_result]) -> None:
        self.spec = spec
        self.old = old
        self.st = st
        self.content_changed = old != spec.content
        self.attrs_before = file_attrs(st) if st is not None else None
        self.attrs_after = {"mode": "%04o" % spec.mode, "uid": spec.uid, "gid": spec.gid}
        self.attrs_changed = self.attrs_before != self.attrs_after
        self.changed = self.content_changed or self.attrs_changed
        self.staged: Optional[str] = None
        self.done = False


def _run_check(command: str, argv: List[str], what: str, run: Runner) -> None:
    try:
        rc, out, err = run(argv)
    except OSError as exc:
        raise FilesError("%s: the check `%s` could not run: %s; no file was changed" % (what, command, exc)) from None
    if rc != 0:
        detail = (err or out or "").strip().splitlines()
        raise FilesError(
            "%s: the check `%s` failed (exit %d)%s; no file was changed"
            % (what, command, rc, ": " + " / ".join(detail[-5:]) if detail else "")
        )


def _check(change: _Change, run: Runner) -> None:
    argv = [arg.replace("%s", change.staged or "") for arg in _split(change.spec.validate, change.spec.path)]
    _run_check(change.spec.validate or "", argv, change.spec.path, run)


def _split(command: Optional[str], what: str, installed: bool = True) -> List[str]:
    """The check command as argv; with installed, its program must exist (a clear error before any write)."""
    try:
        argv = shlex.split(command or "")
    except ValueError as err:
        raise FilesError("%s: validate %r cannot be parsed: %s" % (what, command, err)) from None
    if not argv:
        raise FilesError("%s: validate is empty" % what)
    if installed and shutil.which(argv[0]) is None:
        raise FilesError("%s: the check program %r of validate %r is not installed" % (what, argv[0], command))
    return argv


def _check_set(changes: Sequence[_Change], command: str, run: Runner) -> None:
    """Run command on a private directory that holds every file of the set as it will be (by base name)."""
    argv_template = _split(command, "validate_set")
    workdir = tempfile.mkdtemp(prefix=".mailauth-check-")
    try:
        for change in changes:
            with open(os.path.join(workdir, os.path.basename(change.spec.path)), "wb") as handle:
                handle.write(change.spec.content)
        argv = [arg.replace("%s", workdir) for arg in argv_template]
        _run_check(command, argv, "validate_set", run)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _restore(changes: Sequence[_Change]) -> List[str]:
    """Put back what this run replaced; return the paths that could not be restored."""
    failed = []
    for change in reversed(changes):
        if not change.done:
            continue
        try:
            if change.old is None:
                os.unlink(change.spec.path)
            elif change.content_changed:
                before = change.attrs_before or {}
                write_atomic(
                    change.spec.path,
                    change.old,
                    int(before.get("mode", "0644"), 8),
                    before.get("uid", 0),
                    before.get("gid", 0),
                )
            elif change.attrs_before is not None:
                before = change.attrs_before
                set_attrs(change.spec.path, int(before["mode"], 8), before["uid"], before["gid"])
        except OSError:
            failed.append(change.spec.path)
    return failed


def ensure_files(
    files: Sequence[FileSpec],
    dirs: Sequence[DirSpec],
    check_mode: bool,
    run: Runner,
    validate_set: Optional[str] = None,
) -> Tuple[bool, List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Ensure dirs, then files in order; return (changed, per-file results, diffs).

    validate_set: a command run before any file moves, on a private directory holding every file
    of the set (by base name) as it will be, e.g. ``postfix -c %s check``.
    """
    diffs: List[Dict[str, Any]] = []
    changed = False
    for spec in dirs:
        attrs = ensure_dir(spec.path, spec.mode, spec.uid, spec.gid, check_mode)
        if attrs is not None:
            changed = True
            diffs.append(
                {
                    "before_header": spec.path + " (directory)",
                    "after_header": spec.path + " (directory)",
                    "before": _attrs_text(attrs[0]),
                    "after": _attrs_text(attrs[1]),
                }
            )
    changes = []
    for spec in files:
        if not check_mode and not os.path.isdir(os.path.dirname(spec.path)):
            raise FilesError("%s: the directory %s does not exist" % (spec.path, os.path.dirname(spec.path)))
        changes.append(_Change(spec, *_read_current(spec.path)))
    if check_mode:
        for change in changes:
            if change.spec.validate:
                _split(change.spec.validate, change.spec.path, installed=False)
        if validate_set:
            _split(validate_set, "validate_set", installed=False)
    else:
        for change in changes:
            if change.content_changed and change.spec.validate:
                _split(change.spec.validate, change.spec.path)
        if validate_set and any(change.content_changed for change in changes):
            _check_set(changes, validate_set, run)
        _apply(changes, run)
    results = []
    for change in changes:
        changed = changed or change.changed
        results.append(
            {
                "path": change.spec.path,
                "changed": change.changed,
                "checksum": _sha1(change.spec.content),
                "size": len(change.spec.content),
                **display_attrs(change.attrs_after),
            }
        )
        if change.changed:
            diffs.append(
                {
                    "before_header": change.spec.path,
                    "after_header": change.spec.path,
                    "before": _text(change.old) + _attrs_note(change.attrs_before, change.attrs_changed),
                    "after": _text(change.spec.content) + _attrs_note(change.attrs_after, change.attrs_changed),
                }
            )
    return changed, results, diffs


def _apply(changes: Sequence[_Change], run: Runner) -> None:
    """Stage every changed file, then check and move them into place in order (restoring on failure)."""
    try:
        for change in changes:
            if change.content_changed:
                spec = change.spec
                change.staged = stage(spec.path, spec.content, spec.mode, spec.uid, spec.gid)
        for change in changes:
            if change.content_changed:
                if change.spec.validate:
                    _check(change, run)
                os.replace(change.staged, change.spec.path)
                change.staged = None
                change.done = True
                fsync_dir(os.path.dirname(change.spec.path))
            elif change.attrs_changed:
                set_attrs(change.spec.path, change.spec.mode, change.spec.uid, change.spec.gid)
                change.done = True
    except BaseException as err:
        not_restored = _restore(changes)
        for change in changes:
            if change.staged:
                with contextlib.suppress(OSError):
                    os.unlink(change.staged)
        if not_restored:
            raise FilesError("%s; could not restore %s" % (err, ", ".join(not_restored))) from err
        if isinstance(err, OSError):
            raise FilesError("cannot write the files: %s; nothing was changed" % err) from err
        raise


def _attrs_text(attrs: Optional[Dict[str, Any]]) -> str:
    shown = display_attrs(attrs)
    if shown is None:
        return "(absent)\n"
    return "mode %s, owner %s, group %s\n" % (shown["mode"], shown["owner"], shown["group"])


def _attrs_note(attrs: Optional[Dict[str, Any]], attrs_changed: bool) -> str:
    if not attrs_changed or attrs is None:
        return ""
    return "# " + _attrs_text(attrs)
