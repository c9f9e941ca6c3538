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


# -- a second font for what the first lacks: characters outside it and Ideographic Variation Sequences ------

FALLBACK_ENV_VAR = "PAPERLINK_FALLBACK_FONT"
FALLBACK_FONT_NAME = "PaperlinkMincho"
_FALLBACK_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/ipamj/ipamjm.ttf",  # IPAmj明朝 (Debian's fonts-ipamj-mincho): 58,000+ glyphs, IVS
    "/usr/share/fonts/opentype/ipamj/ipamjm.ttf",
)
WORKING_FONTS = "IPAex Gothic (fonts-ipaexfont-gothic) and IPAmj明朝 (fonts-ipamj-mincho)"
"""What the messages name as fonts that work."""

_PUA_BASE = 0xF0000
"""Code points of Supplementary Private Use Area-A stand in, inside the embedded font subset only, for the
glyph a variation sequence selects (reportlab maps characters, not sequences, to glyphs)."""


def is_variation_selector(ch: str) -> bool:
    """U+FE00–FE0F (standardized) or U+E0100–E01EF (ideographic variation selectors)."""
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def variation_sequences(face: object) -> tuple[dict[tuple[int, int], int], set[tuple[int, int]]]:
    """The variation sequences of a TrueType font's cmap subtable format 14: the non-default ones with the glyph
    each selects ((base, selector) → glyph id), and the default ones (drawn as the base glyph itself)."""
    data: bytes = face._ttf_data  # type: ignore[attr-defined]
    cmap = int(face.table["cmap"]["offset"])  # type: ignore[attr-defined]

    def number(at: int, size: int) -> int:
        return int.from_bytes(data[at:at + size], "big")

    selected: dict[tuple[int, int], int] = {}
    default: set[tuple[int, int]] = set()
    for i in range(number(cmap + 2, 2)):
        record = cmap + 4 + 8 * i
        sub = cmap + number(record + 4, 4)
        if number(record, 2) != 0 or number(record + 2, 2) != 5 or number(sub, 2) != 14:
            continue  # only the Unicode variation-sequence subtable
        for j in range(number(sub + 6, 4)):
            selector_record = sub + 10 + 11 * j
            selector = number(selector_record, 3)
            default_at, non_default_at = number(selector_record + 3, 4), number(selector_record + 7, 4)
            if default_at:
                table = sub + default_at
                for k in range(number(table, 4)):
                    start, extra = number(table + 4 + 4 * k, 3), data[table + 4 + 4 * k + 3]
                    default.update((code, selector) for code in range(start, start + extra + 1))
            if non_default_at:
                table = sub + non_default_at
                for k in range(number(table, 4)):
                    mapping = table + 4 + 5 * k
                    selected[(number(mapping, 3), selector)] = number(mapping + 3, 2)
    return selected, default


@dataclass
class _Face:
    """A registered font, its variation sequences (selected glyphs and default ones) and the stand-ins so far."""

    name: str
    face: object
    sequences: dict[tuple[int, int], int]
    defaults: set[tuple[int, int]]
    stand_ins: dict[tuple[int, int], str]

    @classmethod
    def of(cls, name: str) -> _Face:
        face = pdfmetrics.getFont(name).face
        return cls(name, face, *variation_sequences(face), {})

    def has(self, ch: str) -> bool:
        """Whether the font draws this character (never a private code point: those are our stand-ins)."""
        return ord(ch) < _PUA_BASE and ord(ch) in self.face.charToGlyph  # type: ignore[attr-defined]


_faces: dict[str, _Face | None] = {}


def _main_face() -> _Face:
    if FONT_NAME not in _faces:
        _faces[FONT_NAME] = _Face.of(japanese_font())
    found = _faces[FONT_NAME]
    assert found is not None
    return found


def fallback_font(env: dict[str, str] | None = None) -> _Face | None:
    """The fallback font (IPAmj明朝, or $PAPERLINK_FALLBACK_FONT), registered once; None when there is none."""
    if FALLBACK_FONT_NAME in _faces:
        return _faces[FALLBACK_FONT_NAME]
    environ = os.environ if env is None else env
    paths = ([environ[FALLBACK_ENV_VAR]] if environ.get(FALLBACK_ENV_VAR) else []) + list(_FALLBACK_FONTS)
    state = None
    for path in paths:
        if not Path(path).is_file():
            continue
        try:
            pdfmetrics.registerFont(TTFont(FALLBACK_FONT_NAME, path))
        except (TTFError, OSError):
            continue
        state = _Face.of(FALLBACK_FONT_NAME)
        break
    _faces[FALLBACK_FONT_NAME] = state
    return state


