#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mail_dns_info
short_description: Read and lint the SPF, DKIM, DMARC, MTA-STS and TLS-RPT records live DNS serves
version_added: 0.1.0
description:
  - For a list of mail domains, queries live DNS and returns the SPF, DMARC, DKIM, MTA-STS and TLS-RPT records found,
    lint findings (RFC 7208, RFC 7489 and RFC 9989, RFC 6376 and RFC 8301), the number of DNS lookups SPF
    evaluation needs (includes and redirects followed), and whether each given DKIM public key is the one published.
  - Queries the system resolver, or one given O(nameserver), or with O(all_authoritative=true) every
    authoritative nameserver of each domain's zone (found through its NS records) directly, and reports
    servers that serve different values.
  - With O(wait=true) it first waits until the expected values (O(domains[].spf), O(domains[].dmarc),
    O(domains[].dkim), O(domains[].mta_sts), O(domains[].tls_rpt)) are served by every queried server,
    for at most O(wait_timeout) seconds. This is
    the "publish, then wait, then sign" step between M(mailauth.core.dns_records) and enabling DKIM signing.
  - Never changes anything.
  - Control characters are refused in every string, names are checked with a full match and derived names
    must fit in 253 characters. A private key given in any option (for example as O(domains[].dkim[].public_key))
    is refused, and masked wherever Ansible shows the arguments. An expected O(domains[].spf) may end in
    V(+all) (it is only compared with what DNS serves; lint reports it).
author:
  - mailauth.core maintainers (@mailauth)
requirements:
  - dnspython
  - cryptography
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads DNS; check mode changes nothing about what it does.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  domains:
    description:
      - The mail domains to inspect.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The mail domain. SPF is read at the domain, DMARC at C(_dmarc.<name>).
          - Labels may hold underscores, so that an include or redirect target (C(_spf.example.com)) can be linted.
        type: str
        required: true
      spf:
        description:
          - The expected SPF record, either the complete value (C(v=spf1 ...)) or the same dictionary
            M(mailauth.core.dns_records) takes (C(mechanisms), C(ip4), C(ip6), C(include), C(redirect), C(all)).
          - Compared semantically (white space, case of mechanism names). Sets RV(domains[].spf.match).
        type: raw
      dmarc:
        description:
          - The expected DMARC record, a complete value (C(v=DMARC1; p=...)) or the dictionary
            M(mailauth.core.dns_records) takes (C(p), C(sp), C(rua), ...). Sets RV(domains[].dmarc.match).
        type: raw
      mta_sts:
        description:
          - The expected MTA-STS record at C(_mta-sts.<name>), a complete value (C(v=STSv1; id=...)), the policy id,
            or the dictionary M(mailauth.core.dns_records) takes (C(id) or C(value)). Sets RV(domains[].mta_sts.match).
          - The record is read and linted (RFC 8461 3.1) whether or not this is given; a missing record is an error
            only when it is given.
        type: raw
      tls_rpt:
        description:
          - The expected TLS-RPT record at C(_smtp._tls.<name>), a complete value (C(v=TLSRPTv1; rua=...)), a list of
            report addresses or https URLs, or the dictionary M(mailauth.core.dns_records) takes (C(rua) or C(value)).
            Sets RV(domains[].tls_rpt.match).
          - The record is read and linted (RFC 8460 3) whether or not this is given; a missing record is an error only
            when it is given.
        type: raw
      dkim:
        description:
          - DKIM selectors to read at C(<selector>._domainkey.<name>).
        type: list
        elements: dict
        default: []
        suboptions:
          selector:
            description:
              - The selector.
            type: str
            required: true
          public_key:
            description:
              - The public key that should be published, PEM or base64 (as M(mailauth.core.dkim_key) returns it).
                Sets RV(domains[].dkim[].public_key_match).
            type: str
          value:
            description:
              - The complete record value that should be published. Sets RV(domains[].dkim[].value_match).
            type: str
          revoked:
            description:
              - The selector should be served revoked (C(p=) empty, RFC 6376 3.6.1), as
                O(mailauth.core.dns_records#module:domains[].dkim[].revoked) publishes it. O(wait) waits until
                every queried server serves only a revoked record; a key served there is the lint error
                C(dkim-not-revoked). Sets RV(domains[].dkim[].revoked_match).
            type: bool
            default: false
          key_type:
            description:
              - The key type of a revoked selector (ignored otherwise).
            type: str
            choices: [rsa, ed25519]
          absent:
            description:
              - The selector should have no record (removed after a rotation). O(wait) waits until no queried
                server serves one (as C(playbooks/rotate_dkim.yml) does after removing a retired selector).
            type: bool
            default: false
  nameserver:
    description:
      - Send every query to this nameserver (an IP address) instead of the system resolver.
      - With O(all_authoritative=true) it is used only to find the zones and their nameservers.
    type: str
  port:
    description:
      - The port of O(nameserver) and of the authoritative nameservers.
    type: int
    default: 53
  all_authoritative:
    description:
      - Query every authoritative nameserver of each domain's zone directly (NS records, then their
        addresses), without recursion, and compare their answers.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for one DNS answer.
    type: float
    default: 5.0
  lint:
    description:
      - Lint the records found and count SPF lookups.
    type: bool
    default: true
  wait:
    description:
      - Wait until every queried server serves the expected values before reading and linting.
      - Without O(all_authoritative) or O(nameserver) the system resolver is polled, whose caches may hide
        a change for up to the record's TTL; prefer O(all_authoritative=true).
    type: bool
    default: false
  wait_timeout:
    description:
      - At most this many seconds in total for O(wait). The task fails when a value is still missing
        then, naming each server and record.
    type: int
    default: 300
  wait_interval:
    description:
      - Seconds between two polls.
    type: float
    default: 2.0
