#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: rspamd_dkim_keys
short_description: Give rspamd its own copies of the DKIM keys, in the form it reads
version_added: 0.1.0
description:
  - Reads each key M(mailauth.core.dkim_key) wrote, C(<source_dir>/<domain>/<selector>.private), and writes
    rspamd's copy C(<key_dir>/<domain>/<selector>.key), mode 0600, owned by O(owner)/O(group), atomically.
  - RSA keys stay PEM; an Ed25519 key becomes the base64 of its raw 32-byte seed, the only form rspamd's
    C(dkim_signing) reads.
  - With O(prune), copies of keys no longer listed (rotated out) are removed; a rotation writes the new copies
    first (O(prune=false)), reloads rspamd, then prunes. No key material is ever returned, logged or
    shown in a diff.
author:
  - mailauth.core maintainers (@mailauth)
requirements:
  - cryptography
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written or removed; a source key that does not exist yet is reported as a change.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  keys:
    description: The keys to copy.
    type: list
    elements: dict
    required: true
    suboptions:
      domain:
        description: The signing domain.
        type: str
        required: true
      selector:
        description: The selector.
        type: str
        required: true
      key_type:
        description: The key's type; a key file of another type is refused.
        type: str
        choices: [rsa, ed25519]
  source_dir:
    description: The key directory of M(mailauth.core.dkim_key).
    type: path
    default: /etc/dkimkeys
  key_dir:
    description: rspamd's key directory (mode 0700).
    type: path
    default: /var/lib/rspamd/dkim
  prune:
    description: Remove the copies of keys not in O(keys).
    type: bool
    default: true
  owner:
    description: User of the copies.
    type: str
    default: _rspamd
  group:
    description: Group of the copies.
    type: str
    default: _rspamd
seealso:
  - module: mailauth.core.dkim_key
"""

EXAMPLES = r"""
- name: rspamd's copies of the active keys
  mailauth.core.rspamd_dkim_keys:
    keys:
      - {domain: example.org, selector: mx1-rsa}
      - {domain: example.org, selector: mx1-ed25519}
  notify: Reload rspamd
"""

RETURN = r"""
keys:
  description: Each key, in order.
  returned: always
  type: list
  elements: dict
  contains:
    domain:
      description: The domain.
      type: str
    selector:
      description: The selector.
      type: str
    path:
      description: rspamd's copy (empty in check mode when the source key does not exist yet).
      type: str
    changed:
      description: Whether the copy was (or would be) written.
      type: bool
removed:
  description: Copies removed because their key is no longer listed.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.core.plugins.module_utils import _deps, _dkim_record, _files, _rspamd_keys


def main() -> None:
    """Validate the arguments, then ensure the copies in one call."""
    module = AnsibleModule(
        argument_spec=dict(
            keys=dict(
                type="list",
                elements="dict",
                required=True,
                no_log=False,
                options=dict(
                    domain=dict(type="str", required=True),
                    selector=dict(type="str", required=True),
                    key_type=dict(type="str", choices=["rsa", "ed25519"]),
                ),
            ),
            source_dir=dict(type="path", default="/etc/dkimkeys"),
            key_dir=dict(type="path", default="/var/lib/rspamd/dkim", no_log=False),
            owner=dict(type="str", default="_rspamd"),
            group=dict(type="str", default="_rspamd"),
            prune=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    _deps.require(module, *_dkim_record.CRYPTOGRAPHY)
    p = module.params
    try:
        changed, keys, removed = _rspamd_keys.export_keys(
            p["keys"], p["source_dir"], p["key_dir"], p["owner"], p["group"], module.check_mode, p["prune"]
        )
    except _files.FilesError as err:  # DkimError too
        module.fail_json(msg=str(err))
    except OSError as err:
        module.fail_json(msg="cannot write rspamd's keys under %s: %s" % (p["key_dir"], err))
    module.exit_json(changed=changed, keys=keys, removed=removed)


if __name__ == "__main__":
    main()
