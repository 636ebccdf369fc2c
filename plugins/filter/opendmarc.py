# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filter of the opendmarc role: opendmarc_config.

A thin wrapper over ``module_utils/_opendmarc.py``: the role's variables are validated there, in
Python, before any template renders them.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _opendmarc
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError


def opendmarc_config(values):
    """The opendmarc role's variables (without the opendmarc_ prefix), validated into what its templates render."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("opendmarc_config: the input must be a dictionary of the role's variables")
    try:
        return _opendmarc.build(values)
    except KeyError as err:
        raise AnsibleFilterError("opendmarc_config: the variable opendmarc_%s is missing" % err.args[0]) from None
    except InputError as err:
        raise AnsibleFilterError("Invalid OpenDMARC input: %s" % err) from None


class FilterModule:
    """mailauth.core opendmarc role filter."""

    def filters(self):
        return {"opendmarc_config": opendmarc_config}
