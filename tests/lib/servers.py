# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real servers on loopback and a module runner, shared by the tests and the benchmarks.

Imported by tests/integration/conftest.py (which wraps them in session fixtures) and by bench/
(``sys.path`` gets ``tests/lib``); never import conftest.py itself.

- ``BindServers``: a primary named on 127.0.0.2 and a secondary on 127.0.0.3 (same port), zones
  example.test, example.net and example.org, dynamic updates with a per-session TSIG key
  (hmac-sha256), NOTIFY + IXFR to the secondary. Zone transfers: signed with the TSIG key, or
  unsigned from loopback (the secondary); ``set_transfer_allowed`` refuses the signed ones.
- ``PowerDNSServer``: pdns_server with the gsqlite3 backend and its HTTP API on 127.0.0.1.
- ``run_module(name, args, check=False, diff=False)``: runs a module of the collection with
  ansible-playbook against localhost and returns its result dict; ``run_playbook`` a whole play.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import http.server
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".cache" / "collections"
ZONES = ("example.test", "example.net", "example.org")
START_TIMEOUT = 30.0
VENV_BIN = Path(sys.executable).parent


# ---------------------------------------------------------------------------------------------
# helpers
def free_port(*addresses: str) -> int:
    """A port free for TCP and UDP on every address (best effort; the server binds it next)."""
    for _attempt in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        ok = True
        for address in addresses:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET, kind) as sock:
                    try:
                        sock.bind((address, port))
                    except OSError:
                        ok = False
        if ok:
            return port
    raise RuntimeError("no free port found on %s" % (addresses,))


def _require(binary: str) -> str:
    path = shutil.which(binary) or (binary if os.path.exists(binary) else None)
    if not path:
        pytest.fail("%s is not installed on this host (see bindep.txt / tests/gates/host-packages.sh)" % binary)
    return path


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def dns_query(server: str, port: int, name: str, rtype: str = "TXT", timeout: float = 3.0):
    """One query over TCP with dnspython; returns the response message."""
    query = dns.message.make_query(name, rtype)
    return dns.query.tcp(query, server, timeout=timeout, port=port)


def txt_values(server: str, port: int, name: str) -> list:
    """The logical TXT values (strings joined) served for ``name``, sorted."""
    response = dns_query(server, port, name, "TXT")
    out = []
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            out.extend(b"".join(rdata.strings).decode() for rdata in rrset)
    return sorted(out)


def txt_strings(server: str, port: int, name: str) -> list:
    """The TXT records served for ``name`` as lists of their character-strings (bytes)."""
    response = dns_query(server, port, name, "TXT")
    out = []
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            out.extend(list(rdata.strings) for rdata in rrset)
    return out


def soa_serial(server: str, port: int, zone: str) -> int:
    response = dns_query(server, port, zone, "SOA")
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset[0].serial
    raise AssertionError(
        "no SOA for %s at %s:%s (rcode %s)" % (zone, server, port, dns.rcode.to_text(response.rcode()))
    )


def _wait(predicate, timeout: float, what: str, proc=None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                "%s: process exited with %s\n%s" % (what, proc.returncode, _log_tail(log) if log else "")
            )
        try:
            if predicate():
                return
        except Exception as exc:  # still starting
            last = exc
        time.sleep(0.1)
    raise RuntimeError("%s: not ready after %.0fs (%s)\n%s" % (what, timeout, last, _log_tail(log) if log else ""))


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def named_options(directory: Path, port: int, addresses, extra: str = "") -> str:
    """The ``options`` block every test named shares: authoritative only, on ``addresses``."""
    return (
        "options {\n"
        '  directory "%s"; pid-file "%s/named.pid"; session-keyfile "%s/session.key";\n'
        '  managed-keys-directory "%s";\n'
        "  listen-on port %d { %s; }; listen-on-v6 { none; };\n"
        "  recursion no; allow-query { any; }; dnssec-validation no; max-cache-size 8m;\n"
        "  %s"
        "};\n"
    ) % (directory, directory, directory, directory, port, "; ".join(addresses), extra)


