# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An emergency DKIM rotation against a real BIND primary and secondary on loopback: the old selector revoked.

The modules rotate_dkim.yml calls (dkim_rotation, dkim_key, dns_records, mail_dns_info), with
dkim_rotation's test clock (option ``now``). After the switch the old selector is published revoked
(``p=`` empty, RFC 6376 3.6.1) on both servers: a mail signed with the old key fails dkimpy's
verification resolving through either server, one signed with the new key passes; after the grace the
record is removed like a retired one.
"""

from __future__ import annotations

import os
from pathlib import Path

import dkim
from servers import txt_values

from ansible_collections.mailauth.core.plugins.module_utils import _rotation

T0 = 1796169600  # 2026-12-02T00:00:00Z
DAY = 86400
SLOTS = [{"domain": "example.test", "selector": "mx1-rsa", "key_type": "rsa"}]
MAIL = (
    b"From: alice@example.test\r\nTo: bob@example.net\r\nSubject: in flight\r\n"
    b"Message-ID: <revoke@example.test>\r\n\r\nsigned before the key was revoked\r\n"
)


def sign(key_dir: str, selector: str) -> bytes:
    private = Path(key_dir, "example.test", selector + ".private").read_bytes()
    return dkim.sign(MAIL, selector.encode(), b"example.test", private, include_headers=[b"from", b"subject"]) + MAIL


def verifies(message: bytes, server: str, port: int) -> bool:
    """dkimpy's verdict, its key looked up on one nameserver."""

    def dnsfunc(name, timeout=5):
        values = txt_values(server, port, name.decode().rstrip("."))
        return values[0].encode() if values else b""

    return dkim.verify(message, dnsfunc=dnsfunc)


def test_emergency_revoke_served_everywhere_old_mail_fails_then_removed(bind_clean, module_runner, tmp_path):
    bind = bind_clean
    state = {"path": str(tmp_path / "state" / "dkim-rotation.json"), "lock_path": str(tmp_path / "state" / "lock")}
    common = dict(state, slots=SLOTS, grace="7d", key_dir=str(tmp_path / "keys"))
    key_dir = str(tmp_path / "keys")
    owner = {"owner": str(os.getuid()), "group": str(os.getgid()), "key_dir": key_dir}
    provider = {"provider": "rfc2136", "rfc2136": bind.provider_options()}

    def keys(selectors):
        specs = [{"domain": "example.test", "selector": s, "key_type": "rsa", "key_size": 2048} for s in selectors]
        result = module_runner("dkim_key", dict(owner, keys=specs, regenerate="never"))
        assert not result.get("failed"), result.get("msg")
        return result["dkim_keys"]

    def publish(dkim_entries):
        result = module_runner("dns_records", dict(provider, domains=[{"name": "example.test", "dkim": dkim_entries}]))
        assert not result.get("failed"), result.get("msg")
        return result

    def wait(dkim_entries):
        waited = module_runner(
            "mail_dns_info",
            {
                "domains": [{"name": "example.test", "dkim": dkim_entries}],
                "nameserver": bind.servers[0],
                "port": bind.port,
                "all_authoritative": True,
                "wait": True,
                "wait_timeout": 30,
                "wait_interval": 0.2,
            },
        )
        assert not waited.get("failed"), waited.get("msg")
        return waited

    # today's key, published; a mail signed with it is still in a queue when the key is found compromised
    (old,) = keys(["mx1-rsa"])
    publish([{"selector": "mx1-rsa", "value": old["value"]}])
    bind.wait_synced("example.test")
    in_flight = sign(key_dir, "mx1-rsa")
    assert all(verifies(in_flight, server, bind.port) for server in bind.servers)

    # emergency: start, the new key, publish it and wait until both servers serve it, switch
    started = module_runner(
        "dkim_rotation", dict(common, step="start", now=T0, now_domains=["example.test"], emergency=True)
    )
    assert started["switch"] == ["example.test/mx1-rsa-20261202"] and started["plan"][0]["emergency"] is True
    live = keys(["mx1-rsa", "mx1-rsa-20261202"])
    records = [{"selector": k["selector"], "value": k["value"]} for k in live]
    publish(records)
    wait(records)
    switched = module_runner("dkim_rotation", dict(common, step="switch", now=T0 + 60, selectors=started["switch"]))
    assert switched["done"] == ["example.test/mx1-rsa-20261202"]
    assert switched["plan"][0]["revoked"] == ["mx1-rsa"] and switched["remove"] == []

    # the old selector published revoked (what the opendkim role's records say after the switch)
    derived = _rotation.derive_keys([dict(SLOTS[0], key_size=2048)], switched["state"])
    assert [(k["selector"], k["state"], k["revoked"]) for k in derived] == [
        ("mx1-rsa", "retired", True),
        ("mx1-rsa-20261202", "active", False),
    ]
    revoked = [{"selector": "mx1-rsa", "key_type": "rsa", "revoked": True}, records[1]]
    first = publish(revoked)
    assert first["changed"] is True
    waited = wait(revoked)
    (item,) = [d for d in waited["domains"][0]["dkim"] if d["selector"] == "mx1-rsa"]
    assert item["revoked_match"] is True
    assert [f["code"] for f in waited["findings"] if f["record"].startswith("mx1-rsa.")] == []
    for server in bind.servers:
        assert txt_values(server, bind.port, "mx1-rsa._domainkey.example.test") == ["v=DKIM1; k=rsa; p="]
    assert publish(revoked)["changed"] is False

    # mail in flight signed with the old key now fails; mail signed with the new key passes, on both servers
    fresh = sign(key_dir, "mx1-rsa-20261202")
    for server in bind.servers:
        assert verifies(in_flight, server, bind.port) is False
        assert verifies(fresh, server, bind.port) is True

    # through the grace the revoked record stays; after it, record, key file, state entry go
    assert module_runner("dkim_rotation", dict(common, step="read", now=T0 + 60 + 7 * DAY - 1))["remove"] == []
    due = module_runner("dkim_rotation", dict(common, step="read", now=T0 + 60 + 7 * DAY))
    assert due["remove"] == ["example.test/mx1-rsa"]
    domains = [{"name": "example.test", "mail_hosts": ["mx1"]}]
    removed = module_runner("dns_records", dict(provider, domains=_rotation.absent_entries(due["remove"], domains)))
    assert removed["changed"], removed.get("msg")
    # what rotate_dkim.yml waits for after a removal: no authoritative server serves the record
    gone_wait = module_runner(
        "mail_dns_info",
        {
            "domains": _rotation.gone_entries(due["remove"]),
            "nameserver": bind.servers[0],
            "port": bind.port,
            "all_authoritative": True,
            "wait": True,
            "wait_timeout": 30,
            "wait_interval": 0.2,
        },
    )
    assert not gone_wait.get("failed"), gone_wait.get("msg")
    assert [f for f in gone_wait["findings"] if f["code"] == "dkim-missing"] == []
    for server in bind.servers:
        assert txt_values(server, bind.port, "mx1-rsa._domainkey.example.test") == []
        assert verifies(fresh, server, bind.port) is True
    gone = module_runner("dkim_key", dict(owner, keys=due["remove_keys"], state="absent"))
    assert gone["changed"] and not os.path.exists(os.path.join(key_dir, "example.test", "mx1-rsa.private"))
    forgot = module_runner("dkim_rotation", dict(common, step="forget", now=T0 + 8 * DAY, selectors=due["remove"]))
    assert forgot["done"] == ["example.test/mx1-rsa"] and forgot["plan"][0]["revoked"] == []
