"""Rules across items: categories, events, statuses on the event date, dates and before values."""

from __future__ import annotations

import pytest

from paperlink.errors import NoticeInvalid
from paperlink.notice import parse_notice

SPECIAL_PERMANENT = {"category": "special_permanent", "card_kind": "sp_certificate", "status": None,
                     "period_of_stay": None, "expiry_date": None, "event": "special_permanent",
                     "before": {"card_number": "ZX87654321QP"}}


def problems(raw) -> list[tuple[str, str]]:
    with pytest.raises(NoticeInvalid) as exc:
        parse_notice(raw)
    return [(e.field, e.code) for e in exc.value.errors]


def test_base_record_is_valid(record) -> None:
    notice = parse_notice(record())
    assert notice.category == "mid_long_term" and notice.before_dict()["card_number"] == "ZX87654321QP"


@pytest.mark.parametrize(("changes", "expected"), [
    # dates
    ({"expiry_date": "2026-11-20"}, ("expiry_date", "expiry_not_after_event")),
    ({"event_date": "2026-11-27"}, ("event_date", "event_after_notice")),
    ({"birth_date": "2026-11-21"}, ("birth_date", "birth_after_event")),
    ({"birth_date": "1850-01-01"}, ("birth_date", "date_range")),
    # status on the event date (育成就労 starts 2027-04-01)
    ({"status": "育成就労", "period_of_stay": "1年"}, ("status", "status_not_valid")),
    ({"status": "短期滞在", "period_of_stay": "90日"}, ("status", "status_not_resident")),
    ({"status": "留学", "period_of_stay": "5年"}, ("period_of_stay", "period_not_allowed")),
    ({"status": "留学", "period_of_stay": "3月"}, ("period_of_stay", "period_too_short")),
    ({"status": "特定技能1号", "period_of_stay": "3年6月"}, ("period_of_stay", "period_not_allowed")),
    ({"period_of_stay": "ずっと"}, ("period_of_stay", "period_format")),
    # category requirements
    ({"status": None}, ("status", "required_for_category")),
    ({"card_number": None}, ("card_number", "required_for_category")),
    ({"expiry_date": None}, ("expiry_date", "required_for_category")),
    ({"card_kind": "sp_certificate"}, ("card_kind", "card_kind_for_category")),
    ({"card_kind": "specified_residence_card", "event_date": "2026-06-13", "notice_date": "2026-06-14",
      "expiry_date": "2029-01-01"}, ("card_kind", "card_kind_not_valid")),
    # event and category
    ({"event": "card_reissue", "category": "special_permanent", "card_kind": "sp_certificate", "status": None,
      "period_of_stay": None, "expiry_date": None, "before": {"card_number": "ZX87654321QP"}},
     ("event", "event_category")),
    ({"category": "transit_birth"}, ("card_kind", "forbidden_for_category")),
    # before values
    ({"before": {"expiry_date": "2029-12-10"}}, ("before.expiry_date", "before_equals_after")),
    ({"before": {"card_number": "ZX87654321QP"}}, ("before", "before_missing")),
    ({"before": {"expiry_date": "2026-12-10", "address": "大阪"}}, ("before.address", "before_not_allowed")),
    ({"before": {"expiry_date": "2026-12-10", "status": "留学"}}, ("before.status", "before_not_allowed")),
    ({"before": {"expiry_date": "2026-12-10", "colour": "red"}}, ("before.colour", "unknown_field")),
    ({"before": {"expiry_date": ""}}, ("before.expiry_date", "before_empty_value")),
    ({"before": {"expiry_date": "2026-12-10", "card_number": "XX1"}}, ("before.card_number", "card_format")),
    ({"before": "2026-12-10"}, ("before", "before_not_object")),
    ({"event": "departure"}, ("before", "ends_residence_before")),
    # the record itself
    ({"notice_id": None}, ("notice_id", "missing")),
    ({"name": "   "}, ("name", "missing")),
    ({"colour": "red"}, ("colour", "unknown_field")),
    ({"birth_date": 19950314}, ("birth_date", "not_string")),
    ({"remarks": "a\x07b"}, ("remarks", "control_char")),
    ({"address": "東" * 201}, ("address", "too_long")),
    ({"notice_id": "N 1"}, ("notice_id", "notice_id_format")),
])
def test_rule_violations_name_the_field(record, changes, expected) -> None:
    assert expected in problems(record(**changes))


