# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Session fixtures around the servers of tests/lib/servers.py (shared with bench/).

- ``bind``: BIND 9 primary and secondary (``servers.BindServers``); ``bind_clean``: the same, zones reset.
- ``pdns``: pdns_server with its HTTP API (``servers.PowerDNSServer``).
- ``aws``: moto in server mode behind its counting proxy (``route53/moto_lab.py``).
- ``module_runner``: ``servers.run_module``.

Test files import helpers from the library (``from servers import run_module``, ``import
moto_lab``): this file puts tests/lib and route53/ on ``sys.path`` before they are collected.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
sys.path.insert(0, str(HERE / "route53"))

import moto_lab
from servers import run_module, running_bind, running_pdns


@pytest.fixture(scope="session")
def bind(tmp_path_factory):
    with running_bind(tmp_path_factory.mktemp("bind")) as servers:
        yield servers


@pytest.fixture
def bind_clean(bind):
    """``bind`` with its zones as new, before the test and after it."""
    bind.reset()
    yield bind
    bind.reset()


@pytest.fixture(scope="session")
def pdns(tmp_path_factory):
    with running_pdns(tmp_path_factory.mktemp("pdns")) as server:
        yield server


@pytest.fixture(scope="session")
def aws(tmp_path_factory):
    """moto in server mode and the counting, fault-injecting AwsProxy in front of it."""
    server = moto_lab.MotoServer(tmp_path_factory.mktemp("moto"))
    server.start()
    proxy = moto_lab.AwsProxy(server.url)
    proxy.start()
    try:
        yield server, proxy
    finally:
        proxy.stop()
        server.stop()


@pytest.fixture(scope="session")
def module_runner():
    """The ``run_module`` helper as a fixture."""
    return run_module
