# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filters of the srs role: srs_config and srs_secret_file.

Thin wrappers over ``module_utils/_srs.py``: the role's variables are validated there, in Python,
before any template renders them.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _srs
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError


def srs_config(values):
    """The srs role's variables (without the srs_ prefix), validated into what the role renders."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("srs_config: the input must be a dictionary of the role's variables")
    try:
        return _srs.build(values)
    except KeyError as err:
        raise AnsibleFilterError("srs_config: the variable srs_%s is missing" % err.args[0]) from None
    except InputError as err:
        raise AnsibleFilterError("Invalid SRS input: %s" % err) from None


def srs_secret_file(current, previous):
    """The secrets file: the host's secret first, then the previous secrets (None when the host has none yet)."""
    if not isinstance(previous, list):
        raise AnsibleFilterError("srs_secret_file: the previous secrets must be a list (not shown)")
    try:
        return _srs.secret_file(current, previous)
    except InputError as err:
        raise AnsibleFilterError("Invalid SRS secret: %s" % err) from None


class FilterModule:
    """mailauth.core srs role filters."""

    def filters(self):
        return {"srs_config": srs_config, "srs_secret_file": srs_secret_file}
