# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filters over the domain list: host_domains, dkim_keys (the keys a host signs with), dkim_key_problems."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _dkim_record, _entries, _input


def _check_entries(name, entries):
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise AnsibleFilterError("%s: the input must be a list of domain entries (dictionaries)" % name)


def host_domains(entries, host):
    """The domain entries whose mail_hosts names host (see _entries.host_domains)."""
    if entries is None:
        return []
    _check_entries("host_domains", entries)
    for entry in entries:
        hosts = entry.get("mail_hosts", [])
        if hosts is not None and not isinstance(hosts, list):
            raise AnsibleFilterError("host_domains: mail_hosts of %s must be a list of host names" % entry.get("name"))
    try:
        _input.text(host, "the host name")
    except _input.InputError as exc:
        raise AnsibleFilterError("host_domains: %s" % exc) from None
    return _entries.host_domains(entries, host)


def dkim_keys(entries, selector_base, key_type="rsa", key_size=2048):
    """One key dict per (domain, key) of the entries (see _entries.signing_keys)."""
    _check_entries("dkim_keys", entries)
    try:
        _input.selector(selector_base, "selector_base")
    except _input.InputError as exc:
        raise AnsibleFilterError("dkim_keys: %s" % exc) from None
    if key_type not in _dkim_record.DKIM_KEY_TYPES:
        raise AnsibleFilterError(
            "dkim_keys: key_type must be one of %s, got %r" % (", ".join(_dkim_record.DKIM_KEY_TYPES), key_type)
        )
    if isinstance(key_size, bool) or key_size not in _dkim_record.RSA_SIZES:
        sizes = ", ".join(str(x) for x in _dkim_record.RSA_SIZES)
        raise AnsibleFilterError("dkim_keys: key_size must be one of %s, got %r" % (sizes, key_size))
    for entry in entries:
        spec = entry.get("dkim", {})
        if not isinstance(spec, dict) and not (isinstance(spec, list) and all(isinstance(k, dict) for k in spec)):
            raise AnsibleFilterError(
                "dkim_keys: dkim of %s must be a dictionary or a list of dictionaries" % entry.get("name")
            )
    return _entries.signing_keys(entries, selector_base, key_type, key_size)


def dkim_key_problems(keys):
    """Sentences for everything wrong with key dicts of the dkim_keys shape (see _entries.signing_key_problems)."""
    return _entries.signing_key_problems(keys)


class FilterModule:
    """mailauth.core domain-list filters."""

    def filters(self):
        return {"host_domains": host_domains, "dkim_keys": dkim_keys, "dkim_key_problems": dkim_key_problems}
