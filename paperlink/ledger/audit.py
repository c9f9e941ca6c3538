"""The audit log: append-only (triggers refuse UPDATE and DELETE) and hash-chained.

Each entry's hash covers the previous entry's hash and its own content, so an entry altered or removed in
the middle breaks the chain from there on. Entries are appended inside the transaction of the change they
record, so a change and its audit entry commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
"""The previous hash of the first entry."""


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


def append(db: sqlite3.Connection, at: str, actor: str, action: str, subject: str, detail: dict[str, Any]) -> None:
    """Append one entry after the current head of the chain (the caller holds the write transaction)."""
    row = db.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    prev = row["hash"] if row else GENESIS
    detail_json = json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = entry_hash(prev, at, actor, action, subject, detail_json)
    db.execute("INSERT INTO audit (at, actor, action, subject, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?)",
               (at, actor, action, subject, detail_json, prev, digest))


def entries(db: sqlite3.Connection, subject: str | None = None) -> list[AuditEntry]:
    """Entries in order (all, or those of one subject)."""
    sql = "SELECT * FROM audit" + (" WHERE subject = ?" if subject else "") + " ORDER BY id"
    rows = db.execute(sql, (subject,) if subject else ()).fetchall()
    return [AuditEntry(r["id"], r["at"], r["actor"], r["action"], r["subject"], json.loads(r["detail"]),
                       r["prev_hash"], r["hash"]) for r in rows]


def count(db: sqlite3.Connection) -> int:
    """How many entries the log holds."""
    return int(db.execute("SELECT COUNT(*) FROM audit").fetchone()[0])


def first_broken(db: sqlite3.Connection) -> int | None:
    """The id of the first entry whose chain is broken, or None when the whole chain holds."""
    prev = GENESIS
    for r in db.execute("SELECT * FROM audit ORDER BY id"):
        expected = entry_hash(prev, r["at"], r["actor"], r["action"], r["subject"], r["detail"])
        if r["prev_hash"] != prev or r["hash"] != expected:
            return int(r["id"])
        prev = r["hash"]
    return None


def recent_actions(db: sqlite3.Connection, actor: str, action: str, since: str, reset_action: str) -> int:
    """How many `action` entries of `actor` there are at or after `since` and after its last `reset_action`."""
    last_reset = db.execute("SELECT MAX(at) FROM audit WHERE actor = ? AND action = ?", (actor, reset_action)).fetchone()[0]
    row = db.execute("SELECT COUNT(*) FROM audit WHERE actor = ? AND action = ? AND at >= ? AND at > ?",
                     (actor, action, since, last_reset or "")).fetchone()
    return int(row[0])


def search(db: sqlite3.Connection, *, actor: str | None = None, action: str | None = None,
           subject: str | None = None, since: str | None = None, until: str | None = None,
           offset: int = 0, limit: int = 100) -> tuple[list[AuditEntry], int]:
    """Entries newest first matching every filter given, one page of them, and how many match in all.

    `action` matches an action or its group (`entry` matches `entry.first`, …); `subject` matches a part of
    the subject (a batch id among several); `since`/`until` are UTC ISO times (`at >= since`, `at < until`).
    """
    where, params = [], []
    if actor:
        where.append("actor = ?")
        params.append(actor)
    if action:
        where.append("(action = ? OR action LIKE ? ESCAPE '\\')")
        params += [action, action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%"]
    if subject:
        where.append("instr(subject, ?) > 0")
        params.append(subject)
    if since:
        where.append("at >= ?")
        params.append(since)
    if until:
        where.append("at < ?")
        params.append(until)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    total = int(db.execute("SELECT COUNT(*) FROM audit" + clause, params).fetchone()[0])
    rows = db.execute("SELECT * FROM audit" + clause + " ORDER BY id DESC LIMIT ? OFFSET ?", [*params, limit, offset])
    return [AuditEntry(r["id"], r["at"], r["actor"], r["action"], r["subject"], json.loads(r["detail"]),
                       r["prev_hash"], r["hash"]) for r in rows], total


def actors(db: sqlite3.Connection) -> list[str]:
    """Everyone who appears in the log, sorted."""
    return [str(r[0]) for r in db.execute("SELECT DISTINCT actor FROM audit ORDER BY actor")]
