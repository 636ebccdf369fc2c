# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AnsibleModule that masks private key material found in any argument, even a mistaken one.

A private PEM pasted where a public key (or any other string) is expected must never come back
in ``invocation.module_args``, an error message, a registered result or the syslog line. The
arguments are searched as soon as they are read, before the argument spec is validated, so even
an argument-spec failure cannot echo the key.
"""

from __future__ import annotations

import re
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.core.plugins.module_utils import _input
from ansible_collections.mailauth.core.plugins.module_utils._input import private_key_paths, private_key_strings


def shape_problems(spec: t.Dict[str, t.Any], params: t.Any, prefix: str = "") -> t.List[str]:
    """Options whose value has the wrong shape (a string for a list, a list for a dictionary...), by field.

    ansible-core reports these with a generic message that names no field (``dictionary requested,
    could not parse JSON or key=value``); this names it.
    """
    if not isinstance(params, dict):
        return []
    problems = []
    for name, option in spec.items():
        value = params.get(name)
        field = prefix + name
        if value is None:
            continue
        kind, elements, options = option.get("type", "str"), option.get("elements"), option.get("options")
        if kind == "list" and not isinstance(value, list):
            problems.append("%s must be a list, got %s %s" % (field, type(value).__name__, _input._show(value)))
        elif kind == "dict" and not isinstance(value, dict):
            problems.append("%s must be a dictionary, got %s %s" % (field, type(value).__name__, _input._show(value)))
        elif kind == "list" and elements == "dict":
            for index, item in enumerate(value):
                where = "%s[%d]" % (field, index)
                if not isinstance(item, dict):
                    problems.append("%s must be a dictionary, got %s" % (where, type(item).__name__))
                elif options:
                    problems += shape_problems(options, item, where + ".")
        elif kind == "dict" and options:
            problems += shape_problems(options, value, field + ".")
    return problems


class KeySafeModule(AnsibleModule):
    """An AnsibleModule whose no-log values hold every private key found in its arguments.

    It also names the field when an argument has the wrong shape (see :func:`shape_problems`).
    """

    private_key_fields: t.List[str] = []
    _shape_problems: t.List[str] = []

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._shape_problems = []  # validated: later failures are the module's own

    def _load_params(self) -> None:
        super()._load_params()
        secrets: t.Set[str] = private_key_strings(self.params)
        if secrets:
            self.no_log_values.update(secrets)
            self.private_key_fields = private_key_paths(self.params, "")
        self._shape_problems = shape_problems(self.argument_spec, self.params)

    def fail_json(self, msg: str, **kwargs: t.Any) -> t.NoReturn:  # type: ignore[override]
        """Fail; during argument validation, say first which fields have the wrong shape."""
        if self._shape_problems:
            msg = "%s (%s)" % ("; ".join(self._shape_problems), msg)
        super().fail_json(msg=msg, **kwargs)

    def refuse_private_keys(self, allowed: t.Sequence[str] = ()) -> None:
        """Fail (the key masked) if a private key is in any argument but the allowed fields (``keys[*].name``)."""
        patterns = [re.escape(a).replace(r"\*", "[0-9]+") for a in allowed]
        wrong = [f for f in self.private_key_fields if not any(re.fullmatch(p, f) for p in patterns)]
        if wrong:
            self.fail_json(
                msg="%s: holds a private key; give the public key only (never pass or publish a private key)"
                % ", ".join(wrong)
            )