notes:
  - Lint findings do not fail the task; check RV(error_count) or RV(findings).
  - A DMARC report address in another domain is checked for its C(<domain>._report._dmarc.<report domain>)
    authorisation record.
seealso:
  - module: mailauth.core.dns_records
  - module: mailauth.core.dkim_key
"""

EXAMPLES = r"""
- name: Read and lint what DNS serves for two domains
  mailauth.core.mail_dns_info:
    domains:
      - name: example.org
        dkim:
          - selector: mx1
      - name: example.net
  register: mail_dns

- name: Fail on lint errors
  ansible.builtin.assert:
    that: mail_dns.error_count == 0
    fail_msg: "{{ mail_dns.findings | selectattr('severity', 'equalto', 'error') | map(attribute='message') | list }}"

- name: Publish, then wait until every authoritative nameserver serves the new DKIM key, then sign
  mailauth.core.mail_dns_info:
    domains:
      - name: example.org
        dkim:
          - selector: "{{ inventory_hostname_short }}"
            public_key: "{{ dkim.keys[0].public_key }}"
        spf: "v=spf1 mx -all"
        dmarc:
          p: reject
          rua: [dmarc@example.org]
    all_authoritative: true
    wait: true
    wait_timeout: 600
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
domains:
  description: One entry per domain, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The domain (lower case, ASCII).
      type: str
      sample: example.org
    zone:
      description: The zone of the domain (with O(all_authoritative=true)).
      type: str
      returned: when O(all_authoritative=true)
    nameservers:
      description: The authoritative nameservers queried, names and addresses.
      type: list
      elements: dict
      returned: when O(all_authoritative=true)
      sample: [{name: ns1.example.org, address: 192.0.2.53}]
    spf:
      description: The SPF records at the domain, the expected value, whether it matches, and the lookup count.
      type: dict
      contains:
        name:
          description: The name queried (the domain).
          type: str
        records:
          description: The SPF records found (TXT values starting with C(v=spf1)); other TXT values are left out.
          type: list
          elements: str
        expected:
          description: The expected value as built from O(domains[].spf); null when none was given.
          type: str
        match:
          description: Whether exactly one SPF record is served and it means the expected value; null without one.
          type: bool
        lookups:
          description:
            - DNS lookups SPF evaluation needs (RFC 7208 limit 10), includes and redirects followed.
            - Null without lint.
          type: int
        void_lookups:
          description:
            - Lookups that find nothing (RFC 7208 limit 2), counted per client address family as a receiver counts
              them (an empty A answer of an C(a) term or of an C(mx) host is void for IPv4 clients, an empty AAAA one
              for IPv6 clients); the larger of the two counts.
          type: int
        lookup_chain:
          description: "Each term that costs a lookup, as C(<record>: <term>), in evaluation order."
          type: list
          elements: str
      sample:
        name: example.org
        records: ["v=spf1 mx include:_spf.example.net -all"]
        expected: "v=spf1 mx include:_spf.example.net -all"
        match: true
        lookups: 3
        void_lookups: 0
        lookup_chain: ["example.org: mx", "example.org: include:_spf.example.net", "_spf.example.net: a"]
    dmarc:
      description: The DMARC records at C(_dmarc.<domain>), the expected value and whether it matches.
      type: dict
      contains:
        name:
          description: The name queried.
          type: str
        records:
          description: The DMARC records found.
          type: list
          elements: str
        expected:
          description: The expected value as built from O(domains[].dmarc); null when none was given.
          type: str
        match:
          description: Whether exactly one DMARC record is served and it means the expected value; null without one.
          type: bool
      sample: {name: _dmarc.example.org, records: ["v=DMARC1; p=reject"], expected: null, match: null}
    mta_sts:
      description: The MTA-STS records at C(_mta-sts.<domain>), the expected value and whether it matches.
      type: dict
      contains:
        name:
          description: The name queried.
          type: str
        records:
          description: The MTA-STS records found (TXT values whose first tag is C(v=STSv1)).
          type: list
          elements: str
        expected:
          description: The expected value as built from O(domains[].mta_sts); null when none was given.
          type: str
        match:
          description: Whether exactly one MTA-STS record is served and it means the expected value; null without one.
          type: bool
      sample:
        {name: _mta-sts.example.org, records: ["v=STSv1; id=20260101"], expected: "v=STSv1; id=20260101", match: true}
    tls_rpt:
      description: The TLS-RPT records at C(_smtp._tls.<domain>), the expected value and whether it matches.
      type: dict
      contains:
        name:
          description: The name queried.
          type: str
        records:
          description: The TLS-RPT records found (TXT values whose first tag is C(v=TLSRPTv1)).
          type: list
          elements: str
        expected:
          description: The expected value as built from O(domains[].tls_rpt); null when none was given.
          type: str
        match:
          description: Whether exactly one TLS-RPT record is served and it means the expected value; null without one.
          type: bool
      sample:
        {name: _smtp._tls.example.org, records: ["v=TLSRPTv1; rua=mailto:tls@example.org"], expected: null, match: null}
    dkim:
      description: One entry per selector.
      type: list
      elements: dict
      contains:
        selector:
          description: The selector.
          type: str
        name:
          description: The record name.
          type: str
        records:
          description: The TXT values at the name.
          type: list
          elements: str
        key_type:
          description: C(rsa) or C(ed25519), read from the published key.
          type: str
        key_size:
          description: Bits of the published key.
          type: int
        public_key_match:
          description: Whether the published key is O(domains[].dkim[].public_key); null when none was given.
          type: bool
        value_match:
          description: Whether O(domains[].dkim[].value) is published; null when none was given.
          type: bool
        revoked:
          description: Whether the selector should be revoked (O(domains[].dkim[].revoked)).
          type: bool
        revoked_match:
          description: Whether only a revoked record (C(p=) empty) is served; null unless O(domains[].dkim[].revoked).
          type: bool
    served:
      description:
        - The TXT values each queried server serves, per name (null for a name that does not exist).
        - Empty when the system resolver was used.
      type: dict
      sample: {"192.0.2.53": {"example.org": ["v=spf1 mx -all"], "_dmarc.example.org": null}}
    consistent:
      description: Whether every queried server serves the same values.
      type: bool
    findings:
      description: The lint findings of this domain (see RV(findings)).
      type: list
      elements: dict
