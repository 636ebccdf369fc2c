# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Generic backend on dns-lexicon 3.x: every DNS provider lexicon supports (Hetzner, OVH, Gandi, ...).

Lexicon works record by record, so this is the fallback, not the fast path:

* Zones: the longest candidate (the name, then its parents) whose lexicon ``authenticate()``
  succeeds, unless the entry gives its ``zone``. Lexicon's own zone guess (tldextract, which
  downloads the public suffix list, or live DNS) is never used.
* Reads: one ``list_records(type)`` per zone.
* Writes: one lexicon call per TXT value that goes or comes (``delete_record`` with the content
  as read, ``create_record``); a TTL change rewrites the values of its name. A failure reports the
  names already changed (``send_in_order``), and a re-run completes the work.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _deps, _input, _txt
from ansible_collections.mailauth.core.plugins.module_utils._provider import (
    Change,
    Provider,
    ProviderError,
    RecordSet,
    RequestError,
    normalize_name,
    option,
    send_in_order,
)

REQUIREMENTS = ("lexicon.config", "lexicon._private.discovery")
LIBRARIES = {"lexicon": "dns-lexicon>=3.17,<4"}
# A lexicon provider name, and the names of its options (lexicon's own, such as auth_token).
_PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_OPTION_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_MASK = "********"


