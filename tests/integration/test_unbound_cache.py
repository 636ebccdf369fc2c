# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The unbound role's configuration run by a real unbound on loopback, forwarding to the BIND fixture.

The unbound.conf the role writes (filter unbound_config, template unbound.conf.j2) is checked with
unbound-checkconf and run as it is, but for the lines that tie it to a host (port 53, the unbound
user, /run, syslog), which are swapped for a free port and a temporary directory. What a user of the
host sees: the lab zone answered through the forwarder, the second answer from the cache (no new
query upstream, unbound-control's counters), an RFC 6761 zone that is not ours answered locally.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest
from ansible.plugins.filter.core import comment
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from servers import _require, _stop, _wait, free_port

from ansible_collections.mailauth.core.plugins.filter.unbound import unbound_config

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def role_conf(**changes) -> str:
    values = {
        "interfaces": [HOST],
        "num_threads": 1,
        "msg_cache_size": "4m",
        "rrset_cache_size": "8m",
        "cache_max_ttl": 86400,
        "prefetch": True,
        "serve_expired": False,
        "extended_statistics": True,
        "dnssec": False,
        "trust_anchor_file": "/var/lib/unbound/root.key",
        "domain_insecure": [],
        "forward_zones": [],
        "stub_zones": [],
        "nodefault_zones": [],
        "domains": [],
        "unblock_lan_zones": False,
        "server_extra": {},
        "manage_resolv_conf": True,
        "resolv_conf_options": [],
    }
    values.update(changes)
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "roles/unbound/templates")),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["comment"] = comment
    return env.get_template("unbound.conf.j2").render(
        ansible_managed="Ansible managed", unbound_settings=unbound_config(values)
    )


def on_loopback_port(conf: str, workdir: Path, port: int) -> str:
    """The role's file with the host-bound lines swapped; each must be there exactly once."""
    swaps = {
        "  port: 53\n": "  port: %d\n" % port,
        "  username: unbound\n": '  username: ""\n',
        '  directory: "/etc/unbound"\n': '  directory: "%s"\n' % workdir,
        '  pidfile: "/run/unbound.pid"\n': '  pidfile: "%s/unbound.pid"\n' % workdir,
        "  use-syslog: yes\n": '  use-syslog: no\n  logfile: "%s/unbound.log"\n' % workdir,
        "  control-interface: /run/unbound.ctl\n": "  control-interface: %s/unbound.ctl\n" % workdir,
    }
    for old, new in swaps.items():
        assert conf.count(old) == 1, old
        conf = conf.replace(old, new)
    return conf


def query(port: int, name: str, rtype: str = "SOA"):
    return dns.query.udp(dns.message.make_query(name, rtype), HOST, port=port, timeout=5)


@pytest.fixture
def resolver(bind, tmp_path):
    """unbound with the role's lab settings: everything forwarded to the BIND primary, test. opened by the domain."""
    unbound = _require("/usr/sbin/unbound")
    checkconf = _require("/usr/sbin/unbound-checkconf")
    control = _require("/usr/sbin/unbound-control")
    role_file = role_conf(
        forward_zones=[{"name": ".", "addresses": ["%s@%d" % (bind.primary, bind.port)]}],
        domains=["example.test", "example.org"],
    )
    port = free_port(HOST)
    conf = tmp_path / "unbound.conf"
    conf.write_text(on_loopback_port(role_file, tmp_path, port))
    checked = subprocess.run([checkconf, str(conf)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    proc = subprocess.Popen([unbound, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stats() -> dict:
        out = subprocess.run([control, "-c", str(conf), "stats_noreset"], capture_output=True, text=True, check=True)
        return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)

    def up() -> bool:
        return subprocess.run([control, "-c", str(conf), "status"], capture_output=True, check=False).returncode == 0

    try:
        _wait(up, 30.0, "unbound on %s@%d" % (HOST, port), proc, tmp_path / "unbound.log")
        yield port, stats
    finally:
        _stop(proc)


def test_forwarded_answer_then_cache_hit(resolver):
    port, stats = resolver
    first = query(port, "example.test")
    assert first.rcode() == dns.rcode.NOERROR and first.answer
    after_first = stats()
    assert after_first["num.query.udpout"] == "1"
    assert after_first["total.num.cachemiss"] == "1"
    second = query(port, "example.test")
    assert second.rcode() == dns.rcode.NOERROR
    assert second.answer[0].to_text().split()[-7:] == first.answer[0].to_text().split()[-7:]
    after_second = stats()
    assert after_second["total.num.queries"] == "2"
    assert after_second["total.num.cachehits"] == "1"
    assert after_second["num.query.udpout"] == "1", "the second answer must come from the cache"


def test_rfc6761_zones_not_ours_stay_local(resolver):
    port, stats = resolver
    assert query(port, "example.org").rcode() == dns.rcode.NOERROR
    sent = stats()["num.query.udpout"]
    # invalid. is not opened (no domain, zone or nodefault under it): unbound answers it itself.
    assert query(port, "mail.invalid", "A").rcode() == dns.rcode.NXDOMAIN
    assert stats()["num.query.udpout"] == sent


def test_checkconf_accepts_every_shape_the_role_writes(tmp_path):
    checkconf = _require("/usr/sbin/unbound-checkconf")
    shapes = {
        "defaults": role_conf(dnssec=True),
        "forward_stub_insecure": role_conf(
            dnssec=True,
            domain_insecure=["example.test"],
            forward_zones=[{"name": "example.com", "addresses": ["192.0.2.1", "2001:db8::1@5353"], "first": True}],
            stub_zones=[{"name": "corp.test", "addresses": ["192.0.2.53"]}],
            nodefault_zones=["invalid", "onion"],
            unblock_lan_zones=True,
            serve_expired=True,
            server_extra={"so-reuseport": True, "private-domain": ["corp.test"]},
        ),
    }
    for name, text in shapes.items():
        conf = tmp_path / ("%s.conf" % name)
        # The trust anchor file is the host's; checkconf only needs the rest of the file to be valid.
        conf.write_text(text.replace('auto-trust-anchor-file: "/var/lib/unbound/root.key"', "# anchor"))
        checked = subprocess.run([checkconf, str(conf)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, "%s: %s" % (name, checked.stdout + checked.stderr)
