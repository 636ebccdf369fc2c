#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: dkim_key
short_description: Ensure DKIM key pairs for a list of domains and selectors
version_added: 0.1.0
description:
  - Ensures one DKIM private key per (domain, selector) in a single task, however many domains there are,
    and returns the DNS TXT record value and a fingerprint of each public key.
  - Each key is stored at C(<key_dir>/<domain>/<selector>.private) and nothing else with key material is
    written. RSA keys are PKCS#1 PEM (as C(opendkim-genkey) writes them), Ed25519 keys PKCS#8 PEM
    (as C(openssl genpkey) writes them). The OpenDKIM KeyTable refers to this path.
  - Files are written to a temporary file (mode 0600) in the target directory, then moved into place
    atomically; the key directory and each domain directory are mode 0750, owned by O(owner)/O(group).
    Symlinks in place of a key file or a domain directory are refused.
  - "Two modes of operation. B(Per-host keys) (default): each host generates its own keys, and each host uses
    its own selector (for example the host name). B(Shared keys): run the module once on the controller
    (C(delegate_to: localhost), C(run_once: true)) with O(key_dir) on the controller, optionally encrypt the
    files with C(ansible-vault encrypt), then install the same key on every host by passing its PEM in
    O(keys[].private_key_content). Every host then returns the same record and fingerprint."
  - The private key is never returned, logged or shown in a diff, not even at C(-vvv).
    O(keys[].private_key_content) is C(no_log).
  - Keys that need generating are generated in parallel on all CPUs of the host.
author:
  - mailauth.core maintainers (@mailauth)
requirements:
  - cryptography
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Nothing is written. A key that would be generated has no record or fingerprint yet (returned as null).
      - On a new host, the plan needs neither cryptography (when no key exists yet and none is given) nor the
        O(owner) and O(group) (a warning names those the package installed before this task will create).
  diff_mode:
    support: full
    details: The diff shows the key type and size, fingerprint, mode and owner of each changed key file, never key
      material.
  platform:
    platforms: posix
