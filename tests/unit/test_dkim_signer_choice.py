# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which milter signs a host (playbooks/vars/dkim_signer.yml, read by site.yml and rotate_dkim.yml), rendered by
Ansible's own templating from the file as shipped."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

# ansible-core 2.19 and later: a string is templated only once it is trusted (data tagging).
trust_as_template = pytest.importorskip("ansible.template").trust_as_template

SIGNER_VARS = Path(__file__).resolve().parents[2] / "playbooks" / "vars" / "dkim_signer.yml"
RSA = {"domain": "example.test", "selector": "mx-rsa", "key_type": "rsa"}
ED = {"domain": "example.test", "selector": "mx-ed25519", "key_type": "ed25519"}


def rspamd_signs(**host_vars: object) -> bool:
    """mailauth_site_rspamd_signs for a host with these variables (the opendkim role's facts among them)."""
    variables = {
        name: trust_as_template(value) if isinstance(value, str) else value
        for name, value in yaml.safe_load(SIGNER_VARS.read_text()).items()
    }
    variables.update(host_vars)
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template(trust_as_template("{{ mailauth_site_rspamd_signs | bool }}"))


@pytest.mark.parametrize(
    ("host_vars", "expected"),
    [
        # auto, the default: rspamd where the host signs an ed25519 key (dual signing), OpenDKIM for RSA only.
        ({"opendkim_rsa_keys": [RSA]}, False),
        ({"opendkim_rsa_keys": [RSA], "opendkim_ed25519_keys": [ED]}, True),
        ({"opendkim_ed25519_keys": [ED]}, True),
        # ... but not with a key that signs subdomains too: rspamd signs the From: domain exactly.
        ({"opendkim_rsa_keys": [dict(RSA, subdomains=True)], "opendkim_ed25519_keys": [ED]}, False),
        ({"opendkim_rsa_keys": [dict(RSA, subdomains=False)], "opendkim_ed25519_keys": [ED]}, True),
        # The operator's choice wins; no DKIM, no signer.
        ({"mailauth_dkim_signer": "opendkim", "opendkim_ed25519_keys": [ED]}, False),
        ({"mailauth_dkim_signer": "rspamd", "opendkim_rsa_keys": [RSA]}, True),
        ({"mailauth_dkim_enabled": False, "opendkim_ed25519_keys": [ED]}, False),
        # A host whose OpenDKIM only verifies signs with nothing, rspamd included.
        ({"opendkim_mode": "v", "opendkim_ed25519_keys": [ED]}, False),
        ({"opendkim_mode": "v", "mailauth_dkim_signer": "rspamd", "opendkim_rsa_keys": [RSA]}, False),
        ({}, False),
    ],
)
def test_signer_choice(host_vars: dict, expected: bool) -> None:
    assert rspamd_signs(**host_vars) is expected
