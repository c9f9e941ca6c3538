"""The Japanese font embedded (as a subset) in every PDF paperlink prints.

`japanese_font()` finds a TrueType font, registers it with reportlab once and returns its reportlab name.
The search order (`candidates`):

1. the file named by $PAPERLINK_FONT;
2. IPAex Gothic where Debian/Ubuntu's fonts-ipaexfont-gothic puts it (the font the tests print with);
3. on Windows, in the user's own fonts (%LOCALAPPDATA%\\Microsoft\\Windows\\Fonts, where "install for me"
   puts them) and then in %WINDIR%\\Fonts: an installed IPAex Gothic (ipaexg.ttf: the same font as on
   Linux), BIZ UDGothic (BIZ-UDGothicR.ttc, shipped with Windows 10 1809 and later, or the .ttf from its
   publisher: a universal-design face made for official forms), then the fonts every Windows has – MS Gothic
   (msgothic.ttc, monospaced like the sheets' layout), Meiryo (meiryo.ttc), Yu Gothic (YuGothR.ttc,
   YuGothM.ttc). Windows ships them as TrueType collections (.ttc); the first face of each is the one used
   (MS Gothic, BIZ UDGothic, Meiryo, Yu Gothic – not their proportional or UI variants).

A file that exists but cannot be loaded is skipped and named in the error; an OpenType font with PostScript
(CFF) outlines (an .otf starting with `OTTO`), which reportlab cannot embed, is named as such.
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
_WINDOWS_FONTS: tuple[str, ...] = ("ipaexg.ttf", "BIZ-UDGothicR.ttc", "BIZUDGothic-Regular.ttf", "msgothic.ttc",
                                   "meiryo.ttc", "YuGothR.ttc", "YuGothM.ttc")
"""Windows font files, best first (see the module docstring)."""

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
    folders = [Path(environ["LOCALAPPDATA"]) / "Microsoft" / "Windows" / "Fonts"] if environ.get("LOCALAPPDATA") else []
    folders.append(Path(environ.get("WINDIR", r"C:\Windows")) / "Fonts")
    found.extend(FontFile(folder / name) for name in _WINDOWS_FONTS for folder in folders)
    return found


def _is_cff(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"OTTO"
    except OSError:
        return False


def load_font(env: dict[str, str] | None = None) -> TTFont:
    """The first candidate that loads as a TrueType font; FontMissing naming every file tried otherwise."""
    tried: list[str] = []
    for candidate in candidates(env):
        if not candidate.path.is_file():
            tried.append(f"{candidate.path} (not found)")
            continue
        if _is_cff(candidate.path):
            tried.append(f"{candidate.path} (skipped: OpenType with PostScript (CFF) outlines, which cannot be "
                         "embedded; use a TrueType .ttf or .ttc)")
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
