# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile and malformed input for the modules, module_utils and filters (issue 10).

Every case runs one call and asserts: it fails, with the module's own error type (a failed module
result without ``exception``, RecordError, DkimError, ProviderError or AnsibleFilterError: never a
raw Python exception), the message names the field and the problem, and nothing was written (the
key directory or the zone directory stays absent, an existing directory keeps its owner and mode).

Classes (issue 10): 2 control characters and trailing newlines, 3 missing validation and derived
name lengths, 4 dangerous paths, 5 unsafe SPF publishing, 6 private keys echoed back, 7 wrong types
and unclear errors; X other malformed input found while writing these (IDNA junk, traversal...).
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import stat

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils import basic
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ansible_collections.mailauth.core.plugins.filter import domains as domain_filters
from ansible_collections.mailauth.core.plugins.filter import publish, records
from ansible_collections.mailauth.core.plugins.module_utils import _dkim, _entries, _input, _names, _spf
from ansible_collections.mailauth.core.plugins.module_utils._provider import ProviderError
from ansible_collections.mailauth.core.plugins.module_utils._zonefile import ZonefileProvider
from ansible_collections.mailauth.core.plugins.modules import dkim_key, dns_records, mail_dns_info

ME = pwd.getpwuid(os.geteuid()).pw_name
MYGROUP = grp.getgrgid(os.getegid()).gr_name

_RSA = rsa.generate_private_key(public_exponent=65537, key_size=1024)
RSA_PRIVATE_PEM = _RSA.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
).decode()
_ED = ed25519.Ed25519PrivateKey.generate()
ED_PRIVATE_PEM = _ED.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
ED_PRIVATE_DER_B64 = "".join(ED_PRIVATE_PEM.strip().splitlines()[1:-1])
ED_PUBLIC_PEM = (
    _ED.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
)

LONG_249 = ".".join(["a" * 61, "b" * 61, "c" * 61, "d" * 61, "e"])  # 249 characters, a valid domain
assert len(LONG_249) == 249
LONG_251 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 59])  # a valid domain; "<it>.zone" is no file name
assert len(LONG_251) == 251
TOO_LONG = ("a" * 63 + ".") * 4 + "org"  # 259 characters


# --------------------------------------------------------------------------- running the modules in-process


def run_main(main, args: dict, capsys, check_mode: bool = False) -> dict:
    """Run a module's main() with args; return its JSON result (a raw exception fails the test)."""
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
    basic._ANSIBLE_PROFILE = "legacy"
    try:
        with pytest.raises(SystemExit):
            main()
    finally:
        basic._ANSIBLE_ARGS = None
    return json.loads(capsys.readouterr().out)


def dkim_args(tmp_path, keys=None, **extra) -> dict:
    args = {
        "keys": keys if keys is not None else [{"domain": "example.org", "selector": "s1", "key_type": "ed25519"}],
        "key_dir": str(tmp_path / "keys"),
        "owner": ME,
        "group": MYGROUP,
    }
    args.update(extra)
    return args


def dns_args(tmp_path, domains, **extra) -> dict:
    args = {
        "domains": domains,
        "provider": "zonefile",
        "zonefile": {"path": str(tmp_path / "zones")},
        "lint_dns": False,
    }
    args.update(extra)
    return args


def info_args(domains, **extra) -> dict:
    args = {"domains": domains, "nameserver": "127.0.0.1", "port": 9, "timeout": 0.1}
    args.update(extra)
    return args


def entry(name="example.org", **fields) -> dict:
    return dict({"name": name}, **fields)


# --------------------------------------------------------------------------- the table
# (id, class, kind, input, needles): kind says how the input is run (see test_hostile_input).

