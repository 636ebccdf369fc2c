# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filters of the spf_policy role: spf_policy_config and spf_policy_header_checks.

A thin wrapper over ``module_utils/_spf_policy.py``: the role's variables are validated and
normalised there, in Python, before the policy service's JSON is rendered.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _spf_policy
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError


def spf_policy_config(values):
    """The spf_policy role's variables (without the spf_policy_ prefix), validated for the policy service."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("spf_policy_config: the input must be a dictionary of the role's variables")
    try:
        return _spf_policy.build(values)
    except KeyError as err:
        raise AnsibleFilterError("spf_policy_config: the variable spf_policy_%s is missing" % err.args[0]) from None
    except InputError as err:
        raise AnsibleFilterError("Invalid SPF policy input: %s" % err) from None


def spf_policy_header_checks(settings, secret, secret_path):
    """Postfix header_checks rules for the validated settings and the host's header secret."""
    if not isinstance(settings, dict) or "config" not in settings:
        raise AnsibleFilterError("spf_policy_header_checks: the input must be the result of spf_policy_config")
    try:
        return _spf_policy.secret_wiring(settings, secret, secret_path)
    except InputError as err:
        raise AnsibleFilterError("Invalid SPF policy header secret: %s" % err) from None


class FilterModule:
    """mailauth.core inbound SPF filter."""

    def filters(self):
        return {"spf_policy_config": spf_policy_config, "spf_policy_header_checks": spf_policy_header_checks}
