# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/check.yml against a real BIND primary and secondary on loopback, with real DKIM keys
on a signing host (this machine, connection local): a good domain, a domain whose published key is
not the private key, one whose SPF needs 11 lookups and one whose secondary serves a stale record."""

from __future__ import annotations

import base64
import getpass
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from PIL import Image
from servers import COLLECTIONS, ROOT, VENV_BIN, BindServers, run_module, running_bind

from ansible_collections.mailauth.core.plugins.module_utils import _check_render, _txt

PLAYBOOK = ROOT / "playbooks" / "check.yml"
OUTPUT = ROOT / "tests" / "output" / "check-report"
GOOD, BADKEY, SPF, STALE = "good.example.test", "badkey.example.test", "spf.example.net", "stale.example.org"
SPF_GOOD = "v=spf1 ip4:192.0.2.10 -all"
SPF_OLD = "v=spf1 ip4:192.0.2.99 -all"
# The domain's own record costs one lookup; the record it includes costs ten more: 11 in all.
INCLUDE = "_spf.spf.example.net"
INCLUDES = ["_s%d.spf.example.net" % n for n in range(1, 11)]
SPF_INCLUDE = "v=spf1 include:%s -all" % INCLUDE


class StaleBind(BindServers):
    """BindServers whose primary can stop sending a zone to the secondary (no transfer, no notify)."""

    frozen: set = set()

    def _zones_conf(self, role: str) -> str:
        text = super()._zones_conf(role)
        if role != "primary":
            return text
        lines = []
        for line in text.splitlines():
            for zone in self.frozen:
                if line.startswith('zone "%s" { type primary;' % zone):
                    line = line[: -len("};")] + "allow-transfer { none; }; notify no; };"
            lines.append(line)
        return "\n".join(lines) + "\n"

    def freeze(self, zone: str) -> None:
        self.frozen = {*self.frozen, zone}
        (self._dir("primary") / "zones.conf").write_text(self._zones_conf("primary"))
        self.rndc("reconfig")


def add_txt(bind, zone: str, name: str, value: str) -> None:
    bind.nsupdate("add %s. 60 %s" % (name, _txt.to_zone_text(value)), zone=zone)


def entry(name: str, spf) -> dict:
    return {"name": name, "mail_hosts": ["mx1"], "spf": spf, "dmarc": {"p": "reject"}, "dkim": {"key_type": "ed25519"}}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The DNS of the four domains, and their keys on the host (made by dkim_key, as the opendkim role does)."""
    work = tmp_path_factory.mktemp("check")
    key_dir = work / "keys"
    user = getpass.getuser()
    keys = [{"domain": d, "selector": "mx1-ed25519", "key_type": "ed25519"} for d in (GOOD, BADKEY, SPF, STALE)]
    made = run_module("dkim_key", {"keys": keys, "key_dir": str(key_dir), "owner": user, "group": user})
    assert not made.get("failed"), made.get("msg")
    records = {k["domain"]: k["value"] for k in made["dkim_keys"]}
    other = ed25519.Ed25519PrivateKey.generate().public_key()
    other_p = base64.b64encode(other.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    with running_bind(work / "bind", cls=StaleBind) as bind:
        for domain, zone in ((GOOD, "example.test"), (BADKEY, "example.test"), (SPF, "example.net")):
            add_txt(
                bind,
                zone,
                domain,
                SPF_GOOD if domain != SPF else SPF_INCLUDE,
            )
            add_txt(bind, zone, "_dmarc." + domain, "v=DMARC1; p=reject")
            value = records[domain] if domain != BADKEY else "v=DKIM1; k=ed25519; p=%s" % other_p.decode()
            add_txt(bind, zone, "mx1-ed25519._domainkey." + domain, value)
        add_txt(bind, "example.net", INCLUDE, "v=spf1 %s -all" % " ".join("include:" + i for i in INCLUDES))
        for include in INCLUDES:
            add_txt(bind, "example.net", include, "v=spf1 -all")
        add_txt(bind, "example.org", STALE, SPF_OLD)
        add_txt(bind, "example.org", "_dmarc." + STALE, "v=DMARC1; p=reject")
        add_txt(bind, "example.org", "mx1-ed25519._domainkey." + STALE, records[STALE])
        for zone in ("example.test", "example.net", "example.org"):
            bind.wait_synced(zone)
        # The stale secondary: the primary serves the new SPF record, the secondary still the old one.
        bind.freeze("example.org")
        bind.nsupdate("delete %s." % STALE, zone="example.org")
        add_txt(bind, "example.org", STALE, SPF_GOOD)
        assert bind.txt(STALE) == [SPF_GOOD]
        assert bind.txt(STALE, bind.secondary) == [SPF_OLD]
        yield {"bind": bind, "work": work, "key_dir": key_dir, "user": user}


def run_check(lab, domains: list, name: str, check: bool = False) -> tuple[subprocess.CompletedProcess, Path]:
    report_dir = OUTPUT / name
    inventory = {
        "mailservers": {
            "hosts": {
                "mx1": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": sys.executable,
                    "ansible_become": False,
                    "opendkim_key_dir": str(lab["key_dir"]),
                    "mailauth_check_key_owner": lab["user"],
                    "mailauth_check_key_group": lab["user"],
                }
            },
            "vars": {
                "mailauth_domains": domains,
                "mailauth_dns_nameserver": lab["bind"].primary,
                "mailauth_dns_port": lab["bind"].port,
                "mailauth_check_report_dir": str(report_dir),
            },
        }
    }
    path = lab["work"] / ("%s.inventory.json" % name)
    path.write_text(json.dumps(inventory))
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCAL_TEMP": str(lab["work"] / "tmp"),
            "PATH": "%s:%s" % (VENV_BIN, env.get("PATH", "")),
        }
    )
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(path), str(PLAYBOOK)] + (["--check"] if check else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    return proc, report_dir


def key_files(lab) -> dict:
    paths = sorted(lab["key_dir"].rglob("*"))
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_mode, p.is_file() and p.read_bytes()) for p in paths}