DKIM_CASES = [
    (
        "dkim-domain-trailing-newline",
        "2",
        {"keys": [{"domain": "example.com\n", "selector": "s1"}]},
        ["keys[0].domain", "control characters"],
    ),
    (
        "dkim-domain-cr",
        "2",
        {"keys": [{"domain": "example.com\r", "selector": "s1"}]},
        ["keys[0].domain", "control characters"],
    ),
    (
        "dkim-domain-inner-newline",
        "2",
        {"keys": [{"domain": "example\n.com", "selector": "s1"}]},
        ["keys[0].domain", "control characters"],
    ),
    (
        "dkim-domain-nul",
        "2",
        {"keys": [{"domain": "exa\x00mple.com", "selector": "s1"}]},
        ["keys[0].domain", "control characters"],
    ),
    (
        "dkim-domain-u2028",
        "2",
        {"keys": [{"domain": "example.com\u2028", "selector": "s1"}]},
        ["keys[0].domain", "control characters"],
    ),
    (
        "dkim-domain-tab",
        "2",
        {"keys": [{"domain": "\texample.com", "selector": "s1"}]},
        ["keys[0].domain", "control characters"],
    ),
    (
        "dkim-domain-del",
        "2",
        {"keys": [{"domain": "example.com\x7f", "selector": "s1"}]},
        ["keys[0].domain", "control characters"],
    ),
    (
        "dkim-domain-leading-space",
        "X",
        {"keys": [{"domain": " example.com", "selector": "s1"}]},
        ["keys[0].domain", "space"],
    ),
    (
        "dkim-domain-trailing-space",
        "X",
        {"keys": [{"domain": "example.com ", "selector": "s1"}]},
        ["keys[0].domain", "space"],
    ),
    (
        "dkim-domain-label-64",
        "3",
        {"keys": [{"domain": "a" * 64 + ".com", "selector": "s1"}]},
        ["keys[0].domain", "longer than 63"],
    ),
    (
        "dkim-domain-over-253",
        "3",
        {"keys": [{"domain": TOO_LONG, "selector": "s1"}]},
        ["keys[0].domain", "longer than 253"],
    ),
    (
        "dkim-derived-name-over-253",
        "3",
        {"keys": [{"domain": LONG_249, "selector": "s1"}]},
        ["the DKIM record name", "more than DNS allows"],
    ),
    (
        "dkim-domain-traversal",
        "4",
        {"keys": [{"domain": "../../etc", "selector": "s1"}]},
        ["keys[0].domain", "empty label"],
    ),
    (
        "dkim-domain-slash",
        "4",
        {"keys": [{"domain": "example.com/../../etc", "selector": "s1"}]},
        ["keys[0].domain", "not a DNS label"],
    ),
    (
        "dkim-domain-idna-unicode",
        "X",
        {"keys": [{"domain": "bücher.example", "selector": "s1"}]},
        ["domain", "A-label"],
    ),
    (
        "dkim-domain-idna-junk",
        "X",
        {"keys": [{"domain": "xn--.example", "selector": "s1"}]},
        ["keys[0].domain", "not a DNS label"],
    ),
    ("dkim-domain-ip", "X", {"keys": [{"domain": "192.0.2.1", "selector": "s1"}]}, ["keys[0].domain", "IP address"]),
    (
        "dkim-domain-one-label",
        "X",
        {"keys": [{"domain": "localhost", "selector": "s1"}]},
        ["keys[0].domain", "at least 2 labels"],
    ),
    (
        "dkim-domain-empty",
        "7",
        {"keys": [{"domain": "", "selector": "s1"}]},
        ["keys[0].domain", "must be a domain name"],
    ),
    (
        "dkim-selector-trailing-newline",
        "2",
        {"keys": [{"domain": "example.com", "selector": "s1\n"}]},
        ["keys[0].selector", "control characters"],
    ),
    (
        "dkim-selector-nul",
        "2",
        {"keys": [{"domain": "example.com", "selector": "s\x001"}]},
        ["keys[0].selector", "control characters"],
    ),
    (
        "dkim-selector-traversal",
        "4",
        {"keys": [{"domain": "example.com", "selector": "../../../tmp/x"}]},
        ["keys[0].selector"],
    ),
    (
        "dkim-selector-slash",
        "4",
        {"keys": [{"domain": "example.com", "selector": "s1/x"}]},
        ["keys[0].selector", "not a DNS label"],
    ),
    (
        "dkim-selector-space",
        "X",
        {"keys": [{"domain": "example.com", "selector": "s1 "}]},
        ["keys[0].selector", "space"],
    ),
    (
        "dkim-selector-label-64",
        "3",
        {"keys": [{"domain": "example.com", "selector": "s" * 64}]},
        ["keys[0].selector", "longer than 63"],
    ),
    (
        "dkim-selector-underscore",
        "X",
        {"keys": [{"domain": "example.com", "selector": "s_1"}]},
        ["keys[0].selector", "not a DNS label"],
    ),
    (
        "dkim-selector-trailing-dot",
        "X",
        {"keys": [{"domain": "example.com", "selector": "s1."}]},
        ["keys[0].selector", "trailing dot"],
    ),
    ("dkim-mode-newline", "2", {"mode": "0600\n"}, ["mode", "0600"]),
    ("dkim-keys-string", "7", {"keys": "example.org"}, ["keys must be a list", "'example.org'"]),
    ("dkim-keys-item-string", "7", {"keys": ["example.org"]}, ["keys[0] must be a dictionary"]),
    (
        "dkim-private-key-in-selector",
        "6",
        {"keys": [{"domain": "example.org", "selector": ED_PRIVATE_PEM}]},
        ["keys[0].selector", "private key"],
    ),
    (
        "dkim-private-key-in-domain",
        "6",
        {"keys": [{"domain": ED_PRIVATE_DER_B64, "selector": "s1"}]},
        ["keys[0].domain", "private key"],
    ),
]

# Existing directories the module did not create: refused (run in check mode as well, so that a broken
# guard could not chown anything on the test host).
KEY_DIR_CASES = [
    ("dkim-key-dir-etc", "4", "/etc", ["key_dir", "outside /etc/dkimkeys"]),
    ("dkim-key-dir-etc-ssh", "4", "/etc/ssh", ["key_dir", "outside /etc/dkimkeys"]),
    ("dkim-key-dir-etc-postfix", "4", "/etc/postfix", ["key_dir", "outside /etc/dkimkeys"]),
    ("dkim-key-dir-usr-bin", "4", "/usr/bin", ["key_dir", "outside /etc/dkimkeys"]),
    ("dkim-key-dir-root", "4", "/", ["key_dir", "outside /etc/dkimkeys"]),
    ("dkim-key-dir-var-lib", "4", "/var/lib", ["key_dir", "outside /etc/dkimkeys"]),
    ("dkim-key-dir-root-ssh", "4", "/root/.ssh", ["key_dir", "outside /etc/dkimkeys"]),
    ("dkim-key-dir-etc-sudoers-d", "4", "/etc/sudoers.d", ["key_dir", "outside /etc/dkimkeys"]),
    ("dkim-key-dir-tmp", "4", "/tmp", ["key_dir", "outside /etc/dkimkeys"]),
    ("dkim-key-dir-dotdot", "4", "/etc/dkimkeys/../ssh", ["key_dir", "'..'"]),
    ("dkim-key-dir-relative", "4", "keys", ["key_dir", "absolute path"]),
    ("dkim-key-dir-newline", "2", "/etc/dkimkeys\n", ["key_dir", "control characters"]),
    ("dkim-key-dir-space", "4", "/etc/dkim keys", ["key_dir", "whitespace"]),
]


def _sec(value):
    return value


