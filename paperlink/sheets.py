"""The printed sheets of pattern 3: a batch cover and one A4 sheet per notice, as one PDF.

The renderer knows nothing of payload encoding or signatures: it is given the QR texts, the check code and
the per-item check characters, and draws them with every item of the notice for the clerk. Every QR code is
a vector drawing (one filled path per code) with a quiet zone of at least four modules kept clear.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm as _mm  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph, Table, TableStyle  # type: ignore[import-untyped]

from paperlink.errors import PaperlinkError
from paperlink.fields import BEFORE_KEYS
from paperlink.fonts import (
    WORKING_FONTS,
    UnprintableCharacter,
    is_variation_selector,
    japanese_font,
    markup,
    unprintable,
)
from paperlink.labels import date_text, display_value, field_label, ordered_fields
from paperlink.notice import Notice

TITLE = "外国人住民に係る住民票記載事項通知"
COVER_TITLE = "通知書 送付票（バッチ表紙）"
CAUTION = "取扱注意（個人情報）"
STAMPS = ("受付", "入力", "審査")
QUIET_MODULES = 4
MIN_MODULE_MM = 0.6
ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

mm: float = float(_mm)
PAGE_W: float = float(A4[0])
PAGE_H: float = float(A4[1])
LEFT = 15 * mm
RIGHT = PAGE_W - 15 * mm
WIDTH = RIGHT - LEFT
TOP = PAGE_H - 15 * mm
BOTTOM = 17 * mm  # lowest content; the footer sits below
FONT_STEPS = ((10.5, 2.2), (10.0, 2.0), (9.5, 1.8), (9.0, 1.5), (8.5, 1.2), (8.0, 0.6))  # (font size, cell padding) in points
SHEET_COLUMNS = (37 * mm, 67 * mm, 64 * mm, 12 * mm)
COVER_COLUMNS = (20 * mm, 40 * mm, 52 * mm, 68 * mm)
STAMP_SIZE = 25 * mm
STAMP_GAP = 20 * mm  # at least this much clear between the QR quiet zone and the stamp boxes
CHANGED_BG = colors.Color(0.86, 0.86, 0.86)
HEADER_BG = colors.Color(0.94, 0.94, 0.94)
GRID = colors.Color(0.35, 0.35, 0.35)


class SheetTooLarge(PaperlinkError):
    """A notice (or cover) does not fit on its page even at the smallest font size; nothing is clipped."""


@dataclass(frozen=True)
class SheetSpec:
    """One notice sheet: the notice, its place in the batch, its QR text(s) and its check codes."""

    notice: Notice
    seq: int  # n of n/N
    total: int  # N
    batch_id: str  # e.g. "B20261126-7K3Q"
    qr_texts: tuple[str, ...]  # usually one; uppercase base45 alphabet (QR alphanumeric mode)
    check_code: str  # e.g. "K7Q-2MX": human check code of the whole record
    field_checks: Mapping[str, str]  # item key -> 2 check characters, for items with a value


@dataclass(frozen=True)
class CoverSpec:
    """The batch cover: what was printed, when, and the manifest QR code(s)."""

    batch_id: str
    municipality_code: str
    printed_on: dt.date
    rows: tuple[tuple[int, str, str, str], ...]  # (seq, notice_id, event label 日本語, roman name)
    manifest_qr_texts: tuple[str, ...]
    rows_per_part: int | None = None
    """Rows listed by each manifest text (in order); each part gets a cover page of its own. None: one part."""
    held: tuple[tuple[str, str], ...] = ()
    """Notices of the file held back, not printed: (notice id or line, the reason in Japanese), listed last."""

    def parts(self) -> list[tuple[tuple[tuple[int, str, str, str], ...], tuple[str, ...]]]:
        """(rows, manifest texts) for each cover part: one page head with its QR, then its rows."""
        if self.rows_per_part is None or len(self.manifest_qr_texts) <= 1:
            return [(self.rows, self.manifest_qr_texts)]
        n = self.rows_per_part
        return [(self.rows[i * n:(i + 1) * n], (text,)) for i, text in enumerate(self.manifest_qr_texts)]


@dataclass(frozen=True)
class Layout:
    """Print parameters of the QR codes."""

    module_mm: float = 0.75  # QR module size, never below 0.6
    error: str = "m"  # segno error level "m" or "q"

    def __post_init__(self) -> None:
        if self.module_mm < MIN_MODULE_MM:
            raise ValueError(f"module_mm must be at least {MIN_MODULE_MM}, not {self.module_mm}")
        if self.error not in ("m", "q"):
            raise ValueError(f"error must be 'm' or 'q', not {self.error!r}")


# -- QR codes ----------------------------------------------------------------------------------------


def qr_matrix(text: str, error: str) -> segno.QRCode:
    """The QR code of a text: alphanumeric mode when the text fits it, error level as given, never boosted."""
    mode = "alphanumeric" if text and set(text) <= ALPHANUMERIC else None
    return segno.make_qr(text, error=error, mode=mode, boost_error=False)


@dataclass(frozen=True)
class _Code:
    """A QR code to draw and its module size in points."""

    qr: segno.QRCode
    module: float

    @property
    def size(self) -> float:
        """Side of the dark area (without quiet zone), in points."""
        return float(self.qr.symbol_size(border=0)[0]) * self.module

    @property
    def quiet(self) -> float:
        """Width of the quiet zone, in points."""
        return QUIET_MODULES * self.module


def _codes(texts: Sequence[str], layout: Layout) -> list[_Code]:
    return [_Code(qr_matrix(text, layout.error), layout.module_mm * mm) for text in texts]


def _dark_runs(row: Sequence[int]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a matrix row."""
    runs: list[tuple[int, int]] = []
    start = -1
    for i, dark in enumerate([*row, 0]):
        if dark and start < 0:
            start = i
        elif not dark and start >= 0:
            runs.append((start, i - start))
            start = -1
    return runs


