# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Record model: builders, validation, desired records, SPF merge, public keys."""

from __future__ import annotations

import base64
import functools

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ansible_collections.mailauth.core.plugins.module_utils import (
    _dkim_record,
    _entries,
    _names,
    _reporting,
    _spf,
    _txt,
)
from ansible_collections.mailauth.core.plugins.module_utils._names import RecordError
from ansible_collections.mailauth.core.plugins.module_utils._provider import RecordSet


@functools.lru_cache(maxsize=None)
def rsa_key(bits: int):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()


def pem(key) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def spki_b64(key) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def pkcs1_pem(key) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()


ED_KEY = ed25519.Ed25519PrivateKey.generate().public_key()
ED_RAW = base64.b64encode(ED_KEY.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


# -- SPF ---------------------------------------------------------------------------------------------------


def test_spf_from_intent_in_documented_order():
    value = _spf.build_spf(
        {
            "mechanisms": ["mx", "a:mail.example.test"],
            "ip4": ["192.0.2.10", "198.51.100.0/24"],
            "ip6": ["2001:db8::/32"],
            "include": ["_spf.example.net"],
            "all": "~all",
        },
        "example.test",
    )
    assert value == (
        "v=spf1 mx a:mail.example.test ip4:192.0.2.10 ip4:198.51.100.0/24 ip6:2001:db8::/32 "
        "include:_spf.example.net ~all"
    )


def test_spf_defaults_to_fail_all_and_dedupes():
    assert _spf.build_spf({"mechanisms": ["mx", "MX", "+mx"], "ip4": ["192.0.2.1/32", "ip4:192.0.2.1"]}) == (
        "v=spf1 mx ip4:192.0.2.1 -all"
    )


def test_spf_redirect_without_all():
    assert _spf.build_spf({"redirect": "_spf.example.net"}) == "v=spf1 redirect=_spf.example.net"


def test_spf_complete_value_is_validated():
    assert _spf.build_spf("v=spf1   mx  -all") == "v=spf1 mx -all"
    assert _spf.build_spf({"value": "v=spf1 a -all"}) == "v=spf1 a -all"


def test_spf_macros_accepted():
    assert _spf.build_spf({"mechanisms": ["exists:%{i}._spf.example.test"]}) == (
        "v=spf1 exists:%{i}._spf.example.test -all"
    )


@pytest.mark.parametrize(
    ("spf", "message"),
    [
        ({"mechanisms": ["foo"]}, "unknown SPF mechanism 'foo'"),
        ({"mechanisms": ["a:"]}, "the domain is empty"),
        ({"mechanisms": ["a=b"]}, "is a modifier"),
        ({"mechanisms": ["a;x.test"]}, "optional :<domain>"),
        ({"mechanisms": ["a:bad_host..example"]}, "empty label"),
        ({"mechanisms": ["include"]}, "needs a domain"),
        ({"mechanisms": ["-all"]}, "set the 'all' option"),
        ({"mechanisms": ["redirect=x.test"]}, "is a modifier"),
        ({"mechanisms": ["a/33"]}, "prefix length /33"),
        ({"mechanisms": ["mx//129"]}, "prefix length /129"),
        ({"mechanisms": ["exists:%{z}.x.test"]}, "invalid macro"),
        ({"mechanisms": ["ip4:192.0.2.1/24"]}, "host bits set"),
        ({"ip4": ["192.0.2.300"]}, "not a valid IPv4"),
        ({"ip4": ["192.0.2.1/24"]}, "did you mean 192.0.2.0/24"),
        ({"ip4": ["2001:db8::1"]}, "not a valid IPv4"),
        ({"ip6": ["2001:db8::/129"]}, "not a valid IPv6"),
        ({"ip6": ["192.0.2.1"]}, "not a valid IPv6"),
        ({"ip4": "not-a-list-item"}, "not a valid IPv4"),
        ({"include": ["exa mple.test"]}, "holds a space"),
        ({"all": "-any"}, "all must be one of"),
        ({"redirect": "x.test", "all": "-all"}, "either redirect or all"),
        ({"mechanisms": ["mx"], "bogus": 1}, "unknown option(s) bogus"),
        ({"value": "v=spf1 -all", "mechanisms": ["mx"]}, "either value or"),
        ("v=spf2 -all", "starts with 'v=spf1'"),
        ("v=spf1 mx é", "printable ASCII"),
    ],
)
def test_spf_bad_input(spf, message):
    with pytest.raises(RecordError) as err:
        _spf.build_spf(spf, "example.test")
    assert message in str(err.value)
    assert "example.test" in str(err.value) or isinstance(spf, str)


def test_parse_spf_terms():
    terms = _spf.parse_spf("v=spf1 a:mail.example.test/24//64 ~mx ip6:2001:db8::/32 redirect=x.test")
    assert [(t.kind, t.qualifier, t.name) for t in terms] == [
        ("mechanism", "+", "a"),
        ("mechanism", "~", "mx"),
        ("mechanism", "+", "ip6"),
        ("modifier", "", "redirect"),
    ]
    assert (terms[0].domain, terms[0].cidr4, terms[0].cidr6) == ("mail.example.test", 24, 64)


# -- SPF merge ---------------------------------------------------------------------------------------------


def test_merge_keeps_foreign_values_and_hand_added_mechanisms():
    existing = ["google-site-verification=abc", "v=spf1 a include:_spf.google.com ~all"]
    result = _spf.merge_spf(existing, "v=spf1 mx -all", "merge")
    assert result == ["google-site-verification=abc", "v=spf1 mx a include:_spf.google.com -all"]


def test_merge_is_idempotent():
    desired = "v=spf1 mx ip4:192.0.2.10 -all"
    cases = [
        [],
        ["v=spf1 -all"],
        ["v=spf1 a include:_spf.google.com ~all", "other"],
        ["v=spf1 a -all", "v=spf1 include:x.test ?all"],
        ["v=spf1 redirect=_spf.example.net"],
        ["v=spf1 a exp=explain.example.test -all"],
    ]
    for existing in cases:
        once = _spf.merge_spf(existing, desired, "merge")
        twice = _spf.merge_spf(once, desired, "merge")
        assert once == twice
        assert sum(1 for v in once if _txt.is_spf(v)) == 1


def test_merge_two_existing_spf_records_into_one():
    result = _spf.merge_spf(["v=spf1 a -all", "x", "v=spf1 include:x.test ?all"], "v=spf1 mx -all", "merge")
    assert result == ["v=spf1 mx a include:x.test -all", "x"]


def test_merge_leaves_a_record_that_already_has_everything():
    existing = ["v=spf1 a mx include:_spf.google.com -all"]
    assert _spf.merge_spf(existing, "v=spf1 mx -all", "merge") == existing


def test_merge_desired_all_and_redirect_win():
    assert _spf.merge_spf(["v=spf1 a ~all"], "v=spf1 redirect=_spf.example.net", "merge") == [
        "v=spf1 a redirect=_spf.example.net"
    ]
    assert _spf.merge_spf(["v=spf1 a redirect=x.test"], "v=spf1 mx -all", "merge") == ["v=spf1 mx a -all"]


def test_merge_keeps_exp_and_drops_dead_terms_after_all():
    result = _spf.merge_spf(["v=spf1 a -all include:dead.test exp=why.example.test"], "v=spf1 mx -all", "merge")
    assert result == ["v=spf1 mx a exp=why.example.test -all"]


def test_merge_refuses_a_broken_existing_record():
    with pytest.raises(RecordError, match="set spf_merge: replace"):
        _spf.merge_spf(["v=spf1 foo -all"], "v=spf1 mx -all", "merge")


def test_replace_and_keep():
    existing = ["keep-me", "v=spf1 a ~all"]
    assert _spf.merge_spf(existing, "v=spf1 mx -all", "replace") == ["keep-me", "v=spf1 mx -all"]
    assert _spf.merge_spf(existing, "v=spf1 mx -all", "keep") == existing
    assert _spf.merge_spf(["keep-me"], "v=spf1 mx -all", "keep") == ["keep-me", "v=spf1 mx -all"]


def test_remove_spf():
    existing = ["keep-me", "v=spf1 a ~all"]
    assert _spf.merge_spf(existing, None, "merge") == ["keep-me"]
    assert _spf.merge_spf(existing, None, "replace") == ["keep-me"]
    assert _spf.merge_spf(existing, None, "keep") == existing


def test_merge_bad_mode():
    with pytest.raises(RecordError, match="spf_merge must be one of"):
        _spf.merge_spf([], "v=spf1 -all", "union")


# -- DKIM ---------------------------------------------------------------------------------------------------


def test_public_key_forms_give_the_same_p():
    key = rsa_key(2048)
    expected = ("rsa", 2048, spki_b64(key))
    assert _dkim_record.public_key_info(pem(key)) == expected
    assert _dkim_record.public_key_info(spki_b64(key)) == expected
    assert _dkim_record.public_key_info(pkcs1_pem(key)) == expected
    wrapped = "\n".join(spki_b64(key)[i : i + 64] for i in range(0, len(spki_b64(key)), 64))
    assert _dkim_record.public_key_info(wrapped) == expected


def test_ed25519_key_forms():
    assert _dkim_record.public_key_info(ED_RAW) == ("ed25519", 256, ED_RAW)
    assert _dkim_record.public_key_info(pem(ED_KEY)) == ("ed25519", 256, ED_RAW)


def test_dkim_record_rsa_4096_and_split():
    key = rsa_key(4096)
    selector, value = _dkim_record.build_dkim({"selector": "MX1", "public_key": pem(key)}, "example.test")
    assert selector == "mx1"
    assert value == "v=DKIM1; k=rsa; p=" + spki_b64(key)
    chunks = _txt.split_txt(value)
    assert len(chunks) == 3 and all(len(c) <= 255 for c in chunks)
    assert _txt.from_zone_text(_txt.to_zone_text(value)) == value


def test_dkim_record_tags():
    _sel, value = _dkim_record.build_dkim(
        {
            "selector": "ed",
            "key_type": "ed25519",
            "public_key": ED_RAW,
            "flags": ["y", "s"],
            "hash_algorithms": ["sha256"],
            "service_types": ["email"],
        }
    )
    assert value == "v=DKIM1; h=sha256; k=ed25519; s=email; t=y:s; p=" + ED_RAW


def test_dkim_complete_value():
    key = rsa_key(2048)
    value = "v=DKIM1; k=rsa;  p=" + spki_b64(key)
    assert _dkim_record.build_dkim({"selector": "a", "value": value})[1] == "v=DKIM1; k=rsa; p=" + spki_b64(key)
    with pytest.raises(_names.RecordError, match=r"dkim\.value must not contain control characters"):
        _dkim_record.build_dkim({"selector": "a", "value": "v=DKIM1; k=rsa;\tp=" + spki_b64(key)})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"selector": "mx1", "public_key": "RSA512"}, "too small"),
        ({"selector": "mx1", "public_key": "EC"}, "RSA and Ed25519 keys only"),
        ({"selector": "mx1", "public_key": "not base64 !"}, "cannot read the DKIM public key"),
        ({"selector": "mx1", "public_key": "PRIVATE"}, "this is a private key"),
        ({"selector": "mx1", "public_key": "RSA2048", "key_type": "ed25519"}, "key_type is ed25519"),
        ({"selector": "mx1", "public_key": "RSA2048", "key_type": "dsa"}, "key_type must be one of"),
        ({"selector": "mx1"}, "public_key or value is required"),
        ({"selector": "bad_sel", "public_key": "RSA2048"}, "'bad_sel' is not a DNS label"),
        ({"selector": "", "public_key": "RSA2048"}, "DKIM selector must be a domain name, got ''"),
        ({"selector": "s1._domainkey", "public_key": "RSA2048"}, "must not contain _domainkey"),
        ({"selector": "mx1", "public_key": "RSA2048", "flags": ["x"]}, "flags: 'x' is not one of y, s"),
        ({"selector": "mx1", "public_key": "RSA2048", "hash_algorithms": ["sha1"]}, "is not one of sha256"),
        ({"selector": "mx1", "public_key": "RSA2048", "size": 2048}, "unknown option(s) size"),
        ({"selector": "mx1", "value": "v=DKIM1; k=rsa"}, "p= tag (public key) is missing"),
        ({"selector": "mx1", "value": "v=DKIM1; k=dsa; p=AAAA"}, "k=dsa is not a supported"),
        ({"selector": "mx1", "value": "v=DKIM1; p="}, "revoked"),
        ({"selector": "mx1", "value": "k=rsa; v=DKIM1; p=AAAA"}, "v= must be the first tag"),
        ({"selector": "mx1", "value": "v=DKIM1; h=sha1; p=RSA2048"}, "h=sha1 must not be used"),
        ({"selector": "mx1", "value": "v=DKIM1; p=RSA512"}, "too small"),
    ],
)
def test_dkim_bad_input(entry, message):
    entry = dict(entry)
    for field in ("public_key", "value"):
        if field in entry:
            entry[field] = _key_placeholder(entry[field])
    with pytest.raises(RecordError) as err:
        _dkim_record.build_dkim(entry, "example.test")
    assert message in str(err.value)
    assert "example.test" in str(err.value)
    assert "BEGIN" not in str(err.value)  # never echoes key material


