"""The code tables: consistent with each other, sourced, and read from data files only."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import pytest

from paperlink import codetables
from paperlink.codetables import CodeTables, tables
from paperlink.errors import CodeTableError

TABLES = ["events", "categories", "statuses", "periods", "card_kinds", "nationalities"]


@pytest.mark.parametrize("name", TABLES)
def test_every_table_has_a_source_note(name: str) -> None:
    data = json.loads(resources.files("paperlink").joinpath("tables").joinpath(f"{name}.json").read_text("utf-8"))
    assert data["table"] == name and len(data["source"]) > 40 and data["entries"]


def test_tables_refer_to_each_other_consistently() -> None:
    t = tables()
    for event in t.events.values():
        assert set(event.categories) <= set(t.categories)
        assert set(event.before_any_of) <= set(event.before_allowed)
    for category in t.categories.values():
        assert set(category.card_kinds) <= set(t.card_kinds)
    assert {p.status for p in t.periods.values()} == {s.code for s in t.statuses.values() if not s.indefinite}
    assert len(t.nationalities) > 190


def test_esd_and_technical_intern_training_overlap_in_their_periods() -> None:
    t = tables()
    esd, tit = t.status("育成就労"), t.status("技能実習1号イ")
    assert not esd.valid_on(dt.date(2027, 3, 31)) and esd.valid_on(dt.date(2027, 4, 1))
    assert tit.valid_on(dt.date(2027, 4, 1))


def test_changing_a_table_needs_no_code_change(monkeypatch) -> None:
    """GIVEN a table file with a new status WHEN loaded THEN the new status is known, with no code touched."""
    real = codetables._load

    def patched(name: str):
        entries = real(name)
        if name == "statuses":
            entries = [*entries, {"code": "new_status", "name": "新資格", "valid_from": "2030-01-01", "valid_to": None,
                                  "mid_long_term": True, "indefinite": False}]
        if name == "periods":
            entries = [*entries, {"status": "new_status", "periods": ["1年"]}]
        return entries

    monkeypatch.setattr(codetables, "_load", patched)
    fresh = CodeTables()
    assert fresh.status("新資格").valid_from == dt.date(2030, 1, 1)
    assert fresh.periods["new_status"].allows("1年")


def test_a_malformed_table_is_a_clear_error(monkeypatch) -> None:
    real = codetables._load
    monkeypatch.setattr(codetables, "_load", lambda name: [{"code": "x"}] if name == "events" else real(name))
    with pytest.raises(CodeTableError, match="malformed code table entry"):
        CodeTables()
