# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Domain entries and record helpers shared by the provider tests (tests/lib is on sys.path)."""

from __future__ import annotations


def domain(name: str = "example.test", **extra) -> dict:
    """A dns_records domain entry: SPF (mx, one ip4, -all) and DMARC p=reject, TTL 600."""
    entry = {
        "name": name,
        "ttl": 600,
        "spf": {"mechanisms": ["mx"], "ip4": ["192.0.2.10"], "all": "-all"},
        "dmarc": {"p": "reject", "rua": ["dmarc@%s" % name]},
    }
    entry.update(extra)
    return entry


def serials(server) -> dict:
    """The SOA serial of each zone of a test server (BindServers or PowerDNSServer)."""
    return {zone: server.serial(zone) for zone in server.zones}


def spf_values(values: list) -> list:
    """The SPF values among TXT values."""
    return [v for v in values if v.lower().startswith("v=spf1")]
