# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: one DKIM rotation step for N domains on one host, and the DNS round trips it makes per zone.

The host is localhost (the key directory and the rotation state in a temporary directory); DNS is the
integration tests' BIND primary and secondary on loopback (tests/lib/servers.py), every domain a
subdomain of the zone example.test (one zone). Each domain has one RSA-2048 key, published before the
measurement. Two steps, each one ansible-playbook run of the modules rotate_dkim.yml calls, as it calls them:

- **rotate**: dkim_rotation start (N new selectors in the state), dkim_key (N new keys, regenerate never,
  N old ones read), dns_records (2N DKIM records: N new), mail_dns_info (wait until both servers serve
  all 2N), dkim_rotation switch;
- **remove** (the grace over, through dkim_rotation's ``now`` option): dkim_rotation read, dns_records
  (N records deleted), dkim_key (N key files deleted), dkim_rotation forget.

Round trips are the QUERY and UPDATE requests both servers received (named's ``rndc stats``), the
secondary's zone transfers from the primary included. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from _ansible import ROOT

sys.path.insert(0, str(ROOT / "tests" / "lib"))
import servers

ZONE = "example.test"
T0 = 1796169600  # 2026-12-02T00:00:00Z, dkim_rotation's clock (option now)
DAY = 86400
# The records of every key dkim_key returned (task "keys"), as the opendkim role hands them to site.yml.
RECORDS = "made.dkim_keys | mailauth.core.opendkim_dns_records"


def counts(bind: servers.BindServers) -> dict[str, int]:
    """QUERY and UPDATE requests received so far, both servers together."""
    total = dict.fromkeys(("QUERY", "UPDATE"), 0)
    for role, address in (("primary", bind.primary), ("secondary", bind.secondary)):
        stats = bind._dir(role) / "named.stats"
        if stats.exists():
            stats.unlink()
        bind.rndc("stats", server=address)
        section = stats.read_text().split("++ Incoming Requests ++", 1)[1].split("++", 1)[0]
        for number, opcode in re.findall(r"^\s*(\d+)\s+(\w+)\s*$", section, re.M):
            if opcode in total:
                total[opcode] += int(number)
    return total


def play(bind: servers.BindServers, n: int, work: Path, step: str) -> list[dict]:
    """The tasks of one step for n domains."""
    domains = [{"name": "d%04d.%s" % (i, ZONE), "zone": ZONE} for i in range(1, n + 1)]
    slots = [{"domain": d["name"], "selector": "mx1-rsa", "key_type": "rsa"} for d in domains]
    rotation = {"path": str(work / "state.json"), "lock_path": str(work / "lock"), "slots": slots, "grace": "7d"}
    keys = {"key_dir": str(work / "keys"), "owner": str(os.getuid()), "group": str(os.getgid())}
    dns = {"provider": "rfc2136", "rfc2136": bind.provider_options(timeout=60), "lint_dns": False}

    def publish(specs: str) -> list[dict]:
        """dkim_key for every live key (regenerate never), then every record published, as rotate_dkim.yml does."""
        return [
            {
                "name": "keys",
                "mailauth.core.dkim_key": dict(
                    keys, keys="{{ %s | mailauth.core.opendkim_key_specs }}" % specs, regenerate="never"
                ),
                "register": "made",
            },
            {
                "name": "publish",
                "mailauth.core.dns_records": dict(
                    dns,
                    domains="{{ domains | mailauth.core.dkim_publish(%s) }}" % RECORDS,
                ),
            },
        ]

    base = {
        "slots_keys": [dict(s, key_size=2048) for s in slots],
        "domains": domains,
    }
    if step == "setup":
        tasks = publish("slots_keys")
    elif step == "rotate":
        tasks = [
            {
                "name": "start",
                "mailauth.core.dkim_rotation": dict(
                    rotation, step="start", now=T0, now_domains=[d["name"] for d in domains]
                ),
                "register": "rotation",
            },
            *publish("slots_keys | mailauth.core.dkim_rotation_keys(rotation.state)"),
            {
                "name": "wait",
                "mailauth.core.mail_dns_info": {
                    "domains": "{{ domains | mailauth.core.dkim_publish(%s) | mailauth.core.dkim_entries }}" % RECORDS,
                    "nameserver": bind.primary,
                    "port": bind.port,
                    "all_authoritative": True,
                    "lint": False,
                    "wait": True,
                    "wait_timeout": 600,
                    "wait_interval": 0.5,
                },
            },
            {
                "name": "switch",
                "mailauth.core.dkim_rotation": dict(
                    rotation, step="switch", now=T0 + 60, selectors="{{ rotation.switch }}"
                ),
            },
        ]
    else:
        now = T0 + 60 + 7 * DAY
        tasks = [
            {"name": "read", "mailauth.core.dkim_rotation": dict(rotation, step="read", now=now), "register": "due"},
            {
                "name": "remove records",
                "mailauth.core.dns_records": dict(
                    dns, domains="{{ due.remove | mailauth.core.dkim_rotation_absent(domains) }}"
                ),
            },
            {"name": "remove keys", "mailauth.core.dkim_key": dict(keys, keys="{{ due.remove_keys }}", state="absent")},
            {
                "name": "forget",
                "mailauth.core.dkim_rotation": dict(rotation, step="forget", now=now, selectors="{{ due.remove }}"),
            },
        ]
    return [{"hosts": "localhost", "gather_facts": False, "vars": base, "tasks": tasks}]


def run(bind: servers.BindServers, n: int, work: Path, step: str) -> dict:
    """Run one step; return its wall time, per-task times and round trips."""
    before = counts(bind)
    start = time.monotonic()
    output = servers.run_playbook(play(bind, n, work, step), timeout=3600)
    wall = time.monotonic() - start
    after = counts(bind)
    stats = output.get("stats", {}).get("localhost", {})
    tasks = output["plays"][0]["tasks"]
    if not stats or stats.get("failures"):
        last = tasks[-1]["hosts"]["localhost"]
        raise SystemExit("bench rotate: step %s at N=%d failed: %s" % (step, n, last.get("msg")))
    times = {}
    for task in tasks:
        duration = task["task"]["duration"]
        times[task["task"]["name"]] = _seconds(duration["end"]) - _seconds(duration["start"])
    return {
        "n": n,
        "step": step,
        "wall": wall,
        "tasks": times,
        "query": after["QUERY"] - before["QUERY"],
        "update": after["UPDATE"] - before["UPDATE"],
    }


def _seconds(stamp: str) -> float:
    """Seconds of the json callback's ISO time stamps (2026-12-02T06:58:25.123456Z)."""
    from datetime import datetime

    return datetime.strptime(stamp.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f").timestamp()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,1000", help="numbers of domains, comma-separated (default 1,1000)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-rotate-") as tmp, servers.running_bind(Path(tmp) / "bind") as bind:
        for n in sizes:
            bind.reset()
            work = Path(tmp) / ("n%d" % n)
            work.mkdir()
            run(bind, n, work, "setup")
            for step in ("rotate", "remove"):
                rows.append(run(bind, n, work, step))
                print("  N=%d %s: %.1f s" % (n, step, rows[-1]["wall"]), file=sys.stderr)
    print("| N | step | wall (s) | per task (s) | DNS round trips (query + update), one zone |")
    print("| ---: | --- | ---: | --- | ---: |")
    for r in rows:
        per_task = ", ".join("%s %.1f" % (name, secs) for name, secs in r["tasks"].items())
        print(
            "| {:,} | {} | {:.1f} | {} | {:,} ({:,} + {:,}) |".format(
                r["n"], r["step"], r["wall"], per_task, r["query"] + r["update"], r["query"], r["update"]
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
