"""Keeping the ledger safe over time: verified backups, and erasure of personal data after retention.

`backup` copies the live ledger with SQLite's online backup API (consistent even while the entry screen
is writing), then reopens the copy and checks its integrity, schema and audit chain before calling it good;
a PostgreSQL ledger is dumped with `pg_dump` (one consistent snapshot) and the archive read back whole and its
audit chain checked (`ledger/pgdump.py`). `FILE.manifest.json` beside it records what it holds and the audit
log's anchor.
`erase_expired` removes the personal data of batches exported more than `retention.days` ago – records,
typed entries, QR payloads, camera snapshots and exported copies in the data directory – and keeps the
facts: which notice (batch, n/N, notice id), when and by whom it was captured, verified and exported. The
erasure itself is audited. It also removes printed-text readings kept more than a day (`printedkeep`).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperlink import printedkeep, safefs
from paperlink.errors import PaperlinkError
from paperlink.ledger import Ledger, LedgerError, pgdump, store, views
from paperlink.ledger.anchors import MANIFEST_SUFFIX, write_manifest

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
    """Copy the ledger to `target` and verify the copy: a SQLite file by the online backup API, reopened and
    checked; a PostgreSQL ledger by pg_dump, its archive read back whole and its audit chain checked."""
    path = Path(target)
    if path.exists():
        raise BackupError("backup_exists", path=path)
    partial = path.with_name(path.name + ".part")
    # anchored before the copy is taken: the copy holds the anchored entry, so the anchor checks the live
    # ledger now and the restored ledger after a restore alike
    anchor = ledger.anchor("backup", path.name) if ledger.anchors is not None else None
    try:
        partial.unlink(missing_ok=True)  # left by a killed backup (a link is removed, never followed)
        os.close(safefs.open_new(partial, 0o600))  # owner-only from the start: it holds password hashes
        if ledger.backend == "postgresql":
            checked = _dump(ledger, partial)
        else:
            ledger.backup_to(partial)
            checked = _verify_copy(partial)
        partial.rename(path)
    except (sqlite3.Error, OSError, LedgerError, BackupError) as exc:
        for leftover in (partial, partial.with_name(partial.name + "-wal"), partial.with_name(partial.name + "-shm")):
            leftover.unlink(missing_ok=True)
        raise BackupError("backup_failed", path=path, detail=exc) from None
    with ledger.transaction():
        ledger.audit(actor, "backup.written", path.name, notices=checked.notices, audit_entries=checked.audit_entries)
    facts: dict[str, Any] = {"backup": path.name, "schema_version": checked.schema_version, "notices": checked.notices,
                             "audit_entries_in_backup": checked.audit_entries}
    if ledger.backend == "postgresql":
        facts.update(format="pg_dump custom", restore="pg_restore --no-owner --dbname=URL-of-an-empty-database "
                     f"{path.name}; then paperlink --ledger URL audit verify --anchor {path.name}{MANIFEST_SUFFIX}")
    if anchor is not None:
        facts["audit_anchor"] = anchor.as_dict()
    try:
        write_manifest(path, facts)
    except OSError as exc:
        raise BackupError("backup_failed", path=path, detail=exc) from None
    return BackupResult(path, checked.schema_version, checked.notices, checked.audit_entries)


def _dump(ledger: Ledger, partial: Path) -> BackupResult:
    """A PostgreSQL ledger's pg_dump archive, read back whole and its audit chain checked."""
    assert ledger.url is not None
    pgdump.dump(ledger.url, partial)
    facts = pgdump.verify(partial)
    return BackupResult(partial, facts.schema_version, facts.notices, facts.audit_entries)


def _verify_copy(path: Path) -> BackupResult:
    with Ledger(path) as copy:
        integrity = copy.integrity()
        if integrity != "ok":
            raise BackupError("backup_integrity", detail=integrity)
        broken = copy.verify_audit()
        if broken is not None:
            raise BackupError("backup_chain_broken", entry=broken)
        notices = copy.count("notices")
        entries = copy.audit_count()
        copy.checkpoint()
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
    held: tuple[Path, ...] = ()
    """Files of erased batches that could not be deleted (held open by another program): tried again next run."""


def expired_batches(ledger: Ledger, today: dt.date | None = None) -> list[str]:
    """Exported batches whose last export is older than the retention period and not yet erased."""
    cutoff = (today or dt.date.today()) - dt.timedelta(days=retention_days(ledger))
    return [batch_id for batch_id, last in views.last_exports(ledger) if dt.date.fromisoformat(last[:10]) < cutoff]


def erase_expired(ledger: Ledger, home_root: Path, actor: str, today: dt.date | None = None) -> ErasureResult:
    """Erase the personal data of every expired batch (see the module docstring); one transaction per batch.

    Then every file of every erased batch still in the data directory – this run's, and any an earlier run
    could not delete because another program held it open – is deleted, each retried for a while; what is
    still held is returned in `held` (and tried again by the next run), never forgotten.
    """
    erased: list[str] = []
    notices = 0
    for batch_id in expired_batches(ledger, today):
        with ledger.transaction():
            count, _captures = store.erase_batch(ledger, batch_id)
            ledger.audit(actor, "retention.erased", batch_id, notices=count, retention_days=retention_days(ledger))
        erased.append(batch_id)
        notices += count
    if erased:
        ledger.checkpoint()  # no copy of the erased rows left in the WAL file
    files, held = _delete_erased_files(ledger, home_root)
    printedkeep.sweep(printedkeep.folder_of(home_root))  # printed-text readings older than a day
    return ErasureResult(tuple(erased), notices, files, tuple(held))


def _delete_erased_files(ledger: Ledger, home_root: Path) -> tuple[int, list[Path]]:
    """Delete the snapshots and exported copies of erased batches still present: (deleted, still held)."""
    leftovers = [home_root / "captures" / f"{capture_id}.jpg" for capture_id in views.erased_capture_ids(ledger)]
    leftovers += [home_root / "exports" / name for name in sorted(views.export_file_names(ledger))
                  if views.export_file_erased(ledger, name)]
    deleted, held = 0, []
    for path in leftovers:
        if not os.path.lexists(path):
            continue
        try:
            safefs.retry(path.unlink)
        except PermissionError:
            held.append(path)
            continue
        except FileNotFoundError:
            continue
        deleted += 1
    return deleted, held