def _draw_qr(c: Any, code: _Code, x: float, y: float) -> None:
    """Draw a code as ONE filled path, its dark area's lower-left corner at (x, y).

    The path is written in module units (a scaled coordinate system), so every rectangle is four small
    integers: short to write, fast to generate, and exact.
    """
    matrix = code.qr.matrix
    size = len(matrix)
    # the rectangles are written as PDF operators directly: integers need none of reportlab's float formatting,
    # which otherwise takes most of the time of drawing a sheet
    ops = [f"{start} {size - 1 - r} {length} 1 re" for r, row in enumerate(matrix) for start, length in _dark_runs(row)]
    c.saveState()
    c.translate(x, y)
    c.scale(code.module, code.module)
    c.setFillColor(colors.black)
    c.addLiteral("\n".join(ops) + "\nf")
    c.restoreState()


@dataclass(frozen=True)
class _Band:
    """QR codes placed in rows. Width and height include every quiet zone (and captions); positions are
    the lower-left corners of the dark areas, relative to the band's lower-left corner."""

    codes: tuple[_Code, ...]
    positions: tuple[tuple[float, float], ...]
    width: float
    height: float


_CAPTION_H = 4 * mm


def _rows(codes: Sequence[_Code], max_width: float) -> list[list[int]]:
    """Indexes of the codes in each row, filling rows left to right up to max_width."""
    rows: list[list[int]] = [[]]
    used = 0.0
    for i, code in enumerate(codes):
        footprint = code.size + 2 * code.quiet
        if rows[-1] and used + footprint > max_width:
            rows.append([])
            used = 0.0
        rows[-1].append(i)
        used += footprint
    return rows


def _band(codes: Sequence[_Code], max_width: float) -> _Band:
    """Flow codes in rows; each code keeps its own quiet zone clear (captions sit outside it)."""
    caption = _CAPTION_H if len(codes) > 1 else 0.0
    positions: dict[int, tuple[float, float]] = {}
    width = height = 0.0
    for row in reversed(_rows(codes, max_width)):  # bottom row first
        x = 0.0
        for i in row:
            positions[i] = (x + codes[i].quiet, height + caption + codes[i].quiet)
            x += codes[i].size + 2 * codes[i].quiet
        width = max(width, x)
        height += caption + max(codes[i].size + 2 * codes[i].quiet for i in row)
    return _Band(tuple(codes), tuple(positions[i] for i in range(len(codes))), width, height)


def _draw_band(c: Any, band: _Band, x: float, y: float, font: str) -> None:
    """Draw a band with its lower-left corner at (x, y); number the codes when there are several."""
    for i, (code, (dx, dy)) in enumerate(zip(band.codes, band.positions, strict=True)):
        _draw_qr(c, code, x + dx, y + dy)
        if len(band.codes) > 1:
            c.setFont(font, 8)
            c.drawString(x + dx, y + dy - code.quiet - 3 * mm, f"QR {i + 1}/{len(band.codes)}")


