# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: publish SPF, DKIM (RSA 2048) and DMARC for N domains, and print a Markdown table.

After the tables it prints the size limits of one request (a DNS message of 65,535 bytes for
RFC 2136, 32,000 characters of values for Route 53), computed with the providers' own
splitters for the same change sets, so the lowest possible number of writes is on record next
to the measured one.

Targets, all on loopback:
- Route 53: moto in server mode (``moto_server``), behind the counting proxy of
  tests/integration/route53/moto_lab.py, so round trips are counted on the server side.
  Layout "1 zone": one hosted zone ``bench.test`` holding every domain as a subdomain
  (``d0001.bench.test`` ...). Layout "zone/domain": one hosted zone per domain (``m0001.test`` ...).
- BIND 9: a primary named started here (B1's ``BindServers`` from tests/lib/servers.py,
  without the secondary), one zone per run holding every domain as a subdomain. Round trips are
  the QUERY and UPDATE requests in named's own statistics (``rndc stats``).

- PowerDNS: pdns_server (gsqlite3, ``PowerDNSServer`` from tests/lib/servers.py) behind its
  ``CountingProxy``, one zone per run; published once with the native ``powerdns`` provider (one
  PATCH per zone) and once with the ``lexicon`` provider through lexicon's PowerDNS provider
  (record by record), so the fallback's cost is on record next to the native backend.

Tools, each run through ansible-playbook on localhost, each run starting from empty zones:
- ``mailauth.core.dns_records``: one task for all N domains;
- ``amazon.aws.route53`` / ``community.general.nsupdate``: one task per record (a loop of 3N items),
  long DKIM values split into quoted 255-byte strings by hand (these modules do not split).

The loops are measured at the sizes in --loop-sizes (default 10 and 100); N=1,000 (3,000 module
runs each) is skipped by default and reported as "skipped". Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from _ansible import ROOT


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


moto_lab = _load("moto_lab", ROOT / "tests" / "integration" / "route53" / "moto_lab.py")
sys.path.insert(0, str(ROOT / "tests" / "lib"))
import servers


# ---------------------------------------------------------------------------------------------
# the work: 3 records per domain
def dkim_key_2048() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def domain_names(n: int, layout: str, zone: str) -> list[str]:
    if layout == "zone/domain":
        return ["m%04d.test" % i for i in range(1, n + 1)]
    return ["d%04d.%s" % (i, zone) for i in range(1, n + 1)]


def intents(names: list[str], public_key: str) -> list[dict]:
    return [
        {
            "name": name,
            "ttl": 300,
            "spf": {"mechanisms": ["mx"], "all": "-all"},
            "dkim": [{"selector": "mx1", "key_type": "rsa", "public_key": public_key}],
            "dmarc": {"p": "reject", "rua": ["dmarc@%s" % name]},
        }
        for name in names
    ]


def quoted(value: str) -> str:
    """A TXT value as quoted 255-byte strings (what the loop modules need for long values)."""
    return " ".join('"%s"' % value[i : i + 255] for i in range(0, len(value), 255))


def records(names: list[str], public_key: str) -> list[dict]:
    out = []
    for name in names:
        out.append({"name": name, "value": "v=spf1 mx -all"})
        out.append({"name": "mx1._domainkey." + name, "value": "v=DKIM1; k=rsa; p=" + public_key})
        out.append({"name": "_dmarc." + name, "value": "v=DMARC1; p=reject; rua=mailto:dmarc@" + name})
    return out


# ---------------------------------------------------------------------------------------------
# running ansible-playbook
class RunFailed(Exception):
    """A measured run did not complete (reported in the table, not raised further)."""


