"""Confirming decoded sheets: the clerk compares screen and paper and confirms, or a reviewer overrides.

A sheet whose code was read and verified (state 読取済) is confirmed by one action that records who and
when (state 確認済). A code that decodes but fails verification (unknown key, altered) can never be
confirmed that way: only a reviewer (審査) may accept it, with a written reason, and that is logged.
"""

from __future__ import annotations

from paperlink.errors import PaperlinkError
from paperlink.ledger import Ledger, NoticeNotFound, NoticeState, Transport, VerificationMethod, store
from paperlink.ledger.rows import NoticeRow
from paperlink.payload import PayloadError, SheetPayload
from paperlink.users import User

MIN_REASON = 5
"""The shortest reason a reviewer may give for accepting a sheet whose signature failed."""


class WorkflowError(PaperlinkError):
    """A step of the workflow is not allowed in the notice's present state or for this clerk."""


def get_notice(ledger: Ledger, pk: int) -> NoticeRow:
    """The notice with this row id; WorkflowError if it does not exist."""
    try:
        return store.notice(ledger, pk)
    except NoticeNotFound:
        raise WorkflowError("workflow_notice_not_found", pk=pk) from None


def confirm(ledger: Ledger, pk: int, clerk: User) -> NoticeRow:
    """Confirm a decoded, verified notice (読取済 → 確認済); returns the confirmed notice."""
    if not clerk.can("entry"):
        raise WorkflowError("workflow_confirm_role")
    with ledger.transaction():
        row = get_notice(ledger, pk)
        if row.state is not NoticeState.DECODED or not row.verified:
            raise WorkflowError("workflow_not_confirmable", notice_id=row.notice_id, state=row.state)
        confirmed = store.move_notice(ledger, pk, NoticeState.CONFIRMED)
        store.add_verification(ledger, pk, VerificationMethod.QR, clerk.login)
        ledger.audit(clerk.login, "notice.confirmed", row.batch_id, seq=row.seq, notice_id=row.notice_id,
                     method=VerificationMethod.QR.value)
    return confirmed


def override(ledger: Ledger, capture_id: int, reviewer: User, reason: str) -> int:
    """Accept a sheet whose signature failed: reviewers only, with a reason; returns the notice's row id."""
    if not reviewer.can("review"):
        raise WorkflowError("workflow_override_role")
    if len(reason.strip()) < MIN_REASON:
        raise WorkflowError("workflow_override_reason")
    capture = store.capture(ledger, capture_id)
    if capture is None or not capture.payload:
        raise WorkflowError("workflow_override_no_code")
    try:
        sheet = SheetPayload.from_text(capture.payload)
    except PayloadError as exc:
        raise WorkflowError("workflow_override_broken", detail=exc) from None
    notice = sheet.notice
    with ledger.transaction():
        if store.batch(ledger, sheet.batch_id) is None:
            store.register_batch(ledger, sheet.batch_id, Transport.PAPER, sheet.total, sheet.key_id.hex(),
                                 reviewer.login)
        row = store.notice_at(ledger, sheet.batch_id, sheet.seq)
        if row is not None and row.state not in (NoticeState.MISSING, NoticeState.DECODED):
            raise WorkflowError("workflow_already_processed", notice_id=row.notice_id, state=row.state)
        if row is not None and row.notice_id not in (None, notice.notice_id):
            raise WorkflowError("workflow_position_taken", seq=sheet.seq, total=sheet.total, notice_id=row.notice_id)
        if row is None:
            pk = store.add_notice(ledger, sheet.batch_id, sheet.seq, NoticeState.CONFIRMED, record=notice)
        else:
            pk = row.id
            store.move_notice(ledger, pk, NoticeState.CONFIRMED, record=notice)
        store.add_verification(ledger, pk, VerificationMethod.OVERRIDE, reviewer.login, reason=reason.strip())
        store.attach_capture(ledger, capture_id, pk)
        ledger.audit(reviewer.login, "notice.override", sheet.batch_id, seq=sheet.seq, notice_id=notice.notice_id,
                     capture=capture_id, reason=reason.strip(), error=capture.error)
    return pk
