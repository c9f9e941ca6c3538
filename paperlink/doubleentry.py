"""Double entry: a notice typed twice from paper, the second entry blind to the first, then compared.

1. The first entry is validated by the core (`parse_notice`) and, when the clerk types the printed check
   code, checked against it; nothing invalid is stored. Nothing of it is shown to anyone before the second
   entry (not even the typed notice id).
2. The second entry is made by another clerk (or, where the office allows it, the same clerk after a fresh
   login – a setting, and logged). It never sees the first entry's values.
3. Equal canonical records: the notice is done (完了) – provided the record also matches the cover sheet's
   manifest hash where the batch has one (two clerks who made the same slip are stopped there). Otherwise
   it is 不一致 and the differing items – only those – are re-keyed from the paper; a re-keyed value that
   equals one of the two entries settles that item (where both entries were wrong, a third value settles it
   once another clerk has re-keyed it the same way). When every item is settled the record is assembled,
   validated and checked against the check code and the manifest again, and is done.
Each step is one transaction with its audit entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from paperlink.checkcodes import normalise_check_code, record_check_code
from paperlink.confirm import WorkflowError, notice_row
from paperlink.errors import FieldError, NoticeInvalid, field_error
from paperlink.failpoints import failpoint
from paperlink.fields import BEFORE_KEYS, FIELD_BY_KEY, FIELDS, FieldProblem
from paperlink.ledger import Ledger, now
from paperlink.notice import Notice, parse_notice
from paperlink.users import User

SAME_CLERK_SETTING = "double_entry.allow_same_clerk"


@dataclass(frozen=True)
class EntryResult:
    """What an entry did: the notice's new state, the items that differ, or why nothing was stored."""

    state: str
    differences: tuple[str, ...] = ()
    errors: tuple[FieldError, ...] = ()
    stored: bool = True
    notice: Notice | None = field(default=None, compare=False)


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """A canonical record as flat items: `status`, …, `before.status`, … (absent before items as None)."""
    flat = {key: value for key, value in record.items() if key != "before"}
    flat.update({f"before.{key}": record["before"].get(key) for key in BEFORE_KEYS})
    return flat


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """The raw record for flat items (inverse of flatten)."""
    record = {spec.key: flat.get(spec.key) for spec in FIELDS}
    record["before"] = {key: flat[f"before.{key}"] for key in BEFORE_KEYS if flat.get(f"before.{key}")}
    return record


def _checks(row: dict[str, Any], notice: Notice, check_code: str | None, manifest: bool) -> list[FieldError]:
    errors = []
    if row["notice_id"] and row["notice_id"] != notice.notice_id:
        errors.append(field_error("notice_id", "entry_wrong_sheet", expected=row["notice_id"], value=notice.notice_id))
    if manifest and row["manifest_hash"] is not None and \
            notice.digest()[:len(row["manifest_hash"])] != bytes(row["manifest_hash"]):
        errors.append(field_error("(record)", "entry_manifest_mismatch"))
    if check_code and normalise_check_code(check_code) != record_check_code(notice):
        errors.append(field_error("check_code", "entry_check_code", value=normalise_check_code(check_code)))
    return errors


def _validate(row: dict[str, Any], raw: dict[str, Any], check_code: str | None,
              manifest: bool = False) -> tuple[Notice | None, list[FieldError]]:
    try:
        notice = parse_notice(raw)
    except NoticeInvalid as exc:
        return None, exc.errors
    return notice, _checks(row, notice, check_code, manifest)


