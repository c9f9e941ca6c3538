"""The store: the only writer of batches, notices, captures, entries, verifications and exports.

Every function that writes must be called inside `Ledger.transaction()` (it checks), so a workflow step
and its audit entry commit together. A notice changes state only through `add_notice` and `move_notice`,
which refuse every move `schema.TRANSITIONS` does not allow with `IllegalTransition`. The workflow modules
(`intake`, `confirm`, `doubleentry`, `transport`, `export`, `maintenance`) keep their rules and call these.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from paperlink.ledger.connection import IllegalTransition, Ledger, NoticeNotFound, now
from paperlink.ledger.rows import BatchRow, CaptureRow, EntryRow, HoldRow, NoticeRow, OutboxRow, VerificationRow
from paperlink.ledger.schema import (
    TRANSITIONS,
    CaptureOutcome,
    Channel,
    EntryRound,
    MediaDirection,
    NoticeState,
    OutboxState,
    ReceiptStatus,
    Transport,
    VerificationMethod,
)

if TYPE_CHECKING:
    from paperlink.notice import Notice


def digest_matches(manifest_hash: bytes | None, digest: bytes | None) -> bool:
    """Whether a record's digest agrees with the short hash a cover sheet's manifest listed for it.

    No listed hash, or no record yet, agrees with anything: there is nothing to compare.
    """
    if manifest_hash is None or digest is None:
        return True
    return digest[:len(manifest_hash)] == manifest_hash


def check_transition(current: NoticeState | None, target: NoticeState | str) -> NoticeState:
    """The target state if a notice in `current` (None: not yet created) may move there; IllegalTransition if not."""
    allowed = TRANSITIONS.get(current, frozenset())
    if target not in allowed:
        known = target if isinstance(target, NoticeState) or target not in NoticeState.__members__.values() \
            else NoticeState(target)
        raise IllegalTransition("ledger_illegal_transition", state=current if current else "(new)", target=known)
    return NoticeState(target)


# -- batches ------------------------------------------------------------------------------------------


def batch(ledger: Ledger, batch_id: str) -> BatchRow | None:
    """The batch with this id, or None."""
    row = ledger.db.execute("SELECT * FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
    return BatchRow.of(row) if row else None


def register_batch(ledger: Ledger, batch_id: str, transport: Transport, total: int, key_id: str | None, actor: str,
                   *, manifest_seen: bool = False, data_sha256: str | None = None) -> BatchRow:
    """Register a new batch (the caller checked that it is new)."""
    ledger.require_transaction()
    ledger.db.execute("INSERT INTO batches (batch_id, transport, total, key_id, registered_at, registered_by,"
                      " manifest_seen, data_sha256) VALUES (?,?,?,?,?,?,?,?)",
                      (batch_id, transport.value, total, key_id, now(), actor, int(manifest_seen), data_sha256))
    registered = batch(ledger, batch_id)
    assert registered is not None
    return registered


def mark_manifest_seen(ledger: Ledger, batch_id: str) -> None:
    """Note that the batch's cover sheet (its manifest) was read."""
    ledger.require_transaction()
    ledger.db.execute("UPDATE batches SET manifest_seen = 1 WHERE batch_id = ?", (batch_id,))


def add_manual_notice(ledger: Ledger, batch_id: str, actor: str) -> tuple[int, int]:
    """A new 未着 notice at the end of a manual batch (created on first use); returns (notice pk, n)."""
    ledger.require_transaction()
    existing = batch(ledger, batch_id)
    seq = (existing.total if existing else 0) + 1
    if existing is None:
        register_batch(ledger, batch_id, Transport.PAPER, 1, None, actor)
    else:
        ledger.db.execute("UPDATE batches SET total = ? WHERE batch_id = ?", (seq, batch_id))
    return add_notice(ledger, batch_id, seq, NoticeState.MISSING), seq


# -- notices ------------------------------------------------------------------------------------------


