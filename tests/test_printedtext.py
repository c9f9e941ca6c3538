"""Issue 14b: a sheet whose code is destroyed is pre-filled from its printed table – only items whose OCR value
matches the check characters printed beside it (a doctored OCR result with one wrong character is refused)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink import printedtext
from paperlink.checkcodes import field_check, record_check_code
from paperlink.doubleentry import new_manual_notice, printed_items, submit_entry
from paperlink.labels import display_value, ordered_fields
from paperlink.ledger import EntryRound, Ledger, NoticeState, store
from paperlink.printedtext import CellReading, OcrUnavailable, ocr_available, prove, read_printed
from paperlink.printing import print_batch
from paperlink.samples import SampleOptions, generate
from paperlink.scanning import no_code_item
from paperlink.users import add_user
from tests.conftest import set_up_office
from tests.printedpages import cut_out_code, png, render_page

NOTICES = generate(SampleOptions(count=2, seed=11, notice_date=dt.date(2026, 11, 26)))
needs_ocr = pytest.mark.skipif(not ocr_available(), reason="Tesseract (tesserocr + tesseract-ocr-jpn) is not installed")


@pytest.fixture(scope="module")
def batch() -> Any:
    return print_batch(NOTICES, Ed25519PrivateKey.generate(), printed_on=dt.date(2026, 11, 26))


@pytest.fixture(scope="module")
def cut_page(batch: Any) -> Any:
    """Sheet 1/2 at 300 dpi with its code cut out."""
    first_sheet = len(render_pages_of(batch)) - len(batch.sheets)
    return cut_out_code(render_page(batch.pdf, first_sheet, 300))


def render_pages_of(batch: Any) -> list[int]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(batch.pdf)
    try:
        return list(range(len(document)))
    finally:
        document.close()


def printed_checks(notice: Any) -> dict[str, str]:
    """The check characters printed in the 検 column (items only, never before values)."""
    from paperlink.checkcodes import field_checks

    return {k: v for k, v in field_checks(notice).items() if not k.startswith("before.")}


# -- the proof, without OCR ----------------------------------------------------------------------------


def test_prove_accepts_only_a_value_whose_check_characters_match() -> None:
    check = field_check("name", "ALI HASSAN")
    assert prove("name", ["ALI HASSAN"], check) == "ALI HASSAN"
    assert prove("name", ["ALI HASSAM"], check) is None  # one wrong character
    assert prove("name", ["ALI HASSAN"], "") is None  # no check characters read: nothing is accepted
    assert prove("name", ["ALI HASSAN"], check[0]) is None
    assert prove("name", ["ALI HASSAN"], check[0] + "U") is None  # not Crockford base32
    assert prove("name", ["ALI HASSAM", "ALI HASSAN"], check) == "ALI HASSAN"  # one candidate matches


def test_a_misread_item_meets_few_candidates_and_check_readings() -> None:
    """Issue 14c-2b: at most 2 candidate values × 2 check readings per item (a misread item is wrongly proven with
    probability ≤ 4/1024), the plain OCR first."""
    texts = ["N20261126-0000O", "N20261126-000O8", "N20261126-00008"]
    found = printedtext.candidates("notice_id", texts)
    assert found == ["N20261126-0000O", "N20261126-00000"][:len(found)] and len(found) <= 2
    assert printedtext.MAX_CANDIDATES * printedtext.MAX_CHECKS <= 4


def test_an_enumerated_item_is_a_candidate_only_as_its_exact_japanese_label() -> None:
    """Issue 14c-2c: a stray letter read in the 国籍・地域 cell ("D", Germany's ICAO code) or a code instead of the
    printed label is never a candidate, even when its check characters would match."""
    germany = printedtext.candidates("nationality", ["ドイツ"])
    assert germany and printedtext.candidates("nationality", ["D"]) == []
    assert prove("nationality", printedtext.candidates("nationality", ["D"]), field_check("nationality", germany[0])) is None
    assert printedtext.candidates("status", ["student"]) == [] and printedtext.candidates("status", ["留学"]) == ["留学"]
    assert printedtext.candidates("sex", ["M"]) == [] and printedtext.candidates("sex", ["1"]) == []
    assert printedtext.candidates("sex", ["男"]) == ["M"]
    from paperlink.codetables import tables

    for key, table in (("event", tables().events), ("category", tables().categories), ("card_kind", tables().card_kinds)):
        code = next(iter(table))
        assert printedtext.candidates(key, [code]) == []
        assert printedtext.candidates(key, [display_value(key, code)]) == [code]


@pytest.mark.slow
def test_doctored_ocr_with_one_wrong_character_is_not_accepted(cut_page: Any) -> None:
    """The real page's table is found; the OCR is replaced by readings that are right except for one character
    of the name and one check character of the address: exactly those two items are left for the clerk."""
    notice = NOTICES[0]
    checks = printed_checks(notice)

    def doctored(gray: Any, table: printedtext.Table) -> Iterator[tuple[str, CellReading]]:
        assert len(table.lines) == len(ordered_fields()) + 2
        for spec in ordered_fields():
            key = spec.key
            if key not in checks:
                yield key, CellReading()
                continue
            text = display_value(key, notice.get(key))
            check = checks[key]
            if key == "name":
                text = text[:-1] + ("X" if text[-1] != "X" else "Y")
            if key == "address":
                check = check[0] + ("0" if check[1] != "0" else "1")
            yield key, CellReading([text], check)

    reading = read_printed(cut_page, ocr_rows=doctored)
    record = notice.record()
    assert reading.table_found
    assert "name" not in reading.items and "address" not in reading.items
    assert set(reading.unproven) == {"name", "address"}
    assert reading.items == {k: record[k] for k in checks if k not in ("name", "address")}


def test_without_tesseract_a_coded_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    monkeypatch.setattr(printedtext, "_unavailable_reason", lambda: "tesserocr")
    with pytest.raises(OcrUnavailable) as caught:
        read_printed(Image.new("L", (100, 100), 255))
    assert caught.value.code == "ocr_unavailable" and "Tesseract" in caught.value.message_ja
    item = no_code_item("page.png", 1, Image.new("L", (100, 100), 255), printed=True)
    assert item.printed is None and item.printed_problem is not None
    assert "tesserocr package is missing" in item.printed_problem.message("en")
    out = item.to_json()
    assert out["error"] and "printed" not in out


# -- real OCR ----------------------------------------------------------------------------------------------


@needs_ocr
@pytest.mark.slow
def test_ocr_of_a_sheet_with_its_code_cut_out(cut_page: Any) -> None:
    notice = NOTICES[0]
    record = notice.record()
    checks = printed_checks(notice)
    reading = read_printed(cut_page)
    assert reading.items, "nothing proven"
    assert all(record[k] == v for k, v in reading.items.items()), "a wrong item was accepted"
    assert len(reading.items) >= 0.75 * len(checks)
    assert reading.notice_id == notice.notice_id
    assert (reading.seq, reading.total) == (1, 2)


@needs_ocr
@pytest.mark.slow
def test_scan_json_reports_the_proven_items(cut_page: Any, runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    path.write_bytes(png(cut_page))
    result = runner("scan", str(path), "--json")
    assert result.exit_code == 2, result.output  # a page without a code, as before
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    out = lines[0]
    record = NOTICES[0].record()
    assert out["source"] == str(path) and out["page"] == 1 and out["error"]
    assert out["printed"] and all(record[k] == v for k, v in out["printed"].items())  # canonical values
    assert out["printed"]["notice_date"] == "2026-11-26" and out["notice_id"] == NOTICES[0].notice_id
    assert (out["printed_seq"], out["printed_total"]) == (1, 2)  # issue 14c-7: not the signed sheet's seq/total
    assert "seq" not in out and "total" not in out


# -- double entry with proven items ----------------------------------------------------------------------


@pytest.fixture
def desk(home: Path) -> Iterator[tuple[Ledger, Any, Any]]:
    path = home / "ledger.sqlite3"
    set_up_office(path)
    with Ledger(path) as ledger:
        a = add_user(ledger, "tanaka", "田中", {"entry"}, "correct horse 1", "admin")
        b = add_user(ledger, "suzuki", "鈴木", {"entry"}, "correct horse 2", "admin")
        yield ledger, a, b


PROVEN = ("notice_id", "notice_date", "event_date", "municipality_code", "event", "name", "birth_date", "sex")


def _typed(notice: Any, proven: tuple[str, ...] = PROVEN) -> dict[str, Any]:
    """What the clerk types: every item but the proven ones (those are left as the form posts them: empty)."""
    record = notice.record()
    return {**{k: (None if k in proven else v) for k, v in record.items() if k != "before"}, "before": record["before"]}


def test_proven_items_count_as_keyed_once_and_the_second_entry_types_the_rest(desk: Any) -> None:
    ledger, tanaka, suzuki = desk
    notice = NOTICES[0]
    record = notice.record()
    row = new_manual_notice(ledger, tanaka, "2026-11-27")
    proven = {k: record[k] for k in PROVEN}
    first = submit_entry(ledger, row, _typed(notice), record_check_code(notice), tanaka, printed=proven)
    assert first.state is NoticeState.FIRST_ENTRY, first.errors
    entry = store.latest_entry(ledger, row, EntryRound.FIRST)
    assert entry is not None and set(entry.printed) == set(PROVEN)
    assert printed_items(ledger, row) == proven
    # the second clerk types only the other items; what a form might post for a proven item is not used
    second_raw = _typed(notice)
    second_raw["name"] = "SOMEONE ELSE"
    second = submit_entry(ledger, row, second_raw, None, suzuki)
    assert second.state is NoticeState.DONE, second.errors
    assert store.notice(ledger, row).state is NoticeState.DONE and store.verification(ledger, row) is not None
    audit = [e for e in ledger.audit_entries() if e.action in ("entry.first", "entry.done")]
    assert [e.detail.get("printed") for e in audit] == [sorted(PROVEN)] * 2
    assert "SOMEONE" not in json.dumps([e.detail for e in audit])


def test_a_typed_item_that_differs_in_the_second_entry_is_a_mismatch(desk: Any) -> None:
    ledger, tanaka, suzuki = desk
    notice = NOTICES[0]
    record = notice.record()
    row = new_manual_notice(ledger, tanaka, "2026-11-27")
    submit_entry(ledger, row, _typed(notice), record_check_code(notice), tanaka,
                 printed={k: record[k] for k in PROVEN})
    second_raw = _typed(notice)
    second_raw["nationality"] = "中国" if notice.nationality != "中国" else "韓国"
    second = submit_entry(ledger, row, second_raw, None, suzuki)
    assert second.state is NoticeState.MISMATCH and second.differences == ("nationality",)


def test_a_wrong_or_missing_check_code_blocks_a_partly_printed_record(desk: Any) -> None:
    ledger, tanaka, _ = desk
    notice = NOTICES[0]
    record = notice.record()
    row = new_manual_notice(ledger, tanaka, "2026-11-27")
    proven = {k: record[k] for k in PROVEN}
    wrong_code = "000-000" if record_check_code(notice) != "000-000" else "111-111"
    wrong = submit_entry(ledger, row, _typed(notice), wrong_code, tanaka, printed=proven)
    assert not wrong.stored and [e.field for e in wrong.errors] == ["check_code"]
    missing = submit_entry(ledger, row, _typed(notice), None, tanaka, printed=proven)
    assert not missing.stored and [e.code for e in missing.errors] == ["entry_printed_check_code"]
    # a typed item that is wrong makes the record disagree with the check code: nothing is stored either
    slip = _typed(notice)
    slip["nationality"] = "中国" if notice.nationality != "中国" else "韓国"
    typo = submit_entry(ledger, row, slip, record_check_code(notice), tanaka, printed=proven)
    assert not typo.stored and "check_code" in [e.field for e in typo.errors]
    assert store.notice(ledger, row).state is NoticeState.MISSING
    assert store.latest_entry(ledger, row, EntryRound.FIRST) is None


def test_printed_items_are_only_for_the_first_entry(desk: Any) -> None:
    ledger, tanaka, suzuki = desk
    notice = NOTICES[0]
    record = notice.record()
    row = new_manual_notice(ledger, tanaka, "2026-11-27")
    first = submit_entry(ledger, row, notice.record(), None, tanaka)  # typed in full: no proven items
    assert first.stored and printed_items(ledger, row) == {}
    # a second entry cannot bring proven items of its own: the proven items are only the first entry's (none),
    # so the items it left empty differ from the first entry
    result = submit_entry(ledger, row, _typed(notice), None, suzuki, printed={k: record[k] for k in PROVEN})
    assert not result.stored and {e.field for e in result.errors} >= {"notice_id", "name"}
    assert store.notice(ledger, row).state is NoticeState.FIRST_ENTRY


def test_scan_says_once_when_tesseract_is_missing(monkeypatch: pytest.MonkeyPatch, runner: Any, tmp_path: Path) -> None:
    from PIL import Image

    monkeypatch.setattr(printedtext, "_unavailable_reason", lambda: "tesserocr")
    blank = tmp_path / "blank.png"
    Image.new("L", (400, 400), 255).save(blank)
    result = runner("scan", str(blank), str(blank), "--json")
    assert result.exit_code == 2
    assert result.stderr.count("the printed text cannot be read here: the tesserocr package is missing") == 1
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"source": str(blank), "page": 1, "error": "no QR code could be read on this page"}] * 2
