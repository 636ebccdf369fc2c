# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filters of the service roles: postfix_config, postfix_relay_problems, opendkim_config,
dkimpy_milter_config, dovecot_config.

Thin wrappers over ``module_utils/_postfix.py``, ``_opendkim.py``, ``_dkimpy_milter.py`` and
``_dovecot.py``: the roles' variables are validated there, in Python, before any template renders them.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _dkimpy_milter, _dovecot, _opendkim, _postfix
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError


def _build(name, what, prefix, build, values):
    if not isinstance(values, dict):
        raise AnsibleFilterError("%s: the input must be a dictionary of the role's variables" % name)
    try:
        return build(values)
    except KeyError as err:
        raise AnsibleFilterError("%s: the variable %s%s is missing" % (name, prefix, err.args[0])) from None
    except InputError as err:
        raise AnsibleFilterError("Invalid %s input: %s" % (what, err)) from None


def postfix_config(values):
    """The postfix role's variables (without the postfix_ prefix), validated into what its templates render."""
    return _build("postfix_config", "Postfix", "postfix_", _postfix.build, values)


def postfix_relay_problems(files, allow_open_networks=False):
    """Relay problems of the rendered main.cf and master.cf (config_files entries), as sentences."""
    if not isinstance(files, list) or not all(isinstance(f, dict) and "path" in f for f in files):
        raise AnsibleFilterError("postfix_relay_problems: the input must be the list of config_files entries")
    by_name = {f["path"].rsplit("/", 1)[-1]: f.get("content") or "" for f in files}
    return _postfix.relay_problems(by_name.get("main.cf", ""), by_name.get("master.cf", ""), allow_open_networks)


def opendkim_config(values):
    """The opendkim role's variables (without the opendkim_ prefix), validated into what its templates render."""
    return _build("opendkim_config", "OpenDKIM", "opendkim_", _opendkim.build, values)


def dkimpy_milter_config(values):
    """The dkimpy_milter role's variables (without the dkimpy_milter_ prefix), validated for its templates."""
    return _build("dkimpy_milter_config", "dkimpy-milter", "dkimpy_milter_", _dkimpy_milter.build, values)


def dovecot_config(values):
    """The dovecot role's variables (without the dovecot_ prefix), validated into what its templates render."""
    return _build("dovecot_config", "Dovecot", "dovecot_", _dovecot.build, values)


class FilterModule:
    """mailauth.core service-role filters."""

    def filters(self):
        return {
            "postfix_config": postfix_config,
            "postfix_relay_problems": postfix_relay_problems,
            "opendkim_config": opendkim_config,
            "dkimpy_milter_config": dkimpy_milter_config,
            "dovecot_config": dovecot_config,
        }