def notice(ledger: Ledger, pk: int) -> NoticeRow:
    """The notice with this row id; NoticeNotFound if there is none."""
    row = ledger.db.execute("SELECT * FROM notices WHERE id = ?", (pk,)).fetchone()
    if row is None:
        raise NoticeNotFound("ledger_notice_not_found", pk=pk)
    return NoticeRow.of(row)


def notice_at(ledger: Ledger, batch_id: str, seq: int) -> NoticeRow | None:
    """The notice at n = `seq` of a batch, or None if nothing is known of it yet."""
    row = ledger.db.execute("SELECT * FROM notices WHERE batch_id = ? AND seq = ?", (batch_id, seq)).fetchone()
    return NoticeRow.of(row) if row else None


def notices_of(ledger: Ledger, batch_id: str) -> list[NoticeRow]:
    """Every notice the ledger knows of a batch, in n/N order."""
    return [NoticeRow.of(r) for r in
            ledger.db.execute("SELECT * FROM notices WHERE batch_id = ? ORDER BY seq", (batch_id,))]


def add_notice(ledger: Ledger, batch_id: str, seq: int, state: NoticeState | str, *, notice_id: str | None = None,
               manifest_hash: bytes | None = None, record: Notice | None = None, verified: bool = False) -> int:
    """A new notice in a state a notice may start in; returns its row id."""
    ledger.require_transaction()
    start = check_transition(None, state)
    return ledger.db.insert(
        "INSERT INTO notices (batch_id, seq, notice_id, manifest_hash, record_json, digest, state, verified, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?)",
        (batch_id, seq, record.notice_id if record is not None else notice_id, manifest_hash,
         record.canonical_json() if record is not None else None, record.digest() if record is not None else None,
         start.value, int(verified), now()))


def list_notice(ledger: Ledger, pk: int, manifest_hash: bytes) -> None:
    """Keep the short hash a cover sheet's manifest lists for a notice that was known before the cover."""
    ledger.require_transaction()
    ledger.db.execute("UPDATE notices SET manifest_hash = ? WHERE id = ? AND manifest_hash IS NULL", (manifest_hash, pk))


def fill_record(ledger: Ledger, pk: int, record: Notice) -> NoticeRow:
    """A verified sheet read for a notice that had no record yet: 未着 becomes 読取済, a typed one keeps its state."""
    ledger.require_transaction()
    current = notice(ledger, pk)
    state = check_transition(current.state, NoticeState.DECODED) if current.state is NoticeState.MISSING \
        else current.state
    ledger.db.execute("UPDATE notices SET record_json = ?, digest = ?, verified = 1, state = ?, updated_at = ?"
                      " WHERE id = ?", (record.canonical_json(), record.digest(), state.value, now(), pk))
    return notice(ledger, pk)


def move_notice(ledger: Ledger, pk: int, target: NoticeState | str, *, record: Notice | None = None) -> NoticeRow:
    """Move a notice to `target` (IllegalTransition unless the state machine allows it), with its settled record."""
    ledger.require_transaction()
    current = notice(ledger, pk)
    state = check_transition(current.state, target)
    if record is None:
        ledger.db.execute("UPDATE notices SET state = ?, updated_at = ? WHERE id = ?", (state.value, now(), pk))
    else:
        ledger.db.execute("UPDATE notices SET state = ?, notice_id = ?, record_json = ?, digest = ?, updated_at = ?"
                          " WHERE id = ?", (state.value, record.notice_id, record.canonical_json(), record.digest(),
                                            now(), pk))
    return notice(ledger, pk)


# -- verifications --------------------------------------------------------------------------------------


def add_verification(ledger: Ledger, pk: int, method: VerificationMethod, verified_by: str, *,
                     entered_by: str | None = None, reason: str | None = None) -> None:
    """Record how, by whom and when a notice's record was verified (once per notice)."""
    ledger.require_transaction()
    ledger.db.execute("INSERT INTO verifications (notice_row, method, entered_by, verified_by, verified_at, reason)"
                      " VALUES (?,?,?,?,?,?)", (pk, method.value, entered_by, verified_by, now(), reason))


