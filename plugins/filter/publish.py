# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filter dkim_publish: the DKIM keys of all hosts attached to the domain list."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _records


def dkim_publish(domains, keys):
    """Domains with ``dkim`` set to the records of the generated keys (see _records.attach_dkim_keys)."""
    try:
        return _records.attach_dkim_keys(domains, keys)
    except _records.RecordError as exc:
        raise AnsibleFilterError("dkim_publish: %s" % exc) from None


class FilterModule:
    """mailauth.core publishing filters."""

    def filters(self):
        return {"dkim_publish": dkim_publish}
