"""Each dated row of the code tables: a value passes on the dates its row applies and fails under the old row."""

from __future__ import annotations

import datetime as dt

import pytest

from paperlink.codetables import tables
from paperlink.errors import NoticeInvalid
from paperlink.notice import parse_notice


def _codes(raw) -> list[tuple[str, str]]:
    try:
        parse_notice(raw)
    except NoticeInvalid as exc:
        return [(e.field, e.code) for e in exc.errors]
    return []


def _grant(record, status: str, period: str, day: str, expiry: str):
    return record(status=status, period_of_stay=period, event_date=day, notice_date=day, expiry_date=expiry,
                  event="status_change", before={"status": "日本人の配偶者等"})


@pytest.mark.parametrize(("status", "period", "new_day", "old_day"), [
    ("留学", "2年10月", "2026-12-01", "2021-03-01"),          # designated up to 4年3月 from 2021-03-30
    ("留学", "1年11月", "2026-12-01", "2021-03-29"),
    ("家族滞在", "4年7月", "2026-12-01", "2020-10-01"),       # designated up to 5年 from 2021-03-30
    ("特定技能1号", "3年", "2025-09-30", "2025-09-29"),      # up to 3年 from 2025-09-30 (before: up to 1年)
    ("特定技能1号", "2年6月", "2026-12-01", "2024-05-01"),
    ("特定技能2号", "2年", "2025-09-30", "2025-09-29"),      # 2年 added 2025-09-30
    ("興行", "30日", "2023-08-01", "2023-07-31"),            # 30日 replaced 15日 on 2023-08-01 (short: fails anyway)
])
def test_a_period_passes_under_its_rule_and_fails_under_the_old_one(record, status, period, new_day, old_day) -> None:
    rule_now = tables().period_rule(tables().statuses[status].code, dt.date.fromisoformat(new_day))
    assert rule_now.allows(period)
    rule_then = tables().period_rule(tables().statuses[status].code, dt.date.fromisoformat(old_day))
    assert not rule_then.allows(period)
    if status == "興行":
        return  # 30日 is never a period of a 中長期在留者: only the table rows are compared
    assert _codes(_grant(record, status, period, new_day, "2030-01-01")) == []
    assert ("period_of_stay", "period_not_allowed") in _codes(_grant(record, status, period, old_day, "2030-01-01"))


def test_the_old_fixed_student_periods_pass_on_their_dates(record) -> None:
    assert _codes(_grant(record, "留学", "2年3月", "2020-04-01", "2022-07-01")) == []


def test_ssw_2_six_months_passes_under_both_rows(record) -> None:
    for day in ("2025-09-29", "2025-09-30"):
        assert _codes(_grant(record, "特定技能2号", "6月", day, "2026-03-01")) == []


def test_intra_company_transferee_2_exists_from_2027_04_01(record) -> None:
    assert _codes(_grant(record, "企業内転勤2号", "1年", "2027-04-01", "2028-04-01")) == []
    assert ("status", "status_not_valid") in _codes(_grant(record, "企業内転勤2号", "1年", "2027-03-31", "2028-04-01"))


def test_technical_intern_1_cannot_be_newly_granted_after_the_transition(record) -> None:
    assert _codes(_grant(record, "技能実習1号イ", "1年", "2027-06-30", "2028-06-01")) == []
    assert ("status", "status_no_new_grants") in _codes(_grant(record, "技能実習1号イ", "1年", "2027-07-01", "2028-06-01"))
    extension = record(status="技能実習1号イ", period_of_stay="6月", event_date="2027-08-01", notice_date="2027-08-01",
                       expiry_date="2028-02-01", before={"expiry_date": "2027-08-10"})
    assert _codes(extension) == []


def test_specified_special_permanent_certificate_from_2026_06_14(record) -> None:
    sp = dict(event="identity_change", category="special_permanent", card_kind="specified_sp_certificate", status=None,
              period_of_stay=None, expiry_date=None, name="KIM MINSU", before={"name": "KIM MINSOO"})
    assert _codes(record(**sp, event_date="2026-06-14", notice_date="2026-06-15")) == []
    assert ("card_kind", "card_kind_not_valid") in _codes(record(**sp, event_date="2026-06-13", notice_date="2026-06-15"))


def test_every_table_names_a_version_and_its_source() -> None:
    from paperlink.codetables import TABLE_NAMES
    for name in TABLE_NAMES:
        assert tables().version(name) >= "2026-12-01"
    for rules in tables().period_rules.values():
        assert all(rule.source for rule in rules)


def test_nationality_codes_are_unique_per_state_and_regions_are_only_those_of_the_cabinet_order() -> None:
    current = [n for n in tables().nationalities.values() if n.valid_to is None]
    assert len({n.code for n in current}) == len(current)
    assert sorted(n.name for n in current if n.kind == "region") == ["パレスチナ", "台湾"]
    assert {n.name for n in current if n.kind == "stateless"} == {"無国籍"}
    assert not {"香港", "マカオ", "難民", "国籍不明"} & set(tables().nationalities)


def test_a_renamed_state_reads_in_before_but_not_as_the_current_value(record) -> None:
    """GIVEN スワジランド → エスワティニ THEN the old name is a valid before value, and not a current value in 2026."""
    change = dict(event="identity_change", nationality="エスワティニ", before={"nationality": "スワジランド"})
    assert _codes(record(**change)) == []
    assert _codes(record(nationality="スワジランド")) == [("nationality", "nationality_renamed")]
    assert _codes(record(nationality="スワジランド", event_date="2018-01-10", notice_date="2018-01-11",
                         expiry_date="2019-01-10")) == []
