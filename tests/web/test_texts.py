"""The screen's Japanese for scanned items is chosen by message code or exception type, never by English text."""

from __future__ import annotations

import pytest

from paperlink.errors import PaperlinkError
from paperlink.messages import MESSAGES
from paperlink.pages import ScanInputError
from paperlink.payload import BadSignature, NotPaperlinkPayload, PayloadCorrupt, PayloadRecordInvalid, UnknownKey
from paperlink.scanning import NoCodeFound, ScanItem
from paperlink.web.texts import ADVICE, scan_error_code_ja, scan_error_ja, signature_state
from paperlink.wedge import WedgeInputError

UNKNOWN_KEY_JA = ("この用紙は信頼されていない鍵で署名されています（不明な鍵）。印刷側の公開鍵が登録されているか確認してください。"
                  "受理には審査の権限が必要です。")
NOT_IMAGE_JA = ("このファイルは画像でも PDF でもないか、壊れています。スキャナーで保存した画像（PNG・JPEG・TIFF）か PDF を"
                "選んでください。")
DAMAGED_JA = "コードが壊れているか、paperlink の通知用紙のものではありません。もう一度読み取るか、手入力してください。"


def test_every_advice_is_a_catalogue_code() -> None:
    assert set(ADVICE) <= set(MESSAGES) and set(ADVICE.values()) <= set(MESSAGES)
    assert all("{" not in MESSAGES[advice][1] for advice in ADVICE.values())


@pytest.mark.parametrize(("problem", "sentence"), [
    (UnknownKey("payload_unknown_key", key_id="0A1B2C3D"), UNKNOWN_KEY_JA),
    (BadSignature("payload_bad_signature"), "署名が一致しません（改ざんの疑い）。この用紙は確認できません。審査担当に相談してください。"),
    (NoCodeFound(), "QR コードを読み取れませんでした。用紙の向き・明るさを確認するか、手入力してください。"),
    (PayloadRecordInvalid("payload_record_invalid", detail="sex: is required"),
     "コードの中の通知内容が正しくありません。手入力してください。"),
    (NotPaperlinkPayload("payload_foreign", prefix="PL1:"), "paperlink の通知用紙のコードではありません。"),
    (ScanInputError("scan_image_too_large", file="big.png", max=150), "画像が大きすぎて読めません。解像度を下げて取り込んでください。"),
    (ScanInputError("scan_page_too_large", width=1, height=2, max=150), "画像が大きすぎて読めません。解像度を下げて取り込んでください。"),
    (ScanInputError("scan_not_image", file="memo.txt", detail="cannot identify"), NOT_IMAGE_JA),
    (ScanInputError("scan_empty", file="empty.pdf"), NOT_IMAGE_JA),
    (ScanInputError("scan_pdf_password", file="locked.pdf"), "パスワード付きの PDF は読めません。パスワードなしで保存し直してください。"),
    (PayloadCorrupt("payload_damaged", detail="compressed data is too large"), DAMAGED_JA),
    (None, DAMAGED_JA),
    (PaperlinkError("some English text of an error not yet converted"), DAMAGED_JA),
])
def test_the_sentences_of_the_screen_by_code(problem: PaperlinkError | None, sentence: str) -> None:
    assert scan_error_ja(problem) == sentence
    if problem is not None and problem.code in ADVICE:
        assert scan_error_code_ja(problem.code) == sentence


def test_a_problem_without_advice_shows_its_own_japanese_message() -> None:
    ime = WedgeInputError("wedge_ime")
    assert scan_error_ja(ime) == ime.message_ja and "IME" in ime.message_ja and not ime.message_ja.isascii()
    assert scan_error_code_ja("wedge_ime") == ime.message_ja  # no parameters: the code alone is enough
    assert scan_error_code_ja("scan_folder") == DAMAGED_JA  # needs the file name: not from the code alone


def test_signature_state_goes_by_code() -> None:
    assert signature_state(None, True) == "trusted"
    assert signature_state("payload_unknown_key", False) == "unknown_key"
    assert signature_state("payload_bad_signature", False) == "tampered"
    assert signature_state(None, False) == "tampered"


def test_a_scan_item_keeps_its_problem_and_reports_english() -> None:
    problem = UnknownKey("payload_unknown_key", key_id="0A1B2C3D")
    item = ScanItem("scan.pdf", 2, problem=problem)
    assert item.problem is problem and item.error_code == "payload_unknown_key"
    assert item.error == "unknown key: signed by key 0A1B2C3D, which this PC does not trust (paperlink keys trust FILE)"
    assert item.to_json()["error"] == item.error
    assert ScanItem("scan.pdf", 1).error is None and ScanItem("scan.pdf", 1).error_code is None
