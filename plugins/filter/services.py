# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filters of the service roles: postfix_config, postfix_relay_problems, opendkim_config,
opendkim_key_specs, opendkim_dns_records, dkimpy_milter_config, dkimpy_milter_key_problems,
dovecot_config, and site.yml's dkim_entries.

Thin wrappers over ``module_utils/_postfix.py``, ``_opendkim.py``, ``_dkimpy_milter.py``,
``_dovecot.py`` and ``_site.py``: the roles' variables are validated there, in Python, before any
template renders them, and what the roles derive from them is computed there, not in Jinja.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _dkimpy_milter, _dovecot, _opendkim, _postfix, _site
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


def _dict_list(name, what, values):
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise AnsibleFilterError("%s: the input must be a list of %s" % (name, what))
    return values


def opendkim_key_specs(keys):
    """The keys argument of mailauth.core.dkim_key, from key dicts of the dkim_keys shape."""
    _dict_list("opendkim_key_specs", "key dictionaries (the dkim_keys filter's shape)", keys)
    try:
        return _opendkim.key_specs(keys)
    except KeyError as err:
        raise AnsibleFilterError("opendkim_key_specs: a key has no %s" % err.args[0]) from None


def opendkim_dns_records(results, revoked=None):
    """The TXT records to publish ({name, domain, selector, type, value, fingerprint, revoked}) from dkim_keys.

    revoked: the keys published revoked (the revoked keys of dkim_rotation_keys).
    """
    _dict_list("opendkim_dns_records", "dkim_key's dkim_keys results", results)
    _dict_list("opendkim_dns_records", "revoked key dictionaries", revoked or [])
    try:
        return _opendkim.dns_records(results, revoked or [])
    except KeyError as err:
        raise AnsibleFilterError("opendkim_dns_records: a result has no %s" % err.args[0]) from None


def dkimpy_milter_key_problems(keys):
    """What dkimpy-milter cannot sign among ed25519 key dicts, as sentences (empty when valid)."""
    return _dkimpy_milter.key_problems(_dict_list("dkimpy_milter_key_problems", "key dictionaries", keys))


def dkim_entries(entries):
    """The domain entries that have dkim, reduced to name and dkim (what site.yml waits for)."""
    _dict_list("dkim_entries", "domain entries", entries)
    try:
        return _site.dkim_entries(entries)
    except KeyError:
        raise AnsibleFilterError("dkim_entries: every domain entry needs a name") from None


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
            "opendkim_key_specs": opendkim_key_specs,
            "opendkim_dns_records": opendkim_dns_records,
            "dkimpy_milter_config": dkimpy_milter_config,
            "dkimpy_milter_key_problems": dkimpy_milter_key_problems,
            "dovecot_config": dovecot_config,
            "dkim_entries": dkim_entries,
        }
