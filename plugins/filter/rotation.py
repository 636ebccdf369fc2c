# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja filters of DKIM key rotation: dkim_rotation_keys (the opendkim role) and dkim_rotation_lock (rotate_dkim.yml).

Thin wrappers over ``module_utils/_rotation.py``.
"""

from __future__ import annotations

import os
import socket
import time

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.core.plugins.module_utils import _rotation
from ansible_collections.mailauth.core.plugins.module_utils._input import InputError


def dkim_rotation_keys(keys, state=None):
    """The configured keys with rotation applied: one per live selector, with ``state`` and ``revoked``."""
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise AnsibleFilterError("dkim_rotation_keys: the input must be a list of key dictionaries (opendkim_keys)")
    if state is not None and not isinstance(state, dict):
        raise AnsibleFilterError("dkim_rotation_keys: the state must be dkim_rotation's state (a dictionary)")
    try:
        if state:
            state = _rotation.parse(_rotation.dump(state), "the rotation state")
        return _rotation.derive_keys(keys, state)
    except _rotation.RotationError as err:
        raise AnsibleFilterError("dkim_rotation_keys: %s" % err) from None


def dkim_rotation_absent(removals, domains, wait=False):
    """dns_records entries (state absent) deleting the DKIM records of removals (``domain/selector`` names).

    wait: mail_dns_info's domains instead, waiting until no authoritative server serves them.
    """
    try:
        if wait:
            return _rotation.gone_entries(removals)
        return _rotation.absent_entries(removals, domains)
    except InputError as err:
        raise AnsibleFilterError("dkim_rotation_absent: %s" % err) from None


def dkim_rotation_shared(keys, domains, play_hosts, host):
    """Which rotated shared keys this host makes, and which it copies from another host (_rotation.shared_keys)."""
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise AnsibleFilterError("dkim_rotation_shared: the input must be the list dkim_rotation_keys returned")
    return _rotation.shared_keys(keys, domains, list(play_hosts or []), str(host))


def dkim_rotation_key_specs(keys, shared, copies=None):
    """dkim_key's keys for every live key of a host, rotated shared keys (made here or copied) included."""
    if not isinstance(keys, list) or not isinstance(shared, dict):
        raise AnsibleFilterError("dkim_rotation_key_specs: give the keys (a list) and dkim_rotation_shared's result")
    try:
        return _rotation.key_specs(keys, shared, copies or [])
    except _rotation.RotationError as err:
        raise AnsibleFilterError("dkim_rotation_key_specs: %s" % err) from None


def dkim_rotation_lock(lock, timeout="1h"):
    """This controller's lock owner (controller, pid) and the run id of a stale lock to take over ("" if none).

    Runs on the controller: the pid is the ansible-playbook process (the parent of the worker that templates).
    """
    try:
        seconds = _rotation.duration(timeout, "rotate_dkim_lock_timeout")
    except InputError as err:
        raise AnsibleFilterError(str(err)) from None
    controller = socket.gethostname()
    stale = _rotation.lock_stale(lock, time.time(), seconds, controller, _rotation.pid_alive)
    return {
        "controller": controller,
        "pid": os.getppid(),
        "take_over": (lock or {}).get("run_id", "") if stale else "",
    }


class FilterModule:
    """mailauth.core rotation filters."""

    def filters(self):
        return {
            "dkim_rotation_keys": dkim_rotation_keys,
            "dkim_rotation_lock": dkim_rotation_lock,
            "dkim_rotation_absent": dkim_rotation_absent,
            "dkim_rotation_shared": dkim_rotation_shared,
            "dkim_rotation_key_specs": dkim_rotation_key_specs,
        }
