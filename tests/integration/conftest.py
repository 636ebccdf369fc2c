# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Session fixtures around the servers of tests/lib/servers.py (shared with bench/).

- ``bind``: BIND 9 primary and secondary (``servers.BindServers``).
- ``pdns``: pdns_server with its HTTP API (``servers.PowerDNSServer``).
- ``module_runner``: ``servers.run_module``.

Test files import helpers from the library (``from servers import run_module``): this file puts
tests/lib on ``sys.path`` before they are collected.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from servers import (
    ZONES,
    dns_query,
    free_port,
    run_module,
    run_playbook,
    running_bind,
    running_pdns,
    soa_serial,
    txt_strings,
    txt_values,
)

__all__ = ["ZONES", "dns_query", "free_port", "run_module", "run_playbook", "soa_serial", "txt_strings", "txt_values"]


@pytest.fixture(scope="session")
def bind(tmp_path_factory):
    with running_bind(tmp_path_factory.mktemp("bind")) as servers:
        yield servers


@pytest.fixture(scope="session")
def pdns(tmp_path_factory):
    with running_pdns(tmp_path_factory.mktemp("pdns")) as server:
        yield server


@pytest.fixture(scope="session")
def module_runner():
    """The ``run_module`` helper as a fixture."""
    return run_module
