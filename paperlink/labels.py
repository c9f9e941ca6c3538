"""Display labels: how a notice, its items and its states read for a clerk – on the sheet, the screen and the report.

One module, so a label changes everywhere at once: item labels (the period item takes its category's name,
e.g. 上陸期間), item values (Japanese labels for codes, dates in 西暦（和暦）, ― when empty), the notice
states, the verification methods and the next action for a notice in each state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from paperlink.codetables import tables
from paperlink.dates import to_wareki
from paperlink.fields import BEFORE_KEYS, FIELD_BY_KEY, FIELDS, FieldSpec, Value
from paperlink.ledger.schema import NoticeState, VerificationMethod
from paperlink.notice import Notice

EMPTY = "―"
"""What an empty item shows."""

STATE_LABELS: dict[NoticeState, str] = {
    NoticeState.MISSING: "未着", NoticeState.DECODED: "読取済", NoticeState.CONFIRMED: "確認済",
    NoticeState.FIRST_ENTRY: "一次入力済", NoticeState.MISMATCH: "不一致", NoticeState.DONE: "完了",
    NoticeState.HELD: "保留",
}
"""Each notice state as the clerk calls it."""

STATE_ORDER: tuple[NoticeState, ...] = tuple(NoticeState)
"""The states in the order a notice passes through them (the board's columns)."""

NEXT_ACTION: dict[NoticeState, str] = {
    NoticeState.MISSING: "手入力", NoticeState.DECODED: "確認する", NoticeState.CONFIRMED: "表示",
    NoticeState.FIRST_ENTRY: "二回目の入力", NoticeState.MISMATCH: "不一致を解消", NoticeState.DONE: "表示",
    NoticeState.HELD: "保留の理由",
}
"""What a clerk does next with a notice in each state (the board's links)."""

METHOD_LABELS: dict[VerificationMethod, str] = {
    VerificationMethod.QR: "QR", VerificationMethod.DOUBLE_ENTRY: "二重入力", VerificationMethod.OVERRIDE: "審査受理",
    VerificationMethod.LINE: "回線", VerificationMethod.MEDIA: "媒体",
}
"""How a notice was verified, as the processing report says it."""

VERIFIED_BY_LABELS: dict[VerificationMethod, str] = {
    VerificationMethod.QR: "確認", VerificationMethod.DOUBLE_ENTRY: "二重入力", VerificationMethod.OVERRIDE: "審査受理",
    VerificationMethod.LINE: "回線", VerificationMethod.MEDIA: "媒体",
}
"""How a notice was verified, as the notice page says who did it (確認: 職員名)."""

_SEX = {"M": "男", "F": "女"}
_SPECIAL_ITEMS = {"check_code": "チェックコード", "(record)": "通知全体"}


SHEET_ORDER: tuple[str, ...] = (
    "notice_id", "notice_date", "event_date", "municipality_code", "event",
    # then the items in the order of the 住民票 (住基法 第7条 then 第30条の45): 氏名, 出生の年月日, 男女の別, 住所,
    # 国籍等, the 区分 and its items (在留資格, 在留期間, 在留期間の満了の日, 在留カード等の番号), 備考 last
    "name", "name_kanji", "birth_date", "sex", "address", "nationality", "category", "status", "period_of_stay",
    "expiry_date", "card_kind", "card_number", "remarks")
"""The order of the items on a sheet – and on the screen, so a clerk reads both top to bottom together; an item
not named here follows at the end."""


def ordered_fields() -> list[FieldSpec]:
    """The item specs in the order a sheet prints them and the screen shows them (`SHEET_ORDER`)."""
    rank = {key: i for i, key in enumerate(SHEET_ORDER)}
    return sorted(FIELDS, key=lambda f: rank.get(f.key, len(rank)))


def date_text(value: dt.date) -> str:
    """A date as printed: 西暦 with 和暦 in brackets, e.g. 2026-11-26（令和8年11月26日）."""
    return f"{value.isoformat()}（{to_wareki(value)}）"


def display_value(key: str, value: Value | None) -> str:
    """An item's value as the clerk reads it: Japanese labels for codes, dates in 西暦（和暦）, ― when empty."""
    if value is None:
        return EMPTY
    if isinstance(value, dt.date):
        return date_text(value)
    t = tables()
    if key == "event" and value in t.events:
        return t.events[value].label
    if key == "category" and value in t.categories:
        return t.categories[value].label
    if key == "card_kind" and value in t.card_kinds:
        return t.card_kinds[value].label
    if key == "sex":
        return _SEX.get(value, value)
    return value


def field_label(spec: FieldSpec, notice: Notice) -> str:
    """An item's label for one notice: the period item takes its category's name (上陸期間, 仮滞在期間), and so does
    its end date (上陸期間の満了の日); the card number is named after the card (在留カード番号, 特別永住者証明書番号)."""
    category = tables().categories.get(notice.category)
    period = category.period_label if category is not None else None
    if spec.key == "period_of_stay" and period:
        return period
    if spec.key == "expiry_date" and period and period != "在留期間":
        return f"{period}の満了の日"
    if spec.key == "card_number" and notice.card_kind:
        kind = tables().card_kinds.get(notice.card_kind)
        if kind is not None:
            return f"{kind.label}番号"
    return spec.label


def entry_item_label(item: str) -> str:
    """A form item's label, whatever the notice: 'before.status' → 在留資格（変更前）; check code; whole record."""
    key = item.removeprefix("before.")
    spec = FIELD_BY_KEY.get(key)
    label = spec.label if spec else _SPECIAL_ITEMS.get(item, item)
    return f"{label}（変更前）" if item.startswith("before.") else label


@dataclass(frozen=True)
class DisplayItem:
    """One item of a notice as shown: label, value, and the value before the event if it changed."""

    key: str
    label: str
    value: str
    before: str | None


def display_items(notice: Notice) -> list[DisplayItem]:
    """Every item in the sheet's order with its label (before → after for changed items)."""
    before = notice.before_dict()
    return [DisplayItem(spec.key, field_label(spec, notice), display_value(spec.key, notice.get(spec.key)),
                        display_value(spec.key, before[spec.key]) if spec.key in before and spec.key in BEFORE_KEYS
                        else None)
            for spec in ordered_fields()]
