# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cloudflare provider, pure parts: TXT content forms and the batch built from a plan."""

from __future__ import annotations

import pytest

from ansible_collections.mailauth.core.plugins.module_utils import _cloudflare as cf
from ansible_collections.mailauth.core.plugins.module_utils._provider import Change, ProviderError, RecordSet

ZONE = "example.test"


@pytest.mark.parametrize(
    ("content", "value"),
    [
        ('"v=spf1 mx -all"', "v=spf1 mx -all"),
        ('"v=spf1 " "mx -all"', "v=spf1 mx -all"),
        ("v=spf1 mx -all", "v=spf1 mx -all"),  # unquoted, as typed in the dashboard
        ('"say \\"hi\\""', 'say "hi"'),
        ('"caf\\195\\169"', "caf\u00e9"),
    ],
)
def test_content_forms(content, value):
    assert cf.content_to_value("TXT", content) == value


def test_long_values_are_sent_as_quoted_255_byte_strings():
    value = "v=DKIM1; k=rsa; p=" + "A" * 700
    content = cf.value_to_content("TXT", value)
    parts = content[1:-1].split('" "')
    assert [len(p) for p in parts] == [255, 255, 208]
    assert cf.content_to_value("TXT", content) == value


def provider_with(records: dict) -> cf.CloudflareProvider:
    provider = cf.CloudflareProvider({"api_token": "t", "api_url": "http://127.0.0.1:9/client/v4"})
    for name, items in records.items():
        provider._records[(ZONE, name, "TXT")] = [
            cf._Record(rid, cf.content_to_value("TXT", content), ttl, content) for rid, content, ttl in items
        ]
    return provider


def test_batch_keeps_equal_values_patches_changed_and_posts_new():
    provider = provider_with(
        {
            ZONE: [("g", '"google-site-verification=x"', 3600), ("s", '"v=spf1 ~all"', 3600)],
            "_dmarc." + ZONE: [("d", "v=DMARC1;p=none", 300)],
        }
    )
    changes = [
        Change(
            "update",
            RecordSet(ZONE, "TXT", 3600, ["google-site-verification=x", "v=spf1 ~all"]),
            RecordSet(ZONE, "TXT", 3600, ["google-site-verification=x", "v=spf1 mx ~all"]),
        ),
        Change(
            "update",
            RecordSet("_dmarc." + ZONE, "TXT", 300, ["v=DMARC1;p=none"]),
            RecordSet("_dmarc." + ZONE, "TXT", 300, ["v=DMARC1; p=reject"]),
        ),
        Change("create", None, RecordSet("mx1._domainkey." + ZONE, "TXT", 300, ["v=DKIM1; k=rsa; p=AAAA"])),
    ]
    batch = provider.build_batch(ZONE, changes)
    assert batch["deletes"] == []
    assert batch["patches"] == [
        {"id": "s", "type": "TXT", "name": ZONE, "content": '"v=spf1 mx ~all"', "ttl": 3600},
        {"id": "d", "type": "TXT", "name": "_dmarc." + ZONE, "content": '"v=DMARC1; p=reject"', "ttl": 300},
    ]
    assert batch["posts"] == [
        {"type": "TXT", "name": "mx1._domainkey." + ZONE, "content": '"v=DKIM1; k=rsa; p=AAAA"', "ttl": 300}
    ]


def test_batch_deletes_and_ttl_only_patch():
    provider = provider_with(
        {
            "_dmarc." + ZONE: [("d", '"v=DMARC1; p=none"', 300)],
            "_smtp._tls." + ZONE: [("t", '"v=TLSRPTv1; rua=mailto:a@example.test"', 1)],
        }
    )
    changes = [
        Change("delete", RecordSet("_dmarc." + ZONE, "TXT", 300, ["v=DMARC1; p=none"]), None),
        Change(
            "update",
            RecordSet("_smtp._tls." + ZONE, "TXT", 1, ["v=TLSRPTv1; rua=mailto:a@example.test"]),
            RecordSet("_smtp._tls." + ZONE, "TXT", 3600, ["v=TLSRPTv1;rua=mailto:a@example.test"]),
        ),
    ]
    batch = provider.build_batch(ZONE, changes)
    assert batch == {
        "deletes": [{"id": "d"}],
        "patches": [{"id": "t", "type": "TXT", "name": "_smtp._tls." + ZONE, "ttl": 3600}],
        "posts": [],
    }


def test_create_over_a_record_that_appeared_is_refused():
    provider = provider_with({"_dmarc." + ZONE: [("d", '"v=DMARC1; p=none"', 300)]})
    with pytest.raises(ProviderError, match="appeared"):
        provider.build_batch(ZONE, [Change("create", None, RecordSet("_dmarc." + ZONE, "TXT", 300, ["x"]))])


def test_split_batch_keeps_the_api_order():
    batch = {
        "deletes": [{"id": "a"}, {"id": "b"}],
        "patches": [{"id": "c"}],
        "posts": [{"name": "p%d" % i} for i in range(4)],
    }
    requests = cf.CloudflareProvider.split_batch(batch, 3)
    assert requests == [
        {"deletes": [{"id": "a"}, {"id": "b"}], "patches": [{"id": "c"}]},
        {"posts": [{"name": "p0"}, {"name": "p1"}, {"name": "p2"}]},
        {"posts": [{"name": "p3"}]},
    ]


def test_token_is_required():
    with pytest.raises(ProviderError, match="api_token"):
        cf.CloudflareProvider({})


def test_a_later_batch_request_fails_the_error_names_what_earlier_ones_applied():
    """batch_size 2: six creates need three requests; the second fails, the third is never sent."""
    provider = cf.CloudflareProvider({"api_token": "t", "api_url": "http://127.0.0.1:9/client/v4", "batch_size": 2})
    provider._zone_ids[ZONE] = "zid"
    names = ["n%d.%s" % (i, ZONE) for i in range(6)]
    for name in names:
        provider._records[(ZONE, name, "TXT")] = []
    sent = []

    def request(method, path, what, query=None, body=None, kind="read", retry_5xx=True):
        sent.append(body)
        if len(sent) == 2:
            error = ProviderError("Cloudflare failed to %s (HTTP 400: quota exceeded [81045])" % what)
            error.status = 400
            raise error
        return {"success": True, "result": {}}

    provider._request = request
    changes = [Change("create", None, RecordSet(n, "TXT", 300, ["v=%s" % n])) for n in names]
    with pytest.raises(ProviderError) as raised:
        provider.apply(ZONE, changes)
    error = raised.value
    assert len(sent) == 2
    assert error.zone == ZONE
    assert error.applied == [op["name"] for op in sent[0]["posts"]] == names[:2]
    assert "in batch request 2 of 3" in error.msg and "quota exceeded" in error.msg
    assert "request 1 was applied (2 changes: n0.example.test, n1.example.test)" in error.msg
