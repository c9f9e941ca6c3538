"""CSV import and export of notices for older register systems (UTF-8 with BOM, or cp932).

One header row of column names (the canonical keys, `before` spread over `before_<item>` columns), then
one notice a row. Empty cells are empty items; a `before_<item>` cell of `-` alone says the item was empty
before the event (JSON null in the data format). Export never replaces a character: a character cp932
cannot encode stops the export with the notice and field named. A cell a spreadsheet would take for a
formula is written with a leading `'` (`neutralise`), which reading takes away again (`restore`); the `-`
that says "was empty" is written as it is.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence

from paperlink.atomicfile import atomic_write_bytes
from paperlink.datafile import Collector, problem, read_bytes
from paperlink.errors import DataFileError, ExportError
from paperlink.fields import BEFORE_KEYS, FIELDS
from paperlink.notice import WAS_EMPTY_TEXT, Notice, before_from_text

COLUMNS: tuple[str, ...] = tuple(f.key for f in FIELDS) + tuple(f"before_{k}" for k in BEFORE_KEYS)
"""The CSV columns, in order."""

ENCODINGS = {"utf-8-sig": "UTF-8 with BOM", "cp932": "Shift_JIS (cp932)"}

FORMULA_TRIGGERS = "=+-@\t\r"
"""A cell starting with one of these is taken for a formula by spreadsheet programs (OWASP, CSV Injection)."""
_FORMULA_CELL = re.compile("^'*[" + re.escape(FORMULA_TRIGGERS) + "]")
_ESCAPED_CELL = re.compile("^'+[" + re.escape(FORMULA_TRIGGERS) + "]")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text: `'` before a cell that starts (after any `'`) with = + - @ TAB or CR.

    OWASP's advice for CSV injection: prefix such a cell with a single quote. So that reading gives back
    exactly what was written, a cell already starting with quotes before such a character gets one more;
    `restore` takes exactly one away, and only from cells of that shape.
    """
    return "'" + cell if _FORMULA_CELL.match(cell) else cell


def restore(cell: str) -> str:
    """The value `neutralise` was given: one leading `'` removed from a cell of quotes then = + - @ TAB or CR."""
    return cell[1:] if _ESCAPED_CELL.match(cell) else cell


def notice_row(notice: Notice) -> list[str]:
    """One CSV row (strings; empty items as empty cells)."""
    record = notice.record()
    before = record.pop("before")
    cells = [record[key] for key in COLUMNS if not key.startswith("before_")]
    cells += [before.get(key) for key in BEFORE_KEYS]
    out = ["" if cell is None else neutralise(cell) for cell in cells]
    first_before = len(COLUMNS) - len(BEFORE_KEYS)
    for offset, key in enumerate(BEFORE_KEYS):
        if key in before and before[key] is None:
            out[first_before + offset] = WAS_EMPTY_TEXT  # not a value, so never a formula
    return out


def dumps_csv(notices: Sequence[Notice], encoding: str = "utf-8-sig") -> bytes:
    """The CSV file's bytes in `encoding` ('utf-8-sig' or 'cp932'); ExportError on an unencodable character."""
    if encoding not in ENCODINGS:
        raise ExportError("csv_encoding_unsupported", encoding=encoding, supported=", ".join(ENCODINGS))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for notice in notices:
        row = notice_row(notice)
        if encoding == "cp932":
            for column, cell in zip(COLUMNS, row, strict=True):
                _check_cp932(notice.notice_id, column, cell)
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def _check_cp932(notice_id: str, column: str, cell: str) -> None:
    for ch in cell:
        try:
            # cp932 maps a few characters onto others (U+2212 → －): those would change the record too
            if ch.encode("cp932").decode("cp932") != ch:
                raise UnicodeEncodeError("cp932", ch, 0, 1, "not round-trip safe")
        except UnicodeEncodeError:
            raise ExportError("cp932_unencodable", notice_id=notice_id, field=column, char=ch,
                              codepoint=f"U+{ord(ch):04X}") from None


def write_csv(notices: Sequence[Notice], path: str | os.PathLike[str], encoding: str = "utf-8-sig") -> None:
    """Write a CSV file atomically."""
    atomic_write_bytes(path, dumps_csv(notices, encoding))


def decode_csv(data: bytes) -> str:
    """CSV text from bytes: UTF-8 (with or without BOM), else cp932."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp932")


def parse_csv(data: bytes, name: str, col: Collector | None = None) -> list[Notice]:
    """Parse CSV bytes into notices; raise DataFileError listing every problem (`col`: as for `parse_jsonl`)."""
    if not data.strip():
        raise DataFileError([problem(name, 1, "(file)", "empty_file")])
    try:
        text = decode_csv(data)
    except UnicodeDecodeError as exc:
        bom = data.startswith(b"\xef\xbb\xbf")
        offset = exc.start + (3 if bom else 0)   # counted from the start of the file, the BOM included
        raise DataFileError([problem(name, 0, "(file)", "encoding_csv_bom" if bom else "encoding_csv",
                                     byte=f"0x{data[offset]:02X}", offset=offset)]) from None
    col = col if col is not None else Collector(name)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        head = next(reader, None)
        if head is None:
            raise DataFileError([problem(name, 1, "(file)", "empty_file")])
        unknown = [c for c in head if c not in COLUMNS]
        missing = [c for c in COLUMNS if c not in head and not c.startswith("before_")]
        if unknown:
            col.problems.append(problem(name, 1, "(header)", "csv_columns", columns=", ".join(unknown)))
        if missing:
            col.problems.append(problem(name, 1, "(header)", "csv_missing_columns", columns=", ".join(missing)))
        if unknown or missing:
            raise DataFileError(col.problems)
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(head):
                col.problems.append(problem(name, line, "(line)", "csv_row_length", actual=len(row), expected=len(head)))
                col.seen(line)
                continue
            cells = dict(zip(head, (restore(cell) for cell in row), strict=True))
            raw: dict[str, object] = {k: v for k, v in cells.items() if not k.startswith("before_")}
            raw["before"] = {k.removeprefix("before_"): before_from_text(v) for k, v in cells.items()
                             if k.startswith("before_") and v}
            col.add(line, raw)
    except csv.Error as exc:
        col.problems.append(problem(name, reader.line_num, "(line)", "csv_syntax", detail=str(exc)))
    return col.result()


def read_csv(path: str | os.PathLike[str]) -> list[Notice]:
    """Read and validate a CSV file of notices."""
    return parse_csv(read_bytes(path), str(path))