def verification(ledger: Ledger, pk: int) -> VerificationRow | None:
    """How a notice was verified, or None while it is not."""
    row = ledger.db.execute("SELECT * FROM verifications WHERE notice_row = ?", (pk,)).fetchone()
    return VerificationRow.of(row) if row else None


# -- captures -------------------------------------------------------------------------------------------


def add_capture(ledger: Ledger, *, channel: Channel | str, source: str, page: int, payload: str | None,
                verified: bool, outcome: CaptureOutcome | str, actor: str, batch_id: str | None = None,
                seq: int | None = None, error: str | None = None, error_code: str | None = None) -> int:
    """Keep one scanned code and what it did (linked to its notice where the ledger has one); returns its id."""
    ledger.require_transaction()
    target = notice_at(ledger, batch_id, seq) if batch_id is not None and seq is not None else None
    return ledger.db.insert(
        "INSERT INTO captures (notice_row, batch_id, seq, channel, source, page, payload, verified, outcome, error,"
        " error_code, captured_at, actor) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (target.id if target else None, batch_id, seq, Channel(channel).value, source, page, payload, int(verified),
         CaptureOutcome(outcome).value, error, error_code, now(), actor))


def capture(ledger: Ledger, capture_id: int) -> CaptureRow | None:
    """One capture, or None."""
    row = ledger.db.execute("SELECT * FROM captures WHERE id = ?", (capture_id,)).fetchone()
    return CaptureRow.of(row) if row else None


def captures_of(ledger: Ledger, pk: int) -> list[CaptureRow]:
    """Every capture of a notice, newest first."""
    return [CaptureRow.of(r) for r in
            ledger.db.execute("SELECT * FROM captures WHERE notice_row = ? ORDER BY id DESC", (pk,))]


def attach_capture(ledger: Ledger, capture_id: int, pk: int) -> None:
    """Link a capture to the notice it became (a reviewer accepted it)."""
    ledger.require_transaction()
    ledger.db.execute("UPDATE captures SET notice_row = ? WHERE id = ?", (pk, capture_id))


# -- typed entries --------------------------------------------------------------------------------------


def add_entry(ledger: Ledger, pk: int, round_: EntryRound, values: Mapping[str, Any] | str, clerk: str,
              check_code: str | None = None, printed: Sequence[str] = ()) -> None:
    """Keep one typed entry: a whole canonical record (JSON text, rounds 1–2) or re-keyed items (rounds 3–4);
    `printed`: the items of a first entry proven from the sheet's printed text."""
    ledger.require_transaction()
    text = values if isinstance(values, str) else json.dumps(dict(values), ensure_ascii=False)
    ledger.db.execute("INSERT INTO entries (notice_row, round, record_json, check_code, clerk, entered_at, printed)"
                      " VALUES (?,?,?,?,?,?,?)", (pk, int(round_), text, check_code, clerk, now(),
                                                   json.dumps(list(printed)) if printed else None))


def entries(ledger: Ledger, pk: int, round_: EntryRound) -> list[EntryRow]:
    """A notice's entries of one round, oldest first."""
    return [EntryRow.of(r) for r in ledger.db.execute(
        "SELECT * FROM entries WHERE notice_row = ? AND round = ? ORDER BY id", (pk, int(round_)))]


def latest_entry(ledger: Ledger, pk: int, round_: EntryRound) -> EntryRow | None:
    """A notice's latest entry of one round, or None."""
    found = entries(ledger, pk, round_)
    return found[-1] if found else None


# -- exports and erasure ----------------------------------------------------------------------------------


