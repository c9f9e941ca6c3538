"""What an attacker with the ledger's database itself can do, on either backend (the tests' tampering helper).

The ledger of a data directory is opened without paperlink's `Ledger` (no migrations, no anchoring, no audit):
`tamper(home, sql…)` drops the append-only triggers and runs statements; `rechain(home)` recomputes every hash
after an edit; `dump(home)` is everything the database holds, as text.
"""

from __future__ import annotations

from pathlib import Path

from paperlink.home import Home
from paperlink.ledger import GENESIS, entry_hash
from paperlink.ledger.dialect import Db, connect

TABLES = ("batches", "notices", "captures", "scanned_files", "audit", "users", "entries", "verifications", "exports",
          "settings", "media_register", "holds", "outbox", "receipts")


def open_raw(home: Path) -> Db:
    """The data directory's ledger database, opened directly."""
    return connect(Home(home).ledger_target)


def tamper(home: Path, *sql: str) -> None:
    db = open_raw(home)
    try:
        on = " ON audit" if db.dialect == "postgresql" else ""
        db.execute(f"DROP TRIGGER IF EXISTS audit_no_delete{on}")
        db.execute(f"DROP TRIGGER IF EXISTS audit_no_update{on}")
        for statement in sql:
            db.execute(statement)
    finally:
        db.close()


def rechain(home: Path) -> None:
    """Recompute every hash after an edit."""
    db = open_raw(home)
    try:
        prev = GENESIS
        for r in db.execute("SELECT * FROM audit ORDER BY id").fetchall():
            digest = entry_hash(prev, r["at"], r["actor"], r["action"], r["subject"], r["detail"])
            db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, r["id"]))
            prev = digest
    finally:
        db.close()


def dump(home: Path) -> str:
    """Every row of every ledger table, as text."""
    db = open_raw(home)
    try:
        return "\n".join(repr(tuple(r)) for table in TABLES for r in db.execute(f"SELECT * FROM {table}").fetchall())
    finally:
        db.close()


def set_version(home: Path, version: int) -> None:
    """Stamp the ledger with a schema version (PRAGMA user_version, or PostgreSQL's `paperlink_schema`)."""
    home.mkdir(parents=True, exist_ok=True)
    db = open_raw(home)
    try:
        db.set_version(version)
    finally:
        db.close()


def get_version(home: Path) -> int:
    db = open_raw(home)
    try:
        return db.get_version()
    finally:
        db.close()
