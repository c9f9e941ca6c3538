"""Recording what was scanned: each decoded code becomes a capture in the ledger, and identifies its notice.

A verified manifest registers its batch and every expected notice (`n/N`, notice id, short hash); a
verified sheet fills its notice's record (state 読取済). The same sheet twice is a duplicate, never a
second notice; a sheet that contradicts what the ledger knows (another record for the same `n/N`, a hash
that differs from the manifest's) is a conflict; a sheet whose signature fails is rejected. None of these
changes a notice or a batch: the attempt is only kept as a capture with its outcome, audited, so a
reviewer can see it (and, for a failed signature, accept it with a reason). Input that holds no paperlink
code at all (a blank page, a broken file, another program's QR code) leaves no trace in the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from paperlink.failpoints import failpoint
from paperlink.ledger import Ledger, now
from paperlink.payload import ManifestPayload, SheetPayload
from paperlink.scanning import ScanItem

CHANNELS = ("file", "folder", "webcam", "wedge")
OFFICE_MUNICIPALITY_SETTING = "office.municipality_code"
"""The office's own 全国地方公共団体コード; when set, sheets for another municipality are refused."""


def foreign_municipality(ledger: Ledger, item: ScanItem) -> str | None:
    """The sheet's municipality code if the office has one set and the sheet is for another municipality."""
    office = ledger.setting(OFFICE_MUNICIPALITY_SETTING)
    if office and item.sheet is not None and item.sheet.notice.municipality_code != office:
        return item.sheet.notice.municipality_code
    return None


@dataclass(frozen=True)
class IntakeResult:
    """What recording one scanned item did: new, duplicate, registered, conflict or rejected."""

    outcome: str
    message: str
    batch_id: str | None = None
    seq: int | None = None
    notice_id: str | None = None
    capture_id: int | None = None
    page: int = 0


class _Conflict(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def record_items(ledger: Ledger, items: Iterable[ScanItem], channel: str, actor: str,
                 then: Callable[[list[IntakeResult]], None] | None = None) -> list[IntakeResult]:
    """Record scanned items – and whatever `then` writes – in one transaction; say what each did."""
    items = list(items)  # decode before taking the write lock
    with ledger.transaction():
        results = [_record(ledger, item, channel, actor) for item in items]
        failpoint("capture.in-transaction")
        if then is not None:
            then(results)
    return results


def record_item(ledger: Ledger, item: ScanItem, channel: str, actor: str) -> IntakeResult:
    """Record one scanned item in its own transaction."""
    return record_items(ledger, [item], channel, actor)[0]


def _record(ledger: Ledger, item: ScanItem, channel: str, actor: str) -> IntakeResult:
    if item.sheet is None and item.manifest is None:
        # no paperlink code at all (blank page, unreadable file, another program's QR): nothing to keep
        return IntakeResult("rejected", item.error or "no paperlink code", page=item.page)
    other = foreign_municipality(ledger, item)
    if other is not None and item.sheet is not None:
        return IntakeResult("foreign", f"the notice is for municipality {other}, not this office", item.sheet.batch_id,
                            item.sheet.seq, item.sheet.notice.notice_id, page=item.page)
    if item.sheet is not None and item.verified:
        try:
            result = _record_sheet(ledger, item.sheet, actor)
        except _Conflict as exc:
            result = IntakeResult("conflict", exc.message, item.sheet.batch_id, item.sheet.seq,
                                  item.sheet.notice.notice_id)
    elif item.manifest is not None and item.verified:
        try:
            result = _record_manifest(ledger, item.manifest, actor)
        except _Conflict as exc:
            result = IntakeResult("conflict", exc.message, item.manifest.batch_id)
    else:
        result = _rejected(item)
    capture_id = _capture(ledger, item, channel, actor, result)
    ledger.audit(actor, f"capture.{result.outcome}", result.batch_id or item.source,
                 capture=capture_id, channel=channel, source=item.source, page=item.page,
                 seq=result.seq, notice_id=result.notice_id, message=result.message)
    return IntakeResult(result.outcome, result.message, result.batch_id, result.seq, result.notice_id, capture_id,
                        item.page)


def _rejected(item: ScanItem) -> IntakeResult:
    code = item.sheet or item.manifest
    batch = code.batch_id if code is not None else None
    seq = item.sheet.seq if item.sheet is not None else None
    notice_id = item.sheet.notice.notice_id if item.sheet is not None else None
    reason = item.error or "not verified"
    return IntakeResult("rejected", reason, batch, seq, notice_id)


def _capture(ledger: Ledger, item: ScanItem, channel: str, actor: str, result: IntakeResult) -> int:
    row = None
    if result.batch_id is not None and result.seq is not None:
        row = ledger.db.execute("SELECT id FROM notices WHERE batch_id = ? AND seq = ?",
                                (result.batch_id, result.seq)).fetchone()
    cursor = ledger.db.execute(
        "INSERT INTO captures (notice_row, batch_id, seq, channel, source, page, payload, verified, outcome, error,"
        " captured_at, actor) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (row["id"] if row else None, result.batch_id, result.seq, channel, item.source, item.page, item.text,
         int(item.verified), result.outcome, item.error, now(), actor))
    return int(cursor.lastrowid or 0)


