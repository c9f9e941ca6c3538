"""Confirm: the decoded record beside its page image or camera snapshot, its signature state, one action.

A verified sheet (読取済) is confirmed with one button (Enter or Alt+C). A capture whose signature fails
(unknown key, tampered) has no confirm button: only a reviewer (審査) can accept it, with a reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers.response import Response

from paperlink import confirm as core
from paperlink.export import STATE_LABELS
from paperlink.fields import BEFORE_KEYS, FIELDS
from paperlink.ledger import Ledger
from paperlink.notice import Notice, parse_notice
from paperlink.payload import PayloadError, SheetPayload
from paperlink.sheets import display_value, item_label
from paperlink.web.auth import current_user, login_required, role_required
from paperlink.web.db import captures_dir, get_ledger
from paperlink.web.texts import SIGNATURE_LABELS, scan_error_ja, signature_state

bp = Blueprint("confirm", __name__)
RETURN_TO = {"camera": "capture.camera", "wedge": "capture.wedge", "files": "capture.files"}


@dataclass(frozen=True)
class Item:
    """One item of a record as shown: label, value, and the value before the event if it changed."""

    key: str
    label: str
    value: str
    before: str | None


def record_items(notice: Notice) -> list[Item]:
    """Every item in canonical order with its Japanese label (before → after for changed items)."""
    before = notice.before_dict()
    return [Item(spec.key, item_label(spec, notice), display_value(spec.key, notice.get(spec.key)),
                 display_value(spec.key, before[spec.key]) if spec.key in before and spec.key in BEFORE_KEYS else None)
            for spec in FIELDS]


def _image_capture(ledger: Ledger, row_id: int) -> int | None:
    for r in ledger.query("SELECT id FROM captures WHERE notice_row = ? ORDER BY id DESC", (row_id,)):
        if (captures_dir() / f"{r['id']}.jpg").is_file():
            return int(r["id"])
    return None


def _signature(ledger: Ledger, row: dict[str, Any]) -> str | None:
    method = ledger.db.execute("SELECT method FROM verifications WHERE notice_row = ?", (row["id"],)).fetchone()
    if method is not None and method["method"] == "override":
        return "override"
    if method is not None and method["method"] == "double_entry":
        return "typed"
    return "trusted" if row["verified"] else None


@bp.route("/notice/<int:row_id>")
@login_required
def notice(row_id: int) -> str | Response:
    """A notice's record, image, state and (when 読取済) the confirm button."""
    ledger = get_ledger()
    try:
        row = core.notice_row(ledger, row_id)
    except core.WorkflowError:
        abort(404)
    if row["record_json"] is None:
        flash("この通知はまだ読み取られていません。用紙を読み取るか、手入力してください。", "info")
        return redirect(url_for("entry.form", row_id=row_id))
    record = parse_notice(json.loads(str(row["record_json"])))
    total = ledger.db.execute("SELECT total FROM batches WHERE batch_id = ?", (row["batch_id"],)).fetchone()["total"]
    verification = ledger.db.execute("SELECT * FROM verifications WHERE notice_row = ?", (row_id,)).fetchone()
    can_confirm = row["state"] == "decoded" and bool(row["verified"]) and current_user().can("entry")
    return render_template("confirm/notice.html", row=row, total=total, items=record_items(record),
                           state_label=STATE_LABELS[str(row["state"])], signature=_signature(ledger, row),
                           signature_labels=SIGNATURE_LABELS, image=_image_capture(ledger, row_id),
                           verification=verification, can_confirm=can_confirm,
                           return_to=request.args.get("from", ""))


@bp.route("/notice/<int:row_id>/confirm", methods=["POST"])
@role_required("entry")
def confirm(row_id: int) -> Response | tuple[str, int]:
    """Confirm a 読取済 notice: who and when are recorded by the core."""
    ledger = get_ledger()
    try:
        core.confirm(ledger, row_id, current_user())
    except core.WorkflowError as exc:
        flash(str(exc), "error")
        return redirect(url_for("confirm.notice", row_id=row_id))
    row = core.notice_row(ledger, row_id)
    flash(f"{row['notice_id']} を確認しました。", "info")
    back = RETURN_TO.get(request.form.get("return_to", ""))
    if back:
        return redirect(url_for(back))
    following = ledger.db.execute("SELECT id FROM notices WHERE batch_id = ? AND state = 'decoded' AND verified = 1"
                                  " ORDER BY seq LIMIT 1", (row["batch_id"],)).fetchone()
    return redirect(url_for("confirm.notice", row_id=following["id"]) if following else url_for("batches.board"))


@bp.route("/capture/<int:capture_id>")
@login_required
def capture(capture_id: int) -> str | Response:
    """A capture: a sheet that failed verification is shown with its state and the reviewer's override."""
    ledger = get_ledger()
    row = ledger.db.execute("SELECT * FROM captures WHERE id = ?", (capture_id,)).fetchone()
    if row is None:
        abort(404)
    if row["notice_row"] is not None and row["outcome"] in ("new", "duplicate"):
        return redirect(url_for("confirm.notice", row_id=row["notice_row"]))
    sheet = None
    problem = None
    if row["payload"]:
        try:
            sheet = SheetPayload.from_text(row["payload"])
        except PayloadError as exc:
            problem = str(exc)
    has_image = (captures_dir() / f"{capture_id}.jpg").is_file()
    return render_template("confirm/capture.html", capture=row, sheet=sheet,
                           items=record_items(sheet.notice) if sheet else [],
                           signature=signature_state(row["error"], bool(row["verified"])),
                           signature_labels=SIGNATURE_LABELS, message=scan_error_ja(row["error"] or problem),
                           image=capture_id if has_image else None,
                           can_override=current_user().can("review") and sheet is not None
                           and row["notice_row"] is None)


@bp.route("/capture/<int:capture_id>/override", methods=["POST"])
@role_required("review")
def override(capture_id: int) -> Response | tuple[str, int]:
    """A reviewer accepts a sheet whose signature failed, with a reason (logged by the core)."""
    try:
        row_id = core.override(get_ledger(), capture_id, current_user(), request.form.get("reason", ""))
    except core.WorkflowError as exc:
        flash(str(exc), "error")
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