def _key_placeholder(text: str) -> str:
    replacements = {
        "RSA2048": spki_b64(rsa_key(2048)),
        "EC": pem(ec.generate_private_key(ec.SECP256R1()).public_key()),
        "PRIVATE": rsa_key_private_pem(),
    }
    # cryptography refuses to generate keys under 1024 bits; a public key is just numbers.
    replacements["RSA512"] = spki_b64(rsa.RSAPublicNumbers(65537, (1 << 511) | 0x1234567).public_key())
    for name, replacement in replacements.items():
        if text == name:
            return replacement
        text = text.replace("p=" + name, "p=" + replacement)
    return text


@functools.lru_cache(maxsize=None)
def rsa_key_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_rsa_1024_is_accepted_by_the_builder():
    # 1024 bits is a lint warning, not an error.
    _sel, value = _dkim_record.build_dkim({"selector": "old", "public_key": pem(rsa_key(1024))})
    assert value.startswith("v=DKIM1; k=rsa; p=")


def test_keys_equal():
    key = rsa_key(2048)
    assert _dkim_record.keys_equal(pem(key), spki_b64(key))
    assert not _dkim_record.keys_equal(pem(key), pem(rsa_key(1024)))


# -- DMARC, MTA-STS, TLS-RPT ------------------------------------------------------------------------------------


