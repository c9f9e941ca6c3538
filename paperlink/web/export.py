"""Export (審査): verified batches written to <home>/exports/ in the data format or CSV, offered for download;
the 処理結果一覧 PDF."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers.response import Response

from paperlink import export as core
from paperlink.dates import JST
from paperlink.errors import ExportError
from paperlink.ledger import views
from paperlink.web.auth import current_user, role_required
from paperlink.web.db import exports_dir, get_ledger, trusted

bp = Blueprint("export", __name__, url_prefix="/export")

FORMAT_LABELS = {"jsonl": "通知データ（JSONL）", "csv": "CSV（UTF-8）", "csv-cp932": "CSV（Shift_JIS / cp932）"}
SUFFIX = {"jsonl": ".jsonl", "csv": ".csv", "csv-cp932": ".cp932.csv"}


def file_name(batch_ids: list[str], fmt: str) -> str:
    """A file name that says what is inside and when it was written."""
    stamp = dt.datetime.now(JST).strftime("%Y%m%d-%H%M%S")  # Japan time, as every time the screen shows
    head = batch_ids[0] if len(batch_ids) == 1 else f"{len(batch_ids)}batches"
    return f"{head}-{stamp}{SUFFIX[fmt]}"


@bp.route("/")
@role_required("review")
def page() -> str:
    """Exportable batches, the buttons, the files written so far, and every batch for the report."""
    ledger = get_ledger()
    exported = views.exports(ledger)
    again = sorted({e.batch_id for e in views.exports(ledger, limit=100_000)})
    return render_template("export/page.html", exportable=views.exportable_batches(ledger),
                           batches=views.batches(ledger), exported=exported, formats=FORMAT_LABELS, again=again)


@bp.route("/", methods=["POST"])
@role_required("review")
def write() -> Response | str | tuple[str, int]:
    """Write the chosen batches (default: every exportable one) in the chosen format – after a confirm step
    that names each batch and its count (the form is re-posted with `proceed=1`)."""
    fmt = request.form.get("format", "jsonl")
    if fmt not in core.FORMATS:
        flash("出力形式を選んでください。", "error")
        return redirect(url_for("export.page"))
    ledger = get_ledger()
    chosen = request.form.getlist("batch") or views.exportable_batches(ledger)
    if not chosen:
        flash("出力できるバッチがありません（すべての通知が確認済・完了・保留になったバッチだけを出力できます。保留の通知は出力に含まれません）。", "error")
        return redirect(url_for("export.page"))
    if request.form.get("proceed") != "1":
        counts = [(b, views.batch_total(ledger, b) or 0) for b in chosen]
        return render_template("export/confirm.html", counts=counts, fmt=fmt, format_label=FORMAT_LABELS[fmt],
                               total=sum(n for _, n in counts))
    target = exports_dir() / file_name(chosen, fmt)
    try:
        result = core.export(ledger, chosen, target, fmt, current_user().login, trusted=trusted())
    except ExportError as exc:
        flash(f"出力できませんでした: {exc.message_ja}", "error")
        return redirect(url_for("export.page"))
    flash(f"{result.count} 件を {result.path.name} に出力しました（{exports_dir()}）。", "info")
    for hold in result.held:
        flash(f"保留（出力せず）: {hold.label}: {hold.message_ja}", "error")
    return redirect(url_for("export.page", written=result.path.name))


@bp.route("/files/<name>")
@role_required("review")
def download(name: str) -> Response:
    """An exported file, as a download."""
    # only a name the ledger recorded for an export is served: no path is ever built from what was typed
    known = views.export_file_names(get_ledger())
    if name not in known:
        abort(404)
    path = exports_dir() / next(n for n in known if n == name)
    if not path.is_file():
        abort(404)
    data = path.read_bytes()
    ledger = get_ledger()
    with ledger.transaction():
        ledger.audit(current_user().login, "export.downloaded", name, sha256=hashlib.sha256(data).hexdigest())
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name, mimetype="application/octet-stream")


@bp.route("/again")
@role_required("review")
def again() -> Response:
    """An exported batch once more, in any format, rendered from the ledger (the same bytes as an export in
    that format) – recorded in the audit log."""
    ledger = get_ledger()
    batch_id = request.args.get("batch", "")
    fmt = request.args.get("format", "jsonl")
    if fmt not in core.FORMATS or batch_id not in {e.batch_id for e in views.exports(ledger, limit=100_000)}:
        abort(404)
    try:
        data = core.render_export(core.batch_notices(ledger, batch_id), fmt)
    except ExportError as exc:
        abort(400, exc.message_ja)
    digest = hashlib.sha256(data).hexdigest()
    with ledger.transaction():
        ledger.audit(current_user().login, "export.downloaded", batch_id, format=fmt, sha256=digest, again=True)
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"{batch_id}-again{SUFFIX[fmt]}",
                     mimetype="application/octet-stream")


@bp.route("/report.pdf")
@role_required("review")
def report() -> Response:
    """処理結果一覧 (PDF) of the named batches (default: every batch on the board)."""
    ledger = get_ledger()
    chosen = request.args.getlist("batch") or views.batch_ids(ledger)
    try:
        pdf = core.processing_report(ledger, chosen)
    except ExportError as exc:
        abort(400, exc.message_ja)
    with ledger.transaction():
        ledger.audit(current_user().login, "report.downloaded", ",".join(chosen), batches=len(chosen))
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", download_name="処理結果一覧.pdf")
