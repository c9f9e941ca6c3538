"""Every event the Ministry notifies: its rules, and each new one end to end (print → scan → confirm → export)."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.checkcodes import record_check_code
from paperlink.codetables import tables
from paperlink.confirm import confirm
from paperlink.csvformat import dumps_csv, parse_csv
from paperlink.dataformat import dumps_notices, parse_jsonl
from paperlink.doubleentry import submit_entry
from paperlink.errors import NoticeInvalid
from paperlink.export import export
from paperlink.intake import capture_scan
from paperlink.keys import key_id
from paperlink.ledger import Ledger
from paperlink.notice import Notice, parse_notice
from paperlink.printing import print_batch
from paperlink.scanning import interpret
from paperlink.users import add_user
from paperlink.web.entry import raw_record
from tests.conftest import BASE_RECORD

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}

SPR = dict(category="special_permanent", card_kind="sp_certificate", status=None, period_of_stay=None, expiry_date=None,
           nationality="韓国", name="KIM YONGSU", name_kanji="金\u3000容洙")
TRANSIT = dict(category="transit_birth", card_kind=None, card_number=None, status=None, period_of_stay=None,
               expiry_date=None, before={})


def rec(n: int, **changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE_RECORD)
    raw["notice_id"] = f"N20261126-{n:05d}"
    raw.update(changes)
    return raw


# One notice of every event the model could not express before, and of the split ones.
NEW_EVENTS: dict[str, dict[str, Any]] = {
    "leaving_mid_long_term": rec(1, event="leaving_mid_long_term", status="短期滞在", period_of_stay="90日",
                                 expiry_date="2027-02-17",
                                 before={"status": "留学", "period_of_stay": "1年", "expiry_date": "2027-03-31"}),
    "leaving_by_short_period": rec(2, event="leaving_mid_long_term", status="特定活動", period_of_stay="3月",
                                   expiry_date="2027-02-19", before={"status": "技術・人文知識・国際業務",
                                                                      "period_of_stay": "3年"}),
    "card_first_issue": rec(3, event="card_first_issue", before={"card_number": None}),
    "period_extension": rec(4, event="period_extension", category="provisional_stay", card_kind=None, card_number=None,
                            status=None, period_of_stay="6月", expiry_date="2027-05-19",
                            before={"expiry_date": "2026-11-30"}),
    "special_permanent_grant": rec(5, event="special_permanent_grant", **{**SPR, "birth_date": "2026-10-01"},
                                   before={"category": "transit_birth"}),
    "special_permanent_grant_of_mid_long": rec(6, event="special_permanent_grant", **SPR,
                                               before={"category": "mid_long_term", "status": "永住者の配偶者等",
                                                       "period_of_stay": "3年", "expiry_date": "2028-04-01",
                                                       "card_kind": "residence_card", "card_number": "QP12345678ZX"}),
    "kanji_added": rec(7, event="identity_change", nationality="中国", name="WANG WEI", name_kanji="王\u3000偉",
                       before={"name_kanji": None}),
    "kanji_removed": rec(8, event="identity_change", nationality="中国", name="WANG WEI", name_kanji=None,
                         before={"name_kanji": "王\u3000偉"}),
    "departure": rec(9, event="departure", before={}),
    "reentry_permit_lapsed": rec(10, event="reentry_permit_lapsed", before={}),
    "deemed_reentry_lapsed": rec(11, event="deemed_reentry_lapsed", **SPR, before={}),
    "revocation": rec(12, event="revocation", before={}),
    "revocation_departure_period": rec(13, event="revocation_departure_period", expiry_date="2026-12-20",
                                       before={"expiry_date": "2029-12-10"}),
    "transit_end": rec(14, event="transit_end", **{**TRANSIT, "birth_date": "2026-09-21"}),
}


def codes(raw: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        parse_notice(raw)
    except NoticeInvalid as exc:
        return [(e.field, e.code) for e in exc.errors]
    return []


@pytest.mark.parametrize("name", sorted(NEW_EVENTS))
def test_every_new_event_is_valid(name: str) -> None:
    assert codes(NEW_EVENTS[name]) == []


def test_every_event_says_what_the_register_does() -> None:
    for event in tables().events.values():
        assert event.register in ("修正", "消除")
        assert event.event_date and event.effect
        assert (event.register == "消除") == event.ends_residence


def test_leaving_mid_long_term_needs_a_short_status_or_period() -> None:
    raw = rec(1, event="leaving_mid_long_term", status="留学", period_of_stay="1年", before={"status": "家族滞在"})
    assert codes(raw) == [("period_of_stay", "not_leaving_mid_long_term")]
    # the same short period under the ordinary change event is still refused
    assert ("period_of_stay", "period_too_short") in codes(rec(1, event="status_change", status="特定活動",
                                                               period_of_stay="3月", before={"status": "留学"}))


def test_a_first_card_has_no_previous_number() -> None:
    assert codes(rec(3, event="card_first_issue", before={"card_number": "ZX87654321QP"})) == [
        ("before.card_number", "first_card_had_number")]
    assert codes(rec(3, event="card_first_issue", before={})) == [("before", "before_missing")]


def test_was_empty_only_where_the_event_allows_it() -> None:
    assert codes(rec(1, before={"card_number": None, "expiry_date": "2026-12-10"})) == [
        ("before.card_number", "before_empty_value")]
    assert codes(rec(7, event="identity_change", name_kanji=None, before={"name_kanji": None})) == [
        ("before.name_kanji", "before_equals_after")]


def test_revocation_with_a_departure_period_of_more_than_30_days_is_refused() -> None:
    raw = rec(13, event="revocation_departure_period", expiry_date="2026-12-21", before={"expiry_date": "2029-12-10"})
    assert codes(raw) == [("expiry_date", "exit_period_too_long")]


def test_a_birth_stay_cannot_end_23_days_after_birth() -> None:
    """GIVEN a 出生による経過滞在者 born 23 days before THEN the 60-day stay has not ended."""
    assert codes(rec(14, event="transit_end", **{**TRANSIT, "birth_date": "2026-10-28"})) == [
        ("event_date", "transit_end_too_early")]
    # and `expiry` is no longer an event of the 経過滞在者
    assert codes(rec(14, event="expiry", **{**TRANSIT, "birth_date": "2026-09-01"})) == [("event", "event_category")]


def test_expiry_is_the_day_after_the_last_day_of_stay() -> None:
    assert codes(rec(15, event="expiry", expiry_date="2026-11-19", before={})) == []
    assert codes(rec(15, event="expiry", expiry_date="2026-11-20", before={})) == [
        ("expiry_date", "expiry_not_before_end")]


def test_special_permanent_grant_is_from_mid_long_term_or_transit() -> None:
    raw = rec(5, event="special_permanent_grant", **SPR, before={"category": "temporary_refuge"})
    assert codes(raw) == [("before.category", "special_permanent_grant_from")]


def test_was_empty_is_null_in_json_and_a_dash_in_csv() -> None:
    notices = [parse_notice(NEW_EVENTS[k]) for k in ("kanji_added", "card_first_issue")]
    data = dumps_notices(notices)
    assert b'"before":{"name_kanji":null}' in data and b'"before":{"card_number":null}' in data
    assert parse_jsonl(data, "x.jsonl") == notices
    csv_bytes = dumps_csv(notices)
    assert parse_csv(csv_bytes, "x.csv") == notices
    assert b",-," in csv_bytes or csv_bytes.rstrip().endswith(b",-")


@pytest.fixture
def ledger(home: Path):
    with Ledger(home / "ledger.sqlite3") as led:
        yield led


@pytest.mark.slow
def test_every_new_event_end_to_end(ledger: Ledger, tmp_path: Path) -> None:
    """GIVEN one notice of every new event WHEN printed, scanned, confirmed (one typed twice) and exported
    THEN the export is byte for byte the printed data file, as JSON Lines and as CSV."""
    notices: list[Notice] = [parse_notice(raw) for raw in NEW_EVENTS.values()]
    printed = print_batch(notices, KEY, printed_on=dt.date(2026, 11, 26))   # rasterises and decodes every sheet
    tanaka = add_user(ledger, "tanaka", "田中", {"entry"}, "correct horse 1", "admin")
    suzuki = add_user(ledger, "suzuki", "鈴木", {"entry", "review"}, "correct horse 2", "admin")
    for text in printed.cover.manifest_qr_texts:
        assert capture_scan(ledger, interpret(text, "cover.png", 1, TRUSTED), "file", "tanaka").outcome == "registered"
    typed = 7   # the 漢字氏名 added: typed twice from paper, its empty before value written as "-"
    for spec in printed.sheets:
        row = ledger.query("SELECT id FROM notices WHERE seq = ?", (spec.seq,))[0]["id"]
        if spec.seq == typed:
            form = {key: value or "" for key, value in spec.notice.record().items() if key != "before"}
            form["before.name_kanji"] = "-"     # what the clerk types on the entry screen
            record = raw_record(form)
            code = record_check_code(spec.notice)
            assert submit_entry(ledger, row, record, code, tanaka).state == "first_entry"
            assert submit_entry(ledger, row, record, None, suzuki).state == "done"
            continue
        assert capture_scan(ledger, interpret(spec.qr_texts[0], "s.png", 1, TRUSTED), "file", "tanaka").outcome == "new"
        confirm(ledger, row, tanaka)
    export(ledger, None, tmp_path / "out.jsonl", "jsonl", "suzuki")
    assert (tmp_path / "out.jsonl").read_bytes() == dumps_notices(notices)
    assert parse_csv(dumps_csv(notices), "x.csv") == notices
