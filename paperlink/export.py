"""Export: verified notices out of the ledger, in the notice data format (or CSV), with a processing report.

A batch is exported only when every one of its notices is verified – confirmed from a verified QR code,
done by double entry, accepted by a reviewer, or delivered by line or media with a trusted signature. The
records are the canonical records, so a notice confirmed from its QR code is byte-identical to the record
that was printed. The file is written atomically first; the ledger records the export after, in one
transaction with its audit entry.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from paperlink.atomicfile import atomic_write_bytes
from paperlink.csvformat import dumps_csv
from paperlink.dataformat import dumps_notices
from paperlink.dates import japan_time
from paperlink.errors import ExportError
from paperlink.failpoints import failpoint
from paperlink.labels import METHOD_LABELS, STATE_LABELS
from paperlink.ledger import VERIFIED_STATES, Ledger, NoticeState, now, store, views
from paperlink.notice import Notice, parse_notice

FORMATS = {"jsonl": "notice data format", "csv": "CSV (UTF-8 with BOM)", "csv-cp932": "CSV (Shift_JIS/cp932)"}


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    batch_ids: tuple[str, ...]
    count: int
    path: Path
    sha256: str


exportable_batches = views.exportable_batches


def batch_notices(ledger: Ledger, batch_id: str) -> list[Notice]:
    """The verified notices of a batch in n/N order; ExportError naming what is not verified yet."""
    batch = store.batch(ledger, batch_id)
    if batch is None:
        raise ExportError("export_unknown_batch", batch_id=batch_id)
    rows = store.notices_of(ledger, batch_id)
    pending = [f"{r.seq}/{batch.total}" for r in rows if r.state not in VERIFIED_STATES]
    missing = batch.total - len(rows)
    if pending or missing:
        listed = ", ".join(pending[:10]) + (" …" if len(pending) > 10 else "")
        if pending and missing:
            raise ExportError("export_not_ready_both", batch_id=batch_id, pending=listed, missing=missing)
        if pending:
            raise ExportError("export_not_ready_pending", batch_id=batch_id, pending=listed)
        raise ExportError("export_not_ready_missing", batch_id=batch_id, missing=missing)
    return [parse_notice(r.record() or {}) for r in rows]


def render_export(notices: Sequence[Notice], fmt: str) -> bytes:
    """The file's bytes in one of FORMATS."""
    if fmt == "jsonl":
        return dumps_notices(notices)
    if fmt == "csv":
        return dumps_csv(notices, "utf-8-sig")
    if fmt == "csv-cp932":
        return dumps_csv(notices, "cp932")
    raise ExportError("export_unknown_format", format=repr(fmt), formats=", ".join(FORMATS))


def export(ledger: Ledger, batch_ids: Sequence[str] | None, path: str | os.PathLike[str], fmt: str,
           clerk: str) -> ExportResult:
    """Write the notices of the named batches (None: every exportable batch) to `path` and record it."""
    chosen = list(batch_ids) if batch_ids else exportable_batches(ledger)
    if not chosen:
        raise ExportError("export_nothing")
    notices = [n for batch_id in chosen for n in batch_notices(ledger, batch_id)]
    data = render_export(notices, fmt)
    target = Path(path)
    atomic_write_bytes(target, data)
    failpoint("export.after-write")
    digest = hashlib.sha256(data).hexdigest()
    with ledger.transaction():
        for batch_id in chosen:
            store.add_export(ledger, batch_id, fmt, target.name, digest, clerk)
        failpoint("export.in-transaction")
        ledger.audit(clerk, "export.written", ",".join(chosen), format=fmt, file=target.name, sha256=digest,
                     count=len(notices))
    return ExportResult(tuple(chosen), len(notices), target, digest)


@dataclass(frozen=True)
class ReportRow:
    """One line of the processing report."""

    batch_id: str
    seq: int
    total: int
    notice_id: str
    name: str
    event: str
    state: NoticeState
    method: str
    entered_by: str
    verified_by: str
    verified_at: str


def report_rows(ledger: Ledger, batch_ids: Sequence[str]) -> list[ReportRow]:
    """Every notice of the batches with how it was captured, who entered and verified it, and when."""
    from paperlink.codetables import tables

    events = tables().events
    out = []
    for batch_id in batch_ids:
        lines = views.report_lines(ledger, batch_id)
        if lines is None:
            raise ExportError("export_unknown_batch", batch_id=batch_id)
        for line in lines:
            record = line.notice.record() or {}
            event = events.get(record.get("event", ""))
            out.append(ReportRow(batch_id, line.notice.seq, line.total, line.notice.notice_id or "",
                                 record.get("name", ""), event.label if event else "", line.notice.state,
                                 METHOD_LABELS[line.method] if line.method else "", line.entered_by or "",
                                 line.verified_by or "", japan_time(line.verified_at)))
    return out



REPORT_COLUMNS_MM = (29, 13, 33, 50, 36, 16, 18, 28, 22, 28)
"""Column widths of the processing report (A4 landscape, 273 mm between the margins)."""


def processing_report(ledger: Ledger, batch_ids: Sequence[str], printed_at: str | None = None) -> bytes:
    """処理結果一覧 as a PDF: one row per notice (A4 landscape, Japanese, repeated header)."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from paperlink.fonts import japanese_font

    font = japanese_font()
    rows = report_rows(ledger, batch_ids)
    title = ParagraphStyle("t", fontName=font, fontSize=15, leading=20)
    small = ParagraphStyle("s", fontName=font, fontSize=8.5, leading=11)
    # every cell is a paragraph that wraps inside its column (CJK: between any two characters, Latin: at
    # spaces and commas), so no text crosses a cell border however long an item is
    cell = ParagraphStyle("c", fontName=font, fontSize=8.5, leading=10.5, wordWrap="CJK")
    head = ["バッチ", "連番", "通知番号", "氏名", "事由", "状態", "取込方法", "入力", "確認・審査", "日時"]

    def para(text: str) -> Paragraph:
        return Paragraph(escape(text), cell)

    data = [[para(h) for h in head]] + [
        [para(r.batch_id), para(f"{r.seq}/{r.total}"), para(r.notice_id), para(r.name), para(r.event),
         para(STATE_LABELS[r.state]), para(r.method), para(r.entered_by),
         para(r.verified_by), para(r.verified_at)]
        for r in rows]
    table = Table(data, repeatRows=1, colWidths=[REPORT_COLUMNS_MM[i] * mm for i in range(len(head))])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, title="処理結果一覧", author="paperlink",
                            invariant=1)
    done = sum(1 for r in rows if r.state in VERIFIED_STATES)
    story = [Paragraph("処理結果一覧（取扱注意・個人情報）", title),
             Paragraph(f"作成日時 {printed_at or japan_time(now())}　対象バッチ {', '.join(batch_ids)}　"
                       f"件数 {len(rows)} 件（うち処理済 {done} 件）", small), Spacer(1, 4 * mm), table]
    doc.build(story)
    return buffer.getvalue()