# -- text helpers -------------------------------------------------------------------------------------


def _spaced(c: Any, text: str, x: float, y: float, font: str, size: float, cell: float) -> float:
    """Draw text one character per fixed-width cell (a monospace look; a hyphen gets half a cell)."""
    c.setFont(font, size)
    for ch in text:
        width = cell / 2 if ch == "-" else cell
        c.drawCentredString(x + width / 2, y, ch)
        x += width
    return x


def _caution_mark(c: Any, font: str, right: float, top: float) -> float:
    """The boxed 取扱注意 mark with its upper-right corner at (right, top); return its height."""
    size, pad = 10.5, 2 * mm
    width = stringWidth(CAUTION, font, size) + 2 * pad
    height = size + 2 * pad
    c.setLineWidth(1.4)
    c.rect(right - width, top - height, width, height, stroke=1, fill=0)
    c.setFont(font, size)
    c.drawString(right - width + pad, top - height + pad + 1.2, CAUTION)
    return float(height)


def _footer(c: Any, font: str, batch_id: str, part: str, page: int, pages: int) -> None:
    c.setStrokeColor(GRID)
    c.setLineWidth(0.4)
    c.line(LEFT, BOTTOM - 4 * mm, RIGHT, BOTTOM - 4 * mm)
    c.setFillColor(colors.black)
    c.setFont(font, 8.5)
    y = BOTTOM - 8 * mm
    c.drawString(LEFT, y, "paperlink")
    c.drawCentredString(PAGE_W / 2, y, f"バッチ {batch_id}　　{part}")
    c.drawRightString(RIGHT, y, f"ページ {page}/{pages}")
    c.setStrokeColor(colors.black)


# -- the notice sheet ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _style(font: str, size: float, cjk: bool, align: int = 0) -> ParagraphStyle:
    return ParagraphStyle(f"pl{size}{cjk}{align}", fontName=font, fontSize=size, leading=size * 1.3,
                          wordWrap="CJK" if cjk else None, alignment=align)


def _para(text: str, font: str, size: float, width: float, align: int = 0) -> Paragraph:
    """A wrapping cell: word wrap for ASCII text whose words fit, character wrap (CJK) otherwise."""
    words = text.split(" ")
    cjk = not text.isascii() or any(stringWidth(w, font, size) > width - 8 for w in words)
    return Paragraph(markup(text) if not text.isascii() else escape(text), _style(font, size, cjk, align))


NAME_KEYS = frozenset({"name", "name_kanji"})
BREAK_MARK = "⇒"
"""Ends a line of a name that continues on the next line (the break is no part of the name)."""
def _name_lines(text: str, font: str, size: float, width: float) -> list[str]:
    """A name split into lines that fit `width` with room for the break mark: at spaces for roman letters (a word
    longer than a line is split too), anywhere for 漢字 (a variation selector stays with its character)."""
    if stringWidth(text, font, size) <= width - 8:
        return [text]
    room = width - stringWidth(f" {BREAK_MARK}", font, size) - 8
    tokens: list[str] = []
    for ch in text:
        if tokens and (is_variation_selector(ch) or (text.isascii() and ch != " " and tokens[-1][-1] != " ")):
            tokens[-1] += ch
        else:
            tokens.append(ch)
    lines = [""]
    for token in tokens:
        if lines[-1] and stringWidth((lines[-1] + token).rstrip(), font, size) > room:
            lines.append("")
        if stringWidth(token, font, size) > room:  # one very long word: split it by characters
            for ch in token:
                if lines[-1] and stringWidth(lines[-1] + ch, font, size) > room:
                    lines.append("")
                lines[-1] += ch
            continue
        lines[-1] += token.lstrip() if not lines[-1] else token
    return [line.rstrip() for line in lines if line.strip()] or [text]


def _name_para(text: str, font: str, size: float, width: float) -> Paragraph:
    """A name cell: where it is broken across lines, each line but the last ends with a visible ⇒."""
    lines = _name_lines(text, font, size, width)
    if len(lines) == 1:
        return _para(text, font, size, width)
    mark = f' <font color="#444444">{BREAK_MARK}</font><br/>'
    body = mark.join(markup(line) if not line.isascii() else escape(line) for line in lines)
    para = Paragraph(body, _style(font, size, True))
    para.broken_name = True
    return para


