# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filters dkim_publish and dns_publish_entries: the DKIM keys of all hosts attached to the domain list."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _entries, _names


def _dict_list(value, field: str, what: str, name: str = "dkim_publish") -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise AnsibleFilterError(
            "%s: %s must be a list of %s, got %s %r" % (name, field, what, type(value).__name__, value)
        )
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise AnsibleFilterError(
                "%s: %s[%d] must be a dictionary (%s), got %s" % (name, field, index, what, type(item).__name__)
            )


def dkim_publish(domains, keys):
    """Domains with ``dkim`` set to the records of the generated keys (see _entries.attach_dkim_keys)."""
    _dict_list(domains, "the input (domains)", "domain entries")
    _dict_list(keys, "keys", "{domain, selector, value} dictionaries, e.g. dkim_key's dkim_keys")
    try:
        return _entries.attach_dkim_keys(domains, keys)
    except _names.RecordError as exc:
        raise AnsibleFilterError("dkim_publish: %s" % exc) from None


def dns_publish_entries(domains, keys, missing="fail"):
    """The dns_publish role's domains and skipped selectors (see _entries.publish_entries)."""
    _dict_list(domains, "the input (domains)", "domain entries", "dns_publish_entries")
    _dict_list(keys, "keys", "{domain, selector, value} dictionaries, e.g. dkim_key's dkim_keys", "dns_publish_entries")
    try:
        return _entries.publish_entries(domains, keys, missing)
    except _names.RecordError as exc:
        raise AnsibleFilterError("dns_publish_entries: %s" % exc) from None


class FilterModule:
    """mailauth.core publishing filters."""

    def filters(self):
        return {"dkim_publish": dkim_publish, "dns_publish_entries": dns_publish_entries}
