# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: inbound messages per second through SPF, DKIM verification and DMARC; prints a Markdown table.

Containers (``mailauth/debian12:latest``, systemd as PID 1) on the bench's own docker network
(``MAILAUTH_BENCH_INBOUND_NET``, default 172.30.85.0/24), configured by ``bench/scale/inbound.yml``
over the ``community.docker.docker`` connection:

- ``ns``: BIND, authoritative for five sender domains (``sender1.example`` ... ``sender5.example``: SPF
  ``v=spf1 ip4:<gen> -all``, an RSA-2048 DKIM key, DMARC ``p=reject``), for ``bench.example`` (the
  hosts, with the generator's HELO SPF record) and for the network's reverse zone;
- ``gen``: the load generator. Messages from the sender domains are signed once, before the
  runs, with dkimpy on the controller (``smtp-source`` cannot sign, and cannot send a prepared
  message), copied to gen, and sent there by a small Python client (``smtplib``) over
  --sessions parallel SMTP sessions, one message per connection (as ``smtp-source`` does),
  from gen's address, which the SPF records list;
- the receivers, one per configuration, each converged with the roles (playbooks/site.yml's
  wiring: the inbound roles' facts given to the postfix role): ``plain``, Postfix alone (no
  checks); ``cache``, the SPF policy, OpenDKIM (verify) and OpenDMARC with the local unbound
  as the host's resolver (forwarding to ns); ``direct``, the same checks with ns as the
  resolver (unbound not installed). Each receiver relays ``sink.test`` to Postfix's
  ``discard:`` transport: delivery costs next to nothing, so the figures are those of the
  SMTP server and its checks.

The configurations are measured in interleaved rounds (each once, then again, --repeat rounds),
so that a slow spell of the shared machine hits them alike. A run sends --messages messages and
ends when the receiver's queue is empty; every message must be accepted (250) and discarded
(Postfix's log), else the run fails. Per run: the rate (first connection to empty queue), the
receiver's CPU per message (its cgroup; and per systemd unit, from /proc, waited-for children
included), the queries that reached ns per message (BIND's ``rndc stats``: incoming queries, by
type) and, on the cached receiver, unbound's own counters (``unbound-control stats_noreset``).
Before the runs, each receiver gets one held message whose Authentication-Results headers are
parsed with python3-authres on the receiver and shown, and a warm-up batch (which fills the
caches). Figures are printed, never asserted. The containers and the network are removed at the
end, also on failure (MAILAUTH_BENCH_KEEP=1 keeps them).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from email.utils import formatdate, make_msgid
from pathlib import Path

from _ansible import COLLECTIONS, VENV_BIN, ansible_env, docker_host, systemd_run_args

sys.path.insert(0, str(COLLECTIONS))
from ansible_collections.mailauth.core.plugins.module_utils import _dkim, _txt

PLAYBOOK = Path(__file__).resolve().parent / "scale" / "inbound.yml"
IMAGE = os.environ.get("MAILAUTH_BENCH_IMAGE", "mailauth/debian12:latest")
PREFIX = "mailauth-bench-in"
NETWORK = PREFIX + "-net"
NET = os.environ.get("MAILAUTH_BENCH_INBOUND_NET", "172.30.85")
NS = {"name": PREFIX + "-ns", "host": "ns", "address": NET + ".10"}
GEN = {"name": PREFIX + "-gen", "host": "gen", "address": NET + ".11"}
SENDERS = ["sender%d.example" % i for i in range(1, 6)]
SELECTOR = "bench"
HELO = "gen.bench.example"
RECIPIENT = "bench@sink.test"
SAMPLE_RECIPIENT = "hold@sink.test"

# (key, label, inbound checks, local unbound cache, last octet)
CONFIGS = [
    ("plain", "no checks", False, False, 21),
    ("cache", "SPF + DKIM + DMARC, local unbound cache", True, True, 22),
    ("direct", "SPF + DKIM + DMARC, every lookup to ns", True, False, 23),
]

# Sends messages (files in a directory, cycled) over parallel sessions, one per connection;
# prints JSON: start, end, accepted, the refusals (first few). Runs on gen with Debian's python3.
SENDER = r"""
import itertools, json, os, smtplib, sys, threading, time
host, count, sessions, directory, rcpt, helo = sys.argv[1:7]
count, sessions = int(count), int(sessions)
messages = []
for name in sorted(os.listdir(directory)):
    with open(os.path.join(directory, name), "rb") as f:
        data = f.read()
    sender = name.split("_", 1)[0]
    messages.append(("bench@" + sender, data))
counter = itertools.count()
lock = threading.Lock()
accepted = [0]
refused = []
def work():
    while True:
        with lock:
            i = next(counter)
        if i >= count:
            return
        mail_from, data = messages[i % len(messages)]
        try:
            with smtplib.SMTP(host, 25, local_hostname=helo, timeout=120) as s:
                s.sendmail(mail_from, [rcpt], data)
            with lock:
                accepted[0] += 1
        except Exception as exc:
            with lock:
                refused.append("%s: %s" % (type(exc).__name__, exc))
t0 = time.time()
threads = [threading.Thread(target=work) for _ in range(sessions)]
for t in threads:
    t.start()
for t in threads:
    t.join()
t1 = time.time()
print(json.dumps({"t0": t0, "t1": t1, "accepted": accepted[0], "refused": len(refused), "why": refused[:5]}))
"""

# Run on a receiver: wait until the queue is empty (hold excepted), print the time.
DRAIN = r"""
set -eu
q=/var/spool/postfix
i=0
while [ -n "$(find $q/incoming $q/active $q/deferred $q/maildrop -type f -print -quit)" ]; do
  if [ -n "$(find $q/deferred -type f -print -quit)" ]; then postqueue -p | tail -5 >&2; exit 1; fi
  i=$((i + 1)); [ $i -lt 30000 ] || { echo "queue does not drain" >&2; exit 1; }
  sleep 0.02
done
date +%s.%N
"""

# Run on a receiver: the counters a run reads before and after. JSON: the container's CPU (ns,
# its cgroup v1 or v2), clock ticks per systemd unit (utime + stime + cutime + cstime of each
# process, by the unit its name=systemd or unified cgroup names: the SPF policy is its own unit,
# mailauth-spf.service), discarded messages so far,
# and unbound's counters when unbound-control answers.
COUNTERS = r"""
import glob, json, os, re, subprocess
out = {}
cg = {}
for line in open("/proc/self/cgroup"):
    num, controllers, path = line.rstrip("\n").split(":", 2)
    for c in controllers.split(","):
        cg[c] = path
    if num == "0":
        cg["unified"] = path
if "cpuacct" in cg:
    out["cpu_ns"] = int(open("/sys/fs/cgroup/cpuacct%s/cpuacct.usage" % cg["cpuacct"]).read())
else:
    for line in open("/sys/fs/cgroup%s/cpu.stat" % cg["unified"]):
        if line.startswith("usage_usec "):
            out["cpu_ns"] = int(line.split()[1]) * 1000
units = {}
for d in glob.glob("/proc/[0-9]*"):
    try:
        stat = open(d + "/stat").read()
        unit = "other"
        for line in open(d + "/cgroup"):
            num, controllers, path = line.rstrip("\n").split(":", 2)
            if controllers == "name=systemd" or (num == "0" and unit == "other"):
                m = re.search(r"/([^/]+\.service)$", path)
                if m:
                    unit = m.group(1)
    except OSError:
        continue
    fields = stat[stat.rindex(")") + 2:].split()
    units[unit] = units.get(unit, 0) + sum(int(x) for x in fields[11:15])
out["ticks"] = units
out["hz"] = os.sysconf("SC_CLK_TCK")
log = open("/var/log/mail.log").read() if os.path.exists("/var/log/mail.log") else ""
out["discarded"] = len(re.findall(r"to=<bench@sink\.test>.*status=sent", log))
try:
    stats = subprocess.run(["unbound-control", "stats_noreset"], capture_output=True, text=True, timeout=20)
    if stats.returncode == 0:
        out["unbound"] = {k: float(v) for k, v in (l.split("=", 1) for l in stats.stdout.split() if "=" in l)
                          if k.startswith("total.") or k.startswith("num.query.type.")}
except OSError:
    pass
print(json.dumps(out))
"""

# Run on ns: BIND's incoming queries so far (rndc stats, the last dump): total and by type.
NS_COUNTERS = r"""
import json, subprocess
subprocess.run(["rndc", "stats"], check=True, timeout=20)
text = open("/var/cache/bind/named.stats").read()
dump = text[text.rindex("+++ Statistics Dump +++"):]
out = {"total": 0, "types": {}}
section = None
for line in dump.splitlines():
    if line.startswith("++ "):
        section = line.strip("+ ")
        continue
    parts = line.split()
    if len(parts) == 2 and parts[0].isdigit() and section == "Incoming Queries":
        out["types"][parts[1]] = int(parts[0])
        out["total"] += int(parts[0])
print(json.dumps(out))
"""

# Run on a receiver: the Authentication-Results of the held sample, parsed with authres, then
# the message deleted.
SAMPLE = r"""
import email, json, subprocess, authres
queue = subprocess.run(["postqueue", "-j"], capture_output=True, text=True).stdout
ids = [json.loads(line)["queue_id"] for line in queue.splitlines() if line.strip()]
out = []
for qid in ids:
    raw = subprocess.run(["postcat", "-hq", qid], capture_output=True, text=True).stdout
    msg = email.message_from_string("\n".join(line for line in raw.splitlines() if not line.startswith("*** ")))
    for h in msg.get_all("Authentication-Results") or []:
        parsed = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + " ".join(str(h).split()))
        results = ["%s=%s" % (r.method, r.result) for r in parsed.results]
        out.append({"authserv_id": parsed.authserv_id, "results": results})
    for h in msg.get_all("Received-SPF") or []:
        out.append({"received_spf": " ".join(str(h).split())[:80]})
    subprocess.run(["postsuper", "-d", qid, "hold"], capture_output=True)
print(json.dumps({"held": len(ids), "headers": out}))
"""


class RunFailed(Exception):
    """A step of the benchmark did not complete."""


def docker(*args: str, check: bool = True, timeout: int = 900, stdin: str | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], input=stdin, capture_output=True, text=True, check=False, timeout=timeout)
    if check and proc.returncode != 0:
        raise RunFailed("docker %s: %s%s" % (" ".join(args[:3]), proc.stderr[-1500:], proc.stdout[-1500:]))
    return proc


