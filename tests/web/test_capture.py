"""Capture three ways (files, webcam frames, handheld scanner) and every bad input: a clear Japanese message
and no change to notices or batches."""

from __future__ import annotations

import io
from pathlib import Path

from paperlink.payload import SheetPayload


def _upload(client, *files: tuple[bytes, str]):
    data = {"files": [(io.BytesIO(content), name) for content, name in files]}
    return client.send("/capture/files", data, content_type="multipart/form-data")


def _noise_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((640, 480), 60).save(out, "PNG")
    return out.getvalue()


def test_upload_multipage_pdf_registers_and_reads_every_sheet(client, printed, state, home: Path) -> None:
    """GIVEN the printed batch as a scanned PDF WHEN uploaded THEN the cover registers it, each sheet is 新規,
    the board shows 3/3 and every page image is kept for the confirm screen."""
    client.login("aoki")
    response = _upload(client, (printed.result.pdf, "scan.pdf"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count('data-label="新規"') == 3 and 'data-label="表紙（登録）"' in page
    assert [s for _, _, s in state()["states"]] == ["decoded"] * 3
    board = client.get("/board").get_data(as_text=True)
    assert "3/3" in board and "読取済" in board
    assert len(list((home / "captures").glob("*.jpg"))) == 4


def test_same_sheet_twice_is_a_duplicate_not_a_second_notice(client, printed, state) -> None:
    """GIVEN a sheet already read WHEN its page image is uploaded again THEN 重複 and still one notice."""
    client.login("aoki")
    _upload(client, (printed.pages[1], "p1.png"))
    before = state()
    page = _upload(client, (printed.pages[1], "p1-again.png")).get_data(as_text=True)
    assert 'data-label="重複"' in page and "既に読み取り済み" in page
    assert state() == before


def test_file_that_is_not_an_image(client, state) -> None:
    """GIVEN a text file WHEN uploaded THEN a Japanese message and nothing changes."""
    client.login("aoki")
    before = state()
    response = _upload(client, (b"hello, this is not a scan", "memo.txt"))
    assert response.status_code == 400
    assert "画像でも PDF でもない" in response.get_data(as_text=True)
    assert state() == before


def test_photo_without_a_code_is_offered_for_manual_entry(client, state) -> None:
    """GIVEN a photo with no QR code WHEN uploaded THEN 読めない, a link to manual entry, nothing changes."""
    client.login("aoki")
    before = state()
    page = _upload(client, (_noise_png(), "photo.png")).get_data(as_text=True)
    assert 'data-label="読めない"' in page and "QR コードを読み取れませんでした" in page and "手入力へ" in page
    assert state() == before


def test_upload_over_the_limit(app, client) -> None:
    """GIVEN an upload larger than the limit WHEN posted THEN a Japanese message about the size."""
    app.config["MAX_CONTENT_LENGTH"] = 1000
    client.login("aoki")
    response = _upload(client, (b"x" * 5000, "big.pdf"))
    assert response.status_code == 302
    assert "大きすぎます" in client.get("/capture/files").get_data(as_text=True)


def test_scan_folder_import(client, printed, home: Path, state) -> None:
    """GIVEN the batch PDF dropped into <home>/scans WHEN the clerk imports the folder THEN it is read and moved."""
    client.login("aoki")
    (home / "scans").mkdir(exist_ok=True)
    (home / "scans" / "batch.pdf").write_bytes(printed.result.pdf)
    page = client.send("/capture/folder").get_data(as_text=True)
    assert "batch.pdf" in page and "取込済" in page
    assert (home / "scans" / "done" / "batch.pdf").exists()
    assert len(state()["states"]) == 3


def test_webcam_frame_with_a_sheet(client, printed, to_jpeg, ledger, home: Path) -> None:
    """GIVEN a camera frame showing a sheet WHEN posted THEN found, the confirm URL, a kept snapshot, channel webcam."""
    client.login("aoki")
    frame = to_jpeg(printed.pages[2])
    response = client.post("/capture/frame", data=frame, content_type="image/jpeg",
                           headers={"X-CSRFToken": client.csrf()})
    data = response.get_json()
    assert data["found"] and data["ok"] and data["next"].startswith("/notice/")
    capture = ledger.query("SELECT * FROM captures")[0]
    assert capture["channel"] == "webcam" and capture["outcome"] == "new"
    from PIL import Image

    kept = Image.open(io.BytesIO((home / "captures" / f"{capture['id']}.jpg").read_bytes()))
    assert kept.format == "JPEG" and kept.size == Image.open(io.BytesIO(frame)).size  # all sheet: kept as it came
    assert 'id="page-image"' in client.get(data["next"]).get_data(as_text=True)


def test_webcam_frame_without_a_code(client, to_jpeg, state) -> None:
    """GIVEN a frame with no code WHEN posted THEN {"found": false} and nothing changes."""
    client.login("aoki")
    before = state()
    response = client.post("/capture/frame", data=to_jpeg(_noise_png()), content_type="image/jpeg",
                           headers={"X-CSRFToken": client.csrf()})
    assert response.get_json() == {"found": False}
    assert state() == before


def test_webcam_frame_that_is_not_an_image(client, state) -> None:
    """GIVEN garbage bytes as a frame WHEN posted THEN 400 with a Japanese message."""
    client.login("aoki")
    response = client.post("/capture/frame", data=b"garbage", content_type="image/jpeg",
                           headers={"X-CSRFToken": client.csrf()})
    assert response.status_code == 400 and "読めません" in response.get_json()["error"]


def test_wedge_reads_a_sheet_typed_by_a_scanner(client, printed, ledger) -> None:
    """GIVEN a scanner typing the code (lower case, full-width, as with an IME in 全角) WHEN Enter THEN the
    confirm screen of that notice."""
    client.login("aoki")
    text = printed.sheet_texts[0]
    typed = text.lower().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}) + "\r\n"
    response = client.send("/capture/wedge", {"code": typed})
    assert response.status_code == 302 and response.location.startswith("/notice/")
    assert ledger.query("SELECT channel FROM captures")[0]["channel"] == "wedge"