def submit_entry(ledger: Ledger, row_id: int, raw: dict[str, Any], check_code: str | None, clerk: User) -> EntryResult:
    """A first or second entry of a notice typed from paper (see the module docstring)."""
    if not clerk.can("entry"):
        raise WorkflowError("入力の権限がありません")
    row = notice_row(ledger, row_id)
    if row["state"] not in ("missing", "first_entry"):
        raise WorkflowError(f"{row['notice_id'] or '通知'} は入力できる状態ではありません（状態: {row['state']}）")
    notice, errors = _validate(row, raw, check_code)
    if errors or notice is None:
        return EntryResult(str(row["state"]), errors=tuple(errors), stored=False)
    with ledger.transaction():
        row = notice_row(ledger, row_id)  # re-read inside the write lock
        if row["state"] == "missing":
            _store(ledger, row_id, 1, notice, check_code, clerk)
            failpoint("entry.first-in-transaction")
            # the typed notice id is not written onto the notice: the second clerk must not see it
            ledger.db.execute("UPDATE notices SET state = 'first_entry', updated_at = ? WHERE id = ?", (now(), row_id))
            ledger.audit(clerk.login, "entry.first", str(row["batch_id"]), seq=row["seq"], notice_id=notice.notice_id)
            return EntryResult("first_entry", notice=notice)
        first = _entry(ledger, row_id, 1)
        if first["clerk"] == clerk.login and ledger.setting(SAME_CLERK_SETTING, "0") != "1":
            raise WorkflowError("二回目の入力は一回目と別の職員が行ってください（設定で同一職員を許可できます）")
        differences = _differences(json.loads(first["record_json"]), notice.record())
        if not differences:
            agreed = _checks(row, notice, None, manifest=True)
            if agreed:  # both clerks typed the same, but not what was printed: nothing stored, look again
                return EntryResult("first_entry", errors=tuple(agreed), stored=False)
        _store(ledger, row_id, 2, notice, check_code, clerk)
        failpoint("entry.in-transaction")
        if not differences:
            _finish(ledger, row, notice, str(first["clerk"]), clerk, same=first["clerk"] == clerk.login)
            return EntryResult("done", notice=notice)
        ledger.db.execute("UPDATE notices SET state = 'mismatch', updated_at = ? WHERE id = ?", (now(), row_id))
        ledger.audit(clerk.login, "entry.mismatch", str(row["batch_id"]), seq=row["seq"], notice_id=row["notice_id"],
                     items=list(differences))
        return EntryResult("mismatch", differences=differences)


def differing_items(ledger: Ledger, row_id: int) -> tuple[str, ...]:
    """The items on which the two entries (with any settled re-keys) still differ."""
    first, second = _entry(ledger, row_id, 1), _entry(ledger, row_id, 2)
    settled = _settled(ledger, row_id)
    return tuple(k for k in _differences(json.loads(first["record_json"]), json.loads(second["record_json"]))
                 if k not in settled)


def resolve(ledger: Ledger, row_id: int, rekeyed: dict[str, str], clerk: User,
            check_code: str | None = None) -> EntryResult:
    """Re-keyed values for differing items: each one equal to either entry settles that item."""
    if not clerk.can("entry"):
        raise WorkflowError("入力の権限がありません")
    row = notice_row(ledger, row_id)
    if row["state"] != "mismatch":
        raise WorkflowError(f"{row['notice_id']} は不一致の状態ではありません")
    open_items = differing_items(ledger, row_id)
    first = flatten(json.loads(_entry(ledger, row_id, 1)["record_json"]))
    second = flatten(json.loads(_entry(ledger, row_id, 2)["record_json"]))
    settled_now: dict[str, Any] = {}
    errors: list[FieldError] = []
    candidates = _candidates(ledger, row_id)
    new_candidates: dict[str, Any] = {}
    for item in open_items:
        value = _normalise_item(item, rekeyed.get(item, ""), errors)
        if value is _INVALID:
            continue
        candidate = candidates.get(item)
        confirms = candidate is not None and candidate[0] == value and (
            candidate[1] != clerk.login or ledger.setting(SAME_CLERK_SETTING, "0") == "1")
        if value in (first[item], second[item]) or confirms:
            settled_now[item] = value
        else:
            new_candidates[item] = value
            errors.append(field_error(item, "entry_rekey_differs"))
    remaining = tuple(item for item in open_items if item not in settled_now)
    notice = None
    if not remaining:  # every item settled: the assembled record must pass every check before anything is kept
        merged = dict(first)
        merged.update(_settled(ledger, row_id))
        merged.update(settled_now)
        notice, problems = _validate(row, unflatten(merged), check_code, manifest=True)
        if problems or notice is None:
            return EntryResult("mismatch", differences=open_items, errors=tuple(problems), stored=False)
    with ledger.transaction():
        if new_candidates:
            ledger.db.execute("INSERT INTO entries (notice_row, round, record_json, check_code, clerk, entered_at)"
                              " VALUES (?, 4, ?, NULL, ?, ?)",
                              (row_id, json.dumps(new_candidates, ensure_ascii=False), clerk.login, now()))
            ledger.audit(clerk.login, "entry.rekey_candidate", str(row["batch_id"]), seq=row["seq"],
                         notice_id=row["notice_id"], items=sorted(new_candidates))
        if settled_now:
            ledger.db.execute("INSERT INTO entries (notice_row, round, record_json, check_code, clerk, entered_at)"
                              " VALUES (?, 3, ?, NULL, ?, ?)",
                              (row_id, json.dumps(settled_now, ensure_ascii=False), clerk.login, now()))
            ledger.audit(clerk.login, "entry.rekeyed", str(row["batch_id"]), seq=row["seq"],
                         notice_id=row["notice_id"], settled=sorted(settled_now))
        failpoint("entry.resolve-in-transaction")
        if notice is not None:
            _finish(ledger, notice_row(ledger, row_id), notice, str(_entry(ledger, row_id, 1)["clerk"]), clerk,
                    same=False)
            return EntryResult("done", notice=notice)
    return EntryResult("mismatch", differences=remaining, errors=tuple(errors), stored=bool(settled_now))