def run_playbook(tasks: list[dict]) -> tuple[float, dict]:
    """Run one play on localhost; return (wall seconds, the json callback's output)."""
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]
    start = time.monotonic()
    try:
        # The integration tests' runner; amazon.aws.route53 (the loop) reads the region from the environment.
        output = servers.run_playbook(play, timeout=7200, env_extra={"AWS_DEFAULT_REGION": moto_lab.REGION})
    except AssertionError as exc:
        raise SystemExit(str(exc)) from None
    except subprocess.TimeoutExpired:
        raise RunFailed("ansible-playbook did not finish in 2 hours") from None
    wall = time.monotonic() - start
    stats = output.get("stats", {}).get("localhost", {})
    if not stats:
        raise RunFailed("ansible-playbook ran no task: %s" % str(output)[:2000])
    if stats.get("failures") or stats.get("unreachable"):
        task = output["plays"][0]["tasks"][-1]["hosts"]["localhost"]
        failed = [r for r in task.get("results", [task]) if r.get("failed")]
        first = failed[0] if failed else task
        item = (first.get("item") or {}).get("name")
        raise RunFailed("%s%s" % (first.get("msg"), " (item %s)" % item if item else ""))
    return wall, output


# ---------------------------------------------------------------------------------------------
# Route 53 (moto)
class Route53Bench:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.server = moto_lab.MotoServer(workdir)
        self.server.start()
        self.proxy = moto_lab.AwsProxy(self.server.url)
        self.proxy.start()
        self.client = moto_lab.client(self.server.url)
        self.zone_ids: dict[str, str] = {}

    def stop(self) -> None:
        self.proxy.stop()
        self.server.stop()

    def prepare(self, zones: list[str]) -> None:
        self.server.reset()
        self.zone_ids = {}
        for zone in zones:
            created = self.client.create_hosted_zone(Name=zone, CallerReference="bench-" + zone)
            self.zone_ids[zone] = created["HostedZone"]["Id"].split("/")[-1]
        self.proxy.clear()

    def counted(self) -> tuple[int, int, int]:
        """(zone lookups, record reads, writes) the server side received since prepare()."""
        writes = self.proxy.count("ChangeResourceRecordSets")
        lookups = sum(self.proxy.count(op) for op in ("ListHostedZonesByName", "ListHostedZones", "GetHostedZone"))
        return lookups, self.proxy.total() - lookups - writes, writes

    def txt_count(self) -> int:
        total = 0
        paginator = self.client.get_paginator("list_resource_record_sets")
        for zone_id in self.zone_ids.values():
            for page in paginator.paginate(HostedZoneId=zone_id):
                total += sum(1 for r in page["ResourceRecordSets"] if r["Type"] == "TXT")
        return total

    def aws_options(self) -> dict:
        return {"endpoint_url": self.proxy.url, "region": moto_lab.REGION}

    def mailauth_task(self, domains: list[dict]) -> dict:
        options = dict(
            self.aws_options(),
            aws_access_key_id=moto_lab.ACCESS_KEY,
            aws_secret_access_key=moto_lab.SECRET_KEY,
        )
        return {
            "name": "publish",
            "mailauth.core.dns_records": {
                "provider": "route53",
                "route53": options,
                "domains": domains,
                "lint_dns": False,
            },
        }

    def loop_task(self, zone: str, items: list[dict]) -> dict:
        # No ``region`` here: amazon.aws.route53 uses that option for latency-based routing.
        args = dict(
            endpoint_url=self.proxy.url,
            access_key=moto_lab.ACCESS_KEY,
            secret_key=moto_lab.SECRET_KEY,
            state="present",
            zone=zone,
            record="{{ item.name }}",
            type="TXT",
            ttl=300,
            value="{{ item.quoted }}",
            overwrite=True,
        )
        return {"name": "publish one record", "amazon.aws.route53": args, "loop": items}


