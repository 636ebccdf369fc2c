# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters: the same results and errors as the record model, through Jinja as a template sees them."""

from __future__ import annotations

import base64

import pytest
from ansible.errors import AnsibleFilterError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jinja2 import Environment

from ansible_collections.mailauth.core.plugins.filter import records as filters
from ansible_collections.mailauth.core.plugins.module_utils import _names, _spf, _txt

KEY = rsa.generate_private_key(public_exponent=65537, key_size=4096).public_key()
PEM = KEY.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
P = base64.b64encode(
    KEY.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
).decode()


@pytest.fixture
def render():
    env = Environment()
    env.filters.update(filters.FilterModule().filters())

    def _render(template: str, **variables):
        return env.from_string(template).render(**variables)

    return _render


def test_filters_registered():
    assert set(filters.FilterModule().filters()) == {"spf_record", "dmarc_record", "dkim_record", "txt_split"}


def test_spf_record(render):
    spf = {"mechanisms": ["mx"], "ip4": ["192.0.2.10"], "include": ["_spf.example.net"]}
    assert render("{{ spf | spf_record }}", spf=spf) == "v=spf1 mx ip4:192.0.2.10 include:_spf.example.net -all"
    assert filters.spf_record(spf) == _spf.build_spf(spf)


def test_dmarc_record(render):
    out = render("{{ {'p': 'reject', 'rua': ['d@example.test']} | dmarc_record(domain='example.test') }}")
    assert out == "v=DMARC1; p=reject; rua=mailto:d@example.test"


def test_dkim_record_and_txt_split(render):
    value = render("{{ key | dkim_record }}", key=PEM)
    assert value == "v=DKIM1; k=rsa; p=" + P
    assert (
        filters.dkim_record({"public_key": P, "selector": "ignored", "flags": ["s"]}) == "v=DKIM1; k=rsa; t=s; p=" + P
    )
    assert filters.dkim_record(PEM, flags=["y"]) == "v=DKIM1; k=rsa; t=y; p=" + P
    chunks = filters.txt_split(value)
    assert "".join(chunks) == value and max(len(c) for c in chunks) == 255
    zone = render("{{ v | txt_split(format='zone') }}", v=value)
    assert zone == _txt.to_zone_text(value)
    assert _txt.from_zone_text(zone) == value
    assert filters.txt_split("€" * 100, limit=10) == ["€€€"] * 33 + ["€"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: filters.spf_record({"mechanisms": ["bogus"]}), "spf_record: the domain: spf.mechanisms: unknown SPF"),
        (lambda: filters.spf_record({"all": "-all"}, domain="bad_domain"), "at least 2 labels"),
        (lambda: filters.dmarc_record({"p": "maybe"}, domain="example.test"), "example.test: dmarc.p must be one of"),
        (lambda: filters.dkim_record("AAAA"), "dkim_record: cannot read the DKIM public key"),
        (lambda: filters.dkim_record(PEM, key_type="ed25519"), "key_type is ed25519 but the public key is an rsa key"),
        (lambda: filters.txt_split(42), "must be a string"),
        (lambda: filters.txt_split("x", limit=300), "at most 255"),
        (lambda: filters.txt_split("x", limit="ten"), "whole number"),
        (lambda: filters.txt_split("x", format="json"), "format must be list or zone"),
    ],
)
def test_filter_errors(call, message):
    with pytest.raises((AnsibleFilterError, _names.RecordError)) as err:
        call()
    assert message in str(err.value)
    assert isinstance(err.value, AnsibleFilterError)
