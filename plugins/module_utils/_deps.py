# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Optional third-party libraries, imported once and reported the Ansible way.

Every module_utils file that needs dnspython, cryptography or another library loads it here
instead of writing its own ``try/except ImportError`` guard::

    dns_resolver = _deps.load("dns.resolver")      # the module, or None when it is missing

and a module asks for what it needs before doing anything::

    _deps.require(module, "dns.resolver", "cryptography.hazmat.primitives")

which fails with Ansible's standard ``missing_required_lib`` message and the import traceback.
"""

from __future__ import annotations

import importlib
import re
import traceback
import typing as t

# The distribution (pip) name of each top-level import package the modules and filters use, for
# missing_required_lib. A DNS provider declares its own (``LIBRARIES``) and passes them as ``libraries``.
DISTRIBUTIONS = {
    "dns": "dnspython",
    "cryptography": "cryptography",
    "nacl": "PyNaCl",
}

_LOADED: dict[str, t.Any] = {}
_ERRORS: dict[str, str] = {}


class MissingLibrary(Exception):
    """A required library is not installed; ``library`` is its pip name."""

    def __init__(self, name: str, libraries: t.Optional[t.Mapping[str, str]] = None) -> None:
        self.library = distribution(name, libraries)
        self.traceback = _ERRORS.get(name)
        super().__init__("the Python library %s is required but is not installed" % self.library)


def distribution(name: str, libraries: t.Optional[t.Mapping[str, str]] = None) -> str:
    """The pip name of the library that provides import ``name``.

    ``libraries`` maps top-level import names to pip requirements (``{"lexicon": "dns-lexicon>=3.17,<4"}``,
    a provider's ``LIBRARIES``); other names come from DISTRIBUTIONS.
    """
    top = name.split(".", 1)[0]
    spec = (libraries or {}).get(top) or DISTRIBUTIONS.get(top, top)
    return re.split(r"[\s<>=!~;\[(]", spec, maxsplit=1)[0]


def load(name: str) -> t.Any:
    """Import ``name`` (a dotted module name); None if it, or something it imports, is missing."""
    if name not in _LOADED and name not in _ERRORS:
        try:
            _LOADED[name] = importlib.import_module(name)
        except ImportError:
            _ERRORS[name] = traceback.format_exc()
    return _LOADED.get(name)


def missing(*names: str) -> list[str]:
    """The import names among ``names`` that cannot be loaded."""
    return [name for name in names if load(name) is None]


def need(*names: str, libraries: t.Optional[t.Mapping[str, str]] = None) -> None:
    """Raise MissingLibrary for the first of ``names`` that cannot be loaded (``libraries``: see distribution)."""
    for name in missing(*names):
        raise MissingLibrary(name, libraries)


def require(module: t.Any, *names: str) -> None:
    """Fail an AnsibleModule with missing_required_lib when one of ``names`` is missing."""
    from ansible.module_utils.basic import missing_required_lib

    for name in missing(*names):
        module.fail_json(msg=missing_required_lib(distribution(name)), exception=_ERRORS.get(name))