# ---------------------------------------------------------------------------------------------
# BIND
class PrimaryOnly(servers.BindServers):
    """B1's BIND fixture, primary only (no secondary pulling transfers, which would add queries).

    On 127.0.0.1, not on the test suite's 127.0.0.2, so that it never shares a port with a BIND the
    tests start at the same time (named binds its ports with SO_REUSEPORT).
    """

    primary = "127.0.0.1"

    def start(self) -> None:
        primary = self._dir("primary")
        primary.mkdir(parents=True, exist_ok=True)
        for zone in self.zones:
            (primary / ("%s.db" % zone)).write_text(self.zone_text(zone, self.serials[zone]))
        conf = self._write_config("primary")
        text = conf.read_text()
        notify = "notify explicit; notify-delay 0; also-notify { %s port %d; }; notify-source %s;" % (
            self.secondary,
            self.port,
            self.primary,
        )
        if notify not in text:
            raise SystemExit("bench: the BIND fixture's notify options changed; update PrimaryOnly.start()")
        conf.write_text(text.replace(notify, "notify no;"))
        self.log_path = primary / "named.log"
        self.procs["primary"] = servers.start_named(
            conf,
            lambda: all(self.serial(z) >= 1000 for z in self.zones),
            "named serving %s" % ", ".join(self.zones),
            60,
        )

    def request_counts(self) -> tuple[int, int]:
        """(QUERY, UPDATE) requests the primary received so far."""
        stats = self._dir("primary") / "named.stats"
        if stats.exists():
            stats.unlink()
        self.rndc("stats")
        section = stats.read_text().split("++ Incoming Requests ++", 1)[1].split("++", 1)[0]
        counts = dict.fromkeys(("QUERY", "UPDATE"), 0)
        for number, opcode in re.findall(r"^\s*(\d+)\s+(\w+)\s*$", section, re.M):
            if opcode in counts:
                counts[opcode] = int(number)
        return counts["QUERY"], counts["UPDATE"]

    def txt_count(self, zone: str) -> int:
        import dns.query
        import dns.rdatatype
        import dns.zone

        xfr = dns.zone.from_xfr(dns.query.xfr(self.primary, zone, port=self.port, timeout=30))
        return sum(1 for _name, _ttl, rdata in xfr.iterate_rdatas(dns.rdatatype.TXT))

    def mailauth_task(self, domains: list[dict], zone: str) -> dict:
        return {
            "name": "publish",
            "mailauth.core.dns_records": {
                "provider": "rfc2136",
                "rfc2136": self.provider_options(timeout=60),
                "domains": [dict(d, zone=zone) for d in domains],
                "lint_dns": False,
            },
        }

    def loop_task(self, zone: str, items: list[dict]) -> dict:
        args = {
            "server": self.primary,
            "port": self.port,
            "key_name": self.tsig["name"],
            "key_secret": self.tsig["secret"],
            "key_algorithm": self.tsig["algorithm"],
            "zone": zone,
            "record": "{{ item.name }}.",
            "type": "TXT",
            "ttl": 300,
            "value": "{{ item.quoted }}",
            "state": "present",
        }
        return {"name": "publish one record", "community.general.nsupdate": args, "loop": items}


# ---------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000", help="numbers of domains (default 10,100,1000)")
    parser.add_argument("--loop-sizes", default="10,100", help="sizes for the one-task-per-record loops")
    parser.add_argument("--no-loops", action="store_true", help="skip the loops entirely")
    parser.add_argument("--providers", default="route53,bind,powerdns,lexicon")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x]
    loop_sizes = set() if args.no_loops else {int(x) for x in args.loop_sizes.split(",") if x}
    providers = args.providers.split(",")

    public_key = dkim_key_2048()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="mailauth-bench-") as tmp:
        workdir = Path(tmp)
        bind_zones = []
        for n in sizes:
            bind_zones.append("m%d.bench" % n)
            if n in loop_sizes:
                bind_zones.append("l%d.bench" % n)
        r53 = bind = pdns = None
        try:
            if "powerdns" in providers or "lexicon" in providers:
                pdns = PdnsBench(workdir / "pdns", ["p%d.bench" % n for n in sizes] + ["x%d.bench" % n for n in sizes])
            if "route53" in providers:
                r53 = Route53Bench(workdir)
            if "bind" in providers:
                (workdir / "bind").mkdir()
                bind = PrimaryOnly(workdir / "bind")
                bind.zones = bind_zones
                bind.update_allowed = dict.fromkeys(bind_zones, True)
                bind.serials = dict.fromkeys(bind_zones, 1000)
                bind.start()
            for n in sizes:
                if r53 is not None:
                    for layout in ("1 zone", "zone/domain"):
                        rows.append(measure_route53(r53, n, layout, public_key))
                    if n in loop_sizes:
                        rows.append(measure_route53(r53, n, "1 zone", public_key, loop=True))
                    else:
                        rows.append(skipped("Route 53 (moto)", "amazon.aws.route53 loop", "1 zone", n))
                if pdns is not None and "powerdns" in providers:
                    rows.append(measure_pdns(pdns, n, public_key, "powerdns"))
                if pdns is not None and "lexicon" in providers:
                    rows.append(measure_pdns(pdns, n, public_key, "lexicon"))
                if bind is not None:
                    rows.append(measure_bind(bind, n, public_key))
                    if n in loop_sizes:
                        rows.append(measure_bind(bind, n, public_key, loop=True))
                    else:
                        rows.append(skipped("BIND 9", "community.general.nsupdate loop", "1 zone", n))
        except Exception:
            if bind is not None:
                print(
                    "named (exit status %s) log (tail):\n%s"
                    % (bind.procs["primary"].poll(), servers._log_tail(bind._dir("primary") / "named.log")),
                    file=sys.stderr,
                )
            raise
        finally:
            if r53 is not None:
                r53.stop()
            if bind is not None:
                bind.stop()
            if pdns is not None:
                pdns.stop()
    print_tables(rows)
    print_limits(size_limits(sizes, public_key))
    return 0


