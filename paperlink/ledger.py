"""The ledger: one SQLite database in the data directory that owns every write of paperlink's state.

SQLite is opened with WAL, foreign keys on and a busy timeout; every logical write runs inside one
`BEGIN IMMEDIATE` transaction (`Ledger.transaction()`), so it either completes or leaves nothing. Schema
changes are numbered migrations applied in order and recorded in `PRAGMA user_version`. The audit log is
append-only and hash-chained: each entry's hash covers the previous entry's hash and its own content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperlink.errors import PaperlinkError


class LedgerError(PaperlinkError):
    """The ledger cannot be opened or is from a newer paperlink."""


MIGRATIONS: tuple[str, ...] = (
    # 1: batches, notices, captures, scanned files, the audit log
    """
    CREATE TABLE batches (
        batch_id TEXT PRIMARY KEY,
        transport TEXT NOT NULL CHECK (transport IN ('paper', 'line', 'media')),
        total INTEGER NOT NULL CHECK (total >= 0),
        key_id TEXT,
        registered_at TEXT NOT NULL,
        registered_by TEXT NOT NULL,
        manifest_seen INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        batch_id TEXT NOT NULL REFERENCES batches(batch_id),
        seq INTEGER NOT NULL CHECK (seq >= 1),
        notice_id TEXT,
        manifest_hash BLOB,
        record_json TEXT,
        digest BLOB,
        state TEXT NOT NULL DEFAULT 'missing'
            CHECK (state IN ('missing', 'decoded', 'confirmed', 'first_entry', 'mismatch', 'done')),
        verified INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        UNIQUE (batch_id, seq),
        UNIQUE (batch_id, notice_id)
    );
    CREATE TABLE captures (
        id INTEGER PRIMARY KEY,
        notice_row INTEGER REFERENCES notices(id),
        batch_id TEXT,
        seq INTEGER,
        channel TEXT NOT NULL CHECK (channel IN ('file', 'folder', 'webcam', 'wedge', 'line', 'media')),
        source TEXT NOT NULL,
        page INTEGER NOT NULL,
        payload TEXT,
        verified INTEGER NOT NULL DEFAULT 0,
        outcome TEXT NOT NULL,
        error TEXT,
        captured_at TEXT NOT NULL,
        actor TEXT NOT NULL
    );
    CREATE INDEX captures_by_notice ON captures(notice_row);
    CREATE TABLE scanned_files (
        sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        processed_at TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('done', 'failed')),
        reason TEXT
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 2: clerks, double entries, verifications, exports, settings
    """
    CREATE TABLE users (
        login TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        roles TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    );
    CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        notice_row INTEGER NOT NULL REFERENCES notices(id),
        round INTEGER NOT NULL CHECK (round IN (1, 2, 3, 4)),
        record_json TEXT NOT NULL,
        check_code TEXT,
        clerk TEXT NOT NULL,
        entered_at TEXT NOT NULL
    );
    CREATE INDEX entries_by_notice ON entries(notice_row);
    CREATE TABLE verifications (
        id INTEGER PRIMARY KEY,
        notice_row INTEGER NOT NULL UNIQUE REFERENCES notices(id),
        method TEXT NOT NULL CHECK (method IN ('qr', 'double_entry', 'override', 'line', 'media')),
        entered_by TEXT,
        verified_by TEXT NOT NULL,
        verified_at TEXT NOT NULL,
        reason TEXT
    );
    CREATE TABLE exports (
        id INTEGER PRIMARY KEY,
        batch_id TEXT NOT NULL REFERENCES batches(batch_id),
        format TEXT NOT NULL,
        file_name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        exported_at TEXT NOT NULL,
        clerk TEXT NOT NULL
    );
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 3: batches delivered by line or media, and the media register
    """
    ALTER TABLE batches ADD COLUMN data_sha256 TEXT;
    CREATE TABLE media_register (
        id INTEGER PRIMARY KEY,
        batch_id TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
        bundle_name TEXT NOT NULL,
        bundle_sha256 TEXT NOT NULL,
        count INTEGER NOT NULL,
        clerk TEXT NOT NULL,
        at TEXT NOT NULL
    );
    """,
    # 4: erasure of personal data after the retention period
    """
    ALTER TABLE batches ADD COLUMN erased_at TEXT;
    """,
)

GENESIS = "0" * 64


def now() -> str:
    """The current time as an ISO timestamp (UTC, seconds)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class AuditEntry:
    """One audit log entry."""

    id: int
    at: str
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


def entry_hash(prev_hash: str, at: str, actor: str, action: str, subject: str, detail_json: str) -> str:
    """The chained hash of an audit entry."""
    material = "\x1f".join((prev_hash, at, actor, action, subject, detail_json))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class Ledger:
    """The SQLite ledger of one data directory. Use as a context manager or call close()."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=10, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA secure_delete=ON")  # erased personal data is overwritten, not left in free pages
            self._migrate()
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open the ledger {self.path}: {exc}") from None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise LedgerError(f"{self.path} was written by a newer paperlink (schema {version}); update paperlink")
        for number in range(version, len(MIGRATIONS)):
            with self.transaction():
                for statement in _statements(MIGRATIONS[number]):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number + 1}")

    @property
    def schema_version(self) -> int:
        """The applied migration count."""
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on any exception)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- audit ----------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, subject: str, **detail: Any) -> None:
        """Append an audit entry; call inside the transaction of the change it records."""
        if not self.db.in_transaction:
            raise LedgerError("audit entries are written inside the transaction of their change")
        row = self.db.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        prev = row["hash"] if row else GENESIS
        at = now()
        detail_json = json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        digest = entry_hash(prev, at, actor, action, subject, detail_json)
        self.db.execute("INSERT INTO audit (at, actor, action, subject, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?)",
                        (at, actor, action, subject, detail_json, prev, digest))

    def audit_entries(self, subject: str | None = None) -> list[AuditEntry]:
        """Audit entries in order (all, or those of one subject)."""
        sql = "SELECT * FROM audit" + (" WHERE subject = ?" if subject else "") + " ORDER BY id"
        rows = self.db.execute(sql, (subject,) if subject else ()).fetchall()
        return [AuditEntry(r["id"], r["at"], r["actor"], r["action"], r["subject"], json.loads(r["detail"]),
                           r["prev_hash"], r["hash"]) for r in rows]

    def verify_audit(self) -> int | None:
        """The id of the first audit entry whose chain is broken, or None when the whole chain holds."""
        prev = GENESIS
        for r in self.db.execute("SELECT * FROM audit ORDER BY id"):
            expected = entry_hash(prev, r["at"], r["actor"], r["action"], r["subject"], r["detail"])
            if r["prev_hash"] != prev or r["hash"] != expected:
                return int(r["id"])
            prev = r["hash"]
        return None

    # -- settings -------------------------------------------------------------------------------

    def setting(self, key: str, default: str | None = None) -> str | None:
        """An office setting (None or `default` when unset)."""
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row["value"]) if row else default

    def set_setting(self, key: str, value: str, actor: str) -> None:
        """Change an office setting (audited, in its own transaction)."""
        with self.transaction():
            self.db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                            (key, value, value))
            self.audit(actor, "setting.changed", key, value=value)

    # -- reads ----------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of a read query."""
        return self.db.execute(sql, params).fetchall()


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (triggers keep their inner semicolons)."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        joined = "\n".join(current).strip()
        if joined.endswith(";") and sqlite3.complete_statement(joined):
            statements.append(joined)
            current = []
    if "\n".join(current).strip():
        statements.append("\n".join(current).strip())
    return statements

