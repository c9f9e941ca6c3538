"""Issue 12, integrity: another municipality's batch never reaches the board by any way in, and a double
entry is settled only by two different clerks, every one of them named.

Each test here failed on the branch start (the cover sheet named no municipality and was registered; one
clerk could settle a difference with their own value)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from paperlink.doubleentry import SAME_CLERK_SETTING
from paperlink.intake import OFFICE_MUNICIPALITY_SETTING
from paperlink.payload import ManifestPayload, PayloadVersionError
from tests.web.test_confirm_entry import _form

OTHER_OFFICE = "011002"  # 札幌市: the printed batch is addressed to 131016


@pytest.fixture
def elsewhere(ledger) -> None:
    """An office that is not the printed batch's addressee."""
    ledger.set_setting(OFFICE_MUNICIPALITY_SETTING, OTHER_OFFICE, "test")


def _nothing_registered(state: Any) -> None:
    now = state()
    assert (now["batches"], now["notices"], now["entries"]) == (0, 0, 0)


def _board_is_empty(client) -> None:
    board = client.get("/board").get_data(as_text=True)
    assert not re.search(r"/entry/\d", board) and "/1/" not in board.replace("/1/3", "")
    assert "B2026" not in board


def test_cover_names_its_municipality_and_an_old_cover_is_refused(printed) -> None:
    manifest = ManifestPayload.from_text(printed.cover_texts[0])
    assert manifest.municipalities == (printed.notices[0].municipality_code,)
    with pytest.raises(PayloadVersionError):
        ManifestPayload.from_text("PM1:" + printed.cover_texts[0][4:])


