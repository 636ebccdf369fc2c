"""MTA-STS and TLS-RPT: one description of each kind, used by dns_records, mail_dns_info and the linter."""

from __future__ import annotations

import pytest

from ansible_collections.mailauth.core.plugins.module_utils import _dns_info, _entries, _lint, _reporting

MTA_STS, TLS_RPT = _reporting.POLICY_KINDS


def codes(findings):
    return sorted(f["code"] for f in findings)


def test_kinds_name_the_records_dns_records_publishes():
    items = _entries.desired_items(
        [{"name": "example.test", "mta_sts": {"id": 1}, "tls_rpt": {"rua": "t@example.test"}}]
    )
    assert (
        [(i.kind, i.rrset.name) for i in items]
        == [
            ("mta_sts", MTA_STS.name("example.test")),
            ("tls_rpt", TLS_RPT.name("example.test")),
        ]
        == [("mta_sts", "_mta-sts.example.test"), ("tls_rpt", "_smtp._tls.example.test")]
    )


@pytest.mark.parametrize(
    ("policy", "values", "expected", "found"),
    [
        (MTA_STS, ["v=STSv1; id=20260101"], True, []),
        (MTA_STS, ["v=STSv1;id=a", "other"], False, []),
        (MTA_STS, [], True, ["mta-sts-missing"]),
        (MTA_STS, [], False, []),
        (MTA_STS, ["v=STSv1; id=1", "v=STSv1; id=2"], False, ["mta-sts-multiple"]),
        (MTA_STS, ["v=STSv1; id=2026-01-01"], False, ["mta-sts-syntax"]),
        (TLS_RPT, ["v=TLSRPTv1; rua=mailto:t@example.test,https://r.example.test/x"], True, []),
        (TLS_RPT, ["v=TLSRPTv1; rua=ftp://x.test/"], False, ["tls-rpt-syntax"]),
        (TLS_RPT, ["v=TLSRPTv1; rua=mailto:a@x.test", "v=TLSRPTv1; rua=mailto:b@x.test"], False, ["tls-rpt-multiple"]),
        (TLS_RPT, ["v=STSv1; id=1"], True, ["tls-rpt-missing"]),
    ],
)
def test_lint_policy_values(policy, values, expected, found):
    assert codes(_lint.lint_policy_values(policy, values, policy.name("x.test"), expected=expected)) == found


def test_mail_dns_info_expects_what_dns_records_would_publish():
    spec = _dns_info.normalise_spec({"name": "Example.TEST", "mta_sts": 20260101, "tls_rpt": ["t@example.test"]})
    assert spec["mta_sts"] == "v=STSv1; id=20260101"
    assert spec["tls_rpt"] == "v=TLSRPTv1; rua=mailto:t@example.test"
    names = [item.name for item in _dns_info.expected_items(spec)]
    assert names == ["_mta-sts.example.test", "_smtp._tls.example.test"]
    check = _dns_info.expected_items(spec)[0].check
    assert check(["v=STSv1;  id=20260101", "foreign"]) and not check(["v=STSv1; id=1"]) and not check([])
    with pytest.raises(_reporting.RecordError, match=r"mta_sts\.id must be 1 to 32 letters or digits"):
        _dns_info.normalise_spec({"name": "example.test", "mta_sts": {"id": "a-b"}})


def test_a_string_intent_is_a_complete_record_when_it_starts_with_v():
    assert MTA_STS.build("v=STSv1;id=2") == "v=STSv1; id=2"
    assert MTA_STS.build("20260101") == "v=STSv1; id=20260101"
    assert TLS_RPT.build("v=TLSRPTv1;rua=mailto:t@example.test") == "v=TLSRPTv1; rua=mailto:t@example.test"
    assert TLS_RPT.build("t@example.test") == "v=TLSRPTv1; rua=mailto:t@example.test"
    with pytest.raises(_reporting.RecordError, match="value must be 'v=STSv1"):
        MTA_STS.build("v=STSv2; id=1")
