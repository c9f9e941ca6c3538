"""The ledger's connection: one database – a SQLite file in the data directory, or a PostgreSQL database shared
by several desks (`dialect.py`) – its transactions and settings.

SQLite is opened with WAL, foreign keys on and a busy timeout; every logical write runs inside one
`BEGIN IMMEDIATE` transaction (`Ledger.transaction()`), so it either completes or leaves nothing. On PostgreSQL
the same transaction takes one advisory lock at its start, so that writers run one after the other as they do on
SQLite (see `dialect.py` for why). Schema changes are the numbered migrations of `schema.py`, applied in order
and recorded in `PRAGMA user_version` (SQLite) or the table `paperlink_schema` (PostgreSQL).
What may be written, and how, is the business of `store.py` (notices and their batches, captures, entries,
verifications, exports), `accounts.py` (clerks) and `registers.py` (scanned files, the media register).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperlink.errors import PaperlinkError
from paperlink.ledger import audit as chain
from paperlink.ledger import dialect
from paperlink.ledger.anchors import AnchorStore, FoundAnchor
from paperlink.ledger.audit import Anchor, AuditEntry
from paperlink.ledger.dialect import Db, DbError, Row
from paperlink.ledger.schema import MIGRATIONS

if TYPE_CHECKING:
    from paperlink.home import Home

LEDGER_NAME = "ledger.sqlite3"
"""The ledger's file name in a data directory (`Home.ledger`)."""
_log = logging.getLogger("paperlink.ledger")


class LedgerError(PaperlinkError):
    """The ledger cannot be opened or used as asked (newer schema, a write outside a transaction, …)."""


class IllegalTransition(LedgerError):
    """A notice was asked to move to a state the state machine does not allow from where it is."""


class NoticeNotFound(LedgerError):
    """No notice has that row id."""


