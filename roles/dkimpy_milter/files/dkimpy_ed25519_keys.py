# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Derive dkimpy-milter's ed25519 key files from the PEM keys written by dkim_key.

dkimpy (and so dkimpy-milter) reads an ed25519 private key as the base64 of the raw 32-byte
RFC 8032 seed, not as PEM. For each SOURCE=TARGET argument this writes TARGET (mode 0600,
atomically) when its content differs from the seed of SOURCE, and removes other files in the
target directory. Prints a JSON summary with paths only; key material is never printed.

usage: dkimpy_ed25519_keys.py TARGET_DIR [SOURCE=TARGET ...]
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


def seed_of(source: str) -> bytes:
    """Return the base64 seed line of the PEM ed25519 key in source."""
    with open(source, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError("%s is not an ed25519 key" % source)
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return base64.b64encode(raw) + b"\n"


def write_atomic(target: str, content: bytes) -> None:
    """Write content to target through a 0600 temporary file in the same directory."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list) -> int:
    target_dir = argv[1]
    os.makedirs(target_dir, mode=0o700, exist_ok=True)
    os.chmod(target_dir, 0o700)
    wanted = {}
    for pair in argv[2:]:
        source, target = pair.split("=", 1)
        if os.path.dirname(target) != target_dir.rstrip("/"):
            raise ValueError("%s is not in %s" % (target, target_dir))
        wanted[target] = source
    changed, removed = [], []
    for target, source in sorted(wanted.items()):
        content = seed_of(source)
        current = None
        if os.path.isfile(target) and not os.path.islink(target):
            with open(target, "rb") as handle:
                current = handle.read()
        if current != content or (os.stat(target).st_mode & 0o777) != 0o600:
            write_atomic(target, content)
            changed.append(target)
    for name in sorted(os.listdir(target_dir)):
        path = os.path.join(target_dir, name)
        if path not in wanted and os.path.isfile(path):
            os.unlink(path)
            removed.append(path)
    print(json.dumps({"changed": changed, "removed": removed}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
