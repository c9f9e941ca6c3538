"""Confirming decoded sheets: the clerk compares screen and paper and confirms, or a reviewer overrides.

A sheet whose code was read and verified (state 読取済) is confirmed by one action that records who and
when (state 確認済). A code that decodes but fails verification (unknown key, altered) can never be
confirmed that way: only a reviewer (審査) may accept it, with a written reason, and that is logged.
"""

from __future__ import annotations

from paperlink.errors import PaperlinkError
from paperlink.ledger import Ledger, now
from paperlink.payload import PayloadError, SheetPayload
from paperlink.users import User


class WorkflowError(PaperlinkError):
    """A step of the workflow is not allowed in the notice's present state or for this clerk."""


def notice_row(ledger: Ledger, row_id: int) -> dict[str, object]:
    """One notice row as a dict; WorkflowError if it does not exist."""
    row = ledger.db.execute("SELECT * FROM notices WHERE id = ?", (row_id,)).fetchone()
    if row is None:
        raise WorkflowError(f"通知（行 {row_id}）が見つかりません")
    return dict(row)


def confirm(ledger: Ledger, row_id: int, clerk: User) -> None:
    """Confirm a decoded, verified notice (読取済 → 確認済)."""
    if not clerk.can("entry"):
        raise WorkflowError("確認には入力の権限が必要です")
    with ledger.transaction():
        row = notice_row(ledger, row_id)
        if row["state"] != "decoded" or not row["verified"]:
            raise WorkflowError(f"{row['notice_id']} は確認できる状態ではありません（状態: {row['state']}）")
        ledger.db.execute("UPDATE notices SET state = 'confirmed', updated_at = ? WHERE id = ?", (now(), row_id))
        ledger.db.execute("INSERT INTO verifications (notice_row, method, entered_by, verified_by, verified_at)"
                          " VALUES (?, 'qr', NULL, ?, ?)", (row_id, clerk.login, now()))
        ledger.audit(clerk.login, "notice.confirmed", str(row["batch_id"]), seq=row["seq"], notice_id=row["notice_id"],
                     method="qr")


def override(ledger: Ledger, capture_id: int, reviewer: User, reason: str) -> int:
    """Accept a sheet whose signature failed: reviewers only, with a reason; returns the notice row."""
    if not reviewer.can("review"):
        raise WorkflowError("署名を確認できない用紙の受理には審査の権限が必要です")
    if len(reason.strip()) < 5:
        raise WorkflowError("受理の理由を具体的に入力してください")
    capture = ledger.db.execute("SELECT * FROM captures WHERE id = ?", (capture_id,)).fetchone()
    if capture is None or not capture["payload"]:
        raise WorkflowError("この読取結果には受理できるコードがありません")
    try:
        sheet = SheetPayload.from_text(capture["payload"])
    except PayloadError as exc:
        raise WorkflowError(f"コードが壊れているため受理できません。手入力してください（{exc}）") from None
    notice = sheet.notice
    with ledger.transaction():
        batch = ledger.db.execute("SELECT total FROM batches WHERE batch_id = ?", (sheet.batch_id,)).fetchone()
        if batch is None:
            ledger.db.execute("INSERT INTO batches (batch_id, transport, total, key_id, registered_at, registered_by)"
                              " VALUES (?, 'paper', ?, ?, ?, ?)",
                              (sheet.batch_id, sheet.total, sheet.key_id.hex(), now(), reviewer.login))
        row = ledger.db.execute("SELECT * FROM notices WHERE batch_id = ? AND seq = ?",
                                (sheet.batch_id, sheet.seq)).fetchone()
        if row is not None and row["state"] not in ("missing", "decoded"):
            raise WorkflowError(f"{row['notice_id']} は既に処理されています（状態: {row['state']}）")
        if row is not None and row["notice_id"] not in (None, notice.notice_id):
            raise WorkflowError(f"この位置（{sheet.seq}/{sheet.total}）には {row['notice_id']} が登録されています")
        values = (notice.notice_id, notice.canonical_json(), notice.digest(), now())
        if row is None:
            cursor = ledger.db.execute("INSERT INTO notices (batch_id, seq, notice_id, record_json, digest, state,"
                                       " verified, updated_at) VALUES (?, ?, ?, ?, ?, 'confirmed', 0, ?)",
                                       (sheet.batch_id, sheet.seq, *values))
            row_id = int(cursor.lastrowid or 0)
        else:
            row_id = int(row["id"])
            ledger.db.execute("UPDATE notices SET notice_id = ?, record_json = ?, digest = ?, state = 'confirmed',"
                              " updated_at = ? WHERE id = ?", (*values, row_id))
        ledger.db.execute("INSERT INTO verifications (notice_row, method, entered_by, verified_by, verified_at, reason)"
                          " VALUES (?, 'override', NULL, ?, ?, ?)", (row_id, reviewer.login, now(), reason.strip()))
        ledger.db.execute("UPDATE captures SET notice_row = ? WHERE id = ?", (row_id, capture_id))
        ledger.audit(reviewer.login, "notice.override", sheet.batch_id, seq=sheet.seq, notice_id=notice.notice_id,
                     capture=capture_id, reason=reason.strip(), error=capture["error"])
    return row_id
