# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DKIM key handling for the ``mailauth.core.dkim_key`` module.

Private; the public surface is the module. Everything here is pure Python plus
``cryptography`` and works without Ansible so it can be unit-tested directly.

Files: one private key per (domain, selector) at ``<key_dir>/<domain>/<selector>.private``.
RSA keys are written as PKCS#1 PEM (``BEGIN RSA PRIVATE KEY``, what ``opendkim-genkey``
writes), Ed25519 keys as PKCS#8 PEM (``BEGIN PRIVATE KEY``, what ``openssl genpkey`` writes).

Fingerprint: ``SHA256:`` followed by the unpadded base64 of the SHA-256 digest of the
public key bytes published in the ``p=`` tag (DER SubjectPublicKeyInfo for RSA, the raw
32-byte key for Ed25519), the same style as OpenSSH fingerprints.

The private key never leaves this module except to be written to its file.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import json
import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.mailauth.core.plugins.module_utils import _input
from ansible_collections.mailauth.core.plugins.module_utils._dkim_record import (
    DKIM_KEY_TYPES,
    ED25519_SIZE,
    RSA_SIZES,
    ed25519,
    public_key_p,
    rsa,
    serialization,
)
from ansible_collections.mailauth.core.plugins.module_utils._files import (
    FilesError,
    display_attrs,
    ensure_dir,
    file_attrs,
    lookup_ids,
    set_attrs,
    write_atomic,
)
from ansible_collections.mailauth.core.plugins.module_utils._names import RecordError

KEY_TYPES = DKIM_KEY_TYPES
DEFAULT_RSA_SIZE = 2048
REGENERATE_POLICIES = ("never", "fail", "full_idempotence", "always")
DEFAULT_KEY_DIR = "/etc/dkimkeys"
DIR_MODE = 0o750
FILE_MODES = (0o600, 0o640)
DEFAULT_FILE_MODE = 0o600
KEY_SUFFIX = ".private"
MAX_KEY_FILE_BYTES = 65536

# key_dir must be one of these (or below one), or a directory this module created (it leaves KEY_DIR_MARKER
# there): an existing directory elsewhere (/etc/ssh, /etc/postfix, /root/.ssh...) is never chowned or chmodded.
KEY_DIR_ROOTS = ("/etc/dkimkeys", "/etc/opendkim/keys", "/etc/dkimpy-milter/keys", "/var/lib/dkim")
KEY_DIR_MARKER = ".mailauth-dkim-key-dir"
# Outside KEY_DIR_ROOTS, a directory in these trees is made only for the user running the module: handing a new
# /root/.ssh or /etc/sudoers.d to opendkim would give that user a way in.
SYSTEM_TREES = (
    "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/proc", "/root", "/run", "/sbin",
    "/snap", "/sys", "/usr", "/var",
)  # fmt: skip
_MARKER_TEXT = b"Created by mailauth.core.dkim_key: DKIM private keys, one directory per domain.\n"


class DkimError(FilesError):
    """Invalid input or a state the requested policy forbids; nothing was changed."""


@dataclass
class KeySpec:
    """One requested key; ``key_type``/``key_size`` are resolved (never None) after validation."""

    domain: str
    selector: str
    key_type: Optional[str] = None
    key_size: Optional[int] = None
    # repr=False: a KeySpec in a traceback or log line must not show the key.
    private_key_content: Optional[str] = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """``selector._domainkey.domain`` without the trailing dot."""
        return "%s._domainkey.%s" % (self.selector, self.domain)


# --------------------------------------------------------------------------- validation


def normalize_domain(value: Any, field: str = "domain") -> str:
    """Return the domain lower-cased without a trailing dot, or raise DkimError."""
    if isinstance(value, str) and _input._CONTROL.search(value) is None and not value.isascii():
        raise DkimError("%s %r is not ASCII; give the IDNA A-label form (xn--...) instead" % (field, value))
    try:
        return _input.domain(value, field)
    except _input.InputError as err:
        raise DkimError(str(err)) from None


def validate_selector(value: Any, field: str = "selector") -> str:
    """Return the selector as given if it is a dot-atom of LDH labels (RFC 6376 3.1), or raise DkimError."""
    try:
        _input.selector(value, field)
    except _input.InputError as err:
        raise DkimError(str(err)) from None
    return value