def python_in(container: str, script: str, *args: str, timeout: int = 900) -> str:
    return docker("exec", "-i", container, "python3", "-", *args, stdin=script, timeout=timeout).stdout


def json_in(container: str, script: str, *args: str, timeout: int = 300) -> dict:
    out = python_in(container, script, *args, timeout=timeout)
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RunFailed("%s: unexpected output %r" % (container, out[-500:])) from None


def receiver(key: str, octet: int) -> dict:
    return {"name": "%s-rx-%s" % (PREFIX, key), "host": "rx-" + key, "address": "%s.%d" % (NET, octet)}


def start_container(spec: dict, systemd: bool = True) -> None:
    args = ["run", "-d", "--name", spec["name"], "--hostname", spec["host"] + ".bench.example"]
    args += ["--network", NETWORK, "--ip", spec["address"]]
    if systemd:
        args += systemd_run_args(IMAGE)
    else:
        args += [IMAGE, "/bin/sleep", "infinity"]
    docker(*args)


def write_zones(directory: Path, hosts: list[dict], keys: dict) -> list[str]:
    """Zone files and named.conf.local for ns; returns the zone names."""
    directory.mkdir()
    reverse = ".".join(reversed(NET.split("."))) + ".in-addr.arpa"
    zones = {"bench.example": [], reverse: []}
    for h in hosts:
        zones["bench.example"].append("%s IN A %s" % (h["host"], h["address"]))
        zones[reverse].append("%s IN PTR %s.bench.example." % (h["address"].rsplit(".", 1)[1], h["host"]))
    spf = "v=spf1 ip4:%s -all" % GEN["address"]
    zones["bench.example"].append("gen IN TXT %s" % _txt.to_zone_text(spf))
    for domain in SENDERS:
        zones[domain] = [
            "@ IN MX 10 gen.bench.example.",
            "@ IN TXT %s" % _txt.to_zone_text(spf),
            "%s._domainkey IN TXT %s" % (SELECTOR, _txt.to_zone_text(_dkim.dns_record(keys[domain]))),
            "_dmarc IN TXT %s" % _txt.to_zone_text("v=DMARC1; p=reject"),
        ]
    local = []
    for zone, records in zones.items():
        head = [
            "$TTL 86400",
            "@ IN SOA ns.bench.example. hostmaster.bench.example. ( 1 3600 600 86400 86400 )",
            "@ IN NS ns.bench.example.",
        ]
        (directory / ("db." + zone)).write_text("\n".join(head + records) + "\n")
        local.append('zone "%s" { type primary; file "/var/lib/bind/db.%s"; };' % (zone, zone))
    (directory / "named.conf.local").write_text("\n".join(local) + "\n")
    return list(zones)


