"""The backup of a PostgreSQL ledger: a `pg_dump` archive (custom format), verified by reading it back whole.

`dump(url, path)` runs PostgreSQL's own `pg_dump --format=custom` with the ledger's connection settings (the same
TLS rules as the ledger's connection; the password comes from ~/.pgpass or PGPASSFILE, never from the URL, and
the command line carries none). pg_dump reads one consistent snapshot, so desks may go on writing meanwhile.

`verify(path)` then reads the archive back with `pg_restore` – no server is needed, nor a right to create a
database: the archive's table of contents must list every ledger table, and the data of the audit log, the
notices and the schema version are decoded from it (COPY text) – the audit chain must hold from its first entry
to its last, as `audit verify` would check it. A restore is `pg_restore` into an empty database (docs/postgresql.md),
after which `paperlink --ledger URL audit verify --anchor FILE.manifest.json` checks the restored log.
"""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperlink.ledger.audit import GENESIS, entry_hash
from paperlink.ledger.connection import LedgerError
from paperlink.ledger.dialect import connection_settings, redact

REQUIRED_TABLES = ("batches", "notices", "captures", "audit", "users", "entries", "verifications", "exports",
                   "settings", "holds", "paperlink_schema")
"""Tables an archive of a ledger must hold (a dump of another database is not a ledger backup)."""
_TIMEOUT = 3600


@dataclass(frozen=True)
class DumpFacts:
    """What a verified archive holds."""

    schema_version: int
    notices: int
    audit_entries: int
    audit_head: str


def tool(name: str) -> str:
    """The newest installed PostgreSQL client program `name` (pg_dump, pg_restore); LedgerError if there is none.

    Debian keeps each version in /usr/lib/postgresql/<version>/bin; a pg_dump must be at least as new as the
    server, so the newest is taken; elsewhere (Windows) the one on PATH.
    """
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parent.parent.name)
                   if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path is None:
        raise LedgerError("pgdump_missing", program=name)
    return on_path


def conninfo(url: str) -> str:
    """The ledger URL as a libpq connection string with the ledger's rules (TLS on TCP; no password)."""
    from psycopg.conninfo import make_conninfo

    settings = {k: v for k, v in connection_settings(url).items() if k not in ("application_name",)}
    return make_conninfo(**{k: str(v) for k, v in settings.items()}, application_name="paperlink-backup")


def dump(url: str, path: Path) -> None:
    """Write the database's pg_dump archive (custom format, compressed) to `path` (which exists, owner-only)."""
    command = [tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={path}",
               f"--dbname={conninfo(url)}"]
    _run(command, "pg_dump", redact(url))


def _run(command: list[str], program: str, what: str) -> subprocess.CompletedProcess[bytes]:
    try:
        result = subprocess.run(command, capture_output=True, timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LedgerError("pgdump_failed", program=program, target=what, detail=exc) from None
    if result.returncode != 0:
        detail = (result.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit {result.returncode}"])[-1]
        raise LedgerError("pgdump_failed", program=program, target=what, detail=detail)
    return result


def verify(path: Path) -> DumpFacts:
    """Read the archive back (see the module docstring); LedgerError naming what does not hold."""
    listing = _run([tool("pg_restore"), "--list", str(path)], "pg_restore", str(path)).stdout.decode("utf-8", "replace")
    tables = set(re.findall(r"TABLE DATA \S+ (\w+) ", listing))
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise LedgerError("pgdump_not_a_ledger", path=path, table=missing[0])
    data = _run([tool("pg_restore"), "--data-only", "--table=audit", "--table=notices", "--table=paperlink_schema",
                 "--file=-", str(path)], "pg_restore", str(path)).stdout.decode("utf-8")
    copies = dict(_copy_blocks(data))
    version_rows = copies.get("paperlink_schema", ([], []))[1]
    notices = len(copies.get("notices", ([], []))[1])
    columns, rows = copies.get("audit", ([], []))
    prev = GENESIS
    for row in rows:
        entry = {name: value or "" for name, value in zip(columns, row, strict=True)}
        expected = entry_hash(prev, entry["at"], entry["actor"], entry["action"], entry["subject"], entry["detail"])
        if entry["prev_hash"] != prev or entry["hash"] != expected:
            raise LedgerError("pgdump_chain_broken", path=path, entry=entry["id"])
        prev = str(entry["hash"])
    version = int(version_rows[0][0] or 0) if version_rows else 0
    return DumpFacts(version, notices, len(rows), prev)


_COPY = re.compile(r"^COPY (?:\w+\.)?(\w+) \(([^)]*)\) FROM stdin;$")


def _copy_blocks(text: str) -> Iterator[tuple[str, tuple[list[str], list[list[str | None]]]]]:
    """Each table's COPY block in pg_restore's SQL output: (table, (columns, rows)), rows in the dump's order."""
    lines = iter(text.split("\n"))
    for line in lines:
        match = _COPY.match(line)
        if not match:
            continue
        columns = [c.strip().strip('"') for c in match.group(2).split(",")]
        rows: list[list[str | None]] = []
        for row in lines:
            if row == "\\.":
                break
            rows.append([_unescape(field) for field in row.split("\t")])
        if match.group(1) == "audit":
            rows.sort(key=lambda r: int(r[columns.index("id")] or 0))
        yield match.group(1), (columns, rows)


_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)")


def _unescape(field: str) -> str | None:
    """One field of COPY's text format (\\N is NULL; backslash escapes as PostgreSQL writes them)."""
    if field == "\\N":
        return None

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] == "x" and len(code) > 1:
            return chr(int(code[1:], 16))
        if code[0] in "01234567":
            return chr(int(code, 8))
        return _ESCAPES.get(code, code)

    return _ESCAPE.sub(one, field)


def manifest_facts(facts: DumpFacts) -> dict[str, Any]:
    """What the backup's manifest says of the archive, and how to restore it."""
    return {"format": "pg_dump custom", "schema_version": facts.schema_version, "notices": facts.notices,
            "audit_entries_in_backup": facts.audit_entries,
            "restore": "pg_restore --no-owner --dbname=<an empty database> FILE; then "
                       "paperlink --ledger <its URL> audit verify --anchor FILE.manifest.json"}

