"""Reading a notice sheet's printed item table when its QR code cannot be read.

Every notice sheet prints each item in text with its two 検 check characters (`checkcodes.field_check` of the
item's canonical value). When no code can be read on a page, `read_printed` finds the item table (its ruled
grid: 項目 / 内容 / 変更前 / 検, one row per item in the sheet's order), reads each row's value and check
characters by OCR (Tesseract with its Japanese data, through tesserocr), normalises each value to the
canonical record value of the data format, and keeps ONLY the items whose computed check characters equal
the printed ones (`prove`, exactly one candidate must match). Nothing read by OCR is accepted without its check
characters: an item whose text or check characters were misread is left for the clerk to type – except when a
misread value happens to match the two check characters (10 bits: see MAX_CANDIDATES for the bound), which is
why the entry screen requires the sheet's whole-record check code for a pre-filled record. The notice id is one of the items (so it
is proven like the others); n/N is read from the header's box (it has no check characters and is reported as
read, for orientation only).

Tesseract is optional at run time (it is not installed on Windows): `ocr_available()` says whether it is, and
`read_printed` raises `PaperlinkError("ocr_unavailable")` when it is not.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from paperlink.checkcodes import CROCKFORD, field_check
from paperlink.errors import PaperlinkError
from paperlink.fields import BEFORE_KEYS, FIELD_BY_KEY, FieldProblem
from paperlink.labels import display_value, ordered_fields
from paperlink.sheets import SHEET_COLUMNS, WIDTH, mm

if TYPE_CHECKING:
    from PIL import Image

PRINTED_MARK = "印字から読取（検字一致）"
"""How the entry screen marks an item proven from the printed text."""

TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata", "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata")
"""Where Debian (tesseract-ocr-jpn), other distributions and Homebrew put the trained data; TESSDATA_PREFIX first."""

TARGET_PX_PER_MM = 12.0
"""Cells are scaled to about 300 dpi before OCR (Tesseract reads 10-point text best at that size)."""

MAX_CANDIDATES = 2
MAX_CHECKS = 2
"""At most this many readings of one item are checked against its check characters: each wrong candidate has a
1-in-1024 chance of matching two check characters, per check reading, so a misread item is wrongly "proven" with
probability up to MAX_CANDIDATES × MAX_CHECKS / 1024 ≈ 1/256 (the entry screen's whole-record check code is the
final guard). The candidates are few and the first is the plain OCR; `benchmarks/printed.py --quick` measured 4
candidates against 2: 96.3 % / 96.3 % of items pre-filled at 300 dpi, 96.3 / 95.8 % at 200 dpi, 98.9 / 98.4 % at
150 dpi (2026-12-02), so the halved false-acceptance bound costs about half a point at lower resolutions."""


class OcrUnavailable(PaperlinkError):
    """Tesseract (tesserocr and its Japanese data) is not installed here; `missing` names what is missing."""

    def __init__(self, missing: str) -> None:
        super().__init__("ocr_unavailable", detail=_Missing(missing))


@dataclass(frozen=True)
class _Missing:
    """What is missing for OCR, worded per language (a Localised message parameter)."""

    what: str

    def message(self, lang: str = "en") -> str:
        if self.what == "tesserocr":
            return ("the tesserocr package is missing (not installed on Windows; on Debian ./dev setup installs it)"
                    if lang == "en" else "tesserocr がありません。Windows では使えません")
        return ("Tesseract's Japanese data jpn.traineddata is missing (Debian: tesseract-ocr-jpn, or set TESSDATA_PREFIX)"
                if lang == "en" else "日本語の学習データ（tesseract-ocr-jpn）がありません")


# -- the OCR engine -----------------------------------------------------------------------------------


def tessdata_dir() -> str | None:
    """The folder holding jpn.traineddata and eng.traineddata, or None."""
    env = os.environ.get("TESSDATA_PREFIX")
    dirs = ([env, str(Path(env) / "tessdata")] if env else []) + list(TESSDATA_DIRS)
    for folder in dirs:
        if (Path(folder) / "jpn.traineddata").is_file() and (Path(folder) / "eng.traineddata").is_file():
            return folder
    return None


@cache
def _unavailable_reason() -> str | None:
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return "tesserocr"
    if tessdata_dir() is None:
        return "tesseract-ocr-jpn"
    return None


def ocr_available() -> bool:
    """Whether printed text can be read here (tesserocr with Tesseract's Japanese and English data)."""
    return _unavailable_reason() is None


class _Engine:
    """Tesseract instances by (language, page segmentation mode, whitelist), reused under one lock."""

    def __init__(self) -> None:
        self._apis: dict[tuple[str, int, str], Any] = {}
        self.lock = threading.Lock()

    def text(self, image: Image.Image, lang: str, psm: int, whitelist: str = "") -> str:
        import tesserocr

        key = (lang, psm, whitelist)
        api = self._apis.get(key)
        if api is None:
            api = tesserocr.PyTessBaseAPI(path=tessdata_dir(), lang=lang, psm=psm, oem=tesserocr.OEM.LSTM_ONLY)
            if whitelist:
                api.SetVariable("tessedit_char_whitelist", whitelist)
            self._apis[key] = api
        api.SetImage(image)
        return str(api.GetUTF8Text())


_ENGINE = _Engine()

PSM_BLOCK, PSM_LINE, PSM_WORD = 6, 7, 8


# -- finding the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """The item table found on a (deskewed) page: its left and right borders and the y of every ruled line."""

    left: int
    right: int
    lines: tuple[int, ...]

    @property
    def px_per_mm(self) -> float:
        return (self.right - self.left) / (WIDTH / mm)

    def column_x(self, index: int) -> int:
        """x of the left edge of column `index` (0 項目, 1 内容, 2 変更前, 3 検; 4 is the right border)."""
        return round(self.left + sum(SHEET_COLUMNS[:index]) / mm * self.px_per_mm)


def _dark(gray: np.ndarray, contrast: float = 0.15) -> np.ndarray:  # type: ignore[type-arg]
    """Ink: pixels clearly darker than their surroundings (a grid line of a 150-dpi scan is only mid gray; a dark
    desk around a photographed page is dark but not darker than its surroundings, so it is not ink)."""
    from PIL import Image, ImageFilter

    white = float(np.percentile(gray, 95))
    black = float(np.percentile(gray, 1))
    radius = max(4, gray.shape[1] // 250)
    local = np.asarray(Image.fromarray(gray).filter(ImageFilter.BoxBlur(radius)), dtype=np.float32)
    return gray < local - max(10.0, contrast * (white - black))  # type: ignore[no-any-return]


def _skew_angle(dark: np.ndarray) -> float:  # type: ignore[type-arg]
    """The page's skew in degrees (as PIL's `rotate` takes it to straighten the page): the angle at which the
    ink's row profile is sharpest (ruled lines and text lines line up), from ±3° in steps down to 0.01°.

    Computed on the ink pixels' coordinates (a shear of each angle, a histogram of rows), not by rotating images.
    """
    step = max(1, dark.shape[1] // 1300)
    ys, xs = np.nonzero(dark[::step, ::step])
    if len(ys) == 0:
        return 0.0
    if len(ys) > 300_000:
        pick = np.random.default_rng(0).choice(len(ys), 300_000, replace=False)
        ys, xs = ys[pick], xs[pick]
    rows_y = ys.astype(np.float64)
    cols_x = xs.astype(np.float64) - dark.shape[1] / step / 2

    def sharpness(angle: float) -> float:
        rows = np.round(rows_y - cols_x * np.tan(np.radians(angle))).astype(np.int64)
        counts = np.bincount(rows - rows.min()).astype(np.float64)
        return float(np.square(counts).sum())

    coarse = max((a / 4 for a in range(-12, 13)), key=sharpness)
    angle = max((coarse + a / 20 for a in range(-5, 6)), key=sharpness)
    return max((angle + a / 100 for a in range(-5, 6)), key=sharpness)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:  # type: ignore[type-arg]
    """(start, end) of each run of True in a 1-D mask."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _longest_run(row: np.ndarray, gap: int) -> tuple[int, int]:  # type: ignore[type-arg]
    """The longest run of dark pixels in a row, bridging gaps up to `gap` pixels: (start, end)."""
    runs = _runs(row)
    best = (0, 0)
    start, end = -1, -1
    for a, b in runs:
        if start >= 0 and a - end <= gap:
            end = b
        else:
            start, end = a, b
        if end - start > best[1] - best[0]:
            best = (start, end)
    return best


def find_table(dark: np.ndarray) -> Table | None:  # type: ignore[type-arg]
    """The item table on a deskewed page mask: the run of long ruled lines joined by its left border."""
    height, width = dark.shape
    thick = max(1, height // 1200)  # a line a pixel or two off level still counts as one row of ink
    band = dark.copy()
    for shift in range(1, thick + 1):
        band[shift:] |= dark[:-shift]
        band[:-shift] |= dark[shift:]
    counts = band.sum(axis=1)
    spans = {int(y): _longest_run(band[y], max(2, width // 140)) for y in np.flatnonzero(counts >= 0.2 * width)}
    if not spans:
        return None
    longest = max(b - a for a, b in spans.values())
    found: list[tuple[int, int, int]] = []  # (y, left, right) of each horizontal line (clustered)
    for y, (left, right) in spans.items():
        if right - left < 0.8 * longest:
            continue
        if found and y - found[-1][0] <= 2 * thick + max(2, height // 700):
            continue  # the same line, a pixel lower
        found.append((y, left, right))
    return _table(dark, found, thick)


def _table(dark: np.ndarray, found: list[tuple[int, int, int]], thick: int) -> Table | None:  # type: ignore[type-arg]
    if len(found) < 3:
        return None
    width = dark.shape[1]
    rows = len(ordered_fields()) + 1
    # the table: consecutive lines of (nearly) equal extent joined by a dark left border
    best: list[tuple[int, int, int]] = []
    group: list[tuple[int, int, int]] = [found[0]]
    tolerance = max(4, width // 150)
    x = int(np.median([line[1] for line in found]))  # most lines are found whole: their usual left end
    for line in found[1:]:
        prev = group[-1]
        gap = dark[prev[0] + 2 * thick + 1:line[0] - 2 * thick, max(0, x - tolerance):x + tolerance]
        border = gap.any(axis=1).mean() if gap.shape[0] > 0 else 1.0
        if border >= 0.9:
            group.append(line)
        else:
            if len(group) > len(best):
                best = group
            group = [line]
    if len(group) > len(best):
        best = group
    while len(best) > rows + 1 and len(best) >= 3:  # a rule just above or below the table, joined by a stray mark
        gaps = np.diff([line[0] for line in best])
        median = float(np.median(gaps))
        if gaps[0] < 0.6 * median:
            best = best[1:]
        elif gaps[-1] < 0.6 * median:
            best = best[:-1]
        else:
            break
    if len(best) != rows + 1:
        return None
    left = int(np.median(sorted(line[1] for line in best)[:len(best) // 2 + 1]))
    right = int(np.median([line[2] for line in best]))
    return Table(left, right, tuple(line[0] + thick // 2 for line in best))


# -- reading the cells -----------------------------------------------------------------------------


def _cell(gray: Image.Image, table: Table, row: int, first: int, last: int) -> Image.Image:
    """Row `row`'s cells from column `first` to column `last` (exclusive) as one image, inside the grid lines."""
    from PIL import Image, ImageOps

    inset = max(2, round(0.5 * table.px_per_mm))
    box = (table.column_x(first) + inset, table.lines[row] + inset,
           table.column_x(last) - inset, table.lines[row + 1] - inset)
    cell = gray.crop(box)
    scale = TARGET_PX_PER_MM / table.px_per_mm
    if abs(scale - 1) > 0.15:
        cell = cell.resize((max(1, round(cell.width * scale)), max(1, round(cell.height * scale))),
                           Image.Resampling.LANCZOS)
    cell = ImageOps.autocontrast(cell, cutoff=1)
    ink = np.asarray(cell, dtype=np.uint8) < 128
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size and cols.size:  # the ink's bounding box: Tesseract reads a tight line best
        cell = cell.crop((int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1))
    return ImageOps.expand(cell, border=16, fill=255)


def _lines_of(cell: Image.Image) -> int:
    """How many text lines a cell holds (rows of ink separated by blank rows)."""
    dark = np.asarray(cell, dtype=np.uint8) < 128
    inked = dark.sum(axis=1) > max(1, cell.width // 300)
    return sum(1 for a, b in _runs(inked) if b - a >= 6)


KANJI_KEYS = frozenset({"name_kanji", "address", "remarks", "nationality", "status", "event", "category",
                        "card_kind", "sex"})
ROMAN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ ,-"
DIGITS_DATE = "0123456789-"


@dataclass
class CellReading:
    """What OCR made of one item's row: the value texts to try (first = plain OCR) and the check characters."""

    values: list[str] = field(default_factory=list)
    check: str = ""
    more: Sequence[Callable[[], str]] = ()
    """Further readings of the value (other page segmentation modes), made only while no candidate has matched."""
    more_checks: Sequence[Callable[[], str]] = ()
    """Further readings of the check characters (another mode, another scale), likewise; at most MAX_CHECKS in all."""


def _ocr_value(key: str, cell: Image.Image) -> list[Callable[[], str]]:
    """Readings of one value cell, by item kind (Japanese text, dates, codes, roman names), best mode first."""
    if _lines_of(cell) > 1:
        modes = [PSM_BLOCK]
    elif key in ("sex", "nationality", "period_of_stay", "name_kanji", "category", "event", "status", "card_kind"):
        modes = [PSM_WORD, PSM_LINE]  # short words: a single line of one or a few characters reads worst as a line
    else:
        modes = [PSM_LINE, PSM_WORD]
    if key in KANJI_KEYS or FIELD_BY_KEY[key].is_date or key == "period_of_stay":
        lang, whitelist = "jpn", ""
    elif key == "name":
        lang, whitelist = "eng", ROMAN
    else:
        lang, whitelist = "eng", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
    return [functools.partial(_ENGINE.text, cell, lang, psm, whitelist) for psm in modes]


def read_check(cell: Image.Image, lang: str = "jpn", psm: int = PSM_LINE, scale: float = 0.7) -> str:
    """The two check characters of a 検 cell (Crockford base32), or '' when the cell is empty."""
    from PIL import Image

    if scale != 1.0:
        cell = cell.resize((max(1, round(cell.width * scale)), max(1, round(cell.height * scale))),
                           Image.Resampling.LANCZOS)
    text = _ENGINE.text(cell, lang, psm, CROCKFORD)
    return re.sub(r"\s+", "", text).upper()


# -- from OCR text to canonical values ------------------------------------------------------------


_DATE = re.compile(r"(\d{4})\s*[-ー－—]\s*(\d{1,2})\s*[-ー－—]\s*(\d{1,2})")
_BREAK = re.compile(r"\s*[⇒=>→]+\s*$")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


ENUM_KEYS = frozenset({"event", "category", "card_kind", "sex", "nationality", "status"})
"""Items printed as a Japanese label of a code table: the OCR text must be exactly such a label (a stray letter
such as "D" is an ICAO code the normaliser would accept – Germany – and is never a candidate)."""


def _label_text(key: str, canonical: str) -> str:
    return _squash(display_value(key, canonical)).replace(" ", "")


def candidates(key: str, texts: Sequence[str]) -> list[str]:
    """Canonical values to check for one item, from its OCR texts (plain reading first; at most MAX_CANDIDATES)."""
    out: list[str] = []

    def add(text: str) -> None:
        try:
            value = FIELD_BY_KEY[key].normalise(text)
        except (FieldProblem, ValueError, KeyError):
            return
        canonical = value.isoformat() if hasattr(value, "isoformat") else str(value)
        if key in ENUM_KEYS and _label_text(key, canonical) != _squash(text).replace(" ", ""):
            return  # read as a code, or as another spelling: not the label the sheet prints
        if canonical not in out:
            out.append(canonical)

    for raw in texts:
        lines = [_BREAK.sub("", line).strip() for line in raw.splitlines() if line.strip()]
        if not lines:
            continue
        if FIELD_BY_KEY[key].is_date:
            match = _DATE.search(_squash(" ".join(lines)))
            if match:
                add(f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}")
            continue
        if key == "name":
            add(" ".join(lines))
            if len(lines) > 1:
                add("".join(lines))  # a long word split by characters: no space at the break
            continue
        if key in ("name_kanji", "address", "remarks"):
            joined = "".join(lines)
            add(re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", joined) if key != "name_kanji" else joined.replace(" ", ""))
            add(joined)
            continue
        text = _squash("".join(lines)).replace(" ", "")
        add(text)
        if key in ("notice_id", "card_number", "municipality_code", "period_of_stay"):
            add(text.replace("O", "0") if key != "card_number" else text)
    return out[:MAX_CANDIDATES]


def prove(key: str, values: Sequence[str], printed_check: str) -> str | None:
    """The one candidate value whose check characters equal the printed ones, else None.

    Two candidates that both match (a 1-in-1024 coincidence) prove nothing: None.
    """
    check = printed_check.strip().upper()
    if len(check) != 2 or any(ch not in CROCKFORD for ch in check):
        return None
    matches = {value for value in values if field_check(key, value) == check}
    return matches.pop() if len(matches) == 1 else None


# -- the page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrintedReading:
    """What the printed text of one page proved: items (canonical values), and n/N where read."""

    items: dict[str, str]
    """Only items whose check characters matched, as canonical record values."""
    seq: int | None = None
    total: int | None = None
    table_found: bool = True
    unproven: tuple[str, ...] = ()
    """Items with printed check characters that could not be proven (the clerk types them)."""

    @property
    def notice_id(self) -> str | None:
        return self.items.get("notice_id")

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"printed": dict(self.items)}
        if self.notice_id:
            out["notice_id"] = self.notice_id
        if self.seq is not None and self.total is not None:
            out["n_of_n"] = f"{self.seq}/{self.total}"
        return out


OcrRows = Callable[[Any, Table], Iterator[tuple[str, CellReading]]]


def _ocr_rows(gray: Image.Image, table: Table) -> Iterator[tuple[str, CellReading]]:
    """Each item of the table (in the sheet's order) with what OCR read in its row."""
    for index, spec in enumerate(ordered_fields()):
        row = index + 1
        check_cell = _cell(gray, table, row, 3, 4)
        if _lines_of(check_cell) == 0:
            yield spec.key, CellReading()
            continue
        check = read_check(check_cell)
        last = 2 if spec.key in BEFORE_KEYS else 3
        value_cell = _cell(gray, table, row, 1, last)
        yield spec.key, CellReading([], check, _ocr_value(spec.key, value_cell),
                                    [functools.partial(read_check, check_cell, "eng", PSM_LINE, 1.0),
                                     functools.partial(read_check, check_cell, "jpn", PSM_LINE, 1.0)])


_SEQ = re.compile(r"(\d{1,4})\s*/\s*(\d{1,4})")
_FOOTER_SEQ = re.compile(r"通知\s*(\d{1,4})\s*/\s*(\d{1,4})")
FOOTER_FROM_TABLE_MM = (217.0, 223.5)
"""The footer line 「バッチ … 通知 n/N」 lies this far below the table's top (the header above the table has a fixed
height: the table starts 67 mm below the page's top edge, the footer's baseline is 9 mm above its bottom)."""


def _region(gray: Image.Image, box: tuple[float, float, float, float], px_per_mm: float, target: float) -> Image.Image:
    from PIL import Image, ImageOps

    left, top, right, bottom = (round(v) for v in box)
    region = gray.crop((max(0, left), max(0, top), min(gray.width, right), min(gray.height, bottom)))
    scale = target / px_per_mm
    region = region.resize((max(1, round(region.width * scale)), max(1, round(region.height * scale))),
                           Image.Resampling.LANCZOS)
    return ImageOps.expand(ImageOps.autocontrast(region, cutoff=1), border=12, fill=255)


def _read_seq(gray: Image.Image, table: Table) -> tuple[int | None, int | None]:
    """n/N, read three times – the large box at the upper right at two sizes, and the footer's 「通知 n/N」 – and
    kept only when two readings agree (n/N has no check characters: it is reported for orientation only)."""
    ppm = table.px_per_mm
    top = table.lines[0]
    box = (table.right - 40 * ppm, top - 35 * ppm, table.right - 1 * ppm, top - 23.5 * ppm)
    readings: list[tuple[int, int]] = []
    for target in (6.0, 3.5):
        match = _SEQ.search(_ENGINE.text(_region(gray, box, ppm, target), "eng", PSM_LINE, "0123456789/"))
        if match:
            readings.append((int(match[1]), int(match[2])))
    centre = table.left + (table.right - table.left) / 2
    footer = (centre - 50 * ppm, top + FOOTER_FROM_TABLE_MM[0] * ppm, centre + 50 * ppm, top + FOOTER_FROM_TABLE_MM[1] * ppm)
    match = _FOOTER_SEQ.search(_squash(_ENGINE.text(_region(gray, footer, ppm, TARGET_PX_PER_MM), "jpn", PSM_LINE)))
    if match:
        readings.append((int(match[1]), int(match[2])))
    for seq, total in readings:
        if 1 <= seq <= total and readings.count((seq, total)) >= 2:
            return seq, total
    return None, None


def _is_item_table(dark: np.ndarray, table: Table) -> bool:  # type: ignore[type-arg]
    """Whether the table found has the item table's columns: in its header row, vertical rules where 内容, 変更前 and
    検 begin (37, 104 and 168 mm from its left edge). A cover's list of notices (or any other ruled table with as
    many rows) has its rules elsewhere."""
    top, bottom = table.lines[0], table.lines[1]
    inner = dark[top + 3:bottom - 2] if bottom - top > 6 else dark[top:bottom]
    tolerance = max(2, round(0.6 * table.px_per_mm))
    for index in (1, 2, 3):
        x = table.column_x(index)
        rule = inner[:, max(0, x - tolerance):x + tolerance + 1].any(axis=1)
        if rule.size == 0 or rule.mean() < 0.8:
            return False
    return True


def _prove_reading(key: str, reading: CellReading) -> str | None:
    """The proven value of one row: more readings of the value, then of the check characters, only while none
    matches; the candidates are few (MAX_CANDIDATES values × MAX_CHECKS distinct check readings)."""
    texts = list(reading.values)
    checks = [reading.check]

    def attempt() -> str | None:
        values = candidates(key, texts)
        found = {prove(key, values, check) for check in checks} - {None}
        return found.pop() if len(found) == 1 else None

    value = attempt() if texts else None
    for more in reading.more:
        if value is not None:
            return value
        texts.append(more())
        value = attempt()
    for more_check in reading.more_checks:
        if value is not None or len(checks) >= MAX_CHECKS:
            break
        check = more_check()
        if check and check not in checks and len(check) == 2:
            checks.append(check)
            value = attempt()
    return value


def read_printed(image: Image.Image, ocr_rows: OcrRows | None = None) -> PrintedReading:
    """The items a notice sheet's printed table proves (see the module docstring).

    `ocr_rows` replaces the OCR (tests give doctored readings); by default Tesseract reads each row.
    Raises OcrUnavailable when Tesseract is not installed and no `ocr_rows` is given.
    """
    from PIL import Image

    reason = _unavailable_reason() if ocr_rows is None else None
    if reason is not None:
        raise OcrUnavailable(reason)
    gray = image.convert("L")
    dark = _dark(np.asarray(gray))
    angle = _skew_angle(dark)
    if abs(angle) >= 0.05:
        gray = gray.rotate(angle, Image.Resampling.BICUBIC, fillcolor=255)
    lines = _dark(np.asarray(gray), 0.08)  # faint grid lines (a photo, a shaded row) count too
    table = find_table(lines)
    if table is None or not _is_item_table(lines, table):
        return PrintedReading({}, table_found=False)
    items: dict[str, str] = {}
    unproven: list[str] = []
    with _ENGINE.lock:
        for key, reading in (ocr_rows or _ocr_rows)(gray, table):
            if not reading.check:
                continue
            value = _prove_reading(key, reading)
            if value is None:
                unproven.append(key)
            else:
                items[key] = value
        seq, total = _read_seq(gray, table) if ocr_rows is None else (None, None)
    return PrintedReading(items, seq, total, True, tuple(unproven))


def proven_record_items(items: Mapping[str, str]) -> dict[str, str]:
    """Proven items as form values for the entry screen (dates stay ISO; codes stay codes)."""
    return {key: value for key, value in items.items() if key in FIELD_BY_KEY}
