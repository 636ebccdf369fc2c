# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The registry of DNS providers: the one list, and everything derived from it.

Each backend declares its ``name``, ``DESCRIPTION``, ``OPTIONS``, ``BATCHING`` and ``REQUIREMENTS``
on its class (see ``_provider.Provider``). From this list come the ``provider`` choices and the
provider options of ``dns_records`` (:func:`argument_spec`), their documentation (the doc fragment
``mailauth.core.dns_providers`` and the dns_publish role's options, written by
``hacking/gen_provider_docs.py``), and :func:`get_provider`. Adding a provider adds one line
to ``BACKENDS``. Backends import their third-party libraries only when instantiated.
"""

from __future__ import annotations

import copy

from ansible_collections.mailauth.core.plugins.module_utils import _deps
from ansible_collections.mailauth.core.plugins.module_utils._cloudflare import CloudflareProvider
from ansible_collections.mailauth.core.plugins.module_utils._lexicon import LexiconProvider
from ansible_collections.mailauth.core.plugins.module_utils._powerdns import PowerDNSProvider
from ansible_collections.mailauth.core.plugins.module_utils._provider import Provider, ProviderError
from ansible_collections.mailauth.core.plugins.module_utils._rfc2136 import Rfc2136Provider
from ansible_collections.mailauth.core.plugins.module_utils._route53 import Route53Provider
from ansible_collections.mailauth.core.plugins.module_utils._zonefile import ZonefileProvider

# The backends, in the order the docs list them (native batched backends first, lexicon the fallback).
BACKENDS = (
    Rfc2136Provider,
    Route53Provider,
    PowerDNSProvider,
    CloudflareProvider,
    ZonefileProvider,
    LexiconProvider,
)
PROVIDERS: dict[str, type[Provider]] = {cls.name: cls for cls in BACKENDS}
PROVIDER_NAMES = tuple(PROVIDERS)
DEFAULT_PROVIDER = "rfc2136"

# Keys of an option declaration that are documentation only (not argument-spec keys).
_DOC_ONLY = ("description",)
# Argument-spec keys that are not documentation keys.
_SPEC_ONLY = ("no_log",)


def _spec_of(declared: dict) -> dict:
    return {k: copy.deepcopy(v) for k, v in declared.items() if k not in _DOC_ONLY}


def has_required(cls: type[Provider]) -> bool:
    """Whether the provider has a required option (then its options dict is required too)."""
    return any(o.get("required") for o in cls.OPTIONS.values())


def argument_spec() -> dict:
    """The provider part of the ``dns_records`` argument spec: ``provider`` and one dict per backend."""
    spec: dict = {"provider": dict(type="str", required=True, choices=list(PROVIDER_NAMES))}
    for name, cls in PROVIDERS.items():
        spec[name] = dict(type="dict", options={k: _spec_of(v) for k, v in cls.OPTIONS.items()})
    return spec


def required_if() -> list:
    """``required_if`` rules: a provider with a required option needs its options dict."""
    return [("provider", name, (name,)) for name, cls in PROVIDERS.items() if has_required(cls)]


def _doc_of(declared: dict) -> dict:
    doc = {k: copy.deepcopy(v) for k, v in declared.items() if k not in _SPEC_ONLY}
    description = doc.pop("description")
    return dict({"description": description}, **doc)


def doc_options() -> dict:
    """The documentation of the provider options (the ``options`` of the doc fragment)."""
    out: dict = {
        "provider": {
            "description": ["The DNS provider."]
            + ["V(%s) - %s %s" % (name, cls.DESCRIPTION, cls.BATCHING) for name, cls in PROVIDERS.items()],
            "type": "str",
            "required": True,
            "choices": list(PROVIDER_NAMES),
        }
    }
    for name, cls in PROVIDERS.items():
        out[name] = {
            "description": "Options of the V(%s) provider. %s" % (name, cls.DESCRIPTION),
            "type": "dict",
            "suboptions": {k: _doc_of(v) for k, v in cls.OPTIONS.items()},
        }
    return out


def doc_requirements() -> list[str]:
    """The libraries of the backends, each with the providers that need it (the fragment's requirements)."""
    users: dict[str, list[str]] = {}
    for name, cls in PROVIDERS.items():
        for library in cls.REQUIREMENTS:
            needed = users.setdefault(_deps.distribution(library), [])
            if name not in needed:
                needed.append(name)
    return [
        "%s (provider%s %s)" % (library, "s" if len(names) > 1 else "", ", ".join(names))
        for library, names in users.items()
    ]


def get_provider(name: str, options: dict | None = None) -> Provider:
    """Instantiate the backend ``name`` with its option dict."""
    cls = PROVIDERS.get(name)
    if cls is None:
        raise ProviderError("unknown DNS provider %r (choose one of %s)" % (name, ", ".join(PROVIDER_NAMES)))
    return cls(options or {})