def test_status_is_valid_from_its_first_day(record) -> None:
    raw = record(status="育成就労", period_of_stay="1年", event_date="2027-04-01", notice_date="2027-04-02",
                 expiry_date="2028-03-31")
    assert parse_notice(raw).status == "育成就労"
    assert ("status", "status_not_valid") in problems({**raw, "event_date": "2027-03-31"})


def test_technical_intern_training_stays_valid_after_esd_starts(record) -> None:
    raw = record(status="技能実習2号ロ", period_of_stay="1年", event_date="2027-05-01", notice_date="2027-05-02",
                 expiry_date="2028-04-30")
    assert parse_notice(raw).status == "技能実習2号ロ"


def test_permanent_residents_have_no_period_or_expiry(record) -> None:
    raw = record(event="permanent", status="永住者", period_of_stay=None, expiry_date=None,
                 before={"status": "定住者", "period_of_stay": "3年", "expiry_date": "2027-01-01"})
    notice = parse_notice(raw)
    assert notice.period_of_stay is None and notice.before_dict()["status"] == "定住者"
    assert ("period_of_stay", "status_indefinite") in problems({**raw, "period_of_stay": "5年"})
    assert ("status", "permanent_status") in problems({**raw, "status": "定住者", "period_of_stay": "5年",
                                                       "expiry_date": "2031-01-01"})


def test_special_permanent_resident_needs_certificate_not_status(record) -> None:
    assert parse_notice(record(**SPECIAL_PERMANENT)).card_kind == "sp_certificate"
    assert ("status", "forbidden_for_category") in problems(record(**{**SPECIAL_PERMANENT, "status": "永住者"}))


def test_departure_of_a_transit_resident_needs_no_card(record) -> None:
    raw = record(event="departure", category="transit_birth", card_kind=None, card_number=None, status=None,
                 period_of_stay=None, expiry_date=None, birth_date="2026-10-01", before={})
    assert parse_notice(raw).category == "transit_birth"


def test_expiry_event_carries_an_expiry_date_in_the_past(record) -> None:
    raw = record(event="expiry", expiry_date="2026-11-19", before={})
    assert parse_notice(raw).expiry_date.isoformat() == "2026-11-19"


def test_every_problem_is_reported_not_just_the_first(record) -> None:
    found = problems(record(municipality_code="131017", birth_date="1995-02-30", sex="X", nationality="XYZ"))
    assert [f for f, _ in found] == ["municipality_code", "birth_date", "sex", "nationality"]


def test_a_bad_item_gives_one_message_not_a_cascade(record) -> None:
    # an unreadable event date must not also produce 'expiry not after event' or 'status not valid'
    assert problems(record(event_date="R7.2.30")) == [("event_date", "date_impossible")]


def test_messages_exist_in_english_and_japanese(record) -> None:
    with pytest.raises(NoticeInvalid) as exc:
        parse_notice(record(municipality_code="131017"))
    error = exc.value.errors[0]
    assert error.message == "check digit is wrong: 131017 should end in 6"
    assert error.message_ja == "検査数字が誤っています（131017 の末尾は 6 のはずです）"


def test_a_notice_without_an_address_is_valid(record) -> None:
    """GIVEN a notice with no address (the address is the municipality's item) THEN it is valid."""
    assert parse_notice(record(address=None)).address is None
    assert parse_notice(record(address=...)).address is None


@pytest.mark.parametrize("address", ["東京都千代田区九段南１丁目２番１号", "九段南1−2−1", "ｸﾞﾗﾝﾄﾞﾊｲﾂ１０１", "一番町㈱ビル①"])
def test_an_address_is_never_nfkc_folded(record, address: str) -> None:
    """GIVEN an address with full-width digits, a minus sign, half-width katakana or ① THEN it is kept as written."""
    assert parse_notice(record(address=address)).address == address
