"""Confirm: the decoded record beside its page image or camera snapshot, its signature state, one action.

A verified sheet (読取済) is confirmed with one button (Enter or Alt+C). A capture whose signature fails
(unknown key, tampered) has no confirm button: only a reviewer (審査) can accept it, with a reason.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers.response import Response

from paperlink import confirm as core
from paperlink.holding import hold_text
from paperlink.labels import STATE_LABELS, VERIFIED_BY_LABELS, display_items
from paperlink.ledger import CaptureOutcome, Ledger, NoticeState, VerificationMethod, store, views
from paperlink.ledger.rows import NoticeRow
from paperlink.notice import parse_notice
from paperlink.payload import PayloadError, SheetPayload
from paperlink.web.auth import current_user, login_required, role_required
from paperlink.web.db import captures_dir, get_ledger
from paperlink.web.texts import SIGNATURE_LABELS, scan_error_code_ja, scan_error_ja, signature_state

bp = Blueprint("confirm", __name__)
RETURN_TO = {"camera": "capture.camera", "wedge": "capture.wedge", "files": "capture.files"}
SIGNATURE_OF_METHOD = {VerificationMethod.OVERRIDE: "override", VerificationMethod.DOUBLE_ENTRY: "typed"}


def _image_capture(ledger: Ledger, pk: int) -> int | None:
    for capture in store.captures_of(ledger, pk):
        if (captures_dir() / f"{capture.id}.jpg").is_file():
            return capture.id
    return None


def _signature(ledger: Ledger, row: NoticeRow) -> str | None:
    verification = store.verification(ledger, row.id)
    if verification is not None and verification.method in SIGNATURE_OF_METHOD:
        return SIGNATURE_OF_METHOD[verification.method]
    return "trusted" if row.verified else None


@bp.route("/notice/<int:row_id>")
@login_required
def notice(row_id: int) -> str | Response:
    """A notice's record, image, state and (when 読取済) the confirm button."""
    ledger = get_ledger()
    try:
        row = core.get_notice(ledger, row_id)
    except core.WorkflowError:
        abort(404)
    record = row.record()
    hold = store.open_hold(ledger, row_id) if row.state is NoticeState.HELD else None
    if hold is not None:
        flash(f"保留中: {hold_text(hold.reason_code, hold.params, 'ja')}"
              "（訂正後、paperlink release で保留を解除します）", "error")
        if record is None:
            return redirect(url_for("batches.board"))
    if record is None:
        flash("この通知はまだ読み取られていません。用紙を読み取るか、手入力してください。", "info")
        return redirect(url_for("entry.form", row_id=row_id))
    can_confirm = row.state is NoticeState.DECODED and row.verified and current_user().can("entry")
    return render_template("confirm/notice.html", row=row, total=views.batch_total(ledger, row.batch_id),
                           items=display_items(parse_notice(record)), state_label=STATE_LABELS[row.state],
                           signature=_signature(ledger, row), signature_labels=SIGNATURE_LABELS,
                           image=_image_capture(ledger, row_id), verification=store.verification(ledger, row_id),
                           verified_by_labels=VERIFIED_BY_LABELS, can_confirm=can_confirm,
                           return_to=request.args.get("from", ""), read=request.args.get("read", ""))


@bp.route("/notice/<int:row_id>/confirm", methods=["POST"])
@role_required("entry")
def confirm(row_id: int) -> Response | tuple[str, int]:
    """Confirm a 読取済 notice: who and when are recorded by the core."""
    ledger = get_ledger()
    try:
        row = core.confirm(ledger, row_id, current_user())
    except core.WorkflowError as exc:
        flash(exc.message_ja, "error")
        return redirect(url_for("confirm.notice", row_id=row_id))
    flash(f"{row.notice_id} を確認しました。", "info")
    back = RETURN_TO.get(request.form.get("return_to", ""))
    if back:
        return redirect(url_for(back))
    following = views.next_to_confirm(ledger, row.batch_id)
    return redirect(url_for("confirm.notice", row_id=following) if following else url_for("batches.board"))


@bp.route("/capture/<int:capture_id>")
@login_required
def capture(capture_id: int) -> str | Response:
    """A capture: a sheet that failed verification is shown with its state and the reviewer's override."""
    ledger = get_ledger()
    row = store.capture(ledger, capture_id)
    if row is None:
        abort(404)
    if row.notice_pk is not None and row.outcome in (CaptureOutcome.NEW, CaptureOutcome.DUPLICATE):
        return redirect(url_for("confirm.notice", row_id=row.notice_pk))
    sheet = None
    problem: PayloadError | None = None
    if row.payload:
        try:
            sheet = SheetPayload.from_text(row.payload)
        except PayloadError as exc:
            problem = exc
    has_image = (captures_dir() / f"{capture_id}.jpg").is_file()
    return render_template("confirm/capture.html", capture=row, sheet=sheet,
                           items=display_items(sheet.notice) if sheet else [],
                           signature=signature_state(row.error_code, row.verified),
                           signature_labels=SIGNATURE_LABELS, message=scan_error_code_ja(row.error_code) if row.error_code
                           else scan_error_ja(problem),
                           image=capture_id if has_image else None,
                           can_override=current_user().can("review") and sheet is not None
                           and row.notice_pk is None)


@bp.route("/capture/<int:capture_id>/override", methods=["POST"])
@role_required("review")
def override(capture_id: int) -> Response | tuple[str, int]:
    """A reviewer accepts a sheet whose signature failed, with a reason (logged by the core)."""
    try:
        row_id = core.override(get_ledger(), capture_id, current_user(), request.form.get("reason", ""))
    except core.WorkflowError as exc:
        flash(exc.message_ja, "error")
        return redirect(url_for("confirm.capture", capture_id=capture_id))
    flash("審査により受理しました（理由は監査ログに記録されました）。", "info")
    return redirect(url_for("confirm.notice", row_id=row_id))


@bp.route("/image/<int:capture_id>.jpg")
@login_required
def image(capture_id: int) -> Response:
    """The page image or camera snapshot of a capture."""
    path = captures_dir() / f"{capture_id}.jpg"
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg")
