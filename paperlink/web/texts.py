"""Japanese wording of what the core reports (intake outcomes, scan problems, signature states).

Decisions go by message code or exception type, never by the English text; the sentences come from the
message catalogue (`paperlink.messages`).
"""

from __future__ import annotations

from paperlink.errors import PaperlinkError
from paperlink.intake import IntakeResult
from paperlink.messages import MESSAGES, render
from paperlink.scanning import ScanItem

OUTCOME_LABELS = {"new": "新規", "duplicate": "重複", "conflict": "不一致", "registered": "表紙（登録）",
                  "rejected": "検証できない", "unreadable": "読めない", "foreign": "対象外"}
SIGNATURE_LABELS = {"trusted": "検証済", "unknown_key": "不明な鍵", "tampered": "改ざんの疑い",
                    "override": "審査で受理", "typed": "二重入力"}


UNKNOWN_KEY_CODE = "payload_unknown_key"
"""The code of a payload signed by a key this PC does not trust (paperlink.payload.UnknownKey)."""

ADVICE: dict[str, str] = {
    "payload_unknown_key": "scan_advice_unknown_key",
    "payload_bad_signature": "payload_bad_signature",
    "scan_no_code": "scan_no_code",
    "payload_record_invalid": "scan_advice_record_invalid",
    "payload_foreign": "scan_advice_foreign",
    "scan_image_too_large": "scan_advice_too_large",
    "scan_page_too_large": "scan_advice_too_large",
    "scan_not_image": "scan_advice_not_image",
    "scan_pdf_unreadable": "scan_advice_not_image",
    "scan_page_unreadable": "scan_advice_not_image",
    "scan_empty": "scan_advice_not_image",
    "scan_pdf_password": "scan_advice_password",
    "payload_too_short": "scan_advice_damaged",
    "payload_damaged": "scan_advice_damaged",
    "payload_truncated": "scan_advice_damaged",
    "payload_kind": "scan_advice_damaged",
    "payload_sequence": "scan_advice_damaged",
    "payload_manifest_damaged": "scan_advice_damaged",
}
"""Problem code of a scanned item -> the catalogue code of the advice the screen shows for it."""

_FALLBACK = "scan_advice_damaged"


def signature_state(error_code: str | None, verified: bool) -> str:
    """trusted, unknown_key or tampered: from a capture's `verified` flag and its problem's message code.

    `error_code` is `ScanItem.error_code` for an item not yet recorded, or the `error_code` column of a
    capture stored in the ledger (None when nothing was wrong).
    """
    if verified:
        return "trusted"
    return "unknown_key" if error_code == UNKNOWN_KEY_CODE else "tampered"


def scan_error_code_ja(code: str | None) -> str:
    """A Japanese sentence for why a scanned item was not accepted, from its problem's message code alone.

    For a capture stored in the ledger (its `error_code` column): the advice for the code, else the code's own
    Japanese message when it needs no parameters, else a general sentence.
    """
    if code in ADVICE:
        return render(ADVICE[code], {}, "ja")
    if code in MESSAGES and "{" not in MESSAGES[code][1]:
        return render(code, {}, "ja")
    return render(_FALLBACK, {}, "ja")


def scan_error_ja(problem: PaperlinkError | None) -> str:
    """A Japanese sentence for why a scanned item (not yet recorded) was not accepted: `ScanItem.problem`.

    The advice for its code when there is one, else its own Japanese message, else a general sentence.
    """
    if problem is None:
        return render(_FALLBACK, {}, "ja")
    if problem.code in ADVICE or problem.code not in MESSAGES:
        return scan_error_code_ja(problem.code)
    return problem.message_ja


def outcome_message(result: IntakeResult, total: int | None = None, problem: PaperlinkError | None = None) -> str:
    """A Japanese sentence for one intake result; `problem` is the recorded item's `ScanItem.problem` (why a
    rejected item was rejected)."""
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
                f" 詳細: {result.message_in('ja')}")
    if result.outcome == "foreign":
        return result.message_in("ja")
    return scan_error_ja(problem)


def unrecorded_label(item: ScanItem) -> str:
    """The result label of a scanned item before it is recorded (unreadable pages, foreign codes)."""
    if item.text is None:
        return OUTCOME_LABELS["unreadable"]
    return OUTCOME_LABELS["foreign"] if item.sheet is None and item.manifest is None else OUTCOME_LABELS["rejected"]
