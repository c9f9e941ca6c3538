"""Two registers kept beside the notices: the scan folder's files (each read once) and the media register."""

from __future__ import annotations

from dataclasses import dataclass

from paperlink.ledger.connection import Ledger, now
from paperlink.ledger.schema import MediaDirection, ScanFileOutcome


@dataclass(frozen=True)
class ScannedFile:
    """A file of the scan folder that was processed: its hash, what became of it, and when."""

    sha256: str
    name: str
    outcome: ScanFileOutcome
    processed_at: str
    reason: str | None


def scanned_file(ledger: Ledger, sha256: str) -> ScannedFile | None:
    """The scan-folder file with this SHA-256 if it was processed before."""
    r = ledger.db.execute("SELECT * FROM scanned_files WHERE sha256 = ?", (sha256,)).fetchone()
    return ScannedFile(r["sha256"], r["name"], ScanFileOutcome(r["outcome"]), r["processed_at"], r["reason"]) if r else None


def add_scanned_file(ledger: Ledger, sha256: str, name: str, size: int, outcome: ScanFileOutcome,
                     reason: str | None) -> None:
    """Record that a scan-folder file was processed (in the transaction that recorded its pages)."""
    ledger.require_transaction()
    ledger.db.execute("INSERT INTO scanned_files (sha256, name, size, processed_at, outcome, reason)"
                      " VALUES (?,?,?,?,?,?)", (sha256, name, size, now(), outcome.value, reason))


@dataclass(frozen=True)
class MediaRecord:
    """One line of the media register: a USB bundle written here or read here."""

    batch_id: str
    direction: MediaDirection
    bundle_name: str
    bundle_sha256: str
    count: int
    clerk: str
    at: str


def add_media_record(ledger: Ledger, batch_id: str, direction: MediaDirection, bundle_name: str, bundle_sha256: str,
                     count: int, clerk: str) -> None:
    """Enter a bundle in the media register (in the transaction of the write or the import)."""
    ledger.require_transaction()
    ledger.db.execute("INSERT INTO media_register (batch_id, direction, bundle_name, bundle_sha256, count, clerk, at)"
                      " VALUES (?,?,?,?,?,?,?)", (batch_id, direction.value, bundle_name, bundle_sha256, count, clerk,
                                                  now()))


def media_records(ledger: Ledger) -> list[MediaRecord]:
    """Every bundle written or read on this PC, oldest first."""
    return [MediaRecord(r["batch_id"], MediaDirection(r["direction"]), r["bundle_name"], r["bundle_sha256"],
                        r["count"], r["clerk"], r["at"])
            for r in ledger.db.execute("SELECT * FROM media_register ORDER BY id")]