def parse_mode(value: Any) -> int:
    """Return a private key file mode (0600 or 0640) from '0600', '600', 0o600, ..."""
    if isinstance(value, bool):
        raise DkimError("mode must be '0600' or '0640', got %r" % (value,))
    if isinstance(value, int):
        mode = value
    elif isinstance(value, str) and re.fullmatch(r"0?[0-7]{3}", value):
        mode = int(value.strip(), 8)
    else:
        raise DkimError("mode must be '0600' or '0640' (a quoted octal string), got %r" % (value,))
    if mode not in FILE_MODES:
        raise DkimError("mode must be '0600' or '0640', got %r (%s)" % (value, oct(mode)))
    return mode


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)


def validate_key_dir(value: Any, uid: Optional[int] = None) -> str:
    """Return the normalised key directory if this module may own it, or raise DkimError.

    Allowed: a path equal to or below one of KEY_DIR_ROOTS (symlinks resolved), a directory that does not
    exist yet (the module creates it and marks it with KEY_DIR_MARKER), or a directory it created before
    (the marker is there). Any other existing directory is refused before anything changes. With uid (the
    owner to set), a new or marked directory inside SYSTEM_TREES must be for the user running the module.
    """
    try:
        path = _input.absolute_path(value, "key_dir")
    except _input.InputError as err:
        raise DkimError(str(err)) from None
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if _under(path, KEY_DIR_ROOTS) and _under(os.path.realpath(path), KEY_DIR_ROOTS):
        return path
    marker = os.path.join(path, KEY_DIR_MARKER)
    marked = not os.path.islink(path) and os.path.isdir(path) and os.path.isfile(marker) and not os.path.islink(marker)
    if not os.path.lexists(path) or marked:
        real = os.path.realpath(path)
        if uid is not None and uid != os.geteuid() and (_under(path, SYSTEM_TREES) or _under(real, SYSTEM_TREES)):
            raise DkimError(
                "key_dir %r is inside a system directory tree (%s) and outside %s: this module creates such a"
                " directory only for the user running it, not for another owner"
                % (value, real.split("/")[1] and "/" + real.split("/")[1], ", ".join(KEY_DIR_ROOTS))
            )
        return path
    raise DkimError(
        "key_dir %r is an existing directory that this module did not create, outside %s: its owner and mode"
        " would be changed. Use one of those directories, or a new directory (the module creates it)"
        % (value, ", ".join(KEY_DIR_ROOTS))
    )


def owns_key_dir_by_marker(path: str) -> bool:
    """Whether key_dir is outside KEY_DIR_ROOTS, so that the module marks it when it creates it."""
    return not _under(path, KEY_DIR_ROOTS)


def resolve_owner(owner: Any, group: Any, pending: Optional[List[str]] = None) -> Tuple[Any, Any]:
    """Return (uid, gid) for user and group names or numeric ids, or raise DkimError (``pending``: lookup_ids)."""
    try:
        return lookup_ids(owner, group, " (install opendkim first, or set owner and group)", pending)
    except FilesError as err:
        raise DkimError(str(err)) from None


def _resolve_type_size(key_type: Optional[str], size: Any, where: str) -> Tuple[str, int]:
    key_type = "rsa" if key_type is None else key_type
    if key_type not in KEY_TYPES:
        raise DkimError("%s: key_type must be one of %s, got %r" % (where, ", ".join(KEY_TYPES), key_type))
    if key_type == "ed25519":
        if size not in (None, ED25519_SIZE):
            raise DkimError("%s: key_size does not apply to ed25519 keys (omit it), got %r" % (where, size))
        return key_type, ED25519_SIZE
    if size is None:
        return key_type, DEFAULT_RSA_SIZE
    if isinstance(size, bool) or not isinstance(size, int) or size not in RSA_SIZES:
        raise DkimError(
            "%s: RSA key_size must be one of %s, got %r" % (where, ", ".join(str(s) for s in RSA_SIZES), size)
        )
    return key_type, size


