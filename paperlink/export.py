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
from paperlink.ledger import Ledger, now
from paperlink.notice import Notice, parse_notice

VERIFIED_STATES = ("confirmed", "done")
FORMATS = {"jsonl": "notice data format", "csv": "CSV (UTF-8 with BOM)", "csv-cp932": "CSV (Shift_JIS/cp932)"}
METHOD_LABELS = {"qr": "QR", "double_entry": "二重入力", "override": "審査受理", "line": "回線", "media": "媒体"}


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    batch_ids: tuple[str, ...]
    count: int
    path: Path
    sha256: str


def exportable_batches(ledger: Ledger) -> list[str]:
    """Batches whose notices are all verified and that were never exported, oldest first."""
    rows = ledger.query(
        "SELECT b.batch_id FROM batches b WHERE b.total > 0"
        " AND (SELECT COUNT(*) FROM notices n WHERE n.batch_id = b.batch_id AND n.state IN ('confirmed', 'done')) = b.total"
        " AND NOT EXISTS (SELECT 1 FROM exports e WHERE e.batch_id = b.batch_id)"
        " ORDER BY b.registered_at, b.batch_id")
    return [r["batch_id"] for r in rows]


def batch_notices(ledger: Ledger, batch_id: str) -> list[Notice]:
    """The verified notices of a batch in n/N order; ExportError naming what is not verified yet."""
    batch = ledger.db.execute("SELECT total FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
    if batch is None:
        raise ExportError(f"batch {batch_id} is not in the ledger")
    rows = ledger.query("SELECT seq, notice_id, state, record_json FROM notices WHERE batch_id = ? ORDER BY seq",
                        (batch_id,))
    pending = [f"{r['seq']}/{batch['total']}" for r in rows if r["state"] not in VERIFIED_STATES]
    missing = batch["total"] - len(rows)
    if pending or missing:
        parts = ([f"not verified: {', '.join(pending[:10])}{' …' if len(pending) > 10 else ''}"] if pending else []) + \
                ([f"{missing} sheet(s) never received"] if missing else [])
        raise ExportError(f"batch {batch_id} cannot be exported yet ({'; '.join(parts)})")
    import json

    return [parse_notice(json.loads(r["record_json"])) for r in rows]


def render_export(notices: Sequence[Notice], fmt: str) -> bytes:
    """The file's bytes in one of FORMATS."""
    if fmt == "jsonl":
        return dumps_notices(notices)
    if fmt == "csv":
        return dumps_csv(notices, "utf-8-sig")
    if fmt == "csv-cp932":
        return dumps_csv(notices, "cp932")
    raise ExportError(f"unknown export format {fmt!r} (use {', '.join(FORMATS)})")


def export(ledger: Ledger, batch_ids: Sequence[str] | None, path: str | os.PathLike[str], fmt: str,
           clerk: str) -> ExportResult:
    """Write the notices of the named batches (None: every exportable batch) to `path` and record it."""
    chosen = list(batch_ids) if batch_ids else exportable_batches(ledger)
    if not chosen:
        raise ExportError("nothing to export: no batch has all its notices verified and not yet exported")
    notices = [n for batch_id in chosen for n in batch_notices(ledger, batch_id)]
    data = render_export(notices, fmt)
    target = Path(path)
    atomic_write_bytes(target, data)
    failpoint("export.after-write")
    digest = hashlib.sha256(data).hexdigest()
    with ledger.transaction():
        for batch_id in chosen:
            ledger.db.execute("INSERT INTO exports (batch_id, format, file_name, sha256, exported_at, clerk)"
                              " VALUES (?,?,?,?,?,?)", (batch_id, fmt, target.name, digest, now(), clerk))
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
    state: str
    method: str
    entered_by: str
    verified_by: str
    verified_at: str


def report_rows(ledger: Ledger, batch_ids: Sequence[str]) -> list[ReportRow]:
    """Every notice of the batches with how it was captured, who entered and verified it, and when."""
    import json

    from paperlink.codetables import tables

    events = tables().events
    out = []
    for batch_id in batch_ids:
        total = ledger.db.execute("SELECT total FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
        if total is None:
            raise ExportError(f"batch {batch_id} is not in the ledger")
        rows = ledger.query("SELECT n.*, v.method, v.entered_by, v.verified_by, v.verified_at FROM notices n"
                            " LEFT JOIN verifications v ON v.notice_row = n.id WHERE n.batch_id = ? ORDER BY n.seq",
                            (batch_id,))
        for r in rows:
            record = json.loads(r["record_json"]) if r["record_json"] else {}
            event = events.get(record.get("event", ""))
            out.append(ReportRow(batch_id, r["seq"], total["total"], r["notice_id"] or "", record.get("name", ""),
                                 event.label if event else "", r["state"], METHOD_LABELS.get(r["method"] or "", ""),
                                 r["entered_by"] or "", r["verified_by"] or "", japan_time(r["verified_at"])))
    return out


STATE_LABELS = {"missing": "未着", "decoded": "読取済", "confirmed": "確認済", "first_entry": "一次入力済",
                "mismatch": "不一致", "done": "完了"}


def processing_report(ledger: Ledger, batch_ids: Sequence[str], printed_at: str | None = None) -> bytes:
    """処理結果一覧 as a PDF: one row per notice (A4 landscape, Japanese, repeated header)."""
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
    head = ["バッチ", "連番", "通知番号", "氏名", "事由", "状態", "取込方法", "入力", "確認・審査", "日時"]
    data = [head] + [[r.batch_id, f"{r.seq}/{r.total}", r.notice_id, Paragraph(r.name, small), r.event,
                      STATE_LABELS.get(r.state, r.state), r.method, r.entered_by, r.verified_by, r.verified_at]
                     for r in rows]
    table = Table(data, repeatRows=1, colWidths=[30 * mm, 14 * mm, 34 * mm, 52 * mm, 36 * mm, 16 * mm, 18 * mm,
                                                 20 * mm, 20 * mm, 27 * mm])
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                               ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
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