def test_wedge_with_ime_kana(client, state) -> None:
    """GIVEN the IME in かな mode WHEN the scanner types THEN the clerk is told to switch the IME off."""
    client.login("aoki")
    before = state()
    response = client.send("/capture/wedge", {"code": "ぷｌ１：あいう"})
    assert response.status_code == 400 and "IME" in response.get_data(as_text=True)
    assert state() == before


def test_wedge_payload_typed_with_errors(client, printed, state) -> None:
    """GIVEN a payload with a character missing WHEN submitted THEN a Japanese message, no notice."""
    client.login("aoki")
    before = state()
    text = printed.sheet_texts[0]
    response = client.send("/capture/wedge", {"code": text[:40] + text[41:]})
    assert response.status_code == 400
    assert "壊れている" in response.get_data(as_text=True)
    assert state() == before


def test_wedge_with_a_foreign_qr_code(client, state) -> None:
    """GIVEN a code that is not paperlink's WHEN typed THEN it is named as such."""
    client.login("aoki")
    before = state()
    response = client.send("/capture/wedge", {"code": "HTTPS://EXAMPLE.COM"})
    assert "paperlink の通知用紙のコードではありません" in response.get_data(as_text=True)
    assert state() == before


def test_unknown_key_is_shown_never_confirmable(client, stranger, state, ledger) -> None:
    """GIVEN a sheet signed by an untrusted key WHEN read THEN the capture screen says 不明な鍵, offers no
    confirm button, and no notice or batch exists."""
    client.login("aoki")
    before = state()
    response = client.send("/capture/wedge", {"code": stranger.sheet_texts[0]}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "不明な鍵" in page and 'data-state="unknown_key"' in page
    assert "confirm-button" not in page and "override-form" not in page and "審査担当に依頼" in page
    assert state() == before
    assert ledger.query("SELECT outcome FROM captures")[0]["outcome"] == "rejected"


def test_tampered_sheet(client, printed, state) -> None:
    """GIVEN a payload whose signature belongs to another record WHEN read THEN 改ざんの疑い, nothing confirmed."""
    client.login("aoki")
    first = SheetPayload.from_text(printed.sheet_texts[0])
    second = SheetPayload.from_text(printed.sheet_texts[1])
    forged = SheetPayload(first.batch_id, first.seq, first.total, second.notice, first.key_id, first.signature)
    before = state()
    page = client.send("/capture/wedge", {"code": forged.to_text()}, follow_redirects=True).get_data(as_text=True)
    assert "改ざんの疑い" in page and "confirm-button" not in page
    assert state() == before


def test_code_for_another_municipality(client, printed, ledger, state) -> None:
    """GIVEN the office set to another municipality WHEN a sheet is read THEN it is refused in Japanese."""
    ledger.set_setting("office.municipality_code", "011002", "test")
    client.login("aoki")
    before = state()
    response = client.send("/capture/wedge", {"code": printed.sheet_texts[0]})
    assert response.status_code == 400 and "別の市区町村" in response.get_data(as_text=True)
    assert state() == before


def test_code_from_another_batch_with_the_same_id(client, printed, stranger, state, app) -> None:
    """GIVEN a registered batch WHEN a sheet claiming the same batch id and n/N but another record arrives THEN
    不一致 (conflict) and the ledger keeps the first record."""
    from paperlink.home import Home
    from paperlink.keys import KeyStore

    client.login("aoki")
    client.send("/capture/wedge", {"code": printed.sheet_texts[0]})
    before = state()
    original = SheetPayload.from_text(printed.sheet_texts[0])
    other = SheetPayload(original.batch_id, 1, original.total, stranger.notices[0], original.key_id)
    text = other.signed(KeyStore(Home(Path(app.config["HOME"]))).signing_key()).to_text()
    response = client.send("/capture/wedge", {"code": text})
    assert response.status_code == 400 and "台帳の内容と矛盾" in response.get_data(as_text=True)
    assert state() == before
