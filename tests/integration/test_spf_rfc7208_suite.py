# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mail_dns_info's SPF lint against pyspf, over the zone data of the RFC 7208 test suite.

The suite (``rfc7208/rfc7208-tests.yml.txt``, pyspf 2.0.14, licence beside it) is served by a real
BIND on loopback: one view per scenario (the scenarios reuse the same names), matched by the
address the query arrives on. For every name that publishes an SPF record the lint's verdict
is compared with pyspf's evaluation of the same name against the same server. What "verdict"
means, and each remaining difference with the RFC's reason, is in docs/lint-rfc7208.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.resolver
import dns.zone
import pytest
import spf
import yaml
from servers import _stop, dns_query, free_port, loopback_aliases, named_options, start_named

from ansible_collections.mailauth.core.plugins.module_utils import _dns_info
from ansible_collections.mailauth.core.plugins.module_utils._names import RecordError

SUITE = Path(__file__).resolve().parent / "rfc7208" / "rfc7208-tests.yml.txt"
# The clients of pyspf's evaluation, one per address family: addresses (TEST-NET-3 and the
# IPv6 documentation prefix) that no mechanism of the suite matches, so that every term is
# evaluated, as the lint reads every term for both families.
CLIENTS = ("203.0.113.200", "2001:db8:ffff::200")
BASE = "127.0.72."
# Agreement the suite must reach (docs/lint-rfc7208.md lists every remaining difference).
MIN_AGREEMENT = 0.99
VERDICTS = ("valid", "permerror", "temperror", "none", "refused")


# -- the suite's zone data ---------------------------------------------------------------------


def scenario_records(zonedata: dict) -> tuple[dict, set]:
    """``({name: [(type, value)]}, timeout names)`` as pyspf's own test driver reads the data.

    As in pyspf's testspf.getrdata: a string TXT/SPF value is one character-string, ``NONE``
    is no record, and SPF-type data is also published as TXT when the name has no TXT entry
    (RFC 7208 removed the SPF type; the suite keeps it as a label only). A bare ``TIMEOUT``
    makes the queries of the name fail when no record of the asked type comes before it.
    """
    out: dict = {}
    timeouts: set = set()
    for name, entries in zonedata.items():
        records, generated, has_txt = [], [], False
        for entry in entries:
            if entry == "TIMEOUT":
                if not has_txt and not generated:
                    timeouts.add(name.lower())
                continue
            for rtype, value in entry.items():
                if value == "TIMEOUT":
                    timeouts.add(name.lower())
                    continue
                if rtype in ("TXT", "SPF") and isinstance(value, str):
                    value = [value]
                if rtype == "TXT":
                    has_txt = True
                if value == ["NONE"]:
                    continue
                if rtype == "SPF":
                    generated.append(("TXT", value))
                    continue
                records.append((rtype, value))
        if not has_txt:
            records += generated
        out[name.lower()] = records
    return out, timeouts


def _name(text: str) -> dns.name.Name:
    labels = [label.encode() for label in text.rstrip(".").split(".")]
    return dns.name.Name([*labels, b""])


def _rdata(rtype: str, value) -> dns.rdata.Rdata:
    if rtype == "TXT":
        chunks = []
        for item in value:
            data = str(item).encode("utf-8")
            chunks += [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
        return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks)
    if rtype == "MX":
        return dns.rdata.from_text("IN", "MX", "%d %s." % (value[0], value[1].rstrip(".")))
    if rtype in ("PTR", "CNAME"):
        return dns.rdata.from_text("IN", rtype, value.rstrip(".") + ".")
    return dns.rdata.from_text("IN", rtype, str(value))


def servable(name: str) -> bool:
    """Whether DNS can carry the name (labels of 1-63 octets, 255 octets in wire form)."""
    labels = name.rstrip(".").split(".")
    return all(0 < len(x.encode()) <= 63 for x in labels) and len(name.encode()) + 2 <= 255


