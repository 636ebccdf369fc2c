# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Route 53 change batches: one request per zone, split only at Route 53's request limits."""

from __future__ import annotations

import pytest

from ansible_collections.mailauth.core.plugins.module_utils import _route53 as r53
from ansible_collections.mailauth.core.plugins.module_utils._provider import ProviderError


def change(action: str, name: str, values: list[str]) -> dict:
    return {
        "Action": action,
        "ResourceRecordSet": {
            "Name": name + ".",
            "Type": "TXT",
            "TTL": 300,
            "ResourceRecords": [{"Value": v} for v in values],
        },
    }


def cost(batch: list[dict]) -> tuple[int, int]:
    records = chars = 0
    for c in batch:
        n, m = r53.change_cost(c)
        records += n
        chars += m
    return records, chars


def test_everything_fits_in_one_batch():
    units = [[change("CREATE", "d%d.example.test" % i, ['"v=spf1 -all"'])] for i in range(300)]
    batches = r53.split_batches(units)
    assert len(batches) == 1
    assert [c["ResourceRecordSet"]["Name"] for c in batches[0]] == ["d%d.example.test." % i for i in range(300)]


def test_split_at_1000_resource_records():
    units = [[change("CREATE", "d%d.example.test" % i, ['"a"'])] for i in range(2500)]
    batches = r53.split_batches(units)
    assert [len(b) for b in batches] == [1000, 1000, 500]
    # order is kept across batches
    flat = [c["ResourceRecordSet"]["Name"] for b in batches for c in b]
    assert flat == ["d%d.example.test." % i for i in range(2500)]


def test_split_at_32000_characters():
    value = '"' + "x" * 998 + '"'  # 1,000 characters
    units = [[change("CREATE", "d%d.example.test" % i, [value])] for i in range(70)]
    batches = r53.split_batches(units)
    assert [len(b) for b in batches] == [32, 32, 6]
    for batch in batches:
        assert cost(batch)[1] <= r53.MAX_VALUE_CHARS_PER_REQUEST


def test_exactly_at_the_limits_is_one_batch():
    value = '"' + "y" * 30 + '"'  # 32 characters, 1,000 of them = 32,000
    units = [[change("CREATE", "d%d.example.test" % i, [value])] for i in range(1000)]
    batches = r53.split_batches(units)
    assert len(batches) == 1
    assert cost(batches[0]) == (1000, 32000)


def test_upsert_counts_twice():
    units = [[change("UPSERT", "d%d.example.test" % i, ['"a"'])] for i in range(600)]
    batches = r53.split_batches(units)
    assert [len(b) for b in batches] == [500, 100]


def test_delete_and_create_of_one_rrset_stay_together():
    units = []
    for i in range(700):
        units.append(
            [change("DELETE", "d%d.example.test" % i, ['"old"']), change("CREATE", "d%d.example.test" % i, ['"new"'])]
        )
    batches = r53.split_batches(units)
    # 1,000 records per request = 500 updates, and no update is cut in half
    assert [len(b) for b in batches] == [1000, 400]
    for batch in batches:
        assert batch[0]["Action"] == "DELETE"
        for i in range(0, len(batch), 2):
            assert batch[i]["Action"] == "DELETE" and batch[i + 1]["Action"] == "CREATE"
            assert batch[i]["ResourceRecordSet"]["Name"] == batch[i + 1]["ResourceRecordSet"]["Name"]


def test_multi_value_rrsets_count_every_record():
    units = [[change("CREATE", "d%d.example.test" % i, ['"a"', '"b"', '"c"'])] for i in range(400)]
    batches = r53.split_batches(units)
    assert [cost(b)[0] for b in batches] == [999, 201]


def test_one_unit_over_the_limit_is_refused():
    value = '"' + "z" * 253 + '" ' * 1  # 256 characters
    unit = [change("CREATE", "big.example.test", [value.strip()] * 130)]  # ~33,000 characters
    with pytest.raises(ProviderError, match="exceeds Route 53's request limits"):
        r53.split_batches([unit])


def test_custom_limits():
    units = [[change("CREATE", "d%d.example.test" % i, ['"abcd"'])] for i in range(10)]
    assert [len(b) for b in r53.split_batches(units, max_records=3)] == [3, 3, 3, 1]
    assert [len(b) for b in r53.split_batches(units, max_chars=13)] == [2, 2, 2, 2, 2]


def test_empty():
    assert r53.split_batches([]) == []


@pytest.mark.parametrize(
    "value",
    [
        "v=spf1 mx -all",
        "v=DKIM1; k=rsa; p=" + "A" * 700,
        'quote " and backslash \\ inside',
        "caf\u00e9 \u2013 utf-8",
        "",
    ],
)
def test_txt_value_round_trip(value):
    wire = r53.txt_to_route53(value)
    assert wire.startswith('"') and wire.endswith('"')
    assert r53.txt_from_route53(wire) == value


def test_txt_value_strings_are_at_most_255_bytes():
    wire = r53.txt_to_route53("p=" + "B" * 600)
    strings = wire.split('" "')
    assert len(strings) == 3
    assert [len(s.strip('"')) for s in strings] == [255, 255, 92]


def test_txt_value_octal_escapes():
    assert r53.txt_to_route53("\u00e9") == '"\\303\\251"'
    assert r53.txt_from_route53('"\\303\\251"') == "\u00e9"
    # an escaped backslash followed by digits is not an octal escape
    assert r53.txt_from_route53('"\\\\101"') == "\\101"