def test_dmarc_full():
    value, report_domains = _reporting.build_dmarc(
        {
            "p": "reject",
            "sp": "quarantine",
            "np": "reject",
            "pct": 50,
            "adkim": "s",
            "aspf": "r",
            "rua": ["dmarc@example.test", "mailto:agg@reports.example.net!10m"],
            "ruf": "mailto:forensic@example.test",
            "fo": "1:d",
            "ri": 3600,
            "t": True,
        },
        "example.test",
    )
    assert value == (
        "v=DMARC1; p=reject; sp=quarantine; np=reject; pct=50; adkim=s; aspf=r; "
        "rua=mailto:dmarc@example.test,mailto:agg@reports.example.net!10m; ruf=mailto:forensic@example.test; "
        "fo=1:d; ri=3600; t=y"
    )
    assert report_domains == ["example.test", "reports.example.net"]


def test_dmarc_psd_is_a_field():
    # RFC 9989's psd tag: accepted as a field as it is in a complete value, with the same rule.
    assert _reporting.build_dmarc({"p": "reject", "psd": "Y"})[0] == "v=DMARC1; p=reject; psd=y"
    assert _reporting.build_dmarc("v=DMARC1; p=reject; psd=y")[0] == "v=DMARC1; p=reject; psd=y"
    with pytest.raises(RecordError, match=r"dmarc\.psd must be one of y, n, u, got 'q'"):
        _reporting.build_dmarc({"p": "reject", "psd": "q"}, "example.test")