def test_every_broken_domain_is_named_and_the_gate_fails(lab):
    before = key_files(lab)
    domains = [
        entry(GOOD, SPF_GOOD),
        entry(BADKEY, SPF_GOOD),
        entry(SPF, {"include": [INCLUDE], "all": "-all"}),
        entry(STALE, SPF_GOOD),
    ]
    proc, report_dir = run_check(lab, domains, "broken")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "3 of 4 domain(s) broken" in output
    for domain in (BADKEY, SPF, STALE):
        assert "%s: " % domain in output
    assert "%s: " % GOOD not in output
    report = json.loads((report_dir / "report.json").read_text())
    severity = {d["name"]: d["severity"] for d in report["domains"]}
    assert severity[BADKEY] == severity[SPF] == severity[STALE] == "error"
    assert severity[GOOD] in ("ok", "warning")
    by_name = {d["name"]: d for d in report["domains"]}
    codes = {
        name: sorted({p["code"] for p in d["problems"] if p["severity"] == "error"}) for name, d in by_name.items()
    }
    assert codes[BADKEY] == ["dkim-key-mismatch"]
    assert codes[SPF] == ["spf-lookup-limit"]
    assert by_name[SPF]["spf"]["lookups"] == 11
    assert codes[STALE] == ["spf-mismatch"]
    (stale,) = [p for p in by_name[STALE]["problems"] if p["severity"] == "error"]
    assert stale["message"].startswith("ns2.example.org (%s) serves SPF" % lab["bind"].secondary)
    assert by_name[GOOD]["selectors"][0]["key_match"] is True
    assert by_name[GOOD]["selectors"][0]["state"] == "active"
    text = (report_dir / "report.md").read_text() + (report_dir / "report.html").read_text()
    for domain in (GOOD, BADKEY, SPF, STALE):
        assert domain in text
    # Only public material: no private key in any report.
    assert "PRIVATE KEY" not in text + (report_dir / "report.json").read_text()
    assert key_files(lab) == before