findings:
  description: All lint findings.
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: C(error) or C(warning).
      type: str
    record:
      description: The DNS name the finding is about.
      type: str
    code:
      description: A stable identifier, for example C(spf-lookup-limit), C(dmarc-removed-tag), C(dkim-key-size).
      type: str
    message:
      description: What is wrong, for a human.
      type: str
  sample:
    - severity: warning
      record: _dmarc.example.org
      code: dmarc-removed-tag
      message: "pct= was removed by RFC 9989 (use t=y to test a policy instead of a percentage)"
error_count:
  description: The number of findings with severity C(error).
  returned: always
  type: int
  sample: 0
warning_count:
  description: The number of findings with severity C(warning).
  returned: always
  type: int
  sample: 1
waited:
  description: Seconds spent waiting with O(wait=true); null otherwise.
  returned: always
  type: float
  sample: 2.41
"""

import traceback

from ansible_collections.mailauth.core.plugins.module_utils import _deps, _dkim_record, _dns_info, _resolver
from ansible_collections.mailauth.core.plugins.module_utils._module import KeySafeModule


def main() -> None:
    """Validate the arguments, then read, lint and optionally wait, in one call."""
    module = KeySafeModule(
        argument_spec=dict(
            domains=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    name=dict(type="str", required=True),
                    spf=dict(type="raw"),
                    dmarc=dict(type="raw"),
                    mta_sts=dict(type="raw"),
                    tls_rpt=dict(type="raw"),
                    dkim=dict(
                        type="list",
                        elements="dict",
                        default=[],
                        options=dict(
                            selector=dict(type="str", required=True),
                            public_key=dict(type="str", no_log=False),
                            value=dict(type="str"),
                            revoked=dict(type="bool", default=False),
                            key_type=dict(type="str", choices=["rsa", "ed25519"]),
                            absent=dict(type="bool", default=False),
                        ),
                    ),
                ),
            ),
            nameserver=dict(type="str"),
            port=dict(type="int", default=53),
            all_authoritative=dict(type="bool", default=False),
            timeout=dict(type="float", default=5.0),
            lint=dict(type="bool", default=True),
            wait=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=300),
            wait_interval=dict(type="float", default=2.0),
        ),
        supports_check_mode=True,
    )
    module.refuse_private_keys()
    _deps.require(module, *_resolver.LIBRARIES)
    _deps.require(module, *_dkim_record.CRYPTOGRAPHY)
    params = module.params
    if not 0 < params["port"] < 65536:
        module.fail_json(msg="port must be between 1 and 65535, got %d" % params["port"])
    if params["timeout"] <= 0 or params["wait_interval"] <= 0 or params["wait_timeout"] < 0:
        module.fail_json(msg="timeout and wait_interval must be positive and wait_timeout not negative")
    try:
        result = _dns_info.run(params)
    except _dns_info.DnsInfoError as exc:
        module.fail_json(msg=exc.msg, **exc.result)
    except Exception as exc:  # an unexpected bug: report it, with the traceback for -vvv
        module.fail_json(msg="mail_dns_info failed: %s" % exc, exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