def _progress(r: dict) -> dict:
    state = r.get("failed") or "%.1f s, %d round trips" % (r["wall"], r["trips"])
    print("bench: %s, %s, %s, N=%d: %s" % (r["provider"], r["tool"], r["layout"], r["n"], state), file=sys.stderr)
    return r


def measure_route53(r53: Route53Bench, n: int, layout: str, public_key: str, loop: bool = False) -> dict:
    tool = "amazon.aws.route53 loop" if loop else "mailauth.core.dns_records"
    names = domain_names(n, layout, "bench.test")
    zones = names if layout == "zone/domain" else ["bench.test"]
    r53.prepare(zones)
    if loop:
        items = [dict(r, quoted=quoted(r["value"])) for r in records(names, public_key)]
        task = r53.loop_task("bench.test", items)
    else:
        task = r53.mailauth_task(intents(names, public_key))
    try:
        wall = run_playbook([task])[0]
        published = r53.txt_count()
        if published != 3 * n:
            raise RunFailed("only %d of %d records were published" % (published, 3 * n))
    except RunFailed as exc:
        return _progress(failed("Route 53 (moto)", tool, layout, n, str(exc)))
    lookups, reads, writes = r53.counted()
    return _progress(row("Route 53 (moto)", tool, layout, n, len(zones), wall, lookups, reads, writes))


def measure_bind(bind: PrimaryOnly, n: int, public_key: str, loop: bool = False) -> dict:
    tool = "community.general.nsupdate loop" if loop else "mailauth.core.dns_records"
    zone = ("l%d.bench" if loop else "m%d.bench") % n
    names = domain_names(n, "1 zone", zone)
    if loop:
        task = bind.loop_task(zone, [dict(r, quoted=quoted(r["value"])) for r in records(names, public_key)])
    else:
        task = bind.mailauth_task(intents(names, public_key), zone)
    q0, u0 = bind.request_counts()
    try:
        wall = run_playbook([task])[0]
        q1, u1 = bind.request_counts()  # before the check below, whose zone transfer is a QUERY too
        published = bind.txt_count(zone)
        if published != 3 * n:
            raise RunFailed("only %d of %d records were published" % (published, 3 * n))
    except RunFailed as exc:
        return _progress(failed("BIND 9", tool, "1 zone", n, str(exc)))
    return _progress(row("BIND 9", tool, "1 zone", n, 1, wall, 0, q1 - q0, u1 - u0))


# ---------------------------------------------------------------------------------------------
# PowerDNS: the native powerdns provider and the lexicon provider (lexicon's PowerDNS provider)
class PdnsBench:
    """pdns_server (tests/lib/servers.py) behind a CountingProxy: round trips counted on the server side."""

    def __init__(self, workdir: Path, zones: list[str]) -> None:
        workdir.mkdir()
        self.server = servers.PowerDNSServer(workdir)
        self.server.zones = zones
        self.server.start()
        self.proxy = servers.CountingProxy(self.server.api_url)

    def task(self, provider: str, domains: list[dict], zone: str) -> dict:
        if provider == "powerdns":
            options = self.server.provider_options(api_url=self.proxy.url)
        else:
            options = {
                "provider_name": "powerdns",
                "credentials": {"auth_token": self.server.api_key},
                "settings": {"pdns_server": self.proxy.url, "pdns_server_id": "localhost"},
                "split_txt": True,
            }
        args = {"provider": provider, provider: options, "domains": [dict(d, zone=zone) for d in domains]}
        return {"name": "publish", "mailauth.core.dns_records": dict(args, lint_dns=False)}

    def txt_count(self, zone: str) -> int:
        return sum(len(r["records"]) for r in self.server.zone(zone)["rrsets"] if r["type"] == "TXT")

    def stop(self) -> None:
        self.proxy.close()
        self.server.stop()