def now() -> str:
    """The current time as an ISO timestamp (UTC, seconds)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _coded(exc: DbError) -> LedgerError:
    return LedgerError(exc.code, **exc.params)


class Ledger:
    """The ledger of one data directory. Use as a context manager or call close().

    `target` is a SQLite file's path or a `postgresql://…` URL (`Home.ledger_target`; `Ledger.of(home)` opens a
    data directory's). `migrations` is the schema to bring it up to (tests pass extra ones; everything else the
    default). `anchored`: whether every transaction that appends audit entries anchors the log outside the
    ledger (`anchors.py`), in the data directory `home`; by default the ledger of a data directory
    (`<home>/ledger.sqlite3`, or a URL opened with its `home`) is, a copy is not.
    """

    def __init__(self, target: str | Path, migrations: Sequence[str] = MIGRATIONS, anchored: bool | None = None,
                 home: Path | None = None) -> None:
        if isinstance(target, str):
            try:
                dialect.check_target(target)  # `postgresql:/host/db` is a mistyped URL, not a SQLite file's name
            except DbError as exc:
                raise _coded(exc) from None
        self.url: str | None = str(target) if dialect.is_url(target) else None
        self.path = Path(target) if self.url is None else Path(".")
        self.shown = dialect.redact(target)
        """The target as messages may name it (a URL without any password)."""
        self.migrations = tuple(migrations)
        if self.url is None and home is None and self.path.name == LEDGER_NAME:
            home = self.path.parent
        if anchored is None:
            anchored = home is not None
        self.anchors: AnchorStore | None = AnchorStore(home if home is not None else self.path.parent) \
            if anchored else None
        self._appended = False
        try:
            if self.url is None:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.db: Db = dialect.connect(target)
            self._migrate()
        except DbError as exc:
            self._close_quietly()
            if exc.code == "ledger_database_error":
                raise LedgerError("ledger_open_failed", path=self.shown, detail=exc.params["detail"]) from None
            raise _coded(exc) from None
        except sqlite3.Error as exc:
            self._close_quietly()
            raise LedgerError("ledger_open_failed", path=self.shown, detail=exc) from None
        except LedgerError:
            self._close_quietly()
            raise

    @classmethod
    def of(cls, home: Home) -> Ledger:
        """The ledger of a data directory: `home.ledger_target` (--ledger, PAPERLINK_LEDGER, or its SQLite file),
        anchored in that directory."""
        return cls(home.ledger_target, home=home.root)

    @property
    def backend(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.db.dialect

    def _close_quietly(self) -> None:
        db = getattr(self, "db", None)
        if db is not None:
            db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (a transaction left open is rolled back)."""
        self.db.close()

    def _migrate(self) -> None:
        version = self.db.get_version()
        if version > len(self.migrations):
            raise LedgerError("ledger_newer_schema", path=self.shown, version=version, supported=len(self.migrations))
        if version == len(self.migrations):
            return
        if isinstance(self.db, dialect.SqliteDb):
            self._migrate_sqlite(version)
            return
        while True:
            with self.transaction():  # PostgreSQL changes tables in place, inside the transaction, references checked
                # read again under the write lock: another desk opening the same database may have applied it
                number = self.db.get_version()
                if number >= len(self.migrations):
                    return
                for statement in dialect.postgresql_statements(_statements(self.migrations[number])):
                    self.db.execute(statement)
                self.db.set_version(number + 1)

    def _migrate_sqlite(self, version: int) -> None:
        # SQLite's way to change a table (e.g. widen a CHECK): rebuild it with foreign keys off, which can only be
        # switched outside a transaction; every reference is checked before the migration commits
        self.db.execute("PRAGMA foreign_keys=OFF")
        try:
            for number in range(version, len(self.migrations)):
                with self.transaction():
                    for statement in _statements(self.migrations[number]):
                        self.db.execute(statement)
                    broken = self.db.execute("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise LedgerError("ledger_migration_references", number=number + 1, table=broken[0][0])
                    self.db.set_version(number + 1)
        finally:
            self.db.execute("PRAGMA legacy_alter_table=OFF")
            self.db.execute("PRAGMA foreign_keys=ON")

    @property
    def schema_version(self) -> int:
        """The applied migration count."""
        return self.db.get_version()

    @contextmanager
    def transaction(self) -> Iterator[Db]:
        """One write transaction (BEGIN IMMEDIATE, or BEGIN and the writers' advisory lock, … COMMIT; ROLLBACK on
        any exception). Database errors inside it come out as coded LedgerErrors. A transaction inside another is
        refused (`ledger_nested_transaction`): the inner COMMIT would commit the outer's work half done."""
        if self.db.in_transaction:
            raise LedgerError("ledger_nested_transaction", path=self.shown)
        try:
            self.db.begin_write()
        except sqlite3.OperationalError as exc:
            raise LedgerError("ledger_busy", path=self.shown, detail=exc) from None
        except DbError as exc:
            self._rollback_quietly()
            raise LedgerError("ledger_busy", path=self.shown, detail=exc.params.get("detail", exc.code)) from None
        self._appended = False
        try:
            yield self.db
        except DbError as exc:
            self._rollback_quietly()
            raise _coded(exc) from None
        except BaseException:
            self._rollback_quietly()
            raise
        try:
            self.db.commit()
        except DbError as exc:
            raise _coded(exc) from None
        if self._appended and self.anchors is not None:
            self._appended = False
            try:
                self.anchors.update(self.db, now())
            except (OSError, PaperlinkError) as exc:  # committed all the same; `audit verify` shows the lag
                _log.warning("the audit log could not be anchored: %s", exc)

    def _rollback_quietly(self) -> None:
        try:
            self.db.rollback()
        except Exception as exc:  # a lost connection: the server rolls back by itself
            _log.warning("rollback failed: %s", exc)

    def require_transaction(self) -> None:
        """LedgerError unless a write transaction is open (every store write runs inside one)."""
        if not self.db.in_transaction:
            raise LedgerError("ledger_outside_transaction")

    # -- audit ----------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, subject: str, **detail: Any) -> None:
        """Append an audit entry; call inside the transaction of the change it records."""
        self.require_transaction()
        chain.append(self.db, now(), actor, action, subject, detail)
        self._appended = True

    def anchor(self, purpose: str, subject: str = "") -> Anchor:
        """The log's current anchor (count, head hash, HMAC), recorded as handed out for `purpose`.

        For whatever leaves the PC and should pin the log as it stands: the processing report, receipts,
        backup and export manifests. LedgerError if this ledger is not a data directory's (not anchored).
        """
        if self.anchors is None:
            raise LedgerError("ledger_not_anchored", path=self.shown)
        return self.anchors.issue(self.db, now(), purpose, subject)

    def check_anchors(self, extra: Sequence[Path] = ()) -> list[tuple[FoundAnchor, tuple[str, dict[str, Any]] | None]]:
        """Every anchor found (see `AnchorStore.found`) with the problem it shows, or None where the log matches."""
        if self.anchors is None:
            raise LedgerError("ledger_not_anchored", path=self.shown)
        found = self.anchors.found(list(extra))
        if not found:
            return []
        key = self.anchors.key(create=False)
        if key is None:
            raise LedgerError("audit_key_missing", path=self.anchors.keys.audit_key_path, anchors=len(found))
        return [(f, chain.anchor_problem(self.db, f.anchor, key)) for f in found]

    def audit_entries(self, subject: str | None = None) -> list[AuditEntry]:
        """Audit entries in order (all, or those of one subject)."""
        return chain.entries(self.db, subject)

    def audit_search(self, **filters: Any) -> tuple[list[AuditEntry], int]:
        """One page of audit entries, newest first, matching the filters (see `audit.search`), and the total."""
        return chain.search(self.db, **filters)

    def audit_actors(self) -> list[str]:
        """Everyone who appears in the audit log."""
        return chain.actors(self.db)

    def audit_count(self) -> int:
        """How many entries the audit log holds."""
        return chain.count(self.db)

    def verify_audit(self) -> int | None:
        """The id of the first audit entry whose chain is broken, or None when the whole chain holds."""
        return chain.first_broken(self.db)

    def recent_actions(self, actor: str, action: str, since: str, reset_action: str) -> int:
        """How many `action` entries `actor` has at or after `since` and after its last `reset_action`."""
        return chain.recent_actions(self.db, actor, action, since, reset_action)

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

    # -- the file as a whole --------------------------------------------------------------------

    def require_sqlite(self, what: str) -> None:
        """LedgerError `ledger_sqlite_only` unless this ledger is a SQLite file (`what` names the operation)."""
        self._sqlite(what)

    def _sqlite(self, what: str) -> sqlite3.Connection:
        """The SQLite connection, for what only a SQLite file has; a coded LedgerError on PostgreSQL."""
        if not isinstance(self.db, dialect.SqliteDb):
            raise LedgerError("ledger_sqlite_only", what=what, target=self.shown)
        return self.db.raw

    def backup_to(self, path: Path) -> None:
        """Copy the whole ledger into a new SQLite file with the online backup API (safe while others write)."""
        source = self._sqlite("backup")
        destination = sqlite3.connect(path)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()

    def integrity(self) -> str:
        """SQLite's integrity check: 'ok', or the first problem found."""
        return str(self._sqlite("integrity").execute("PRAGMA integrity_check").fetchone()[0])

    def checkpoint(self) -> None:
        """After an erasure: no copy of erased rows left behind. SQLite: write the WAL back into the main file and
        truncate it (secure_delete already overwrote the freed pages). PostgreSQL keeps an updated row's old
        version in the table until it is vacuumed: VACUUM FULL rewrites the tables that held personal data
        without them (the server's own WAL, archives and dumps are the server administrator's to age out)."""
        if isinstance(self.db, dialect.SqliteDb):
            self.db.raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        for table in _PERSONAL_TABLES:
            self.db.execute(f"VACUUM FULL {table}")

    def count(self, table: str) -> int:
        """Rows in one of the ledger's tables."""
        if table not in _TABLES:
            raise LedgerError("ledger_unknown_table", table=table)
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    # -- reads for tests and diagnostics ----------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows of a read query (tests and diagnostics; paperlink's own reads live in `views.py`)."""
        try:
            return self.db.execute(sql, params).fetchall()
        except DbError as exc:
            raise _coded(exc) from None


_PERSONAL_TABLES = ("notices", "entries", "captures")
"""The tables whose rows an erasure overwrites (`store.erase_batch`)."""
_TABLES = frozenset({"batches", "notices", "captures", "scanned_files", "audit", "users", "entries", "verifications",
                     "exports", "settings", "media_register", "holds", "outbox", "receipts"})


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