DNS_CASES = [
    # class 2: control characters in every field that reaches a zone
    (
        "dns-name-trailing-newline",
        "2",
        [entry("example.com\n", spf={"mechanisms": ["mx"]})],
        ["mail domain", "control characters"],
    ),
    (
        "dns-name-inner-newline",
        "2",
        [entry("mail\n.example", dmarc={"p": "none"})],
        ["mail domain", "control characters"],
    ),
    (
        "dns-name-backspace",
        "2",
        [entry("mail\x08.example", dmarc={"p": "none"})],
        ["mail domain", "control characters"],
    ),
    ("dns-name-nul", "2", [entry("example.com\x00", spf={"mechanisms": ["mx"]})], ["mail domain", "control"]),
    ("dns-name-u2028", "2", [entry("exam\u2028ple.com", spf={"mechanisms": ["mx"]})], ["mail domain", "control"]),
    (
        "dns-zone-newline",
        "2",
        [entry(zone="example.org\n", spf={"mechanisms": ["mx"]})],
        ["example.org.zone", "control characters"],
    ),
    (
        "dns-dmarc-rua-newline",
        "2",
        [entry(dmarc={"p": "none", "rua": ["dmarc@example.org\n"]})],
        ["dmarc.rua[0]", "control characters"],
    ),
    (
        "dns-dmarc-rua-crlf-inject",
        "2",
        [entry(dmarc={"p": "none", "rua": ["dmarc@example.org\r\n_dmarc IN TXT evil"]})],
        ["dmarc.rua[0]", "control characters"],
    ),
    ("dns-dmarc-p-newline", "2", [entry(dmarc={"p": "reject\n"})], ["dmarc.p", "control characters"]),
    (
        "dns-dmarc-value-newline",
        "2",
        [entry(dmarc={"value": "v=DMARC1; p=none\n"})],
        ["dmarc.value", "control characters"],
    ),
    ("dns-dmarc-fo-tab", "2", [entry(dmarc={"p": "none", "fo": "1\t"})], ["dmarc.fo", "control characters"]),
    ("dns-mta-sts-id-newline", "2", [entry(mta_sts={"id": "20260101\n"})], ["mta_sts.id", "control characters"]),
    (
        "dns-mta-sts-value-newline",
        "2",
        [entry(mta_sts={"value": "v=STSv1; id=1\n"})],
        ["mta_sts.value", "control characters"],
    ),
    (
        "dns-tls-rpt-rua-newline",
        "2",
        [entry(tls_rpt={"rua": ["tls@example.org\n"]})],
        ["tls_rpt.rua[0]", "control characters"],
    ),
    (
        "dns-tls-rpt-https-cr",
        "2",
        [entry(tls_rpt={"rua": ["https://r.example.org/x\r"]})],
        ["tls_rpt.rua[0]", "control characters"],
    ),
    ("dns-spf-mechanism-newline", "2", [entry(spf={"mechanisms": ["mx\n"]})], ["spf.mechanisms[0]", "control"]),
    (
        "dns-spf-include-newline",
        "2",
        [entry(spf={"include": ["_spf.example.net\n"]})],
        ["spf.include[0]", "control characters"],
    ),
    ("dns-spf-ip4-newline", "2", [entry(spf={"ip4": ["192.0.2.1\n"]})], ["spf.ip4[0]", "control characters"]),
    (
        "dns-spf-redirect-newline",
        "2",
        [entry(spf={"redirect": "_spf.example.net\n"})],
        ["spf.redirect", "control characters"],
    ),
    ("dns-spf-all-newline", "2", [entry(spf={"all": "-all\n"})], ["spf.all", "control characters"]),
    ("dns-spf-value-newline", "2", [entry(spf={"value": "v=spf1 mx\n-all"})], ["spf.value", "control"]),
    ("dns-spf-value-tab", "2", [entry(spf={"value": "v=spf1\tmx -all"})], ["spf.value", "control characters"]),
    (
        "dns-dkim-selector-newline",
        "2",
        [entry(dkim=[{"selector": "s1\n", "public_key": ED_PUBLIC_PEM}])],
        ["dkim[0].selector", "control characters"],
    ),
    (
        "dns-dkim-notes-newline",
        "2",
        [entry(dkim=[{"selector": "s1", "public_key": ED_PUBLIC_PEM, "notes": "a\nb"}])],
        ["dkim[0].notes", "control characters"],
    ),
    (
        "dns-dkim-value-newline",
        "2",
        [entry(dkim=[{"selector": "s1", "value": "v=DKIM1; k=ed25519;\np=AAAA"}])],
        ["dkim[0].value", "control characters"],
    ),
    (
        "dns-dkim-flags-newline",
        "2",
        [entry(dkim=[{"selector": "s1", "public_key": ED_PUBLIC_PEM, "flags": ["y\n"]}])],
        ["dkim[0].flags[0]", "control characters"],
    ),
    # class 3: names and derived names
    ("dns-name-over-253", "3", [entry(TOO_LONG, spf={"mechanisms": ["mx"]})], ["mail domain", "longer than 253"]),
    (
        "dns-name-label-64",
        "3",
        [entry("a" * 64 + ".org", spf={"mechanisms": ["mx"]})],
        ["mail domain", "longer than 63"],
    ),
    (
        "dns-derived-dmarc-over-253",
        "3",
        [entry(LONG_249, dmarc={"p": "none"})],
        ["the dmarc record name", "more than DNS allows"],
    ),
    (
        "dns-derived-dkim-over-253",
        "3",
        [entry(LONG_249, dkim=[{"selector": "s1", "public_key": ED_PUBLIC_PEM}])],
        ["the dkim record name", "more than DNS allows"],
    ),
    (
        "dns-derived-mta-sts-over-253",
        "3",
        [entry(LONG_249, mta_sts={"id": "1"})],
        ["the mta_sts record name", "more than DNS allows"],
    ),
    (
        "dns-derived-tls-rpt-over-253",
        "3",
        [entry(LONG_249, tls_rpt={"rua": ["t@example.org"]})],
        ["the tls_rpt record name", "more than DNS allows"],
    ),
    (
        "dns-derived-report-over-253",
        "3",
        [
            entry("example.org", dmarc={"p": "none", "rua": ["d@" + LONG_249]}),
            entry(LONG_249, spf={"mechanisms": ["mx"]}),
        ],
        ["the report record name", "more than DNS allows"],
    ),
    ("dns-zone-underscore-junk", "3", [entry(zone="exa mple.org", spf={"mechanisms": ["mx"]})], ["zone", "space"]),
    ("dns-name-leading-space", "X", [entry(" example.org", spf={"mechanisms": ["mx"]})], ["mail domain", "space"]),
    ("dns-name-idna-junk", "X", [entry("a\ufffd.example", spf={"mechanisms": ["mx"]})], ["mail domain"]),
    ("dns-name-unicode-bad", "X", [entry("exa\u00admple..org", spf={"mechanisms": ["mx"]})], ["mail domain"]),
    ("dns-name-ip", "X", [entry("192.0.2.1", spf={"mechanisms": ["mx"]})], ["mail domain", "IP address"]),
    ("dns-include-bad-label", "X", [entry(spf={"include": ["-bad.example"]})], ["spf.include", "not a DNS label"]),
    ("dns-rua-bad-local", "X", [entry(dmarc={"p": "none", "rua": ["a,b@example.org"]})], ["dmarc.rua", "local part"]),
    ("dns-mta-sts-id-long", "X", [entry(mta_sts={"id": "a" * 33})], ["mta_sts.id", "1 to 32"]),
    ("dns-ip4-prefix-33", "X", [entry(spf={"ip4": ["10.0.0.0/33"]})], ["spf.ip4", "not a valid IPv4"]),
    ("dns-ip4-300", "X", [entry(spf={"ip4": ["300.1.1.1"]})], ["spf.ip4", "not a valid IPv4"]),
    ("dns-ttl-negative", "X", [entry(ttl=-5, spf={"mechanisms": ["mx"]})], ["ttl", "between"]),
    # class 5: unsafe SPF
    ("dns-spf-all-plus", "5", [entry(spf={"mechanisms": ["mx"], "all": "+all"})], ["spf", "'+all'", "allow_pass_all"]),
    ("dns-spf-all-bare", "5", [entry(spf={"mechanisms": ["mx"], "all": "all"})], ["spf", "+all", "allow_pass_all"]),
    ("dns-spf-value-plus-all", "5", [entry(spf={"value": "v=spf1 mx +all"})], ["spf", "'+all'", "allow_pass_all"]),
    ("dns-spf-value-bare-all", "5", [entry(spf={"value": "v=spf1 a all"})], ["spf", "'all'", "allow_pass_all"]),
    ("dns-spf-value-neutral-only", "5", [entry(spf={"value": "v=spf1 ?all"})], ["spf", "'?all'", "allow_pass_all"]),
    ("dns-spf-neutral-only", "5", [entry(spf={"all": "?all"})], ["spf", "'?all'", "allow_pass_all"]),
    (
        "dns-spf-11-includes",
        "5",
        [entry(spf={"include": ["i%d.example.net" % i for i in range(11)]})],
        ["spf", "11 DNS lookups", "limit of 10"],
    ),
    (
        "dns-spf-value-11-lookups",
        "5",
        [
            entry(
                spf={
                    "value": "v=spf1 a mx ptr exists:x.example.net "
                    + " ".join("include:i%d.example" % i for i in range(7))
                    + " -all"
                }
            )
        ],
        ["spf", "11 DNS lookups"],
    ),
    (
        "dns-spf-lookups-with-redirect",
        "5",
        [entry(spf={"value": "v=spf1 " + " ".join("a:h%d.example" % i for i in range(10)) + " redirect=x.example"})],
        ["spf", "11 DNS lookups"],
    ),
    ("dns-spf-allow-not-bool", "7", [entry(spf={"all": "+all", "allow_pass_all": "maybe"})], ["allow_pass_all"]),
    # class 6: private keys where a public key is expected
    (
        "dns-private-pem-public-key",
        "6",
        [entry(dkim=[{"selector": "s1", "public_key": RSA_PRIVATE_PEM}])],
        ["domains[0].dkim[0].public_key", "private key"],
    ),
    (
        "dns-private-ed-public-key",
        "6",
        [entry(dkim=[{"selector": "s1", "public_key": ED_PRIVATE_PEM}])],
        ["public_key", "private key"],
    ),
    (
        "dns-private-der-public-key",
        "6",
        [entry(dkim=[{"selector": "s1", "public_key": ED_PRIVATE_DER_B64}])],
        ["public_key", "private key"],
    ),
    (
        "dns-private-pem-in-notes",
        "6",
        [entry(dkim=[{"selector": "s1", "public_key": ED_PUBLIC_PEM, "notes": RSA_PRIVATE_PEM}])],
        ["dkim[0].notes", "private key"],
    ),
    (
        "dns-private-pem-in-value",
        "6",
        [entry(dkim=[{"selector": "s1", "value": ED_PRIVATE_PEM}])],
        ["dkim[0].value", "private key"],
    ),
    # class 7: types
    ("dns-dkim-not-list", "7", [entry(dkim="s1")], ["domains[0].dkim must be a list", "'s1'"]),
    ("dns-rua-not-list", "7", [entry(dmarc={"p": "none", "rua": {"a": 1}})], ["domains[0].dmarc.rua must be a list"]),
    ("dns-name-list", "7", [entry(["example.org"], spf={"mechanisms": ["mx"]})], ["mail domain", "not a DNS label"]),
    ("dns-spf-string", "7", [entry(spf="v=spf1 mx -all")], ["domains[0].spf must be a dictionary", "str"]),
    ("dns-domains-string", "7", "example.org", ["domains must be a list"]),
]

