"""The notice data format: JSON Lines, UTF-8, a header line, then one canonical record a line.

    {"format":"paperlink-notices","version":2,"count":2,"tables":"2026-12-01"}
    {"notice_id":"N…",…,"before":{…}}
    {"notice_id":"N…",…,"before":{}}

`docs/format.md` is the specification. Reading validates the whole file and reports every problem;
writing is atomic and byte-for-byte reproducible.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from paperlink.atomicfile import atomic_write_bytes
from paperlink.codetables import tables_version
from paperlink.csvformat import read_csv
from paperlink.datafile import Collector, json_detail, problem, read_bytes
from paperlink.errors import DataFileError, Problem
from paperlink.notice import Notice, canonical_json

FORMAT_NAME = "paperlink-notices"
FORMAT_VERSION = 2
"""Version 2 adds `tables` to the header: the version of the code tables that validated the file."""
_TABLES_VERSION = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:\.[0-9]+)?$")
READ_VERSIONS = (1, 2)
"""Versions this reader accepts: version 1 files (no `tables`) still read."""


def header(count: int) -> dict[str, Any]:
    """The header record of a data file holding `count` notices."""
    return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "count": count, "tables": tables_version()}


def dumps_notices(notices: Sequence[Notice]) -> bytes:
    """The data file's bytes for these notices (header first, one canonical record a line, final newline)."""
    lines = [canonical_json(header(len(notices)))] + [n.canonical_json() for n in notices]
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_notices(notices: Sequence[Notice], path: str | os.PathLike[str]) -> None:
    """Write a data file atomically."""
    atomic_write_bytes(path, dumps_notices(notices))


def parse_jsonl(data: bytes, name: str, col: Collector | None = None) -> list[Notice]:
    """Parse a data file's bytes; raise DataFileError listing every problem (`name` is used in messages).

    `col`: the collector to use (a caller that holds bad lines instead of refusing the file reads it after)."""
    col = col if col is not None else Collector(name)
    if not data:
        raise DataFileError([problem(name, 1, "(file)", "empty_file")])
    offset = 0
    if data.startswith(b"\xef\xbb\xbf"):
        col.problems.append(problem(name, 1, "(file)", "bom"))
        data, offset = data[3:], 3
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    else:
        col.problems.append(problem(name, len(lines), "(file)", "no_final_newline"))
    announced: int | None = None
    their_tables: str | None = None
    for number, raw_line in enumerate(lines, start=1):
        line_offset, offset = offset, offset + len(raw_line) + 1
        raw_line = raw_line.removesuffix(b"\r")
        if not raw_line.strip():
            col.problems.append(problem(name, number, "(line)", "empty_line"))
            continue
        try:
            text = raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            col.problems.append(problem(name, number, "(line)", "encoding", byte=f"0x{raw_line[exc.start]:02X}",
                                         offset=line_offset + exc.start))
            col.seen(number)
            continue
        try:
            record = json.loads(text)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, too deep, a number beyond 4300 digits
            col.problems.append(problem(name, number, "(line)", "json_syntax", detail=json_detail(exc)))
            col.seen(number)
            continue
        if number == 1:
            if isinstance(record, dict) and "format" in record:
                announced = _check_header(record, name, col.problems)
                their_tables = record.get("tables") if isinstance(record.get("tables"), str) else None
                continue
            col.problems.append(problem(name, 1, "(header)", "header_missing"))
        col.add(number, record)
    if announced is not None and announced != col.records:
        col.problems.append(problem(name, 1, "count", "header_count", expected=announced, actual=col.records))
    newer_tables(col, name, their_tables)
    return col.result()


def newer_tables(col: Collector, name: str, theirs: str | None) -> None:
    """A file validated with newer code tables than ours: its notices are not called invalid, the tables are.

    The record problems are replaced by one problem at line 1 that names both versions (the file's other
    problems – syntax, encoding, the header – stay: they do not depend on the tables)."""
    ours = tables_version()
    if theirs is None or theirs <= ours or col.records_with_problems == 0:
        return
    col.problems = [p for p in col.problems if p.field.startswith("(") or p.line == 1]
    col.problems.insert(0, problem(name, 1, "tables", "tables_older", theirs=theirs, ours=ours,
                                   count=col.records_with_problems))


def _check_header(record: dict[str, Any], name: str, problems: list[Problem]) -> int | None:
    if record.get("format") != FORMAT_NAME:
        problems.append(problem(name, 1, "format", "header_missing"))
        return None
    version = record.get("version")
    if type(version) is not int or version not in READ_VERSIONS:
        problems.append(problem(name, 1, "version", "header_version", value=record.get("version"),
                                 supported=", ".join(str(v) for v in READ_VERSIONS)))
        return None
    allowed = ("format", "version", "count") + (("tables",) if version >= 2 else ())
    for key in record:
        if key not in allowed:
            problems.append(problem(name, 1, key, "unknown_field"))
    if version >= 2 and not (isinstance(record.get("tables"), str) and _TABLES_VERSION.match(record["tables"])):
        problems.append(problem(name, 1, "tables", "header_tables", value=record.get("tables")))
    count = record.get("count")
    if type(count) is not int or count < 0:
        problems.append(problem(name, 1, "count", "header_count_type"))
        return None
    return count


def read_notices(path: str | os.PathLike[str]) -> list[Notice]:
    """Read and validate a whole data file (JSON Lines, or CSV by its .csv ending); raise DataFileError on any problem."""
    if str(path).lower().endswith(".csv"):
        return read_csv(path)
    return parse_jsonl(read_bytes(path), str(path))


def validate_file(path: str | os.PathLike[str]) -> list[Problem]:
    """Every problem of a data file (an empty list when it is valid)."""
    try:
        read_notices(path)
    except DataFileError as exc:
        return exc.problems
    return []


def ids(notices: Iterable[Notice]) -> list[str]:
    """The notice ids, in file order."""
    return [n.notice_id for n in notices]