def test_check_mode_writes_the_reports_and_nothing_else(lab):
    before = key_files(lab)
    proc, report_dir = run_check(lab, [entry(BADKEY, SPF_GOOD)], "check-mode", check=True)
    assert proc.returncode != 0, proc.stdout
    assert json.loads((report_dir / "report.json").read_text())["summary"]["error"] == 1
    assert key_files(lab) == before


def test_a_good_inventory_passes(lab):
    proc, report_dir = run_check(lab, [entry(GOOD, SPF_GOOD)], "good")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((report_dir / "report.json").read_text())
    assert report["broken"] == [] and report["summary"]["error"] == 0
    # A second run replaces the files (atomically, a new inode), it does not append to them.
    inode = (report_dir / "report.json").stat().st_ino
    proc, again = run_check(lab, [entry(GOOD, SPF_GOOD)], "good")
    assert proc.returncode == 0
    assert again == report_dir
    assert json.loads((report_dir / "report.json").read_text())["summary"] == report["summary"]
    assert (report_dir / "report.json").stat().st_ino != inode


CHROMIUM = shutil.which("chromium")
# Run inside a copy of the page only (the report itself has no script): opens every fold, then
# writes what the browser measured into the title, which --dump-dom prints.
PROBE = (
    "<script>document.querySelectorAll('details').forEach(function(d){d.open=true});"
    "document.title='W'+document.documentElement.scrollWidth+'x'+window.innerWidth+'S'"
    "+document.querySelectorAll('script').length;</script></body>"
)


def chromium(*args: str) -> subprocess.CompletedProcess:
    profile = OUTPUT / "chromium-profile"
    cmd = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1280,900"]
    cmd += ["--user-data-dir=%s" % profile, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (tests/gates/host-packages.sh)")
def test_the_html_report_in_a_real_browser_at_1280_px(lab):
    """The broken report, and the same with a hostile 2,000-character record, fit 1280 px; a screenshot."""
    proc, report_dir = run_check(lab, [entry(GOOD, SPF_GOOD), entry(STALE, SPF_GOOD)], "browser")
    assert proc.returncode != 0
    page = report_dir / "report.html"
    report = json.loads((report_dir / "report.json").read_text())
    hostile = "v=spf1 <script>alert(1)</script>" + "x" * 2000
    report["domains"][0]["spf"]["records"].append(hostile)
    report["domains"][0]["problems"].append(
        {"severity": "error", "check": "spf", "record": GOOD, "code": "spf-mismatch", "message": hostile}
    )
    stress = report_dir / "stress.html"
    stress.write_text(_check_render.to_html(report))
    shot = OUTPUT / "report-1280.png"
    shot.unlink(missing_ok=True)
    result = chromium("--hide-scrollbars", "--screenshot=%s" % shot, page.as_uri())
    assert shot.exists(), result.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1280, 900)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
        # Not blank: text and the coloured severity badges make many colours.
        assert colours is None or len(colours) > 20
        assert image.convert("RGB").getpixel((5, 5)) == (255, 255, 255)
    for html_file in (page, stress):
        probe = html_file.with_suffix(".probe.html")
        probe.write_text(html_file.read_text().replace("</body>", PROBE))
        dom = chromium(
            "--run-all-compositor-stages-before-draw", "--virtual-time-budget=3000", "--dump-dom", probe.as_uri()
        )
        measured = re.search(r"<title>W(\d+)x(\d+)S(\d+)</title>", dom.stdout)
        assert measured, dom.stdout[-2000:] + dom.stderr[-2000:]
        scroll_width, inner_width, scripts = (int(x) for x in measured.groups())
        assert inner_width == 1280
        assert scroll_width <= inner_width, "%s scrolls sideways: %d px wide" % (html_file.name, scroll_width)
        assert scripts == 1  # the probe's own: the record's <script> stayed text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in stress.read_text()