INFO_CASES = [
    ("info-name-newline", "2", [{"name": "example.org\n"}], ["domain", "control characters"]),
    ("info-name-nul", "2", [{"name": "example\x00.org"}], ["domain", "control characters"]),
    (
        "info-selector-newline",
        "2",
        [{"name": "example.org", "dkim": [{"selector": "s1\n"}]}],
        ["dkim[0].selector", "control characters"],
    ),
    (
        "info-dkim-value-newline",
        "2",
        [{"name": "example.org", "dkim": [{"selector": "s1", "value": "v=DKIM1;\np=x"}]}],
        ["dkim[0].value", "control characters"],
    ),
    ("info-spf-newline", "2", [{"name": "example.org", "spf": "v=spf1 mx\n-all"}], ["spf", "control characters"]),
    (
        "info-dmarc-rua-newline",
        "2",
        [{"name": "example.org", "dmarc": {"p": "none", "rua": ["d@example.org\n"]}}],
        ["dmarc.rua[0]", "control characters"],
    ),
    ("info-derived-dmarc", "3", [{"name": LONG_249, "dmarc": {"p": "none"}}], ["DMARC record name", "more than DNS"]),
    ("info-derived-dkim", "3", [{"name": LONG_249, "dkim": [{"selector": "s1"}]}], ["DKIM record name", "more than"]),
    ("info-name-over-253", "3", [{"name": TOO_LONG}], ["domain", "longer than 253"]),
    (
        "info-spf-11-includes",
        "5",
        [{"name": "example.org", "spf": {"include": ["i%d.example.net" % i for i in range(11)]}}],
        ["spf", "11 DNS"],
    ),
    (
        "info-private-pem-public-key",
        "6",
        [{"name": "example.org", "dkim": [{"selector": "s1", "public_key": RSA_PRIVATE_PEM}]}],
        ["domains[0].dkim[0].public_key", "private key"],
    ),
    (
        "info-private-der-public-key",
        "6",
        [{"name": "example.org", "dkim": [{"selector": "s1", "public_key": ED_PRIVATE_DER_B64}]}],
        ["public_key", "private key"],
    ),
    ("info-private-in-spf", "6", [{"name": "example.org", "spf": ED_PRIVATE_PEM}], ["domains[0].spf", "private key"]),
    ("info-spf-wrong-type", "7", [{"name": "example.org", "spf": 5}], ["spf", "dictionary"]),
    ("info-nameserver-newline", "2", None, ["nameserver", "control characters"]),
]

