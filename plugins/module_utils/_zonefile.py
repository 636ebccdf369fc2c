# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Zone-file provider: no API, for DNS run elsewhere ("external DNS").

For every zone it keeps two files in the directory ``path``:

- ``<zone>.zone``: a BIND zone snippet (``$ORIGIN <zone>.`` and the records) to ``$INCLUDE``
  in the real zone or to paste into a DNS hoster's import form. It is the source of truth:
  records added there by hand (other names, other types, foreign TXT values) are read and kept.
- ``<zone>.json``: the same records as a JSON list, for tools that publish them elsewhere.

Files are written atomically (temporary file + rename) and only when their content changes.
The zone of a domain is the longest ``<zone>.zone`` file that holds it, else the domain itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _deps, _input
from ansible_collections.mailauth.core.plugins.module_utils._provider import (
    Change,
    Provider,
    ProviderError,
    RecordSet,
    normalize_name,
    option,
    relative_name,
    send_in_order,
    zone_for,
)
from ansible_collections.mailauth.core.plugins.module_utils._txt import from_wire_strings, to_zone_text

# dnspython, loaded through _deps (None when missing; ZonefileProvider() then raises MissingLibrary).
REQUIREMENTS = ("dns.exception", "dns.name", "dns.rdata", "dns.rdataclass", "dns.rdatatype", "dns.zone")
LIBRARIES = {"dns": "dnspython>=2.3"}
dns = _deps.load("dns") if not _deps.missing(*REQUIREMENTS) else None

HEADER = "; Managed by mailauth.core.dns_records (provider zonefile). Records added by hand are kept.\n"

NAME_MAX = 255  # the longest file name Linux file systems take


