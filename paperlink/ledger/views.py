"""Read models: what the screen and the command line show, read in one place.

Nothing here writes. Each function answers one question a page or a command asks (the board, the entry
queue, a batch's status, what may be exported, the processing report's rows, …) with frozen values.
"""

from __future__ import annotations

from dataclasses import dataclass

from paperlink.ledger.connection import Ledger
from paperlink.ledger.rows import BatchRow, ExportRow, HoldRow, NoticeRow, OutboxRow
from paperlink.ledger.schema import (
    VERIFIED_STATES,
    EntryRound,
    NoticeState,
    OutboxState,
    ReceiptStatus,
    VerificationMethod,
)
from paperlink.ledger.store import batch, notices_of


def batch_ids(ledger: Ledger) -> list[str]:
    """Every batch in the ledger, oldest first."""
    return [r["batch_id"] for r in
            ledger.db.execute("SELECT batch_id FROM batches ORDER BY registered_at, batch_id")]


def batches(ledger: Ledger) -> list[BatchRow]:
    """Every batch, newest first."""
    return [BatchRow.of(r) for r in ledger.db.execute("SELECT * FROM batches ORDER BY registered_at DESC, batch_id")]


def batch_total(ledger: Ledger, batch_id: str | None) -> int | None:
    """How many notices a batch has (None for an unknown batch)."""
    found = batch(ledger, batch_id) if batch_id is not None else None
    return found.total if found else None


@dataclass(frozen=True)
class NoticeLine:
    """One position n of a batch: the notice there, or None while nothing is known of it."""

    seq: int
    notice: NoticeRow | None

    @property
    def state(self) -> NoticeState:
        """The notice's state (a position never seen counts as 未着)."""
        return self.notice.state if self.notice else NoticeState.MISSING


@dataclass(frozen=True)
class BatchStatus:
    """How far a batch has come: its size, what was received, and which sheets are still missing."""

    batch_id: str
    total: int
    received: int
    states: dict[str, int]
    missing: list[tuple[int, str | None]]
    lines: tuple[NoticeLine, ...] = ()

    @property
    def verified(self) -> int:
        """Notices verified (確認済 or 完了)."""
        return sum(1 for line in self.lines if line.state in VERIFIED_STATES)


def batch_status(ledger: Ledger, batch_id: str) -> BatchStatus | None:
    """The status of one batch (None if the ledger does not know it)."""
    found = batch(ledger, batch_id)
    if found is None:
        return None
    known = {n.seq: n for n in notices_of(ledger, batch_id)}
    lines = tuple(NoticeLine(seq, known.get(seq)) for seq in range(1, found.total + 1))
    states: dict[str, int] = {}
    for n in known.values():
        states[n.state.value] = states.get(n.state.value, 0) + 1
    missing = [(line.seq, line.notice.notice_id if line.notice else None)
               for line in lines if line.state is NoticeState.MISSING]
    states[NoticeState.MISSING.value] = len(missing)
    return BatchStatus(batch_id, found.total, found.total - len(missing), states, missing, lines)


@dataclass(frozen=True)
class BoardBatch:
    """One batch on the board: the batch, its status, and whether it was exported."""

    batch: BatchRow
    status: BatchStatus
    exported: bool


def board(ledger: Ledger) -> list[BoardBatch]:
    """Every batch with its status and export state, newest first (the screen chooses which to show)."""
    exported = {r["batch_id"] for r in ledger.db.execute("SELECT DISTINCT batch_id FROM exports")}
    out = []
    for row in batches(ledger):
        status = batch_status(ledger, row.batch_id)
        if status is not None:
            out.append(BoardBatch(row, status, row.batch_id in exported))
    return out


@dataclass(frozen=True)
class QueuedNotice:
    """A notice waiting to be typed: 未着 with a known sheet, 一次入力済 or 不一致."""

    notice: NoticeRow
    total: int


def entry_queue(ledger: Ledger) -> list[QueuedNotice]:
    """Notices waiting for a typed entry or a re-key, in batches not yet exported, oldest batch first."""
    waiting = (NoticeState.MISSING, NoticeState.FIRST_ENTRY, NoticeState.MISMATCH)
    rows = ledger.db.execute(
        "SELECT n.*, b.total AS batch_total FROM notices n JOIN batches b ON b.batch_id = n.batch_id"
        f" WHERE n.state IN ({','.join('?' * len(waiting))})"
        " AND NOT EXISTS (SELECT 1 FROM exports e WHERE e.batch_id = n.batch_id) ORDER BY b.registered_at, n.seq",
        [s.value for s in waiting])
    return [QueuedNotice(NoticeRow.of(r), int(r["batch_total"])) for r in rows]