FILTER_CASES = [
    (
        "filter-dkim-publish-string-keys",
        "7",
        lambda: publish.dkim_publish([entry()], "s1"),
        ["dkim_publish", "keys", "list", "str"],
    ),
    (
        "filter-dkim-publish-dict-keys",
        "7",
        lambda: publish.dkim_publish([entry()], {"domain": "example.org"}),
        ["dkim_publish", "keys", "list"],
    ),
    (
        "filter-dkim-publish-keys-items",
        "7",
        lambda: publish.dkim_publish([entry()], ["s1"]),
        ["dkim_publish", "keys[0]", "dictionary"],
    ),
    (
        "filter-dkim-publish-string-domains",
        "7",
        lambda: publish.dkim_publish("example.org", []),
        ["dkim_publish", "domains", "list"],
    ),
    (
        "filter-dkim-publish-domain-items",
        "7",
        lambda: publish.dkim_publish(["example.org"], []),
        ["dkim_publish", "domains", "[0]", "dictionary"],
    ),
    (
        "filter-dkim-publish-record-newline",
        "2",
        lambda: publish.dkim_publish(
            [entry()], [{"domain": "example.org", "selector": "s1", "record": "v=DKIM1;\np=x"}]
        ),
        ["keys[0].record", "control characters"],
    ),
    (
        "filter-dkim-publish-value-newline",
        "2",
        lambda: publish.dkim_publish(
            [entry()], [{"domain": "example.org", "selector": "s1", "value": "v=DKIM1;\np=x"}]
        ),
        ["keys[0].value", "control characters"],
    ),
    (
        "filter-dkim-publish-domain-newline",
        "2",
        lambda: publish.dkim_publish(
            [entry()], [{"domain": "example.org\n", "selector": "s1", "record": "v=DKIM1; p=x"}]
        ),
        ["keys[0].domain", "control characters"],
    ),
    (
        "filter-dkim-publish-selector-newline",
        "2",
        lambda: publish.dkim_publish(
            [entry()], [{"domain": "example.org", "selector": "s1\n", "record": "v=DKIM1; p=x"}]
        ),
        ["keys[0].selector", "control characters"],
    ),
    (
        "filter-dkim-publish-entry-name-newline",
        "2",
        lambda: publish.dkim_publish([entry("example.org\n")], []),
        ["domains[0].name", "control characters"],
    ),
    (
        "filter-spf-plus-all",
        "5",
        lambda: records.spf_record({"mechanisms": ["mx"], "all": "+all"}),
        ["spf_record", "'+all'", "allow_pass_all"],
    ),
    ("filter-spf-string-plus-all", "5", lambda: records.spf_record("v=spf1 mx +all"), ["spf_record", "'+all'"]),
    ("filter-spf-neutral-only", "5", lambda: records.spf_record("v=spf1 ?all"), ["spf_record", "'?all'"]),
    (
        "filter-spf-11-includes",
        "5",
        lambda: records.spf_record({"include": ["i%d.example.net" % i for i in range(11)]}),
        ["spf_record", "11 DNS"],
    ),
    (
        "filter-spf-allow-not-bool",
        "7",
        lambda: records.spf_record("v=spf1 +all", allow_pass_all="yes"),
        ["spf_record", "allow_pass_all"],
    ),
    ("filter-spf-list-input", "7", lambda: records.spf_record(["mx"]), ["spf_record", "dictionary", "list"]),
    (
        "filter-spf-newline",
        "2",
        lambda: records.spf_record({"mechanisms": ["mx"], "include": ["x.example\n"]}),
        ["spf.include[0]", "control characters"],
    ),
    (
        "filter-spf-domain-newline",
        "2",
        lambda: records.spf_record({"mechanisms": ["mx"]}, "example.org\n"),
        ["domain", "control characters"],
    ),
    (
        "filter-dmarc-rua-newline",
        "2",
        lambda: records.dmarc_record({"p": "none", "rua": "d@example.org\n"}),
        ["dmarc.rua", "control characters"],
    ),
    (
        "filter-dmarc-value-newline",
        "2",
        lambda: records.dmarc_record("v=DMARC1; p=none;\nrua=mailto:x@example.org"),
        ["dmarc", "control characters"],
    ),
    ("filter-dmarc-int", "7", lambda: records.dmarc_record(5), ["dmarc_record", "dictionary", "int"]),
    ("filter-dkim-record-private", "6", lambda: records.dkim_record(RSA_PRIVATE_PEM), ["dkim_record", "private key"]),
    (
        "filter-dkim-record-private-der",
        "6",
        lambda: records.dkim_record(ED_PRIVATE_DER_B64),
        ["dkim_record", "private key"],
    ),
    ("filter-dkim-record-int", "7", lambda: records.dkim_record(42), ["dkim_record", "public_key", "int"]),
    (
        "filter-dkim-record-flags-newline",
        "2",
        lambda: records.dkim_record(ED_PUBLIC_PEM, flags=["y\n"]),
        ["flags[0]", "control characters"],
    ),
    (
        "filter-dkim-record-notes-nul",
        "2",
        lambda: records.dkim_record({"public_key": ED_PUBLIC_PEM, "notes": "a\x00"}),
        ["notes", "control characters"],
    ),
    ("filter-txt-split-newline", "2", lambda: records.txt_split("v=DMARC1; p=none\n"), ["txt_split", "control"]),
    ("filter-txt-split-nul", "2", lambda: records.txt_split("a\x00b"), ["txt_split", "control characters"]),
    ("filter-txt-split-list", "7", lambda: records.txt_split(["a"]), ["txt_split", "string", "list"]),
    ("filter-txt-split-limit-str", "7", lambda: records.txt_split("a", limit="10"), ["txt_split", "limit"]),
    (
        "filter-host-domains-host-newline",
        "2",
        lambda: domain_filters.host_domains([entry()], "mx1\n"),
        ["host_domains", "host name", "control characters"],
    ),
    (
        "filter-host-domains-host-list",
        "7",
        lambda: domain_filters.host_domains([entry()], ["mx1"]),
        ["host_domains", "host name", "string"],
    ),
    (
        "filter-host-domains-string",
        "7",
        lambda: domain_filters.host_domains("example.org", "mx1"),
        ["host_domains", "list of domain entries"],
    ),
    (
        "filter-host-domains-mail-hosts-string",
        "7",
        lambda: domain_filters.host_domains([entry(mail_hosts="mx1")], "mx1"),
        ["host_domains", "mail_hosts"],
    ),
    (
        "filter-dkim-keys-base-newline",
        "2",
        lambda: domain_filters.dkim_keys([entry()], "mx1\n"),
        ["dkim_keys", "selector_base", "control characters"],
    ),
    (
        "filter-dkim-keys-base-slash",
        "4",
        lambda: domain_filters.dkim_keys([entry()], "../x"),
        ["dkim_keys", "selector_base"],
    ),
    (
        "filter-dkim-keys-type",
        "7",
        lambda: domain_filters.dkim_keys([entry()], "mx1", "dsa"),
        ["dkim_keys", "key_type"],
    ),
    (
        "filter-dkim-keys-size-str",
        "7",
        lambda: domain_filters.dkim_keys([entry()], "mx1", "rsa", "2048"),
        ["dkim_keys", "key_size"],
    ),
    (
        "filter-dkim-keys-dkim-string",
        "7",
        lambda: domain_filters.dkim_keys([entry(dkim="s1")], "mx1"),
        ["dkim_keys", "dkim of example.org"],
    ),
]