def test_dmarc_minimal_and_value():
    assert _reporting.build_dmarc({"p": "none"})[0] == "v=DMARC1; p=none"
    assert _reporting.build_dmarc("v=DMARC1;p=reject")[0] == "v=DMARC1; p=reject"


@pytest.mark.parametrize(
    ("dmarc", "message"),
    [
        ({}, "p is required"),
        ({"p": "rejected"}, "p must be one of none, quarantine, reject"),
        ({"p": "none", "sp": "all"}, "sp must be one of"),
        ({"p": "none", "pct": 101}, "between 0 and 100"),
        ({"p": "none", "pct": "half"}, "whole number"),
        ({"p": "none", "adkim": "x"}, "adkim must be one of r, s"),
        ({"p": "none", "rua": ["not-an-address"]}, "is not an e-mail address"),
        ({"p": "none", "rua": ["https://x.test/r"]}, "only mailto:"),
        ({"p": "none", "rua": ["a,b@x.test"]}, "invalid local part"),
        ({"p": "none", "rua": ["a@x.test!lots"]}, "invalid size limit"),
        ({"p": "none", "rua": ["a@bad_domain.test"]}, "is not a DNS label"),
        ({"p": "none", "fo": "2"}, "fo must be one of 0, 1, d, s"),
        ({"p": "none", "ri": -1}, "between 0 and"),
        ({"p": "none", "t": "maybe"}, "t must be one of y, n"),
        ({"p": "none", "rf": "afrf"}, "unknown option(s) rf"),
        ("v=DMARC1; p=none; foo=bar", "unknown tag foo"),
        ("v=DMARC1; sp=none", "p= tag is required"),
        ("p=none", "starts with v=DMARC1"),
        ("v=DMARC1; p=none; p=reject", "appears twice"),
        ("v=DMARC1; p=none; rua=dmarc@example.test", "must be mailto: URIs"),
    ],
)
def test_dmarc_bad_input(dmarc, message):
    with pytest.raises(RecordError) as err:
        _reporting.build_dmarc(dmarc, "example.test")
    assert message in str(err.value)


