# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TXT codec: splitting, zone-file quoting, parsing back, semantic comparison."""

from __future__ import annotations

import random

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from ansible_collections.mailauth.core.plugins.module_utils import _txt

RSA4096_P = "MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEA" + "x" * 690 + "IDAQAB"


def test_short_value_is_one_string():
    assert _txt.split_txt("v=spf1 -all") == ["v=spf1 -all"]


def test_empty_value_is_one_empty_string():
    assert _txt.split_txt("") == [""]
    assert _txt.to_zone_text("") == '""'


def test_long_dkim_value_split_into_255_byte_strings():
    value = "v=DKIM1; k=rsa; p=" + RSA4096_P
    chunks = _txt.split_txt(value)
    assert len(chunks) == 3
    assert [len(c) for c in chunks[:-1]] == [255, 255]
    assert "".join(chunks) == value


@pytest.mark.parametrize("limit", [4, 5, 7, 100, 254, 255])
def test_utf8_never_split(limit):
    rng = random.Random(limit)
    alphabet = ["a", "é", "€", "𝄞", '"', "\\", " "]
    for _round in range(200):
        value = "".join(rng.choice(alphabet) for _round in range(rng.randint(0, 600)))
        chunks = _txt.split_txt(value, limit)
        assert "".join(chunks) == value
        for chunk in chunks:
            assert len(chunk.encode("utf-8")) <= limit
            chunk.encode("utf-8").decode("utf-8")  # each string is valid UTF-8 on its own


def test_limit_bounds():
    with pytest.raises(_txt.TxtError, match="at most 255"):
        _txt.split_txt("x", 256)
    with pytest.raises(_txt.TxtError, match="at least 4"):
        _txt.split_txt("x", 3)


def test_zone_text_escapes():
    assert _txt.to_zone_text('say "hi" \\ now') == '"say \\"hi\\" \\\\ now"'
    assert _txt.to_zone_text("é") == '"\\195\\169"'
    assert _txt.to_zone_text("a\tb") == '"a\\009b"'


def test_escape_never_straddles_strings():
    # 254 plain bytes then a quote: the quote is byte 255 and its escape stays whole in the first string.
    value = "a" * 254 + '"' + "b"
    text = _txt.to_zone_text(value)
    first, second = text.split('" "')
    assert first == '"' + "a" * 254 + '\\"'
    assert second == 'b"'
    assert _txt.from_zone_text(text) == value


def test_zone_text_round_trip_through_dnspython():
    rng = random.Random(7)
    alphabet = ["a", "Z", "é", "€", "𝄞", '"', "\\", " ", ";", "\t", "\x00"]
    for _round in range(300):
        value = "".join(rng.choice(alphabet) for _round in range(rng.randint(0, 900)))
        text = _txt.to_zone_text(value)
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, text)
        assert all(len(s) <= 255 for s in rdata.strings)
        assert _txt.from_wire_strings(rdata.strings) == value
        assert _txt.from_zone_text(text) == value
        # presentation text dnspython writes parses back to the same value
        assert _txt.from_zone_text(rdata.to_text()) == value


def test_wire_strings():
    strings = _txt.to_wire_strings("x" * 600)
    assert [len(s) for s in strings] == [255, 255, 90]
    assert _txt.from_wire_strings(strings) == "x" * 600


def test_from_zone_text_errors():
    with pytest.raises(_txt.TxtError, match="cannot parse"):
        _txt.from_zone_text('"unterminated')


def test_from_zone_text_multiple_strings():
    assert _txt.from_zone_text('"v=spf1 " "mx -all"') == "v=spf1 mx -all"


@pytest.mark.parametrize(
    ("one", "two"),
    [
        (["a", "b"], "ab"),
        ("v=spf1  mx   -all", "v=spf1 mx -all"),
        ("V=SPF1 MX -ALL", "v=spf1 mx -all"),
        (["v=spf1 ", "mx -all"], "v=spf1 mx -all"),
        ("v=DKIM1;k=rsa;  p=MIIB AQAB", "v=DKIM1; k=rsa; p=MIIBAQAB"),
        ("v=DKIM1; k=rsa; p=MIIBAQAB;", "v=DKIM1; k=rsa; p=MIIBAQAB"),
        ("v=DKIM1; h=sha256 : sha1; p=AB", "v=DKIM1; h=sha256:sha1; p=AB"),
        ("k=rsa; p=AB CD", "k=rsa; p=ABCD"),
        (
            "v=DMARC1;p=reject; rua=mailto:a@x.test , mailto:b@y.test",
            "v=DMARC1; p=reject; rua=mailto:a@x.test,mailto:b@y.test",
        ),
        ("v=DMARC1; p=reject; fo=0 : 1", "v=DMARC1; p=reject; fo=0:1"),
        ("v=STSv1;id=2026", "v=STSv1; id=2026"),
        ("v=TLSRPTv1;rua=mailto:a@x.test", "v=TLSRPTv1; rua=mailto:a@x.test"),
    ],
)
def test_semantically_equal(one, two):
    assert _txt.txt_equal(one, two)
    assert _txt.txt_equal(two, one)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("v=spf1 mx -all", "v=spf1 mx ~all"),
        ("v=spf1 exists:%{i}.x.test -all", "v=spf1 exists:%{I}.x.test -all"),  # macro letter case matters
        ("v=DKIM1; p=AB", "v=dkim1; p=AB"),  # DKIM tags are case-sensitive
        ("v=DMARC1; p=reject", "v=DMARC1; p=none"),
        ("google-site-verification=abc", "google-site-verification = abc"),  # foreign values compared exactly
        ("hello  world", "hello world"),
        (" v=spf1 -all", "v=spf1 -all"),  # not an SPF record at all (RFC 7208 4.5)
    ],
)
def test_semantically_different(a, b):
    assert not _txt.txt_equal(a, b)


def test_normalize_is_idempotent():
    samples = [
        "v=spf1   MX include:_spf.Example.test  -all ",
        "v=DKIM1 ;  k = rsa ; t = y : s ; p = AB\tCD ;",
        "v=DMARC1;p=none;rua=mailto:a@x.test ,mailto:b@y.test!10m; fo = 1:d",
        "plain text value",
        ["v=DMARC1; p=", "reject"],
    ]
    for sample in samples:
        once = _txt.normalize(sample)
        assert _txt.normalize(once) == once


def test_normalize_rejects_other_types():
    with pytest.raises(_txt.TxtError):
        _txt.normalize(42)


def test_is_spf():
    assert _txt.is_spf("v=spf1")
    assert _txt.is_spf("v=spf1 -all")
    assert _txt.is_spf("V=SPF1 -all")
    assert not _txt.is_spf("v=spf10 -all")
    assert not _txt.is_spf("spf2.0/pra -all")
    assert not _txt.is_spf(" v=spf1 -all")