# dkim_key_problems reports problems as sentences (the roles assert on them): a hostile key must be reported.
PROBLEM_CASES = [
    (
        "problems-domain-newline",
        "2",
        [{"domain": "example.org\n", "selector": "s1", "key_type": "rsa", "key_size": 2048}],
        ["domains (mailauth_domains names) must be", "'example.org\\n'"],
    ),
    (
        "problems-selector-newline",
        "2",
        [{"domain": "example.org", "selector": "s1\n", "key_type": "rsa", "key_size": 2048}],
        ["selectors must be"],
    ),
    (
        "problems-selector-traversal",
        "4",
        [{"domain": "example.org", "selector": "../../x", "key_type": "rsa", "key_size": 2048}],
        ["selectors must be"],
    ),
    ("problems-string", "7", "example.org", ["must be a list"]),
    (
        "problems-size-string",
        "7",
        [{"domain": "example.org", "selector": "s1", "key_type": "rsa", "key_size": "2048"}],
        ["RSA keys are"],
    ),
]

MODULE_UTILS_CASES = [
    ("zonefile-zone-too-long-for-a-file", "3", "zonefile-long", ["zone name", "too long for a file name"]),
    ("zonefile-path-newline", "2", "zonefile-path", ["zonefile.path", "control characters"]),
    ("records-merge-over-10-lookups", "5", "merge", ["would need 11 DNS lookups", "spf_merge: replace"]),
    ("dkim-utils-symlinked-root", "4", "symlink-root", ["key_dir", "outside /etc/dkimkeys"]),
    ("dkim-utils-new-dir-in-system-tree-for-other-owner", "4", "handover", ["key_dir", "system directory tree"]),
    ("dkim-utils-existing-unmarked-dir", "4", "unmarked", ["key_dir", "outside /etc/dkimkeys"]),
]

