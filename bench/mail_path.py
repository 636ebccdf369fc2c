# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: messages per second through Postfix with and without DKIM signing; prints a Markdown table.

One container (``mailauth/debian12:latest``, ``community.docker.docker`` connection) configured by
``bench/scale/mail_path.yml``: the roles ``mailauth.core.opendkim``, ``mailauth.core.dkimpy_milter`` and
``mailauth.core.postfix`` as in playbooks/site.yml, three signing domains (RSA-2048, ed25519, RSA-2048 + ed25519) and a
``transport_maps`` entry that relays ``sink.test`` to ``smtp-sink`` on 127.0.0.1 in the same
container. Inside the container, ``smtp-source`` sends --messages messages over --sessions
parallel SMTP sessions to Postfix on 127.0.0.1:25, and the run ends when Postfix's queue is
empty; the sink's count of relayed messages (Postfix's log, ``status=sent``) must equal
--messages. A run's rate is messages / (time from the first connection to the empty queue),
i.e. accepted, signed, queued and relayed; the injection rate (until smtp-source is done) is
shown too. Deferred mail fails the run. Each run also reads the CPU time the container used
(its cgroup: Postfix, the milters, smtp-source, smtp-sink and the script's queue polling) and
the milters' processes used, per message.

Configurations:
- RSA-2048 over an inet socket on loopback: the roles converged with
  ``opendkim_socket: inet:8891@127.0.0.1`` and OpenDKIM as the only milter; measured first, on
  its own;
- then the roles converged with their defaults (unix sockets in Postfix's chroot, OpenDKIM then
  dkimpy-milter), and four configurations that differ only in Postfix's milter list, set with
  ``postconf -e`` and ``postfix reload`` before each run: no milter; OpenDKIM passing mail
  through (OpenDKIM only, sender in a domain the host does not sign for: the cost of the milter
  protocol and OpenDKIM's per-message work without a signature, the ceiling for any signing
  configuration); RSA-2048 (OpenDKIM only,
  what the role gives Postfix when no ed25519 key exists); ed25519 (OpenDKIM then dkimpy-milter,
  sender in the ed25519-only domain); RSA-2048 + ed25519 (the same chain, sender in the
  dual-signing domain). Their runs are interleaved (round 1: each configuration once, round 2:
  again, ...), so that a slow spell of the machine hits every configuration alike and the
  ratios to "no milter" stay fair.

Before the runs each configuration sends one message to a dumping smtp-sink and the
DKIM-Signature algorithms it carries are shown. A warm-up batch precedes the measured runs.
A run fails if a message is rejected (e.g. ``451 4.7.1`` from a milter) or a milter process
changes (a crash, even one that OpenDKIM's AutoRestart recovered). Figures are printed, never
asserted. The container is removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _ansible import VENV_BIN, ansible_env, docker_host

PLAYBOOK = Path(__file__).resolve().parent / "scale" / "mail_path.yml"
IMAGE = os.environ.get("MAILAUTH_BENCH_IMAGE", "mailauth/debian12:latest")
CONTAINER = "mailauth-bench-mail"
HOSTNAME = "bench-mail.example.test"
SINK_PORT = 2525

DOMAINS = [
    {"name": "rsa.bench.test", "dkim": {"key_type": "rsa", "key_size": 2048}},
    {"name": "ed.bench.test", "dkim": {"key_type": "ed25519"}},
    {"name": "dual.bench.test", "dkim": [{"key_type": "rsa", "key_size": 2048}, {"key_type": "ed25519"}]},
]

INET = "inet:8891@127.0.0.1"
UNIX = "local:/var/spool/postfix/opendkim/opendkim.sock"
INET_CONFIG = ("RSA-2048 (OpenDKIM), inet socket", "rsa.bench.test")
# (label, number of the roles' milters kept, sender domain), over the default unix sockets
CONFIGS = [
    ("no milter", 0, "rsa.bench.test"),
    ("OpenDKIM, pass-through (unsigned domain)", 1, "plain.bench.test"),
    ("RSA-2048 (OpenDKIM)", 1, "rsa.bench.test"),
    ("ed25519 (OpenDKIM + dkimpy-milter)", 2, "ed.bench.test"),
    ("RSA-2048 + ed25519 (dual)", 2, "dual.bench.test"),
]

# Shell helpers for the container: start smtp-sink, and wait until Postfix's queue is empty
# (every message relayed); mail that Postfix defers fails the run at once.
COMMON = r"""
set -eu
q=/var/spool/postfix
start_sink() {
  [ -s /tmp/bench-sink.pid ] && kill "$(cat /tmp/bench-sink.pid)" 2>/dev/null || true
  timeout 900 smtp-sink -u postfix -h sink.test "$@" 127.0.0.1:"$port" 256 &
  sink=$!
  echo "$sink" > /tmp/bench-sink.pid
  trap 'kill "$sink" 2>/dev/null || true' EXIT
  i=0
  until (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "smtp-sink does not listen" >&2; exit 1; }; sleep 0.05
  done
}
drain() {
  i=0
  while [ -n "$(find $q/incoming $q/active $q/deferred $q/hold $q/maildrop -type f -print -quit)" ]; do
    if [ -n "$(find $q/deferred $q/hold -type f -print -quit)" ]; then
      postqueue -p | tail -5 >&2; kill "$sink"; exit 1
    fi
    i=$((i + 1)); [ $i -lt 30000 ] || { echo "queue does not drain" >&2; kill "$sink"; exit 1; }
    sleep 0.02
  done
}
sent() { grep -c "relay=127.0.0.1\[127.0.0.1\]:$port.*status=sent" /var/log/mail.log || true; }
# CPU used so far: the container's cgroup (nanoseconds; v2 or v1), then the milters' processes
# (clock ticks: utime + stime of every opendkim and dkimpy-milter process).
cpu() {
  if [ -r /sys/fs/cgroup/cpu.stat ]; then
    total=$(awk '$1 == "usage_usec" {print $2 "000"}' /sys/fs/cgroup/cpu.stat)
  else
    total=$(cat /sys/fs/cgroup/cpuacct/cpuacct.usage)
  fi
  ticks=0
  for d in /proc/[0-9]*; do
    case "$(cat "$d/comm" 2>/dev/null)" in opendkim | dkimpy-milter) ;; *) continue ;; esac
    set -- $(sed 's/^.*) //' "$d/stat" 2>/dev/null)
    [ $# -ge 13 ] && ticks=$((ticks + ${12} + ${13}))
  done
  echo "$total $ticks"
}
"""

# One measured run: prints start, end of injection, end of relaying, messages relayed, the
# container's CPU (ns) and the milters' CPU (ticks) before and after, and ticks per second.
RUN_SCRIPT = (
    COMMON
    + r"""
n=$1 sessions=$2 size=$3 from=$4 port=$5
start_sink
before=$(sent)
c0=$(cpu)
t0=$(date +%s.%N)
smtp-source -s "$sessions" -m "$n" -l "$size" -f "bench@$from" -t "bench@sink.test" 127.0.0.1:25
t1=$(date +%s.%N)
drain
t2=$(date +%s.%N)
c1=$(cpu)
kill "$sink"
i=0
while [ $(($(sent) - before)) -lt "$n" ] && [ $i -lt 50 ]; do i=$((i + 1)); sleep 0.05; done
echo "$t0 $t1 $t2 $(($(sent) - before)) $c0 $c1 $(getconf CLK_TCK)"
"""
)

# One message to a dumping sink; prints it (the DKIM-Signature headers are read from it).
SAMPLE_SCRIPT = (
    COMMON
    + r"""
from=$1 port=$2
rm -rf /tmp/bench-dump && mkdir -p /tmp/bench-dump && chown postfix /tmp/bench-dump
start_sink -d /tmp/bench-dump/m.
smtp-source -m 1 -f "bench@$from" -t "bench@sink.test" 127.0.0.1:25
drain
kill "$sink"
sleep 0.2
cat /tmp/bench-dump/m.*
"""
)


class RunFailed(Exception):
    """A step of the benchmark did not complete."""


def docker(*args: str, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=timeout)
    if check and proc.returncode != 0:
        raise RunFailed("docker %s: %s%s" % (" ".join(args[:3]), proc.stderr[-1500:], proc.stdout[-1500:]))
    return proc


def in_container(script: str, *args: str, timeout: int = 900) -> str:
    return docker("exec", CONTAINER, "bash", "-c", script, "bench", *args, timeout=timeout).stdout


def converge(milters: int, socket: str, workdir: Path) -> float:
    inventory = {
        "bench": {
            "hosts": {CONTAINER: docker_host(CONTAINER)},
            "vars": {
                "mailauth_domains": [dict(d, mail_hosts=[CONTAINER]) for d in DOMAINS],
                "bench_milters": milters,
                "opendkim_socket": socket,
                "bench_sink_port": SINK_PORT,
            },
        }
    }
    inv = workdir / "inventory.json"
    inv.write_text(json.dumps(inventory))
    env = ansible_env(workdir, ANSIBLE_PIPELINING="1")
    start = time.monotonic()
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(inv), str(PLAYBOOK)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RunFailed("converge failed:\n%s\n%s" % (proc.stdout[-3000:], proc.stderr[-1500:]))
    return time.monotonic() - start


def queue_empty() -> None:
    """Wait (bounded) until Postfix's queue is empty; fail on deferred mail."""
    for _attempt in range(200):
        out = in_container("postqueue -j | wc -l", timeout=30).strip()
        if out == "0":
            return
        time.sleep(0.1)
    tail = in_container("postqueue -p | tail -20; tail -20 /var/log/mail.log")
    raise RunFailed("Postfix's queue did not drain:\n%s" % tail)


def set_milters(milters: list[str]) -> None:
    """Give Postfix this milter list (smtpd and non-smtpd) and reload it."""
    value = ", ".join(milters)
    in_container(
        'postconf -e "smtpd_milters = $1" "non_smtpd_milters = $1" && postfix reload 2>/dev/null && sleep 1',
        value,
        timeout=60,
    )
    if in_container("postconf -h smtpd_milters").strip() != value:
        raise RunFailed("Postfix did not take the milter list %r" % value)


def sample_algorithms(sender_domain: str) -> list[str]:
    message = in_container(SAMPLE_SCRIPT, sender_domain, str(SINK_PORT), timeout=120)
    return re.findall(r"^DKIM-Signature:.*?\ba=([a-z0-9-]+);", message, re.M | re.S)


def milter_pids() -> str:
    """The live (not zombie) milter processes, e.g. ``opendkim:123,124 dkimpy-milter:130``."""
    out = in_container(
        'ps -e -o stat=,pid=,comm= | awk \'$1 !~ /^Z/ && ($3 == "opendkim" || $3 == "dkimpy-milter")'
        ' {print $3 ":" $2}\' | sort',
        timeout=30,
    )
    return " ".join(out.split())


def milter_rejects() -> int:
    out = in_container("grep -c -e milter-reject -e 'warning: milter' /var/log/mail.log || true", timeout=30)
    return int(out.split()[-1])


def one_run(n: int, sessions: int, size: int, sender_domain: str) -> dict:
    queue_empty()
    pids, rejects = milter_pids(), milter_rejects()
    try:
        out = in_container(RUN_SCRIPT, str(n), str(sessions), str(size), sender_domain, str(SINK_PORT), timeout=700)
    except RunFailed as exc:
        raise RunFailed(
            "%s\nmilter rejects/warnings in the mail log: %d; milter processes before: %s, after: %s"
            % (exc, milter_rejects() - rejects, pids, milter_pids())
        ) from exc
    try:
        fields = out.split()[-9:]
        t0, t1, t2 = (float(x) for x in fields[:3])
        relayed, cpu0, ticks0, cpu1, ticks1, hz = (int(x) for x in fields[3:])
    except ValueError:
        raise RunFailed("unexpected output of the run script: %r" % out[-500:]) from None
    if relayed != n:
        raise RunFailed("%s of %d messages reached smtp-sink" % (relayed, n))
    # A milter that crashed and was restarted (AutoRestart) shows as a new process.
    if milter_pids() != pids:
        raise RunFailed("a milter restarted during the run: %s, then %s" % (pids, milter_pids()))
    return {
        "rate": n / (t2 - t0),
        "inject": n / (t1 - t0),
        "seconds": t2 - t0,
        # CPU milliseconds per message: the whole container (smtp-source and smtp-sink included), the milters.
        "cpu_ms": (cpu1 - cpu0) / 1e6 / n,
        "milter_ms": (ticks1 - ticks0) * 1000.0 / hz / n,
    }


def _run_line(run: dict) -> str:
    return "%.1f msgs/s, CPU %.2f ms/msg (milters %.2f)" % (run["rate"], run["cpu_ms"], run["milter_ms"])


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000, help="messages per run (default 2000)")
    parser.add_argument("--sessions", type=int, default=16, help="parallel SMTP sessions (default 16)")
    parser.add_argument("--size", type=int, default=2000, help="body bytes per message (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per configuration (default 3)")
    parser.add_argument("--warmup", type=int, default=200, help="messages sent before the measured runs")
    args = parser.parse_args()
    if docker("image", "inspect", IMAGE, check=False).returncode != 0:
        print("bench: image %s is missing (make images)" % IMAGE, file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _on_signal)
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="mailauth-bench-") as tmp:
            workdir = Path(tmp)
            (workdir / "tmp").mkdir()
            docker("rm", "-f", CONTAINER, check=False)
            docker("run", "-d", "--name", CONTAINER, "--hostname", HOSTNAME, IMAGE, "/bin/sleep", "infinity")
            # The inet socket, on its own.
            seconds = converge(1, INET, workdir)
            chain = in_container("postconf -h smtpd_milters").strip()
            label, sender = INET_CONFIG
            print("bench: %s: converged in %.1f s, smtpd_milters = %s" % (label, seconds, chain), file=sys.stderr)
            row = {"label": label, "chain": chain, "algorithms": sample_algorithms(sender), "runs": []}
            if args.warmup:
                one_run(args.warmup, args.sessions, args.size, sender)
            for _run in range(args.repeat):
                row["runs"].append(one_run(args.messages, args.sessions, args.size, sender))
                print("bench: %s: %s" % (label, _run_line(row["runs"][-1])), file=sys.stderr, flush=True)
            # The defaults (unix sockets), then the milter lists in interleaved rounds.
            seconds = converge(2, UNIX, workdir)
            milters = [m.strip() for m in in_container("postconf -h smtpd_milters").split(",") if m.strip()]
            print("bench: defaults converged in %.1f s, milters %s" % (seconds, milters), file=sys.stderr)
            unix_rows = []
            for label, kept, sender in CONFIGS:
                set_milters(milters[:kept])
                unix_rows.append(
                    {
                        "label": label,
                        "chain": ", ".join(milters[:kept]) or "(none)",
                        "algorithms": sample_algorithms(sender),
                        "runs": [],
                    }
                )
                if args.warmup:
                    one_run(args.warmup, args.sessions, args.size, sender)
            for _round in range(args.repeat):
                for (label, kept, sender), unix_row in zip(CONFIGS, unix_rows):
                    set_milters(milters[:kept])
                    unix_row["runs"].append(one_run(args.messages, args.sessions, args.size, sender))
                    print("bench: %s: %s" % (label, _run_line(unix_row["runs"][-1])), file=sys.stderr, flush=True)
            rows = [*unix_rows[:2], row, *unix_rows[2:]]
    except RunFailed as exc:
        print("bench: %s" % exc, file=sys.stderr)
        return 1
    finally:
        if not os.environ.get("MAILAUTH_BENCH_KEEP"):
            docker("rm", "-f", CONTAINER, check=False)
    print_table(rows, args)
    return 0


