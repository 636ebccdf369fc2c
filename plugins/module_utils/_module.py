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

from ansible_collections.mailauth.core.plugins.module_utils._input import private_key_paths, private_key_strings


class KeySafeModule(AnsibleModule):
    """An AnsibleModule whose no-log values hold every private key found in its arguments."""

    private_key_fields: t.List[str] = []

    def _load_params(self) -> None:
        super()._load_params()
        secrets: t.Set[str] = private_key_strings(self.params)
        if secrets:
            self.no_log_values.update(secrets)
            self.private_key_fields = private_key_paths(self.params, "")

    def refuse_private_keys(self, allowed: t.Sequence[str] = ()) -> None:
        """Fail (the key masked) if a private key is in any argument but the allowed fields (``keys[*].name``)."""
        patterns = [re.escape(a).replace(r"\*", "[0-9]+") for a in allowed]
        wrong = [f for f in self.private_key_fields if not any(re.fullmatch(p, f) for p in patterns)]
        if wrong:
            self.fail_json(
                msg="%s: holds a private key; give the public key only (never pass or publish a private key)"
                % ", ".join(wrong)
            )
