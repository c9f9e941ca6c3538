"""Double entry: a notice typed twice from paper, the second entry blind to the first, then compared.

1. The first entry is validated by the core (`parse_notice`) and, when the clerk types the printed check
   code, checked against it; nothing invalid is stored. Nothing of it is shown to anyone before the second
   entry (not even the typed notice id).
2. The second entry is made by another clerk (or, where the office allows it, the same clerk after a fresh
   login – a setting, and logged). It never sees the first entry's values.
3. Equal canonical records: the notice is done (完了) – provided the record also matches the cover sheet's
   manifest hash where the batch has one (two clerks who made the same slip are stopped there). Otherwise
   it is 不一致 and the differing items – only those – are re-keyed from the paper; a re-keyed value that
   is settled once two *different* clerks have keyed it – in an entry or a re-key (so the first clerk
   re-keying their own value settles nothing; a third value settles once another clerk keys it the same
   way). Where the office allows one clerk to do both entries, that clerk's own value counts twice only
   after a fresh login, recorded as such. When every item is settled the record is assembled, validated
   and checked against the check code and the manifest again, and is done. The verification and the audit
   log name every clerk who keyed a winning value.
Each step is one transaction with its audit entry.

A sheet whose code cannot be read may have items proven from its printed text (`printedtext.py`: each item's
OCR value matched its printed check characters). Those items are given to the first entry as `printed`: they
count as keyed once by the sheet, the first entry keeps them as read (the clerk types the rest and must type
the sheet's check code), and they are stored with the entry's `printed` list. The second entry covers only the
typed items – the proven ones are taken from the first entry – and the assembled record must match the
typed check code (and the manifest, where there is one) before the notice is done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from paperlink.checkcodes import normalise_check_code, record_check_code
from paperlink.confirm import WorkflowError, get_notice
from paperlink.errors import FieldError, NoticeInvalid, field_error
from paperlink.failpoints import failpoint
from paperlink.fields import BEFORE_KEYS, FIELD_BY_KEY, FIELDS, FieldProblem
from paperlink.intake import typed_foreign_municipality
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


def printed_items(ledger: Ledger, pk: int) -> dict[str, Any]:
    """The items of a notice's first entry that were proven from the printed text, with their values ({} if none)."""
    first = store.latest_entry(ledger, pk, EntryRound.FIRST)
    if first is None or not first.printed:
        return {}
    values = first.values()
    return {key: values[key] for key in first.printed if key in values}


def _with_printed(raw: dict[str, Any], printed: Mapping[str, Any]) -> dict[str, Any]:
    """The raw record with the proven items' values put in (whatever the form said for them)."""
    merged = dict(raw)
    merged.update({key: value for key, value in printed.items() if key in FIELD_BY_KEY})
    return merged


