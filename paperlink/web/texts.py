"""Japanese wording of what the core reports in English (intake outcomes, scan errors, signature states)."""

from __future__ import annotations

from paperlink.intake import IntakeResult
from paperlink.scanning import ScanItem

OUTCOME_LABELS = {"new": "新規", "duplicate": "重複", "conflict": "不一致", "registered": "表紙（登録）",
                  "rejected": "検証できない", "unreadable": "読めない", "foreign": "対象外"}
SIGNATURE_LABELS = {"trusted": "検証済", "unknown_key": "不明な鍵", "tampered": "改ざんの疑い",
                    "override": "審査で受理", "typed": "二重入力"}


def signature_state(error: str | None, verified: bool) -> str:
    """trusted, unknown_key or tampered, from a ScanItem's / capture's error text."""
    if verified:
        return "trusted"
    if error and error.startswith("unknown key"):
        return "unknown_key"
    return "tampered"


def scan_error_ja(error: str | None) -> str:
    """A Japanese sentence for why a scanned item was not accepted."""
    text = error or ""
    if text.startswith("unknown key"):
        return ("この用紙は信頼されていない鍵で署名されています（不明な鍵）。印刷側の公開鍵が登録されているか確認してください。"
                "受理には審査の権限が必要です。")
    if text.startswith("signature check failed"):
        return "署名が一致しません（改ざんの疑い）。この用紙は確認できません。審査担当に相談してください。"
    if text.startswith("no QR code"):
        return "QR コードを読み取れませんでした。用紙の向き・明るさを確認するか、手入力してください。"
    if text.startswith("the record in the code is not valid"):
        return "コードの中の通知内容が正しくありません。手入力してください。"
    if "not a paperlink" in text.lower() or "prefix" in text.lower():
        return "paperlink の通知用紙のコードではありません。"
    if "too large" in text:
        return "画像が大きすぎて読めません。解像度を下げて取り込んでください。"
    if "cannot be read" in text or "not an image" in text or "not a readable PDF" in text or "empty" in text:
        return "このファイルは画像でも PDF でもないか、壊れています。スキャナーで保存した画像（PNG・JPEG・TIFF）か PDF を選んでください。"
    if "password" in text:
        return "パスワード付きの PDF は読めません。パスワードなしで保存し直してください。"
    return "コードが壊れているか、paperlink の通知用紙のものではありません。もう一度読み取るか、手入力してください。"


def outcome_message(result: IntakeResult, total: int | None = None) -> str:
    """A Japanese sentence for one intake result."""
    where = f"{result.batch_id} {result.seq}/{total}" if result.seq and total else (result.batch_id or "")
    who = f"（{result.notice_id}）" if result.notice_id else ""
    if result.outcome == "new":
        return f"{where}{who} を読み取りました。画面と用紙を見比べて確認してください。"
    if result.outcome == "duplicate":
        return f"{where}{who} は既に読み取り済みです（重複）。新しい通知は作られていません。"
    if result.outcome == "registered":
        return f"バッチ {result.batch_id} の表紙を読み取り、通知の一覧を登録しました。"
    if result.outcome == "conflict":
        return (f"{where}{who}: 台帳の内容と矛盾するため取り込みませんでした（別のバッチの用紙か、内容の違う用紙です）。"
                f" 詳細: {result.message}")
    return scan_error_ja(result.message)


def item_label(item: ScanItem) -> str:
    """The result label of a scanned item before it is recorded (unreadable pages, foreign codes)."""
    if item.text is None:
        return OUTCOME_LABELS["unreadable"]
    return OUTCOME_LABELS["foreign"] if item.sheet is None and item.manifest is None else OUTCOME_LABELS["rejected"]
