#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: config_files
short_description: Write a set of configuration files in one task, checked, all or nothing
version_added: 0.1.0
description:
  - Ensures the content, owner, group and mode of several files, and of the directories that hold them, in one
    module run. The roles use it for the files of one service (OpenDKIM's tables and C(opendkim.conf), Postfix's
    C(main.cf) and C(master.cf)), so that converging a host costs one round trip for them instead of two per
    file with M(ansible.builtin.template), whatever the number of domains.
  - Render the content on the controller, for example with C(lookup('ansible.builtin.template', 'file.j2')).
  - Each changed file is staged in a temporary file (mode 0600) next to its destination. The files are then
    moved into place with an atomic rename, in the order given; a file with O(files[].validate) is checked
    first, with the files listed before it already in place (list tables before the configuration that
    reads them). If a check fails, the files moved in this run get their previous content back (new files
    are removed) and the task fails with the check's output. Symlinks and other non-regular files in place of
    a file are refused.
author:
  - mailauth.core maintainers (@mailauth)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Nothing is written and no check command runs.
      - An O(files[].owner) or O(files[].group) that does not exist on the host yet (a new host, whose package or
        user task has not run) is planned with a warning instead of failing; applied, it must exist.
  diff_mode:
    support: full
    details: One diff per changed file (content, then owner and mode when they change), one per changed directory.
  platform:
    platforms: posix
options:
  files:
    description: The files, in the order they are written.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The whole content of the file.
        type: str
        required: true
      owner:
        description: User name or id.
        type: str
        default: root
      group:
        description: Group name or id.
        type: str
        default: root
      mode:
        description: Permissions, as a quoted octal string.
        type: raw
        default: "0644"
      validate:
        description:
          - Command that checks the new content before it replaces the file; C(%s) is the staged file.
          - Not run through a shell. Runs only when the content changes.
        type: str
  validate_set:
    description:
      - Command that checks the whole set of files before any of them is moved into place; C(%s) is a private
        temporary directory that holds every file of O(files) as it will be, under its base name (for example
        C(postfix -c %s check) for C(main.cf) and C(master.cf)). Not run through a shell.
      - Runs only when a content changes. If it fails, no file is changed.
    type: str
  directories:
    description: Directories created (with their parents) or corrected before the files are written.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      owner:
        description: User name or id.
        type: str
        default: root
      group:
        description: Group name or id.
        type: str
        default: root
      mode:
        description: Permissions, as a quoted octal string.
        type: raw
        default: "0755"
seealso:
  - module: ansible.builtin.template
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Write OpenDKIM's tables, then its configuration checked with opendkim -n
  mailauth.core.config_files:
    directories:
      - path: /etc/opendkim
        group: opendkim
        mode: "0750"
    files:
      - path: /etc/opendkim/KeyTable
        content: "{{ lookup('ansible.builtin.template', 'KeyTable.j2') }}"
        group: opendkim
        mode: "0640"
      - path: /etc/opendkim.conf
        content: "{{ lookup('ansible.builtin.template', 'opendkim.conf.j2') }}"
        validate: opendkim -n -x %s
  register: opendkim_files
  notify: Restart OpenDKIM
"""

RETURN = r"""
files:
  description: Every file of O(files), in order, as it is after the run (or would be, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file.
      type: str
      sample: /etc/opendkim/KeyTable
    changed:
      description: Whether the content, owner, group or mode changed (or would change).
      type: bool
    checksum:
      description: SHA-1 of the content, as M(ansible.builtin.stat) reports it.
      type: str
    size:
      description: Bytes.
      type: int
    mode:
      description: Permissions.
      type: str
      sample: "0640"
    owner:
      description: Owner name (or id when the user does not exist).
      type: raw
    group:
      description: Group name (or id when the group does not exist).
      type: raw
changed_files:
  description: Paths of the files that changed (or would change), in order.
  returned: always
  type: list
  elements: str
  sample: [/etc/opendkim/KeyTable]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.core.plugins.module_utils import _files

_ATTRS = dict(
    path=dict(type="path", required=True),
    owner=dict(type="str", default="root"),
    group=dict(type="str", default="root"),
)


def main() -> None:
    """Validate the arguments, then ensure the files in one call."""
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    _ATTRS,
                    content=dict(type="str", required=True),
                    mode=dict(type="raw", default="0644"),
                    validate=dict(type="str"),
                ),
            ),
            validate_set=dict(type="str"),
            directories=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(_ATTRS, mode=dict(type="raw", default="0755")),
            ),
        ),
        supports_check_mode=True,
    )
    try:
        pending: list = []
        files, dirs = _files.build_specs(
            module.params["files"], module.params["directories"], pending if module.check_mode else None
        )
        for what in pending:
            module.warn(_files.pending_warning(what))
        changed, results, diff = _files.ensure_files(
            files,
            dirs,
            check_mode=module.check_mode,
            run=lambda argv: module.run_command(argv, handle_exceptions=False),
            validate_set=module.params["validate_set"],
        )
    except _files.FilesError as err:
        module.fail_json(msg=str(err))
    except OSError as err:
        module.fail_json(msg="cannot write the files: %s" % err)

    kwargs = {
        "changed": changed,
        "files": results,
        "changed_files": [r["path"] for r in results if r["changed"]],
    }
    if module._diff and diff:
        kwargs["diff"] = diff
    module.exit_json(**kwargs)


if __name__ == "__main__":
    main()
