"""Moving up: copying a data directory's SQLite ledger into an empty PostgreSQL database (`paperlink ledger migrate`).

The copy is one transaction on the server: every table in the order its foreign keys need, each row with its own
id (so that captures, entries, holds and the audit log keep pointing at the same notices), then the identity
sequences moved past the highest id. Before COMMIT the copy is checked against the source – row counts and a
digest of every row, table by table; the audit chain holds on both sides and ends in the same head; every
anchor of the data directory (head file, issued list, export manifests) still matches – and anything that
differs rolls the whole copy back: the server is left as empty as it was. While copying, the source is held
in a SQLite write transaction, so no desk changes it meanwhile; it is never written, and stays as it was (a
copy to keep). The migration itself is the first entry appended to the new ledger's audit log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from paperlink.ledger import audit as chain
from paperlink.ledger.connection import Ledger, LedgerError
from paperlink.ledger.dialect import connect, redact, to_postgresql

COPY_ORDER: tuple[tuple[str, str], ...] = (
    ("settings", "key"), ("users", "login"), ("batches", "batch_id"), ("notices", "id"), ("captures", "id"),
    ("entries", "id"), ("verifications", "id"), ("holds", "id"), ("exports", "id"), ("scanned_files", "sha256"),
    ("media_register", "id"), ("outbox", "id"), ("receipts", "id"), ("audit", "id"),
)
"""Every table of the ledger with its key, parents before children (notices after batches, …)."""
_WITH_IDS = frozenset(table for table, key in COPY_ORDER if key == "id")
_BATCH = 500


@dataclass(frozen=True)
class TableCopy:
    """One table copied: its rows and the digest of them (the same on both sides)."""

    table: str
    rows: int
    digest: str
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class MigrationResult:
    """A verified copy."""

    tables: tuple[TableCopy, ...]
    audit_entries: int
    """Entries copied (the new ledger then has one more: `ledger.migrated`)."""
    audit_head: str
    anchors: int
    """Anchors of the data directory checked against the copy."""


def check_empty(url: str) -> None:
    """LedgerError `migrate_target_not_empty` unless the database holds no table, or only an unused ledger."""
    db = connect(url)
    try:
        names = [str(r[0]) for r in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " ORDER BY table_name")]
        if not names:
            return
        ledger_tables = {table for table, _ in COPY_ORDER} | {"paperlink_schema"}
        strangers = [name for name in names if name not in ledger_tables]
        if strangers:
            raise LedgerError("migrate_target_not_empty", target=redact(url), table=strangers[0], rows="?")
        for table, _ in COPY_ORDER:
            if table in names:
                rows = int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                if rows:
                    raise LedgerError("migrate_target_not_empty", target=redact(url), table=table, rows=rows)
    finally:
        db.close()


def migrate(source: Ledger, target: Ledger, actor: str) -> MigrationResult:
    """Copy `source` (a SQLite ledger) into `target` (an empty PostgreSQL one), verify it, and commit.

    LedgerError with a code when the two are not that, when the target holds anything, when the source's own
    audit chain or anchors do not hold (copying would hide it), or when the copy does not verify.
    """
    if source.backend != "sqlite":
        raise LedgerError("migrate_source_not_sqlite", source=source.shown)
    if target.backend != "postgresql":
        raise LedgerError("migrate_target_not_postgresql", target=target.shown)
    if source.schema_version != target.schema_version:
        raise LedgerError("migrate_schema_differs", source=source.schema_version, target=target.schema_version)
    key = source.anchors.key(create=False) if source.anchors is not None else None
    found = source.anchors.found() if source.anchors is not None else []
    with source.transaction():  # SQLite's write lock: no desk writes the source while it is copied (nothing is)
        broken = source.verify_audit()
        if broken is not None:
            raise LedgerError("migrate_source_chain_broken", entry=broken)
        if found and key is None:
            raise LedgerError("audit_key_missing", path=source.anchors.keys.audit_key_path if source.anchors else "",
                              anchors=len(found))
        for anchor in found:
            assert key is not None
            problem = chain.anchor_problem(source.db, anchor.anchor, key)
            if problem is not None:
                raise LedgerError("migrate_source_anchor", source=anchor.source, problem=problem[0])
        with target.transaction():
            for table, _ in COPY_ORDER:
                rows = int(target.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                if rows:
                    raise LedgerError("migrate_target_not_empty", target=target.shown, table=table,
                                      rows=rows)
            copied = tuple(_copy_table(source, target, table, key_column) for table, key_column in COPY_ORDER)
            for table in sorted(_WITH_IDS):
                target.db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                                  f" (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")
            for table, key_column in COPY_ORDER:
                _verify_table(target, table, key_column, copied)
            count, head = chain.head(source.db)
            if target.verify_audit() is not None or chain.head(target.db) != (count, head):
                raise LedgerError("migrate_chain_differs", count=count)
            for anchor in found:
                assert key is not None
                problem = chain.anchor_problem(target.db, anchor.anchor, key)
                if problem is not None:
                    raise LedgerError("migrate_anchor_differs", source=anchor.source, problem=problem[0])
            target.audit(actor, "ledger.migrated", "ledger", source=source.shown, tables=len(copied),
                         rows=sum(c.rows for c in copied), audit_entries=count, head=head)
    return MigrationResult(copied, count, head, len(found))


def _rows(ledger: Ledger, table: str, key_column: str) -> list[Any]:
    # sorted here, the same on both sides: a server's ORDER BY on text follows the database's collation
    # (en-US puts `a_b` and `a-b` elsewhere than SQLite's byte order)
    rows = ledger.db.execute(f"SELECT * FROM {table}").fetchall()
    return sorted(rows, key=lambda row: row[key_column])


def _value(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def _digest(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A digest of a table's rows (column names, then each value's type and text), the same for equal content."""
    hasher = hashlib.sha256("\x1f".join(columns).encode("utf-8"))
    for row in rows:
        for value in row:
            value = _value(value)
            text = value.hex() if isinstance(value, bytes) else repr(value)
            hasher.update(f"\x1e{type(value).__name__}:{text}".encode("utf-8", "surrogatepass"))
        hasher.update(b"\x1d")
    return hasher.hexdigest()