def build_specs(raw_keys: Sequence[Dict[str, Any]], state: str = "present") -> List[KeySpec]:
    """Validate the ``keys`` option and return KeySpecs; all problems are reported at once."""
    errors = []  # type: List[str]
    specs = []  # type: List[KeySpec]
    seen = {}  # type: Dict[Tuple[str, str], int]
    if not raw_keys:
        raise DkimError("keys must list at least one key")
    for index, raw in enumerate(raw_keys):
        where = "keys[%d]" % index
        try:
            if not isinstance(raw, dict):
                raise DkimError("%s must be a dictionary" % where)
            domain = normalize_domain(raw.get("domain"), where + ".domain")
            selector = validate_selector(raw.get("selector"), where + ".selector")
            try:
                _input.derived_name("%s._domainkey.%s" % (selector, domain), where + ": the DKIM record name")
            except _input.InputError as err:
                raise DkimError(str(err)) from None
            where = "keys[%d] (%s._domainkey.%s)" % (index, selector, domain)
            content = raw.get("private_key_content")
            key_type, size = raw.get("key_type"), raw.get("key_size")
            if state == "present":
                if content is not None:
                    if not isinstance(content, str) or not content.strip():
                        raise DkimError("%s: private_key_content is empty" % where)
                    key = load_private_key(content.encode("utf-8"), "%s: private_key_content" % where)
                    actual_type, actual_size = key_info(key)
                    if key_type is not None and key_type != actual_type:
                        raise DkimError(
                            "%s: private_key_content is an %s key but key_type is %s" % (where, actual_type, key_type)
                        )
                    if size is not None and size != actual_size:
                        raise DkimError(
                            "%s: private_key_content is a %d-bit key but key_size is %s" % (where, actual_size, size)
                        )
                    key_type, size = actual_type, actual_size
                key_type, size = _resolve_type_size(key_type, size, where)
            ident = (domain, selector.lower())
            if ident in seen:
                raise DkimError("%s duplicates keys[%d]" % (where, seen[ident]))
            seen[ident] = index
            specs.append(KeySpec(domain, selector, key_type, size, content))
        except DkimError as err:
            errors.append(str(err))
    if errors:
        raise DkimError("invalid keys: " + "; ".join(errors))
    return specs


# --------------------------------------------------------------------------- keys


def generate_private_key(key_type: str, size: int = DEFAULT_RSA_SIZE) -> Any:
    """Generate a private key object of the given type and size."""
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise DkimError("unknown key type %r" % (key_type,))


def serialize_private_key(key: Any) -> bytes:
    """PEM for the key file: PKCS#1 for RSA, PKCS#8 for Ed25519, never encrypted."""
    fmt = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if isinstance(key, rsa.RSAPrivateKey)
        else serialization.PrivateFormat.PKCS8
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def _load_pem(data: bytes, validate: bool) -> Any:
    if not validate:
        # OpenSSL's RSA consistency check costs ~30 ms per 2048-bit key, which dominated re-runs with
        # many keys. Keys read back for their public half (type, size, record) do not need it.
        try:
            return serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
        except TypeError as err:
            if "unsafe_skip_rsa_key_validation" not in str(err):
                raise
            # cryptography < 39 has no such switch.
    return serialization.load_pem_private_key(data, password=None)


def load_private_key(data: bytes, what: str = "key", validate: bool = False) -> Any:
    """Load an unencrypted PEM RSA or Ed25519 private key; raise DkimError (without key data) otherwise.

    validate=True runs OpenSSL's full RSA consistency check (slow); use it for keys about to be installed
    from user input.
    """
    try:
        key = _load_pem(data.strip() + b"\n", validate)
    except (ValueError, TypeError) as err:
        # The message of cryptography's exception never contains the key bytes, only the reason.
        reason = "it is encrypted" if "encrypted" in str(err).lower() else "it is not a readable PEM private key"
        raise DkimError("%s cannot be used: %s" % (what, reason)) from None
    except Exception:  # cryptography raises UnsupportedAlgorithm and friends
        raise DkimError("%s cannot be used: unsupported key" % what) from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size not in RSA_SIZES:
            raise DkimError(
                "%s cannot be used: RSA size %d is not one of %s"
                % (what, key.key_size, ", ".join(str(s) for s in RSA_SIZES))
            )
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise DkimError("%s cannot be used: only RSA and Ed25519 keys can sign DKIM" % what)


