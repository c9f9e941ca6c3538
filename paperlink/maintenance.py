"""Keeping the ledger safe over time: verified backups, and erasure of personal data after retention.

`backup` copies the live ledger with SQLite's online backup API (consistent even while the entry screen
is writing), then reopens the copy and checks its integrity, schema and audit chain before calling it good.
`erase_expired` removes the personal data of batches exported more than `retention.days` ago – records,
typed entries, QR payloads, camera snapshots and exported copies in the data directory – and keeps the
facts: which notice (batch, n/N, notice id), when and by whom it was captured, verified and exported. The
erasure itself is audited.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from paperlink.errors import PaperlinkError
from paperlink.ledger import Ledger, LedgerError, now

RETENTION_SETTING = "retention.days"
DEFAULT_RETENTION_DAYS = 90


class BackupError(PaperlinkError):
    """A backup could not be written or did not verify."""


@dataclass(frozen=True)
class BackupResult:
    """A verified backup."""

    path: Path
    schema_version: int
    notices: int
    audit_entries: int


def backup(ledger: Ledger, target: str | Path, actor: str) -> BackupResult:
    """Copy the ledger to `target` (online backup) and verify the copy by reopening it."""
    path = Path(target)
    if path.exists():
        raise BackupError(f"{path} exists already; choose a new file name")
    partial = path.with_name(path.name + ".part")
    try:
        destination = sqlite3.connect(partial)
        with destination:
            ledger.db.backup(destination)
        destination.close()
        checked = _verify_copy(partial)
        partial.rename(path)
    except (sqlite3.Error, OSError, LedgerError, BackupError) as exc:
        for leftover in (partial, partial.with_name(partial.name + "-wal"), partial.with_name(partial.name + "-shm")):
            leftover.unlink(missing_ok=True)
        raise BackupError(f"backup to {path} failed: {exc}") from None
    with ledger.transaction():
        ledger.audit(actor, "backup.written", path.name, notices=checked.notices, audit_entries=checked.audit_entries)
    return BackupResult(path, checked.schema_version, checked.notices, checked.audit_entries)


def _verify_copy(path: Path) -> BackupResult:
    with Ledger(path) as copy:
        integrity = copy.query("PRAGMA integrity_check")[0][0]
        if integrity != "ok":
            raise BackupError(f"the copy fails SQLite's integrity check: {integrity}")
        broken = copy.verify_audit()
        if broken is not None:
            raise BackupError(f"the copy's audit chain is broken at entry {broken}")
        notices = int(copy.query("SELECT COUNT(*) FROM notices")[0][0])
        entries = int(copy.query("SELECT COUNT(*) FROM audit")[0][0])
        copy.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return BackupResult(path, copy.schema_version, notices, entries)


def retention_days(ledger: Ledger) -> int:
    """The retention period in days (setting `retention.days`, default 90)."""
    return int(ledger.setting(RETENTION_SETTING, str(DEFAULT_RETENTION_DAYS)) or DEFAULT_RETENTION_DAYS)


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure run did."""

    batches: tuple[str, ...]
    notices: int
    files: int


def expired_batches(ledger: Ledger, today: dt.date | None = None) -> list[str]:
    """Exported batches whose last export is older than the retention period and not yet erased."""
    cutoff = (today or dt.date.today()) - dt.timedelta(days=retention_days(ledger))
    rows = ledger.query("SELECT b.batch_id, MAX(e.exported_at) AS last FROM batches b JOIN exports e"
                        " ON e.batch_id = b.batch_id WHERE b.erased_at IS NULL GROUP BY b.batch_id ORDER BY last")
    return [r["batch_id"] for r in rows if dt.date.fromisoformat(r["last"][:10]) < cutoff]


def erase_expired(ledger: Ledger, home_root: Path, actor: str, today: dt.date | None = None) -> ErasureResult:
    """Erase the personal data of every expired batch (see the module docstring); one transaction per batch."""
    erased: list[str] = []
    notices = files = 0
    for batch_id in expired_batches(ledger, today):
        with ledger.transaction():
            rows = ledger.query("SELECT id FROM notices WHERE batch_id = ?", (batch_id,))
            ids = [r["id"] for r in rows]
            marks = ",".join("?" * len(ids)) or "NULL"
            ledger.db.execute(f"UPDATE entries SET record_json = '{{}}', check_code = NULL WHERE notice_row IN ({marks})", ids)
            captures = ledger.query(f"SELECT id FROM captures WHERE batch_id = ? OR notice_row IN ({marks})",
                                    (batch_id, *ids))
            ledger.db.execute(f"UPDATE captures SET payload = NULL WHERE batch_id = ? OR notice_row IN ({marks})",
                              (batch_id, *ids))
            ledger.db.execute("UPDATE notices SET record_json = NULL WHERE batch_id = ?", (batch_id,))
            ledger.db.execute("UPDATE batches SET erased_at = ? WHERE batch_id = ?", (now(), batch_id))
            ledger.audit(actor, "retention.erased", batch_id, notices=len(ids), retention_days=retention_days(ledger))
        for capture in captures:
            snapshot = home_root / "captures" / f"{capture['id']}.jpg"
            if snapshot.exists():
                snapshot.unlink()
                files += 1
        for export_row in ledger.query("SELECT file_name FROM exports WHERE batch_id = ?", (batch_id,)):
            copy = home_root / "exports" / export_row["file_name"]
            if copy.exists() and _only_erased_batches(ledger, export_row["file_name"]):
                copy.unlink()
                files += 1
        erased.append(batch_id)
        notices += len(ids)
    if erased:
        ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no copy of the erased rows left in the WAL file
    return ErasureResult(tuple(erased), notices, files)


def _only_erased_batches(ledger: Ledger, file_name: str) -> bool:
    rows = ledger.query("SELECT b.erased_at FROM exports e JOIN batches b ON b.batch_id = e.batch_id"
                        " WHERE e.file_name = ?", (file_name,))
    return all(r["erased_at"] for r in rows)