def sign_messages(directory: Path, keys: dict, per_domain: int) -> None:
    """Pre-signed messages, ``<domain>_<n>.eml``: RSA-2048, relaxed/simple, ~2 KB of body."""
    import dkim  # dkimpy, tests/requirements.txt

    directory.mkdir()
    body = b"".join(
        b"line %04d of the inbound benchmark's message body, padding to two kilobytes.\r\n" % i for i in range(26)
    )
    for domain in SENDERS:
        pem = _dkim.serialize_private_key(keys[domain])
        for n in range(per_domain):
            head = (
                "From: Bench <bench@%s>\r\nTo: <%s>\r\nSubject: inbound bench %d\r\nDate: %s\r\nMessage-ID: %s\r\n"
                % (domain, RECIPIENT, n, formatdate(localtime=False), make_msgid(domain=domain))
            ).encode()
            message = head + b"\r\n" + body
            sig = dkim.sign(
                message,
                SELECTOR.encode(),
                domain.encode(),
                pem,
                canonicalize=(b"relaxed", b"simple"),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
            )
            (directory / ("%s_%03d.eml" % (domain, n))).write_bytes(sig + message)


def converge(hosts: list[dict], configs: list[tuple], zones: list[str], workdir: Path) -> float:
    rx, checked, cached = {}, {}, {}
    for key, _label, checks, cache, octet in configs:
        name = receiver(key, octet)["name"]
        rx[name] = docker_host(name)
        if checks:
            checked[name] = {}
        if cache:
            cached[name] = {}
    inventory = {
        "bench_ns": {"hosts": {NS["name"]: docker_host(NS["name"])}},
        "bench_rx": {"hosts": rx},
        "bench_checked": {"hosts": checked},
        "bench_cached": {"hosts": cached},
        "all": {
            "vars": {
                "bench_zone_dir": str(workdir / "zones"),
                "bench_zones": zones,
                "bench_net": NET + ".0/24",
                "bench_ns_address": NS["address"],
                "bench_gen_address": GEN["address"],
                # The receivers' own domain: the opendkim role needs a key to sign with (with none
                # it fails, even in verify mode), and a real receiver sends too.
                "mailauth_domains": [{"name": "bench.example", "mail_hosts": sorted(checked)}],
            }
        },
    }
    inv = workdir / "inventory.json"
    inv.write_text(json.dumps(inventory))
    env = ansible_env(workdir, ANSIBLE_PIPELINING="1", ANSIBLE_FORKS="8")
    start = time.monotonic()
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(inv), str(PLAYBOOK)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    (workdir / "converge.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RunFailed("converge failed:\n%s\n%s" % (proc.stdout[-4000:], proc.stderr[-1500:]))
    return time.monotonic() - start


def send(target: dict, n: int, sessions: int, recipient: str = RECIPIENT) -> dict:
    out = python_in(
        GEN["name"], SENDER, target["address"], str(n), str(sessions), "/root/msgs", recipient, HELO, timeout=900
    )
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RunFailed("sender: unexpected output %r" % out[-500:]) from None


def drain(target: dict) -> float:
    out = docker("exec", target["name"], "bash", "-c", DRAIN, timeout=700)
    return float(out.stdout.split()[-1])


def sample(target: dict) -> dict:
    result = send(target, 1, 1, SAMPLE_RECIPIENT)
    if result["accepted"] != 1:
        raise RunFailed("%s: the sample was refused: %s" % (target["host"], result["why"]))
    time.sleep(1)
    return json_in(target["name"], SAMPLE)


def one_run(target: dict, n: int, sessions: int) -> dict:
    drain(target)
    before, ns_before = json_in(target["name"], COUNTERS), json_in(NS["name"], NS_COUNTERS)
    result = send(target, n, sessions)
    t2 = drain(target)
    after, ns_after = json_in(target["name"], COUNTERS), json_in(NS["name"], NS_COUNTERS)
    if result["accepted"] != n:
        raise RunFailed(
            "%s: %d of %d messages accepted; refusals: %s" % (target["host"], result["accepted"], n, result["why"])
        )
    discarded = after["discarded"] - before["discarded"]
    for _wait in range(50):
        if discarded >= n:
            break
        time.sleep(0.1)
        discarded = json_in(target["name"], COUNTERS)["discarded"] - before["discarded"]
    if discarded != n:
        raise RunFailed("%s: %d of %d messages discarded" % (target["host"], discarded, n))
    hz = after["hz"]
    units = {
        u: (after["ticks"].get(u, 0) - before["ticks"].get(u, 0)) * 1000.0 / hz / n
        for u in set(after["ticks"]) | set(before["ticks"])
    }
    run = {
        "rate": n / (t2 - result["t0"]),
        "inject": n / (result["t1"] - result["t0"]),
        "cpu_ms": (after["cpu_ns"] - before["cpu_ns"]) / 1e6 / n,
        "units": units,
        "ns_q": (ns_after["total"] - ns_before["total"]) / n,
        "ns_types": {
            t: (ns_after["types"].get(t, 0) - ns_before["types"].get(t, 0)) / n
            for t in ns_after["types"]
            if ns_after["types"].get(t, 0) != ns_before["types"].get(t, 0)
        },
    }
    if "unbound" in after and "unbound" in before:
        ub0, ub1 = before["unbound"], after["unbound"]
        run["unbound_q"] = (ub1.get("total.num.queries", 0) - ub0.get("total.num.queries", 0)) / n
        run["unbound_miss"] = (ub1.get("total.num.cachemiss", 0) - ub0.get("total.num.cachemiss", 0)) / n
    return run


def _run_line(run: dict) -> str:
    line = "%.1f msgs/s (injected %.1f), CPU %.2f ms/msg, ns %.3f q/msg %s" % (
        run["rate"],
        run["inject"],
        run["cpu_ms"],
        run["ns_q"],
        json.dumps({k: round(v, 3) for k, v in run["ns_types"].items()}),
    )
    if "unbound_q" in run:
        line += ", unbound %.2f q/msg (%.3f misses)" % (run["unbound_q"], run["unbound_miss"])
    return line


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=600, help="messages per run (default 600)")
    parser.add_argument("--sessions", type=int, default=16, help="parallel SMTP sessions (default 16)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--warmup", type=int, default=100, help="messages sent to each receiver before the rounds")
    parser.add_argument("--per-domain", type=int, default=40, help="distinct signed messages per sender domain")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the containers an earlier run kept (MAILAUTH_BENCH_KEEP=1): no set-up, no converge",
    )
    parser.add_argument(
        "--configs", default=",".join(c[0] for c in CONFIGS), help="configurations (default: plain,cache,direct)"
    )
    args = parser.parse_args()
    wanted = args.configs.split(",")
    configs = [c for c in CONFIGS if c[0] in wanted]
    if docker("image", "inspect", IMAGE, check=False).returncode != 0:
        print("bench: image %s is missing (make images)" % IMAGE, file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _on_signal)
    targets = [dict(receiver(c[0], c[4]), key=c[0], label=c[1]) for c in configs]
    containers = [NS["name"], GEN["name"], *(t["name"] for t in targets)]
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="mailauth-bench-") as tmp:
            workdir = Path(tmp)
            (workdir / "tmp").mkdir()
            if args.reuse:
                restart(targets)
            else:
                setup(targets, configs, args, workdir)
            for t in targets:
                t["sample"] = sample(t)
                print("bench: %s: sample %s" % (t["key"], json.dumps(t["sample"])), file=sys.stderr)
                t["runs"] = []
                if args.warmup:
                    send(t, args.warmup, args.sessions)
                    drain(t)
            for _round in range(args.repeat):
                for t in targets:
                    t["runs"].append(one_run(t, args.messages, args.sessions))
                    print("bench: %s: %s" % (t["key"], _run_line(t["runs"][-1])), file=sys.stderr, flush=True)
            rows = targets
    except RunFailed as exc:
        print("bench: %s" % exc, file=sys.stderr)
        return 1
    finally:
        if not os.environ.get("MAILAUTH_BENCH_KEEP"):
            for name in containers:
                docker("rm", "-f", name, check=False)
            docker("network", "rm", NETWORK, check=False)
    print_table(rows, args)
    return 0


