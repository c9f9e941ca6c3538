"""The code tables (events, categories, 在留資格, 在留期間, nationalities, card kinds).

Each table is a JSON file in `paperlink/tables/` with a `source` note. Changing a table needs no code
change: this module only loads and indexes them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from paperlink.errors import CodeTableError
from paperlink.textnorm import nfkc


@dataclass(frozen=True)
class Event:
    """A notice event (事由): which categories it may leave, which items carry a before value."""

    code: str
    label: str
    categories: tuple[str, ...]
    before_any_of: tuple[str, ...]
    before_allowed: tuple[str, ...]
    ends_residence: bool
    before_may_be_empty: tuple[str, ...] = ()
    """Items whose before value may be null: the item was empty before the event (漢字氏名 newly added)."""
    register: str = "修正"
    """What the register does: 修正 (overwrite items) or 消除 (remove the 住民票)."""
    event_date: str = ""
    """What event_date means for this event."""
    effect: str = ""
    """What the register writes, and from which date."""


@dataclass(frozen=True)
class Category:
    """A resident category of 住基法 第30条の45 and the items it requires or forbids."""

    code: str
    label: str
    requires: tuple[str, ...]
    forbids: tuple[str, ...]
    card_kinds: tuple[str, ...]
    period_label: str | None


@dataclass(frozen=True)
class Status:
    """A 在留資格 with the dates between which it can be granted."""

    code: str
    name: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    mid_long_term: bool
    indefinite: bool
    new_grants_until: dt.date | None = None
    """The last day a new grant into this status is possible (a transitional period), if any."""

    def valid_on(self, day: dt.date) -> bool:
        """Whether this status exists on `day`."""
        return (self.valid_from is None or day >= self.valid_from) and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class CardKind:
    """A kind of identity document (在留カード, 特別永住者証明書, 特定在留カード) and its number pattern."""

    code: str
    label: str
    pattern: re.Pattern[str]
    valid_from: dt.date | None
    valid_to: dt.date | None

    def valid_on(self, day: dt.date) -> bool:
        """Whether documents of this kind are issued on `day`."""
        return (self.valid_from is None or day >= self.valid_from) and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Nationality:
    """A 国籍・地域 as recorded (Japanese name): its stable code (ISO 3166-1 alpha-3 or user-assigned), kind, dates."""

    name: str
    icao: str | None
    code: str = ""
    kind: str = "state"
    """state, region (入管法施行令 第1条), stateless, notation (朝鮮)."""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        """Whether this name is in use on `day` (a renamed state's old name has a valid_to)."""
        return (self.valid_from is None or day >= self.valid_from) and (self.valid_to is None or day <= self.valid_to)


_DURATION = re.compile(r"^(?:([1-9][0-9]*)年)?(?:([1-9]|1[01])月)?(?:([1-9][0-9]*)日)?$")


def duration_days(period: str) -> int | None:
    """An approximate length in days of a period such as 4年3月 or 15日 (None if it is not of that form).

    Only one spelling per period is accepted: no zero parts, months 1–11 (12月 is written 1年).
    """
    m = _DURATION.match(period)
    if not period or not m:
        return None
    years, months, days = (int(g) if g else 0 for g in m.groups())
    return years * 365 + months * 30 + days


@dataclass(frozen=True)
class PeriodRule:
    """The periods of stay a status can carry: fixed values, plus any designated period up to a maximum."""

    status: str
    periods: tuple[str, ...]
    designated_max: str | None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    source: str = ""

    def valid_on(self, day: dt.date) -> bool:
        """Whether this row of the table applies to a period granted on `day`."""
        return (self.valid_from is None or day >= self.valid_from) and (self.valid_to is None or day <= self.valid_to)

    def allows(self, period: str) -> bool:
        """Whether `period` is a valid period of stay for the status."""
        if period in self.periods:
            return True
        if self.designated_max is None:
            return False
        days, limit = duration_days(period), duration_days(self.designated_max)
        return days is not None and limit is not None and 0 < days <= limit


@dataclass(frozen=True)
class Municipality:
    """A 全国地方公共団体コード: a municipality, a ward, or a code that is not a notice address (prefecture…)."""

    code: str
    name: str
    """The name as the 住民票 writes the office: 千代田区, 札幌市中央区, 那珂川町."""
    prefecture: str
    kind: str
    """city, town, village, special_ward (特別区), ward (行政区 of a 政令指定都市), designated_city, prefecture,
    special_ward_area (東京都特別区部)."""
    city: str | None
    """For a ward: the code of its designated city."""
    valid_from: dt.date | None
    valid_to: dt.date | None

    ADDRESSABLE = ("city", "town", "village", "special_ward", "ward")
    """The kinds a notice may be addressed to (the units that keep a resident register)."""

    @property
    def addressable(self) -> bool:
        """Whether a notice may be addressed to this code (a municipality or a ward, not a city with wards)."""
        return self.kind in self.ADDRESSABLE

    @property
    def head_title(self) -> str:
        """The title of the office's head, for a 宛先: 千代田区長, 札幌市中央区長, 那珂川町長."""
        return f"{self.name}長"

    def valid_on(self, day: dt.date) -> bool:
        """Whether the code is in use on `day`."""
        return (self.valid_from is None or day >= self.valid_from) and (self.valid_to is None or day <= self.valid_to)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


TABLE_NAMES = ("events", "categories", "statuses", "periods", "card_kinds", "nationalities", "municipalities")
"""Every code table, in the order the manifest of the tables lists them."""


def table_bytes(name: str) -> bytes:
    """The exact bytes of a shipped table file (what its digest covers)."""
    return resources.files("paperlink").joinpath("tables").joinpath(f"{name}.json").read_bytes()


def table_set() -> dict[str, Any]:
    """tables/index.json: the version of the whole set of tables, and each table's version and SHA-256."""
    try:
        data = json.loads(resources.files("paperlink").joinpath("tables").joinpath("index.json").read_text("utf-8"))
        if not isinstance(data.get("version"), str) or not isinstance(data.get("tables"), dict):
            raise CodeTableError("table_shape", name="index")
        return data  # type: ignore[no-any-return]
    except (OSError, json.JSONDecodeError) as exc:
        raise CodeTableError("table_unreadable", name="index", detail=exc) from exc


def tables_version() -> str:
    """The version of the set of code tables (a date, YYYY-MM-DD): what data files and manifests name."""
    return str(table_set()["version"])


def _load_table(name: str) -> dict[str, Any]:
    try:
        data = json.loads(table_bytes(name).decode("utf-8"))
        if (not isinstance(data.get("source"), str) or not isinstance(data.get("entries"), list)
                or not isinstance(data.get("version"), str)):
            raise CodeTableError("table_shape", name=name)
        return data  # type: ignore[no-any-return]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodeTableError("table_unreadable", name=name, detail=exc) from exc


def _load(name: str) -> list[dict[str, Any]]:
    return _load_table(name)["entries"]  # type: ignore[no-any-return]


class CodeTables:
    """All code tables, indexed by code and by Japanese label."""

    def __init__(self) -> None:
        self._versions = {name: str(_load_table(name)["version"]) for name in TABLE_NAMES}
        try:
            self.events = {e["code"]: Event(e["code"], e["label"], tuple(e["categories"]), tuple(e["before_any_of"]),
                                            tuple(e["before_allowed"]), bool(e["ends_residence"]),
                                            tuple(e.get("before_may_be_empty", ())), e.get("register", "修正"),
                                            e.get("event_date", ""), e.get("effect", ""))
                           for e in _load("events")}
            self.categories = {c["code"]: Category(c["code"], c["label"], tuple(c["requires"]), tuple(c["forbids"]),
                                                   tuple(c["card_kinds"]), c["period_label"])
                               for c in _load("categories")}
            self.statuses = {s["name"]: Status(s["code"], s["name"], _date(s["valid_from"]), _date(s["valid_to"]),
                                               bool(s["mid_long_term"]), bool(s["indefinite"]),
                                               _date(s.get("new_grants_until")))
                             for s in _load("statuses")}
            self.period_rules: dict[str, list[PeriodRule]] = {}
            for p in _load("periods"):
                self.period_rules.setdefault(p["status"], []).append(
                    PeriodRule(p["status"], tuple(p["periods"]), p.get("designated_max"), _date(p.get("valid_from")),
                               _date(p.get("valid_to")), p.get("source", "")))
            self.periods = {code: rules[-1] for code, rules in self.period_rules.items()}
            """The rule in force today (the last row of each status)."""
            self.card_kinds = {k["code"]: CardKind(k["code"], k["label"], re.compile(k["pattern"]),
                                                   _date(k["valid_from"]), _date(k["valid_to"]))
                               for k in _load("card_kinds")}
            self.nationalities = {n["name"]: Nationality(n["name"], n.get("icao"), n["code"], n["kind"],
                                                         _date(n["valid_from"]), _date(n["valid_to"]))
                                  for n in _load("nationalities")}
            self.nationalities_refused = {nfkc(r["name"]): str(r["reason"])
                                          for r in _load_table("nationalities").get("refused", [])}
            self.municipalities = {m["code"]: Municipality(m["code"], m["name"], m["prefecture"], m["kind"], m["city"],
                                                           _date(m["valid_from"]), _date(m["valid_to"]))
                                   for m in _load("municipalities")}
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise CodeTableError("table_entry", detail=repr(exc)) from exc
        self._status_by_code = {s.code: s for s in self.statuses.values()}
        self._status_by_norm = {nfkc(s.name): s for s in self.statuses.values()}
        self._nationality_by_icao = {n.icao: n for n in self.nationalities.values() if n.icao and n.valid_to is None}
        self._nationality_by_icao.update({n.code: n for n in self.nationalities.values() if n.valid_to is None})
        self._nationality_by_norm = {nfkc(n.name): n for n in self.nationalities.values()}
        for status in self.statuses.values():
            if not status.indefinite and status.code not in self.periods:
                raise CodeTableError("table_no_periods", status=status.code)

    def version(self, name: str) -> str:
        """The version of one table (its `version` field, a date: the day its content was last changed)."""
        return self._versions[name]

    # -- look-ups that accept what people type -------------------------------------------------

    def event(self, text: str) -> Event | None:
        """The event for a code (status_change) or its Japanese label (在留資格変更許可)."""
        return _by_code_or_label(self.events, text)  # type: ignore[no-any-return]

    def category(self, text: str) -> Category | None:
        """The category for a code (mid_long_term) or its Japanese label (中長期在留者)."""
        return _by_code_or_label(self.categories, text)  # type: ignore[no-any-return]

    def card_kind(self, text: str) -> CardKind | None:
        """The card kind for a code (residence_card) or its Japanese label (在留カード)."""
        return _by_code_or_label(self.card_kinds, text)  # type: ignore[no-any-return]

    def status(self, text: str) -> Status | None:
        """The status for its Japanese name (留学) or its code (student)."""
        key = nfkc(text).strip()
        return self._status_by_norm.get(key) or self._status_by_code.get(key.lower())

    def status_by_code(self, code: str) -> Status:
        """The status with this code (raises KeyError)."""
        return self._status_by_code[code]

    def period_rule(self, status_code: str, day: dt.date | None) -> PeriodRule:
        """The periods of stay of a status for a grant on `day` (the rule in force today if `day` is None).

        Before a status's first row (a date no row covers) the earliest row applies."""
        rules = self.period_rules[status_code]
        if day is None:
            return rules[-1]
        for rule in rules:
            if rule.valid_on(day):
                return rule
        return rules[0] if rules[0].valid_from is not None and day < rules[0].valid_from else rules[-1]

    def wards(self, city_code: str, day: dt.date | None = None) -> list[Municipality]:
        """The wards of a designated city (in use on `day`, if given), in code order."""
        return [m for m in self.municipalities.values()
                if m.city == city_code and (day is None or m.valid_on(day))]

    def current_name(self, nationality: Nationality) -> str:
        """The name in use today for a nationality (a renamed state's new name)."""
        for entry in self.nationalities.values():
            if entry.code == nationality.code and entry.valid_to is None:
                return entry.name
        return nationality.name

    def nationality(self, text: str) -> Nationality | None:
        """The nationality for its Japanese name (ベトナム), its code (VNM) or its ICAO code (D)."""
        key = nfkc(text).strip()
        return self._nationality_by_norm.get(key) or self._nationality_by_icao.get(key.upper())


def _by_code_or_label(table: dict[str, Any], text: str) -> Any:
    key = nfkc(text).strip()
    if key.lower() in table:
        return table[key.lower()]
    for entry in table.values():
        if nfkc(entry.label) == key:
            return entry
    return None


@functools.cache
def tables() -> CodeTables:
    """The code tables shipped with paperlink (loaded once per process)."""
    return CodeTables()