def _sheet_rows(spec: SheetSpec, font: str, size: float) -> tuple[list[list[Any]], list[int]]:
    """The table rows (header first) and the indexes of the rows whose item changed."""
    notice = spec.notice
    before = notice.before_dict()
    value_w, before_w = SHEET_COLUMNS[1], SHEET_COLUMNS[2]
    rows: list[list[Any]] = [[_para(h, font, size, 99 * mm, 1) for h in ("項目", "内容", "変更前", "検")]]
    changed: list[int] = []
    for field in ordered_fields():
        key = field.key
        spans = key not in BEFORE_KEYS
        cell = _name_para if key in NAME_KEYS else _para
        value = cell(display_value(key, notice.get(key)), font, size, value_w + (before_w if spans else 0))
        old = cell(display_value(key, before[key]), font, size, before_w) if key in before else ""
        check = _para(spec.field_checks.get(key, ""), font, size, SHEET_COLUMNS[3], 1)
        if key in before:
            changed.append(len(rows))
        rows.append([_para(field_label(field, notice), font, size, SHEET_COLUMNS[0]), value, old, check])
    return rows, changed


def _sheet_table(spec: SheetSpec, font: str, size: float, pad: float) -> Table:
    rows, changed = _sheet_rows(spec, font, size)
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BOX", (0, 0), (-1, -1), 1.0, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("BACKGROUND", (0, 1), (0, -1), HEADER_BG),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), pad),
        ("BOTTOMPADDING", (0, 0), (-1, -1), pad + 1),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    for i, field in enumerate(ordered_fields(), start=1):
        if field.key not in BEFORE_KEYS:
            commands.append(("SPAN", (1, i), (2, i)))
    commands.extend(("BACKGROUND", (0, i), (-1, i), CHANGED_BG) for i in changed)
    table = Table(rows, colWidths=SHEET_COLUMNS)
    table.setStyle(TableStyle(commands))
    table.broken_names = any(getattr(cell, "broken_name", False) for row in rows for cell in row)
    return table


SENDER = "法務大臣"
"""Who sends the notice: 住民基本台帳法 第30条の50 makes it the Minister of Justice's duty (in practice issued by
出入国在留管理庁; that delegation is not verified here, so the sheet names the statutory sender)."""
LEGAL_BASIS = "住民基本台帳法第30条の50の規定により、下記のとおり通知します。"
REMOVAL_MARK = "消除"


def addressee(code: str) -> str:
    """The 宛先 of a notice for a municipality code: 千代田区長 殿, 札幌市中央区長 殿 (from the municipality table);
    a code the table does not know is printed as 市区町村コード … 長 殿, never guessed."""
    from paperlink.codetables import tables

    found = tables().municipalities.get(code)
    return f"{found.head_title} 殿" if found is not None else f"市区町村コード {code} の長 殿"


def document_number(spec: SheetSpec) -> str:
    """The sheet's document number: its batch and n (unique, and the same on a reprint of the sheet)."""
    return f"{spec.batch_id} 第{spec.seq}号"


def removes_record(event: str) -> bool:
    """Whether the event removes the 住民票 (消除) rather than correcting it (修正)."""
    from paperlink.codetables import tables

    found = tables().events.get(event)
    return found is not None and found.register == REMOVAL_MARK


def _sheet_header(c: Any, spec: SheetSpec, font: str) -> float:
    """The sheet as an official document: title, 取扱注意, n/N; 宛先, document number, sender and legal basis;
    ids, event (with a 消除 mark when it removes the 住民票) and dates. Returns the y just below the header."""
    notice = spec.notice
    c.setFillColor(colors.black)
    c.setFont(font, 16)
    c.drawString(LEFT, TOP - 6 * mm, TITLE)
    mark_h = _caution_mark(c, font, RIGHT, TOP)
    _seq_box(c, spec, font, TOP - mark_h - 3 * mm)
    c.setFont(font, 13)
    c.drawString(LEFT, TOP - 13.5 * mm, addressee(notice.municipality_code))
    _labelled(c, font, LEFT, TOP - 19.5 * mm, "文書番号", document_number(spec), 10.0)
    _labelled(c, font, LEFT + 75 * mm, TOP - 19.5 * mm, "発信者", SENDER, 10.0)
    c.setFont(font, 9.5)
    c.drawString(LEFT, TOP - 25 * mm, LEGAL_BASIS)
    y = TOP - 31.5 * mm
    _labelled(c, font, LEFT, y, "通知番号", notice.notice_id, 12.0)
    _labelled(c, font, LEFT + 75 * mm, y, "バッチ番号", spec.batch_id, 11.0)
    y -= 6.5 * mm
    event = display_value("event", notice.event)
    _labelled(c, font, LEFT, y, "事由", event, 14.0)
    if removes_record(notice.event):
        _removal_mark(c, font, LEFT + 22 * mm + stringWidth(event, font, 14.0) + 4 * mm, y)
    y -= 6.5 * mm
    _labelled(c, font, LEFT, y, "通知日", date_text(notice.notice_date), 11.0)
    _labelled(c, font, LEFT + 90 * mm, y, "事由発生日", date_text(notice.event_date), 11.0)
    y -= 4.5 * mm
    c.setLineWidth(0.8)
    c.line(LEFT, y, RIGHT, y)
    return float(y)


