"""What reading a notice data file needs in either format (JSON Lines in `dataformat`, CSV in `csvformat`).

A reader turns each record into a notice through a `Collector`, which gathers the notices and every problem
(a `Problem` built by `problem`, naming file, line and field) and refuses duplicate notice ids; at the end
`Collector.result()` returns the notices or raises one `DataFileError` listing every problem.
"""

from __future__ import annotations

import json
import os

from paperlink.errors import DataFileError, NoticeInvalid, Problem, field_error
from paperlink.notice import Notice, parse_notice
from paperlink.safefs import read_regular


def problem(path: str, line: int, field: str, code: str, /, **params: object) -> Problem:
    """A problem at `path`:`line` in `field`, its message given by a message code and parameters."""
    err = field_error(field, code, **params)
    return Problem(path, line, field, err.message, err.message_ja)


class Collector:
    """Gathers notices and problems while reading, and checks duplicate notice ids."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.notices: list[Notice] = []
        self.problems: list[Problem] = []
        self.records = 0
        self.records_with_problems = 0
        self._first_line: dict[str, int] = {}
        self.lines: dict[int, object] = {}
        """Every record line seen (line → the raw record; None for a line that was not even JSON or CSV)."""
        self.notice_lines: dict[str, int] = {}
        """The line of each notice read."""

    def seen(self, line: int) -> None:
        """Note a record line that could not be read as a record (held on its own when reading leniently)."""
        self.lines.setdefault(line, None)

    def add(self, line: int, raw: object) -> None:
        """Validate the raw record read at `line`; keep its notice, or its problems."""
        self.records += 1
        self.lines[line] = raw
        try:
            notice = parse_notice(raw)
        except NoticeInvalid as exc:
            self.records_with_problems += 1
            self.problems += [Problem(self.name, line, e.field, e.message, e.message_ja) for e in exc.errors]
            return
        first = self._first_line.setdefault(notice.notice_id, line)
        if first != line:
            self.problems.append(problem(self.name, line, "notice_id", "duplicate_id", value=notice.notice_id,
                                         first=first))
            return
        self.notices.append(notice)
        self.notice_lines[notice.notice_id] = line

    def result(self) -> list[Notice]:
        """The notices read; DataFileError listing every problem if there was any."""
        if self.problems:
            raise DataFileError(self.problems)
        return self.notices


MAX_DATA_FILE_BYTES = 512 * 1024 * 1024
"""The largest notice data file read (about 500,000 notices); anything larger is refused, not read."""


def json_detail(exc: ValueError | RecursionError) -> str:
    """Why `json.loads` refused a text, in English: its syntax error, or a nesting or number beyond its limits."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if "digits" in str(exc):  # int_max_str_digits: a number of more than 4300 digits
        return "a number with too many digits"
    return str(exc)


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """A file's bytes, or DataFileError naming it (missing, a folder, a FIFO or device, too large, unreadable).

    Only a regular file of at most MAX_DATA_FILE_BYTES is read, and opening it never blocks (safefs).
    """
    try:
        return read_regular(path, MAX_DATA_FILE_BYTES)
    except OSError as exc:
        raise DataFileError([problem(str(path), 0, "(file)", "unreadable", detail=exc.strerror or exc)]) from None
