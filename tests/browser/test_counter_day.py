"""A day at the counter in real headless Chromium against the real entry screen.

One batch of three printed notices goes through every way in: sheet 1/3 under the webcam, the cover and
sheet 2/3 as a scanned PDF upload, sheet 3/3 "torn" and typed twice by two clerks with one deliberate
mismatch that is re-keyed from the paper. A reviewer then exports the batch, and the exported file is
byte for byte the data file that was printed. Each step leaves a screenshot (see conftest.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from paperlink.checkcodes import field_check, record_check_code
from paperlink.dates import to_wareki
from paperlink.doubleentry import flatten
from paperlink.fields import FIELD_BY_KEY
from paperlink.labels import display_value
from paperlink.notice import Notice

from .conftest import PASSWORD, Paper, Server, scanned_pdf

WAREKI_ITEM = "birth_date"


def log_in(page: Page, login: str, shot: Any = None, name: str = "") -> None:
    page.goto("/login")
    page.get_by_test_id("login").fill(login)
    page.get_by_test_id("password").fill(PASSWORD)
    if shot:
        shot(page, name)
    page.get_by_test_id("password").press("Enter")
    expect(page.get_by_test_id("current-user")).to_contain_text(f"（{login}）")


def sheet_values(notice: Notice, **changes: str) -> dict[str, str]:
    """Every input of the entry form as a clerk types it from the printed sheet: codes as their printed
    Japanese labels, dates in 西暦 (one in 和暦), empty where the sheet shows ―."""
    values = {}
    for item, value in flatten(notice.record()).items():
        key = item.removeprefix("before.")
        if value is None:
            values[item] = ""
        elif FIELD_BY_KEY[key].is_date:
            values[item] = value
        else:
            values[item] = display_value(key, FIELD_BY_KEY[key].normalise(value))
    values[WAREKI_ITEM] = to_wareki(notice.birth_date)
    values.update(changes)
    return values


def fill_entry(page: Page, values: dict[str, str]) -> None:
    for item, value in values.items():
        page.get_by_test_id(f"input-{item}").fill(value)


def type_printed_checks(page: Page, checks: dict[str, str]) -> None:
    """Type the sheet's 検 characters into the small boxes beside the items."""
    for item, check in checks.items():
        page.get_by_test_id(f"k-{item}").fill(check)


def expect_checks(page: Page, checks: dict[str, str], flagged: Collection[str] = ()) -> None:
    """Each small box agrees with the check characters computed from what was typed, except `flagged`."""
    for item in checks:
        state = "mismatch" if item in flagged else "match"
        expect(page.get_by_test_id(f"k-{item}")).to_have_class(re.compile(rf"(^|\s){state}(\s|$)"))


def other_card_number(number: str) -> str:
    """The same card number with one digit mistyped."""
    digit = next(i for i, c in enumerate(number) if c.isdigit())
    return number[:digit] + str((int(number[digit]) + 1) % 10) + number[digit + 1:]


def notice_states(server: Server) -> dict[int, str]:
    with server.ledger() as ledger:
        return {r["seq"]: r["state"] for r in ledger.query("SELECT seq, state FROM notices ORDER BY seq")}