def _removal_mark(c: Any, font: str, x: float, baseline: float) -> None:
    """A boxed, inverted 消除（住民票を消除する事由）mark: the event removes the 住民票."""
    text = f"{REMOVAL_MARK}（住民票を消除する事由）"
    size, pad = 11.0, 1.2 * mm
    width = stringWidth(text, font, size) + 2 * pad
    c.setFillColor(colors.black)
    c.rect(x, baseline - pad, width, size + 2 * pad - 1, stroke=0, fill=1)
    c.setFillColor(colors.white)
    c.setFont(font, size)
    c.drawString(x + pad, baseline + 0.5, text)
    c.setFillColor(colors.black)


def _labelled(c: Any, font: str, x: float, y: float, label: str, value: str, size: float) -> None:
    """A small label and its value 22 mm to the right, on one baseline."""
    c.setFont(font, 9)
    c.drawString(x, y, label)
    c.setFont(font, size)
    c.drawString(x + 22 * mm, y, value)


def _seq_box(c: Any, spec: SheetSpec, font: str, top: float) -> None:
    """The large n/N box at the upper right."""
    text = f"{spec.seq}/{spec.total}"
    size = 26.0
    width = max(42 * mm, stringWidth(text, font, size) + 8 * mm)
    height = 19 * mm
    c.setLineWidth(1.4)
    c.rect(RIGHT - width, top - height, width, height, stroke=1, fill=0)
    c.setFont(font, 8.5)
    c.drawString(RIGHT - width + 2 * mm, top - 4.5 * mm, "連番（n/N）")
    c.setFont(font, size)
    c.drawCentredString(RIGHT - width / 2, top - height + 4 * mm, text)


@dataclass(frozen=True)
class _Bottom:
    """Where the QR band and the stamp boxes go on a sheet, and the top of that zone."""

    band: _Band
    band_x: float
    band_y: float
    stamps_x: float
    stamps_y: float
    top: float


_CHECK_H = 10 * mm
_STAMPS_W = 3 * STAMP_SIZE
_STAMPS_H = STAMP_SIZE + 12 * mm


def _plan_bottom(codes: Sequence[_Code]) -> _Bottom:
    """QR codes bottom-left above the check code, stamps bottom-right (or above, if the codes need the width).

    The band's dark modules line up with the left margin; its quiet zone reaches into the (white) margin.
    """
    quiet = codes[0].quiet
    band = _band(codes, WIDTH + 2 * quiet)
    band_x, band_y = LEFT - quiet, BOTTOM + _CHECK_H
    band_top = band_y + band.height
    stamps_x = RIGHT - _STAMPS_W
    if band_x + band.width + STAMP_GAP <= stamps_x:
        return _Bottom(band, band_x, band_y, stamps_x, BOTTOM, max(band_top, BOTTOM + _STAMPS_H))
    stamps_y = band_top + STAMP_GAP
    return _Bottom(band, band_x, band_y, stamps_x, stamps_y, stamps_y + _STAMPS_H)


def _stamp_boxes(c: Any, font: str, x: float, y: float) -> None:
    """The 事務処理欄: a title row, a label row and three 25 mm stamp boxes, lower-left at (x, y)."""
    label_h = 6 * mm
    c.setLineWidth(0.8)
    c.rect(x, y, _STAMPS_W, _STAMPS_H, stroke=1, fill=0)
    c.setFont(font, 9.5)
    c.drawCentredString(x + _STAMPS_W / 2, y + STAMP_SIZE + label_h + 1.8 * mm, "事務処理欄")
    c.line(x, y + STAMP_SIZE + label_h, x + _STAMPS_W, y + STAMP_SIZE + label_h)
    c.setLineWidth(0.5)
    c.line(x, y + STAMP_SIZE, x + _STAMPS_W, y + STAMP_SIZE)
    for i, name in enumerate(STAMPS):
        left = x + i * STAMP_SIZE
        if i:
            c.line(left, y, left, y + STAMP_SIZE + label_h)
        c.drawCentredString(left + STAMP_SIZE / 2, y + STAMP_SIZE + 1.8 * mm, name)


