# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: converge one host with N domains (keys, tables, config), and print a Markdown table.

Two ways of doing the same work, each on a fresh container (``mailauth/debian12:latest``, no
packages, empty apt lists) reached with the ``community.docker.docker`` connection:

- ``bench/scale/converge.yml``: the roles ``mailauth.core.opendkim``, ``mailauth.core.dkimpy_milter`` and
  ``mailauth.core.postfix`` as the first and last plays of playbooks/site.yml (DNS publishing skipped);
- ``bench/scale/loop_reference.yml``: one module run per domain per step, as loop-based roles do
  (key directory, ``opendkim-genkey``, key owner, KeyTable line, SigningTable line).

Each is run twice: the first run on the empty host (apt update and package downloads included;
the apt part is reported on its own) and the re-run, whose ``changed`` count is reported (it
must be 0). Wall time is that of ``ansible-playbook``; tasks and module runs are counted from the
``ansible.posix.json`` callback (a task with a loop is one task and one module run per item).

The loop reference is measured at --loop-sizes (default 10 and 100), with --loop-reruns re-runs
(0 measures its first run only: at 1,000 domains each of its runs takes over 20 minutes). At a
size not measured it is extrapolated linearly from the two largest sizes measured with a re-run,
and labelled as such.
Figures are printed, never asserted. Containers are named ``mailauth-bench-scale-*`` and
removed at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _ansible import VENV_BIN, ansible_env, docker_host

SCALE = Path(__file__).resolve().parent / "scale"
IMAGE = os.environ.get("MAILAUTH_BENCH_IMAGE", "mailauth/debian12:latest")
PREFIX = "mailauth-bench-scale-"
HOSTNAME = "bench.example.test"

_containers: list[str] = []


# ---------------------------------------------------------------------------------------------
# containers
def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def start_container(name: str) -> None:
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "--hostname", HOSTNAME, IMAGE, "/bin/sleep", "infinity")
    _containers.append(name)


def remove_containers() -> None:
    while _containers:
        docker("rm", "-f", _containers.pop(), check=False)


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------------------------------------
# ansible-playbook
class RunFailed(Exception):
    """A measured run did not complete."""


def domains(n: int, host: str) -> list[dict]:
    return [{"name": "d%04d.bench.test" % i, "mail_hosts": [host]} for i in range(1, n + 1)]


def run_playbook(playbook: Path, container: str, n: int, workdir: Path) -> dict:
    """Run playbook against container with n domains; return wall time and counts."""
    inventory = {
        "bench": {
            "hosts": {container: docker_host(container)},
            "vars": {"mailauth_domains": domains(n, container)},
        }
    }
    inv = workdir / ("inventory-%s.json" % container)
    inv.write_text(json.dumps(inventory))
    env = ansible_env(
        workdir,
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_HOST_KEY_CHECKING="0",
        ANSIBLE_PIPELINING="1",
    )
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(inv), str(playbook)]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - start
    try:
        output = json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        raise RunFailed("no JSON from ansible-playbook:\n%s\n%s" % (proc.stdout[-2000:], proc.stderr[-2000:])) from None
    stats = output.get("stats", {}).get(container, {})
    if proc.returncode != 0 or stats.get("failures") or stats.get("unreachable"):
        for play in output.get("plays", []):
            for task in play["tasks"]:
                res = task["hosts"].get(container, {})
                if res.get("failed") or res.get("unreachable"):
                    raise RunFailed("%s: %s" % (task["task"]["name"], str(res.get("msg"))[:500]))
        raise RunFailed("ansible-playbook exited %d: %s" % (proc.returncode, proc.stderr[-1000:]))
    tasks = runs = 0
    apt = 0.0
    for play in output["plays"]:
        for task in play["tasks"]:
            res = task["hosts"].get(container)
            if res is None or res.get("skipped"):
                continue
            tasks += 1
            runs += len(res["results"]) if isinstance(res.get("results"), list) else 1
            if res.get("action") in ("ansible.builtin.apt", "apt"):
                apt += _seconds(task["task"]["duration"])
    return {
        "wall": wall,
        "tasks": tasks,
        "runs": runs,
        "apt": apt,
        "changed": stats.get("changed", 0),
        "ok": stats.get("ok", 0),
    }


def _seconds(duration: dict) -> float:
    from datetime import datetime

    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (datetime.strptime(duration["end"], fmt) - datetime.strptime(duration["start"], fmt)).total_seconds()


def key_count(container: str) -> int:
    out = docker("exec", container, "sh", "-c", "ls /etc/dkimkeys/*/*.private | wc -l", check=False)
    return int(out.stdout.strip() or 0)