def print_table(rows: list[dict], args) -> None:
    print("## Mail path benchmark (%s, %s)" % (time.strftime("%Y-%m-%d"), IMAGE))
    print()
    print(
        "smtp-source -> Postfix 127.0.0.1:25 -> smtp-sink 127.0.0.1:%d, one container, %d messages of %d body bytes"
        % (SINK_PORT, args.messages, args.size)
    )
    print(
        "per run over %d sessions, %d runs per configuration (median shown), after %d warm-up messages."
        % (args.sessions, args.repeat, args.warmup)
    )
    print("msgs/s: until the sink has received the last message; injected: until smtp-source is done.")
    print(
        "CPU per message (medians): the container's, smtp-source, smtp-sink and the queue polling included;"
        " of which the milters' processes."
    )
    print()
    print(
        "| configuration | smtpd_milters | signatures on a sample | runs (msgs/s) | median msgs/s "
        "| median injected msgs/s | % of no milter | CPU ms/msg | of which milters |"
    )
    print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    base = statistics.median(r["rate"] for r in rows[0]["runs"]) if rows else 0
    for r in rows:
        median = statistics.median(x["rate"] for x in r["runs"])
        print(
            "| %s | %s | %s | %s | %.1f | %.1f | %.0f%% | %.2f | %.2f |"
            % (
                r["label"],
                r["chain"],
                ", ".join(r["algorithms"]) or "none",
                ", ".join("%.1f" % x["rate"] for x in r["runs"]),
                median,
                statistics.median(x["inject"] for x in r["runs"]),
                100.0 * median / base if base else 0,
                statistics.median(x["cpu_ms"] for x in r["runs"]),
                statistics.median(x["milter_ms"] for x in r["runs"]),
            )
        )


if __name__ == "__main__":
    sys.exit(main())
