"""Dates: ISO 西暦 is canonical; 和暦 and common spellings are accepted with era boundaries enforced."""

from __future__ import annotations

import datetime as dt

import pytest

from paperlink.dates import DateParseError, parse_date, to_wareki


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-04-01", dt.date(2025, 4, 1)),
    ("2025/4/1", dt.date(2025, 4, 1)),
    ("2025.04.01", dt.date(2025, 4, 1)),
    ("20250401", dt.date(2025, 4, 1)),
    ("2025年4月1日", dt.date(2025, 4, 1)),
    ("２０２５－０４－０１", dt.date(2025, 4, 1)),
    ("R7.4.1", dt.date(2025, 4, 1)),
    ("r7.4.1", dt.date(2025, 4, 1)),
    ("Ｒ７．４．１", dt.date(2025, 4, 1)),
    ("令和7年4月1日", dt.date(2025, 4, 1)),
    ("令和元年5月1日", dt.date(2019, 5, 1)),
    ("H31.4.30", dt.date(2019, 4, 30)),
    ("平成元年1月8日", dt.date(1989, 1, 8)),
    ("S64.1.7", dt.date(1989, 1, 7)),
    ("昭和45年12月3日", dt.date(1970, 12, 3)),
])
def test_accepted_spellings(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(("text", "code"), [
    ("2025-02-29", "date_impossible"),
    ("2025-13-01", "date_impossible"),
    ("R7.2.30", "date_impossible"),
    ("H31.5.1", "date_outside_era"),
    ("R1.4.30", "date_outside_era"),
    ("S64.1.8", "date_outside_era"),
    ("平成0年1月1日", "date_impossible"),
    ("yesterday", "date_format"),
    ("1.4.2025", "date_format"),
    ("X7.4.1", "date_format"),
])
def test_rejected_spellings(text: str, code: str) -> None:
    with pytest.raises(DateParseError) as exc:
        parse_date(text)
    assert exc.value.args[0] == code


@pytest.mark.parametrize(("date", "text"), [
    (dt.date(2025, 4, 1), "令和7年4月1日"),
    (dt.date(2019, 5, 1), "令和元年5月1日"),
    (dt.date(2019, 4, 30), "平成31年4月30日"),
    (dt.date(1970, 12, 3), "昭和45年12月3日"),
])
def test_wareki_round_trip(date: dt.date, text: str) -> None:
    assert to_wareki(date) == text
    assert parse_date(text) == date


def test_ledger_times_are_shown_in_japan_time() -> None:
    from paperlink.dates import japan_time

    assert japan_time("2026-11-26T15:31:07+00:00") == "2026-11-27 00:31"
    assert japan_time("2026-11-26T15:31:07+00:00", seconds=True) == "2026-11-27 00:31:07"
    assert japan_time(None) == "" and japan_time("not a time") == "not a time"