options:
  keys:
    description:
      - The keys to manage. Domain and selector pairs must be unique.
    type: list
    elements: dict
    required: true
    suboptions:
      domain:
        description:
          - The signing domain (C(d=)), an ASCII domain name (use the C(xn--) form for IDNs).
          - Normalised to lower case without a trailing dot; the key directory uses the normalised name.
        type: str
        required: true
      selector:
        description:
          - The selector (C(s=)), dot-separated labels of letters, digits and hyphens (RFC 6376 section 3.1).
          - The record is published at C(<selector>._domainkey.<domain>).
        type: str
        required: true
      key_type:
        description:
          - The key type. Ed25519 keys follow RFC 8463; publish an RSA key next to them for receivers that
            do not support Ed25519 yet.
          - Defaults to V(rsa), or to the type of O(keys[].private_key_content) when that is given
            (a different value is an error).
          - The name a domain entry's DKIM selector uses
            (O(mailauth.core.dns_records#module:domains[].dkim[].key_type)).
          - The alias C(type) (the name of version 0.1.0) is deprecated and will be removed in version 1.0.0.
        type: str
        choices: [rsa, ed25519]
        aliases: [type]
      key_size:
        description:
          - RSA key size in bits. Defaults to V(2048), or to the size of O(keys[].private_key_content).
          - Must be omitted (or V(256)) for Ed25519 keys.
          - The name a domain entry's DKIM selector uses
            (O(mailauth.core.dns_records#module:domains[].dkim[].key_size)).
          - The alias C(size) (the name of version 0.1.0) is deprecated and will be removed in version 1.0.0.
        type: int
        choices: [256, 1024, 2048, 3072, 4096]
        aliases: [size]
      private_key_content:
        description:
          - Shared-key mode. An unencrypted PEM RSA or Ed25519 private key to install instead of generating one,
            for example C(lookup('ansible.builtin.file', 'dkim/example.org/shared.private')) on a file encrypted
            with ansible-vault (the lookup decrypts it), or a vaulted variable.
          - The installed key is compared by its public key, so re-running with the same key changes nothing.
          - If the existing file holds another key, O(regenerate) decides (V(full_idempotence) replaces it,
            V(never) keeps it, V(fail) fails).
        type: str
  key_dir:
    description:
      - Directory holding one sub-directory per domain. Debian's opendkim package uses C(/etc/dkimkeys).
      - Its owner is set to O(owner)/O(group) and its mode to 0750, so it is allowed only where that is safe.
        An absolute path, without whitespace, control characters or C(..), that is either equal to or below
        one of the documented roots C(/etc/dkimkeys), C(/etc/opendkim/keys), C(/etc/dkimpy-milter/keys) and
        C(/var/lib/dkim) (symlinks resolved); or a directory that does not exist yet, which the module creates
        and marks with a file C(.mailauth-dkim-key-dir); or such a marked directory created by an earlier run
        (for example a shared-key directory on the controller).
      - Outside those roots, a new or marked directory inside a system tree (C(/etc), C(/usr), C(/var), C(/root),
        C(/home), C(/run), ...) is created only when O(owner) is the user running the module; handing, say, a new
        C(/root/.ssh) to C(opendkim) is refused.
      - Any other existing directory (C(/etc), C(/etc/ssh), C(/etc/postfix), C(/root/.ssh), C(/usr/bin), ...)
        is refused before anything changes.
    type: path
    default: /etc/dkimkeys
  owner:
    description:
      - Owner (name or uid) of the key files and directories. The user must exist.
      - When generating shared keys on the controller, use the controller user.
    type: str
    default: opendkim
  group:
    description:
      - Group (name or gid) of the key files and directories. The group must exist.
    type: str
    default: opendkim
  mode:
    description:
      - Mode of the private key files, V('0600') or V('0640') (group-readable, for a signer running as a
        member of O(group)). Quote it.
    type: raw
    default: '0600'
  regenerate:
    description:
      - When an existing key file is replaced. A missing file is always created.
      - V(never) keeps any existing file, even if its type or size differ from the request; an unreadable
        or invalid file is an error.
      - V(fail) keeps a matching key and fails if the existing key does not match the requested type and
        size (or O(keys[].private_key_content)), or is unreadable.
      - V(full_idempotence) replaces the key when its type or size differ, or when the file is unreadable or
        not a valid key.
      - V(always) writes a new key on every run (never idempotent; use it for a one-off rotation).
      - All checks run before the first write, so a failure changes nothing.
    type: str
    choices: [never, fail, full_idempotence, always]
    default: full_idempotence
  state:
    description:
      - V(present) ensures the keys, V(absent) removes the key files (and a domain directory left empty).
    type: str
    choices: [present, absent]
    default: present
notes:
  - "RSA-3072 and RSA-4096 records are longer than 255 characters; publish them as several character-strings in
    one TXT record (M(mailauth.core.dns_records) does that)."
seealso:
  - name: RFC 6376
    description: DomainKeys Identified Mail (DKIM) Signatures, the record format and selector syntax.
    link: https://www.rfc-editor.org/rfc/rfc6376
  - name: RFC 8463
    description: A New Cryptographic Signature Method for DKIM, the Ed25519 record format.
    link: https://www.rfc-editor.org/rfc/rfc8463
"""

EXAMPLES = r"""
# Per-host keys (default): every mail host has its own selector.
- name: Ensure DKIM keys for all domains this host signs
  mailauth.core.dkim_key:
    keys:
      - domain: example.org
        selector: "{{ inventory_hostname_short }}"
      - domain: example.net
        selector: "{{ inventory_hostname_short }}"
        key_size: 3072
      - domain: example.org
        selector: "{{ inventory_hostname_short }}-ed"
        key_type: ed25519
  register: dkim

- name: Show the TXT records to publish
  ansible.builtin.debug:
    msg: "{{ item.selector }}._domainkey.{{ item.domain }} TXT {{ item.value }}"
  loop: "{{ dkim.dkim_keys }}"
  loop_control:
    label: "{{ item.domain }}/{{ item.selector }}"

# Shared keys: generate once on the controller, next to the inventory ...
- name: Generate the shared keys on the controller
  mailauth.core.dkim_key:
    keys:
      - domain: example.org
        selector: shared
    key_dir: "{{ inventory_dir }}/dkim"
    owner: "{{ lookup('ansible.builtin.env', 'USER') }}"
    group: "{{ lookup('ansible.builtin.env', 'USER') }}"
    regenerate: never
  delegate_to: localhost
  run_once: true
  become: false

# ... optionally run `ansible-vault encrypt inventory/dkim/example.org/shared.private`,
# then install the same key on every mail host (the file lookup decrypts vaulted files).
- name: Install the shared key on every MTA
  mailauth.core.dkim_key:
    keys:
      - domain: example.org
        selector: shared
        private_key_content: "{{ lookup('ansible.builtin.file', inventory_dir ~ '/dkim/example.org/shared.private') }}"
  register: dkim_shared

# Remove a retired selector.
- name: Remove the old keys
  mailauth.core.dkim_key:
    keys:
      - domain: example.org
        selector: "2023"
    state: absent
"""

RETURN = r"""
dkim_keys:
  description:
    - One entry per requested key, in the order of O(keys).
    - Named C(dkim_keys) rather than C(keys) because C(result.keys) in a template is the dictionary method.
  returned: always
  type: list
  elements: dict
  contains:
    domain:
      description: The normalised domain.
      type: str
      sample: example.org
    selector:
      description: The selector.
      type: str
      sample: mx1
    key_type:
      description:
        - The key type (null for an absent key with O(state=absent)).
        - The name a domain entry's DKIM selector uses (O(mailauth.core.dns_records#module:domains[].dkim[].key_type)).
      type: str
      sample: rsa
    key_size:
      description: The key size in bits (256 for Ed25519).
      type: int
      sample: 2048
    value:
      description:
        - The TXT value to publish at C(<selector>._domainkey.<domain>), C(v=DKIM1; k=<type>; p=<base64>), under
          the name a domain entry's DKIM selector uses (O(mailauth.core.dns_records#module:domains[].dkim[].value)).
        - C(p=) holds the DER SubjectPublicKeyInfo for RSA and the raw 32-byte public key for Ed25519 (RFC 8463).
        - Null in check mode for a key that would be generated, and for an absent key with O(state=absent).
      type: str
      sample: "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    path:
      description: The private key file, C(<key_dir>/<domain>/<selector>.private).
      type: str
      sample: /etc/dkimkeys/example.org/mx1.private
    fingerprint:
      description:
        - C(SHA256:) and the unpadded base64 SHA-256 digest of the public key bytes published in C(p=)
          (the OpenSSH fingerprint style). Null whenever RV(dkim_keys[].value) is null.
      type: str
      sample: "SHA256:hdg0pOfIxL6rV1FfZTXoFn9UeWS8ekomL8W2cM6Wbc4"
    changed:
      description: Whether this key file was created, replaced, re-owned or re-moded (or removed).
      type: bool
      sample: true
    type:
      description:
        - Deprecated, the same as RV(dkim_keys[].key_type) under the name of version 0.1.0; will be removed in
          version 1.0.0.
      type: str
      sample: rsa
    size:
      description:
        - Deprecated, the same as RV(dkim_keys[].key_size) under the name of version 0.1.0; will be removed in
          version 1.0.0.
      type: int
      sample: 2048
    record:
      description:
        - Deprecated, the same as RV(dkim_keys[].value) under the name of version 0.1.0; will be removed in
          version 1.0.0.
      type: str
      sample: "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
"""


from ansible_collections.mailauth.core.plugins.module_utils import _deps, _dkim, _dkim_record, _files
from ansible_collections.mailauth.core.plugins.module_utils._module import KeySafeModule


def _deprecated_alias(name: str) -> dict:
    """A name of version 0.1.0, still accepted with a deprecation warning."""
    return dict(name=name, version="1.0.0", collection_name="mailauth.core")


def main() -> None:
    """Validate the arguments, then ensure the keys in one call."""
    module = KeySafeModule(
        argument_spec=dict(
            keys=dict(
                type="list",
                elements="dict",
                required=True,
                no_log=False,
                options=dict(
                    domain=dict(type="str", required=True),
                    selector=dict(type="str", required=True),
                    key_type=dict(
                        type="str",
                        choices=list(_dkim.KEY_TYPES),
                        aliases=["type"],
                        deprecated_aliases=[_deprecated_alias("type")],
                    ),
                    key_size=dict(
                        type="int",
                        choices=[_dkim.ED25519_SIZE, *_dkim.RSA_SIZES],
                        aliases=["size"],
                        deprecated_aliases=[_deprecated_alias("size")],
                    ),
                    private_key_content=dict(type="str", no_log=True),
                ),
            ),
            key_dir=dict(type="path", default=_dkim.DEFAULT_KEY_DIR, no_log=False),
            owner=dict(type="str", default="opendkim"),
            group=dict(type="str", default="opendkim"),
            mode=dict(type="raw", default="0600"),
            regenerate=dict(type="str", default="full_idempotence", choices=list(_dkim.REGENERATE_POLICIES)),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
        key_fields=["keys[*].private_key_content"],
    )
    params = module.params
    # A plan (check mode) for a new host creates every key and reads none: it needs no cryptography yet,
    # which the package installed before this task brings.
    if not module.check_mode or _dkim.plan_needs_cryptography(params["keys"], params["key_dir"]):
        _deps.require(module, *_dkim_record.CRYPTOGRAPHY)
    module.refuse_private_keys()

    pending: list = []
    try:
        specs = _dkim.build_specs(params["keys"], params["state"])
        changed, results, diff = _dkim.ensure_keys(
            specs,
            key_dir=params["key_dir"],
            owner=params["owner"],
            group=params["group"],
            mode=params["mode"],
            regenerate=params["regenerate"],
            state=params["state"],
            check_mode=module.check_mode,
            pending=pending,
        )
    except _dkim.FilesError as err:  # DkimError and the file helpers' errors
        module.fail_json(msg=str(err))
    except OSError as err:
        module.fail_json(msg="cannot manage DKIM keys under %s: %s" % (params["key_dir"], err))

    for what in pending:
        module.warn(_files.pending_warning(what))
    kwargs = {"changed": changed, "dkim_keys": results}
    if module._diff and diff:
        kwargs["diff"] = diff
    module.exit_json(**kwargs)


if __name__ == "__main__":
    main()
