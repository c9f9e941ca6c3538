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

from dataclasses import dataclass, field
from typing import Any

from paperlink.checkcodes import normalise_check_code, record_check_code
from paperlink.confirm import WorkflowError, get_notice
from paperlink.errors import FieldError, NoticeInvalid, field_error
from paperlink.failpoints import failpoint
from paperlink.fields import BEFORE_KEYS, FIELD_BY_KEY, FIELDS, FieldProblem
from paperlink.ledger import ENTRY_STATES, EntryRound, Ledger, NoticeState, VerificationMethod, store
from paperlink.ledger.rows import EntryRow, NoticeRow
from paperlink.notice import WAS_EMPTY_TEXT, Notice, before_from_text, parse_notice
from paperlink.users import User

SAME_CLERK_SETTING = "double_entry.allow_same_clerk"


@dataclass(frozen=True)
class EntryResult:
    """What an entry did: the notice's new state, the items that differ, or why nothing was stored."""

    state: NoticeState
    differences: tuple[str, ...] = ()
    errors: tuple[FieldError, ...] = ()
    stored: bool = True
    notice: Notice | None = field(default=None, compare=False)


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """A canonical record as flat items: `status`, …, `before.status`, … (absent before items as None)."""
    flat = {key: value for key, value in record.items() if key != "before"}
    flat.update({f"before.{key}": (WAS_EMPTY_TEXT if record["before"][key] is None else record["before"][key])
                 if key in record["before"] else None for key in BEFORE_KEYS})
    return flat


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """The raw record for flat items (inverse of flatten)."""
    record = {spec.key: flat.get(spec.key) for spec in FIELDS}
    record["before"] = {key: before_from_text(flat[f"before.{key}"]) for key in BEFORE_KEYS if flat.get(f"before.{key}")}
    return record


def _checks(row: NoticeRow, notice: Notice, check_code: str | None, manifest: bool) -> list[FieldError]:
    errors = []
    if row.notice_id and row.notice_id != notice.notice_id:
        errors.append(field_error("notice_id", "entry_wrong_sheet", expected=row.notice_id, value=notice.notice_id))
    if manifest and not store.digest_matches(row.manifest_hash, notice.digest()):
        errors.append(field_error("(record)", "entry_manifest_mismatch"))
    if check_code and normalise_check_code(check_code) != record_check_code(notice):
        errors.append(field_error("check_code", "entry_check_code", value=normalise_check_code(check_code)))
    return errors


def _validate(row: NoticeRow, raw: dict[str, Any], check_code: str | None,
              manifest: bool = False) -> tuple[Notice | None, list[FieldError]]:
    try:
        notice = parse_notice(raw)
    except NoticeInvalid as exc:
        return None, exc.errors
    return notice, _checks(row, notice, check_code, manifest)


def submit_entry(ledger: Ledger, pk: int, raw: dict[str, Any], check_code: str | None, clerk: User) -> EntryResult:
    """A first or second entry of a notice typed from paper (see the module docstring)."""
    if not clerk.can("entry"):
        raise WorkflowError("workflow_entry_role")
    row = get_notice(ledger, pk)
    if row.state not in ENTRY_STATES:
        raise WorkflowError("workflow_not_enterable", notice_id=row.notice_id or f"#{pk}", state=row.state.value)
    notice, errors = _validate(row, raw, check_code)
    if errors or notice is None:
        return EntryResult(row.state, errors=tuple(errors), stored=False)
    with ledger.transaction():
        row = get_notice(ledger, pk)  # re-read inside the write lock
        if row.state is NoticeState.MISSING:
            _store(ledger, pk, EntryRound.FIRST, notice, check_code, clerk)
            failpoint("entry.first-in-transaction")
            # the typed notice id is not written onto the notice: the second clerk must not see it
            store.move_notice(ledger, pk, NoticeState.FIRST_ENTRY)
            ledger.audit(clerk.login, "entry.first", row.batch_id, seq=row.seq, notice_id=notice.notice_id)
            return EntryResult(NoticeState.FIRST_ENTRY, notice=notice)
        first = _entry(ledger, pk, EntryRound.FIRST)
        if first.clerk == clerk.login and ledger.setting(SAME_CLERK_SETTING, "0") != "1":
            raise WorkflowError("workflow_second_clerk")
        differences = _differences(first.values(), notice.record())
        if not differences:
            agreed = _checks(row, notice, None, manifest=True)
            if agreed:  # both clerks typed the same, but not what was printed: nothing stored, look again
                return EntryResult(NoticeState.FIRST_ENTRY, errors=tuple(agreed), stored=False)
        _store(ledger, pk, EntryRound.SECOND, notice, check_code, clerk)
        failpoint("entry.in-transaction")
        if not differences:
            _finish(ledger, row, notice, first.clerk, clerk, same=first.clerk == clerk.login)
            return EntryResult(NoticeState.DONE, notice=notice)
        store.move_notice(ledger, pk, NoticeState.MISMATCH)
        ledger.audit(clerk.login, "entry.mismatch", row.batch_id, seq=row.seq, notice_id=row.notice_id,
                     items=list(differences))
        return EntryResult(NoticeState.MISMATCH, differences=differences)