class LexiconProvider(Provider):
    """Any provider of dns-lexicon, one record at a time."""

    name = "lexicon"
    DESCRIPTION = (
        "Any DNS provider dns-lexicon 3.x supports (Hetzner, OVH, Gandi, DigitalOcean, Google Cloud DNS, Azure, ...), "
        "record by record - the fallback when no native backend exists."
    )
    BATCHING = "One lexicon call per TXT value created or deleted (no batching, no atomicity per zone)."
    REQUIREMENTS = REQUIREMENTS
    LIBRARIES = LIBRARIES
    FALLBACK = True
    OPTIONS: t.ClassVar[dict] = {
        "provider_name": option(
            "str", "The lexicon provider, for example V(hetzner), V(ovh), V(gandi) or V(powerdns).", required=True
        ),
        "credentials": option(
            "dict",
            [
                "The secret options of that lexicon provider (tokens, passwords), named as lexicon names them with"
                " C(_) for C(-), for example C(auth_token) for V(hetzner) or V(powerdns).",
                "Values are strings; they are masked in every message and in Ansible's output.",
            ],
            no_log=True,
            default={},
        ),
        "settings": option(
            "dict",
            [
                "The other options of that lexicon provider, for example C(pdns_server) and C(pdns_server_id) for"
                " V(powerdns) or C(auth_entrypoint) for V(ovh). Values are strings.",
            ],
            default={},
        ),
        "split_txt": option(
            "bool",
            [
                "Send a TXT value longer than 255 bytes as character-strings of at most 255 bytes joined by"
                ' C(" "), for providers that put the content between quotes themselves (such as V(powerdns)).',
                "Off, the value is sent as one string and the provider's API must split it.",
            ],
            default=False,
        ),
    }

    def __init__(self, options: dict | None = None) -> None:
        super().__init__(options)
        _deps.need(*REQUIREMENTS, libraries=LIBRARIES)
        opts = self.options
        try:
            self.provider_name = _input.match(
                _PROVIDER_NAME, opts.get("provider_name"), "lexicon.provider_name", "a lexicon provider name"
            )
            self.credentials = self._strings(opts.get("credentials"), "credentials")
            self.settings = self._strings(opts.get("settings"), "settings")
        except _input.InputError as exc:
            raise ProviderError(str(exc)) from None
        self.split_txt = bool(opts.get("split_txt"))
        discovery = _deps.load("lexicon._private.discovery")
        available = discovery.find_providers()
        if self.provider_name not in available:
            raise ProviderError("lexicon has no provider %r" % self.provider_name)
        if not available[self.provider_name]:
            raise ProviderError(
                "the lexicon provider %s needs extra libraries: install dns-lexicon[%s]"
                % (self.provider_name, self.provider_name)
            )
        self._class = discovery.load_provider_module(self.provider_name).Provider
        self._clients: dict[str, t.Any] = {}
        # zone -> lexicon's runtime options (the TTL of the next create)
        self._runtime: dict[str, dict] = {}
        # (zone, name, rtype) -> {logical value: content as read}
        self._raw: dict[tuple[str, str, str], dict[str, str]] = {}

    @staticmethod
    def _strings(value: t.Any, field: str) -> dict[str, str]:
        """A dict of lexicon option names to strings, validated (raises InputError)."""
        if not isinstance(value or {}, dict):
            raise _input.InputError("lexicon.%s must be a dict" % field)
        out = {}
        for key, item in (value or {}).items():
            _input.match(_OPTION_NAME, key, "lexicon.%s" % field, "a lexicon option name")
            out[key] = _input.text(item, "lexicon.%s.%s" % (field, key), scalars=True)
        return out

    # -- lexicon --------------------------------------------------------------------------
    def _error(self, exc: Exception, what: str) -> str:
        """A message for a lexicon failure, with every credential masked."""
        text = "lexicon (%s) failed to %s: %s: %s" % (self.provider_name, what, type(exc).__name__, exc)
        for value in self.credentials.values():
            if value:
                text = text.replace(value, _MASK)
        return text

    def _provider_options(self) -> dict[str, str]:
        options = dict(self.settings)
        options.update(self.credentials)
        return options

    def _client(self, zone: str, kind: str = "read") -> t.Any:
        """The authenticated lexicon provider of ``zone`` (one ``authenticate`` per zone)."""
        if zone in self._clients:
            return self._clients[zone]
        config_module = _deps.load("lexicon.config")
        runtime = {"ttl": 3600}
        config = config_module.ConfigResolver().with_dict(
            {"provider_name": self.provider_name, "domain": zone, self.provider_name: self._provider_options()}
        )
        config.add_config_source(config_module.DictConfigSource(runtime), 0)
        client = self._class(config)
        self.count(kind)
        client.authenticate()
        self._clients[zone] = client
        self._runtime[zone] = runtime
        return client

    # -- zones ----------------------------------------------------------------------------
    def find_zone(self, name: str) -> str:
        """The longest of ``name`` and its parents that lexicon can authenticate as a zone."""
        zone, tried = self.find_zone_upward(name, self._probe)
        if zone is None:
            raise ProviderError(
                "no zone found for %s at lexicon provider %s (%s)"
                % (normalize_name(name), self.provider_name, tried[-1][1] if tried else "no candidate")
            )
        return zone

    def _probe(self, candidate: str) -> str | None:
        """None when lexicon authenticates ``candidate`` as a zone, else the error."""
        try:
            self._client(candidate)
        except Exception as exc:
            return self._error(exc, "open zone %s" % candidate)
        return None

    # -- records --------------------------------------------------------------------------
    def _value(self, rtype: str, content: str) -> str:
        """Lexicon ``content`` as a logical value (TXT: outer quotes off, split strings joined)."""
        if rtype != "TXT":
            return content
        text = content or ""
        for candidate in (text, '"%s"' % text):
            if candidate.startswith('"') and candidate.endswith('"') and len(candidate) > 1:
                try:
                    return _txt.from_zone_text(candidate)
                except _txt.TxtError:
                    continue
        return text

    def _content(self, rtype: str, value: str) -> str:
        """A logical value as lexicon ``content``."""
        if rtype != "TXT" or not self.split_txt or len(value.encode("utf-8")) <= _txt.MAX_STRING:
            return value
        return _txt.to_zone_text(value)[1:-1]

    def get_rrsets(self, zone: str, names: list[str], rtype: str = "TXT") -> dict[str, RecordSet]:
        """One ``list_records(type)`` for the zone, filtered to ``names``."""
        zone = normalize_name(zone)
        rtype = rtype.upper()
        wanted = {normalize_name(n) for n in names}
        try:
            client = self._client(zone)
            self.count("read")
            records = client.list_records(rtype, None, None)
        except Exception as exc:
            raise ProviderError(self._error(exc, "read the %s records of %s" % (rtype, zone)), zone=zone) from None
        found: dict[str, RecordSet] = {}
        for record in records:
            name = normalize_name(str(record.get("name", "")))
            if name not in wanted or str(record.get("type", "")).upper() != rtype:
                continue
            content = str(record.get("content", ""))
            value = self._value(rtype, content)
            ttl = int(record.get("ttl") or 3600)
            if name in found:
                found[name].values.append(value)
                found[name].ttl = min(found[name].ttl, ttl)
            else:
                found[name] = RecordSet(name, rtype, ttl, [value])
            self._raw.setdefault((zone, name, rtype), {}).setdefault(value, content)
        return found

    def _operations(self, zone: str, change: Change) -> list[tuple[str, str]]:
        """The lexicon calls of one change: (``delete`` or ``create``, content), deletes first."""
        rtype = change.rtype
        raw = self._raw.get((zone, change.name, rtype), {})
        before = list(change.before.values) if change.before is not None else []
        after = list(change.after.values) if change.after is not None else []
        ttl_changes = change.before is not None and change.after is not None and change.before.ttl != change.after.ttl
        if ttl_changes:
            gone, new = before, after
        else:
            gone = [v for v in before if not any(_txt.txt_equal(v, w) for w in after)]
            new = [w for w in after if not any(_txt.txt_equal(v, w) for v in before)]
        ops = [("delete", raw.get(v, self._content(rtype, v))) for v in gone]
        return ops + [("create", self._content(rtype, w)) for w in new]

    def apply(self, zone: str, changes: list[Change]) -> None:
        """Each change's values deleted and created one by one, change after change."""
        zone = normalize_name(zone)
        if not changes:
            return
        client = self._client(zone, "write")

        def send(_number: int, change: Change) -> None:
            if change.after is not None:
                self._runtime[zone]["ttl"] = change.after.ttl
            for done, (action, content) in enumerate(self._operations(zone, change)):
                self.count("write")
                try:
                    if action == "delete":
                        client.delete_record(None, change.rtype, change.name, content)
                    else:
                        client.create_record(change.rtype, change.name, content)
                except Exception as exc:
                    raise RequestError(
                        self._error(exc, "%s a %s record at %s" % (action, change.rtype, change.name)),
                        unsure=done > 0,
                    ) from None
            self._raw.pop((zone, change.name, change.rtype), None)

        head = "lexicon (%s): change of zone %s failed" % (self.provider_name, zone)
        send_in_order(zone, changes, send, lambda change: [change.name], head, "record change")
