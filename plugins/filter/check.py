# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filters of playbooks/check.yml: check_host_keys, check_dns_specs, check_report, check_report_files.

Thin wrappers over ``module_utils/_check_report.py`` (the model) and ``_check_render.py`` (the files).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _check_render, _check_report, _input


def _dicts(name, value, what):
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise AnsibleFilterError("%s: %s must be a list of dictionaries" % (name, what))
    return value


def check_host_keys(results, host, plan=None):
    """dkim_key's dkim_keys of one host, without key material, with rotation states (_check_report.host_keys)."""
    _dicts("check_host_keys", results, "the input (dkim_key's dkim_keys)")
    if plan is not None:
        _dicts("check_host_keys", plan, "plan (dkim_rotation's plan)")
    try:
        return _check_report.host_keys(_input.text(host, "the host name"), results, plan)
    except _input.InputError as exc:
        raise AnsibleFilterError("check_host_keys: %s" % exc) from None
    except KeyError as err:
        raise AnsibleFilterError("check_host_keys: a key has no %s" % err.args[0]) from None


def check_dns_specs(domains, keys):
    """mail_dns_info's domains from the inventory's domain entries and the hosts' keys."""
    _dicts("check_dns_specs", domains, "the input (mailauth_domains)")
    _dicts("check_dns_specs", keys, "keys (check_host_keys results)")
    try:
        return _check_report.dns_specs(domains, keys)
    except KeyError as err:
        raise AnsibleFilterError("check_dns_specs: an entry has no %s" % err.args[0]) from None


def check_report(dns_info, keys, domains, read_hosts, generated=""):
    """The report model (see _check_report.build)."""
    if not isinstance(dns_info, dict) or not isinstance(dns_info.get("domains"), list):
        raise AnsibleFilterError("check_report: the input must be mail_dns_info's result")
    _dicts("check_report", keys, "keys (check_host_keys results)")
    _dicts("check_report", domains, "domains (mailauth_domains)")
    try:
        unread = _check_report.unread_hosts(domains, _input.string_list(read_hosts, "read_hosts"))
        return _check_report.build(dns_info, keys, unread, _input.text(generated, "generated", allow_empty=True))
    except _input.InputError as exc:
        raise AnsibleFilterError("check_report: %s" % exc) from None


def check_report_files(report, report_dir):
    """[{format, path, content}] of the JSON, Markdown and HTML reports under report_dir."""
    if not isinstance(report, dict) or "domains" not in report:
        raise AnsibleFilterError("check_report_files: the input must be check_report's result")
    try:
        return _check_render.report_files(report, report_dir, "mailauth_check_report_dir")
    except _input.InputError as exc:
        raise AnsibleFilterError("check_report_files: %s" % exc) from None


class FilterModule:
    """mailauth.core check report filters."""

    def filters(self):
        return {
            "check_host_keys": check_host_keys,
            "check_dns_specs": check_dns_specs,
            "check_report": check_report,
            "check_report_files": check_report_files,
        }
