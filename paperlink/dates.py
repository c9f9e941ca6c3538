"""Dates: ISO 西暦 as the canonical form; 和暦 (R7.4.1, 令和7年4月1日) and common spellings accepted as input."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from paperlink.textnorm import nfkc


@dataclass(frozen=True)
class Era:
    """One Japanese era: its names, letter and first day (the last day is the next era's first day − 1)."""

    name: str
    letter: str
    start: dt.date


ERAS: tuple[Era, ...] = (
    Era("明治", "M", dt.date(1868, 10, 23)),
    Era("大正", "T", dt.date(1912, 7, 30)),
    Era("昭和", "S", dt.date(1926, 12, 25)),
    Era("平成", "H", dt.date(1989, 1, 8)),
    Era("令和", "R", dt.date(2019, 5, 1)),
)


class DateParseError(ValueError):
    """A text is not a date paperlink understands; args[0] is a message code, args[1] a detail."""


_ISO = re.compile(r"^([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})$")
"""西暦 with one separator, the same twice: 2025-4-1, 2025/4/1, 2025.4.1 (never 2025-4/1)."""
_KANJI = re.compile(r"^([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日$")
_COMPACT = re.compile(r"^([0-9]{4})([0-9]{2})([0-9]{2})$")
_WAREKI = re.compile(r"^(明治|大正|昭和|平成|令和|[MTSHR])\s*(元|[0-9]{1,2})\s*[年.\-/]\s*([0-9]{1,2})\s*[月.\-/]\s*([0-9]{1,2})\s*日?$")


def _era(key: str) -> tuple[int, Era]:
    for i, era in enumerate(ERAS):
        if key in (era.name, era.letter):
            return i, era
    raise DateParseError("date_format", key)  # unreachable with the regex above


def parse_date(text: str) -> dt.date:
    """Parse a date written in 西暦 (2025-04-01, 2025/4/1, 2025年4月1日, 20250401) or 和暦 (R7.4.1, 令和7年4月1日)."""
    s = nfkc(text).strip().upper().replace(" ", "")
    iso = _ISO.match(s)
    if iso:
        return _make(int(iso[1]), int(iso[3]), int(iso[4]), text)
    for pattern in (_KANJI, _COMPACT):
        m = pattern.match(s)
        if m:
            return _make(int(m[1]), int(m[2]), int(m[3]), text)
    m = _WAREKI.match(s)
    if not m or not _one_separator(s):
        raise DateParseError("date_format", text)
    index, era = _era(m[1])
    year_in_era = 1 if m[2] == "元" else int(m[2])
    if year_in_era < 1:
        raise DateParseError("date_impossible", text)
    date = _make(era.start.year + year_in_era - 1, int(m[3]), int(m[4]), text)
    end = ERAS[index + 1].start if index + 1 < len(ERAS) else None
    if date < era.start or (end is not None and date >= end):
        raise DateParseError("date_outside_era", f"{text} ({era.name})")
    return date


def _one_separator(s: str) -> bool:
    """A 和暦 date uses 年 and 月 (and 日), or one of . - / twice: R7.4.1, 令和7年4月1日 – never R7.4-1 or R7年4.1."""
    marks = [ch for ch in s if ch in "年月.-/"]
    return marks == ["年", "月"] or (len(marks) == 2 and marks[0] == marks[1] and marks[0] in ".-/")


def _make(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateParseError("date_impossible", text) from None


def to_wareki(date: dt.date) -> str:
    """The 和暦 spelling of a date, e.g. 令和7年4月1日 (元年 for the first year)."""
    for era in reversed(ERAS):
        if date >= era.start:
            year = date.year - era.start.year + 1
            return f"{era.name}{'元' if year == 1 else year}年{date.month}月{date.day}日"
    return date.isoformat()


JST = dt.timezone(dt.timedelta(hours=9), "JST")
"""Japan Standard Time (no daylight saving): the ledger stores UTC, people read Japan time."""


def japan_time(value: str | None, seconds: bool = False) -> str:
    """An ISO timestamp of the ledger (UTC) as Japan time: 2026-11-26 19:31 (a value that is not one, as is)."""
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