def add_export(ledger: Ledger, batch_id: str, fmt: str, file_name: str, sha256: str, clerk: str) -> None:
    """Record that a batch was written to an export file."""
    ledger.require_transaction()
    ledger.db.execute("INSERT INTO exports (batch_id, format, file_name, sha256, exported_at, clerk)"
                      " VALUES (?,?,?,?,?,?)", (batch_id, fmt, file_name, sha256, now(), clerk))


def mark_exported(ledger: Ledger, pks: list[int]) -> None:
    """Note the first export of these notices (a later export of the same notice keeps the first time)."""
    ledger.require_transaction()
    at = now()
    for pk in pks:
        ledger.db.execute("UPDATE notices SET exported_at = ? WHERE id = ? AND exported_at IS NULL", (at, pk))


def erase_batch(ledger: Ledger, batch_id: str) -> tuple[int, list[int]]:
    """Erase a batch's personal data – records, typed entries, QR payloads, held notices' text as received – keeping the facts.

    Returns how many notices it had and the ids of its captures (whose snapshot files the caller removes).
    """
    ledger.require_transaction()
    ids = [int(r["id"]) for r in ledger.db.execute("SELECT id FROM notices WHERE batch_id = ?", (batch_id,))]
    marks = ",".join("?" * len(ids)) or "NULL"
    ledger.db.execute(f"UPDATE entries SET record_json = '{{}}', check_code = NULL WHERE notice_row IN ({marks})", ids)
    captures = [int(r["id"]) for r in ledger.db.execute(
        f"SELECT id FROM captures WHERE batch_id = ? OR notice_row IN ({marks})", (batch_id, *ids))]
    ledger.db.execute(f"UPDATE captures SET payload = NULL WHERE batch_id = ? OR notice_row IN ({marks})",
                      (batch_id, *ids))
    ledger.db.execute(f"UPDATE holds SET raw_record = NULL WHERE notice_row IN ({marks})", ids)
    ledger.db.execute("UPDATE notices SET record_json = NULL WHERE batch_id = ?", (batch_id,))
    ledger.db.execute("UPDATE batches SET erased_at = ? WHERE batch_id = ?", (now(), batch_id))
    return len(ids), captures


# -- holds: one notice held with its reason, the rest of its batch goes on -------------------------------


def hold_notice(ledger: Ledger, batch_id: str, seq: int, reason_code: str, params: Mapping[str, Any], actor: str, *,
                notice_id: str | None = None, record: Notice | None = None, raw_record: str | None = None) -> int:
    """A new notice that arrives held (保留) with its reason; returns its row id.

    `record` is its canonical record when it has one (e.g. addressed to another municipality); `raw_record`
    the text as received when it could not be read as a notice (kept for correcting it, erased with the batch).
    """
    ledger.require_transaction()
    pk = add_notice(ledger, batch_id, seq, NoticeState.HELD, notice_id=notice_id, record=record,
                    verified=record is not None)
    _add_hold(ledger, pk, reason_code, params, actor, raw_record)
    return pk


def hold_existing(ledger: Ledger, pk: int, reason_code: str, params: Mapping[str, Any], actor: str) -> None:
    """Hold a notice the ledger already has in a state a hold may follow (IllegalTransition otherwise)."""
    ledger.require_transaction()
    move_notice(ledger, pk, NoticeState.HELD)
    _add_hold(ledger, pk, reason_code, params, actor, None)


def _add_hold(ledger: Ledger, pk: int, reason_code: str, params: Mapping[str, Any], actor: str,
              raw_record: str | None) -> None:
    ledger.db.execute("INSERT INTO holds (notice_row, reason_code, params, raw_record, held_at, held_by)"
                      " VALUES (?,?,?,?,?,?)", (pk, reason_code, json.dumps(dict(params), ensure_ascii=False,
                                                                             default=str, sort_keys=True),
                                                raw_record, now(), actor))