def next_to_confirm(ledger: Ledger, batch_id: str) -> int | None:
    """The first 読取済, verified notice of a batch (row id), for moving on after a confirmation."""
    row = ledger.db.execute("SELECT id FROM notices WHERE batch_id = ? AND state = ? AND verified = 1"
                            " ORDER BY seq LIMIT 1", (batch_id, NoticeState.DECODED.value)).fetchone()
    return int(row["id"]) if row else None


def exportable_batches(ledger: Ledger) -> list[str]:
    """Batches whose notices are all verified or held (保留), with a verified notice not exported yet, oldest first.

    A held notice does not keep the rest of its batch back; once released it makes its batch exportable again."""
    settled = [s.value for s in (*VERIFIED_STATES, NoticeState.HELD)]
    verified = [s.value for s in VERIFIED_STATES]
    rows = ledger.db.execute(
        "SELECT b.batch_id FROM batches b WHERE b.total > 0"
        f" AND (SELECT COUNT(*) FROM notices n WHERE n.batch_id = b.batch_id AND n.state IN ({','.join('?' * len(settled))}))"
        " = b.total AND EXISTS (SELECT 1 FROM notices n WHERE n.batch_id = b.batch_id AND n.exported_at IS NULL"
        f" AND n.state IN ({','.join('?' * len(verified))}))"
        " ORDER BY b.registered_at, b.batch_id", [*settled, *verified])
    return [r["batch_id"] for r in rows]


def exports(ledger: Ledger, limit: int = 50) -> list[ExportRow]:
    """The latest exports, newest first."""
    return [ExportRow.of(r) for r in ledger.db.execute("SELECT * FROM exports ORDER BY id DESC LIMIT ?", (limit,))]


def export_file_names(ledger: Ledger, batch_id: str | None = None) -> set[str]:
    """The names of files the ledger recorded as exports (of one batch, or of all)."""
    if batch_id is None:
        return {r["file_name"] for r in ledger.db.execute("SELECT DISTINCT file_name FROM exports")}
    return {r["file_name"] for r in
            ledger.db.execute("SELECT DISTINCT file_name FROM exports WHERE batch_id = ?", (batch_id,))}


def export_file_erased(ledger: Ledger, file_name: str) -> bool:
    """Whether every batch written to an export file has had its personal data erased."""
    rows = ledger.db.execute("SELECT b.erased_at FROM exports e JOIN batches b ON b.batch_id = e.batch_id"
                             " WHERE e.file_name = ?", (file_name,)).fetchall()
    return all(r["erased_at"] for r in rows)


def last_exports(ledger: Ledger) -> list[tuple[str, str]]:
    """(batch id, time of its last export) for every exported batch not yet erased, oldest export first."""
    rows = ledger.db.execute("SELECT b.batch_id, MAX(e.exported_at) AS last FROM batches b JOIN exports e"
                             " ON e.batch_id = b.batch_id WHERE b.erased_at IS NULL GROUP BY b.batch_id ORDER BY last")
    return [(r["batch_id"], r["last"]) for r in rows]


@dataclass(frozen=True)
class ReportLine:
    """One notice of the processing report with how it was verified."""

    notice: NoticeRow
    total: int
    method: VerificationMethod | None
    entered_by: str | None
    verified_by: str | None
    verified_at: str | None


def report_lines(ledger: Ledger, batch_id: str) -> list[ReportLine] | None:
    """Every notice of a batch with its verification (None for an unknown batch)."""
    found = batch(ledger, batch_id)
    if found is None:
        return None
    rows = ledger.db.execute("SELECT n.*, v.method, v.entered_by, v.verified_by, v.verified_at FROM notices n"
                             " LEFT JOIN verifications v ON v.notice_row = n.id WHERE n.batch_id = ? ORDER BY n.seq",
                             (batch_id,))
    return [ReportLine(NoticeRow.of(r), found.total, VerificationMethod(r["method"]) if r["method"] else None,
                       r["entered_by"], r["verified_by"], r["verified_at"])
            for r in rows]


def first_clerk(ledger: Ledger, pk: int) -> str | None:
    """Who typed a notice's first entry (None before it was typed)."""
    row = ledger.db.execute("SELECT clerk FROM entries WHERE notice_row = ? AND round = ? ORDER BY id DESC LIMIT 1",
                            (pk, int(EntryRound.FIRST))).fetchone()
    return str(row["clerk"]) if row else None


def entry_clerks(ledger: Ledger, pk: int) -> set[str]:
    """Every clerk who typed an entry or re-keyed an item of a notice."""
    return {str(r["clerk"]) for r in ledger.db.execute("SELECT DISTINCT clerk FROM entries WHERE notice_row = ?", (pk,))}


