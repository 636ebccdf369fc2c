# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filter of the unbound role: unbound_config.

A thin wrapper over ``module_utils/_unbound.py``: the role's variables are validated there, in
Python, before any template renders them.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _unbound
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError


def unbound_config(values):
    """The unbound role's variables (without the unbound_ prefix), validated into what its templates render."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("unbound_config: the input must be a dictionary of the role's variables")
    try:
        return _unbound.build(values)
    except KeyError as err:
        raise AnsibleFilterError("unbound_config: the variable unbound_%s is missing" % err.args[0]) from None
    except InputError as err:
        raise AnsibleFilterError("Invalid unbound input: %s" % err) from None


class FilterModule:
    """mailauth.core unbound filter."""

    def filters(self):
        return {"unbound_config": unbound_config}