def _copy_table(source: Ledger, target: Ledger, table: str, key_column: str) -> TableCopy:
    rows = _rows(source, table, key_column)
    columns = list(rows[0].keys()) if rows else _columns(source, table)
    values = [tuple(_value(row[c]) for c in columns) for row in rows]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    for start in range(0, len(values), _BATCH):
        _insert_many(target, table, sql, values[start:start + _BATCH])
    return TableCopy(table, len(values), _digest(columns, values), tuple(columns))


def _insert_many(target: Ledger, table: str, sql: str, values: Sequence[tuple[Any, ...]]) -> None:
    """Insert rows in one round trip per batch (psycopg pipelines `executemany`)."""
    if target.backend != "postgresql":
        for row in values:
            target.db.execute(sql, row)
        return
    import psycopg

    raw: Any = cast(Any, target.db).raw
    try:
        with raw.cursor() as cursor:
            cursor.executemany(to_postgresql(sql).encode("utf-8"), values)
    except psycopg.Error as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise LedgerError("migrate_copy_failed", table=table, detail=detail) from None


def _columns(ledger: Ledger, table: str) -> list[str]:
    return [str(r[1]) for r in ledger.db.execute(f"PRAGMA table_info({table})")]


def _verify_table(target: Ledger, table: str, key_column: str, copied: tuple[TableCopy, ...]) -> None:
    expected = next(c for c in copied if c.table == table)
    rows = _rows(target, table, key_column)
    columns = expected.columns
    digest = _digest(columns, [tuple(row[c] for c in columns) for row in rows]) if rows else expected.digest
    if len(rows) != expected.rows:
        raise LedgerError("migrate_table_differs", table=table, source=expected.rows, target=len(rows))
    if digest != expected.digest:
        raise LedgerError("migrate_table_content_differs", table=table, rows=len(rows))