def typed_check_code(ledger: Ledger, pk: int) -> str | None:
    """The check code typed with the latest first or second entry, if any."""
    row = ledger.db.execute(
        "SELECT check_code FROM entries WHERE notice_row = ? AND round IN (?, ?) AND check_code IS NOT NULL"
        " ORDER BY id DESC LIMIT 1", (pk, int(EntryRound.FIRST), int(EntryRound.SECOND))).fetchone()
    return str(row["check_code"]) if row else None


@dataclass(frozen=True)
class NoticeTally:
    """Counts over every notice: read (a record is known), confirmed, and positions held by more than one notice."""

    read: int
    confirmed: int
    doubled_positions: int


def notice_tally(ledger: Ledger) -> NoticeTally:
    """How many notices were read and confirmed, and whether any n/N was taken twice (load checks)."""
    read = ledger.db.execute("SELECT COUNT(*) FROM notices WHERE digest IS NOT NULL").fetchone()[0]
    confirmed = ledger.db.execute("SELECT COUNT(*) FROM notices WHERE state = ?",
                                  (NoticeState.CONFIRMED.value,)).fetchone()[0]
    doubled = ledger.db.execute("SELECT COUNT(*) FROM (SELECT batch_id, seq FROM notices GROUP BY batch_id, seq"
                                " HAVING COUNT(*) > 1) AS doubled").fetchone()[0]
    return NoticeTally(int(read), int(confirmed), int(doubled))
# -- holds and acknowledgements -------------------------------------------------------------------------


def open_holds(ledger: Ledger, batch_id: str | None = None) -> list[HoldRow]:
    """Every hold not yet released (of one batch, or of all), oldest batch first, in n/N order."""
    sql = ("SELECT h.*, n.batch_id, n.seq, n.notice_id FROM holds h JOIN notices n ON n.id = h.notice_row"
           " JOIN batches b ON b.batch_id = n.batch_id WHERE h.released_at IS NULL AND n.state = ?")
    params: list[object] = [NoticeState.HELD.value]
    if batch_id is not None:
        sql += " AND n.batch_id = ?"
        params.append(batch_id)
    return [HoldRow.of(r) for r in ledger.db.execute(sql + " ORDER BY b.registered_at, n.batch_id, n.seq", params)]


def exported_batches(ledger: Ledger) -> set[str]:
    """Batches written to at least one export file."""
    return {r["batch_id"] for r in ledger.db.execute("SELECT DISTINCT batch_id FROM exports")}


def sent_batch_ids(ledger: Ledger) -> list[str]:
    """Every batch the sending side printed, sent or bundled, oldest first."""
    return [r["batch_id"] for r in ledger.db.execute(
        "SELECT batch_id, MIN(id) AS first FROM outbox GROUP BY batch_id ORDER BY first")]


def unacknowledged(ledger: Ledger) -> list[OutboxRow]:
    """Every notice the sending side is not yet done with, by its latest outbox row: sent and not reported
    exported by a receipt (no receipt yet, received, entered, held there, missing there), or held here and not
    sent again since. Empty only when every notice printed, sent, bundled or held here is accounted for."""
    latest: dict[str, OutboxRow] = {}
    for number, r in enumerate(OutboxRow.of(r) for r in ledger.db.execute("SELECT * FROM outbox ORDER BY id")):
        latest[r.notice_id or f"#{number}"] = r
    return [r for r in latest.values() if not (r.state is OutboxState.SENT and r.ack is ReceiptStatus.EXPORTED)]


def erased_capture_ids(ledger: Ledger) -> list[int]:
    """The ids of captures that belong to batches whose personal data was erased (their images must be gone)."""
    rows = ledger.db.execute(
        "SELECT c.id FROM captures c WHERE c.batch_id IN (SELECT batch_id FROM batches WHERE erased_at IS NOT NULL)"
        " OR c.notice_row IN (SELECT n.id FROM notices n JOIN batches b ON b.batch_id = n.batch_id"
        " WHERE b.erased_at IS NOT NULL) ORDER BY c.id")
    return [int(r["id"]) for r in rows]


def awaited_notice(ledger: Ledger, notice_id: str) -> int | None:
    """The row of a notice still awaited under this id (未着, listed by a cover), newest first; None if there is none."""
    row = ledger.db.execute("SELECT id FROM notices WHERE notice_id = ? AND state = ? ORDER BY id DESC LIMIT 1",
                            (notice_id, NoticeState.MISSING.value)).fetchone()
    return int(row["id"]) if row else None


def notice_under_id(ledger: Ledger, notice_id: str) -> tuple[int, NoticeState] | None:
    """The newest notice row with this notice id in any state, and its state; None if no notice has the id."""
    row = ledger.db.execute("SELECT id, state FROM notices WHERE notice_id = ? ORDER BY id DESC LIMIT 1",
                            (notice_id,)).fetchone()
    return (int(row["id"]), NoticeState(row["state"])) if row else None