def start_named(conf: Path, ready, what: str, timeout: float = START_TIMEOUT) -> subprocess.Popen:
    """Start ``named -g`` on ``conf`` (log: named.log beside it); return once ``ready()`` is true."""
    log = conf.parent / "named.log"
    proc = subprocess.Popen(
        [_require("/usr/sbin/named"), "-g", "-n", "1", "-c", str(conf)],
        stdout=open(log, "wb"),  # noqa: SIM115 - the file lives as long as the process
        stderr=subprocess.STDOUT,
        cwd=str(conf.parent),
    )
    try:
        _wait(ready, timeout, what, proc, log)
    except BaseException:
        _stop(proc)
        raise
    return proc


def _loopback_addresses() -> set:
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True, check=False)
    return set(re.findall(r"inet (127\.[0-9.]+)/", out.stdout))


# Who uses which alias, shared by every process of a test run (pytest-xdist workers each start
# their own servers on the same addresses): {address: users}, read and written under a lock.
_ALIAS_STATE = Path(tempfile.gettempdir()) / "mailauth-loopback-aliases.json"


@contextlib.contextmanager
def _alias_users():
    """The alias users' table, locked (flock) while the block runs, written back after it, also when the
    block fails (an alias it added before failing stays counted, so that its last user removes it)."""
    with open(_ALIAS_STATE.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            users = json.loads(_ALIAS_STATE.read_text()) if _ALIAS_STATE.exists() else {}
        except ValueError:
            users = {}
        try:
            yield users
        finally:
            _ALIAS_STATE.write_text(json.dumps(users))


@contextlib.contextmanager
def loopback_aliases(*addresses: str):
    """Make ``addresses`` (127.x) local addresses of ``lo`` while the block runs; named binds only
    to interface addresses. An alias this helper added is removed by its last user (another test
    process may still serve on it); an address that was there before is never touched."""
    with _alias_users() as users:
        present = _loopback_addresses()
        for address in addresses:
            if address in present and address not in users:
                continue  # not ours
            if address not in present:
                result = subprocess.run(
                    ["ip", "addr", "add", "%s/32" % address, "dev", "lo"], capture_output=True, text=True, check=False
                )
                if result.returncode != 0:
                    pytest.fail("cannot add %s to lo (root needed): %s" % (address, result.stderr.strip()))
                users[address] = 0  # a count left by a killed run is void once the alias is gone
            users[address] += 1
    try:
        yield
    finally:
        with _alias_users() as users:
            for address in addresses:
                if address not in users:
                    continue
                users[address] -= 1
                if users[address] <= 0:
                    del users[address]
                    argv = ["ip", "addr", "del", "%s/32" % address, "dev", "lo"]
                    subprocess.run(argv, capture_output=True, check=False)


# ---------------------------------------------------------------------------------------------
# BIND
class BindServers:
    """A BIND primary (127.0.0.2) and secondary (127.0.0.3) on one port, started by the fixture."""

    primary = "127.0.0.2"
    secondary = "127.0.0.3"

    def __init__(self, workdir: Path) -> None:
        self.rndc_bin = _require("/usr/sbin/rndc")
        self.workdir = workdir
        self.port = free_port(self.primary, self.secondary)
        self.control_ports = {self.primary: free_port(self.primary), self.secondary: free_port(self.secondary)}
        self.servers = [self.primary, self.secondary]
        self.zones = list(ZONES)
        self.tsig = {
            "name": "mailauth-test",
            "secret": base64.b64encode(os.urandom(32)).decode(),
            "algorithm": "hmac-sha256",
        }
        self.rndc_secret = base64.b64encode(os.urandom(32)).decode()
        self.update_allowed = dict.fromkeys(self.zones, True)
        self.transfer_allowed = dict.fromkeys(self.zones, True)
        self.update_denied: dict = {}
        self.procs: dict = {}
        self.serials = dict.fromkeys(self.zones, 1000)

    # -- config ----------------------------------------------------------------------------
    def _dir(self, role: str) -> Path:
        return self.workdir / role

    def _keys(self) -> str:
        return 'key "%s" { algorithm %s; secret "%s"; };\nkey "rndc-key" { algorithm hmac-sha256; secret "%s"; };\n' % (
            self.tsig["name"],
            self.tsig["algorithm"],
            self.tsig["secret"],
            self.rndc_secret,
        )

    def _options(self, role: str, address: str) -> str:
        d = self._dir(role)
        extra = (
            "notify explicit; notify-delay 0; also-notify { %s port %d; }; notify-source %s;\n"
            '  allow-transfer { key "%s"; 127.0.0.0/8; };\n'
            % (self.secondary, self.port, self.primary, self.tsig["name"])
            if role == "primary"
            else "notify no; transfer-source %s;\n" % self.secondary
        )
        return named_options(d, self.port, [address], extra) + (
            'controls { inet %s port %d allow { 127.0.0.0/8; } keys { "rndc-key"; }; };\n'
            "logging { channel out { stderr; severity info; print-time yes; print-category yes; };\n"
            "  category default { out; }; category queries { out; }; category update { out; }; };\n"
            'include "%s/keys.conf";\n'
            'include "%s/zones.conf";\n'
        ) % (address, self.control_ports[address], d, d)

    def _zones_conf(self, role: str) -> str:
        out = []
        for zone in self.zones:
            if role == "primary":
                grant = 'key "%s"' % self.tsig["name"] if self.update_allowed[zone] else "none"
                policy = "allow-update { %s; };" % grant
                if self.update_allowed[zone] and self.update_denied.get(zone):
                    rules = ['deny "%s" name %s. ANY;' % (self.tsig["name"], n) for n in self.update_denied[zone]]
                    rules.append('grant "%s" zonesub ANY;' % self.tsig["name"])
                    policy = "update-policy { %s };" % " ".join(rules)
                transfer = ""
                if not self.transfer_allowed.get(zone, True):  # refuse the key, still serve the secondary
                    transfer = ' allow-transfer { !key "%s"; 127.0.0.0/8; };' % self.tsig["name"]
                out.append('zone "%s" { type primary; file "%s.db"; %s%s };' % (zone, zone, policy, transfer))
            else:
                out.append(
                    'zone "%s" { type secondary; file "%s.db"; primaries { %s port %d; }; };'
                    % (zone, zone, self.primary, self.port)
                )
        return "\n".join(out) + "\n"

    def zone_text(self, zone: str, serial: int) -> str:
        return (
            "$TTL 300\n"
            "@ IN SOA ns1.{z}. hostmaster.{z}. ( {s} 3600 600 86400 60 )\n"
            "@ IN NS ns1.{z}.\n"
            "@ IN NS ns2.{z}.\n"
            "ns1 IN A {p}\n"
            "ns2 IN A {q}\n"
        ).format(z=zone, s=serial, p=self.primary, q=self.secondary)

    def _write_config(self, role: str) -> Path:
        d = self._dir(role)
        d.mkdir(parents=True, exist_ok=True)
        address = self.primary if role == "primary" else self.secondary
        (d / "keys.conf").write_text(self._keys())
        (d / "zones.conf").write_text(self._zones_conf(role))
        conf = d / "named.conf"
        conf.write_text(self._options(role, address))
        return conf

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        for zone in self.zones:
            self._dir("primary").mkdir(parents=True, exist_ok=True)
            (self._dir("primary") / ("%s.db" % zone)).write_text(self.zone_text(zone, self.serials[zone]))
        for role, address in (("primary", self.primary), ("secondary", self.secondary)):
            conf = self._write_config(role)
            self.procs[role] = start_named(
                conf,
                lambda a=address: all(soa_serial(a, self.port, z) >= 1000 for z in self.zones),
                "named %s (%s) serving %s" % (role, address, ", ".join(self.zones)),
            )

    def stop(self) -> None:
        for proc in self.procs.values():
            _stop(proc)

    def log(self, role: str = "primary") -> str:
        return (self._dir(role) / "named.log").read_text(errors="replace")

    # -- control ----------------------------------------------------------------------------
    def rndc(self, *args: str, server: str | None = None) -> str:
        server = server or self.primary
        conf = self.workdir / "rndc.conf"
        conf.write_text('key "rndc-key" { algorithm hmac-sha256; secret "%s"; };\n' % self.rndc_secret)
        result = subprocess.run(
            [
                self.rndc_bin,
                "-c",
                str(conf),
                "-k",
                str(conf),
                "-s",
                server,
                "-p",
                str(self.control_ports[server]),
                "-y",
                "rndc-key",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError("rndc %s failed: %s%s" % (" ".join(args), result.stdout, result.stderr))
        return result.stdout

    def set_update_allowed(self, zone: str, allowed: bool) -> None:
        """Grant or refuse dynamic updates of ``zone`` (rewrites the config, ``rndc reconfig``)."""
        self.update_allowed[zone] = allowed
        (self._dir("primary") / "zones.conf").write_text(self._zones_conf("primary"))
        self.rndc("reconfig")

    def deny_updates(self, zone: str, names: list) -> None:
        """Refuse UPDATE messages that touch any of ``names`` (an update-policy); [] lifts it."""
        self.update_denied[zone] = list(names)
        (self._dir("primary") / "zones.conf").write_text(self._zones_conf("primary"))
        self.rndc("reconfig")

    def set_transfer_allowed(self, zone: str, allowed: bool) -> None:
        """Grant or refuse zone transfers of ``zone`` signed with the TSIG key (``rndc reconfig``);
        unsigned transfers from loopback (the secondary's) stay allowed."""
        self.transfer_allowed[zone] = allowed
        (self._dir("primary") / "zones.conf").write_text(self._zones_conf("primary"))
        self.rndc("reconfig")

    def serial(self, zone: str, server: str | None = None) -> int:
        return soa_serial(server or self.primary, self.port, zone)

    def txt(self, name: str, server: str | None = None) -> list:
        return txt_values(server or self.primary, self.port, name)

    def txt_strings(self, name: str, server: str | None = None) -> list:
        return txt_strings(server or self.primary, self.port, name)

    def query(self, name: str, rtype: str = "TXT", server: str | None = None):
        return dns_query(server or self.primary, self.port, name, rtype)

    def update_count(self) -> int:
        """UPDATE requests the primary received so far (from ``rndc stats``)."""
        stats = self._dir("primary") / "named.stats"
        with contextlib.suppress(FileNotFoundError):
            stats.unlink()
        self.rndc("stats")
        text = stats.read_text()
        section = text.split("++ Incoming Requests ++", 1)[1].split("++", 1)[0]
        match = re.search(r"^\s*(\d+)\s+UPDATE\s*$", section, re.M)
        return int(match.group(1)) if match else 0

    def wait_synced(self, zone: str, timeout: float = 15.0) -> None:
        """Wait until the secondary serves the primary's serial of ``zone``."""
        target = self.serial(zone)
        _wait(
            lambda: self.serial(zone, self.secondary) == target,
            timeout,
            "secondary serving serial %d of %s" % (target, zone),
        )

    def reset(self) -> None:
        """Restore the initial contents of every zone: one UPDATE deletes every RRset the zone
        did not start with (read by AXFR); then wait until the secondary has it."""
        import dns.name
        import dns.tsigkeyring
        import dns.update
        import dns.zone

        keyring = dns.tsigkeyring.from_text({self.tsig["name"]: (self.tsig["algorithm"], self.tsig["secret"])})
        base = {("@", "SOA"), ("@", "NS"), ("ns1", "A"), ("ns2", "A")}
        for zone in self.zones:
            if not self.update_allowed[zone]:
                self.set_update_allowed(zone, True)
            if not self.transfer_allowed.get(zone, True):
                self.set_transfer_allowed(zone, True)
            if self.update_denied.get(zone):
                self.deny_updates(zone, [])
            current = dns.zone.from_xfr(dns.query.xfr(self.primary, zone, port=self.port, lifetime=10))
            update = dns.update.UpdateMessage(zone, keyring=keyring)
            stale = 0
            base_ns = {"ns1.%s." % zone, "ns2.%s." % zone}
            served_ns = set()
            for rdata in current.find_rdataset("@", "NS"):
                target = rdata.target.derelativize(current.origin).to_text()
                served_ns.add(target)
                if target not in base_ns:  # an NS a test added
                    update.delete(current.origin, rdata)
                    stale += 1
            for target in sorted(base_ns - served_ns):  # one a test removed
                update.add(current.origin, 300, "NS", target)
                stale += 1
            for label, address in (("ns1", self.primary), ("ns2", self.secondary)):
                rdataset = current.get_rdataset(label, "A")
                if rdataset is None or [r.address for r in rdataset] != [address]:
                    update.replace(dns.name.from_text(label, current.origin), 300, "A", address)
                    stale += 1
            for name, node in current.nodes.items():
                for rdataset in node.rdatasets:
                    if (name.to_text(), dns.rdatatype.to_text(rdataset.rdtype)) not in base:
                        update.delete(name.derelativize(current.origin), rdataset.rdtype)
                        stale += 1
            if stale:
                response = dns.query.tcp(update, self.primary, timeout=10, port=self.port)
                assert response.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(response.rcode())
        for zone in self.zones:
            self.wait_synced(zone)

    def nsupdate(self, *lines: str, zone: str = "example.test") -> None:
        """Change the zone behind the module's back (a concurrent or manual change)."""
        import dns.tsig
        import dns.tsigkeyring
        import dns.update

        keyring = dns.tsigkeyring.from_text({self.tsig["name"]: (self.tsig["algorithm"], self.tsig["secret"])})
        update = dns.update.UpdateMessage(zone, keyring=keyring)
        for line in lines:
            action, name, *rest = line.split(None, 2)
            if action == "add":
                ttl, text = rest[0].split(None, 1)
                update.add(name, int(ttl), "TXT", text)
            elif action == "delete":
                update.delete(name, "TXT")
            else:
                raise ValueError(line)
        response = dns.query.tcp(update, self.primary, timeout=5, port=self.port)
        assert response.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(response.rcode())

    def provider_options(self, **overrides) -> dict:
        options = {
            "server": self.primary,
            "port": self.port,
            "key_name": self.tsig["name"],
            "key_secret": self.tsig["secret"],
            "key_algorithm": self.tsig["algorithm"],
            "timeout": 5,
        }
        options.update(overrides)
        return options


# ---------------------------------------------------------------------------------------------
# PowerDNS
class PowerDNSServer:
    """pdns_server (gsqlite3) with the HTTP API on 127.0.0.1, started by the fixture."""

    address = "127.0.0.1"

    def __init__(self, workdir: Path) -> None:
        self.binary = _require("/usr/sbin/pdns_server")
        self.workdir = workdir
        self.port = free_port(self.address)
        self.api_port = free_port(self.address)
        self.api_key = base64.urlsafe_b64encode(os.urandom(24)).decode()
        self.api_url = "http://%s:%d" % (self.address, self.api_port)
        self.zones = list(ZONES)
        self.proc = None

    def start(self) -> None:
        schema = Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql")
        if not schema.exists():
            pytest.fail("pdns-backend-sqlite3 is not installed (no %s)" % schema)
        db = self.workdir / "pdns.sqlite3"
        with contextlib.closing(sqlite3.connect(str(db))) as conn:
            conn.executescript(schema.read_text())
        (self.workdir / "pdns.conf").write_text(
            "\n".join(
                [
                    "launch=gsqlite3",
                    "gsqlite3-database=%s" % db,
                    "local-address=%s" % self.address,
                    "local-port=%d" % self.port,
                    "api=yes",
                    "api-key=%s" % self.api_key,
                    "webserver=yes",
                    "webserver-address=%s" % self.address,
                    "webserver-port=%d" % self.api_port,
                    "webserver-allow-from=127.0.0.0/8",
                    "socket-dir=%s" % self.workdir,
                    "guardian=no",
                    "daemon=no",
                    "disable-syslog=yes",
                    "cache-ttl=0",
                    "query-cache-ttl=0",
                    "negquery-cache-ttl=0",
                    "zone-cache-refresh-interval=0",
                    "",
                ]
            )
        )
        log = self.workdir / "pdns.log"
        self.log_path = log
        self.proc = subprocess.Popen(
            [self.binary, "--config-dir=%s" % self.workdir],
            stdout=open(log, "wb"),  # noqa: SIM115 - the file lives as long as the process
            stderr=subprocess.STDOUT,
            cwd=str(self.workdir),
        )
        _wait(
            lambda: self.api("GET", "/servers/localhost") is not None, START_TIMEOUT, "pdns_server API", self.proc, log
        )
        self.reset()

    def stop(self) -> None:
        _stop(self.proc)

    def api(self, method: str, path: str, body=None, api_key: str | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.api_url + "/api/v1" + path,
            data=data,
            method=method,
            headers={"X-API-Key": api_key or self.api_key, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else {}

    def zone(self, zone: str) -> dict:
        return self.api("GET", "/servers/localhost/zones/%s." % zone)

    def serial(self, zone: str) -> int:
        return self.zone(zone)["serial"]

    def rrset(self, name: str, rtype: str = "TXT", zone: str | None = None) -> list:
        """Record contents (API presentation text) of one RRset, sorted."""
        zone = zone or next(z for z in self.zones if name == z or name.endswith("." + z))
        for rrset in self.zone(zone)["rrsets"]:
            if rrset["name"] == name + "." and rrset["type"] == rtype:
                return sorted(r["content"] for r in rrset["records"])
        return []

    def txt(self, name: str) -> list:
        """TXT values served on the DNS port (dnspython), strings joined, sorted."""
        return txt_values(self.address, self.port, name)

    def set_rrset(self, zone: str, name: str, contents: list, rtype: str = "TXT", ttl: int = 300) -> None:
        self.api(
            "PATCH",
            "/servers/localhost/zones/%s." % zone,
            {
                "rrsets": [
                    {
                        "name": name + ".",
                        "type": rtype,
                        "ttl": ttl,
                        "changetype": "REPLACE",
                        "records": [{"content": c, "disabled": False} for c in contents],
                    }
                ]
            },
        )

    def reset(self) -> None:
        """Delete and re-create every zone with only SOA and NS records."""
        existing = {z["name"].rstrip(".") for z in self.api("GET", "/servers/localhost/zones")}
        for zone in self.zones:
            if zone in existing:
                self.api("DELETE", "/servers/localhost/zones/%s." % zone)
            self.api(
                "POST",
                "/servers/localhost/zones",
                {
                    "name": zone + ".",
                    "kind": "Native",
                    "nameservers": ["ns1.%s." % zone, "ns2.%s." % zone],
                    "soa_edit_api": "INCEPTION-INCREMENT",
                },
            )

    def provider_options(self, **overrides) -> dict:
        options = {"api_url": self.api_url, "api_key": self.api_key, "server_id": "localhost"}
        options.update(overrides)
        return options


# ---------------------------------------------------------------------------------------------
# running modules
def run_playbook(
    play: list, check: bool = False, diff: bool = False, timeout: float = 300, env_extra: dict | None = None
) -> dict:
    """Run a play (a list of plays as Python data) on localhost; returns the json callback output.

    env_extra: more environment variables (bench/dns_publish.py runs its plays through this too).
    """
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
            "PATH": "%s:%s" % (VENV_BIN, env.get("PATH", "")),
        }
    )
    env.update(env_extra or {})
    with tempfile.TemporaryDirectory(prefix="mailauth-run-") as tmp:
        # JSON is YAML; ansible-playbook wants a YAML file name.
        playbook = Path(tmp) / "play.yml"
        playbook.write_text(json.dumps(play))
        cmd = [
            str(VENV_BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            "ansible_python_interpreter=%s" % sys.executable,
            str(playbook),
        ]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        env["ANSIBLE_LOCAL_TEMP"] = str(Path(tmp) / "tmp")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    try:
        return json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError as exc:
        raise AssertionError(
            "ansible-playbook gave no JSON (%s, rc=%s)\nstdout:\n%s\nstderr:\n%s"
            % (exc, proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:])
        ) from None


def run_module(name: str, args: dict, check: bool = False, diff: bool = False, timeout: float = 300) -> dict:
    """Run module ``name`` (short name, or FQCN) on localhost through ansible-playbook.

    Returns the module's result dict (``failed``, ``msg``, ``changed`` ... as a user sees them).
    """
    fqcn = name if "." in name else "mailauth.core." + name
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "run", fqcn: args}]}]
    output = run_playbook(play, check=check, diff=diff, timeout=timeout)
    try:
        return output["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (KeyError, IndexError):
        raise AssertionError("no task result in %s" % json.dumps(output)[:4000]) from None


@contextlib.contextmanager
def running_bind(workdir: Path, cls: type = BindServers):
    """``cls`` (BindServers or a subclass) started in ``workdir`` with its loopback aliases; stopped after."""
    _require("ip")
    with loopback_aliases(cls.primary, cls.secondary):
        servers = cls(workdir)
        try:
            servers.start()
            yield servers
        finally:
            servers.stop()


@contextlib.contextmanager
def running_pdns(workdir: Path):
    """A PowerDNSServer started in ``workdir``; stopped after."""
    server = PowerDNSServer(workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


class LoopbackHttp:
    """An HTTP server on 127.0.0.1 for fakes and proxies of HTTP APIs.

    Subclasses implement ``handle(method, path, body, headers) -> (status, payload bytes)``. Every
    request is recorded (method, path); while a planned fault ``[method, path substring, status,
    remaining]`` in ``faults`` matches, the request is answered with that status instead.
    """

    def __init__(self) -> None:
        self.requests: list = []
        self.faults: list = []
        self.lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                status, payload = owner._answer(self.command, self.path, body, dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _answer(self, method: str, path: str, body, headers: dict) -> tuple:
        with self.lock:
            self.requests.append((method, path))
            for fault in self.faults:
                if fault[0] == method and fault[1] in path and fault[3] > 0:
                    fault[3] -= 1
                    return fault[2], json.dumps({"error": "injected fault", "success": False}).encode()
        return self.handle(method, path, body, headers)

    def handle(self, method: str, path: str, body, headers: dict) -> tuple:
        raise NotImplementedError

    def count(self, method: str | None = None) -> int:
        """Requests received, of one method or (None) all."""
        with self.lock:
            return sum(1 for request in self.requests if method is None or request[0] == method)

    def writes(self) -> int:
        with self.lock:
            return sum(1 for request in self.requests if request[0] != "GET")

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.faults.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class CountingProxy(LoopbackHttp):
    """A LoopbackHttp that forwards every request to ``upstream`` (e.g. the PowerDNS API), so round
    trips are counted on the server side and faults can be injected in front of a real server."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        super().__init__()

    def handle(self, method: str, path: str, body, headers: dict) -> tuple:
        keep = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        request = urllib.request.Request(self.upstream + path, data=body, method=method, headers=keep)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
