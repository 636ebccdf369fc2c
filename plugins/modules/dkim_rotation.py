#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: dkim_rotation
short_description: Read and advance the DKIM key rotation state of a signing host
version_added: 0.3.0
description:
  - Keeps the rotation state of a host's DKIM keys in one JSON file (root only, written atomically) and its
    lock. A slot is one configured key (domain, key type, configured selector); each slot holds selectors in
    the states C(future) (key made, record being published, not signing), C(active) (signing) and C(retired)
    (record still published until its grace is over; C(revoked) after an emergency rotation).
  - A slot without an entry in the state has its configured selector active, as before any rotation.
  - The playbook C(mailauth.core.rotate_dkim) calls it step by step; the opendkim role and C(check.yml) read
    the state with O(step=read). See C(docs/rotation.md).
  - No key material is read, written or returned; keys are made and removed by M(mailauth.core.dkim_key).
author:
  - mailauth.core maintainers (@mailauth)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written; the result says what would change.
  diff_mode:
    support: full
    details: The state file before and after.
  platform:
    platforms: posix
options:
  step:
    description:
      - V(read) returns the state, the lock and, with O(slots), the plan of each slot; it never writes.
      - V(lock) takes the lock for O(run_id); V(unlock) releases it. Neither reports a change (the lock is the run's
        bookkeeping), so that a run with nothing due reports none.
      - V(start) writes the new selector of every slot whose plan is C(start) as C(future).
      - V(switch) makes the future selectors named in O(selectors) active and retires the active ones.
      - V(forget) drops the retired selectors named in O(selectors) (their record and key are gone).
    type: str
    default: read
    choices: [read, lock, unlock, start, switch, forget]
  path:
    description: The state file.
    type: path
    default: /var/lib/mailauth/dkim-rotation.json
  lock_path:
    description: The lock file, created exclusively; it holds the run id, controller, process id and start time.
    type: path
    default: /var/lib/mailauth/dkim-rotation.lock
  slots:
    description:
      - The configured keys, as the opendkim role's C(opendkim_keys) lists them (C(domain), C(selector),
        C(key_type); other keys are ignored).
    type: list
    elements: dict
    default: []
  interval:
    description:
      - Start a rotation when the active selector is older than this (C(180d), C(12h), seconds without a unit).
        Empty never starts one by age.
    type: str
    default: ""
  grace:
    description: How long a retired selector's record stays published.
    type: str
    default: 7d
  queue_lifetime:
    description:
      - Postfix's C(maximal_queue_lifetime) on this host (C(postconf -h maximal_queue_lifetime), days without a unit).
        A O(grace) shorter than it is refused (O(short_grace=refuse)) before any change, or reported as a warning
        (O(short_grace=warn)); empty skips the check.
    type: str
    default: ""
  short_grace:
    description: What a O(grace) shorter than O(queue_lifetime) does, V(refuse) or V(warn) (tests, labs).
    type: str
    default: refuse
    choices: [refuse, warn]
  template:
    description:
      - The new selector, from letters, digits, dots, hyphens, C({selector}) (the slot's configured selector),
        C({key_type}) and the UTC date fields C(%Y %m %d %H %M %S %j %y). A name already in the slot gets
        C(-2), C(-3) and so on. The result must be a valid selector.
    type: str
    default: "{selector}-%Y%m%d"
  now_domains:
    description: Start a rotation now for the slots of these domains, whatever their age.
    type: list
    elements: str
    default: []
  now_key_types:
    description:
      - With O(now_domains), start the rotation only for the slots of these key types (C(rsa), C(ed25519));
        empty, every key type of the domains. Scheduled rotations (O(interval)) are not filtered.
    type: list
    elements: str
    choices: [rsa, ed25519]
    default: []
  emergency:
    description:
      - With O(now_domains), an emergency rotation, the selector it replaces is revoked at the switch
        (C(revoked)); its record is published with an empty C(p=) through the grace, then removed.
    type: bool
    default: false
  key_dir:
    description:
      - Where the keys are (C(<key_dir>/<domain>/<selector>.private)); the time of an active key that the
        state does not know is its file's modification time.
    type: path
    default: /etc/dkimkeys
  selectors:
    description: For O(step=switch) and O(step=forget), C(domain/selector) names.
    type: list
    elements: str
    default: []
  run_id:
    description: The run that takes or releases the lock.
    type: str
    default: ""
  controller:
    description: The controller host name, stored in the lock.
    type: str
    default: ""
  pid:
    description: The controller's process id, stored in the lock.
    type: int
    default: 0
  take_over:
    description: The run id of a stale lock to take over (the playbook decides on the controller).
    type: str
    default: ""
  now:
    description:
      - The current time in seconds since the epoch; a test seam (tests and benchmarks set it), 0 for the clock.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Read the rotation state and plan
  mailauth.core.dkim_rotation:
    step: read
    slots: "{{ opendkim_keys }}"
    interval: 180d
  register: rotation

- name: Switch the selectors every authoritative nameserver serves
  mailauth.core.dkim_rotation:
    step: switch
    slots: "{{ opendkim_keys }}"
    selectors: [example.org/mx1-rsa-20261202]
"""

RETURN = r"""
state:
  description: The state (after the step; as it would be in check mode), C(format) and C(slots).
  returned: always
  type: dict
lock:
  description: The lock's content (C(run_id), C(controller), C(pid), C(started)), or null.
  returned: always
  type: dict
plan:
  description:
    - One entry per slot, C(domain), C(key_type), C(slot), C(action) (C(start), C(switch), C(remove) or
      C(none)), C(selector) (the new or future one), C(active), C(active_since), C(future), C(retired),
      C(remove) (retired selectors past their grace), C(revoked) (the retired selectors that are revoked), C(due)
      and C(emergency).
  returned: always
  type: list
  elements: dict
done:
  description: The C(domain/selector) names the step started, switched or forgot.
  returned: always
  type: list
  elements: str
done_key_types:
  description: The key types (C(rsa), C(ed25519)) of the slots the step changed (after a switch, the milters to reload).
  returned: always
  type: list
  elements: str
switch:
  description: The future selectors (C(domain/selector)) a run switches once every authoritative nameserver serves them.
  returned: always
  type: list
  elements: str
remove:
  description: The retired selectors (C(domain/selector)), revoked or not, past their grace, to remove.
  returned: always
  type: list
  elements: str
remove_keys:
  description: The same as M(mailauth.core.dkim_key) keys (C(domain), C(selector), C(key_type)), to delete their files.
  returned: always
  type: list
  elements: dict
warning_text:
  description: Set when a stale lock was taken over.
  returned: always
  type: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.core.plugins.module_utils import _input, _rotation
from ansible_collections.mailauth.core.plugins.module_utils._dkim_record import DKIM_KEY_TYPES


def main() -> None:
    """Validate the arguments, run one step."""
    module = AnsibleModule(
        argument_spec=dict(
            step=dict(type="str", default="read", choices=["read", "lock", "unlock", "start", "switch", "forget"]),
            path=dict(type="path", default=_rotation.DEFAULT_PATH),
            lock_path=dict(type="path", default=_rotation.DEFAULT_LOCK),
            slots=dict(type="list", elements="dict", default=[]),
            interval=dict(type="str", default=""),
            grace=dict(type="str", default="7d"),
            queue_lifetime=dict(type="str", default=""),
            short_grace=dict(type="str", default="refuse", choices=["refuse", "warn"]),
            template=dict(type="str", default=_rotation.DEFAULT_TEMPLATE),
            now_domains=dict(type="list", elements="str", default=[]),
            now_key_types=dict(type="list", elements="str", default=[], choices=list(DKIM_KEY_TYPES)),
            emergency=dict(type="bool", default=False),
            key_dir=dict(type="path", default="/etc/dkimkeys"),
            selectors=dict(type="list", elements="str", default=[]),
            run_id=dict(type="str", default=""),
            controller=dict(type="str", default=""),
            pid=dict(type="int", default=0),
            take_over=dict(type="str", default=""),
            now=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    step = p["step"]
    now = p["now"] or int(time.time())
    try:
        for name in ("path", "lock_path", "key_dir"):
            _input.absolute_path(p[name], name)
        slots = [{k: v for k, v in s.items() if k in ("domain", "selector", "key_type")} for s in p["slots"]]
        slots = _rotation.slots_from_keys(slots)
        interval = _rotation.duration(p["interval"], "interval") if p["interval"] else None
        grace = _rotation.duration(p["grace"], "grace")
        if p["queue_lifetime"]:
            queue = _rotation.duration(p["queue_lifetime"], "queue_lifetime", "d")
            if grace < queue:
                message = (
                    "rotate_dkim_grace (%s) is shorter than Postfix's maximal_queue_lifetime (%s) on this host: mail"
                    " still queued after the old record is removed would fail DKIM; give a longer grace"
                    % (p["grace"], p["queue_lifetime"])
                )
                if p["short_grace"] == "refuse":
                    raise _input.InputError(message)
                module.warn(message)
        template = _rotation.check_template(p["template"], "template")
        now_domains = [_input.domain(d, "now_domains[%d]" % i) for i, d in enumerate(p["now_domains"])]
        names = [_input.text(s, "selectors[%d]" % i) for i, s in enumerate(p["selectors"])]
        for name in ("run_id", "controller", "take_over"):
            if p[name]:
                _input.match(r"[A-Za-z0-9_.:@-]+", p[name], name, "letters, digits and _ . : @ -")
        if step in ("lock", "unlock") and not p["run_id"]:
            raise _input.InputError("run_id is required to %s" % step)
        state = _rotation.load(p["path"])
        before = _rotation.dump(state)

        def key_time(slot, name):
            try:
                return os.stat(os.path.join(p["key_dir"], slot["domain"], name + ".private")).st_mtime
            except OSError:
                return None

        now_key_types = set(p["now_key_types"])
        items = _rotation.plan(
            state, slots, now, interval, grace, template, set(now_domains), p["emergency"], key_time, now_key_types
        )
        done, changed, warning = [], False, ""
        if step == "start":
            done = _rotation.start(state, slots, items, now)
        elif step == "switch":
            done = _rotation.switch(state, slots, set(names), now)
        elif step == "forget":
            done = _rotation.forget(state, slots, set(names))
        after = _rotation.dump(state)
        if step in ("start", "switch", "forget") and after != before:
            changed = True
            if not module.check_mode:
                _rotation.save(p["path"], state)
            items = _rotation.plan(
                state, slots, now, interval, grace, template, set(now_domains), p["emergency"], key_time, now_key_types
            )
        lock = _rotation.lock_info(p["lock_path"])
        if step == "lock":
            if module.check_mode:
                held = lock and lock.get("run_id") not in (p["run_id"], p["take_over"])
                if held:
                    raise _rotation.RotationError(
                        "another rotation holds %s: run %s from %s pid %s, started %s"
                        % (
                            p["lock_path"],
                            lock.get("run_id"),
                            lock.get("controller"),
                            lock.get("pid"),
                            lock.get("started"),
                        )
                    )
                changed = not lock or lock.get("run_id") != p["run_id"]
            else:
                changed, warning = _rotation.acquire(
                    p["lock_path"], p["run_id"], p["controller"], p["pid"], now, p["take_over"]
                )
                lock = _rotation.lock_info(p["lock_path"])
        elif step == "unlock":
            changed = bool(lock and lock.get("run_id") == p["run_id"])
            if changed and not module.check_mode:
                _rotation.release(p["lock_path"], p["run_id"])
                lock = None
    except (_input.InputError, _rotation.RotationError) as err:
        module.fail_json(msg=str(err))
    except OSError as err:
        module.fail_json(msg="cannot write the rotation state: %s; nothing was changed" % err)

    # The lock is the run's bookkeeping, not a change to the host: a run with nothing due reports changed 0.
    if step in ("lock", "unlock"):
        changed = False
    result = dict(changed=changed, state=state, lock=lock, plan=items, done=done, warning_text=warning)
    result.update(_rotation.summary(items))
    result["done_key_types"] = sorted(
        {i["key_type"] for i in items for n in [i["active"], *i["future"]] if "%s/%s" % (i["domain"], n) in done}
    )
    if warning:
        module.warn(warning)
    if module._diff and step in ("start", "switch", "forget") and changed:
        result["diff"] = {"before_header": p["path"], "after_header": p["path"], "before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
