# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filter dkim_publish: the DKIM keys of all hosts attached to the domain list."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _entries, _names


def _dict_list(value, field: str, what: str) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise AnsibleFilterError(
            "dkim_publish: %s must be a list of %s, got %s %r" % (field, what, type(value).__name__, value)
        )
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise AnsibleFilterError(
                "dkim_publish: %s[%d] must be a dictionary (%s), got %s" % (field, index, what, type(item).__name__)
            )


def dkim_publish(domains, keys):
    """Domains with ``dkim`` set to the records of the generated keys (see _entries.attach_dkim_keys)."""
    _dict_list(domains, "the input (domains)", "domain entries")
    _dict_list(keys, "keys", "{domain, selector, record} dictionaries, e.g. dkim_key's dkim_keys")
    try:
        return _entries.attach_dkim_keys(domains, keys)
    except _names.RecordError as exc:
        raise AnsibleFilterError("dkim_publish: %s" % exc) from None


class FilterModule:
    """mailauth.core publishing filters."""

    def filters(self):
        return {"dkim_publish": dkim_publish}