def root_zone(records: dict, skipped: list) -> dns.zone.Zone:
    """One root zone holding every record of a scenario (names outside it would be REFUSED)."""
    zone = dns.zone.Zone(dns.name.root, relativize=False)
    apex = zone.find_node(dns.name.root, create=True)
    soa = dns.rdata.from_text("IN", "SOA", "ns.rfc7208.invalid. hostmaster.rfc7208.invalid. 1 3600 600 86400 60")
    apex.find_rdataset(dns.rdataclass.IN, dns.rdatatype.SOA, create=True).add(soa, 60)
    apex.find_rdataset(dns.rdataclass.IN, dns.rdatatype.NS, create=True).add(
        dns.rdata.from_text("IN", "NS", "ns.rfc7208.invalid."), 60
    )
    ns = zone.find_node(dns.name.from_text("ns.rfc7208.invalid."), create=True)
    ns.find_rdataset(dns.rdataclass.IN, dns.rdatatype.A, create=True).add(
        dns.rdata.from_text("IN", "A", "127.0.0.1"), 60
    )
    for name, items in records.items():
        if not servable(name):
            skipped.append(name)
            continue
        node = zone.find_node(_name(name), create=True)
        for rtype, value in items:
            try:
                rdata = _rdata(rtype, value)
            except Exception:  # data the suite gives on purpose that DNS cannot carry
                skipped.append("%s %s %r" % (name, rtype, value))
                continue
            node.find_rdataset(dns.rdataclass.IN, rdata.rdtype, create=True).add(rdata, 60)
    return zone


def spf_names(records: dict) -> list[str]:
    """The names of a scenario that publish a TXT value starting with v=spf1 and can exist in DNS."""
    names = []
    for name, items in records.items():
        texts = ["".join(map(str, v)) for t, v in items if t == "TXT"]
        if servable(name) and any(x.lower().startswith("v=spf1") for x in texts):
            names.append(name)
    return sorted(names)


# -- the server --------------------------------------------------------------------------------


class SuiteServer:
    """One named, one view per scenario (matched by destination address 127.0.72.N)."""

    def __init__(self, workdir: Path, scenarios: list) -> None:
        self.workdir = workdir
        self.scenarios = scenarios
        self.addresses = [BASE + str(index + 1) for index in range(len(scenarios))]
        self.port = 0
        self.proc = None
        self.skipped: list = []

    def start(self) -> None:
        self.port = free_port(*self.addresses)
        views = []
        for index, (records, timeouts, _names) in enumerate(self.scenarios):
            zone_file = self.workdir / ("s%d.root.db" % index)
            root_zone(records, self.skipped).to_file(str(zone_file), relativize=False)
            # A zone whose file cannot be loaded answers SERVFAIL: the server's stand-in for a
            # name whose queries time out (the suite's TIMEOUT). Not for a name with other names
            # of the scenario below it (example.com in "Initial processing"): the zone would
            # hide them; that name answers with no data instead.
            broken = "".join(
                'zone "%s" { type primary; file "%s/missing.db"; };\n' % (name, self.workdir)
                for name in sorted(timeouts)
                if servable(name) and not any(other.endswith("." + name) for other in records)
            )
            views.append(
                'view "s%d" { match-clients { any; }; match-destinations { %s; }; recursion no;\n'
                'zone "." { type primary; file "%s"; check-names ignore; };\n%s};\n'
                % (index, self.addresses[index], zone_file, broken)
            )
        conf = self.workdir / "named.conf"
        conf.write_text(
            named_options(self.workdir, self.port, self.addresses, "check-names primary ignore;\n") + "".join(views)
        )
        self.proc = start_named(
            conf,
            lambda: all(dns_query(a, self.port, ".", "SOA").answer for a in self.addresses),
            "named serving the RFC 7208 suite on %s" % ", ".join(self.addresses),
        )

    def stop(self) -> None:
        _stop(self.proc)


def load_scenarios() -> list:
    """``[(records, timeout names, spf names, description)]`` of every scenario of the suite."""
    out = []
    with SUITE.open("rb") as handle:
        for data in yaml.safe_load_all(handle):
            records, timeouts = scenario_records(data["zonedata"])
            out.append((records, timeouts, spf_names(records), data["description"]))
    return out


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    scenarios = load_scenarios()
    server = SuiteServer(tmp_path_factory.mktemp("rfc7208"), [s[:3] for s in scenarios])
    with loopback_aliases(*server.addresses):
        server.start()
        try:
            yield server, scenarios
        finally:
            server.stop()


# -- verdicts ----------------------------------------------------------------------------------


