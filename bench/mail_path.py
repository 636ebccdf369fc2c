# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: messages per second through Postfix with and without DKIM signing; prints Markdown tables.

One container (``mailauth/debian12:latest`` booting systemd, ``community.docker.docker`` connection)
configured by ``bench/scale/mail_path.yml``: the roles ``mailauth.core.opendkim``,
``mailauth.core.dkimpy_milter``, ``mailauth.core.arc`` (rspamd, with ``arc_dkim_signing: true`` and
``arc_domain`` set, so that it signs and can seal) and ``mailauth.core.postfix`` as in
playbooks/site.yml, four signing domains (RSA-2048, ed25519, RSA-2048 + ed25519, and an RSA-2048
domain for the ARC row) and a ``transport_maps`` entry that relays ``sink.test`` to ``smtp-sink`` on
127.0.0.1 in the same container. Inside the container, ``smtp-source`` sends --messages messages
over --sessions parallel SMTP sessions to Postfix on 127.0.0.1:25, and the run ends when Postfix's
queue is empty; the sink's count of relayed messages (Postfix's log, ``status=sent``) must equal
--messages. A run's rate is messages / (time from the first connection to the empty queue),
i.e. accepted, signed, queued and relayed; the injection rate (until smtp-source is done) is
shown too. Deferred mail fails the run. Each run also reads the CPU time the container used
(its cgroup: Postfix, the milters, smtp-source, smtp-sink and the script's queue polling) and
the CPU time of the configuration's milter processes, per message, and after each run their
resident memory (RSS, and PSS where ``/proc/PID/smaps_rollup`` is readable: the container gets
``CAP_SYS_PTRACE`` for it).

Configurations:
- RSA-2048 over an inet socket on loopback: the roles converged with
  ``opendkim_socket: inet:8891@127.0.0.1`` and OpenDKIM as the only milter; measured first, on
  its own;
- then the roles converged with their defaults (unix sockets in Postfix's chroot), and
  configurations that differ only in Postfix's milter list (``smtpd_milters`` and
  ``non_smtpd_milters``, with ``smtpd_milter_maps`` emptied so that the list holds for loopback
  clients too), set with ``postconf -e`` and ``postfix reload`` before each run, and in the
  sender's domain: no milter; OpenDKIM passing mail through (sender in a domain the host does not
  sign for: the cost of the milter protocol and OpenDKIM's per-message work without a signature);
  RSA-2048 (OpenDKIM); ed25519 and RSA-2048 + ed25519 (OpenDKIM then dkimpy-milter, as site.yml
  chains them); rspamd alone signing RSA-2048, ed25519, and both in one milter pass; rspamd
  signing RSA-2048 and sealing (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results, i=1).
  Their runs are interleaved (round 1: each configuration once, round 2: again, ...), so that a
  slow spell of the machine hits every configuration alike and the ratios to "no milter" stay fair.

ARC sealing: with ``arc_domain`` set the role's rspamd seals every message, mail submitted on the
host included (``sign_local``). The role has no per-sender switch, so the playbook adds a settings
rule of the bench's own (``/etc/rspamd/rspamd.conf.local``) that enables the role's symbols but
``ARC_SIGNED`` for the senders of the rspamd signing-only rows (rspamd applies one settings rule per
message, so the rule lists the role's symbols itself); the ARC row's sender gets the role's
configuration as it is.

Before the runs each configuration sends one message to a dumping smtp-sink; the DKIM-Signature
algorithms and ARC-Seal it carries are shown, every signature and the ARC chain are verified with
dkimpy against the keys' records, and a configuration whose message is not signed (and sealed) as
its label says fails the run; so do rspamd rows whose rspamd ran other checks than the ARC row's,
the seal aside (rspamd's log). A warm-up batch precedes the measured runs. A run fails if a message
is rejected (e.g. ``451 4.7.1`` from a milter) or a milter process changes (a crash, even one that
OpenDKIM's AutoRestart or rspamd's main process recovered). Figures are printed, never asserted.
The container is removed at the end, also on failure (``MAILAUTH_BENCH_KEEP=1`` keeps it).
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
import typing as t
from email.parser import BytesHeaderParser
from pathlib import Path

from _ansible import VENV_BIN, ansible_env, docker_host, systemd_run_args

PLAYBOOK = Path(__file__).resolve().parent / "scale" / "mail_path.yml"
IMAGE = os.environ.get("MAILAUTH_BENCH_IMAGE", "mailauth/debian12:latest")
CONTAINER = "mailauth-bench-mail"
HOSTNAME = "bench-mail.example.test"
SINK_PORT = 2525
# Written by the playbook: the milter addresses the roles publish and the DNS records of the keys.
BENCH_FILE = "/etc/mailauth-bench.json"

# The domain rspamd seals with (arc_domain), and the sender of the ARC row.
ARC_DOMAIN = "arc.bench.test"
DOMAINS = [
    {"name": "rsa.bench.test", "dkim": {"key_type": "rsa", "key_size": 2048}},
    {"name": "ed.bench.test", "dkim": {"key_type": "ed25519"}},
    {"name": "dual.bench.test", "dkim": [{"key_type": "rsa", "key_size": 2048}, {"key_type": "ed25519"}]},
    {"name": ARC_DOMAIN, "dkim": {"key_type": "rsa", "key_size": 2048}},
]
ALGORITHMS = {"rsa": "rsa-sha256", "ed25519": "ed25519-sha256"}


class Milter(t.NamedTuple):
    """A milter the roles run: its process name (/proc/PID/comm) and the key types it signs with."""

    comm: str
    signs: tuple[str, ...]


# Keyed as the playbook's BENCH_FILE names them.
MILTERS = {
    "opendkim": Milter("opendkim", ("rsa",)),
    "dkimpy": Milter("dkimpy-milter", ("ed25519",)),
    "rspamd": Milter("rspamd", ("rsa", "ed25519")),
}


class Config(t.NamedTuple):
    """A configuration: the milters Postfix gets (in order), the sender's domain, whether rspamd seals."""

    label: str
    milters: tuple[str, ...]
    sender: str
    sealed: bool = False


INET = "inet:8891@127.0.0.1"
UNIX = "local:/var/spool/postfix/opendkim/opendkim.sock"
INET_CONFIG = Config("RSA-2048 (OpenDKIM), inet socket on loopback", ("opendkim",), "rsa.bench.test")
# Over the default unix sockets, measured in interleaved rounds.
CONFIGS = [
    Config("no milter", (), "rsa.bench.test"),
    Config("OpenDKIM, pass-through (unsigned domain)", ("opendkim",), "plain.bench.test"),
    Config("RSA-2048 (OpenDKIM)", ("opendkim",), "rsa.bench.test"),
    Config("ed25519 (OpenDKIM + dkimpy-milter)", ("opendkim", "dkimpy"), "ed.bench.test"),
    Config("RSA-2048 + ed25519 (OpenDKIM + dkimpy-milter)", ("opendkim", "dkimpy"), "dual.bench.test"),
    Config("RSA-2048 (rspamd)", ("rspamd",), "rsa.bench.test"),
    Config("ed25519 (rspamd)", ("rspamd",), "ed.bench.test"),
    Config("RSA-2048 + ed25519 (rspamd, one milter)", ("rspamd",), "dual.bench.test"),
    Config("RSA-2048 + ARC seal (rspamd, one milter)", ("rspamd",), ARC_DOMAIN, sealed=True),
]

DOMAIN = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+"
# A milter address as the roles publish it for Postfix (unix socket relative to the chroot, or inet).
MILTER_ADDRESS = r"(unix:[A-Za-z0-9._/-]+|inet:[A-Za-z0-9.:-]+:[0-9]+)"
COMM = r"[a-z0-9-]+"

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
# CPU used so far: the container's cgroup (nanoseconds; v2 or v1: PID 1's, systemd's own init.scope
# left), then the configuration's milter processes (clock ticks: utime + stime of every process
# whose name is one of $comms).
cpu() {
  if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
    cg=$(sed -n 's/^0:://p' /proc/1/cgroup)
    total=$(awk '$1 == "usage_usec" {print $2 "000"}' "/sys/fs/cgroup${cg%/init.scope}/cpu.stat")
  else
    cg=$(awk -F: '$2 ~ /(^|,)cpuacct(,|$)/ {print $3}' /proc/1/cgroup)
    total=$(cat "/sys/fs/cgroup/cpuacct${cg%/init.scope}/cpuacct.usage")
  fi
  ticks=0
  for d in /proc/[0-9]*; do
    case " $comms " in *" $(cat "$d/comm" 2>/dev/null) "*) ;; *) continue ;; esac
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
n=$1 sessions=$2 size=$3 from=$4 port=$5 comms=$6
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

# One message to a dumping sink; prints it (its signatures and seal are read from it).
SAMPLE_SCRIPT = (
    COMMON
    + r"""
from=$1 port=$2
rm -rf /tmp/bench-dump && mkdir -p /tmp/bench-dump && chown postfix /tmp/bench-dump
start_sink -d /tmp/bench-dump/m.
smtp-source -m 1 -f "bench@$from" -t "bench@sink.test" 127.0.0.1:25
drain
kill "$sink"
sleep 0.5
cat /tmp/bench-dump/m.*
"""
)

# Resident memory of the given processes: "pid rss_kB pss_kB" per process (pss "-" where
# smaps_rollup is not readable).
MEMORY_SCRIPT = r"""
for pid in "$@"; do
  rss=$(awk '$1 == "VmRSS:" {print $2}' /proc/"$pid"/status 2>/dev/null) || continue
  pss=$(awk '$1 == "Pss:" {print $2}' /proc/"$pid"/smaps_rollup 2>/dev/null) || pss=
  echo "$pid ${rss:-0} ${pss:--}"
done
"""


class RunFailed(Exception):
    """A step of the benchmark did not complete."""


def docker(*args: str, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=timeout)
    if check and proc.returncode != 0:
        raise RunFailed("docker %s: %s%s" % (" ".join(args[:3]), proc.stderr[-1500:], proc.stdout[-1500:]))
    return proc


def in_container(script: str, *args: str, timeout: int = 900) -> str:
    return docker("exec", CONTAINER, "bash", "-c", script, "bench", *args, timeout=timeout).stdout


def _checked(value: str, pattern: str, what: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise RunFailed("%s: unexpected value %r" % (what, value))
    return value


def key_types(domain: str) -> list[str]:
    """The key types DOMAINS gives a domain (none for a domain the host does not sign for)."""
    for entry in DOMAINS:
        if entry["name"] == domain:
            keys = entry["dkim"] if isinstance(entry["dkim"], list) else [entry["dkim"]]
            return [k["key_type"] for k in keys]
    return []


def expected(config: Config) -> tuple[list[str], bool]:
    """The DKIM-Signature algorithms (sorted) and the seal a configuration's message must carry."""
    algorithms = sorted(
        ALGORITHMS[k] for k in key_types(config.sender) if any(k in MILTERS[m].signs for m in config.milters)
    )
    return algorithms, config.sealed


def unsealed_senders() -> list[str]:
    """The senders of the rspamd rows that must not be sealed (the playbook's settings rule)."""
    rspamd = [c for c in CONFIGS if "rspamd" in c.milters]
    unsealed = sorted({c.sender for c in rspamd if not c.sealed})
    both = set(unsealed) & {c.sender for c in rspamd if c.sealed}
    if both:
        raise RunFailed("a sender cannot be sealed in one rspamd row and not in another: %s" % ", ".join(both))
    return [_checked(s, DOMAIN, "sender domain") for s in unsealed]


def converge(socket: str, workdir: Path) -> float:
    inventory = {
        "bench": {
            "hosts": {CONTAINER: docker_host(CONTAINER)},
            "vars": {
                "mailauth_domains": [dict(d, mail_hosts=[CONTAINER]) for d in DOMAINS],
                "opendkim_socket": socket,
                "bench_sink_port": SINK_PORT,
                "bench_arc_domain": _checked(ARC_DOMAIN, DOMAIN, "ARC domain"),
                "bench_unsealed_senders": unsealed_senders(),
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


def bench_facts() -> tuple[dict[str, list[str]], dict[str, str]]:
    """The milter addresses by milter (as the roles published them) and the TXT records by name."""
    try:
        data = json.loads(in_container("cat " + BENCH_FILE, timeout=30))
        milters = {
            name: [_checked(a, MILTER_ADDRESS, "%s milter address" % name) for a in data["milters"][name]]
            for name in MILTERS
        }
        records = {r["name"].lower(): r["value"] for r in data["records"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise RunFailed("%s is not what the playbook writes: %s" % (BENCH_FILE, exc)) from None
    for name, addresses in milters.items():
        if len(addresses) != 1:
            raise RunFailed("the %s role published %d milters, expected one" % (name, len(addresses)))
    return milters, records


def queue_empty() -> None:
    """Wait (bounded) until Postfix's queue is empty; fail on deferred mail."""
    for _attempt in range(200):
        out = in_container("postqueue -j | wc -l", timeout=30).strip()
        if out == "0":
            return
        time.sleep(0.1)
    tail = in_container("postqueue -p | tail -20; tail -20 /var/log/mail.log")
    raise RunFailed("Postfix's queue did not drain:\n%s" % tail)


def chain(config: Config, addresses: dict[str, list[str]]) -> list[str]:
    return [a for m in config.milters for a in addresses[m]]


def set_milters(milters: list[str]) -> None:
    """Give Postfix this milter list (smtpd, for every client, and non-smtpd) and reload it."""
    value = ", ".join(_checked(m, MILTER_ADDRESS, "milter address") for m in milters)
    in_container(
        'postconf -e "smtpd_milters = $1" "non_smtpd_milters = $1" "smtpd_milter_maps =" && postfix reload 2>/dev/null'
        " && sleep 1",
        value,
        timeout=60,
    )
    if in_container("postconf -h smtpd_milters smtpd_milter_maps").split("\n")[:2] != [value, ""]:
        raise RunFailed("Postfix did not take the milter list %r" % value)


def _tag(header: str, name: str) -> str:
    match = re.search(r"(?:^|;)\s*%s=([^;]*)" % re.escape(name), header)
    return re.sub(r"\s+", "", match.group(1)) if match else ""


def sample(config: Config, records: dict[str, str]) -> dict:
    """One message through the configuration: its signatures and seal, verified with dkimpy, checked
    against what the label promises; for rspamd, the symbols of its log line."""
    import dkim  # dkimpy, tests/requirements.txt

    raw = in_container(SAMPLE_SCRIPT, config.sender, str(SINK_PORT), timeout=120)
    message = raw.replace("\r\n", "\n").replace("\n", "\r\n").encode()
    headers = BytesHeaderParser().parsebytes(message)

    def dnsfunc(name, timeout=5):
        return records.get(name.decode().rstrip(".").lower(), "").encode()

    signatures = []
    for idx, header in enumerate(headers.get_all("DKIM-Signature") or []):
        header = str(header)
        ok = dkim.DKIM(message).verify(idx=idx, dnsfunc=dnsfunc)
        signatures.append({"a": _tag(header, "a"), "d": _tag(header, "d"), "verified": bool(ok)})
    seals = [str(h) for h in headers.get_all("ARC-Seal") or []]
    seal = None
    if seals:
        cv, _results, comment = dkim.arc_verify(message, dnsfunc=dnsfunc)
        seal = {
            "i": _tag(seals[0], "i"),
            "d": _tag(seals[0], "d"),
            "cv": _tag(seals[0], "cv"),
            "chain": cv.decode() if isinstance(cv, bytes) else str(cv),
            "comment": comment,
        }
    out = {"signatures": signatures, "seal": seal, "symbols": None}
    algorithms, sealed = expected(config)
    found = sorted(s["a"] for s in signatures)
    problems = []
    if found != algorithms:
        problems.append("signatures %s, expected %s" % (found or "none", algorithms or "none"))
    problems += ["%s signature d=%s does not verify" % (s["a"], s["d"]) for s in signatures if not s["verified"]]
    if sealed and not (seal and seal["i"] == "1" and seal["chain"] == "pass"):
        problems.append("no valid ARC seal (%s)" % (seal or "no ARC-Seal"))
    if not sealed and seal:
        problems.append("an ARC seal it should not carry (d=%s)" % seal["d"])
    if problems:
        raise RunFailed("%s does not sign as labelled: %s" % (config.label, "; ".join(problems)))
    if "rspamd" in config.milters:
        qid = re.search(r"\(Postfix\) with E?SMTP id ([0-9A-Za-z]+)", raw)
        if not qid:
            raise RunFailed("%s: no Postfix queue id in the sample" % config.label)
        log = in_container(
            'grep -F "qid: <$1>" /var/log/rspamd/rspamd.log | grep -F rspamd_task_write_log | tail -1',
            _checked(qid.group(1), r"[0-9A-Za-z]+", "queue id"),
            timeout=30,
        )
        listed = re.search(r"\[([A-Z0-9_]+\([^\]]*)\]\)", log)
        if not listed:
            raise RunFailed("%s: rspamd's log has no result for the sample (%r)" % (config.label, log[-300:]))
        out["symbols"] = sorted(set(re.findall(r"(?:^|,)([A-Z0-9_]+)\(", listed.group(1))))
    return out


def describe(found: dict) -> str:
    """What a sample carried, e.g. ``rsa-sha256, ed25519-sha256; ARC-Seal i=1 cv=none (chain pass)``."""
    text = ", ".join(s["a"] for s in found["signatures"]) or "none"
    if found["seal"]:
        text += "; ARC-Seal i=%s cv=%s (chain %s)" % (found["seal"]["i"], found["seal"]["cv"], found["seal"]["chain"])
    return text


def same_rspamd_checks(rows: list[dict]) -> None:
    """The rspamd rows ran the same symbols, the seal aside: the bench's settings rule only drops ARC_SIGNED."""
    sets = {r["label"]: frozenset(r["sample"]["symbols"]) - {"ARC_SIGNED"} for r in rows if r["sample"]["symbols"]}
    if len(set(sets.values())) > 1:
        raise RunFailed(
            "rspamd ran different checks for the rspamd rows: %s"
            % "; ".join("%s: %s" % (k, " ".join(sorted(v))) for k, v in sets.items())
        )


def milter_processes() -> list[tuple[str, str]]:
    """The live (not zombie) milter processes, (comm, pid), sorted."""
    comms = {m.comm for m in MILTERS.values()}
    out = []
    for line in in_container("ps -e -o stat=,pid=,comm=", timeout=30).splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2] in comms and not fields[0].startswith("Z"):
            out.append((fields[2], fields[1]))
    return sorted(out)


def _pids_text(processes: list[tuple[str, str]]) -> str:
    return " ".join("%s:%s" % p for p in processes)


def memory(config: Config) -> dict[str, dict]:
    """Resident memory of the configuration's milter processes, by process name: count, RSS and PSS (kB)."""
    comms = {MILTERS[m].comm for m in config.milters}
    processes = [(c, _checked(p, r"[0-9]+", "pid")) for c, p in milter_processes() if c in comms]
    if not processes:
        return {}
    by_pid = {}
    for line in in_container(MEMORY_SCRIPT, *(p for _c, p in processes), timeout=30).splitlines():
        pid, rss, pss = line.split()
        by_pid[pid] = (int(rss), None if pss == "-" else int(pss))
    out: dict[str, dict] = {}
    for comm, pid in processes:
        if pid not in by_pid:
            continue
        entry = out.setdefault(comm, {"processes": 0, "rss": 0, "pss": 0})
        rss, pss = by_pid[pid]
        entry["processes"] += 1
        entry["rss"] += rss
        entry["pss"] = None if pss is None or entry["pss"] is None else entry["pss"] + pss
    return out


def milter_rejects() -> int:
    out = in_container("grep -c -e milter-reject -e 'warning: milter' /var/log/mail.log || true", timeout=30)
    return int(out.split()[-1])


def one_run(n: int, sessions: int, size: int, config: Config) -> dict:
    queue_empty()
    comms = " ".join(_checked(MILTERS[m].comm, COMM, "process name") for m in config.milters)
    pids, rejects = milter_processes(), milter_rejects()
    sender = _checked(config.sender, DOMAIN, "sender domain")
    try:
        out = in_container(RUN_SCRIPT, str(n), str(sessions), str(size), sender, str(SINK_PORT), comms, timeout=700)
    except RunFailed as exc:
        raise RunFailed(
            "%s\nmilter rejects/warnings in the mail log: %d; milter processes before: %s, after: %s"
            % (exc, milter_rejects() - rejects, _pids_text(pids), _pids_text(milter_processes()))
        ) from exc
    try:
        fields = out.split()[-9:]
        t0, t1, t2 = (float(x) for x in fields[:3])
        relayed, cpu0, ticks0, cpu1, ticks1, hz = (int(x) for x in fields[3:])
    except ValueError:
        raise RunFailed("unexpected output of the run script: %r" % out[-500:]) from None
    if relayed != n:
        raise RunFailed("%s of %d messages reached smtp-sink" % (relayed, n))
    # A milter that crashed and was restarted (OpenDKIM's AutoRestart, rspamd's main process
    # replacing a worker, systemd) shows as a new process.
    after = milter_processes()
    if after != pids:
        raise RunFailed("a milter process changed during the run: %s, then %s" % (_pids_text(pids), _pids_text(after)))
    return {
        "rate": n / (t2 - t0),
        "inject": n / (t1 - t0),
        "seconds": t2 - t0,
        # CPU milliseconds per message: the whole container (smtp-source and smtp-sink included), the milters.
        "cpu_ms": (cpu1 - cpu0) / 1e6 / n,
        "milter_ms": (ticks1 - ticks0) * 1000.0 / hz / n,
        "memory": memory(config),
    }


def _run_line(run: dict) -> str:
    return "%.1f msgs/s, CPU %.2f ms/msg (milters %.2f)" % (run["rate"], run["cpu_ms"], run["milter_ms"])


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def new_row(config: Config, addresses: dict[str, list[str]], records: dict[str, str]) -> dict:
    set_milters(chain(config, addresses))
    found = sample(config, records)
    print("bench: %s: sample %s" % (config.label, describe(found)), file=sys.stderr, flush=True)
    return {"label": config.label, "chain": ", ".join(config.milters) or "(none)", "sample": found, "runs": []}


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
            # CAP_SYS_PTRACE: root reads the milters' /proc/PID/smaps_rollup (PSS).
            docker(
                "run",
                "-d",
                "--name",
                CONTAINER,
                "--hostname",
                HOSTNAME,
                "--cap-add",
                "SYS_PTRACE",
                *systemd_run_args(IMAGE),
            )
            docker("exec", CONTAINER, "systemctl", "is-system-running", "--wait", check=False, timeout=300)
            # The inet socket, on its own.
            seconds = converge(INET, workdir)
            addresses, records = bench_facts()
            print("bench: %s: converged in %.1f s" % (INET_CONFIG.label, seconds), file=sys.stderr)
            row = new_row(INET_CONFIG, addresses, records)
            if args.warmup:
                one_run(args.warmup, args.sessions, args.size, INET_CONFIG)
            for _run in range(args.repeat):
                row["runs"].append(one_run(args.messages, args.sessions, args.size, INET_CONFIG))
                print("bench: %s: %s" % (INET_CONFIG.label, _run_line(row["runs"][-1])), file=sys.stderr, flush=True)
            row["chain"] += " (%s)" % INET
            # The defaults (unix sockets), then the milter lists in interleaved rounds.
            seconds = converge(UNIX, workdir)
            addresses, records = bench_facts()
            print("bench: defaults converged in %.1f s, milters %s" % (seconds, addresses), file=sys.stderr)
            unix_rows = []
            for config in CONFIGS:
                unix_rows.append(new_row(config, addresses, records))
                if args.warmup:
                    one_run(args.warmup, args.sessions, args.size, config)
            same_rspamd_checks(unix_rows)
            for _round in range(args.repeat):
                for config, unix_row in zip(CONFIGS, unix_rows):
                    set_milters(chain(config, addresses))
                    run = one_run(args.messages, args.sessions, args.size, config)
                    unix_row["runs"].append(run)
                    print("bench: %s: %s" % (config.label, _run_line(run)), file=sys.stderr, flush=True)
            rows = [*unix_rows[:2], row, *unix_rows[2:]]
    except RunFailed as exc:
        print("bench: %s" % exc, file=sys.stderr)
        return 1
    finally:
        if not os.environ.get("MAILAUTH_BENCH_KEEP"):
            docker("rm", "-f", CONTAINER, check=False)
    print_table(rows, args)
    print()
    print_memory(rows)
    print()
    print_rspamd_symbols(rows)
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
        " of which the configuration's milter processes."
    )
    print("Signatures: those on the sample message, each verified with dkimpy; the ARC chain with dkim.arc_verify.")
    print()
    print(
        "| configuration | milters | signatures on a sample | runs (msgs/s) | median msgs/s "
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
                describe(r["sample"]),
                ", ".join("%.1f" % x["rate"] for x in r["runs"]),
                median,
                statistics.median(x["inject"] for x in r["runs"]),
                100.0 * median / base if base else 0,
                statistics.median(x["cpu_ms"] for x in r["runs"]),
                statistics.median(x["milter_ms"] for x in r["runs"]),
            )
        )


def _mb(kilobytes: float | None) -> str:
    return "n/a" if kilobytes is None else "%.1f" % (kilobytes / 1024.0)


def print_memory(rows: list[dict]) -> None:
    print("### Memory of the milter processes, after each configuration's last run")
    print()
    print(
        "RSS counts pages shared between processes (rspamd's main process and its workers, OpenDKIM's two)"
        " once per process; PSS divides them among the processes that share them (n/a: smaps_rollup not readable)."
    )
    print()
    print("| configuration | processes | RSS MB | PSS MB | by program: processes, RSS / PSS MB |")
    print("| --- | ---: | ---: | ---: | --- |")
    for r in rows:
        mem = r["runs"][-1]["memory"] if r["runs"] else {}
        if not mem:
            print("| %s | 0 | - | - | - |" % r["label"])
            continue
        pss = [m["pss"] for m in mem.values()]
        print(
            "| %s | %d | %s | %s | %s |"
            % (
                r["label"],
                sum(m["processes"] for m in mem.values()),
                _mb(sum(m["rss"] for m in mem.values())),
                _mb(None if None in pss else sum(pss)),
                "; ".join(
                    "%s: %d, %s / %s" % (comm, m["processes"], _mb(m["rss"]), _mb(m["pss"]))
                    for comm, m in sorted(mem.items())
                ),
            )
        )


def print_rspamd_symbols(rows: list[dict]) -> None:
    print("### rspamd's symbols on the sample messages (its log)")
    print()
    for r in rows:
        if r["sample"]["symbols"]:
            print("- %s: %s" % (r["label"], ", ".join(r["sample"]["symbols"])))


if __name__ == "__main__":
    sys.exit(main())
