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
IDLE_IN_TRANSACTION_SECONDS = 60
"""A desk that stalls inside a write transaction (hung, asleep, its network gone) is cut off by the server after
this long (`idle_in_transaction_session_timeout`): its transaction is rolled back and the write lock freed."""
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10", "keepalives_count": "3"}
"""TCP keepalives: a connection whose other end vanished without a word is noticed within about a minute."""
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
    """Whether a ledger target is a PostgreSQL URL (else it is a SQLite file's path); the scheme in any case."""
    return isinstance(target, str) and target.lower().startswith(POSTGRESQL_SCHEMES)


def normal_url(url: str) -> str:
    """A PostgreSQL URL with its scheme in lower case (libpq reads only `postgresql://` and `postgres://`)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.lower()}{sep}{rest}" if sep else url


def looks_like_url(target: str) -> bool:
    """Whether a ledger target was meant as a URL (starts with `postgres` in any case, or holds `://`): one that is
    not a valid PostgreSQL URL is refused (`check_target`), never taken for a SQLite file's name."""
    return target.lower().startswith("postgres") or "://" in target


def check_target(target: str) -> str:
    """A ledger target given as text (--ledger, PAPERLINK_LEDGER): a PostgreSQL URL that libpq can parse, or a
    SQLite file's path that does not look like a mistyped URL (`postgresql:/host/db`); else `ledger_url_invalid`."""
    if is_url(target):
        from psycopg.conninfo import conninfo_to_dict

        try:
            conninfo_to_dict(normal_url(target))
        except Exception as exc:  # psycopg.ProgrammingError: not a valid URL
            raise DbError("ledger_url_invalid", url=redact(target), detail=_first_line(exc)) from None
        return target
    if looks_like_url(target):
        raise DbError("ledger_url_invalid", url=redact(target),
                      detail="a PostgreSQL URL starts with postgresql:// (or postgres://)")
    return target


_SHOWN_PARAMS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "target_session_attrs", "application_name",
                 "connect_timeout", "service")
"""The URL parameters a redacted URL keeps (none of them a secret); every other one is left out."""
_SAFE_VALUE = re.compile(r"[A-Za-z0-9._/:@+~-]*")


def _masked(text: str) -> str:
    """A target libpq cannot parse: everything between `://` and the last `@`, and any query, masked."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return "***" if "@" in text or "?" in text else text
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    for mark in ("?", "#"):
        if mark in rest:
            rest = rest.split(mark, 1)[0] + mark + "***"
            break
    return f"{scheme}://{rest}"


def redact(target: str | Path) -> str:
    """The target as it may be shown or logged, never with a password: built from what libpq reads in it (user,
    `:***` if a password was given, host, port, database, the non-secret parameters), or – if libpq cannot parse
    it – with everything between `://` and the last `@`, and the query, masked."""
    text = str(target)
    if not is_url(text) and not (isinstance(target, str) and looks_like_url(text)):
        return text
    if not is_url(text):
        return _masked(text)
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = {k: str(v) for k, v in conninfo_to_dict(normal_url(text)).items() if v is not None}
    except Exception:  # psycopg.ProgrammingError: libpq cannot read it
        return _masked(text)
    if "@" in parts.get("dbname", "") or not all(p.isdigit() for p in parts.get("port", "").split(",") if p):
        return _masked(text)  # a password holding `/` read as a port and a database name: libpq refuses it later

    def shown(value: str) -> str:
        return value if _SAFE_VALUE.fullmatch(value) else "***"

    user = urllib.parse.quote(shown(parts["user"]), safe="") if "user" in parts else ""
    secret = any("password" in key.lower() for key in parts)
    userinfo = f"{user}:***@" if secret else (f"{user}@" if user else "")
    userinfo = userinfo if userinfo != ":***@" else "***@"
    hosts = [urllib.parse.quote(shown(h), safe="") for h in parts.get("host", "").split(",")] \
        if parts.get("host") else []
    ports = [shown(p) for p in parts.get("port", "").split(",")] if parts.get("port") else []
    if len(ports) == 1:
        ports = ports * max(len(hosts), 1)
    if hosts:
        netloc = ",".join(h + (f":{ports[i]}" if i < len(ports) and ports[i] else "") for i, h in enumerate(hosts))
    else:
        netloc = f":{ports[0]}" if ports else ""
    dbname = "/" + urllib.parse.quote(shown(parts["dbname"]), safe="") if "dbname" in parts else ""
    query = "&".join(f"{key}={urllib.parse.quote(shown(parts[key]), safe='/:')}"
                     for key in _SHOWN_PARAMS if key in parts)
    return f"postgresql://{userinfo}{netloc}{dbname}" + (f"?{query}" if query else "")


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
_FUNCTIONS = {r"\binstr\(": "strpos("}
"""SQLite functions the ledger uses under PostgreSQL's name (same arguments, same result)."""


def _functions(part: str) -> str:
    for sqlite_name, pg_name in _FUNCTIONS.items():
        part = re.sub(sqlite_name, pg_name, part, flags=re.IGNORECASE)
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
      `sslrootcert` or ~/.postgresql/root.crt) wherever the host comes from (the URL, ?hostaddr=, PGHOST,
      PGHOSTADDR, a service, libpq's default; libpq ignores sslmode on a Unix socket); a mode without encryption is
      refused unless every host the URL names is a Unix socket's directory (a path), or PAPERLINK_LEDGER_ALLOW_PLAINTEXT=1;
    - TCP keepalives (`KEEPALIVES`), unless the URL sets them.
    """
    import os

    from psycopg.conninfo import conninfo_to_dict

    try:
        settings: dict[str, Any] = dict(conninfo_to_dict(normal_url(url)))
    except Exception as exc:  # psycopg.ProgrammingError: not a valid URL
        raise DbError("ledger_url_invalid", url=redact(url), detail=_first_line(exc)) from None
    if settings.get("password"):
        raise DbError("ledger_url_password", url=redact(url))
    # the host may come from the URL, ?hostaddr=, PGHOST/PGHOSTADDR, a service file or libpq's default: TLS is
    # asked for whatever the host turns out to be (libpq ignores sslmode on a Unix socket); a mode without
    # encryption only when every host is explicitly a socket path here (or with the override)
    hosts = str(settings.get("host") or "").split(",")
    all_sockets = bool(settings.get("host")) and not settings.get("hostaddr") and \
        all(h.startswith(("/", "@")) for h in hosts)
    mode = settings.get("sslmode")
    if mode is None:
        settings["sslmode"] = "verify-full"
    elif mode not in TLS_MODES and not all_sockets and os.environ.get(PLAINTEXT_OVERRIDE) != "1":
        raise DbError("ledger_tls_required", url=redact(url), mode=mode)
    for key, value in KEEPALIVES.items():
        settings.setdefault(key, value)
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
        # a desk stalled inside a transaction would hold the write lock for ever: the server ends its session
        self.execute(f"SET idle_in_transaction_session_timeout = '{int(IDLE_IN_TRANSACTION_SECONDS * 1000)}ms'")

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
        # READ COMMITTED whatever the server's default: each statement after the lock sees what the previous
        # writer committed (under REPEATABLE READ the snapshot would predate the lock and the audit chain fork)
        self.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
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
        # a scan of the catalogue, not to_regclass(): that reads the session's cache, which may still miss a table
        # another desk made while this one waited for the write lock
        exists = self.execute("SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = 'paperlink_schema'"
                              " AND schemaname = current_schema()").fetchone()[0]
        if not exists:
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
