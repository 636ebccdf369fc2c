# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one resolver module: the lint and mail_dns_info read DNS through it; a missing dnspython fails clearly."""

from __future__ import annotations

import pytest

from ansible_collections.mailauth.core.plugins.module_utils import _deps, _dns_info, _lint, _resolver


def test_lint_and_dns_info_share_the_resolver():
    assert _lint.DnsLookup is _resolver.DnsLookup
    assert _dns_info.DnsLookup is _resolver.DnsLookup
    assert _dns_info.query_server is _resolver.query_server
    assert not hasattr(_dns_info, "dns")  # no dnspython import of its own


def test_missing_dnspython_is_a_lookup_failure_naming_the_library(monkeypatch):
    def need(*names):
        raise _deps.MissingLibrary("dns.resolver")

    monkeypatch.setattr(_deps, "need", need)
    with pytest.raises(_resolver.LookupFailure, match="dnspython is required"):
        _resolver.DnsLookup("127.0.0.1")
    with pytest.raises(_resolver.LookupFailure, match="dnspython is required"):
        _resolver.query_server("127.0.0.1", 53, "example.test", 1.0)


def test_an_unreachable_server_is_a_lookup_failure():
    with pytest.raises(_resolver.LookupFailure, match="did not answer"):
        _resolver.query_server("127.0.0.1", 9, "example.test", 0.2)