def measure_pdns(pdns: PdnsBench, n: int, public_key: str, provider: str) -> dict:
    label = "PowerDNS (%s)" % ("API" if provider == "powerdns" else "through lexicon")
    zone = ("p%d.bench" if provider == "powerdns" else "x%d.bench") % n
    names = domain_names(n, "1 zone", zone)
    pdns.proxy.clear()
    try:
        wall = run_playbook([pdns.task(provider, intents(names, public_key), zone)])[0]
        reads, writes = pdns.proxy.count("GET"), pdns.proxy.writes()
        published = pdns.txt_count(zone)
        if published != 3 * n:
            raise RunFailed("only %d of %d records were published" % (published, 3 * n))
    except RunFailed as exc:
        return _progress(failed(label, "mailauth.core.dns_records (%s)" % provider, "1 zone", n, str(exc)))
    return _progress(row(label, "mailauth.core.dns_records (%s)" % provider, "1 zone", n, 1, wall, 0, reads, writes))


def size_limits(sizes: list[int], public_key: str) -> list[dict]:
    """Per N: the writes the request size limits force for all 3N changes in one zone.

    Computed offline with the providers' own splitters (no server): the RFC 2136 provider's
    UPDATE messages (TSIG-signed wire size) and the Route 53 provider's change batches.
    """
    from ansible_collections.mailauth.core.plugins.module_utils import _rfc2136, _route53
    from ansible_collections.mailauth.core.plugins.module_utils._provider import Change, RecordSet, get_provider

    rfc = get_provider(
        "rfc2136", {"server": "127.0.0.1", "key_name": "bench", "key_secret": base64.b64encode(b"k" * 32).decode()}
    )
    r53 = get_provider(
        "route53",
        {"endpoint_url": "http://127.0.0.1:1", "aws_access_key_id": "x", "aws_secret_access_key": "y"},
    )
    out = []
    for n in sizes:
        for provider, zone in (("BIND 9", "m%d.bench" % n), ("Route 53 (moto)", "bench.test")):
            names = domain_names(n, "1 zone", zone)
            changes = [
                Change("create", None, RecordSet(r["name"], "TXT", 300, [r["value"]]))
                for r in records(names, public_key)
            ]
            if provider == "BIND 9":
                messages = rfc.build_updates(zone, changes)
                total = sum(len(update.to_wire()) for update, _chunk in messages)
                limit, unit, requests = _rfc2136.MAX_MESSAGE_SIZE, "bytes of UPDATE messages", len(messages)
            else:
                batches = _route53.split_batches(r53.build_units(zone, changes))
                total = sum(_route53.change_cost(c)[1] for batch in batches for c in batch)
                limit, unit, requests = _route53.MAX_VALUE_CHARS_PER_REQUEST, "characters of Value", len(batches)
            out.append(
                {
                    "provider": provider,
                    "n": n,
                    "changes": len(changes),
                    "total": total,
                    "unit": unit,
                    "limit": limit,
                    "minimum": -(-total // limit),
                    "requests": requests,
                }
            )
    return out


def print_limits(limits: list[dict]) -> None:
    print()
    print("### Request size limits (one zone, all 3N changes)")
    print()
    print("The target of at most 2 round trips per zone per 1,000 changes needs all 3,000 changes of N=1,000 in at")
    print("most 6 requests (one read included). What one request can carry decides whether that is possible:")
    print()
    print(
        "| provider | N | changes | size of the change set | limit per request | fewest writes possible | writes sent |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for x in limits:
        print(
            "| %s | %d | %d | %s %s | %s | %d | %d |"
            % (
                x["provider"],
                x["n"],
                x["changes"],
                format(x["total"], ","),
                x["unit"],
                format(x["limit"], ","),
                x["minimum"],
                x["requests"],
            )
        )
    print()
    for x in limits:
        units = max(1, -(-x["changes"] // 1000))
        trips = x["minimum"] + 1
        if trips > 2 * units:
            print(
                "- %s, N=%d: %s %s / %s per request = at least %d writes; with at least 1 read that is %d round "
                "trips for %d changes in one zone, %.2f per started 1,000 changes (target: 2). The request size "
                "limit, not the client, rules the target out here (an RSA 2048 DKIM value is about 410 bytes)."
                % (
                    x["provider"],
                    x["n"],
                    format(x["total"], ","),
                    x["unit"],
                    format(x["limit"], ","),
                    x["minimum"],
                    trips,
                    x["changes"],
                    trips / units,
                )
            )


def failed(provider, tool, layout, n, message) -> dict:
    return {"provider": provider, "tool": tool, "layout": layout, "n": n, "failed": "failed: " + message}


def row(provider, tool, layout, n, zones, wall, lookups, reads, writes) -> dict:
    changes = 3 * n
    per_zone = changes // zones
    # Route 53 and RFC 2136 messages have size limits: count a zone's changes in units of 1,000.
    units = zones * max(1, -(-per_zone // 1000))
    return {
        "provider": provider,
        "tool": tool,
        "layout": layout,
        "n": n,
        "zones": zones,
        "changes": changes,
        "wall": wall,
        "lookups": lookups,
        "reads": reads,
        "writes": writes,
        "trips": lookups + reads + writes,
        "per_unit": (reads + writes) / units,
    }


def skipped(provider, tool, layout, n) -> dict:
    return {"provider": provider, "tool": tool, "layout": layout, "n": n, "skipped": True}


def print_tables(rows: list[dict]) -> None:
    print("## DNS publishing benchmark (%s)" % time.strftime("%Y-%m-%d"))
    print()
    print("3 TXT records (SPF, DKIM RSA 2048, DMARC) per domain, from empty zones, on loopback, each run")
    print("through ansible-playbook. Round trips are counted on the server side: requests moto received")
    print("through the counting proxy; QUERY and UPDATE requests in named's own statistics; HTTP requests")
    print("pdns_server received through its counting proxy (PowerDNS API and lexicon's PowerDNS provider).")
    print()
    print(
        "| provider | tool | layout | N | zones | changes | wall (s) | zone lookups | record reads | writes "
        "| round trips | (reads + writes) per zone per 1,000 changes |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        if r.get("skipped") or r.get("failed"):
            note = r.get("failed") or "skipped (%d module runs)" % (3 * r["n"])
            print(
                "| %s | %s | %s | %d | | %d | %s | | | | | |"
                % (r["provider"], r["tool"], r["layout"], r["n"], 3 * r["n"], note.replace("|", "/"))
            )
            continue
        print(
            "| %s | %s | %s | %d | %d | %d | %.1f | %d | %d | %d | %d | %.2f |"
            % (
                r["provider"],
                r["tool"],
                r["layout"],
                r["n"],
                r["zones"],
                r["changes"],
                r["wall"],
                r["lookups"],
                r["reads"],
                r["writes"],
                r["trips"],
                r["per_unit"],
            )
        )
    print()
    print("| provider | N | loop round trips / dns_records round trips | loop wall time / dns_records wall time |")
    print("| --- | ---: | ---: | ---: |")
    for provider, loop_tool in (
        ("Route 53 (moto)", "amazon.aws.route53 loop"),
        ("BIND 9", "community.general.nsupdate loop"),
    ):
        for r in rows:
            if r["provider"] != provider or r["tool"] != loop_tool or r.get("skipped") or r.get("failed"):
                continue
            ours = next(
                (
                    o
                    for o in rows
                    if o["provider"] == provider
                    and o["tool"] == "mailauth.core.dns_records"
                    and o["layout"] == "1 zone"
                    and o["n"] == r["n"]
                    and not o.get("failed")
                ),
                None,
            )
            if ours is None:
                continue
            print(
                "| %s | %d | %.1f | %.1f |"
                % (provider, r["n"], r["trips"] / max(ours["trips"], 1), r["wall"] / max(ours["wall"], 0.001))
            )


if __name__ == "__main__":
    sys.exit(main())