class ZonefileProvider(Provider):
    """Writes ``<path>/<zone>.zone`` (BIND snippet) and ``<path>/<zone>.json``."""

    name = "zonefile"
    DESCRIPTION = "No API; writes C(<zone>.zone) and C(<zone>.json) files."
    BATCHING = "Each zone's two files are rewritten once per run, atomically (temporary file and rename)."
    REQUIREMENTS = REQUIREMENTS
    LIBRARIES = LIBRARIES
    OPTIONS: t.ClassVar[dict] = {
        "path": option("path", "The directory for the files.", required=True),
    }

    def __init__(self, options: dict | None = None) -> None:
        _deps.need(*REQUIREMENTS, libraries=LIBRARIES)
        super().__init__(options)
        path = self.options.get("path")
        if not path:
            raise ProviderError("zonefile: the option path (a directory) is required")
        try:
            _input.text(path, "zonefile.path")
        except _input.InputError as exc:
            raise ProviderError(str(exc)) from None
        self.path = os.path.abspath(os.path.expanduser(str(path)))
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ProviderError("zonefile: path %s exists and is not a directory" % self.path)
        # zone -> {(name, rtype): (ttl, [presentation texts])}
        self._records: dict[str, dict] = {}

    def files(self, zone: str) -> tuple[str, str]:
        """The snippet and JSON file of ``zone``."""
        zone = normalize_name(zone)
        if len(zone + ".zone") > NAME_MAX:
            raise ProviderError(
                "zonefile: the zone name %s is too long for a file name (%s.zone would be %d characters, at most %d)"
                % (zone, zone, len(zone) + 5, NAME_MAX),
                zone=zone,
            )
        return os.path.join(self.path, zone + ".zone"), os.path.join(self.path, zone + ".json")

    # -- zones ----------------------------------------------------------------------------
    def list_zones(self) -> list[str]:
        self.count("read")
        try:
            entries = os.listdir(self.path)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ProviderError("zonefile: cannot list %s: %s" % (self.path, exc.strerror)) from None
        return [normalize_name(e[: -len(".zone")]) for e in entries if e.endswith(".zone")]

    def find_zone(self, name: str) -> str:
        name = normalize_name(name)
        if self._zones is None:
            self._zones = self.list_zones()
        return zone_for(name, self._zones) or name

    # -- reading --------------------------------------------------------------------------
    def _load(self, zone: str) -> dict:
        if zone in self._records:
            return self._records[zone]
        snippet, _json = self.files(zone)
        records: dict = {}
        self.count("read")
        try:
            with open(snippet, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            text = None
        except OSError as exc:
            raise ProviderError("zonefile: cannot read %s: %s" % (snippet, exc.strerror), zone=zone) from None
        if text is not None:
            try:
                parsed = dns.zone.from_text(text, origin=zone + ".", relativize=False, check_origin=False)
            except (dns.exception.DNSException, ValueError) as exc:
                raise ProviderError(
                    "zonefile: %s is not a valid zone snippet: %s" % (snippet, exc), zone=zone
                ) from None
            for owner, node in parsed.nodes.items():
                name = owner.to_text(omit_final_dot=True).lower()
                for rdataset in node.rdatasets:
                    rtype = dns.rdatatype.to_text(rdataset.rdtype)
                    texts = [rdata.to_text() for rdata in rdataset]
                    records[(name, rtype)] = (rdataset.ttl, texts)
        self._records[zone] = records
        return records

    @staticmethod
    def _value(text: str, rtype: str) -> str:
        if rtype != "TXT":
            return text
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, text)
        return from_wire_strings(rdata.strings)

    def get_rrsets(self, zone: str, names: list[str], rtype: str = "TXT") -> dict[str, RecordSet]:
        zone = normalize_name(zone)
        rtype = rtype.upper()
        records = self._load(zone)
        result = {}
        for name in {normalize_name(n) for n in names}:
            entry = records.get((name, rtype))
            if entry:
                ttl, texts = entry
                result[name] = RecordSet(name, rtype, ttl, [self._value(x, rtype) for x in texts])
        return result

    # -- writing --------------------------------------------------------------------------
    def render(self, zone: str, records: dict) -> tuple[str, str]:
        """The snippet and JSON text for ``records`` of ``zone``."""
        lines = [HEADER, "$ORIGIN %s.\n" % zone]
        items = []
        for (name, rtype), (ttl, texts) in sorted(records.items(), key=lambda kv: (kv[0][0] != zone, kv[0])):
            owner = relative_name(name, zone)
            for text in texts:
                lines.append("%s %d IN %s %s\n" % (owner, ttl, rtype, text))
            item = {"zone": zone, "name": name, "type": rtype, "ttl": ttl, "records": list(texts)}
            if rtype == "TXT":
                item["values"] = [self._value(x, rtype) for x in texts]
            items.append(item)
        return "".join(lines), json.dumps(items, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def _write(self, path: str, content: str, zone: str) -> bool:
        try:
            with open(path, encoding="utf-8") as handle:
                if handle.read() == content:
                    return False
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ProviderError("zonefile: cannot read %s: %s" % (path, exc.strerror), zone=zone) from None
        directory = os.path.dirname(path)
        # A short prefix: a temporary name built from a 250-character zone name would be too long.
        fd, tmp = tempfile.mkstemp(prefix=".zonefile-tmp.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            if os.path.exists(path):
                os.chmod(tmp, os.stat(path).st_mode & 0o7777)
            else:
                os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise ProviderError("zonefile: cannot write %s: %s" % (path, exc.strerror), zone=zone) from None
        self.count("write")
        return True

    def apply(self, zone: str, changes: list[Change]) -> None:
        zone = normalize_name(zone)
        if not changes:
            return
        records = dict(self._load(zone))
        for change in changes:
            name = change.name
            if not (name == zone or name.endswith("." + zone)):
                raise ProviderError("zonefile: %s is not in zone %s" % (name, zone), zone=zone)
            key = (name, change.rtype)
            if change.after is None:
                records.pop(key, None)
                continue
            old = {}
            if key in records:
                for text in records[key][1]:
                    old.setdefault(self._value(text, change.rtype), text)
            texts = []
            for value in change.after.values:
                if value in old:
                    texts.append(old[value])
                elif change.rtype == "TXT":
                    texts.append(to_zone_text(value))
                else:
                    texts.append(value)
            records[key] = (change.after.ttl, texts)
        snippet, json_path = self.files(zone)  # a name that cannot be a file fails before the directory is made
        try:
            os.makedirs(self.path, exist_ok=True)
        except OSError as exc:
            raise ProviderError("zonefile: cannot create %s: %s" % (self.path, exc.strerror), zone=zone) from None
        snippet_text, json_text = self.render(zone, records)
        # The snippet is the source of truth: written first, so a failure before the JSON
        # write leaves a re-run to complete the work, and the error names what the snippet changed.
        names = sorted({c.name for c in changes})
        send_in_order(
            zone,
            [(snippet, snippet_text), (json_path, json_text)],
            lambda _number, write: self._write(write[0], write[1], zone),
            lambda write: names if write[0] == snippet else [],
            "zonefile: update of zone %s failed" % zone,
            "file",
        )
        self._records[zone] = records