_INVALID = object()


def _normalise_item(item: str, text: str, errors: list[FieldError]) -> Any:
    key = item.removeprefix("before.")
    if not text.strip():
        return None
    try:
        value = FIELD_BY_KEY[key].normalise(text)
    except FieldProblem as exc:
        errors.append(field_error(item, exc.code, **exc.params))
        return _INVALID
    return value.isoformat() if hasattr(value, "isoformat") else value


def _differences(a: dict[str, Any], b: dict[str, Any]) -> tuple[str, ...]:
    fa, fb = flatten(a), flatten(b)
    return tuple(k for k in fa if fa[k] != fb[k])


def _entry(ledger: Ledger, row_id: int, round_: int) -> Any:
    row = ledger.db.execute("SELECT * FROM entries WHERE notice_row = ? AND round = ? ORDER BY id DESC LIMIT 1",
                            (row_id, round_)).fetchone()
    if row is None:
        raise WorkflowError("入力が見つかりません")
    return row


def _settled(ledger: Ledger, row_id: int) -> dict[str, Any]:
    settled: dict[str, Any] = {}
    for r in ledger.query("SELECT record_json FROM entries WHERE notice_row = ? AND round = 3 ORDER BY id", (row_id,)):
        settled.update(json.loads(r["record_json"]))
    return settled


def _candidates(ledger: Ledger, row_id: int) -> dict[str, tuple[Any, str]]:
    """Re-keyed values that matched neither entry, latest per item, with the clerk who keyed them.

    The same value keyed again by another clerk (or by the same one where the office allows it) settles it.
    """
    found: dict[str, tuple[Any, str]] = {}
    for r in ledger.query("SELECT record_json, clerk FROM entries WHERE notice_row = ? AND round = 4 ORDER BY id",
                          (row_id,)):
        found.update({item: (value, r["clerk"]) for item, value in json.loads(r["record_json"]).items()})
    return found


def _store(ledger: Ledger, row_id: int, round_: int, notice: Notice, check_code: str | None, clerk: User) -> None:
    ledger.db.execute("INSERT INTO entries (notice_row, round, record_json, check_code, clerk, entered_at)"
                      " VALUES (?,?,?,?,?,?)", (row_id, round_, notice.canonical_json(),
                                                normalise_check_code(check_code) if check_code else None,
                                                clerk.login, now()))


def _finish(ledger: Ledger, row: dict[str, Any], notice: Notice, entered_by: str, clerk: User, same: bool) -> None:
    ledger.db.execute("UPDATE notices SET state = 'done', notice_id = ?, record_json = ?, digest = ?, updated_at = ?"
                      " WHERE id = ?", (notice.notice_id, notice.canonical_json(), notice.digest(), now(), row["id"]))
    ledger.db.execute("INSERT INTO verifications (notice_row, method, entered_by, verified_by, verified_at, reason)"
                      " VALUES (?, 'double_entry', ?, ?, ?, ?)",
                      (row["id"], entered_by, clerk.login, now(), "same clerk after a fresh login" if same else None))
    ledger.audit(clerk.login, "entry.done", str(row["batch_id"]), seq=row["seq"], notice_id=notice.notice_id,
                 entered_by=entered_by, same_clerk=same)


def new_manual_notice(ledger: Ledger, clerk: User, day: str) -> int:
    """A notice row for paper without a code (e.g. a printout from another system), in the day's manual batch."""
    if not clerk.can("entry"):
        raise WorkflowError("入力の権限がありません")
    batch_id = f"M{day.replace('-', '')}"
    with ledger.transaction():
        batch = ledger.db.execute("SELECT total FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
        seq = (batch["total"] if batch else 0) + 1
        if batch is None:
            ledger.db.execute("INSERT INTO batches (batch_id, transport, total, key_id, registered_at, registered_by)"
                              " VALUES (?, 'paper', 1, NULL, ?, ?)", (batch_id, now(), clerk.login))
        else:
            ledger.db.execute("UPDATE batches SET total = ? WHERE batch_id = ?", (seq, batch_id))
        cursor = ledger.db.execute("INSERT INTO notices (batch_id, seq, updated_at) VALUES (?, ?, ?)",
                                   (batch_id, seq, now()))
        ledger.audit(clerk.login, "entry.manual_notice", batch_id, seq=seq)
    return int(cursor.lastrowid or 0)