def submit_entry(ledger: Ledger, pk: int, raw: dict[str, Any], check_code: str | None, clerk: User,
                 printed: Mapping[str, str] | None = None,
                 printed_from: tuple[str, int] | None = None) -> EntryResult:
    """A first or second entry of a notice typed from paper (see the module docstring).

    `printed` (first entry only): items proven from the sheet's printed text, as canonical values;
    `printed_from`: the file and page they were read from (named in the audit log).
    """
    if not clerk.can("entry"):
        raise WorkflowError("workflow_entry_role")
    row = get_notice(ledger, pk)
    if row.state not in ENTRY_STATES:
        raise WorkflowError("workflow_not_enterable", notice_id=row.notice_id or f"#{pk}", state=row.state)
    # the second entry: the items the sheet proved are not typed again, they are taken from the first
    proven = dict(printed or {}) if row.state is NoticeState.MISSING else printed_items(ledger, pk)
    if proven:
        raw = _with_printed(raw, proven)
    notice, errors = _validate(row, raw, check_code)
    if proven and row.state is NoticeState.MISSING and not (check_code or "").strip():
        errors.append(field_error("check_code", "entry_printed_check_code"))
    errors += _municipality_checks(ledger, notice)
    if errors or notice is None:
        return EntryResult(row.state, errors=tuple(errors), stored=False)
    with ledger.transaction():
        row = get_notice(ledger, pk)  # re-read inside the write lock: another desk may have moved it meanwhile
        if row.state not in ENTRY_STATES:
            raise WorkflowError("workflow_not_enterable", notice_id=row.notice_id or f"#{pk}", state=row.state)
        if row.state is NoticeState.MISSING:
            _store(ledger, pk, EntryRound.FIRST, notice, check_code, clerk, tuple(sorted(proven)))
            failpoint("entry.first-in-transaction")
            # the typed notice id is not written onto the notice: the second clerk must not see it
            store.move_notice(ledger, pk, NoticeState.FIRST_ENTRY)
            # nor into the audit log, which 審査/管理 clerks read before the second entry: the id the cover listed
            # (if any) is named, never the one typed; which items the printed text proved is named (not their values)
            source, page = printed_from if proven and printed_from else (None, None)
            ledger.audit(clerk.login, "entry.first", row.batch_id, seq=row.seq, notice_id=row.notice_id,
                         printed=sorted(proven) or None, source=source, page=page)
            return EntryResult(NoticeState.FIRST_ENTRY, notice=notice)
        first = _entry(ledger, pk, EntryRound.FIRST)
        if first.clerk == clerk.login and ledger.setting(SAME_CLERK_SETTING, "0") != "1":
            raise WorkflowError("workflow_second_clerk")
        differences = _differences(first.values(), notice.record())
        if not differences:
            # a record partly proven by the printed text is settled only if it matches the sheet's check code
            agreed = _checks(row, notice, first.check_code if first.printed else None, manifest=True)
            if agreed:  # both clerks typed the same, but not what was printed: nothing stored, look again
                return EntryResult(NoticeState.FIRST_ENTRY, errors=tuple(agreed), stored=False)
        _store(ledger, pk, EntryRound.SECOND, notice, check_code, clerk)
        failpoint("entry.in-transaction")
        if not differences:
            _finish(ledger, row, notice, [first.clerk, clerk.login] if first.clerk != clerk.login else [clerk.login],
                    clerk, same=first.clerk == clerk.login)
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
            check_code: str | None = None, *, reauthenticated: bool = False) -> EntryResult:
    """Re-keyed values for differing items: a value settles an item once two different clerks have keyed it.

    Every keying counts – the first and second entries, earlier re-keys and this one. A value only this clerk
    ever keyed stays a candidate (`entry_rekey_one_clerk`) – unless the office allows one clerk to do both
    entries and this clerk has just logged in again (`reauthenticated`), which is recorded as such.
    """
    if not clerk.can("entry"):
        raise WorkflowError("workflow_entry_role")
    row = get_notice(ledger, pk)
    if row.state is not NoticeState.MISMATCH:
        raise WorkflowError("workflow_not_mismatch", notice_id=row.notice_id or f"#{pk}")
    open_items = differing_items(ledger, pk)
    first = flatten(_entry(ledger, pk, EntryRound.FIRST).values())
    settled_now: dict[str, Any] = {}
    errors: list[FieldError] = []
    new_candidates: dict[str, Any] = {}
    alone = ledger.setting(SAME_CLERK_SETTING, "0") == "1" and reauthenticated
    same_clerk = False
    for item in open_items:
        if item not in rekeyed:
            continue  # not re-keyed this time: stays open (the clerk may settle one item at a time)
        value = _normalise_item(item, rekeyed.get(item, ""), errors)
        if value is _INVALID:
            continue
        keyers = [who for keyed, who in _keyings(ledger, pk, item) if keyed == value] + [clerk.login]
        if len(set(keyers)) >= 2:
            settled_now[item] = value
        elif len(keyers) >= 2 and alone:
            settled_now[item] = value
            same_clerk = True
        else:
            new_candidates[item] = value
            errors.append(field_error(item, "entry_rekey_one_clerk" if len(keyers) >= 2 else "entry_rekey_differs"))
    remaining = tuple(item for item in open_items if item not in settled_now)
    notice = None
    if not remaining:  # every item settled: the assembled record must pass every check before anything is kept
        merged = dict(first)
        merged.update(_settled(ledger, pk))
        merged.update(settled_now)
        notice, problems = _validate(row, unflatten(merged), check_code, manifest=True)
        problems += _municipality_checks(ledger, notice)
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
                         notice_id=row.notice_id, settled=sorted(settled_now), same_clerk=same_clerk)
        failpoint("entry.resolve-in-transaction")
        if notice is not None:
            same = same_clerk or _was_same_clerk(ledger, pk)
            _finish(ledger, get_notice(ledger, pk), notice, keyed_by(ledger, pk, notice), clerk, same=same)
            return EntryResult(NoticeState.DONE, notice=notice)
    return EntryResult(NoticeState.MISMATCH, differences=remaining, errors=tuple(errors), stored=bool(settled_now))


