# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filters of the arc role: arc_config and arc_files.

Thin wrappers over ``module_utils/_arc.py``: the role's variables are validated there, in Python,
before any template renders them.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _arc
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError


def arc_config(values):
    """The arc role's variables (without the arc_ prefix), validated into what the role writes."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("arc_config: the input must be a dictionary of the role's variables")
    try:
        return _arc.build(values)
    except KeyError as err:
        raise AnsibleFilterError("arc_config: the variable arc_%s is missing" % err.args[0]) from None
    except InputError as err:
        raise AnsibleFilterError("Invalid ARC input: %s" % err) from None


def arc_files(settings, header=""):
    """mailauth.core.config_files' files (path, content, mode, validate) for the settings arc_config returned."""
    if not isinstance(settings, dict) or "sealing" not in settings:
        raise AnsibleFilterError("arc_files: the input must be what arc_config returned")
    if not isinstance(header, str):
        raise AnsibleFilterError("arc_files: the header must be a string")
    return _arc.config_files(settings, header)


class FilterModule:
    """mailauth.core arc role filters."""

    def filters(self):
        return {"arc_config": arc_config, "arc_files": arc_files}
