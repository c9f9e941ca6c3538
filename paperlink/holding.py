"""One bad notice holds one notice: reading a batch for printing, sending or bundling without refusing it whole.

`read_holding(path)` reads a notice data file (JSON Lines or CSV) as `read_notices` does, but a record that
fails validation – or repeats an earlier notice id – is **held** with its reason (file, line, every problem)
instead of stopping the file; only what is no record at all (an unreadable file, a bad header, an empty
line) still refuses the whole file. `hold_unprintable` then holds the notices with a character no print font
has. What is held is listed on the cover sheet and in the command's output, recorded in the sending side's
outbox, and reported in `paperlink status` until the corrected notice is sent again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paperlink.datafile import Collector, read_bytes
from paperlink.errors import DataFileError, PaperlinkError
from paperlink.ledger import Ledger, store
from paperlink.ledger.rows import NoticeRow
from paperlink.messages import render
from paperlink.notice import Notice

_WHOLE_FILE_FIELDS = frozenset({"(file)", "(header)"})


@dataclass(frozen=True)
class Held:
    """A notice held back with its reason: a message code and parameters (worded in either language)."""

    notice_id: str | None
    line: int | None
    code: str
    params: dict[str, str] = field(default_factory=dict)
    raw: str | None = None
    """The record as received, when it could not be read as a notice (kept with the hold, for correcting it)."""

    def message(self, lang: str = "en") -> str:
        """The reason, in English or Japanese."""
        return hold_text(self.code, self.params, lang)

    @property
    def message_ja(self) -> str:
        """The reason in Japanese (cover sheet, screen)."""
        return self.message("ja")

    @property
    def label(self) -> str:
        """How the held notice is named: its id, or its line when it has no readable id."""
        return self.notice_id or f"line {self.line}"

    @classmethod
    def of_error(cls, notice_id: str | None, line: int | None, error: PaperlinkError) -> Held:
        """The hold for a core error."""
        return cls(notice_id, line, error.code, dict(error.params))


@dataclass(frozen=True)
class HeldRead:
    """A file read for sending: the notices that go on, in file order, and those held."""

    notices: list[Notice]
    held: list[Held]


def read_holding(path: str | os.PathLike[str]) -> HeldRead:
    """Read a notice data file for sending, holding each bad record (see the module docstring); DataFileError if the
    file as a whole cannot be read, or if every record in it would be held (there is nothing to send)."""
    data = read_bytes(path)
    read = parse_holding(data, str(path))
    if read.held and not read.notices:
        from paperlink.csvformat import parse_csv
        from paperlink.dataformat import parse_jsonl

        name = str(path)
        (parse_csv if name.lower().endswith(".csv") else parse_jsonl)(data, name, Collector(name))  # raises, listing all
    return read


def parse_holding(data: bytes, name: str) -> HeldRead:
    """`read_holding` for a file's bytes (`name` in messages; a name ending .csv is read as CSV)."""
    from paperlink.csvformat import parse_csv
    from paperlink.dataformat import parse_jsonl

    col = Collector(name)
    try:
        notices = (parse_csv if name.lower().endswith(".csv") else parse_jsonl)(data, name, col)
        return HeldRead(notices, [])
    except DataFileError as exc:
        problems = exc.problems
    announced = _announced(data) if not name.lower().endswith(".csv") else None
    problems = [p for p in problems  # a header count that counts the unreadable lines too is right
                if not (p.line == 1 and p.field == "count" and announced == len(col.lines))]
    whole = [p for p in problems if p.field in _WHOLE_FILE_FIELDS or p.line not in col.lines
             or (p.line == 1 and p.field in ("format", "version", "count", "(line)"))]
    if whole or not col.lines:
        raise DataFileError(whole or problems)
    by_line: dict[int, list[str]] = {}
    for p in problems:
        by_line.setdefault(p.line, []).append(f"{p.field}: {p.message}")
    by_line_ja: dict[int, list[str]] = {}
    for p in problems:
        by_line_ja.setdefault(p.line, []).append(f"{p.field}: {p.message_ja or p.message}")
    held = [Held(_raw_id(col.lines[line]), line, "hold_invalid",
                 {"file": Path(name).name, "line": str(line), "problems": "; ".join(by_line[line]),
                  "problems_ja": "、".join(by_line_ja[line])}, _raw_text(col.lines[line]))
            for line in sorted(by_line)]
    held_lines = set(by_line)
    notices = [n for n in col.notices if col.notice_lines[n.notice_id] not in held_lines]
    return HeldRead(notices, held)