def _keyings(ledger: Ledger, pk: int, item: str) -> list[tuple[Any, str]]:
    """Every value keyed for one item, with its clerk: both entries, then every re-key, oldest first."""
    out = []
    for round_ in (EntryRound.FIRST, EntryRound.SECOND):
        entry = store.latest_entry(ledger, pk, round_)
        if entry is not None:
            out.append((flatten(entry.values()).get(item), entry.clerk))
    rekeys = store.entries(ledger, pk, EntryRound.CANDIDATE) + store.entries(ledger, pk, EntryRound.SETTLED)
    for entry in sorted(rekeys, key=lambda e: e.id):
        values = entry.values()
        if item in values:
            out.append((values[item], entry.clerk))
    return out


def keyed_by(ledger: Ledger, pk: int, notice: Notice) -> list[str]:
    """Every clerk who keyed a value that won (for any item of the settled record), in the order they keyed."""
    flat = flatten(notice.record())
    clerks: list[str] = []
    for item, value in flat.items():
        for keyed, who in _keyings(ledger, pk, item):
            if keyed == value and who not in clerks:
                clerks.append(who)
    return clerks


def _was_same_clerk(ledger: Ledger, pk: int) -> bool:
    first, second = store.latest_entry(ledger, pk, EntryRound.FIRST), store.latest_entry(ledger, pk, EntryRound.SECOND)
    return first is not None and second is not None and first.clerk == second.clerk


def _municipality_checks(ledger: Ledger, notice: Notice | None) -> list[FieldError]:
    """A typed notice addressed to another municipality cannot be entered at this office."""
    if notice is None:
        return []
    office = typed_foreign_municipality(ledger, notice.municipality_code)
    if office is None:
        return []
    return [field_error("municipality_code", "entry_foreign_municipality", value=notice.municipality_code,
                        office=office)]


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


def _store(ledger: Ledger, pk: int, round_: EntryRound, notice: Notice, check_code: str | None, clerk: User,
           printed: tuple[str, ...] = ()) -> None:
    store.add_entry(ledger, pk, round_, notice.canonical_json(), clerk.login,
                    normalise_check_code(check_code) if check_code else None, printed)


SAME_CLERK_REASON = "同じ職員が再認証のうえ入力（一人体制の設定）"
"""The verification's reason when one clerk keyed the winning values twice, as the office's setting allows."""


def _finish(ledger: Ledger, row: NoticeRow, notice: Notice, entered_by: list[str], clerk: User, same: bool) -> None:
    """完了, with every clerk who keyed the winning values named in the verification and the audit log."""
    store.move_notice(ledger, row.id, NoticeState.DONE, record=notice)
    store.add_verification(ledger, row.id, VerificationMethod.DOUBLE_ENTRY, clerk.login,
                           entered_by=", ".join(entered_by), reason=SAME_CLERK_REASON if same else None)
    ledger.audit(clerk.login, "entry.done", row.batch_id, seq=row.seq, notice_id=notice.notice_id,
                 entered_by=entered_by, same_clerk=same, printed=sorted(printed_items(ledger, row.id)) or None)


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