def measure(way: str, n: int, workdir: Path, reruns: int = 1) -> dict:
    playbook = SCALE / ("converge.yml" if way == "roles" else "loop_reference.yml")
    container = "%s%s-%d" % (PREFIX, "roles" if way == "roles" else "loop", n)
    row = {"way": way, "n": n}
    try:
        start_container(container)
        row["first"] = run_playbook(playbook, container, n, workdir)
        row["keys"] = key_count(container)
        if row["keys"] != n:
            raise RunFailed("%d keys on the host, %d expected" % (row["keys"], n))
        again = [run_playbook(playbook, container, n, workdir) for _rerun in range(reruns)]
        if again:
            again.sort(key=lambda r: r["wall"])
            row["again"] = again[len(again) // 2]  # the median run
            row["again"]["walls"] = [r["wall"] for r in again]
            row["again"]["changed"] = max(r["changed"] for r in again)
    except RunFailed as exc:
        row["failed"] = str(exc)
    finally:
        docker("rm", "-f", container, check=False)
        if container in _containers:
            _containers.remove(container)
    state = row.get("failed") or "first %.1f s (apt %.1f s), re-run %s" % (
        row["first"]["wall"],
        row["first"]["apt"],
        "%s s, changed=%d" % ("/".join("%.1f" % w for w in row["again"]["walls"]), row["again"]["changed"])
        if "again" in row
        else "not run",
    )
    print("bench: %s, N=%d: %s" % (way, n, state), file=sys.stderr, flush=True)
    return row


def extrapolate(rows: list[dict], n: int) -> dict | None:
    """The loop reference at n, linear in N from the two largest measured sizes."""
    done = sorted((r for r in rows if r["way"] == "loop" and "failed" not in r and "again" in r), key=lambda r: r["n"])
    if len(done) < 2:
        return None
    a, b = done[-2], done[-1]

    def line(get):
        slope = (get(b) - get(a)) / (b["n"] - a["n"])
        return get(b) + slope * (n - b["n"])

    first = {k: line(lambda r, k=k: r["first"][k]) for k in ("wall", "apt", "runs")}
    first["tasks"] = b["first"]["tasks"]
    again = {k: line(lambda r, k=k: r["again"][k]) for k in ("wall", "runs")}
    again["tasks"] = b["again"]["tasks"]
    again["changed"] = 0
    return {"way": "loop", "n": n, "first": first, "again": again, "extrapolated": "%d and %d" % (a["n"], b["n"])}


# ---------------------------------------------------------------------------------------------
def print_table(rows: list[dict]) -> None:
    print("## Converge scale benchmark (%s, %s)" % (time.strftime("%Y-%m-%d"), IMAGE))
    print()
    print("One host, N domains, one RSA-2048 key each. First run on an empty container (apt update and")
    print("package downloads included, shown apart), then the re-run. Tasks: tasks that ran (not skipped);")
    print("module runs: one per task, one per item for a loop. Pipelining on for both. Re-run: the median")
    print("of the re-runs (all of them in brackets); changed: the most any re-run reported.")
    print()
    print(
        "| way | N | first run (s) | of which apt (s) | first run without apt (s) | tasks | module runs "
        "| re-run (s) | re-run tasks | re-run changed |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        label = "mailauth.core roles" if r["way"] == "roles" else "loop reference"
        if r.get("failed"):
            print("| %s | %d | failed: %s | | | | | | | |" % (label, r["n"], r["failed"].replace("|", "/")[:200]))
            continue
        if r.get("extrapolated"):
            label += " (extrapolated from N=%s)" % r["extrapolated"]
        f, a = r["first"], r.get("again", {"wall": None, "tasks": 0, "changed": 0})
        rerun = "%.1f" % a["wall"] if a["wall"] is not None else "not run"
        if len(a.get("walls", [])) > 1:
            rerun += " (%s)" % ", ".join("%.1f" % w for w in a["walls"])
        print(
            "| %s | %d | %.1f | %.1f | %.1f | %d | %d | %s | %s | %s |"
            % (
                label,
                r["n"],
                f["wall"],
                f["apt"],
                f["wall"] - f["apt"],
                f["tasks"],
                f["runs"],
                rerun,
                "%d" % a["tasks"] if a["wall"] is not None else "",
                "%d" % a["changed"] if not r.get("extrapolated") and a["wall"] is not None else "",
            )
        )
    print()
    print("| N | loop / roles, first run | loop / roles, first run without apt | loop / roles, re-run |")
    print("| ---: | ---: | ---: | ---: |")
    for r in rows:
        if r["way"] != "roles" or r.get("failed"):
            continue
        loop = next((x for x in rows if x["way"] == "loop" and x["n"] == r["n"] and not x.get("failed")), None)
        if loop is None:
            continue
        mark = " (extrapolated)" if loop.get("extrapolated") else ""
        f, lf = r["first"], loop["first"]
        print(
            "| %d | %.1fx%s | %.1fx%s | %s%s |"
            % (
                r["n"],
                lf["wall"] / f["wall"],
                mark,
                (lf["wall"] - lf["apt"]) / (f["wall"] - f["apt"]),
                mark,
                "%.1fx" % (loop["again"]["wall"] / r["again"]["wall"]) if "again" in loop else "re-run not measured",
                mark if "again" in loop else "",
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000", help="numbers of domains (default 10,100,1000)")
    parser.add_argument(
        "--loop-sizes", default="10,100", help="sizes at which the loop reference is measured (default 10,100)"
    )
    parser.add_argument("--reruns", type=int, default=3, help="re-runs of the roles per size (default 3)")
    parser.add_argument(
        "--loop-reruns", type=int, default=1, help="re-runs of the loop reference per size (default 1; 0: none)"
    )
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x]
    loop_sizes = [int(x) for x in args.loop_sizes.split(",") if x]
    if docker("image", "inspect", IMAGE, check=False).returncode != 0:
        print("bench: image %s is missing (make images)" % IMAGE, file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _on_signal)
    rows: list[dict] = []
    try:
        with tempfile.TemporaryDirectory(prefix="mailauth-bench-") as tmp:
            workdir = Path(tmp)
            (workdir / "tmp").mkdir()
            for n in sizes:
                rows.append(measure("roles", n, workdir, args.reruns))
            for n in loop_sizes:
                rows.append(measure("loop", n, workdir, args.loop_reruns))
    finally:
        remove_containers()
    for n in sizes:
        if n not in loop_sizes:
            guess = extrapolate(rows, n)
            if guess is not None:
                rows.append(guess)
    rows.sort(key=lambda r: (r["n"], r["way"] != "roles"))
    print_table(rows)
    return 1 if any(r.get("failed") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