def setup(targets: list[dict], configs: list[tuple], args, workdir: Path) -> None:
    """Fresh containers and network, keys, zones and signed messages, then the playbook."""
    # Leftovers of an earlier run (MAILAUTH_BENCH_KEEP), whichever configurations it ran.
    for name in [NS["name"], GEN["name"], *(receiver(c[0], c[4])["name"] for c in CONFIGS)]:
        docker("rm", "-f", name, check=False)
    docker("network", "rm", NETWORK, check=False)
    docker("network", "create", "--subnet", NET + ".0/24", NETWORK)
    start_container(NS)
    start_container(GEN, systemd=False)
    for t in targets:
        start_container(t)
    keys = {d: _dkim.generate_private_key("rsa", 2048) for d in SENDERS}
    zones = write_zones(workdir / "zones", [NS, GEN, *targets], keys)
    sign_messages(workdir / "msgs", keys, args.per_domain)
    docker("cp", str(workdir / "msgs"), "%s:/root/msgs" % GEN["name"])
    seconds = converge([NS, *targets], configs, zones, workdir)
    print("bench: converged in %.1f s" % seconds, file=sys.stderr)


def restart(targets: list[dict]) -> None:
    """Start kept containers (a restart of the docker daemon stops them) and give the receivers
    their resolver back: docker rewrites /etc/resolv.conf at every start."""
    docker("start", NS["name"], GEN["name"], *(t["name"] for t in targets))
    for t in [NS, *targets]:
        docker("exec", t["name"], "systemctl", "is-system-running", "--wait", check=False, timeout=300)
    for t in targets:
        resolver = "127.0.0.1" if t["key"] == "cache" else NS["address"]
        docker("exec", t["name"], "sh", "-c", 'echo "nameserver %s" > /etc/resolv.conf' % resolver)
        # Services that read resolv.conf once, at start.
        docker("exec", t["name"], "systemctl", "restart", "postfix", check=False, timeout=120)


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r.get(key, 0.0) for r in runs)


