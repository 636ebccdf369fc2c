#!/usr/bin/python
# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: dns_records
short_description: Publish SPF, DKIM, DMARC, MTA-STS and TLS-RPT TXT records through a DNS provider
version_added: 0.1.0
description:
  - Builds the TXT records of a list of mail domains from their declarative intent, lints them, plans
    every change against what the DNS provider holds, and applies the changes of each zone in the
    fewest calls (one RFC 2136 UPDATE, one PowerDNS PATCH, one Route53 change batch per zone, split
    only where a request would exceed the protocol's or the API's size limit).
  - Owns only its names. At the domain apex only the SPF value is managed; every other TXT value
    there (for example C(google-site-verification=...)) is kept. An existing SPF record is merged
    according to O(domains[].spf_merge); the result never holds two SPF records.
  - Values are compared semantically, so a record published as C("a" "b") equals C("ab") and is not
    rewritten. Values longer than 255 bytes (for example 4096-bit RSA DKIM keys) are split into
    character-strings automatically.
  - All input is validated and linted before anything is written; lint errors fail the task, lint
    warnings are returned. Every zone is changed atomically where the provider allows; when a provider
    fails during the run, the zones applied before it are reported and a re-run completes the work.
  - When the changes of one zone do not fit in one request (RFC 2136 - a DNS message holds at most
    64 KiB, roughly 100 domains with 2048-bit DKIM keys; Route53 - 1,000 records or 32,000 characters;
    Cloudflare - O(cloudflare.batch_size)), they are sent as several
    requests in order, and atomicity is per request. If a later request fails, the error says what was
    applied, the names are returned in RV(failed_zone_applied), and a re-run completes the work.
  - At a name shared with values the module does not manage, the existing TTL is kept.
  - Hostile or mistaken input fails before anything is read or written. Control characters (newline, tab,
    NUL, ...) are refused in every string; names are checked label by label with a full match, and every
    record name built from them (C(<selector>._domainkey.), C(_dmarc.), C(_mta-sts.), C(_smtp._tls.),
    C(._report._dmarc.)) must fit in 253 characters. A private key given in any option (for example as
    O(domains[].dkim[].public_key)) is refused, and masked wherever Ansible shows the arguments.
author:
  - mailauth.core maintainers (@mailauth)
requirements:
  - dnspython >= 2.3
  - cryptography (to read DKIM public keys)
extends_documentation_fragment:
  - mailauth.core.dns_providers
  - mailauth.core.domain_entry
attributes:
  check_mode:
    description: Plans and reads only; makes zero write calls.
    support: full
  diff_mode:
    description: Shows every changed name as zone-file text before and after.
    support: full
options:
  lint_dns:
    description:
      - Count the SPF DNS lookups (10-lookup and 2-void-lookup limits) through live DNS before publishing.
    type: bool
    default: true
  lint_nameserver:
    description: Send the lint lookups to this nameserver (an IP address) instead of the system resolver.
    type: str
  lint_port:
    description: Port of O(lint_nameserver).
    type: int
    default: 53
notes:
  - Check mode reads the provider and plans, and makes no write call.
  - RFC 2136 updates carry prerequisites (the RRset read before must still be there, or must not
    exist), so a concurrent change is detected and reported, never overwritten. When a zone's changes
    are split into several UPDATE messages (sent in order on one TCP connection, each after the answer
    to the one before), each message carries the prerequisites of the RRsets it changes.
  - RFC 2136 reads - when more than 20 names of one zone are needed, the zone is read with one zone
    transfer (AXFR) signed with the same TSIG key (grant it, for example BIND's
    C(allow-transfer { key "name"; };)); if the server refuses the transfer, the names are queried one
    by one (pipelined on one TCP connection).
seealso:
  - module: mailauth.core.mail_dns_info
  - module: mailauth.core.dkim_key
"""

EXAMPLES = r"""
- name: Publish SPF, DKIM and DMARC through BIND (RFC 2136)
  mailauth.core.dns_records:
    provider: rfc2136
    rfc2136:
      server: 192.0.2.53
      key_name: mailauth
      key_secret: "{{ vault_tsig_secret }}"
    domains:
      - name: example.test
        spf: {mechanisms: [mx], all: "-all"}
        dkim:
          - selector: mx1
            value: "{{ dkim.dkim_keys[0].value }}"
        dmarc: {p: reject, rua: [dmarc@example.test]}
  delegate_to: localhost
  run_once: true

- name: Show the plan for PowerDNS without changing anything
  mailauth.core.dns_records:
    provider: powerdns
    powerdns:
      api_url: http://127.0.0.1:8081
      api_key: "{{ vault_pdns_api_key }}"
    domains: "{{ mailauth_domains }}"
  check_mode: true
  diff: true
  register: dns_plan

- name: Write zone snippets for a DNS run elsewhere
  mailauth.core.dns_records:
    provider: zonefile
    zonefile:
      path: /srv/dns-export
    domains:
      - name: example.test
        spf: {mechanisms: [mx], all: "~all"}
"""

RETURN = r"""
records:
  description: Every record set the module manages, with the values it manages there.
  returned: success
  type: list
  elements: dict
  contains:
    domain:
      description: The mail domain of the entry.
      type: str
      sample: example.test
    kind:
      description: What the record is, V(spf), V(dkim), V(dmarc), V(report), V(mta_sts) or V(tls_rpt).
      type: str
      sample: dkim
    zone:
      description: The zone that holds it.
      type: str
      sample: example.test
    name:
      description: Absolute name, without the trailing dot.
      type: str
      sample: mx1._domainkey.example.test
    type:
      description: Record type.
      type: str
      sample: TXT
    ttl:
      description: TTL.
      type: int
      sample: 3600
    state:
      description: The entry's state.
      type: str
      sample: present
    values:
      description: The logical TXT values the module manages at the name (character-strings joined).
      type: list
      elements: str
      sample: ["v=DMARC1; p=reject; rua=mailto:dmarc@example.test"]
    changed:
      description: Whether the name changes (changed) in this run.
      type: bool
      sample: false
