"""Export: verified notices out of the ledger, in the notice data format (or CSV), with a processing report.

A batch is exported only when every one of its notices is verified – confirmed from a verified QR code,
done by double entry, accepted by a reviewer, or delivered by line or media with a trusted signature. The
records are the canonical records, so a notice confirmed from its QR code is byte-identical to the record
that was printed. The notices are read, the file is written atomically and the ledger records the export with
its audit entry, all inside one write transaction: two desks exporting at the same moment run one after the
other, and each notice is written into one file only (a kill before the commit leaves a file the ledger does
not know, and the re-run writes the same bytes).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from paperlink.atomicfile import atomic_write_bytes
from paperlink.csvformat import dumps_csv
from paperlink.dataformat import dumps_notices
from paperlink.dates import japan_time
from paperlink.errors import ExportError, PaperlinkError
from paperlink.failpoints import failpoint
from paperlink.holding import Held, hold_text
from paperlink.labels import METHOD_LABELS, STATE_LABELS
from paperlink.ledger import VERIFIED_STATES, Ledger, NoticeState, VerificationMethod, now, store, views
from paperlink.ledger.anchors import write_manifest
from paperlink.ledger.rows import NoticeRow
from paperlink.notice import Notice, parse_notice

FORMATS = {"jsonl": "notice data format", "csv": "CSV (UTF-8 with BOM)", "csv-cp932": "CSV (Shift_JIS/cp932)"}


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    batch_ids: tuple[str, ...]
    count: int
    path: Path
    sha256: str
    held: tuple[Held, ...] = ()
    """Notices held out of this export (cp932 cannot carry them), each named with its reason."""


exportable_batches = views.exportable_batches


def batch_notices(ledger: Ledger, batch_id: str,
                  trusted: Mapping[bytes, Ed25519PublicKey] | None = None) -> list[Notice]:
    """The verified notices of a batch in n/N order (held ones left out); ExportError naming what is not verified
    and not held yet, or what was altered (see `_checked`)."""
    return [notice for _, notice in _batch_rows(ledger, batch_id, trusted)]


def _batch_rows(ledger: Ledger, batch_id: str, trusted: Mapping[bytes, Ed25519PublicKey] | None = None,
                only_new: bool = False) -> list[tuple[NoticeRow, Notice]]:
    batch = store.batch(ledger, batch_id)
    if batch is None:
        raise ExportError("export_unknown_batch", batch_id=batch_id)
    rows = store.notices_of(ledger, batch_id)
    pending = [f"{r.seq}/{batch.total}" for r in rows if r.state not in VERIFIED_STATES and r.state is not NoticeState.HELD]
    missing = batch.total - len(rows)
    if pending or missing:
        listed = ", ".join(pending[:10]) + (" …" if len(pending) > 10 else "")
        if pending and missing:
            raise ExportError("export_not_ready_both", batch_id=batch_id, pending=listed, missing=missing)
        if pending:
            raise ExportError("export_not_ready_pending", batch_id=batch_id, pending=listed)
        raise ExportError("export_not_ready_missing", batch_id=batch_id, missing=missing)
    return [(r, _checked(ledger, r, batch.total, trusted)) for r in rows
            if r.state in VERIFIED_STATES and not (only_new and r.exported_at)]


def _checked(ledger: Ledger, row: NoticeRow, total: int,
             trusted: Mapping[bytes, Ed25519PublicKey] | None) -> Notice:
    """A stored record checked before anything is written: it must read back to itself (canonical form), match its
    stored digest and the short hash its cover sheet's manifest listed; a notice confirmed from its QR code must
    still have a capture whose signature verifies under `trusted` and whose record is this one."""
    where = {"batch_id": row.batch_id, "seq": row.seq, "total": total, "notice_id": row.notice_id or "?"}
    try:
        notice = parse_notice(row.record() or {})
    except (PaperlinkError, ValueError):
        raise ExportError("export_record_altered", **where) from None
    if (notice.canonical_json() != row.record_json or notice.digest() != row.digest
            or (row.listed and not store.digest_matches(row.manifest_hash, row.digest))):
        raise ExportError("export_record_altered", **where)
    check = store.verification(ledger, row.id)
    if trusted is not None and check is not None and check.method == VerificationMethod.QR:
        from paperlink.scanning import interpret

        signed = False
        for capture in store.captures_of(ledger, row.id):
            if capture.payload is None:
                continue
            item = interpret(capture.payload, capture.source, capture.page, trusted)
            if (item.verified and item.sheet is not None and item.sheet.batch_id == row.batch_id
                    and item.sheet.seq == row.seq and item.sheet.notice.digest() == row.digest):
                signed = True
                break
        if not signed:
            raise ExportError("export_signature_failed", **where)
    return notice


def _cp932_hold(notice: Notice) -> Held | None:
    """The hold of a notice that cp932 cannot carry (named by item and character), or None."""
    try:
        dumps_csv([notice], "cp932")
    except ExportError as exc:
        if exc.code != "cp932_unencodable":
            raise
        return Held(notice.notice_id, None, "hold_cp932",
                    {"field": exc.params["field"], "chars": f"'{exc.params['char']}' ({exc.params['codepoint']})"})
    return None


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
           clerk: str, trusted: Mapping[bytes, Ed25519PublicKey] | None = None) -> ExportResult:
    """Write the notices of the named batches (None: every exportable batch) to `path` and record it.

    Named batches are written with every verified notice; with none named, only notices not exported before.
    Every record is checked first (`_checked`; signatures too when `trusted` is given): one that was altered in
    the ledger stops the export before anything is written. Held notices are left out (they do not stop their
    batch). For cp932, a notice with a character cp932 lacks is held with that reason – named in the result – and
    the rest is written."""
    target = Path(path)
    # everything from the first read to the record is one write transaction: a desk exporting at the same moment
    # waits for the writers' lock, then finds these notices exported – each notice goes into one file only
    with ledger.transaction():
        chosen = list(batch_ids) if batch_ids else exportable_batches(ledger)
        if not chosen:
            raise ExportError("export_nothing")
        rows = [row for batch_id in chosen for row in _batch_rows(ledger, batch_id, trusted, only_new=not batch_ids)]
        held: list[tuple[NoticeRow, Held]] = []
        if fmt == "csv-cp932":
            held = [(row, hold) for row, notice in rows if (hold := _cp932_hold(notice)) is not None]
            rows = [(row, notice) for row, notice in rows if row.id not in {r.id for r, _ in held}]
        if not rows:
            _hold(ledger, held, clerk)
        else:
            notices = [notice for _, notice in rows]
            data = render_export(notices, fmt)
            atomic_write_bytes(target, data)
            failpoint("export.after-write")
            digest = hashlib.sha256(data).hexdigest()
            for batch_id in chosen:
                store.add_export(ledger, batch_id, fmt, target.name, digest, clerk)
            store.mark_exported(ledger, [row.id for row, _ in rows])
            _hold(ledger, held, clerk)
            failpoint("export.in-transaction")
            ledger.audit(clerk, "export.written", ",".join(chosen), format=fmt, file=target.name, sha256=digest,
                         count=len(notices), held=[h.notice_id for _, h in held])
    if not rows:  # only held ones (recorded above): nothing written
        raise ExportError("export_nothing")
    facts: dict[str, Any] = {"file": target.name, "format": fmt, "sha256": digest, "count": len(notices),
                             "batches": chosen}
    if ledger.anchors is not None:
        facts["audit_anchor"] = ledger.anchor("export", target.name).as_dict()
    write_manifest(target, facts)
    return ExportResult(tuple(chosen), len(notices), target, digest, tuple(h for _, h in held))


def _hold(ledger: Ledger, held: Sequence[tuple[NoticeRow, Held]], clerk: str) -> None:
    for row, hold in held:
        store.hold_existing(ledger, row.id, hold.code, hold.params, clerk)
        ledger.audit(clerk, "notice.held", f"{row.batch_id}/{row.seq}", notice_id=row.notice_id, code=hold.code,
                     **hold.params)


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
            hold = store.open_hold(ledger, line.notice.id) if line.notice.state is NoticeState.HELD else None
            method = METHOD_LABELS[line.method] if line.method else ""
            if hold is not None:
                method = f"保留: {hold_text(hold.reason_code, hold.params, 'ja')}"
            out.append(ReportRow(batch_id, line.notice.seq, line.total, line.notice.notice_id or "",
                                 record.get("name", ""), event.label if event else "", line.notice.state,
                                 method, line.entered_by or "", line.verified_by or "", japan_time(line.verified_at)))
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
    held = sum(1 for r in rows if r.state is NoticeState.HELD)
    story = [Paragraph("処理結果一覧（取扱注意・個人情報）", title),
             Paragraph(f"作成日時 {printed_at or japan_time(now())}　対象バッチ {', '.join(batch_ids)}　"
                       f"件数 {len(rows)} 件（うち処理済 {done} 件、保留 {held} 件）", small)]
    if ledger.anchors is not None:  # pins the audit log as it stands: `paperlink audit verify` checks against it
        anchor = ledger.anchor("report", ",".join(batch_ids))
        story.append(Paragraph(f"監査ログ {anchor.count} 件　先頭ハッシュ {anchor.head}<br/>"
                               f"HMAC {anchor.mac}", small))
    story += [Spacer(1, 4 * mm), table]
    doc.build(story)
    return buffer.getvalue()
