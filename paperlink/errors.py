"""The exceptions of the paperlink core.

Every failure the core can report is one of these types. The command line and the web screen turn them
into messages; nothing in the core prints or exits.
"""

from __future__ import annotations

from dataclasses import dataclass


class PaperlinkError(Exception):
    """Base class of every error raised on purpose by paperlink."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of one notice: the field's key, a message code and its parameters."""

    field: str
    code: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def message(self) -> str:
        """The English message (command line, logs)."""
        from paperlink.messages import render

        return render(self.code, dict(self.params), "en")

    @property
    def message_ja(self) -> str:
        """The Japanese message (entry screen)."""
        from paperlink.messages import render

        return render(self.code, dict(self.params), "ja")


def field_error(field: str, code: str, /, **params: object) -> FieldError:
    """Build a FieldError; parameters are kept as strings so the error stays hashable and printable."""
    return FieldError(field, code, tuple((k, str(v)) for k, v in params.items()))


class NoticeInvalid(PaperlinkError, ValueError):
    """A notice broke one or more rules of the notice model; `errors` lists every problem found."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


@dataclass(frozen=True)
class Problem:
    """One problem found in a data file: where it is (file, line) and what is wrong."""

    path: str
    line: int
    field: str
    message: str
    message_ja: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


class DataFileError(PaperlinkError, ValueError):
    """A notice data file (JSON Lines or CSV) could not be read in full; `problems` lists every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid data file"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)


class ExportError(PaperlinkError):
    """Notices could not be written in the requested format (e.g. a character cp932 cannot encode)."""


class CodeTableError(PaperlinkError):
    """A code table shipped in paperlink/tables is malformed."""


class HomeError(PaperlinkError):
    """The data directory cannot be created or used."""
