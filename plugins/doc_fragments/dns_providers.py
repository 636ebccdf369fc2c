# Copyright (c) mailauth.core contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Generated from plugins/module_utils/_providers.py by hacking/gen_provider_docs.py: do not edit.

from __future__ import annotations


class ModuleDocFragment:
    """The DNS provider options of mailauth.core.dns_records, one per backend of the registry."""

    DOCUMENTATION = r"""
requirements:
  - dnspython (providers rfc2136, zonefile)
  - boto3 (provider route53)
  - botocore (provider route53)
  - dns-lexicon (provider lexicon)
options:
  provider:
    description:
      - The DNS provider.
      - V(cloudflare) - Cloudflare DNS through the REST API v4, with an API token. One C(dns_records/batch)
        request per zone (one database transaction); split beyond O(cloudflare.batch_size) operations.
      - V(powerdns) - PowerDNS Authoritative HTTP API. One PATCH per zone, applied by PowerDNS in
        one backend transaction.
      - V(rfc2136) - Dynamic updates (RFC 2136) with TSIG, for example to BIND 9, Knot or PowerDNS.
        One UPDATE message per zone, with prerequisites; split only at the 64 KiB message size.
      - V(route53) - Amazon Route 53. Credentials not given here come from the usual AWS chain (environment,
        shared files, instance role). One ChangeBatch per zone; split only at 1,000 records or 32,000
        characters of values.
      - V(zonefile) - No API; writes C(<zone>.zone) and C(<zone>.json) files. Each zone's two files
        are rewritten once per run, atomically (temporary file and rename).
      - V(lexicon) - Any DNS provider dns-lexicon 3.x supports (Hetzner, OVH, Gandi, DigitalOcean,
        Google Cloud DNS, Azure, ...), record by record - the fallback when no native backend exists.
        One lexicon call per TXT value created or deleted (no batching, no atomicity per zone).
    type: str
    required: true
    choices:
      - cloudflare
      - powerdns
      - rfc2136
      - route53
      - zonefile
      - lexicon
  cloudflare:
    description: Options of the V(cloudflare) provider. Cloudflare DNS through the REST API v4, with
      an API token.
    type: dict
    suboptions:
      api_token:
        description: A Cloudflare API token with DNS edit permission.
        required: true
        type: str
      api_url:
        description: Base URL of the API (default C(https://api.cloudflare.com/client/v4)).
        type: str
      batch_size:
        description:
          - Most changes in one C(dns_records/batch) request (the plan's limit, 200 on the Free plan).
          - A zone with more changes is sent in several requests, in order.
        default: 200
        type: int
      retries:
        description: Retries of a request answered with HTTP 429 or 5xx (with backoff).
        default: 3
        type: int
      timeout:
        description: Seconds to wait for each HTTP request.
        default: 30
        type: int
      validate_certs:
        description: Whether to validate the TLS certificate of the API.
        default: true
        type: bool
  powerdns:
    description: Options of the V(powerdns) provider. PowerDNS Authoritative HTTP API.
    type: dict
    suboptions:
      api_url:
        description: Base URL of the API, for example C(http://127.0.0.1:8081).
        required: true
        type: str
      api_key:
        description: The API key.
        required: true
        type: str
      server_id:
        description: The server id.
        default: localhost
        type: str
      validate_certs:
        description: Whether to validate TLS certificates.
        default: true
        type: bool
  rfc2136:
    description: Options of the V(rfc2136) provider. Dynamic updates (RFC 2136) with TSIG, for example
      to BIND 9, Knot or PowerDNS.
    type: dict
    suboptions:
      server:
        description: The primary server (address or name).
        required: true
        type: str
      port:
        description: Its port.
        default: 53
        type: int
      key_name:
        description: TSIG key name.
        type: str
      key_secret:
        description: TSIG key secret (base64).
        type: str
      key_algorithm:
        description: TSIG algorithm.
        default: hmac-sha256
        choices:
          - hmac-md5
          - hmac-sha1
          - hmac-sha224
          - hmac-sha256
          - hmac-sha256-128
          - hmac-sha384
          - hmac-sha384-192
          - hmac-sha512
          - hmac-sha512-256
        type: str
      timeout:
        description: Seconds to wait for each answer of the server.
        default: 10
        type: int
  route53:
    description: Options of the V(route53) provider. Amazon Route 53. Credentials not given here come
      from the usual AWS chain (environment, shared files, instance role).
    type: dict
    suboptions:
      aws_access_key_id:
        description: AWS access key id.
        type: str
      aws_secret_access_key:
        description: AWS secret access key.
        type: str
      aws_session_token:
        description: AWS session token.
        type: str
      region:
        description: AWS region.
        type: str
      endpoint_url:
        description: Route53 endpoint URL (for example a local test server).
        type: str
      profile:
        description: AWS profile name.
        type: str
      max_attempts:
        description:
          - Attempts of botocore's adaptive retry mode (throttling, C(PriorRequestNotComplete), HTTP
            5xx).
          - Defaults to 10.
        type: int
      private_zone:
        description: Use the private hosted zone of the name instead of the public one.
        default: false
        type: bool
      wait:
        description: Wait until Route53 reports each change batch as C(INSYNC).
        default: false
        type: bool
      wait_timeout:
        description: Seconds to wait for C(INSYNC) when O(route53.wait=true).
        default: 300
        type: int
      validate_certs:
        description: Whether to validate the TLS certificate of the endpoint.
        default: true
        type: bool
      connect_timeout:
        description: Seconds to wait for a connection to the endpoint.
        default: 30
        type: int
      read_timeout:
        description: Seconds to wait for an answer of the endpoint.
        default: 60
        type: int
  zonefile:
    description: Options of the V(zonefile) provider. No API; writes C(<zone>.zone) and C(<zone>.json)
      files.
    type: dict
    suboptions:
      path:
        description: The directory for the files.
        required: true
        type: path
  lexicon:
    description: Options of the V(lexicon) provider. Any DNS provider dns-lexicon 3.x supports (Hetzner,
      OVH, Gandi, DigitalOcean, Google Cloud DNS, Azure, ...), record by record - the fallback when
      no native backend exists.
    type: dict
    suboptions:
      provider_name:
        description: The lexicon provider, for example V(hetzner), V(ovh), V(gandi) or V(powerdns).
        required: true
        type: str
      credentials:
        description:
          - The secret options of that lexicon provider (tokens, passwords), named as lexicon names
            them with C(_) for C(-), for example C(auth_token) for V(hetzner) or V(powerdns).
          - Values are strings; they are masked in every message and in Ansible's output.
        default: {}
        type: dict
      settings:
        description:
          - The other options of that lexicon provider, for example C(pdns_server) and C(pdns_server_id)
            for V(powerdns) or C(auth_entrypoint) for V(ovh). Values are strings.
        default: {}
        type: dict
      split_txt:
        description:
          - Send a TXT value longer than 255 bytes as character-strings of at most 255 bytes joined
            by C(" "), for providers that put the content between quotes themselves (such as V(powerdns)).
          - Off, the value is sent as one string and the provider's API must split it.
        default: false
        type: bool
"""
