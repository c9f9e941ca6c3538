"""What the ledger hands out: frozen rows, so no caller holds a live cursor or a sqlite3.Row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paperlink.ledger.schema import (
    Channel,
    EntryRound,
    NoticeState,
    OutboxState,
    ReceiptStatus,
    Transport,
    VerificationMethod,
)

if TYPE_CHECKING:
    from paperlink.ledger.dialect import Row


@dataclass(frozen=True)
class BatchRow:
    """A batch: how it came, how many notices it has, and whether its manifest was seen."""

    batch_id: str
    transport: Transport
    total: int
    key_id: str | None
    registered_at: str
    registered_by: str
    manifest_seen: bool
    data_sha256: str | None
    erased_at: str | None

    @property
    def manual(self) -> bool:
        """A batch of paper without a code (typed from a printout of another system): no signing key."""
        return self.key_id is None

    @classmethod
    def of(cls, r: Row) -> BatchRow:
        """The row as read from `batches`."""
        return cls(r["batch_id"], Transport(r["transport"]), int(r["total"]), r["key_id"], r["registered_at"],
                   r["registered_by"], bool(r["manifest_seen"]), r["data_sha256"], r["erased_at"])


@dataclass(frozen=True)
class NoticeRow:
    """A notice of a batch: its position, what the cover listed, its record (once read or typed) and state."""

    id: int
    batch_id: str
    seq: int
    notice_id: str | None
    manifest_hash: bytes | None
    record_json: str | None
    digest: bytes | None
    state: NoticeState
    verified: bool
    updated_at: str
    exported_at: str | None = None
    """When its record was first written to an export file (None: not yet)."""

    @property
    def listed(self) -> bool:
        """Whether a cover sheet's manifest listed this notice (its id and short hash are known)."""
        return self.manifest_hash is not None

    def record(self) -> dict[str, Any] | None:
        """The canonical record as a dict (None before anything was read or typed, or after erasure)."""
        return json.loads(self.record_json) if self.record_json else None

    @classmethod
    def of(cls, r: Row) -> NoticeRow:
        """The row as read from `notices`."""
        return cls(int(r["id"]), r["batch_id"], int(r["seq"]), r["notice_id"],
                   bytes(r["manifest_hash"]) if r["manifest_hash"] is not None else None, r["record_json"],
                   bytes(r["digest"]) if r["digest"] is not None else None, NoticeState(r["state"]),
                   bool(r["verified"]), r["updated_at"], r["exported_at"])


@dataclass(frozen=True)
class CaptureRow:
    """One scanned code as it was recorded: where it came from, what it did, and why it was not accepted."""

    id: int
    notice_pk: int | None
    batch_id: str | None
    seq: int | None
    channel: Channel
    source: str
    page: int
    payload: str | None
    verified: bool
    outcome: str
    error: str | None
    error_code: str | None
    captured_at: str
    actor: str

    @classmethod
    def of(cls, r: Row) -> CaptureRow:
        """The row as read from `captures`."""
        return cls(int(r["id"]), r["notice_row"], r["batch_id"], r["seq"], Channel(r["channel"]), r["source"],
                   int(r["page"]), r["payload"], bool(r["verified"]), r["outcome"], r["error"], r["error_code"],
                   r["captured_at"], r["actor"])


@dataclass(frozen=True)
class EntryRow:
    """One typed entry (or re-keyed items) of a notice."""

    id: int
    notice_pk: int
    round: EntryRound
    record_json: str
    check_code: str | None
    clerk: str
    entered_at: str
    printed: tuple[str, ...] = ()
    """Items of a first entry proven from the sheet's printed text (not typed: the second entry skips them)."""

    def values(self) -> dict[str, Any]:
        """The typed canonical record (rounds 1 and 2) or the re-keyed items (rounds 3 and 4)."""
        value: dict[str, Any] = json.loads(self.record_json)
        return value

    @classmethod
    def of(cls, r: Row) -> EntryRow:
        """The row as read from `entries`."""
        printed = r["printed"]
        return cls(int(r["id"]), int(r["notice_row"]), EntryRound(r["round"]), r["record_json"], r["check_code"],
                   r["clerk"], r["entered_at"], tuple(json.loads(printed)) if printed else ())


@dataclass(frozen=True)
class VerificationRow:
    """How, by whom and when a notice's record was verified."""

    notice_pk: int
    method: VerificationMethod
    entered_by: str | None
    verified_by: str
    verified_at: str
    reason: str | None

    @classmethod
    def of(cls, r: Row) -> VerificationRow:
        """The row as read from `verifications`."""
        return cls(int(r["notice_row"]), VerificationMethod(r["method"]), r["entered_by"], r["verified_by"],
                   r["verified_at"], r["reason"])


@dataclass(frozen=True)
class ExportRow:
    """One batch written to one export file."""

    id: int
    batch_id: str
    format: str
    file_name: str
    sha256: str
    exported_at: str
    clerk: str

    @classmethod
    def of(cls, r: Row) -> ExportRow:
        """The row as read from `exports`."""
        return cls(int(r["id"]), r["batch_id"], r["format"], r["file_name"], r["sha256"], r["exported_at"],
                   r["clerk"])


@dataclass(frozen=True)
class HoldRow:
    """A notice held with its reason (a message code and its parameters), and its release once corrected."""

    id: int
    notice_pk: int
    batch_id: str
    seq: int
    notice_id: str | None
    reason_code: str
    params: dict[str, Any]
    raw_record: str | None
    held_at: str
    held_by: str
    released_at: str | None
    released_by: str | None
    release_note: str | None

    @classmethod
    def of(cls, r: Row) -> HoldRow:
        """The row as read from `holds` joined with its notice."""
        return cls(int(r["id"]), int(r["notice_row"]), r["batch_id"], int(r["seq"]), r["notice_id"], r["reason_code"],
                   json.loads(r["params"]), r["raw_record"], r["held_at"], r["held_by"], r["released_at"],
                   r["released_by"], r["release_note"])


@dataclass(frozen=True)
class OutboxRow:
    """One notice the sending side printed, sent or bundled (or held here), and what its receipt said."""

    batch_id: str
    seq: int | None
    total: int
    notice_id: str | None
    line: int | None
    transport: Transport
    state: OutboxState
    reason_code: str | None
    params: dict[str, Any]
    at: str
    ack: ReceiptStatus | None
    ack_reason: str | None
    ack_at: str | None

    @classmethod
    def of(cls, r: Row) -> OutboxRow:
        """The row as read from `outbox`."""
        return cls(r["batch_id"], r["seq"], int(r["total"]), r["notice_id"], r["line"], Transport(r["transport"]),
                   OutboxState(r["state"]), r["reason_code"], json.loads(r["params"]) if r["params"] else {}, r["at"],
                   ReceiptStatus(r["ack"]) if r["ack"] else None, r["ack_reason"], r["ack_at"])
