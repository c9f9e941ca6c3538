"""The exceptions of the paperlink core.

Every failure the core can report is one of these types. The command line and the web screen turn them
into messages; nothing in the core prints or exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class PaperlinkError(Exception):
    """Base class of every error raised on purpose by paperlink: a message code and its parameters.

    The code names an entry of `paperlink.messages.MESSAGES`; the edges render it – English on the command
    line (`str(exc)` or `exc.message("en")`), Japanese on the screen (`exc.message_ja`). Nothing outside the
    core ever reads the text to decide what happened: it looks at `code` (or the exception's type).
    """

    def __init__(self, code: str, /, **params: object) -> None:
        self.code = code
        self.params: dict[str, str] = {key: str(value) for key, value in params.items()}
        # values that word themselves per language: a nested PaperlinkError, a NoticeState (its label), …
        self._localised = {key: value for key, value in params.items() if isinstance(value, Localised)}
        super().__init__(code)

    def message(self, lang: str = "en") -> str:
        """The message in `lang` ('en' or 'ja') with the parameters filled in (each in the same language)."""
        from paperlink.messages import render

        params = dict(self.params)
        params.update({key: value.message(lang) for key, value in self._localised.items()})
        return render(self.code, params, lang)

    @property
    def message_ja(self) -> str:
        """The Japanese message (entry screen)."""
        return self.message("ja")

    def __str__(self) -> str:
        return self.message("en")

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.code, {**self.params, **self._localised}))


@runtime_checkable
class Localised(Protocol):
    """A parameter value that words itself in each language (`message('en')`, `message('ja')`)."""

    def message(self, lang: str = "en") -> str:
        """The value as text in `lang`."""
        ...


def _rebuild(cls: type[PaperlinkError], code: str, params: dict[str, object]) -> PaperlinkError:
    error = cls.__new__(cls)
    PaperlinkError.__init__(error, code, **params)
    return error


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
        super().__init__("notice_invalid", count=len(self.errors))

    def message(self, lang: str = "en") -> str:
        """Every problem, `field: message`, joined by '; ' (Japanese: by '／')."""
        if lang == "ja":
            return "／".join(f"{e.field}: {e.message_ja}" for e in self.errors)
        return "; ".join(f"{e.field}: {e.message}" for e in self.errors)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.errors,))


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
        super().__init__("data_file_invalid", count=len(self.problems))

    def message(self, lang: str = "en") -> str:
        """The first problem, and how many more there are."""
        if not self.problems:
            return "データファイルが正しくありません" if lang == "ja" else "invalid data file"
        first = self.problems[0]
        more = len(self.problems) - 1
        if lang == "ja":
            text = f"{first.path}:{first.line}: {first.field}: {first.message_ja or first.message}"
            return text + (f"（ほか {more} 件）" if more else "")
        return str(first) + (f" (and {more} more)" if more else "")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.problems,))


class ExportError(PaperlinkError):
    """Notices could not be written in the requested format (e.g. a character cp932 cannot encode)."""


class CodeTableError(PaperlinkError):
    """A code table shipped in paperlink/tables is malformed."""


class HomeError(PaperlinkError):
    """The data directory cannot be created or used."""