plan:
  description: The changes, one per name (empty when nothing changes).
  returned: success
  type: list
  elements: dict
  contains:
    zone:
      description: The zone.
      type: str
      sample: example.test
    name:
      description: The name.
      type: str
      sample: example.test
    type:
      description: Record type.
      type: str
      sample: TXT
    action:
      description: V(create), V(update) or V(delete).
      type: str
      sample: update
    before:
      description: The whole RRset before (name, type, ttl, values), or null.
      type: dict
      sample: {"name": "example.test", "type": "TXT", "ttl": 300, "values": ["google-site-verification=abc"]}
    after:
      description: The whole RRset after, or null.
      type: dict
      sample: {"name": "example.test", "type": "TXT", "ttl": 300,
               "values": ["google-site-verification=abc", "v=spf1 mx -all"]}
lint:
  description: Lint findings (errors fail the task before any write; warnings are also shown as warnings).
  returned: always
  type: list
  elements: dict
  sample: [{"severity": "warning", "record": "mx1._domainkey.example.test", "code": "dkim-key-1024",
            "message": "a 1024-bit RSA key is weak; use 2048"}]
applied_zones:
  description: Zones written in this run (in check mode none).
  returned: always
  type: list
  elements: str
  sample: [example.test]
failed_zone:
  description:
    - The zone whose change failed. Zones in RV(applied_zones) were changed completely; this one was not
      changed, except the names in RV(failed_zone_applied).
  returned: failure
  type: str
  sample: example.org
failed_zone_applied:
  description:
    - Names of RV(failed_zone) already changed before the failure, when its changes needed several
      requests (atomicity is per request), whatever the provider; empty otherwise.
      A re-run completes the work.
  returned: failure
  type: list
  elements: str
  sample: [example.org, _dmarc.example.org]
api_calls:
  description: API round trips made, V(read) and V(write) (zero V(write) in check mode).
  returned: always
  type: dict
  sample: {"read": 2, "write": 1}
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.mailauth.core.plugins.module_utils import (
    _deps,
    _entries,
    _lint,
    _names,
    _plan,
    _providers,
    _resolver,
    _schema,
)
from ansible_collections.mailauth.core.plugins.module_utils._module import KeySafeModule
from ansible_collections.mailauth.core.plugins.module_utils._provider import ProviderError


def argument_spec() -> dict:
    return dict(
        **_schema.entry_argument_spec(),
        **_providers.argument_spec(),
        lint_dns=dict(type="bool", default=True),
        lint_nameserver=dict(type="str"),
        lint_port=dict(type="int", default=53),
    )


def _clean(value):
    """Drop the None suboptions Ansible fills in, so the record model sees only what was given."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def main() -> None:
    module = KeySafeModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_if=_providers.required_if(),
    )
    module.refuse_private_keys()
    params = module.params
    name = params["provider"]
    result = dict(changed=False, records=[], plan=[], lint=[], applied_zones=[], api_calls={"read": 0, "write": 0})

    # 1. validate all input: nothing is read or written before this passes
    try:
        items = _entries.desired_items(_clean(params["domains"]))
    except _names.RecordError as exc:
        module.fail_json(msg="invalid input: %s" % exc, **result)

    # 2. lint: errors fail before any write, warnings are returned
    lookup = None
    if params["lint_dns"]:
        try:
            lookup = _resolver.DnsLookup(params["lint_nameserver"], params["lint_port"])
        except _resolver.LookupFailure as exc:
            module.fail_json(msg="lint: %s" % exc, **result)
    findings = _lint.lint_desired(items, lookup)
    result["lint"] = findings
    if _lint.has_errors(findings):
        module.fail_json(msg="lint errors, nothing was changed: %s" % _lint.format_findings(findings), **result)
    for item in findings:
        module.warn("%s: %s (%s)" % (item["record"], item["message"], item["code"]))

    # 3. plan (reads only)
    provider = None
    try:
        provider = _providers.get_provider(name, params.get(name) or {})
        plan = _plan.build_plan(provider, items)
    except _deps.MissingLibrary as exc:
        module.fail_json(msg=missing_required_lib(exc.library), exception=exc.traceback, **result)
    except (ProviderError, _names.RecordError) as exc:
        if provider is not None:
            result["api_calls"] = {"read": provider.calls["read"], "write": provider.calls["write"]}
        module.fail_json(msg="%s; nothing was changed" % exc, **result)

    result["records"] = plan.records
    result["plan"] = plan.entries
    result["changed"] = bool(plan.entries)
    if module._diff:
        result["diff"] = _plan.diff_for(plan)

    # 4. apply, zone by zone (never in check mode)
    if not module.check_mode:
        for zone, changes in plan.changes.items():
            try:
                provider.apply(zone, changes)
            except ProviderError as exc:
                result["api_calls"] = {"read": provider.calls["read"], "write": provider.calls["write"]}
                result["changed"] = bool(result["applied_zones"]) or bool(exc.applied)
                done = ", ".join(result["applied_zones"]) or "none"
                module.fail_json(
                    msg="%s (zones already changed in this run: %s; re-run to complete the work)" % (exc, done),
                    failed_zone=zone,
                    failed_zone_applied=list(exc.applied),
                    **result,
                )
            result["applied_zones"].append(zone)
    result["api_calls"] = {"read": provider.calls["read"], "write": provider.calls["write"]}
    provider.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