def pyspf_verdict(name: str, address: str, port: int) -> str:
    """pyspf's evaluation of ``name``, the worst over CLIENTS: permerror, temperror, none or valid."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [address]
    resolver.port = port
    saved = dns.resolver.default_resolver
    dns.resolver.default_resolver = resolver
    verdicts = set()
    try:
        for client in CLIENTS:
            query = spf.query(i=client, s="postmaster@" + name, h=name, strict=True, timeout=5)
            result = query.check()[0]
            result = {"unknown": "permerror", "error": "temperror"}.get(result, result)
            verdicts.add(result if result in ("permerror", "temperror", "none") else "valid")
    finally:
        dns.resolver.default_resolver = saved
    return next(v for v in ("permerror", "temperror", "none", "valid") if v in verdicts)


def lint_verdict(findings: list[dict], name: str) -> str:
    """The lint's verdict for one domain from its findings.

    temperror when the domain's own SPF record could not be read; else permerror when any
    SPF finding is an error; else temperror when a lookup the record needs failed; none
    when the domain publishes no SPF record; valid otherwise.
    """
    spf_findings = [f for f in findings if f["code"].startswith("spf-") or f["code"] == "dns-error"]
    own_failed = any(f["code"] == "dns-error" and f["record"] == name for f in spf_findings)
    if own_failed:
        return "temperror"
    if any(f["severity"] == "error" for f in spf_findings):
        return "permerror"
    if any(f["code"] == "spf-dns-error" for f in spf_findings):
        return "temperror"
    if any(f["code"] == "spf-missing" for f in spf_findings):
        return "none"
    return "valid"


def lint_verdicts(names: list[str], address: str, port: int) -> tuple[dict, list]:
    """One mail_dns_info call for the names of a scenario; ``({name: verdict}, crashes)``.

    A name the module refuses as input is ``refused``. When the call crashes (an exception
    that is not the module's own error), every name is tried alone to find which one.
    """
    verdicts, accepted = {}, []
    for name in names:
        try:
            _dns_info.normalise_spec({"name": name})
            accepted.append(name)
        except RecordError:
            verdicts[name] = "refused"
    params = {"nameserver": address, "port": port, "timeout": 3.0, "lint": True}
    params.update(all_authoritative=False, wait=False, wait_timeout=0, wait_interval=1)
    crashes: list = []
    try:
        result = _dns_info.run(dict(params, domains=[{"name": n} for n in accepted]))
    except _dns_info.DnsInfoError:
        raise
    except Exception as exc:
        crashes.append(("(the whole call)", repr(exc)))
        for name in accepted:
            try:
                one = _dns_info.run(dict(params, domains=[{"name": name}]))
                verdicts[name] = lint_verdict(one["domains"][0]["findings"], name)
            except Exception as inner:
                verdicts[name] = "crash"
                crashes.append((name, repr(inner)))
        return verdicts, crashes
    for item in result["domains"]:
        verdicts[item["name"]] = lint_verdict(item["findings"], item["name"])
    return verdicts, crashes


def test_lint_agrees_with_pyspf_on_the_rfc7208_suite(suite, capsys):
    server, scenarios = suite
    started = time.monotonic()
    rows, crashes = [], []
    for index, (_records, _timeouts, names, description) in enumerate(scenarios):
        address = server.addresses[index]
        lint, crashed = lint_verdicts(names, address, server.port)
        crashes += crashed
        for name in names:
            rows.append((description, name, pyspf_verdict(name, address, server.port), lint[name]))
    differ = [row for row in rows if row[2] != row[3]]
    agreed = len(rows) - len(differ)
    with capsys.disabled():
        print(
            "\nRFC 7208 suite: %d/%d domain verdicts agree with pyspf (%.1f%%), %d crash(es), %.1fs"
            % (agreed, len(rows), 100.0 * agreed / len(rows), len(crashes), time.monotonic() - started)
        )
        for description, name, theirs, ours in differ:
            print("  differs: %s / %s: pyspf %s, lint %s" % (description, name, theirs, ours))
        for where, error in crashes:
            print("  crash: %s: %s" % (where, error))
    assert len(rows) >= 180, "the suite's SPF names were not all found (%d)" % len(rows)
    assert crashes == []
    assert agreed >= MIN_AGREEMENT * len(rows), differ
