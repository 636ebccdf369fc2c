# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The DNS steps of a DKIM key rotation against a real BIND primary and secondary on loopback.

future published -> served by every authoritative server -> switch -> removed after the grace, with the
modules rotate_dkim.yml calls (dkim_rotation, dkim_key, dns_records, mail_dns_info). The clock is
dkim_rotation's documented test seam (option ``now``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ansible_collections.mailauth.core.plugins.module_utils import _rotation

T0 = 1796169600  # 2026-12-02T00:00:00Z
DAY = 86400
SLOTS = [{"domain": "example.test", "selector": "mx1-rsa", "key_type": "rsa"}]


def test_publish_wait_switch_remove_after_grace(bind_clean, module_runner, tmp_path):
    bind = bind_clean
    state = {"path": str(tmp_path / "state" / "dkim-rotation.json"), "lock_path": str(tmp_path / "state" / "lock")}
    common = dict(state, slots=SLOTS, grace="7d", key_dir=str(tmp_path / "keys"))
    key_dir = str(tmp_path / "keys")
    owner = {"owner": str(os.getuid()), "group": str(os.getgid()), "key_dir": key_dir}
    provider = {"provider": "rfc2136", "rfc2136": bind.provider_options()}

    def keys(selectors, **extra):
        specs = [{"domain": "example.test", "selector": s, "key_type": "rsa", "key_size": 2048} for s in selectors]
        result = module_runner("dkim_key", dict(owner, keys=specs, **extra))
        assert not result.get("failed"), result.get("msg")
        return result

    # today's key, published as site.yml does
    old = keys(["mx1-rsa"])["dkim_keys"][0]["value"]
    published = module_runner(
        "dns_records",
        dict(provider, domains=[{"name": "example.test", "dkim": [{"selector": "mx1-rsa", "value": old}]}]),
    )
    assert not published.get("failed"), published.get("msg")

    # 1. start: the new selector is in the state as future before its key exists
    started = module_runner("dkim_rotation", dict(common, step="start", now=T0, now_domains=["example.test"]))
    assert started["changed"] and started["switch"] == ["example.test/mx1-rsa-20261202"]
    on_disk = json.loads(Path(state["path"]).read_text())
    assert [s["state"] for s in on_disk["slots"]["example.test/rsa/mx1-rsa"]["selectors"]] == ["active", "future"]

    # 2. its key (regenerate never) and 3. every live record published
    made = keys(["mx1-rsa", "mx1-rsa-20261202"], regenerate="never")
    records = [{"selector": k["selector"], "value": k["value"]} for k in made["dkim_keys"]]
    assert records[0]["value"] == old  # never replaced
    result = module_runner("dns_records", dict(provider, domains=[{"name": "example.test", "dkim": records}]))
    assert not result.get("failed"), result.get("msg")

    # 4. served by the primary AND the secondary before anything signs with it
    waited = module_runner(
        "mail_dns_info",
        {
            "domains": [{"name": "example.test", "dkim": records}],
            "nameserver": bind.servers[0],
            "port": bind.port,
            "all_authoritative": True,
            "wait": True,
            "wait_timeout": 30,
            "wait_interval": 0.2,
        },
    )
    assert not waited.get("failed"), waited.get("msg")
    for server in bind.servers:
        assert bind.txt("mx1-rsa-20261202._domainkey.example.test", server=server) == [records[1]["value"]]

    # 5. switch, 6. nothing to remove before the grace is over, then the old selector
    switched = module_runner("dkim_rotation", dict(common, step="switch", now=T0 + 60, selectors=started["switch"]))
    assert switched["done"] == ["example.test/mx1-rsa-20261202"] and switched["done_key_types"] == ["rsa"]
    early = module_runner("dkim_rotation", dict(common, step="read", now=T0 + 60 + 7 * DAY - 1))
    assert early["remove"] == [] and early["plan"][0]["retired"] == ["mx1-rsa"]
    due = module_runner("dkim_rotation", dict(common, step="read", now=T0 + 60 + 7 * DAY))
    assert due["remove"] == ["example.test/mx1-rsa"]

    # 7. the record goes from both servers, the new one stays; 8. the key file goes; 9. the state forgets it
    domains = [{"name": "example.test", "mail_hosts": ["mx1"]}]
    removed = module_runner("dns_records", dict(provider, domains=_rotation.absent_entries(due["remove"], domains)))
    assert removed["changed"], removed.get("msg")
    bind.wait_synced("example.test")
    for server in bind.servers:
        assert bind.txt("mx1-rsa._domainkey.example.test", server=server) == []
        assert bind.txt("mx1-rsa-20261202._domainkey.example.test", server=server) == [records[1]["value"]]
    gone = module_runner("dkim_key", dict(owner, keys=due["remove_keys"], state="absent"))
    assert gone["changed"] and not os.path.exists(os.path.join(key_dir, "example.test", "mx1-rsa.private"))
    forgot = module_runner("dkim_rotation", dict(common, step="forget", now=T0 + 8 * DAY, selectors=due["remove"]))
    assert forgot["done"] == ["example.test/mx1-rsa"]
    assert forgot["plan"][0]["active"] == "mx1-rsa-20261202" and forgot["plan"][0]["retired"] == []
    # a run with nothing due changes nothing
    again = module_runner("dkim_rotation", dict(common, step="forget", now=T0 + 8 * DAY, selectors=due["remove"]))
    assert not again["changed"]


def test_now_key_types_starts_only_those_slots(module_runner, tmp_path):
    """rotate_dkim_key_types: a dual-signing domain rotates its ed25519 selector alone; a bad type is refused."""
    state = {"path": str(tmp_path / "dkim-rotation.json"), "lock_path": str(tmp_path / "lock")}
    slots = [*SLOTS, {"domain": "example.test", "selector": "mx1-ed25519", "key_type": "ed25519"}]
    common = dict(state, slots=slots, key_dir=str(tmp_path / "keys"), now=T0, now_domains=["example.test"])
    for check_mode in (True, False):
        result = module_runner("dkim_rotation", dict(common, step="start", now_key_types=["ed25519"]), check=check_mode)
        assert result["changed"] and result["switch"] == ["example.test/mx1-ed25519-20261202"], result
        assert Path(state["path"]).exists() is not check_mode
    again = module_runner("dkim_rotation", dict(common, step="start", now_key_types=["ed25519"]))
    assert not again["changed"] and again["switch"] == ["example.test/mx1-ed25519-20261202"]
    bad = module_runner("dkim_rotation", dict(common, step="start", now_key_types=["dsa"]))
    assert bad.get("failed") and "now_key_types" in bad["msg"]
