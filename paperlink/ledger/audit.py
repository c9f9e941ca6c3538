"""The audit log: append-only (triggers refuse UPDATE and DELETE) and hash-chained.

Each entry's hash covers the previous entry's hash and its own content, so an entry altered or removed in
the middle breaks the chain from there on. Entries are appended inside the transaction of the change they
record, so a change and its audit entry commit together or not at all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paperlink.ledger.dialect import Db

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


def append(db: Db, at: str, actor: str, action: str, subject: str, detail: dict[str, Any]) -> None:
    """Append one entry after the current head of the chain (the caller holds the write transaction)."""
    row = db.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    prev = row["hash"] if row else GENESIS
    detail_json = json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = entry_hash(prev, at, actor, action, subject, detail_json)
    db.execute("INSERT INTO audit (at, actor, action, subject, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?)",
               (at, actor, action, subject, detail_json, prev, digest))


def entries(db: Db, subject: str | None = None) -> list[AuditEntry]:
    """Entries in order (all, or those of one subject)."""
    sql = "SELECT * FROM audit" + (" WHERE subject = ?" if subject else "") + " ORDER BY id"
    rows = db.execute(sql, (subject,) if subject else ()).fetchall()
    return [AuditEntry(r["id"], r["at"], r["actor"], r["action"], r["subject"], json.loads(r["detail"]),
                       r["prev_hash"], r["hash"]) for r in rows]


def count(db: Db) -> int:
    """How many entries the log holds."""
    return int(db.execute("SELECT COUNT(*) FROM audit").fetchone()[0])


def first_broken(db: Db) -> int | None:
    """The id of the first entry whose chain is broken, or None when the whole chain holds."""
    prev = GENESIS
    for r in db.execute("SELECT * FROM audit ORDER BY id"):
        expected = entry_hash(prev, r["at"], r["actor"], r["action"], r["subject"], r["detail"])
        if r["prev_hash"] != prev or r["hash"] != expected:
            return int(r["id"])
        prev = r["hash"]
    return None


def recent_actions(db: Db, actor: str, action: str, since: str, reset_action: str) -> int:
    """How many `action` entries of `actor` there are at or after `since` and after its last `reset_action`."""
    last_reset = db.execute("SELECT MAX(at) FROM audit WHERE actor = ? AND action = ?", (actor, reset_action)).fetchone()[0]
    row = db.execute("SELECT COUNT(*) FROM audit WHERE actor = ? AND action = ? AND at >= ? AND at > ?",
                     (actor, action, since, last_reset or "")).fetchone()
    return int(row[0])


# -- anchors: the chain's head held outside the ledger, under a key the ledger does not hold --------------------


@dataclass(frozen=True)
class Anchor:
    """The chain's head at one moment: how many entries the log held, the last entry's hash, and an HMAC.

    The HMAC (SHA-256, keyed with the data directory's audit key) covers the count and the head, so an
    anchor cannot be made up or altered without the key; and because the head hash chains every entry
    before it, a log whose entries up to `count` were altered – even with the hash chain recomputed – no
    longer matches the anchor, and a log cut back below `count` entries lacks the anchored entry.
    """

    count: int
    head: str
    mac: str
    at: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The anchor as it is written into reports, receipts and manifests."""
        return {"count": self.count, "head": self.head, "hmac": self.mac, "at": self.at}

    @classmethod
    def from_dict(cls, data: Any) -> Anchor | None:
        """An anchor read back from JSON, or None when `data` does not look like one."""
        if not isinstance(data, dict):
            return None
        count, head, mac, at = data.get("count"), data.get("head"), data.get("hmac"), data.get("at", "")
        if (type(count) is not int or count < 0 or not isinstance(head, str) or len(head) != 64
                or not isinstance(mac, str) or len(mac) != 64 or not isinstance(at, str)):
            return None
        return cls(count, head, mac, at)


def anchor_mac(key: bytes, count: int, head: str) -> str:
    """The HMAC-SHA256 of an anchor."""
    return hmac.new(key, f"paperlink-audit-anchor\x1f{count}\x1f{head}".encode("ascii"), hashlib.sha256).hexdigest()


def head(db: Db) -> tuple[int, str]:
    """How many entries the log holds and the hash of the last one (GENESIS for an empty log)."""
    # one statement, so one snapshot: read as two, another desk's commit between them would pair a count with
    # a later entry's hash – an anchor that the log itself never matches (seen with two desks on PostgreSQL)
    row = db.execute("SELECT COUNT(*) AS total, (SELECT hash FROM audit ORDER BY id DESC LIMIT 1) AS head"
                     " FROM audit").fetchone()
    return int(row["total"]), (row["head"] if row["head"] is not None else GENESIS)


def make_anchor(db: Db, key: bytes, at: str) -> Anchor:
    """The anchor of the log as it stands."""
    total, last = head(db)
    return Anchor(total, last, anchor_mac(key, total, last), at)


def anchor_problem(db: Db, anchor: Anchor, key: bytes) -> tuple[str, dict[str, Any]] | None:
    """Why the log does not match `anchor` (a message code and its parameters), or None when it does."""
    if not hmac.compare_digest(anchor.mac, anchor_mac(key, anchor.count, anchor.head)):
        return "audit_anchor_forged", {"count": anchor.count}
    if anchor.count == 0:
        return None
    row = db.execute("SELECT id, hash FROM audit ORDER BY id LIMIT 1 OFFSET ?", (anchor.count - 1,)).fetchone()
    if row is None:
        return "audit_anchor_missing", {"count": anchor.count, "held": count(db)}
    if row["hash"] != anchor.head:
        return "audit_anchor_mismatch", {"count": anchor.count, "entry": int(row["id"])}
    return None
def search(db: Db, *, actor: str | None = None, action: str | None = None,
           subject: str | None = None, since: str | None = None, until: str | None = None,
           offset: int = 0, limit: int = 100) -> tuple[list[AuditEntry], int]:
    """Entries newest first matching every filter given, one page of them, and how many match in all.

    `action` matches an action or its group (`entry` matches `entry.first`, …), in any case; `subject` matches a part of
    the subject (a batch id among several); `since`/`until` are UTC ISO times (`at >= since`, `at < until`).
    """
    where, params = [], []
    if actor:
        where.append("actor = ?")
        params.append(actor)
    if action:
        # lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not
        where.append("(lower(action) = lower(?) OR lower(action) LIKE lower(?) ESCAPE '\\')")
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


def actors(db: Db) -> list[str]:
    """Everyone who appears in the log, sorted."""
    return [str(r[0]) for r in db.execute("SELECT DISTINCT actor FROM audit ORDER BY actor")]