def open_hold(ledger: Ledger, pk: int) -> HoldRow | None:
    """A notice's hold that is not released yet, or None."""
    row = ledger.db.execute("SELECT h.*, n.batch_id, n.seq, n.notice_id FROM holds h JOIN notices n"
                            " ON n.id = h.notice_row WHERE h.notice_row = ? AND h.released_at IS NULL"
                            " ORDER BY h.id DESC LIMIT 1", (pk,)).fetchone()
    return HoldRow.of(row) if row else None


def release_hold(ledger: Ledger, pk: int, actor: str, note: str, *, record: Notice | None = None,
                 keep_record: bool = False) -> NoticeRow:
    """Release a held notice: with a corrected `record` (or `keep_record`, its own verified record) it becomes
    確認済, without one 未着 (paper: to be read or typed again). The hold keeps who released it, when and why."""
    ledger.require_transaction()
    ledger.db.execute("UPDATE holds SET released_at = ?, released_by = ?, release_note = ?"
                      " WHERE notice_row = ? AND released_at IS NULL", (now(), actor, note, pk))
    if keep_record:
        return move_notice(ledger, pk, NoticeState.CONFIRMED)
    if record is None:
        ledger.db.execute("UPDATE notices SET verified = 0, record_json = NULL, digest = NULL WHERE id = ?", (pk,))
        return move_notice(ledger, pk, NoticeState.MISSING)
    return move_notice(ledger, pk, NoticeState.CONFIRMED, record=record)


# -- the sending side's outbox and the receipts of both sides ------------------------------------------------


def add_outbox(ledger: Ledger, batch_id: str, transport: Transport, total: int, clerk: str, *, seq: int | None,
               notice_id: str | None, line: int | None = None, state: OutboxState = OutboxState.SENT,
               reason_code: str | None = None, params: Mapping[str, Any] | None = None) -> None:
    """Record one notice the sending side printed, sent or bundled (seq n of N) – or held here (no seq)."""
    ledger.require_transaction()
    ledger.db.execute(
        "INSERT INTO outbox (batch_id, seq, total, notice_id, line, transport, state, reason_code, params, at, clerk)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (batch_id, seq, total, notice_id, line, transport.value, state.value, reason_code,
         json.dumps(dict(params), ensure_ascii=False, default=str, sort_keys=True) if params is not None else None,
         now(), clerk))


def outbox_of(ledger: Ledger, batch_id: str) -> list[OutboxRow]:
    """The sending side's rows of one batch: sent notices in n/N order, then those held here."""
    return [OutboxRow.of(r) for r in ledger.db.execute(
        "SELECT * FROM outbox WHERE batch_id = ? ORDER BY seq IS NULL, seq, id", (batch_id,))]


def acknowledge(ledger: Ledger, batch_id: str, seq: int, status: ReceiptStatus, reason: str | None, at: str) -> None:
    """Keep what a receipt says of notice n of a sent batch (a later receipt replaces an earlier one)."""
    ledger.require_transaction()
    ledger.db.execute("UPDATE outbox SET ack = ?, ack_reason = ?, ack_at = ? WHERE batch_id = ? AND seq = ?"
                      " AND (ack_at IS NULL OR ack_at <= ?)", (status.value, reason, at, batch_id, seq, at))


def add_receipt(ledger: Ledger, batch_id: str, direction: MediaDirection, issued: str, sha256: str, key_id: str,
                via: str, clerk: str) -> None:
    """Record a receipt issued here (out) or imported here (in)."""
    ledger.require_transaction()
    ledger.db.execute("INSERT INTO receipts (batch_id, direction, issued, sha256, key_id, via, at, clerk)"
                      " VALUES (?,?,?,?,?,?,?,?)", (batch_id, direction.value, issued, sha256, key_id, via, now(),
                                                    clerk))


def receipt_seen(ledger: Ledger, sha256: str) -> bool:
    """Whether a receipt with exactly these bytes was imported before."""
    return ledger.db.execute("SELECT 1 FROM receipts WHERE sha256 = ? AND direction = ?",
                             (sha256, MediaDirection.IN.value)).fetchone() is not None