ALL_IDS = [c[0] for c in DKIM_CASES + KEY_DIR_CASES + DNS_CASES + INFO_CASES + FILTER_CASES + PROBLEM_CASES]
ALL_IDS += [c[0] for c in MODULE_UTILS_CASES]


def test_the_table_is_large_and_unique():
    assert len(ALL_IDS) == len(set(ALL_IDS))
    assert len(ALL_IDS) >= 110, len(ALL_IDS)


def _assert_failed(result: dict, needles) -> None:
    assert result.get("failed") is True, result
    assert "exception" not in result, result.get("exception")  # no raw Python exception escaped
    assert "Traceback" not in json.dumps(result)
    for needle in needles:
        assert needle in result["msg"], (needle, result["msg"])


def _no_key_material(result: dict) -> None:
    text = json.dumps(result)
    for pem in (RSA_PRIVATE_PEM, ED_PRIVATE_PEM):
        for line in pem.strip().splitlines():
            if len(line) >= _input.MIN_MASKED_LINE and not line.startswith("-----"):
                assert line not in text
    assert ED_PRIVATE_DER_B64 not in text


# --------------------------------------------------------------------------- dkim_key


@pytest.mark.parametrize(("cid", "klass", "args", "needles"), DKIM_CASES, ids=[c[0] for c in DKIM_CASES])
@pytest.mark.parametrize("check_mode", [False], ids=[""])
def test_dkim_key_module(tmp_path, capsys, cid, klass, args, needles, check_mode):
    result = run_main(dkim_key.main, dkim_args(tmp_path, **args), capsys, check_mode)
    _assert_failed(result, needles)
    _no_key_material(result)
    assert not (tmp_path / "keys").exists()


def _snapshot(path: str):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except PermissionError:
        # Out of reach of the user running the tests (e.g. /root/.ssh when not root), so out of the
        # module's reach too: the refusal is still asserted, and the state must stay out of reach.
        return "unreachable"
    return (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, sorted(os.listdir(path)) if os.path.isdir(path) else None)


@pytest.mark.parametrize(("cid", "klass", "key_dir", "needles"), KEY_DIR_CASES, ids=[c[0] for c in KEY_DIR_CASES])
def test_dkim_key_dangerous_key_dir(tmp_path, capsys, cid, klass, key_dir, needles):
    before = _snapshot(key_dir) if key_dir.startswith("/") else None
    for check_mode in (True, False):
        # owner nobody: any chown would be visible; check mode first, so a broken guard could not change anything.
        args = dkim_args(tmp_path, key_dir=key_dir, owner="nobody", group=grp.getgrgid(os.getegid()).gr_name)
        result = run_main(dkim_key.main, args, capsys, check_mode)
        _assert_failed(result, needles)
        if key_dir.startswith("/"):
            assert _snapshot(key_dir) == before


# --------------------------------------------------------------------------- dns_records (zonefile provider)


@pytest.mark.parametrize(("cid", "klass", "domains", "needles"), DNS_CASES, ids=[c[0] for c in DNS_CASES])
def test_dns_records_module(tmp_path, capsys, cid, klass, domains, needles):
    for check_mode in (True, False):
        result = run_main(dns_records.main, dns_args(tmp_path, domains), capsys, check_mode)
        _assert_failed(result, needles)
        assert result.get("changed") is not True
        _no_key_material(result)
        assert not (tmp_path / "zones").exists(), "a zone file or directory was written"


# --------------------------------------------------------------------------- mail_dns_info


@pytest.mark.parametrize(("cid", "klass", "domains", "needles"), INFO_CASES, ids=[c[0] for c in INFO_CASES])
def test_mail_dns_info_module(tmp_path, capsys, cid, klass, domains, needles):
    hostile_nameserver = info_args([{"name": "example.org"}], nameserver="127.0.0.1\n")
    args = hostile_nameserver if domains is None else info_args(domains)
    result = run_main(mail_dns_info.main, args, capsys)
    _assert_failed(result, needles)
    _no_key_material(result)


# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize(("cid", "klass", "call", "needles"), FILTER_CASES, ids=[c[0] for c in FILTER_CASES])
def test_filters(cid, klass, call, needles):
    with pytest.raises(AnsibleFilterError) as err:
        call()
    message = str(err.value)
    for needle in needles:
        assert needle in message, (needle, message)
    for line in RSA_PRIVATE_PEM.strip().splitlines()[1:-1]:
        assert line not in message


@pytest.mark.parametrize(("cid", "klass", "keys", "needles"), PROBLEM_CASES, ids=[c[0] for c in PROBLEM_CASES])
def test_dkim_key_problems(cid, klass, keys, needles):
    problems = domain_filters.dkim_key_problems(keys)
    assert problems, "a hostile key was not reported"
    text = " ".join(problems)
    for needle in needles:
        assert needle in text, (needle, text)