def test_mta_sts_and_tls_rpt():
    assert _reporting.build_mta_sts({"id": 20260101}) == "v=STSv1; id=20260101"
    assert _reporting.build_mta_sts({"value": "v=STSv1;id=abc"}) == "v=STSv1; id=abc"
    assert _reporting.build_tls_rpt({"rua": ["tls@example.test", "https://rpt.example.test/v1"]}) == (
        "v=TLSRPTv1; rua=mailto:tls@example.test,https://rpt.example.test/v1"
    )
    with pytest.raises(RecordError, match="1 to 32 letters or digits"):
        _reporting.build_mta_sts({"id": "2026-01-01"})
    with pytest.raises(RecordError, match="at least one"):
        _reporting.build_tls_rpt({"rua": []})
    with pytest.raises(RecordError, match="only mailto: and https:"):
        _reporting.build_tls_rpt({"rua": ["ftp://x.test/"]})


# -- names and desired records ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "must be a domain name"),
        (None, "must be a string"),
        ("localhost", "at least 2 labels"),
        ("exa_mple.test", "is not a DNS label"),
        ("-bad.test", "is not a DNS label"),
        ("a..test", "empty label"),
        ("x" * 64 + ".test", "longer than 63"),
        (("a" * 60 + ".") * 5 + "test", "longer than 253"),
        ("192.0.2.1", "looks like an IP address"),
        ("exa mple.test", "holds a space"),
    ],
)
def test_bad_domain_names(name, message):
    with pytest.raises(RecordError) as err:
        _names.check_domain(name, "mail domain")
    assert message in str(err.value)


def test_domain_normalised():
    assert _names.check_domain("Example.TEST.") == "example.test"
    assert _names.check_domain("bücher.example") == "xn--bcher-kva.example"


