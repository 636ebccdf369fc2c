"""The optional-library loader: one guard for every third-party import."""

from __future__ import annotations

import pytest

from ansible_collections.mailauth.core.plugins.module_utils import _deps


class FakeModule:
    def fail_json(self, **kwargs):
        raise SystemExit(kwargs)


def test_load_returns_the_module():
    resolver = _deps.load("dns.resolver")
    import dns.resolver

    assert resolver is dns.resolver
    assert _deps.missing("dns.resolver", "cryptography") == []


def test_missing_library_is_reported_with_its_pip_name():
    assert _deps.load("lexicon.no_such_module_here") is None
    with pytest.raises(_deps.MissingLibrary) as err:
        _deps.need("dns.resolver", "lexicon.no_such_module_here", libraries={"lexicon": "dns-lexicon>=3.17,<4"})
    assert err.value.library == "dns-lexicon"  # the pip name a provider declares (its LIBRARIES)
    assert "ModuleNotFoundError" in err.value.traceback


def test_require_fails_the_ansible_way():
    with pytest.raises(SystemExit) as err:
        _deps.require(FakeModule(), "dns.resolver", "nosuchlib_xyz.sub")
    result = err.value.args[0]
    assert "Failed to import the required Python library (nosuchlib_xyz)" in result["msg"]
    assert "ModuleNotFoundError" in result["exception"]
    _deps.require(FakeModule(), "dns.resolver")  # present: no failure
