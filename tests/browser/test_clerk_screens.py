"""Issue 12 in a real browser at 1366×768: the confirm page's header after a camera read (新規, then 重複),
a zoomable image cropped to the sheet; no Enter-mashing; camera advice with a 4:3 camera; Enter on the
files page; the board's first suggestion; the mismatch screen; the menu on one row for every role and
table headers that do not break; screenshots of the audit view and the report."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from paperlink.checkcodes import field_check
from paperlink.users import add_user

from .conftest import BEEP_HOOK, CHROMIUM, CHROMIUM_ARGS, PASSWORD, Paper, Server, scanned_pdf, write_y4m
from .test_counter_day import fill_entry, log_in, sheet_values

SMALL = {"width": 1366, "height": 768}



@pytest.fixture
def at_1366(browser: Any, server: Server) -> Any:
    """new(): a fresh 1366×768 context (camera allowed) and its page; beeps are collected in page.beeps."""
    contexts: list[Any] = []

    def new() -> Page:
        context = browser.new_context(base_url=server.url, locale="ja-JP", viewport=SMALL, permissions=["camera"],
                                      accept_downloads=True)
        context.set_default_timeout(15_000)
        context.add_init_script(BEEP_HOOK)
        contexts.append(context)
        page = context.new_page()
        beeps: list[str] = []
        page.on("console", lambda m: beeps.append(m.text) if m.text.startswith("paperlink-beep") else None)
        page.beeps = beeps  # type: ignore[attr-defined]
        return page

    yield new
    for context in contexts:
        context.close()


@pytest.fixture
def view_shot(screenshot_dir: Path) -> Any:
    """view_shot(page, name): what the clerk sees – the 1366×768 window, not the whole page."""
    def take(page: Page, name: str) -> None:
        page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=False)
    return take


def in_view(page: Page, test_id: str) -> bool:
    box = page.get_by_test_id(test_id).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SMALL["height"]


def states(server: Server) -> dict[int, str]:
    with server.ledger() as ledger:
        return {r["seq"]: r["state"] for r in ledger.query("SELECT seq, state FROM notices ORDER BY seq")}


def test_1_confirm_header_after_camera_read_then_duplicate(paper: Paper, server: Server, at_1366: Any,
                                                         view_shot: Any) -> None:
    page = at_1366()
    log_in(page, "aoki")
    page.get_by_test_id("nav-camera").click()
    page.wait_for_url(re.compile(r"/notice/\d+\?read=new$"), timeout=20_000)
    expect(page.get_by_test_id("read-state")).to_have_text("新規に読み取りました")
    page.wait_for_function("() => document.getElementById('page-image').naturalWidth > 0")
    for test_id in ("read-state", "notice-position", "notice-state", "signature", "confirm-button"):
        assert in_view(page, test_id), f"{test_id} is not in view at 1366×768"
    expect(page.get_by_test_id("notice-position")).to_contain_text("1/3")
    expect(page.get_by_test_id("confirm-button")).to_be_disabled()  # nothing has the focus; a short guard
    assert page.evaluate("document.activeElement === document.body")
    # the snapshot is cropped to the sheet: the desk around it (a 16:9 frame) is gone
    ratio = page.evaluate("(() => { const i = document.getElementById('page-image');"
                          " return i.naturalWidth / i.naturalHeight; })()")
    assert ratio < 1.6, f"the snapshot still has the frame's shape ({ratio:.2f})"
    view_shot(page, "20-confirm-after-camera-1366")
    width = page.evaluate("document.getElementById('page-image').getBoundingClientRect().width")
    page.get_by_test_id("page-image").click()
    page.wait_for_function(f"() => document.getElementById('page-image').getBoundingClientRect().width > {width} + 50"
                           " || document.getElementById('page-image').naturalWidth <= " + str(round(width)))
    expect(page.locator(".image-pane")).to_have_class(re.compile("zoomed"))
    page.get_by_test_id("page-image").click()
    expect(page.locator(".image-pane")).not_to_have_class(re.compile("zoomed"))
    # the same sheet again under the camera: 重複, with its own (lower, longer) sound
    beeps_before = len(page.beeps)
    page.get_by_test_id("nav-camera").click()
    page.wait_for_url(re.compile(r"/notice/\d+\?read=duplicate$"), timeout=20_000)
    expect(page.get_by_test_id("read-state")).to_contain_text("重複")
    assert in_view(page, "read-state") and in_view(page, "notice-position")
    assert page.beeps[beeps_before:] and "440" in page.beeps[-1]
    view_shot(page, "21-confirm-duplicate-1366")
    assert states(server) == {1: "decoded"}  # one notice, read twice


def test_2_holding_enter_confirms_nothing(paper: Paper, server: Server, at_1366: Any, tmp_path: Path) -> None:
    page = at_1366()
    log_in(page, "aoki")
    page.get_by_test_id("nav-files").click()
    page.get_by_test_id("files-input").set_input_files(str(scanned_pdf(paper, [0, 1, 2], tmp_path / "s.pdf")))
    page.keyboard.press("Enter")  # point 6: Enter after choosing the files reads them
    expect(page.get_by_test_id("result-row")).to_have_count(3)
    # point 7: the board's first suggestion for the sheet not yet received is to read it
    page.get_by_test_id("nav-board").click()
    cell = page.get_by_test_id(f"read-{paper.result.batch_id}-3")
    expect(cell).to_contain_text("用紙を読み取る")
    text = page.locator('[data-testid="notice-row"][data-seq="3"]').inner_text()
    assert text.index("カメラ") < text.index("手入力")
    with server.ledger() as ledger:
        first = ledger.query("SELECT id FROM notices WHERE state = 'decoded' ORDER BY seq")[0]["id"]
    page.goto(f"/notice/{first}")  # as from the board's 確認する: confirming moves on to the next sheet
    started = time.monotonic()
    page.keyboard.down("Enter")
    for _ in range(40):  # a held key: the browser repeats it
        page.keyboard.down("Enter")
        page.wait_for_timeout(50)
    page.keyboard.up("Enter")
    assert time.monotonic() - started > 2
    assert list(states(server).values()).count("confirmed") == 0, "holding Enter confirmed a notice"
    expect(page.get_by_test_id("confirm-button")).to_be_enabled()
    page.keyboard.press("Enter")  # one deliberate press once the page was in view
    expect(page.get_by_test_id("flash-info")).to_contain_text("を確認しました")
    assert list(states(server).values()).count("confirmed") == 1
    page.keyboard.press("Enter")  # straight away on the next notice: too soon
    page.wait_for_timeout(300)
    assert list(states(server).values()).count("confirmed") == 1
    assert in_view(page, "notice-position") and in_view(page, "confirm-button")


def test_4_mismatch_screen_marks_and_keeps(paper: Paper, server: Server, at_1366: Any, view_shot: Any) -> None:
    notice = paper.notices[0]
    page = at_1366()
    log_in(page, "aoki")
    page.get_by_test_id("nav-entry").click()
    page.get_by_test_id("new-manual").click()
    expect(page.get_by_test_id("input-before.card_number")).to_be_visible()
    assert page.locator('[data-testid="k-before.card_number"]').count() == 0, "a 検 box for a before value"
    values = sheet_values(notice, event_date="2026-13-45")  # one invalid date, to come back with an error
    fill_entry(page, values)
    page.get_by_test_id("k-name").fill("ZZ")  # a wrong 検: the item itself turns red
    expect(page.get_by_test_id("field-name")).to_have_class(re.compile("check-mismatch"))
    page.get_by_test_id("k-address").fill(field_check("address", notice.address))
    page.get_by_test_id("entry-submit").click()
    expect(page.get_by_test_id("entry-errors")).to_be_visible()
    expect(page.get_by_test_id("k-address")).to_have_value(field_check("address", notice.address))  # kept
    expect(page.get_by_test_id("field-name")).to_have_class(re.compile("check-mismatch"))
    fill_entry(page, {"event_date": notice.event_date.isoformat()})
    page.get_by_test_id("entry-submit").click()
    expect(page.get_by_test_id("flash-info")).to_contain_text("一回目の入力を保存しました")
    page.get_by_test_id("logout").click()
    log_in(page, "baba")
    page.get_by_test_id("nav-entry").click()
    page.get_by_test_id("entry-row").last.get_by_role("link").click()
    fill_entry(page, sheet_values(notice, address=notice.address + "1", name=notice.name + "X"))
    page.get_by_test_id("entry-submit").click()
    page.wait_for_url(re.compile(r"/resolve$"))
    expect(page.get_by_test_id("resolve-item")).to_have_count(2)
    view_shot(page, "22-mismatch-1366")
    page.get_by_test_id("input-address").fill(notice.address)  # only this one now
    page.get_by_test_id("resolve-submit").click()
    expect(page.get_by_test_id("resolve-item")).to_have_count(1)
    expect(page.get_by_test_id("resolve-item")).to_contain_text("氏名")


def test_5_menu_on_one_row_and_headers_whole(server: Server, at_1366: Any, view_shot: Any) -> None:
    with server.ledger() as ledger:
        add_user(ledger, "sato", "佐藤 花子", {"entry", "review", "admin"}, PASSWORD, actor="test")
    for login in ("aoki", "miru", "sato"):
        page = at_1366()
        log_in(page, login)
        tops = page.eval_on_selector_all(".main-nav a", "els => els.map(e => Math.round(e.getBoundingClientRect().top))")
        assert len(set(tops)) == 1, f"{login}: the menu wraps ({tops})"
        overflow = page.evaluate("document.querySelector('header.top').scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{login}: the header is wider than the window by {overflow}px"
        gap = page.evaluate("document.querySelector('.who').getBoundingClientRect().left"
                            " - Math.max(...[...document.querySelectorAll('.main-nav a')]"
                            ".map(a => a.getBoundingClientRect().right))")
        assert gap >= 0, f"{login}: the menu runs under the clerk's name by {-gap}px"
        for url in ("/board", "/export/", "/audit/", "/entry/"):
            response = page.goto(url)
            if response is None or response.status != 200:
                continue
            broken = page.eval_on_selector_all(
                "th", "els => els.filter(e => e.getBoundingClientRect().height >"
                      " 1.6 * parseFloat(getComputedStyle(e).lineHeight) + 12).map(e => e.textContent)")
            assert not broken, f"{login} {url}: headers broken over lines: {broken}"
        if login == "sato":
            page.goto("/audit/")
            view_shot(page, "23-audit-1366")


def test_6_camera_advice_with_a_dark_4_by_3_camera(browser: Any, server: Server, tmp_path: Path,
                                                   view_shot: Any) -> None:
    """A second browser whose camera (640×480) sees only a dark room: after a few seconds the status line,
    still on screen at 1366×768, says to make it brighter."""
    from PIL import Image

    video = write_y4m([Image.new("L", (640, 480), 15) for _ in range(4)], tmp_path / "dark.y4m")
    dark = browser.browser_type.launch(
        executable_path=str(CHROMIUM), headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={video}"])
    try:
        context = dark.new_context(base_url=server.url, locale="ja-JP", viewport=SMALL, permissions=["camera"])
        context.set_default_timeout(20_000)
        page = context.new_page()
        log_in(page, "aoki")
        page.get_by_test_id("nav-camera").click()
        page.wait_for_function("() => document.getElementById('camera-video').videoWidth === 640")
        expect(page.get_by_test_id("camera-status")).to_contain_text("明るく", timeout=20_000)
        assert page.get_by_test_id("camera").get_attribute("data-hint") == "light"
        assert in_view(page, "camera-status")
        view_shot(page, "24-camera-advice-4x3-1366")
    finally:
        dark.close()


def test_7_report_screenshot(server: Server, paper: Paper, screenshot_dir: Path) -> None:
    """The 処理結果一覧 of the batch, rendered to PNG for a look (the layout itself is tested with pdfplumber)."""
    from paperlink.export import processing_report
    from paperlink.ledger import Ledger

    with Ledger(server.home / "ledger.sqlite3") as ledger:
        pdf = processing_report(ledger, [paper.result.batch_id])
    target = screenshot_dir / "25-report.pdf"
    target.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(target), str(target.with_suffix(""))],
                   check=True)
    assert target.with_suffix(".png").stat().st_size > 10_000
