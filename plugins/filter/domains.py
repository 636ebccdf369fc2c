# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filters over the domain list: dkim_keys (the keys a host signs with) and dkim_key_problems."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _records


def dkim_keys(entries, selector_base, key_type="rsa", key_size=2048):
    """One key dict per (domain, key) of the entries (see _records.signing_keys)."""
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise AnsibleFilterError("dkim_keys: the input must be a list of domain entries (dictionaries)")
    for entry in entries:
        spec = entry.get("dkim", {})
        if not isinstance(spec, dict) and not (isinstance(spec, list) and all(isinstance(k, dict) for k in spec)):
            raise AnsibleFilterError(
                "dkim_keys: dkim of %s must be a dictionary or a list of dictionaries" % entry.get("name")
            )
    return _records.signing_keys(entries, str(selector_base), key_type, key_size)


def dkim_key_problems(keys):
    """Sentences for everything wrong with key dicts of the dkim_keys shape (see _records.signing_key_problems)."""
    return _records.signing_key_problems(keys)


class FilterModule:
    """mailauth.core domain-list filters."""

    def filters(self):
        return {"dkim_keys": dkim_keys, "dkim_key_problems": dkim_key_problems}