def _ensure_batch(ledger: Ledger, batch_id: str, total: int, key_id: bytes, actor: str, manifest: bool) -> None:
    row = ledger.db.execute("SELECT total FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
    if row is None:
        ledger.db.execute("INSERT INTO batches (batch_id, transport, total, key_id, registered_at, registered_by,"
                          " manifest_seen) VALUES (?, 'paper', ?, ?, ?, ?, ?)",
                          (batch_id, total, key_id.hex(), now(), actor, int(manifest)))
        ledger.audit(actor, "batch.registered", batch_id, total=total, via="manifest" if manifest else "sheet")
        return
    if row["total"] != total:
        raise _Conflict(f"batch {batch_id} has {row['total']} notices in the ledger, but this code says {total}")
    if manifest:
        ledger.db.execute("UPDATE batches SET manifest_seen = 1 WHERE batch_id = ?", (batch_id,))


def _record_manifest(ledger: Ledger, manifest: ManifestPayload, actor: str) -> IntakeResult:
    _ensure_batch(ledger, manifest.batch_id, manifest.total, manifest.key_id, actor, manifest=True)
    added = 0
    for seq, notice_id, short in manifest.entries:
        row = ledger.db.execute("SELECT * FROM notices WHERE batch_id = ? AND seq = ?",
                                (manifest.batch_id, seq)).fetchone()
        if row is None:
            ledger.db.execute("INSERT INTO notices (batch_id, seq, notice_id, manifest_hash, updated_at)"
                              " VALUES (?,?,?,?,?)", (manifest.batch_id, seq, notice_id, short, now()))
            added += 1
            continue
        if row["notice_id"] != notice_id:
            raise _Conflict(f"{manifest.batch_id} {seq}/{manifest.total}: the manifest names {notice_id}, "
                            f"the sheet read before was {row['notice_id']}")
        if row["digest"] is not None and bytes(row["digest"])[:len(short)] != short:
            raise _Conflict(f"{manifest.batch_id} {seq}/{manifest.total} ({notice_id}): the sheet read before "
                            "does not match the manifest's hash")
        if row["manifest_hash"] is None:
            ledger.db.execute("UPDATE notices SET manifest_hash = ? WHERE id = ?", (short, row["id"]))
    return IntakeResult("registered", f"manifest part {manifest.part}/{manifest.parts}: {len(manifest.entries)} "
                        f"notices listed, {added} new", manifest.batch_id)


def _record_sheet(ledger: Ledger, sheet: SheetPayload, actor: str) -> IntakeResult:
    notice = sheet.notice
    _ensure_batch(ledger, sheet.batch_id, sheet.total, sheet.key_id, actor, manifest=False)
    where = f"{sheet.batch_id} {sheet.seq}/{sheet.total} ({notice.notice_id})"
    digest = notice.digest()
    row = ledger.db.execute("SELECT * FROM notices WHERE batch_id = ? AND seq = ?", (sheet.batch_id, sheet.seq)).fetchone()
    if row is None:
        ledger.db.execute("INSERT INTO notices (batch_id, seq, notice_id, record_json, digest, state, verified,"
                          " updated_at) VALUES (?,?,?,?,?, 'decoded', 1, ?)",
                          (sheet.batch_id, sheet.seq, notice.notice_id, notice.canonical_json(), digest, now()))
        return IntakeResult("new", f"{where}: read", sheet.batch_id, sheet.seq, notice.notice_id)
    if row["notice_id"] != notice.notice_id:
        raise _Conflict(f"{where}: the ledger holds {row['notice_id']} at this position")
    if row["manifest_hash"] is not None and digest[:len(row["manifest_hash"])] != bytes(row["manifest_hash"]):
        raise _Conflict(f"{where}: the record does not match the cover sheet's manifest")
    if row["digest"] is None:
        ledger.db.execute("UPDATE notices SET record_json = ?, digest = ?, verified = 1, updated_at = ?,"
                          " state = CASE state WHEN 'missing' THEN 'decoded' ELSE state END WHERE id = ?",
                          (notice.canonical_json(), digest, now(), row["id"]))
        return IntakeResult("new", f"{where}: read", sheet.batch_id, sheet.seq, notice.notice_id)
    if bytes(row["digest"]) == digest:
        return IntakeResult("duplicate", f"{where}: already read", sheet.batch_id, sheet.seq, notice.notice_id)
    raise _Conflict(f"{where}: a different record was read for this sheet before")


@dataclass(frozen=True)
class BatchStatus:
    """How far a batch has come: its size, what was received, and which sheets are still missing."""

    batch_id: str
    total: int
    received: int
    states: dict[str, int]
    missing: list[tuple[int, str | None]]


def batch_status(ledger: Ledger, batch_id: str) -> BatchStatus | None:
    """The status of one batch (None if the ledger does not know it)."""
    batch = ledger.db.execute("SELECT * FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
    if batch is None:
        return None
    rows = ledger.query("SELECT seq, notice_id, state, digest FROM notices WHERE batch_id = ? ORDER BY seq", (batch_id,))
    known = {r["seq"]: r for r in rows}
    states: dict[str, int] = {}
    for r in rows:
        states[r["state"]] = states.get(r["state"], 0) + 1
    missing = [(seq, known[seq]["notice_id"] if seq in known else None)
               for seq in range(1, batch["total"] + 1) if seq not in known or known[seq]["state"] == "missing"]
    states["missing"] = len(missing)
    return BatchStatus(batch_id, batch["total"], batch["total"] - len(missing), states, missing)