def print_table(rows: list[dict], args) -> None:
    print("## Inbound benchmark (%s, %s)" % (time.strftime("%Y-%m-%d"), IMAGE))
    print()
    print(
        "gen (Python smtplib, %d sessions, one message per connection, pre-signed RSA-2048) -> receiver:25 -> discard:,"
        % args.sessions
    )
    print(
        "%d messages per run, %d interleaved rounds (median shown), after %d warm-up messages per receiver."
        % (args.messages, args.repeat, args.warmup)
    )
    print("CPU per message: the receiver's cgroup; by unit from /proc. ns q/msg: queries that reached BIND on ns.")
    print()
    print(
        "| configuration | verdicts on a sample | runs (msgs/s) | median msgs/s | % of no checks "
        "| CPU ms/msg | by unit (ms/msg) | ns queries/msg (by type) | unbound queries/msg (misses) |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: |")
    base = _median(rows[0]["runs"], "rate") if rows and rows[0]["key"] == "plain" else 0
    for r in rows:
        runs = r["runs"]
        median = _median(runs, "rate")
        verdicts = "; ".join(
            " ".join(h["results"]) if "results" in h else "Received-SPF: " + h["received_spf"].split()[0]
            for h in r["sample"]["headers"]
        )
        units = sorted({u for run in runs for u in run["units"]})
        by_unit = ", ".join(
            "%s %.2f" % (u.replace(".service", ""), statistics.median(run["units"].get(u, 0.0) for run in runs))
            for u in units
            if statistics.median(run["units"].get(u, 0.0) for run in runs) >= 0.01
        )
        types = sorted({t for run in runs for t in run["ns_types"]})
        by_type = ", ".join(
            "%s %.3f" % (t, statistics.median(run["ns_types"].get(t, 0.0) for run in runs)) for t in types
        )
        unbound = (
            "%.2f (%.3f)" % (_median(runs, "unbound_q"), _median(runs, "unbound_miss"))
            if all("unbound_q" in run for run in runs)
            else "-"
        )
        print(
            "| %s | %s | %s | %.1f | %s | %.2f | %s | %.3f (%s) | %s |"
            % (
                r["label"],
                verdicts or "none",
                ", ".join("%.1f" % x["rate"] for x in runs),
                median,
                "%.0f%%" % (100.0 * median / base) if base else "-",
                _median(runs, "cpu_ms"),
                by_unit,
                _median(runs, "ns_q"),
                by_type or "none",
                unbound,
            )
        )


if __name__ == "__main__":
    sys.exit(main())
