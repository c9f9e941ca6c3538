"""Issue 14b in a real browser: a sheet whose QR code was cut out is dropped on the ファイル page, and the manual
entry opens with the items its printed text proved (check characters matched) filled and marked; the clerk
types only the rest and the check code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from paperlink.checkcodes import record_check_code
from paperlink.printedtext import PRINTED_MARK, ocr_available
from tests.printedpages import cut_out_code

from .conftest import Paper, Server
from .test_counter_day import log_in, sheet_values

pytestmark = pytest.mark.skipif(not ocr_available(), reason="Tesseract (tesserocr + tesseract-ocr-jpn) is not installed")


def test_sheet_with_its_code_cut_out_is_prefilled_from_its_printed_text(paper: Paper, server: Server, open_session: Any,
                                                                        shot: Any, tmp_path: Path) -> None:
    notice = paper.notices[2]
    scan = tmp_path / "cut-sheet-3.png"
    cut_out_code(paper.page(3, 300)).save(scan)  # PDF page 3 = sheet 3/3, scanned at 300 dpi, its code cut out
    page = open_session().page
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, "aoki")
    page.get_by_test_id("nav-files").click()
    page.get_by_test_id("files-input").set_input_files(str(scan))
    with page.expect_navigation(timeout=180_000):  # OCR of a 300-dpi page: a few seconds, more on a busy machine
        page.get_by_test_id("files-submit").click(no_wait_after=True)
    row = page.get_by_test_id("result-row")
    expect(row).to_have_attribute("data-label", "印字から読取")
    shot(page, "40-printed-upload")
    row.get_by_test_id("result-link").click()
    expect(page.get_by_test_id("prefill-summary")).to_be_visible()
    proven = page.locator("[data-proven]")
    assert proven.count() >= 10, proven.count()
    expect(page.get_by_test_id("printed-notice_id")).to_have_text(PRINTED_MARK)
    expect(page.get_by_test_id("input-notice_id")).to_have_value(notice.notice_id)
    expect(page.get_by_test_id("input-notice_id")).to_have_attribute("readonly", "")
    expect(page.get_by_test_id("input-name")).to_have_value(notice.name)
    shot(page, "41-printed-entry-form")
    # issue 14c-5: the focus is on the first item to type; Enter never stops on a read-only (proven) item; the items
    # to type are highlighted and named in the summary
    first_open = page.locator(".field:not([data-proven]) input[data-check-key]").first
    expect(first_open).to_be_focused()
    expect(page.get_by_test_id("prefill-to-type")).not_to_be_empty()
    visited = []
    for _ in range(6):
        page.keyboard.press("Enter")
        visited.append(page.evaluate("document.activeElement.readOnly"))
    assert not any(visited), visited
    highlighted = page.locator(".field.to-type input[data-check-key], .field.maybe-empty input[data-check-key]")
    if page.locator(".field.to-type").count():
        colour = page.locator(".field.to-type input[data-check-key]").first.evaluate(
            "el => getComputedStyle(el).backgroundColor")
        assert colour not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), colour
    assert highlighted.count() >= 1
    values = sheet_values(notice)
    to_type = [name.removeprefix("field-") for name in
               page.locator(".field.to-type, .field.maybe-empty").evaluate_all("els => els.map(e => e.dataset.testid)")]
    for item in to_type:
        page.get_by_test_id(f"input-{item}").fill(values[item])
    for item, value in values.items():  # the before values are always typed (no check characters are printed)
        if item.startswith("before."):
            page.get_by_test_id(f"input-{item}").fill(value)
    page.get_by_test_id("input-check_code").fill(record_check_code(notice))
    page.get_by_test_id("entry-submit").click()
    expect(page.get_by_test_id("flash-info")).to_contain_text("一回目の入力を保存しました")
    with server.ledger() as ledger:
        entries = ledger.query("SELECT printed FROM entries")
    assert len(entries) == 1 and entries[0]["printed"] and '"notice_id"' in entries[0]["printed"]
