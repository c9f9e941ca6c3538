"""The two databases a ledger can live in – a SQLite file (the single PC) or a PostgreSQL server (several desks) –
behind one small connection interface, `Db`.

The ledger's SQL is written once, for SQLite's `?` placeholders; what differs between the two is kept here:

- placeholders: `?` becomes psycopg's `%s` (and a literal `%` is doubled) outside quoted strings;
- the id of a new row: SQLite's `lastrowid`, PostgreSQL's `RETURNING id` (`Db.insert`);
- rows: both hand out rows readable by column name and by position (`Row`); nothing above `paperlink/ledger/`
  ever sees a `sqlite3.Row`, a psycopg cursor or either driver's exceptions (they become coded `LedgerError`s);
- write transactions: SQLite's `BEGIN IMMEDIATE` takes the database's single write lock at the start; PostgreSQL
  has no such lock, so `begin_write()` takes one transaction-level advisory lock (`pg_advisory_xact_lock`) right
  after `BEGIN`. Every writer of the ledger therefore runs one after the other, as on SQLite: the audit chain's
  append (read the head, insert after it) cannot interleave with another desk's, so it stays one unbroken chain,
  and every read-then-write of the store (a duplicate capture, the second entry, an export) sees the other
  desk's committed work. The lock is released by COMMIT or ROLLBACK – also when a desk dies mid-transaction,
  since the server then rolls its transaction back;
- the schema version: SQLite's `PRAGMA user_version`, a one-row table `paperlink_schema` on PostgreSQL;
- the migrations: one numbered list (`schema.MIGRATIONS`, SQLite's text); `postgresql_statements` renders each
  for PostgreSQL (see there for the few differences).
"""

from __future__ import annotations

import re
import sqlite3
import urllib.parse
from collections.abc import Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from paperlink.errors import PaperlinkError

if TYPE_CHECKING:
    import psycopg

POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")
"""How a ledger target names a PostgreSQL database (anything else is a SQLite file's path)."""
BUSY_TIMEOUT_SECONDS = 10
"""How long a writer waits for another desk's transaction (SQLite's busy timeout, PostgreSQL's lock_timeout)."""
WRITE_LOCK = 0x7061706572  # "paper": the advisory lock key every ledger writer takes (see the module docstring)
TLS_MODES = frozenset({"require", "verify-ca", "verify-full"})
"""libpq `sslmode`s that encrypt: a TCP connection must use one (`verify-full` unless the URL names another)."""
PLAINTEXT_OVERRIDE = "PAPERLINK_LEDGER_ALLOW_PLAINTEXT"
"""Set to 1 to allow an explicit `sslmode=disable|allow|prefer` over TCP (e.g. a server on the same PC)."""


class DbError(PaperlinkError):
    """A database error, coded (the ledger re-raises it as a `LedgerError`)."""


class Row(Protocol):
    """A row readable by column name and by position (both backends)."""

    def __getitem__(self, key: int | str) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """The result of one statement."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


def is_url(target: str | Path) -> bool:
    """Whether a ledger target is a PostgreSQL URL (else it is a SQLite file's path)."""
    return isinstance(target, str) and target.startswith(POSTGRESQL_SCHEMES)


def redact(target: str | Path) -> str:
    """The target as it may be shown or logged: a URL without any password (`user:***@host`)."""
    text = str(target)
    if not is_url(text):
        return text
    parts = urllib.parse.urlsplit(text)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = userinfo.split(":", 1)[0] + ":***@" + host
    query = "&".join("password=***" if q.split("=", 1)[0].lower() == "password" else q
                     for q in parts.query.split("&")) if parts.query else ""
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class Db:
    """One connection to the ledger's database: statements, the write transaction, the schema version."""

    dialect: str

    @property
    def in_transaction(self) -> bool:
        """Whether a write transaction is open."""
        raise NotImplementedError

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        raise NotImplementedError

    def insert(self, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT into a table with an `id` column; the new row's id."""
        raise NotImplementedError

    def begin_write(self) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def get_version(self) -> int:
        raise NotImplementedError

    def set_version(self, version: int) -> None:
        raise NotImplementedError


# -- SQLite ---------------------------------------------------------------------------------------


class SqliteDb(Db):
    """A SQLite file (WAL, foreign keys on, full sync, secure delete)."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.raw = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS,
                                       check_same_thread=False)
        except sqlite3.Error as exc:
            raise DbError("ledger_open_failed", path=path, detail=exc) from None
        self.raw.row_factory = sqlite3.Row
        self.raw.execute("PRAGMA journal_mode=WAL")
        self.raw.execute("PRAGMA foreign_keys=ON")
        self.raw.execute("PRAGMA synchronous=FULL")
        self.raw.execute("PRAGMA secure_delete=ON")  # erased personal data is overwritten, not left in free pages

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        try:
            return self.raw.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise DbError("ledger_constraint", detail=_first_line(exc)) from None
        except sqlite3.Error as exc:
            raise DbError("ledger_database_error", target=self.path, detail=_first_line(exc)) from None

    def insert(self, sql: str, params: Sequence[Any]) -> int:
        return int(self.execute(sql, params).lastrowid or 0)  # type: ignore[attr-defined]

    def begin_write(self) -> None:
        self.raw.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()

    def get_version(self) -> int:
        return int(self.raw.execute("PRAGMA user_version").fetchone()[0])

    def set_version(self, version: int) -> None:
        self.raw.execute(f"PRAGMA user_version = {int(version)}")


# -- PostgreSQL -----------------------------------------------------------------------------------


class PgRow:
    """A PostgreSQL row, readable like a `sqlite3.Row` (by name – the first column of that name – or position)."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = tuple(values)
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        return self._values[self._index[key] if isinstance(key, str) else key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._index)

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._index, self._values, strict=False))})"