def differing_items(ledger: Ledger, pk: int) -> tuple[str, ...]:
    """The items on which the two entries (with any settled re-keys) still differ."""
    first, second = _entry(ledger, pk, EntryRound.FIRST), _entry(ledger, pk, EntryRound.SECOND)
    settled = _settled(ledger, pk)
    return tuple(k for k in _differences(first.values(), second.values()) if k not in settled)


def resolve(ledger: Ledger, pk: int, rekeyed: dict[str, str], clerk: User,
            check_code: str | None = None) -> EntryResult:
    """Re-keyed values for differing items: each one equal to either entry settles that item."""
    if not clerk.can("entry"):
        raise WorkflowError("workflow_entry_role")
    row = get_notice(ledger, pk)
    if row.state is not NoticeState.MISMATCH:
        raise WorkflowError("workflow_not_mismatch", notice_id=row.notice_id or f"#{pk}")
    open_items = differing_items(ledger, pk)
    first = flatten(_entry(ledger, pk, EntryRound.FIRST).values())
    second = flatten(_entry(ledger, pk, EntryRound.SECOND).values())
    settled_now: dict[str, Any] = {}
    errors: list[FieldError] = []
    candidates = _candidates(ledger, pk)
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
        merged.update(_settled(ledger, pk))
        merged.update(settled_now)
        notice, problems = _validate(row, unflatten(merged), check_code, manifest=True)
        if problems or notice is None:
            return EntryResult(NoticeState.MISMATCH, differences=open_items, errors=tuple(problems), stored=False)
    with ledger.transaction():
        if new_candidates:
            store.add_entry(ledger, pk, EntryRound.CANDIDATE, new_candidates, clerk.login)
            ledger.audit(clerk.login, "entry.rekey_candidate", row.batch_id, seq=row.seq,
                         notice_id=row.notice_id, items=sorted(new_candidates))
        if settled_now:
            store.add_entry(ledger, pk, EntryRound.SETTLED, settled_now, clerk.login)
            ledger.audit(clerk.login, "entry.rekeyed", row.batch_id, seq=row.seq,
                         notice_id=row.notice_id, settled=sorted(settled_now))
        failpoint("entry.resolve-in-transaction")
        if notice is not None:
            _finish(ledger, get_notice(ledger, pk), notice, _entry(ledger, pk, EntryRound.FIRST).clerk, clerk,
                    same=False)
            return EntryResult(NoticeState.DONE, notice=notice)
    return EntryResult(NoticeState.MISMATCH, differences=remaining, errors=tuple(errors), stored=bool(settled_now))


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


def _entry(ledger: Ledger, pk: int, round_: EntryRound) -> EntryRow:
    entry = store.latest_entry(ledger, pk, round_)
    if entry is None:
        raise WorkflowError("workflow_entry_missing")
    return entry


def _settled(ledger: Ledger, pk: int) -> dict[str, Any]:
    settled: dict[str, Any] = {}
    for entry in store.entries(ledger, pk, EntryRound.SETTLED):
        settled.update(entry.values())
    return settled


def _candidates(ledger: Ledger, pk: int) -> dict[str, tuple[Any, str]]:
    """Re-keyed values that matched neither entry, latest per item, with the clerk who keyed them.

    The same value keyed again by another clerk (or by the same one where the office allows it) settles it.
    """
    found: dict[str, tuple[Any, str]] = {}
    for entry in store.entries(ledger, pk, EntryRound.CANDIDATE):
        found.update({item: (value, entry.clerk) for item, value in entry.values().items()})
    return found


def _store(ledger: Ledger, pk: int, round_: EntryRound, notice: Notice, check_code: str | None, clerk: User) -> None:
    store.add_entry(ledger, pk, round_, notice.canonical_json(), clerk.login,
                    normalise_check_code(check_code) if check_code else None)


def _finish(ledger: Ledger, row: NoticeRow, notice: Notice, entered_by: str, clerk: User, same: bool) -> None:
    store.move_notice(ledger, row.id, NoticeState.DONE, record=notice)
    store.add_verification(ledger, row.id, VerificationMethod.DOUBLE_ENTRY, clerk.login, entered_by=entered_by,
                           reason="same clerk after a fresh login" if same else None)
    ledger.audit(clerk.login, "entry.done", row.batch_id, seq=row.seq, notice_id=notice.notice_id,
                 entered_by=entered_by, same_clerk=same)


def manual_batch_id(day: str) -> str:
    """The id of the day's batch of notices typed from paper without a code (M + yyyymmdd)."""
    return f"M{day.replace('-', '')}"


def new_manual_notice(ledger: Ledger, clerk: User, day: str) -> int:
    """A notice row for paper without a code (e.g. a printout from another system), in the day's manual batch."""
    if not clerk.can("entry"):
        raise WorkflowError("workflow_entry_role")
    batch_id = manual_batch_id(day)
    with ledger.transaction():
        pk, seq = store.add_manual_notice(ledger, batch_id, clerk.login)
        ledger.audit(clerk.login, "entry.manual_notice", batch_id, seq=seq)
    return pk