def test_desired_records_for_a_full_entry():
    key = rsa_key(2048)
    domains = [
        {
            "name": "Example.test",
            "mail_hosts": ["mx1"],  # keys of the shared inventory list are ignored
            "ttl": 600,
            "spf": {"mechanisms": ["mx"]},
            "spf_merge": "replace",
            "dkim": [{"selector": "mx1", "public_key": pem(key)}, {"selector": "ed", "public_key": ED_RAW}],
            "dmarc": {"p": "reject", "rua": ["dmarc@example.org", "dmarc@example.test", "x@unmanaged.example"]},
            "mta_sts": {"id": "20260101"},
            "tls_rpt": {"rua": ["tls@example.test"]},
        },
        {"name": "example.org", "zone": "example.org", "dmarc": {"p": "none"}},
    ]
    records = _entries.desired_records(domains)
    assert records == [
        RecordSet("example.test", "TXT", 600, ["v=spf1 mx -all"]),
        RecordSet("mx1._domainkey.example.test", "TXT", 600, ["v=DKIM1; k=rsa; p=" + spki_b64(key)]),
        RecordSet("ed._domainkey.example.test", "TXT", 600, ["v=DKIM1; k=ed25519; p=" + ED_RAW]),
        RecordSet(
            "_dmarc.example.test",
            "TXT",
            600,
            ["v=DMARC1; p=reject; rua=mailto:dmarc@example.org,mailto:dmarc@example.test,mailto:x@unmanaged.example"],
        ),
        RecordSet("example.test._report._dmarc.example.org", "TXT", 600, ["v=DMARC1"]),
        RecordSet("_mta-sts.example.test", "TXT", 600, ["v=STSv1; id=20260101"]),
        RecordSet("_smtp._tls.example.test", "TXT", 600, ["v=TLSRPTv1; rua=mailto:tls@example.test"]),
        RecordSet("_dmarc.example.org", "TXT", 3600, ["v=DMARC1; p=none"]),
    ]
    items = _entries.desired_items(domains)
    report = next(i for i in items if i.kind == "report")
    assert (report.domain, report.zone) == ("example.test", "example.org")
    assert {i.spf_merge for i in items if i.domain == "example.test"} == {"replace"}


def test_desired_absent_lists_names_with_no_values():
    items = _entries.desired_items(
        [
            {
                "name": "example.test",
                "state": "absent",
                "spf": {},
                "dkim": [{"selector": "old"}],
                "dmarc": {"p": "none", "rua": ["r@example.org"]},
            },
            {"name": "example.org"},
        ]
    )
    assert [(i.rrset.name, i.rrset.values, i.state) for i in items] == [
        ("example.test", [], "absent"),
        ("old._domainkey.example.test", [], "absent"),
        ("_dmarc.example.test", [], "absent"),
        ("example.test._report._dmarc.example.org", [], "absent"),
    ]


@pytest.mark.parametrize(
    ("domains", "message"),
    [
        ("example.test", "must be a list"),
        (["example.test"], "must be a dictionary"),
        ([{"name": "a.test"}, {"name": "A.test."}], "listed twice"),
        ([{"name": "a.test", "state": "gone"}], "state must be present or absent"),
        ([{"name": "a.test", "ttl": 0}], "ttl must be between 1"),
        ([{"name": "a.test", "ttl": "soon"}], "whole number"),
        ([{"name": "a.test", "zone": "b.test"}], "not inside zone b.test"),
        ([{"name": "a.test", "spf_merge": "union"}], "spf_merge must be one of"),
        ([{"name": "a.test", "dkim": "mx1"}], "dkim must be a list"),
        ([{"name": "a.test", "dkim": [{"selector": "x"}, {"selector": "X"}]}], "public_key or value is required"),
        ([{"name": "a.test", "dmarc": {"p": "none", "foo": 1}}], "unknown option(s) foo"),
        ([{"name": "a.test", "mta_sts": {"id": ""}}], "mta_sts.id"),
    ],
)
def test_desired_bad_input(domains, message):
    with pytest.raises(RecordError) as err:
        _entries.desired_records(domains)
    assert message in str(err.value)


def test_desired_duplicate_selector_names():
    key = ED_RAW
    with pytest.raises(RecordError, match="also produced by"):
        _entries.desired_records(
            [{"name": "a.test", "dkim": [{"selector": "x", "public_key": key}, {"selector": "X", "public_key": key}]}]
        )


def test_desired_values_are_stable_under_normalize():
    """What the model builds is already in normal form, so a re-read never looks different."""
    key = rsa_key(2048)
    domains = [
        {
            "name": "example.test",
            "spf": {"mechanisms": ["mx", "a"], "include": ["_spf.example.net"]},
            "dkim": [{"selector": "mx1", "public_key": pem(key), "flags": ["s"]}],
            "dmarc": {"p": "quarantine", "rua": ["a@example.test", "b@example.test"], "fo": ["1", "d"]},
            "mta_sts": {"id": "1"},
            "tls_rpt": {"rua": ["t@example.test"]},
        }
    ]
    for record in _entries.desired_records(domains):
        for value in record.values:
            assert _txt.normalize(value) == value
            assert _txt.txt_equal(_txt.from_zone_text(_txt.to_zone_text(value)), value)