def _row_factory(cursor: Any) -> Any:
    names = [c.name for c in cursor.description or ()]
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)
    return lambda values: PgRow(values, index)


_QUOTED = re.compile(r"('(?:[^']|'')*')")
_FUNCTIONS = {"instr(": "strpos("}
"""SQLite functions the ledger uses under PostgreSQL's name (same arguments, same result)."""


def _functions(part: str) -> str:
    for sqlite_name, pg_name in _FUNCTIONS.items():
        part = re.sub(re.escape(sqlite_name), pg_name, part, flags=re.IGNORECASE)
    return part


def to_postgresql(sql: str, placeholders: bool = True) -> str:
    """A statement written for SQLite as PostgreSQL (psycopg) takes it: `?` placeholders as `%s` with literal `%`
    doubled (psycopg would read it as a placeholder too), and SQLite's function names as PostgreSQL's; quoted
    strings are left as they are (but for their `%`)."""
    parts = _QUOTED.split(sql)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part.replace("%", "%%") if placeholders else part)
        elif placeholders:
            out.append(_functions(part).replace("%", "%%").replace("?", "%s"))
        else:
            out.append(_functions(part))
    return "".join(out)


def _param(value: Any) -> Any:
    if isinstance(value, bool):  # the ledger keeps flags as INTEGER 0/1 on both backends
        return int(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def connection_settings(url: str) -> dict[str, Any]:
    """libpq settings for a ledger URL, with the ledger's rules applied (LedgerError-coded `DbError` if refused):

    - no password in the URL: the server's own authentication finds it (~/.pgpass, PGPASSFILE) or uses a client
      certificate – a URL is typed into shells and settings and would keep the password in clear;
    - TCP needs TLS: no `sslmode` means `verify-full` (the server's certificate checked against the CA in
      `sslrootcert` or ~/.postgresql/root.crt); a mode without encryption is refused unless PAPERLINK_LEDGER_ALLOW_PLAINTEXT=1.
      A Unix-socket host (a path) stays on the machine and needs none.
    """
    import os

    from psycopg.conninfo import conninfo_to_dict

    try:
        settings: dict[str, Any] = dict(conninfo_to_dict(url))
    except Exception as exc:  # psycopg.ProgrammingError: not a valid URL
        raise DbError("ledger_url_invalid", url=redact(url), detail=_first_line(exc)) from None
    if settings.get("password"):
        raise DbError("ledger_url_password", url=redact(url))
    hosts = [h for h in str(settings.get("host") or os.environ.get("PGHOST", "")).split(",") if h]
    over_tcp = any(not h.startswith("/") and not h.startswith("@") for h in hosts) or bool(settings.get("hostaddr"))
    if over_tcp:
        mode = settings.get("sslmode")
        if mode is None:
            settings["sslmode"] = "verify-full"
        elif mode not in TLS_MODES and os.environ.get(PLAINTEXT_OVERRIDE) != "1":
            raise DbError("ledger_tls_required", url=redact(url), mode=mode)
    settings.setdefault("application_name", "paperlink")
    settings.setdefault("connect_timeout", "10")
    return settings


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class PostgresDb(Db):
    """A database on a PostgreSQL server (psycopg 3; autocommit outside the ledger's own transactions)."""

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        settings = connection_settings(url)
        try:
            self.raw: psycopg.Connection[Any] = psycopg.connect(autocommit=True, **settings)
        except psycopg.Error as exc:
            raise DbError("ledger_open_failed", path=redact(url), detail=_first_line(exc)) from None
        self.raw.row_factory = _row_factory
        self._open = False
        # a writer waits for the lock as long as SQLite's busy timeout, then gives up (LedgerError ledger_busy)
        self.execute(f"SET lock_timeout = '{BUSY_TIMEOUT_SECONDS}s'")

    @property
    def in_transaction(self) -> bool:
        return self._open

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        import psycopg

        try:
            if params:
                return self.raw.execute(to_postgresql(sql).encode("utf-8"), [_param(p) for p in params])
            return self.raw.execute(to_postgresql(sql, placeholders=False).encode("utf-8"))
        except psycopg.Error as exc:
            raise self._error(exc) from None

    def insert(self, sql: str, params: Sequence[Any]) -> int:
        row = self.execute(sql + " RETURNING id", params).fetchone()
        return int(row[0])

    def _error(self, exc: Exception) -> DbError:
        import psycopg

        if isinstance(exc, psycopg.errors.IntegrityError):
            return DbError("ledger_constraint", detail=_first_line(exc))
        return DbError("ledger_database_error", target=redact(self.url), detail=_first_line(exc))

    def begin_write(self) -> None:
        self.execute("BEGIN")
        self._open = True
        self.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")

    def commit(self) -> None:
        try:
            self.execute("COMMIT")
        finally:
            self._open = False

    def rollback(self) -> None:
        self._open = False
        if not self.raw.closed:
            self.raw.execute(b"ROLLBACK")

    def close(self) -> None:
        self.raw.close()

    def get_version(self) -> int:
        exists = self.execute("SELECT to_regclass('paperlink_schema')").fetchone()[0]
        if exists is None:
            return 0
        row = self.execute("SELECT version FROM paperlink_schema").fetchone()
        return int(row[0]) if row else 0

    def set_version(self, version: int) -> None:
        self.execute("CREATE TABLE IF NOT EXISTS paperlink_schema (version INTEGER NOT NULL)")
        self.execute("DELETE FROM paperlink_schema")
        self.execute("INSERT INTO paperlink_schema (version) VALUES (?)", (int(version),))


def connect(target: str | Path) -> Db:
    """Open a ledger's database: a PostgreSQL URL, or a SQLite file's path."""
    if is_url(target):
        return PostgresDb(str(target))
    return SqliteDb(Path(target))


# -- the migrations on PostgreSQL -----------------------------------------------------------------
#
# The numbered migrations are SQLite's text; PostgreSQL runs the same statements with these differences:
# - column types: a row id `INTEGER PRIMARY KEY` (SQLite's rowid alias) is an identity column
#   (`GENERATED BY DEFAULT`, so a migrated ledger keeps its ids), and `BLOB` is `BYTEA`;
# - migration 1's two triggers that keep the audit log append-only are PL/pgSQL (a function raising, used
#   BEFORE UPDATE and BEFORE DELETE, and BEFORE TRUNCATE too, which SQLite does not have);
# - migration 7 widens `notices.state`'s CHECK: SQLite must rebuild the table (copy, drop, rename), while
#   PostgreSQL alters the constraint in place (a DROP TABLE would need CASCADE, dropping every foreign key).

_PG_AUDIT_TRIGGERS = [
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
]
_PG_WIDEN_NOTICE_STATES = [
    "ALTER TABLE notices DROP CONSTRAINT notices_state_check",
    "ALTER TABLE notices ADD CONSTRAINT notices_state_check"
    " CHECK (state IN ('missing', 'decoded', 'confirmed', 'first_entry', 'mismatch', 'done', 'held'))",
    "ALTER TABLE notices ADD COLUMN exported_at TEXT",
    "UPDATE notices SET exported_at = (SELECT MIN(e.exported_at) FROM exports e WHERE e.batch_id = notices.batch_id)",
]


def _pg_types(statement: str) -> str:
    statement = re.sub(r"\bINTEGER PRIMARY KEY\b", "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", statement)
    return re.sub(r"\bBLOB\b", "BYTEA", statement)


def postgresql_statements(statements: Sequence[str]) -> list[str]:
    """A migration's statements (as split for SQLite) rendered for PostgreSQL (see the comment above)."""
    rendered: list[str] = []
    for statement in statements:
        head = " ".join(statement.split()[:3]).upper()
        if head.startswith("CREATE TRIGGER AUDIT_NO_UPDATE"):
            rendered += _PG_AUDIT_TRIGGERS
        elif head.startswith("CREATE TRIGGER AUDIT_NO_DELETE"):
            continue  # made with the one above
        elif head == "CREATE TABLE NOTICES_V6":
            rendered += _PG_WIDEN_NOTICE_STATES
        elif head.startswith(("INSERT INTO NOTICES_V6", "DROP TABLE NOTICES")) or \
                statement.upper().startswith("ALTER TABLE NOTICES_V6 RENAME"):
            continue  # the rebuild is SQLite's way; PostgreSQL altered the table in place
        else:
            rendered.append(_pg_types(statement).rstrip().rstrip(";"))
    return rendered
