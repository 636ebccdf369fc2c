# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""rspamd as the DKIM signer (the arc role's arc_dkim_signing), as a user sees it: the dkim_signing.conf written
from the opendkim role's key list, the settings that let only ARC and signing run, bad input refused naming the
variable, and rspamd's copies of the keys (ed25519 as the base64 of the raw seed) written 0600 and never returned.
"""

from __future__ import annotations

import base64
import copy
import grp
import os
import pathlib
import pwd

import pytest
from ansible.errors import AnsibleFilterError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from test_arc_filter import OK  # the arc role's variables, signing off

from ansible_collections.mailauth.core.plugins.filter import arc as arc_filter
from ansible_collections.mailauth.core.plugins.module_utils import _dkim, _files, _rspamd_keys

# What the opendkim role resolves (opendkim_rsa_keys + opendkim_ed25519_keys), a shared key's content included.
KEYS = [
    {"domain": "Example.org", "selector": "mx1-rsa", "key_type": "rsa", "key_size": 2048, "subdomains": False},
    {"domain": "example.org", "selector": "mx1-ed25519", "key_type": "ed25519", "key_size": 256, "subdomains": False},
    {"domain": "shared.example", "selector": "s2026", "key_type": "rsa", "private_key_content": "-----BEGIN x"},
]


def signing(**changes):
    values = dict(copy.deepcopy(OK), dkim_signing=True, dkim_keys=copy.deepcopy(KEYS))
    values.update(changes)
    return arc_filter.arc_config(values)


def written(**changes):
    return {f["path"]: f["content"] for f in arc_filter.arc_files(signing(**changes))}


def test_signing_is_off_by_default_and_rspamd_then_stays_arc_only():
    out = arc_filter.arc_config(copy.deepcopy(OK))
    files = {f["path"]: f["content"] for f in arc_filter.arc_files(out)}
    assert "/etc/rspamd/local.d/dkim_signing.conf" not in files
    assert files["/etc/rspamd/override.d/dkim_signing.conf"] == "enabled = false;\n"
    assert "DKIM_SIGNED" not in files["/etc/rspamd/local.d/settings.conf"]


def test_dual_and_shared_keys_become_one_domain_entry_each_with_one_selector_per_key():
    files = written()
    conf = files["/etc/rspamd/local.d/dkim_signing.conf"]
    assert (
        '  "example.org" {\n    selectors = [\n'
        '      { selector = "mx1-rsa"; path = "/var/lib/rspamd/dkim/example.org/mx1-rsa.key"; },\n'
        '      { selector = "mx1-ed25519"; path = "/var/lib/rspamd/dkim/example.org/mx1-ed25519.key"; },\n'
        "    ];\n  }\n"
    ) in conf
    assert '{ selector = "s2026"; path = "/var/lib/rspamd/dkim/shared.example/s2026.key"; }' in conf
    for line in (
        "sign_authenticated = true;",
        "sign_inbound = false;",
        "sign_local = false;",
        'sign_networks = ["127.0.0.1/32", "::1/128"];',
        "use_esld = false;",
        "use_redis = false;",
        "try_fallback = false;",
        "check_pubkey = false;",
        "allow_hdrfrom_mismatch = true;",
    ):
        assert line + "\n" in conf
    assert "-----BEGIN" not in "".join(files.values())
    assert "/etc/rspamd/override.d/dkim_signing.conf" not in files
    assert '"MILTER_HEADERS", "DKIM_SIGNED"]' in files["/etc/rspamd/local.d/settings.conf"]


def test_the_settings_carry_no_key_material():
    out = signing()
    assert "private_key_content" not in repr(out)
    assert out["dkim"]["keys"][0] == {"domain": "example.org", "selector": "mx1-rsa", "key_type": "rsa"}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"dkim_keys": [{"domain": "bad..org", "selector": "s", "key_type": "rsa"}]}, "arc_dkim_keys[0].domain"),
        ({"dkim_keys": [{"domain": "a.org", "selector": "s s", "key_type": "rsa"}]}, "arc_dkim_keys[0].selector"),
        ({"dkim_keys": [{"domain": "a.org", "selector": 's";x', "key_type": "rsa"}]}, "arc_dkim_keys[0].selector"),
        ({"dkim_keys": [{"domain": "a.org", "selector": "s", "key_type": "dsa"}]}, "arc_dkim_keys[0].key_type"),
        ({"dkim_keys": [{"domain": "a.org", "selector": "s", "subdomains": True}]}, "arc_dkim_keys[0].subdomains"),
        ({"dkim_keys": [KEYS[0], KEYS[0]]}, "arc_dkim_keys[1]: example.org/mx1-rsa is listed twice"),
        ({"dkim_keys": "example.org"}, "arc_dkim_keys must be a list"),
        ({"dkim_sign_networks": ["mx.example.org"]}, "arc_dkim_sign_networks[0]"),
        ({"dkim_sign_networks": ["0.0.0.0/0"]}, "arc_dkim_sign_networks[0]"),
        ({"dkim_key_dir": "relative"}, "arc_dkim_key_dir"),
        ({"dkim_key_dir": '/var/lib/x"y'}, "arc_dkim_key_dir"),
        ({"dkim_source_key_dir": "etc"}, "arc_dkim_source_key_dir"),
        ({"dkim_signing": "yes"}, "arc_dkim_signing must be true or false"),
    ],
)
def test_bad_signing_input_is_refused_naming_the_variable(changes, message):
    with pytest.raises(AnsibleFilterError) as err:
        signing(**changes)
    assert message in str(err.value)


def _write_key(directory, domain, selector, key):
    os.makedirs(os.path.join(directory, domain), exist_ok=True)
    with open(os.path.join(directory, domain, selector + ".private"), "wb") as handle:
        handle.write(_dkim.serialize_private_key(key))


def _me():
    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


def test_rspamd_copies_rsa_as_pem_and_ed25519_as_the_base64_seed(tmp_path):
    src, dest = str(tmp_path / "src"), str(tmp_path / "rspamd")
    ed, rs = ed25519.Ed25519PrivateKey.generate(), rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_key(src, "example.org", "mx1-ed25519", ed)
    _write_key(src, "example.org", "mx1-rsa", rs)
    keys = [
        {"domain": "example.org", "selector": "mx1-rsa", "key_type": "rsa"},
        {"domain": "example.org", "selector": "mx1-ed25519", "key_type": "ed25519"},
    ]
    owner, group = _me()
    changed, results, removed = _rspamd_keys.export_keys(keys, src, dest, owner, group, check_mode=True)
    assert changed and not os.path.exists(dest)
    changed, results, removed = _rspamd_keys.export_keys(keys, src, dest, owner, group, check_mode=False)
    assert changed and removed == [] and [r["changed"] for r in results] == [True, True]
    assert "PRIVATE" not in repr(results)
    seed = ed.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    path = dest + "/example.org/mx1-ed25519.key"
    assert pathlib.Path(path).read_bytes() == base64.b64encode(seed) + b"\n"
    assert oct(os.stat(path).st_mode & 0o777) == "0o600" and oct(os.stat(dest).st_mode & 0o777) == "0o700"
    pem = pathlib.Path(dest + "/example.org/mx1-rsa.key").read_bytes()
    assert pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    # Idempotent; then a rotation: the key left out of the list loses its copy.
    assert _rspamd_keys.export_keys(keys, src, dest, owner, group, check_mode=False)[0] is False
    # Before the reload the old copy stays (prune false); after it, it goes.
    assert _rspamd_keys.export_keys(keys[:1], src, dest, owner, group, False, prune=False)[0] is False
    assert os.path.exists(path)
    changed, _results, removed = _rspamd_keys.export_keys(keys[:1], src, dest, owner, group, check_mode=False)
    assert changed and removed == [path] and not os.path.exists(path)


def test_a_key_of_the_wrong_type_or_a_missing_key_is_refused(tmp_path):
    src, dest = str(tmp_path / "src"), str(tmp_path / "rspamd")
    _write_key(src, "example.org", "s1", ed25519.Ed25519PrivateKey.generate())
    owner, group = _me()
    with pytest.raises(_files.FilesError, match="is an ed25519 key, not rsa"):
        _rspamd_keys.export_keys(
            [{"domain": "example.org", "selector": "s1", "key_type": "rsa"}], src, dest, owner, group, False
        )
    with pytest.raises(_files.FilesError, match="does not exist"):
        _rspamd_keys.export_keys([{"domain": "example.org", "selector": "s9"}], src, dest, owner, group, False)
    assert not os.path.exists(dest)