def _check_code(c: Any, code: str, font: str, x: float, y: float) -> None:
    c.setFont(font, 10)
    c.drawString(x, y + 1.5 * mm, "チェックコード")
    _spaced(c, code, x + 27 * mm, y, font, 22, 5.6 * mm)


def _fit_table(spec: SheetSpec, font: str, top: float, bottom: float) -> Table:
    """The item table at the largest font size that fits between top and bottom; SheetTooLarge otherwise."""
    for size, pad in FONT_STEPS:
        table = _sheet_table(spec, font, size, pad)
        _, height = table.wrap(WIDTH, top - bottom)
        if height <= top - bottom:
            return table
    raise SheetTooLarge("sheet_too_large", notice_id=spec.notice.notice_id, size=f"{FONT_STEPS[-1][0]:g}")


def _legend(c: Any, font: str, y: float, any_changed: bool, any_broken: bool = False) -> None:
    """What the shading, the break mark and the 検 column mean; a second line when one would not fit."""
    c.setFont(font, 7.5)
    parts = ["網掛けの行: 今回の事由で変更された項目（右欄に変更前の値）"] if any_changed else []
    if any_broken:
        parts.append(f"{BREAK_MARK}: 氏名が次の行に続く（改行は氏名の一部ではない）")
    parts.append("「検」欄: 項目ごとの確認文字（手入力の照合用）")
    text = "　".join(parts)
    if stringWidth(text, font, 7.5) <= WIDTH:
        c.drawRightString(RIGHT, y, text)
        return
    c.drawRightString(RIGHT, y, "　".join(parts[:-1]))
    c.drawRightString(RIGHT, y - 3 * mm, parts[-1])


def _check_glyphs(spec: SheetSpec) -> None:
    """Refuse a notice whose values the font cannot draw: a blank box on paper would lose a character."""
    record = spec.notice.record()
    values = [(key, value) for key, value in record.items() if isinstance(value, str)]
    values += [(f"before.{key}", value) for key, value in record["before"].items() if isinstance(value, str)]
    for key, value in values:
        missing = unprintable(value)
        if missing:
            raise UnprintableCharacter("sheet_unprintable_char", notice_id=spec.notice.notice_id, field=key,
                                       chars=", ".join(missing), fonts=WORKING_FONTS)


def _draw_sheet(c: Any, spec: SheetSpec, layout: Layout, font: str) -> None:
    if not spec.qr_texts:
        raise ValueError(f"notice {spec.notice.notice_id}: a sheet needs at least one QR text")
    _check_glyphs(spec)
    table_top = _sheet_header(Canvas(io.BytesIO(), pagesize=A4), spec, font) - 3 * mm  # measured, not drawn
    bottom = _plan_bottom(_codes(spec.qr_texts, layout))
    try:
        table = _fit_table(spec, font, table_top, bottom.top + 10 * mm)
    except SheetTooLarge:
        if layout.module_mm <= MIN_MODULE_MM:
            raise
        # a very long notice: the smallest module a 150-dpi scan still resolves leaves the table more room
        bottom = _plan_bottom(_codes(spec.qr_texts, Layout(MIN_MODULE_MM, layout.error)))
        table = _fit_table(spec, font, table_top, bottom.top + 10 * mm)
    broken = bool(getattr(table, "broken_names", False))
    _sheet_header(c, spec, font)
    _, height = table.wrap(WIDTH, table_top - bottom.top)
    table.drawOn(c, LEFT, table_top - height)
    _legend(c, font, table_top - height - 4 * mm, bool(spec.notice.before), broken)
    _draw_band(c, bottom.band, bottom.band_x, bottom.band_y, font)
    _check_code(c, spec.check_code, font, LEFT, BOTTOM + 1.5 * mm)
    _stamp_boxes(c, font, bottom.stamps_x, bottom.stamps_y)


# -- the cover ----------------------------------------------------------------------------------------


def _cover_total(cover: CoverSpec) -> int:
    return max([len(cover.rows), *(seq for seq, *_ in cover.rows)])