def test_files_refuse_another_municipalitys_batch(client, printed, state, elsewhere, ledger) -> None:
    """GIVEN an office set to 札幌市 WHEN the whole printed PDF (cover + sheets) is uploaded THEN cover and
    sheets are 対象外, no batch is registered, nothing can be typed, and the refusals are audited."""
    client.login("aoki")
    data = {"files": [(io.BytesIO(printed.result.pdf), "scan.pdf")]}
    page = client.send("/capture/files", data, content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-label="表紙（登録）"' not in page and page.count('data-label="対象外"') == 4
    assert "別の市区町村（131016）宛てのバッチ" in page
    _nothing_registered(state)
    _board_is_empty(client)
    refused = [e for e in ledger.audit_entries() if e.action == "capture.foreign"]
    assert len(refused) == 4 and refused[0].detail["other"] == "131016"


def test_camera_refuses_another_municipalitys_cover(client, printed, state, elsewhere, to_jpeg) -> None:
    client.login("aoki")
    response = client.post("/capture/frame", data=to_jpeg(printed.pages[0]), content_type="image/jpeg",
                           headers={"X-CSRFToken": client.csrf()})
    body = response.get_json()
    assert body["found"] is True and body["ok"] is False and body["label"] == "対象外"
    _nothing_registered(state)
    _board_is_empty(client)


def test_handheld_scanner_refuses_another_municipalitys_cover_and_sheet(client, printed, state, elsewhere) -> None:
    client.login("aoki")
    for text in (printed.cover_texts[0], printed.sheet_texts[0]):
        page = client.send("/capture/wedge", {"code": text}, follow_redirects=True).get_data(as_text=True)
        assert "別の市区町村（131016）宛て" in page
    _nothing_registered(state)
    _board_is_empty(client)


def test_scan_folder_refuses_another_municipalitys_batch(client, printed, state, elsewhere, home: Path) -> None:
    client.login("aoki")
    (home / "scans").mkdir(parents=True, exist_ok=True)
    (home / "scans" / "batch.pdf").write_bytes(printed.result.pdf)
    client.send("/capture/folder")
    _nothing_registered(state)
    _board_is_empty(client)


def test_typed_notice_for_another_municipality_is_refused(client, printed, state, elsewhere) -> None:
    """GIVEN paper without a code WHEN a clerk types a notice addressed to another municipality THEN the
    municipality item is marked and nothing is stored (so it can never be typed twice to 完了)."""
    client.login("aoki")
    row = client.send("/entry/new").location.rsplit("/", 1)[1]
    response = client.send(f"/entry/{row}", _form(printed.notices[0]))
    assert response.status_code == 400
    assert "別の市区町村（131016）宛ての通知です" in response.get_data(as_text=True)
    assert state()["entries"] == 0


def test_own_municipality_is_still_accepted(client, printed, state, ledger) -> None:
    ledger.set_setting(OFFICE_MUNICIPALITY_SETTING, "131016", "test")
    client.login("aoki")
    client.send("/capture/wedge", {"code": printed.cover_texts[0]})
    assert state()["notices"] == 3


# -- double entry: two different clerks --------------------------------------------------------------


def _mismatch(client, ledger, notice, wrong_address: str) -> str:
    client.login("aoki")
    row = client.send("/entry/new").location.rsplit("/", 1)[1]
    assert client.send(f"/entry/{row}", _form(notice)).status_code == 302
    client.send("/logout")
    client.login("baba")
    assert client.send(f"/entry/{row}", _form(notice, address=wrong_address)).location.endswith("/resolve")
    client.send("/logout")
    return row


def test_one_clerk_cannot_settle_a_difference_with_their_own_value(client, ledger, printed) -> None:
    """GIVEN entry 1 by 青木 and entry 2 by 馬場 with a difference WHEN 青木 re-keys 青木's own value THEN it
    is not settled; once 馬場 keys the same value it is, and the notice page, the report and the audit log
    name both clerks."""
    notice = printed.notices[1]
    row = _mismatch(client, ledger, notice, notice.address + "1")
    client.login("aoki")
    response = client.send(f"/entry/{row}/resolve", {"address": notice.address})
    assert response.status_code == 400 and "あなたしか入力していません" in response.get_data(as_text=True)
    assert ledger.query("SELECT state FROM notices WHERE id = ?", (row,))[0]["state"] == "mismatch"
    client.send("/logout")
    client.login("baba")
    assert client.send(f"/entry/{row}/resolve", {"address": notice.address}).status_code == 302
    assert ledger.query("SELECT state FROM notices WHERE id = ?", (row,))[0]["state"] == "done"
    page = client.get(f"/notice/{row}").get_data(as_text=True)
    assert "aoki, baba" in page
    done = [e for e in ledger.audit_entries() if e.action == "entry.done"][-1]
    assert done.detail["entered_by"] == ["aoki", "baba"] and done.actor == "baba"
    batch = ledger.query("SELECT batch_id FROM notices WHERE id = ?", (row,))[0]["batch_id"]
    with pdfplumber.open(io.BytesIO(client.get(f"/export/report.pdf?batch={batch}").data)) as pdf:
        text = "".join(p.extract_text() or "" for p in pdf.pages)
    assert "aoki" in text and "baba" in text


def test_a_third_clerk_may_settle_with_either_value(client, ledger, printed) -> None:
    notice = printed.notices[2]
    row = _mismatch(client, ledger, notice, notice.address + "1")
    from paperlink.users import add_user
    add_user(ledger, "chiba", "千葉", {"entry"}, "correct-horse-1", actor="test")
    client.login("chiba")
    assert client.send(f"/entry/{row}/resolve", {"address": notice.address}).status_code == 302
    verification = ledger.query("SELECT * FROM verifications WHERE notice_row = ?", (row,))[0]
    assert verification["entered_by"] == "aoki, baba, chiba" and verification["verified_by"] == "chiba"


def test_one_clerk_office_settles_only_after_a_fresh_login_recorded(client, ledger, printed) -> None:
    """GIVEN the setting for a one-clerk office WHEN the clerk re-keys their own value THEN the password is
    asked; with it the item is settled and the verification says it was the same clerk."""
    ledger.set_setting(SAME_CLERK_SETTING, "1", "test")
    notice = printed.notices[0]
    client.login("aoki")
    row = client.send("/entry/new").location.rsplit("/", 1)[1]
    client.send(f"/entry/{row}", _form(notice))
    second = {**_form(notice, address=notice.address + "1"), "password": "correct-horse-1"}
    assert client.send(f"/entry/{row}", second).location.endswith("/resolve")
    page = client.get(f"/entry/{row}/resolve").get_data(as_text=True)
    assert 'name="password"' in page
    assert client.send(f"/entry/{row}/resolve", {"address": notice.address}).status_code == 400
    assert client.send(f"/entry/{row}/resolve", {"address": notice.address, "password": "wrong"}).status_code == 400
    assert client.send(f"/entry/{row}/resolve",
                       {"address": notice.address, "password": "correct-horse-1"}).status_code == 302
    verification = ledger.query("SELECT * FROM verifications WHERE notice_row = ?", (row,))[0]
    assert verification["entered_by"] == "aoki" and "再認証" in verification["reason"]
    assert [e for e in ledger.audit_entries() if e.action == "entry.done"][-1].detail["same_clerk"] is True


# -- issue 13, item 16: the audit view never shows what the first entry typed -----------------------


def test_audit_view_does_not_show_the_first_entrys_notice_id(client, ledger, printed) -> None:
    notice = printed.notices[0]
    client.login("aoki")
    row = client.send("/entry/new").location.rsplit("/", 1)[1]
    assert client.send(f"/entry/{row}", _form(notice)).status_code == 302
    client.send("/logout")
    client.login("baba")  # 審査 and 入力: about to make the blind second entry
    page = client.get("/audit/").get_data(as_text=True)
    assert "一回目の入力" in page or "entry.first" in page
    assert notice.notice_id not in page
    assert notice.notice_id not in str([e.detail for e in ledger.audit_entries()])



def test_an_item_the_paper_leaves_empty_is_re_keyed_as_empty(client, ledger, printed) -> None:
    """GIVEN entry 1 typed a remark the paper does not have WHEN the first clerk ticks 「空欄」 on the mismatch
    screen THEN the empty value (keyed by the second clerk too) settles it; an untouched item is not keyed."""
    notice = next(n for n in printed.notices if not n.remarks)
    client.login("aoki")
    row = client.send("/entry/new").location.rsplit("/", 1)[1]
    client.send(f"/entry/{row}", _form(notice, remarks="窓口で交付済み"))
    client.send("/logout")
    client.login("baba")
    assert client.send(f"/entry/{row}", _form(notice)).location.endswith("/resolve")
    client.send("/logout")
    client.login("aoki")
    assert 'data-testid="empty-remarks"' in client.get(f"/entry/{row}/resolve").get_data(as_text=True)
    assert client.send(f"/entry/{row}/resolve", {"remarks": ""}).status_code == 400  # nothing keyed: stays open
    assert ledger.query("SELECT COUNT(*) AS n FROM entries WHERE round > 2")[0]["n"] == 0
    assert client.send(f"/entry/{row}/resolve", {"remarks": "", "empty.remarks": "1"}).status_code == 302
    assert ledger.query("SELECT state FROM notices WHERE id = ?", (row,))[0]["state"] == "done"


def test_scanner_reads_say_new_then_duplicate_on_the_confirm_page(client, printed) -> None:
    """Issue 12, point 3: after every read the confirm page says 新規 or 重複 at the top (here the scanner)."""
    client.login("aoki")
    first = client.send("/capture/wedge", {"code": printed.sheet_texts[0]})
    assert first.location.endswith("?read=new")
    assert 'data-read="new"' in client.get(first.location).get_data(as_text=True)
    again = client.send("/capture/wedge", {"code": printed.sheet_texts[0]})
    assert again.location.endswith("?read=duplicate")
    assert "重複：この用紙は既に読み取り済みです" in client.get(again.location).get_data(as_text=True)