def key_info(key: Any) -> Tuple[str, int]:
    """Return (type, size in bits) of a private or public key."""
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "rsa", key.key_size
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "ed25519", ED25519_SIZE
    raise DkimError("unsupported key object %s" % type(key).__name__)


def public_key_bytes(key: Any) -> bytes:
    """The bytes published in ``p=``: DER SubjectPublicKeyInfo (RSA) or the raw 32 bytes (Ed25519, RFC 8463)."""
    return base64.b64decode(_p(key))


def _p(key: Any) -> str:
    """The base64 ``p=`` value of a private or public key (the encoder of the record model)."""
    pub = key.public_key() if hasattr(key, "public_key") else key
    try:
        return public_key_p(pub)[2]
    except RecordError as err:
        raise DkimError(str(err)) from None


def dns_record(key: Any) -> str:
    """The TXT value for ``<selector>._domainkey.<domain>``: ``v=DKIM1; k=<type>; p=<base64>``."""
    return "v=DKIM1; k=%s; p=%s" % (key_info(key)[0], _p(key))


def fingerprint(key: Any) -> str:
    """``SHA256:<unpadded base64 of sha256(public key bytes)>``."""
    digest = hashlib.sha256(public_key_bytes(key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def _generate(job: Tuple[str, int]) -> Tuple[bytes, Any]:
    key = generate_private_key(job[0], job[1])
    return serialize_private_key(key), key.public_key()


def available_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def generate_many(jobs: Sequence[Tuple[str, int]], workers: Optional[int] = None) -> List[Tuple[bytes, Any]]:
    """Generate (PEM private key, public key) for (type, size) jobs, in order, on all CPUs.

    Threads are enough: cryptography releases the GIL while OpenSSL searches for primes, so
    RSA generation scales with cores without forking the module process (see the report in
    the changelog fragment for figures).
    """
    if workers is None:
        workers = available_cpus()
    workers = max(1, min(workers, len(jobs)))
    if workers == 1:
        return [_generate(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_generate, jobs))


# --------------------------------------------------------------------------- files


def key_path(key_dir: str, spec: KeySpec) -> str:
    """``<key_dir>/<domain>/<selector>.private``."""
    return os.path.join(key_dir, spec.domain, spec.selector + KEY_SUFFIX)


def plan_needs_cryptography(raw_keys: Sequence[Dict[str, Any]], key_dir: str) -> bool:
    """Whether a check-mode plan must read or load a key: one is given, or a key file exists.

    A plan for a new host, whose package brings cryptography, creates every key and reads none.
    """
    for raw in raw_keys:
        if raw.get("private_key_content") is not None:
            return True
        domain, selector = str(raw.get("domain") or ""), str(raw.get("selector") or "")
        if not domain or not selector or os.path.lexists(os.path.join(key_dir, domain, selector + KEY_SUFFIX)):
            return True
    return False


# --------------------------------------------------------------------------- policy


def decide(policy: str, existing: str) -> str:
    """Map (regenerate policy, state of the existing file) to 'write', 'keep' or 'fail'.

    existing is 'missing', 'invalid' (unreadable or not a usable key), 'match' (the requested
    type and size, or the public key of private_key_content) or 'mismatch'.
    """
    if policy not in REGENERATE_POLICIES:
        raise DkimError("regenerate must be one of %s, got %r" % (", ".join(REGENERATE_POLICIES), policy))
    if existing == "missing" or policy == "always":
        return "write"
    if existing == "match":
        return "keep"
    if existing == "invalid":
        return "write" if policy == "full_idempotence" else "fail"
    # mismatch
    return {"never": "keep", "fail": "fail", "full_idempotence": "write"}[policy]


@dataclass
class _Plan:
    spec: KeySpec
    path: str
    existing: str
    action: str
    old_key: Any = field(default=None, repr=False)
    old_stat: Optional[os.stat_result] = None
    new_pem: Optional[bytes] = field(default=None, repr=False)
    new_public: Any = None


def _summary(key: Any, st: Optional[os.stat_result]) -> Dict[str, Any]:
    out = {}  # type: Dict[str, Any]
    if key is not None:
        key_type, size = key_info(key)
        out.update(key_type=key_type, key_size=size, fingerprint=fingerprint(key))
    if st is not None:
        out.update(file_attrs(st))
    return out


def _inspect(path: str, cache: Optional["PublicCache"] = None) -> Tuple[str, Any, Optional[os.stat_result]]:
    """Return (state, key, stat) for an existing key file; state is missing, invalid or present.

    With a cache, the key returned for a file the cache knows is its public key (see PublicCache).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "missing", None, None
    if not stat.S_ISREG(st.st_mode):
        # A symlink here could point chown/chmod at any file: refuse it.
        raise DkimError("%s exists and is not a regular file (symlinks are refused)" % path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as err:
        if err.errno in (errno.EACCES, errno.EPERM):
            return "invalid", None, st
        raise
    if len(data) > MAX_KEY_FILE_BYTES:
        return "invalid", None, st
    known = cache.get(path, data) if cache is not None else None
    if known is not None:
        return "present", known, st
    try:
        key = load_private_key(data)
    except DkimError:
        return "invalid", None, st
    if cache is not None:
        cache.put(path, data, key.public_key())
    return "present", key, st


class PublicCache:
    """The public half of each key file, keyed by the SHA-256 of the file's bytes.

    Reading a private key costs ~30 ms per RSA-2048 key with cryptography < 39 (Debian 12), which
    cannot skip OpenSSL's consistency check: a re-run with 1,000 keys would spend 30 s there. The
    module only needs the public half of an existing key, so it keeps it in
    ``<key_dir>/.public-keys.json`` (mode 0600, written atomically, never key material). An entry
    is used only while the file's bytes hash to the recorded digest, so a key replaced by anyone
    is read again. An unreadable or foreign cache is ignored and rewritten.
    """

    NAME = ".public-keys.json"
    VERSION = 1

    def __init__(self, key_dir: str, entries: Dict[str, Dict[str, str]]) -> None:
        self.key_dir = key_dir
        self.entries = entries
        self.seen: Dict[str, Dict[str, str]] = {}
        self.dirty = False

    @classmethod
    def load(cls, key_dir: str) -> "PublicCache":
        entries: Dict[str, Dict[str, str]] = {}
        path = os.path.join(key_dir, cls.NAME)
        try:
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o077:
                with open(path, "rb") as handle:
                    data = json.loads(handle.read(64 * 1024 * 1024).decode("utf-8"))
                if data.get("version") == cls.VERSION and isinstance(data.get("keys"), dict):
                    entries = data["keys"]
        except (OSError, ValueError, AttributeError):
            entries = {}
        return cls(key_dir, entries)

    def _name(self, path: str) -> str:
        return os.path.relpath(path, self.key_dir)

    def get(self, path: str, data: bytes) -> Any:
        """The public key recorded for path if data is what was recorded, else None."""
        entry = self.entries.get(self._name(path))
        if not isinstance(entry, dict) or entry.get("sha256") != hashlib.sha256(data).hexdigest():
            return None
        try:
            raw = base64.b64decode(entry["public"], validate=True)
            if entry.get("type") == "ed25519":
                public = ed25519.Ed25519PublicKey.from_public_bytes(raw)
            else:
                public = serialization.load_der_public_key(raw)
                if not isinstance(public, rsa.RSAPublicKey):
                    return None
        except (KeyError, TypeError, ValueError):
            return None
        self.seen[self._name(path)] = entry
        return public

    def put(self, path: str, data: bytes, public: Any) -> None:
        """Record the public half of the key whose file holds data."""
        entry = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "type": key_info(public)[0],
            "public": _p(public),
        }
        name = self._name(path)
        if self.entries.get(name) != entry:
            self.dirty = True
        self.seen[name] = entry

    def save(self) -> None:
        """Write the entries seen in this run (other keys of the directory are kept)."""
        merged = dict(self.entries)
        merged.update(self.seen)
        kept = {name: entry for name, entry in merged.items() if os.path.isfile(os.path.join(self.key_dir, name))}
        if (not self.dirty and len(kept) == len(self.entries)) or not os.path.isdir(self.key_dir):
            return
        merged = kept
        data = json.dumps({"version": self.VERSION, "keys": merged}, sort_keys=True, indent=0).encode("utf-8")
        write_atomic(os.path.join(self.key_dir, self.NAME), data, 0o600, os.geteuid(), os.getegid())


def ensure_keys(
    specs: Sequence[KeySpec],
    key_dir: str,
    owner: Any = "opendkim",
    group: Any = "opendkim",
    mode: Any = DEFAULT_FILE_MODE,
    regenerate: str = "full_idempotence",
    state: str = "present",
    check_mode: bool = False,
    workers: Optional[int] = None,
    generator: Optional[Callable[[Sequence[Tuple[str, int]]], List[Tuple[bytes, Any]]]] = None,
    pending: Optional[List[str]] = None,
) -> Tuple[bool, List[Dict[str, Any]], Dict[str, Any]]:
    """Bring the key files to the requested state.

    Returns (changed, per-key results, diff). Every check (input, owner, policy) runs before the
    first write, so a DkimError means nothing was changed. In check mode nothing is written and a
    key that would be generated has record and fingerprint None; with ``pending`` (a list), an owner or
    group not on the host yet is planned and recorded there (``lookup_ids``).
    """
    key_dir = validate_key_dir(key_dir)
    if state not in ("present", "absent"):
        raise DkimError("state must be present or absent, got %r" % (state,))
    if state == "absent":
        return _remove_keys(specs, key_dir, check_mode)
    file_mode = parse_mode(mode)
    if regenerate not in REGENERATE_POLICIES:
        raise DkimError("regenerate must be one of %s, got %r" % (", ".join(REGENERATE_POLICIES), regenerate))
    uid, gid = resolve_owner(owner, group, pending if check_mode else None)
    validate_key_dir(key_dir, uid)

    cache = PublicCache.load(key_dir)
    plans = []  # type: List[_Plan]
    errors = []  # type: List[str]
    for spec in specs:
        path = key_path(key_dir, spec)
        found, old_key, old_stat = _inspect(path, cache)
        wanted = None
        if spec.private_key_content is not None:
            wanted = load_private_key(spec.private_key_content.encode("utf-8"), "private_key_content")
        if found == "present":
            if wanted is not None:
                same = public_key_bytes(old_key) == public_key_bytes(wanted)
            else:
                same = key_info(old_key) == (spec.key_type, spec.key_size)
            found = "match" if same else "mismatch"
        action = decide(regenerate, found)
        if action == "fail":
            if found == "invalid":
                errors.append(
                    "%s is not a readable unencrypted RSA/Ed25519 private key (regenerate=%s)" % (path, regenerate)
                )
            elif wanted is not None:
                errors.append("%s holds a different key than private_key_content (regenerate=fail)" % path)
            else:
                have_type, have_size = key_info(old_key)
                errors.append(
                    "%s is %s/%d but %s/%d was requested (regenerate=fail)"
                    % (path, have_type, have_size, spec.key_type, spec.key_size)
                )
            continue
        plan = _Plan(spec, path, found, action, old_key, old_stat)
        if action == "write" and wanted is not None:
            plan.new_pem = spec.private_key_content.strip().encode("utf-8") + b"\n"
            try:
                load_private_key(plan.new_pem, "private_key_content", validate=True)
            except DkimError as err:
                errors.append("%s: %s" % (path, err))
        plans.append(plan)
    for directory in [key_dir, *sorted({os.path.join(key_dir, p.spec.domain) for p in plans})]:
        if os.path.islink(directory) or (os.path.lexists(directory) and not os.path.isdir(directory)):
            errors.append("%s exists and is not a directory (symlinks are refused)" % directory)
    if errors:
        raise DkimError("; ".join(errors))

    # Generate what is needed, on every core, before touching the filesystem.
    to_generate = [p for p in plans if p.action == "write" and p.new_pem is None]
    if to_generate and not check_mode:
        gen = generator or (lambda jobs: generate_many(jobs, workers))
        generated = gen([(p.spec.key_type, p.spec.key_size) for p in to_generate])
        for plan, (pem, public) in zip(to_generate, generated):
            plan.new_pem, plan.new_public = pem, public

    diff_before = {}  # type: Dict[str, Any]
    diff_after = {}  # type: Dict[str, Any]
    created = not os.path.lexists(key_dir)
    dir_changes = ensure_dir(key_dir, DIR_MODE, uid, gid, check_mode)
    if dir_changes:
        diff_before[key_dir + "/"], diff_after[key_dir + "/"] = dir_changes
    if created and not check_mode and owns_key_dir_by_marker(key_dir):
        write_atomic(os.path.join(key_dir, KEY_DIR_MARKER), _MARKER_TEXT, 0o640, uid, gid)
    for domain_dir in sorted({os.path.join(key_dir, p.spec.domain) for p in plans}):
        dir_changes = ensure_dir(domain_dir, DIR_MODE, uid, gid, check_mode)
        if dir_changes:
            diff_before[domain_dir + "/"], diff_after[domain_dir + "/"] = dir_changes

    want_attrs = {"mode": "%04o" % file_mode, "uid": uid, "gid": gid}
    results = []
    for plan in plans:
        before = _summary(plan.old_key, plan.old_stat) if plan.existing != "missing" else None
        changed = False
        if plan.action == "write":
            changed = True
            new_key = plan.new_public
            if new_key is None and plan.new_pem is not None:  # private_key_content
                new_key = load_private_key(plan.new_pem, "private_key_content").public_key()
            if not check_mode:
                write_atomic(plan.path, plan.new_pem, file_mode, uid, gid)
                cache.put(plan.path, plan.new_pem, new_key)
            after = _summary(new_key, None)
            if new_key is None:  # check mode: the key does not exist yet, so no fingerprint
                after.update(key_type=plan.spec.key_type, key_size=plan.spec.key_size)
            after.update(want_attrs)
        else:
            new_key = plan.old_key
            after = _summary(new_key, None)
            after.update(want_attrs)
            if file_attrs(plan.old_stat) != want_attrs:
                changed = True
                if not check_mode:
                    set_attrs(plan.path, file_mode, uid, gid)
        if changed:
            diff_before[plan.path] = before
            diff_after[plan.path] = after
        key_type, size = key_info(new_key) if new_key is not None else (plan.spec.key_type, plan.spec.key_size)
        results.append(_result(plan.spec, key_type, size, plan.path, new_key, changed))
    if not check_mode:
        cache.save()
    changed = bool(diff_after)
    return changed, results, _diff(diff_before, diff_after)


def _result(spec: KeySpec, key_type: Optional[str], size: Optional[int], path: str, key: Any, changed: bool) -> dict:
    """One entry of ``dkim_keys``: the fields of a domain entry's DKIM selector (``key_type``, ``key_size``,
    ``value``) plus where the key lives. ``type``, ``size`` and ``record`` repeat them under the names of
    version 0.1.0 (deprecated, removed in 1.0.0)."""
    record = dns_record(key) if key is not None else None
    return {
        "domain": spec.domain,
        "selector": spec.selector,
        "key_type": key_type,
        "key_size": size,
        "value": record,
        "type": key_type,
        "size": size,
        "record": record,
        "path": path,
        "fingerprint": fingerprint(key) if key is not None else None,
        "changed": changed,
    }


def _remove_keys(
    specs: Sequence[KeySpec], key_dir: str, check_mode: bool
) -> Tuple[bool, List[Dict[str, Any]], Dict[str, Any]]:
    results = []
    diff_before = {}  # type: Dict[str, Any]
    diff_after = {}  # type: Dict[str, Any]
    emptied = set()
    for spec in specs:
        path = key_path(key_dir, spec)
        found, old_key, old_stat = _inspect(path)
        changed = found != "missing"
        if changed:
            diff_before[path] = _summary(old_key, old_stat)
            diff_after[path] = None
            if not check_mode:
                os.unlink(path)
                emptied.add(os.path.dirname(path))
        key_type, size = key_info(old_key) if old_key is not None else (None, None)
        results.append(_result(spec, key_type, size, path, old_key, changed))
    for directory in sorted(emptied):
        with contextlib.suppress(OSError):
            os.rmdir(directory)  # only succeeds when no other key is left
    changed = bool(diff_after)
    return changed, results, _diff(diff_before, diff_after)


def _diff(before: Dict[str, Any], after: Dict[str, Any]) -> Dict[str, Any]:
    if not after:
        return {}
    return {
        "before": {path: display_attrs(attrs) for path, attrs in before.items()},
        "after": {path: display_attrs(attrs) for path, attrs in after.items()},
    }
