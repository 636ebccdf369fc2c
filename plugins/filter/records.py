# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filters over the record model: spf_record, dmarc_record, dkim_record, txt_split.

Their documentation lives next to this file (spf_record.yml, ...). Every filter is a thin
wrapper over the record model (``module_utils/_spf.py``, ``_reporting.py``, ``_dkim_record.py``)
and ``module_utils/_txt.py``.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _dkim_record, _input, _names, _reporting, _spf, _txt


def _domain(domain) -> str:
    return _names.check_domain(domain, "domain") if domain is not None else "the domain"


def _intent(value, name: str, field: str) -> None:
    if not isinstance(value, (str, dict)):
        raise AnsibleFilterError(
            "%s: the input (%s) must be a dictionary or a complete record string, got %s"
            % (name, field, type(value).__name__)
        )


def spf_record(spf, domain=None, allow_pass_all=False):
    """The SPF value for an spf intent (dict) or a complete value (validated; +all only with allow_pass_all)."""
    _intent(spf, "spf_record", "spf")
    if not isinstance(allow_pass_all, bool):
        raise AnsibleFilterError("spf_record: allow_pass_all must be true or false, got %r" % (allow_pass_all,))
    try:
        return _spf.build_spf(spf, _domain(domain), allow_pass_all=allow_pass_all)
    except _names.RecordError as exc:
        raise AnsibleFilterError("spf_record: %s" % exc) from None


def dmarc_record(dmarc, domain=None):
    """The DMARC value for a dmarc intent (dict) or a complete value (validated)."""
    _intent(dmarc, "dmarc_record", "dmarc")
    try:
        return _reporting.build_dmarc(dmarc, _domain(domain))[0]
    except _names.RecordError as exc:
        raise AnsibleFilterError("dmarc_record: %s" % exc) from None


def dkim_record(key, key_type=None, flags=None, hash_algorithms=None, service_types=None):
    """The DKIM key record for a public key (PEM or base64), or for a dkim entry (dict)."""
    if isinstance(key, dict):
        entry = dict(key)
        entry.pop("selector", None)
    elif isinstance(key, str):
        entry = {"public_key": key}
    else:
        raise AnsibleFilterError(
            "dkim_record: the input (public_key) must be a public key string or a dkim entry, got %s"
            % type(key).__name__
        )
    for name, value in (
        ("key_type", key_type),
        ("flags", flags),
        ("hash_algorithms", hash_algorithms),
        ("service_types", service_types),
    ):
        if value is not None:
            entry[name] = value
    try:
        return _dkim_record.dkim_value(entry, "dkim_record")
    except _names.RecordError as exc:
        raise AnsibleFilterError(str(exc)) from None


def txt_split(value, limit=255, format="list"):
    """Split a TXT value into <=limit-byte strings (list), or render it as zone-file text (format=zone)."""
    if not isinstance(value, str):
        raise AnsibleFilterError("txt_split: the input must be a string, got %s" % type(value).__name__)
    try:
        _input.control_free(value, "the input")
    except _input.InputError as exc:
        raise AnsibleFilterError("txt_split: %s" % exc) from None
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise AnsibleFilterError("txt_split: limit must be a whole number, got %r" % (limit,))
    try:
        if format == "list":
            return _txt.split_txt(value, limit)
        if format == "zone":
            return _txt.to_zone_text(value, limit)
    except _txt.TxtError as exc:
        raise AnsibleFilterError("txt_split: %s" % exc) from None
    raise AnsibleFilterError("txt_split: format must be list or zone, got %r" % (format,))


class FilterModule:
    """mailauth.core record filters."""

    def filters(self):
        return {
            "spf_record": spf_record,
            "dmarc_record": dmarc_record,
            "dkim_record": dkim_record,
            "txt_split": txt_split,
        }