def hold_text(code: str, params: dict[str, str], lang: str) -> str:
    """A hold's reason in one language: in Japanese, a parameter `X_ja` stands in for `X` (problems found while
    reading are kept worded in both languages)."""
    if lang == "ja":
        params = {**params, **{k.removesuffix("_ja"): v for k, v in params.items() if k.endswith("_ja")}}
    return render(code, {k: v for k, v in params.items() if not k.endswith("_ja")}, lang)


def _announced(data: bytes) -> int | None:
    """The count a JSON Lines header announces, if it is readable."""
    try:
        header = json.loads(data.split(b"\n", 1)[0].removeprefix(b"\xef\xbb\xbf"))
    except (ValueError, RecursionError):
        return None
    count = header.get("count") if isinstance(header, dict) else None
    return count if type(count) is int else None


def _raw_text(raw: object) -> str | None:
    if raw is None:
        return None
    try:
        return json.dumps(raw, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return None


def by_position(read: HeldRead) -> dict[int, Held]:
    """The holds of a JSON Lines batch by their n (line 1 is the header: the record on line k is n = k − 1)."""
    return {h.line - 1: h for h in read.held if h.line is not None}


def _raw_id(raw: object) -> str | None:
    """The notice id a bad record gives, if it gives a plausible one (to name it); None otherwise."""
    if isinstance(raw, dict):
        value = raw.get("notice_id")
        if isinstance(value, str) and 0 < len(value) <= 40 and value.isprintable():
            return value.strip().upper()
    return None


def hold_unprintable(notices: Sequence[Notice]) -> HeldRead:
    """Hold every notice with a value no print font can draw (a blank box on paper would lose a character)."""
    from paperlink.fonts import WORKING_FONTS, unprintable

    keep: list[Notice] = []
    held: list[Held] = []
    for notice in notices:
        record = notice.record()
        values = [(key, value) for key, value in record.items() if isinstance(value, str)]
        values += [(f"before.{key}", value) for key, value in record["before"].items() if isinstance(value, str)]
        bad = [(key, unprintable(value)) for key, value in values]
        bad = [(key, chars) for key, chars in bad if chars]
        if bad:
            key, chars = bad[0]
            held.append(Held(notice.notice_id, None, "sheet_unprintable_char",
                             {"notice_id": notice.notice_id, "field": key, "chars": ", ".join(chars),
                              "fonts": WORKING_FONTS}))
        else:
            keep.append(notice)
    return HeldRead(keep, held)


def held_list(held: Sequence[Held]) -> list[dict[str, object]]:
    """The held notices as the audit log keeps them: id, line and reason code (no personal data)."""
    return [{"notice_id": h.notice_id, "line": h.line, "code": h.code} for h in held]


class NotHeld(PaperlinkError):
    """The notice named for release is not held."""


def release(ledger: Ledger, pk: int, clerk: str, note: str) -> NoticeRow:
    """Release a held notice once corrected (audited with the clerk's note).

    A notice with a verified record (held for cp932, or addressed elsewhere when the office code was wrong) goes
    back to 確認済 as it was; one without (its record could not be read) goes to 未着, to be read or typed twice
    from the corrected notice like any paper notice."""
    from paperlink.ledger import Transport, VerificationMethod
    from paperlink.notice import parse_notice
    from paperlink.office import foreign_hold, require_office

    with ledger.transaction():
        hold = store.open_hold(ledger, pk)
        if hold is None:
            raise NotHeld("hold_not_found", pk=pk)
        current = store.notice(ledger, pk)
        keep = current.verified and current.record_json is not None
        if keep and hold.reason_code == "hold_foreign_municipality":
            # released only when the office's code was what was wrong: the notice must be for this office now
            still = foreign_hold(parse_notice(current.record() or {}), require_office(ledger))
            if still is not None:
                raise NotHeld("hold_still_foreign", pk=pk, other=still.params["other"], office=still.params["office"])
        row = store.release_hold(ledger, pk, clerk, note, keep_record=keep)
        batch = store.batch(ledger, row.batch_id)
        if keep and batch is not None and store.verification(ledger, pk) is None \
                and batch.transport in (Transport.LINE, Transport.MEDIA):
            # verified by the sender's signature at import, as its batch's other notices were (spec 4.3)
            method = VerificationMethod.LINE if batch.transport is Transport.LINE else VerificationMethod.MEDIA
            store.add_verification(ledger, pk, method, f"key:{batch.key_id}", reason=f"released by {clerk}: {note}")
        ledger.audit(clerk, "notice.released", f"{hold.batch_id}/{hold.seq}", notice_id=hold.notice_id,
                     code=hold.reason_code, note=note, state=row.state.value)
    return row