# --------------------------------------------------------------------------- module_utils


def _module_utils_case(kind: str, tmp_path):
    """Prepare the case in tmp_path; return the call that must fail."""
    if kind == "symlink-root":
        (tmp_path / "target").mkdir()
        (tmp_path / "link").symlink_to(tmp_path / "target")
    if kind == "unmarked":
        (tmp_path / "keys").mkdir()
    return lambda: _module_utils_call(kind, tmp_path)


def _module_utils_call(kind: str, tmp_path):
    if kind == "zonefile-long":
        provider = ZonefileProvider({"path": str(tmp_path / "zones")})
        items = _entries.desired_items([entry(LONG_251, spf={"mechanisms": ["mx"]})])
        from ansible_collections.mailauth.core.plugins.module_utils import _plan

        plan = _plan.build_plan(provider, items)
        for zone, changes in plan.changes.items():
            provider.apply(zone, changes)
    elif kind == "zonefile-path":
        ZonefileProvider({"path": str(tmp_path / "zones") + "\n"})
    elif kind == "merge":
        existing = "v=spf1 " + " ".join("include:e%d.example" % i for i in range(6)) + " -all"
        desired = "v=spf1 " + " ".join("include:d%d.example" % i for i in range(5)) + " -all"
        _spf.merge_spf([existing], desired, "merge")
    elif kind == "symlink-root":
        link = tmp_path / "link"
        _dkim.ensure_keys(_dkim.build_specs([{"domain": "example.org", "selector": "s1"}]), str(link), ME, MYGROUP)
    elif kind == "handover":
        _dkim.validate_key_dir("/root/.mailauth-test-never-made/.ssh", pwd.getpwnam("nobody").pw_uid)
    elif kind == "unmarked":
        _dkim.ensure_keys(
            _dkim.build_specs([{"domain": "example.org", "selector": "s1", "key_type": "ed25519"}]),
            str(tmp_path / "keys"),
            ME,
            MYGROUP,
        )


@pytest.mark.parametrize(
    ("cid", "klass", "kind", "needles"), MODULE_UTILS_CASES, ids=[c[0] for c in MODULE_UTILS_CASES]
)
def test_module_utils(tmp_path, cid, klass, kind, needles):
    call = _module_utils_case(kind, tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises((_names.RecordError, _dkim.DkimError, ProviderError)) as err:
        call()
    for needle in needles:
        assert needle in str(err.value), (needle, str(err.value))
    assert sorted(p.name for p in tmp_path.rglob("*")) == before, "something was written"


# --------------------------------------------------------------------------- the overrides still work


def test_allow_pass_all_publishes_plus_all_when_asked(tmp_path, capsys):
    domains = [entry(spf={"mechanisms": ["mx"], "all": "+all", "allow_pass_all": True})]
    result = run_main(dns_records.main, dns_args(tmp_path, domains), capsys, check_mode=True)
    assert result.get("failed") is not True, result
    assert records.spf_record("v=spf1 mx +all", allow_pass_all=True) == "v=spf1 mx +all"
    assert records.spf_record({"mechanisms": ["mx"], "all": "?all"}) == "v=spf1 mx ?all"


def test_ten_lookups_are_fine():
    value = "v=spf1 " + " ".join("include:i%d.example" % i for i in range(10)) + " -all"
    assert records.spf_record(value) == value


def test_dkim_publish_still_attaches_keys():
    keys = [{"domain": "example.org", "selector": "s1", "record": "v=DKIM1; k=ed25519; p=AAAA"}]
    out = publish.dkim_publish([entry(), entry("example.net", dkim=[{"selector": "old"}])], keys)
    assert out[0]["dkim"] == [{"selector": "s1", "value": "v=DKIM1; k=ed25519; p=AAAA"}]
    assert "dkim" not in out[1]


def test_module_created_key_dir_outside_roots_is_reused(tmp_path):
    specs = _dkim.build_specs([{"domain": "example.org", "selector": "s1", "key_type": "ed25519"}])
    key_dir = tmp_path / "new" / "keys"
    _dkim.ensure_keys(specs, str(key_dir), ME, MYGROUP)
    assert (key_dir / _dkim.KEY_DIR_MARKER).is_file()
    changed, _results, _diff = _dkim.ensure_keys(specs, str(key_dir), ME, MYGROUP)
    assert changed is False


def test_private_key_is_masked_in_the_invocation(tmp_path, capsys):
    domains = [entry(dkim=[{"selector": "s1", "public_key": RSA_PRIVATE_PEM}])]
    result = run_main(dns_records.main, dict(dns_args(tmp_path, domains), _ansible_verbosity=4), capsys)
    assert result["failed"] is True
    args = json.dumps(result.get("invocation", {}))
    assert result["invocation"]["module_args"]["domains"][0]["dkim"][0]["public_key"] == (
        "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    ), args
    _no_key_material(result)


def test_shared_key_record_is_not_masked(tmp_path, capsys):
    """Lines of an RSA private PEM also stand in its public key (the modulus): a key given where it
    belongs (private_key_content, no_log) is masked whole, so the record returned stays intact."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    keys = [{"domain": "example.org", "selector": "shared", "key_type": "rsa", "private_key_content": pem}]
    result = run_main(dkim_key.main, dkim_args(tmp_path, keys=keys, key_dir=str(tmp_path / "dkimkeys")), capsys)
    assert result.get("failed") is not True, result
    record = result["dkim_keys"][0]["value"]
    assert "*" not in record
    assert record.endswith("p=" + __import__("base64").b64encode(public).decode())
    _no_key_material(result)
