"""Text on the console that never crashes on its encoding.

On Windows, output redirected to a file or piped into another program is encoded with the ANSI code page
(cp932 on a Japanese PC), which lacks the en dash of the help texts, the arrows of `watch` and many
characters of foreign names. `make_streams_safe()` (called before any command runs) keeps the stream's
encoding but swaps its strict error handler for `paperlink-console`: common punctuation becomes its ASCII
look-alike (– → -, → → ->, … → ...), anything else a `\\uXXXX` escape, so a line is never lost and a
command never fails half-way because of a character. UTF-8 streams are left alone. Machine-readable
output (`scan --json`, `scan --raw`) is plain ASCII JSON by design (`\\uXXXX` escapes), the same bytes
under every code page.
"""

from __future__ import annotations

import codecs
import io
import sys
from typing import TextIO

ERRORS = "paperlink-console"

_ASCII_LOOKALIKES = {
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "--", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u2192": "->", "\u2190": "<-",
    "\u00d7": "x", "\u00a0": " ",
}


def _degrade(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    return "".join(_ASCII_LOOKALIKES.get(ch) or ch.encode("ascii", "backslashreplace").decode("ascii")
                   for ch in bad), exc.end


codecs.register_error(ERRORS, _degrade)


def is_utf8(encoding: str | None) -> bool:
    """Whether `encoding` names UTF-8 (in any spelling)."""
    try:
        return codecs.lookup(encoding or "ascii").name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False


def make_safe(stream: TextIO | None) -> None:
    """Let `stream` degrade characters its encoding lacks instead of raising UnicodeEncodeError."""
    if isinstance(stream, io.TextIOWrapper) and not is_utf8(stream.encoding) and stream.errors == "strict":
        stream.reconfigure(errors=ERRORS)


def make_streams_safe() -> None:
    """`make_safe` for standard output and standard error."""
    make_safe(sys.stdout)
    make_safe(sys.stderr)