def _stand_in(font: _Face, base: int, selector: int) -> str | None:
    """A private code point drawn with the glyph of (base, selector) in `font`, or None if it has none."""
    key = (base, selector)
    if key in font.stand_ins:
        return font.stand_ins[key]
    glyph = font.sequences.get(key)
    if glyph is None:
        return None
    code = _PUA_BASE + sum(len(f.stand_ins) for f in _faces.values() if f is not None)
    face = font.face
    face.charToGlyph[code] = glyph  # type: ignore[attr-defined]
    advance = face.hmetrics[min(glyph, len(face.hmetrics) - 1)][0]  # type: ignore[attr-defined]
    face.charWidths[code] = advance * 1000.0 / face.unitsPerEm  # type: ignore[attr-defined]
    font.stand_ins[key] = chr(code)
    return font.stand_ins[key]


@dataclass(frozen=True)
class Run:
    """A piece of text to draw in one font; `marked` when it stands for something it cannot show exactly."""

    text: str
    font: str
    marked: bool = False


def identifier(sequence: str) -> str:
    """A character or variation sequence as code points, e.g. U+845B U+E0100."""
    return " ".join(f"U+{ord(ch):04X}" for ch in sequence)


def _clusters(text: str) -> list[str]:
    """The text split into characters, each with the variation selectors that follow it."""
    out: list[str] = []
    for ch in text:
        if out and is_variation_selector(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def runs(text: str) -> list[Run]:
    """How to draw `text` visibly correct.

    Each character in the first font that has it (the main font, then the fallback font); a variation sequence
    with the glyph it selects in the first font whose cmap lists it (drawn through a private stand-in code point
    of that font's subset); where no font has the sequence, the base character followed by a marked
    `[異体字 U+… U+…]` naming it – never a silent wrong glyph. A character no font has is one marked run
    `〓[U+…]`: printing holds such a notice before it gets here (`unprintable`)."""
    faces = [f for f in (_main_face(), fallback_font()) if f is not None]
    out: list[Run] = []

    def add(piece: str, font: str, marked: bool = False) -> None:
        if out and out[-1].font == font and not marked and not out[-1].marked:
            out[-1] = Run(out[-1].text + piece, font)
        else:
            out.append(Run(piece, font, marked))

    for cluster in _clusters(text):
        base, selectors = cluster[0], cluster[1:]
        drawn = next((f.name for f in faces if base.isspace() or f.has(base)), None)
        if selectors:
            key = (ord(base), ord(selectors[0]))
            found = None
            for face in faces if len(selectors) == 1 else ():
                stand_in = _stand_in(face, *key)
                if stand_in is not None:
                    found = (stand_in, face.name)
                    break
                if key in face.defaults and face.has(base):
                    found = (base, face.name)
                    break
            if found is not None:
                add(*found)
                continue
            add(base if drawn else "〓", drawn or FONT_NAME)
            add(f"[異体字 {identifier(cluster)}]", FONT_NAME, marked=True)
            continue
        if drawn:
            add(base, drawn)
        else:
            add(f"〓[{identifier(base)}]", FONT_NAME, marked=True)
    return out


def unprintable(text: str) -> list[str]:
    """The characters of `text` that neither the main nor the fallback font can draw (a notice holding one is
    held at printing, with this list as its reason). Variation sequences are never unprintable: their base
    character prints with a marker when the selected glyph is not available."""
    return [run.text for run in runs(text) if run.marked and run.text.startswith("〓")]


def markup(text: str) -> str:
    """`text` as reportlab paragraph markup drawn by `runs` (escaped; fallback runs in their font tag)."""
    from xml.sax.saxutils import escape

    parts = []
    for run in runs(text):
        if run.font == FONT_NAME and not run.marked:
            parts.append(escape(run.text))
        elif run.marked:
            parts.append(f'<font size="-2">{escape(run.text)}</font>' if not run.text.startswith("〓")
                         else escape(run.text))
        else:
            parts.append(f'<font name="{run.font}">{escape(run.text)}</font>')
    return "".join(parts)