def _cover_table(cover: CoverSpec, part_rows: Sequence[tuple[int, str, str, str]], font: str,
                 held: Sequence[tuple[str, str]] = ()) -> Table:
    size = 9.5
    total = _cover_total(cover)
    head = [_para(h, font, size, 99 * mm, 1) for h in ("連番", "通知番号", "事由", "氏名")]
    rows: list[list[Any]] = [head]
    for seq, notice_id, event, name in part_rows:
        rows.append([_para(f"{seq}/{total}", font, size, COVER_COLUMNS[0], 1),
                     _para(notice_id, font, size, COVER_COLUMNS[1]),
                     _para(event, font, size, COVER_COLUMNS[2]),
                     _name_para(name, font, size, COVER_COLUMNS[3])])
    first_held = len(rows)
    for label, reason in held:
        rows.append([_para("保留", font, size, COVER_COLUMNS[0], 1), _para(label, font, size, COVER_COLUMNS[1]),
                     _para(f"印刷せず: {reason}", font, size, COVER_COLUMNS[2] + COVER_COLUMNS[3]), ""])
    table = Table(rows, colWidths=COVER_COLUMNS, repeatRows=1)
    table.setStyle(TableStyle([*[("SPAN", (2, i), (3, i)) for i in range(first_held, len(rows))],
                               *[("BACKGROUND", (0, i), (-1, i), CHANGED_BG) for i in range(first_held, len(rows))],
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BOX", (0, 0), (-1, -1), 1.0, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]))
    return table


def _paginate(table: Table, first: float, rest: float) -> list[Table]:
    """Split a table into page-sized parts: `first` points tall on the first page, `rest` on the others."""
    parts: list[Table] = []
    height = first
    while True:
        _, needed = table.wrap(WIDTH, height)
        if needed <= height:
            return [*parts, table]
        split = table.split(WIDTH, height)
        if len(split) < 2:
            raise SheetTooLarge("sheet_cover_split")
        parts.append(split[0])
        table = split[1]
        height = rest


_COVER_TOP_H = 16 * mm


def _cover_info(c: Any, cover: CoverSpec, font: str, y: float) -> float:
    """Municipality, date, batch id and count; return the y below them."""
    lines = (("市区町村コード", cover.municipality_code, 12.0), ("印刷日", date_text(cover.printed_on), 12.0),
             ("バッチ番号", cover.batch_id, 14.0),
             ("件数", f"{len(cover.rows)} 件" + (f"（ほかに保留 {len(cover.held)} 件）" if cover.held else ""), 18.0))
    for label, value, size in lines:
        c.setFont(font, 9.5)
        c.drawString(LEFT, y, label)
        c.setFont(font, size)
        c.drawString(LEFT + 28 * mm, y, value)
        y -= 9 * mm
    return y + 4 * mm


_INFO_W = 95 * mm


def _cover_band(texts: Sequence[str], layout: Layout) -> tuple[_Band | None, bool]:
    """The manifest band and whether it fits beside the info block (else it goes below it)."""
    if not texts:
        return None, True
    codes = _codes(texts, layout)
    room = WIDTH - _INFO_W + codes[0].quiet
    beside = _band(codes, room)
    if beside.width <= room:
        return beside, True
    return _band(codes, WIDTH + 2 * codes[0].quiet), False


def _cover_first(c: Any, cover: CoverSpec, layout: Layout, font: str, texts: Sequence[str], title: str) -> float:
    """A cover part's head: title, mark, info, its manifest QR; return the y where the list starts."""
    _cover_title(c, font, title)
    info_top = TOP - _COVER_TOP_H - 5 * mm
    info_bottom = _cover_info(c, cover, font, info_top)
    band, beside = _cover_band(texts, layout)
    if band is None:
        return info_bottom - 4 * mm
    quiet = band.codes[0].quiet
    if beside:
        y = TOP - _COVER_TOP_H + 3 * mm - band.height
        _draw_band(c, band, RIGHT + quiet - band.width, y, font)
        c.setFont(font, 8.5)
        c.drawCentredString(RIGHT - (band.width - 2 * quiet) / 2, y - 3.5 * mm, "送付票QR")
        return min(info_bottom, y - 6 * mm) - 2 * mm
    y = info_bottom - band.height
    _draw_band(c, band, LEFT - quiet, y, font)
    return y - 4 * mm


def _cover_title(c: Any, font: str, title: str) -> None:
    c.setFillColor(colors.black)
    c.setFont(font, 17)
    c.drawString(LEFT, TOP - 7 * mm, title)
    _caution_mark(c, font, RIGHT, TOP)
    c.setLineWidth(0.8)
    c.line(LEFT, TOP - _COVER_TOP_H + 4 * mm, RIGHT, TOP - _COVER_TOP_H + 4 * mm)


_CoverPage = tuple[Table, tuple[str, ...] | None, str]


def _cover_pages(cover: CoverSpec, layout: Layout, font: str) -> list[_CoverPage]:
    """Every cover page: (its part of the list, the manifest texts of its head or None, its title).

    Each manifest part starts a page whose head carries that part's QR; a part whose rows overflow
    (very long names) continues on pages that repeat the same QR, so no cover page is without a code.
    """
    pages: list[_CoverPage] = []
    parts = cover.parts()
    for index, (rows, texts) in enumerate(parts):
        title = COVER_TITLE if len(parts) == 1 else f"{COVER_TITLE} {index + 1}/{len(parts)}"
        scratch = Canvas(io.BytesIO(), pagesize=A4)
        list_top = _cover_first(scratch, cover, layout, font, texts, title)
        rest_top = TOP - _COVER_TOP_H - 2 * mm
        held = cover.held if index == len(parts) - 1 else ()
        tables = _paginate(_cover_table(cover, rows, font, held), list_top - BOTTOM, rest_top - BOTTOM)
        pages += [(table, texts, title if i == 0 else f"{title}（続き）") for i, table in enumerate(tables)]
    return pages


def _draw_cover_page(c: Any, cover: CoverSpec, layout: Layout, font: str, page: _CoverPage) -> None:
    part, texts, title = page
    top = _cover_first(c, cover, layout, font, texts, title) if texts is not None else _cover_rest_head(c, font)
    _, height = part.wrap(WIDTH, top - BOTTOM)
    part.drawOn(c, LEFT, top - height)


def _cover_rest_head(c: Any, font: str) -> float:
    _cover_title(c, font, COVER_TITLE + "（続き）")
    return float(TOP - _COVER_TOP_H - 2 * mm)


# -- the document -------------------------------------------------------------------------------------


def _batch_id(cover: CoverSpec | None, sheets: Sequence[SheetSpec]) -> str:
    return cover.batch_id if cover is not None else sheets[0].batch_id


def render_pdf(cover: CoverSpec | None, sheets: Sequence[SheetSpec], layout: Layout = Layout()) -> bytes:
    """The PDF: the cover (if given, on as many pages as its list needs) then one page per sheet, in order.

    The same input always gives the same bytes. Raises SheetTooLarge when a notice cannot fit on its page.
    """
    if cover is None and not sheets:
        raise ValueError("nothing to print: no cover and no sheets")
    font = japanese_font()
    cover_parts = _cover_pages(cover, layout, font) if cover is not None else []
    pages = len(cover_parts) + len(sheets)
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1, initialFontName=font)
    batch_id = _batch_id(cover, sheets)
    c.setTitle(f"{TITLE} {batch_id}")
    c.setAuthor("paperlink")
    c.setCreator("paperlink")
    c.setSubject("通知書・送付票")
    page = 0
    for i, part in enumerate(cover_parts):
        assert cover is not None
        _draw_cover_page(c, cover, layout, font, part)
        page += 1
        _footer(c, font, cover.batch_id, f"送付票 {i + 1}/{len(cover_parts)}", page, pages)
        c.showPage()
    for spec in sheets:
        _draw_sheet(c, spec, layout, font)
        page += 1
        _footer(c, font, spec.batch_id, f"通知 {spec.seq}/{spec.total}", page, pages)
        c.showPage()
    c.save()
    return buffer.getvalue()


# -- for other printed documents (the receipt sheet) ----------------------------------------------------------


def paragraph(text: str, font: str, size: float, width: float) -> Paragraph:
    """A wrapping paragraph drawn as the sheets draw their cells (fallback fonts and markers included)."""
    return _para(text, font, size, width)


def draw_codes(c: Any, texts: Sequence[str], x: float, y: float, max_width: float, font: str) -> float:
    """QR codes of `texts` in rows up to `max_width`, their band's lower-left dark corner at (x, y); the band's height."""
    band = _band(_codes(texts, Layout()), max_width)
    _draw_band(c, band, x - band.codes[0].quiet, y, font)
    return band.height