def test_capture_confirm_double_entry_and_export(paper: Paper, server: Server, open_session: Any, shot: Any,
                                                tmp_path: Path) -> None:
    first, second, torn = paper.notices

    # -- 1. clerk A logs in and holds sheet 1/3 under the webcam ------------------------------------
    clerk_a = open_session()
    page = clerk_a.page
    log_in(page, "aoki", shot, "01-login")
    expect(page.get_by_test_id("board-empty")).to_be_visible()
    shot(page, "02-board-empty")

    held: list[Any] = []
    gate = {"open": False}

    def hold_first_frame(route: Any) -> None:  # keep the first frame until the live preview is on screen
        if gate["open"]:
            route.continue_()
        else:
            held.append(route)

    page.route("**/capture/frame", hold_first_frame)
    page.get_by_test_id("nav-camera").click()
    expect(page.get_by_test_id("camera-status")).to_contain_text("読み取り中")
    page.wait_for_function("() => document.getElementById('camera-video').videoWidth === 1280")
    deadline = time.monotonic() + 15
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "the camera page posted no frame"
    shot(page, "03-camera")
    gate["open"] = True
    held.pop().continue_()
    page.wait_for_url(re.compile(r"/notice/\d+\?read=new$"), timeout=20_000)
    assert clerk_a.beeps, "no beep when the sheet was read"
    expect(page.get_by_test_id("item-notice_id")).to_contain_text(first.notice_id)
    expect(page.get_by_test_id("notice-state")).to_have_text("読取済")
    expect(page.get_by_test_id("signature")).to_have_attribute("data-state", "trusted")
    expect(page.get_by_test_id("page-image")).to_be_visible()
    page.wait_for_function("() => document.getElementById('page-image').naturalWidth > 0")
    shot(page, "04-camera-confirm")
    page.get_by_test_id("confirm-button").click()
    expect(page.get_by_test_id("flash-info")).to_contain_text(f"{first.notice_id} を確認しました")
    assert notice_states(server) == {1: "confirmed"}

    # -- 2. the cover and sheet 2/3 come back from the scanner as an image PDF ------------------------
    scan = scanned_pdf(paper, [0, 2], tmp_path / "scan-0001.pdf")
    page.get_by_test_id("nav-files").click()
    page.get_by_test_id("files-input").set_input_files(str(scan))
    expect(page.get_by_test_id("dropzone")).to_contain_text("1 個のファイル")
    shot(page, "05-upload-chosen")
    page.get_by_test_id("files-submit").click()
    rows = page.get_by_test_id("result-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-label", "表紙（登録）")
    expect(rows.nth(1)).to_have_attribute("data-label", "新規")
    expect(rows.nth(1)).to_contain_text(second.notice_id)
    shot(page, "06-upload-results")
    rows.nth(1).get_by_test_id("result-link").click()
    page.wait_for_url(re.compile(r"/notice/\d+\?from=files&read=new$"))
    expect(page.get_by_test_id("item-notice_id")).to_contain_text(second.notice_id)
    expect(page.get_by_test_id("signature")).to_have_attribute("data-state", "trusted")
    page.wait_for_function("() => document.getElementById('page-image').naturalWidth > 0")
    shot(page, "07-upload-confirm")
    expect(page.get_by_test_id("confirm-button")).to_be_enabled()  # after the short guard on arrival
    page.keyboard.press("Alt+KeyC")  # the on-screen shortcut
    page.wait_for_url(re.compile(r"/capture/files$"))
    expect(page.get_by_test_id("flash-info")).to_contain_text(f"{second.notice_id} を確認しました")
    assert notice_states(server) == {1: "confirmed", 2: "confirmed", 3: "missing"}

    # -- 3. sheet 3/3 is torn: clerk A types the first entry from the paper ---------------------------
    page.get_by_test_id("nav-entry").click()
    waiting = page.get_by_test_id("entry-row")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text(torn.notice_id)  # known from the cover
    waiting.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("1回目の入力")
    values = sheet_values(torn)
    fill_entry(page, values)
    # the sheet prints 検 characters for the items, not for the before values (which get no 検 box)
    printed_checks = {k: v for k, v in paper.result.sheets[2].field_checks.items() if not k.startswith("before.")}
    type_printed_checks(page, printed_checks)
    expect_checks(page, printed_checks)
    birth = torn.birth_date.isoformat()
    expect(page.get_by_test_id(f"check-{WAREKI_ITEM}")).to_have_text(f"検 {field_check(WAREKI_ITEM, birth)}")
    expect(page.get_by_test_id(f"chk-{WAREKI_ITEM}")).to_contain_text(birth)
    page.get_by_test_id("input-check_code").fill(record_check_code(torn))
    shot(page, "08-first-entry")
    page.get_by_test_id("input-check_code").press("Control+Enter")
    expect(page.get_by_test_id("flash-info")).to_contain_text("一回目の入力を保存しました")
    assert notice_states(server)[3] == "first_entry"
    shot(page, "09-first-entry-saved")
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-form")).to_be_visible()

    # -- 4. clerk B, at another PC, types it blind – with one card number digit wrong ------------------
    clerk_b = open_session()
    page = clerk_b.page
    log_in(page, "baba")
    page.get_by_test_id("nav-entry").click()
    page.get_by_test_id("entry-row").get_by_role("link", name="2回目を入力").click()
    expect(page.locator("h1")).to_contain_text("2回目の入力")
    typed = [page.get_by_test_id(f"input-{item}").input_value() for item in values]
    assert not any(typed), "the second entry's form shows values"
    wrong = other_card_number(torn.card_number)
    fill_entry(page, sheet_values(torn, card_number=wrong))
    type_printed_checks(page, printed_checks)
    expect_checks(page, printed_checks, flagged={"card_number"})  # flagged while typing (the clerk goes on)
    shot(page, "10-second-entry")
    page.get_by_test_id("entry-submit").click()
    page.wait_for_url(re.compile(r"/entry/\d+/resolve$"))
    expect(page.get_by_test_id("resolve-item")).to_have_count(1)
    expect(page.get_by_test_id("resolve-item")).to_contain_text("カード番号")
    expect(page.get_by_test_id("input-card_number")).to_have_value("")
    content = page.content()
    assert torn.card_number not in content and wrong not in content, "the mismatch screen shows a value"
    assert notice_states(server)[3] == "mismatch"
    shot(page, "11-mismatch")

    # -- 5. clerk B re-keys the card number from the paper: done ----------------------------------------
    page.get_by_test_id("input-card_number").fill(torn.card_number)
    page.get_by_test_id("input-card_number").press("Enter")  # the last (only) field: Enter submits
    page.wait_for_url(re.compile(r"/notice/\d+$"))
    expect(page.get_by_test_id("notice-state")).to_have_text("完了")
    expect(page.get_by_test_id("verified-by")).to_contain_text("二重入力: baba")
    expect(page.get_by_test_id("verified-by")).to_contain_text("入力 aoki")
    expect(page.get_by_test_id("item-card_number")).to_contain_text(torn.card_number)
    shot(page, "12-double-entry-done")
    assert notice_states(server) == {1: "confirmed", 2: "confirmed", 3: "done"}

    # -- 6. a reviewer exports the batch (JSONL): the file that was printed, byte for byte ---------------
    reviewer = open_session()
    page = reviewer.page
    log_in(page, "miru")
    page.get_by_test_id("nav-export").click()
    expect(page.get_by_test_id(f"export-batch-{paper.result.batch_id}")).to_be_checked()
    shot(page, "13-export-ready")
    page.get_by_test_id("export-jsonl").click()
    expect(page.get_by_test_id("confirm-total")).to_have_text("3 件")  # the confirm step names what is written
    page.get_by_test_id("export-confirm").click()
    expect(page.get_by_test_id("flash-info")).to_contain_text("3 件を")
    link = page.locator(f'[data-testid^="download-{paper.result.batch_id}-"]')
    expect(link).to_have_count(1)
    shot(page, "14-exported")
    with page.expect_download() as download_info:
        link.click()
    downloaded = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(downloaded)
    assert downloaded.name.endswith(".jsonl")
    assert downloaded.read_bytes() == paper.data_file.read_bytes()
    assert (server.home / "exports" / downloaded.name).read_bytes() == paper.data_file.read_bytes()

    page.get_by_test_id("nav-board").click()
    board = page.get_by_test_id("batch")
    expect(board.get_by_test_id("received")).to_contain_text("3/3")
    expect(board).to_contain_text("出力済")
    shot(page, "15-board-exported")

    with server.ledger() as ledger:
        methods = [tuple(r) for r in ledger.query(
            "SELECT n.seq, v.method, v.verified_by FROM verifications v JOIN notices n ON n.id = v.notice_row"
            " ORDER BY n.seq")]
        channels = {r["seq"]: r["channel"] for r in ledger.query(
            "SELECT seq, channel FROM captures WHERE outcome = 'new'")}
    assert methods == [(1, "qr", "aoki"), (2, "qr", "aoki"), (3, "double_entry", "baba")]
    assert channels == {1: "webcam", 2: "file"}
