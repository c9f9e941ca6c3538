"""The Japanese font embedded (as a subset) in every PDF paperlink prints.

`japanese_font()` finds a TrueType font, registers it with reportlab once and returns its reportlab name.
The search order is: the file named by $PAPERLINK_FONT, IPAex Gothic (Debian/Ubuntu fonts-ipaexfont-gothic),
then the Windows fonts MS Gothic, Meiryo and Yu Gothic. A file that exists but cannot be loaded (e.g. an
OpenType/CFF font, which reportlab cannot embed) is skipped and named in the error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFError, TTFont  # type: ignore[import-untyped]

from paperlink.errors import PaperlinkError

ENV_VAR = "PAPERLINK_FONT"
FONT_NAME = "PaperlinkGothic"

_SYSTEM_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",  # where Debian's fonts-ipaexfont-gothic puts it
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/ipaexfont/ipaexg.ttf",
)
_WINDOWS_FONTS: tuple[str, ...] = ("msgothic.ttc", "meiryo.ttc", "YuGothM.ttc")


class FontMissing(PaperlinkError):
    """No Japanese TrueType font could be found or loaded to print the sheets."""


@dataclass(frozen=True)
class FontFile:
    """A candidate font file and the index of the face to use in a collection (.ttc)."""

    path: Path
    subfont_index: int = 0


def candidates(env: dict[str, str] | None = None) -> list[FontFile]:
    """The font files to try, in order (the $PAPERLINK_FONT file first when it is set)."""
    environ = os.environ if env is None else env
    found: list[FontFile] = []
    if environ.get(ENV_VAR):
        found.append(FontFile(Path(environ[ENV_VAR])))
    found.extend(FontFile(Path(p)) for p in _SYSTEM_FONTS)
    windir = Path(environ.get("WINDIR", r"C:\Windows"))
    found.extend(FontFile(windir / "Fonts" / name) for name in _WINDOWS_FONTS)
    return found


def load_font(env: dict[str, str] | None = None) -> TTFont:
    """The first candidate that loads as a TrueType font; FontMissing naming every file tried otherwise."""
    tried: list[str] = []
    for candidate in candidates(env):
        if not candidate.path.is_file():
            tried.append(f"{candidate.path} (not found)")
            continue
        try:
            return TTFont(FONT_NAME, str(candidate.path), subfontIndex=candidate.subfont_index)
        except (TTFError, OSError) as exc:
            tried.append(f"{candidate.path} (unusable: {exc})")
    raise FontMissing("font_missing", tried="; ".join(tried), env_var=ENV_VAR)


def japanese_font() -> str:
    """Register the Japanese font with reportlab (once per process) and return its reportlab font name."""
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(load_font())
    return FONT_NAME


class UnprintableCharacter(PaperlinkError):
    """A value holds a character the print font has no glyph for (it would print as a blank box)."""


def missing_glyphs(text: str) -> list[str]:
    """The characters of `text` the registered Japanese font cannot draw (spaces and controls aside)."""
    face = pdfmetrics.getFont(japanese_font()).face
    return [ch for ch in dict.fromkeys(text) if not ch.isspace() and ord(ch) not in face.charToGlyph]
