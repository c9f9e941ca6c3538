"""The printed sheets, read back from real PDFs: every item legible, QR codes decodable, nothing clipped."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import random
import re
from collections.abc import Iterator, Sequence
from typing import Any

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp

from paperlink import fonts
from paperlink.codetables import tables
from paperlink.dates import to_wareki
from paperlink.fields import BEFORE_KEYS, FIELDS
from paperlink.notice import Notice
from paperlink.samples import SampleOptions, generate
from paperlink.sheets import (
    BREAK_MARK,
    LEFT,
    PAGE_H,
    PAGE_W,
    RIGHT,
    SHEET_COLUMNS,
    CoverSpec,
    Layout,
    SheetSpec,
    SheetTooLarge,
    ordered_fields,
    qr_matrix,
    render_pdf,
)

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
BATCH = "B20261126-7K3Q"
CHECK_CODE = "K7Q-2MX"
MM = 72 / 25.4
NOTICE_DATE = dt.date(2026, 11, 26)


def qr_text(seed: int, length: int = 380) -> str:
    """A realistic payload: a version prefix and base45 characters (deterministic)."""
    rng = random.Random(seed)
    return "PL1:" + "".join(rng.choice(BASE45) for _ in range(length))


def field_checks(notice: Notice) -> dict[str, str]:
    """Two check characters for every item with a value (distinct per item, deterministic)."""
    record = notice.record()
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return {key: alphabet[i % 31] + alphabet[(i * 7 + 3) % 31]
            for i, key in enumerate(k for k in record if k != "before") if record[key] is not None}


def spec(notice: Notice, seq: int = 1, total: int = 1, texts: tuple[str, ...] | None = None) -> SheetSpec:
    return SheetSpec(notice, seq, total, BATCH, texts or (qr_text(seq),), CHECK_CODE, field_checks(notice))


def squash(text: str | None) -> str:
    """Text with every kind of whitespace removed (pdfplumber splits lines and spaces as it sees fit), and the mark
    of a name broken across lines."""
    return "".join((text or "").replace(BREAK_MARK, "").split())


def expected_value(key: str, value: object) -> str:
    """What the clerk should read for an item, worked out independently of the renderer."""
    if value is None:
        return "―"
    if isinstance(value, dt.date):
        return f"{value.isoformat()}（{to_wareki(value)}）"
    t = tables()
    labels = {"event": t.events, "category": t.categories, "card_kind": t.card_kinds}
    if key in labels:
        return str(labels[key][str(value)].label)
    if key == "sex":
        return {"M": "男", "F": "女"}[str(value)]
    return str(value)


def expected_label(key: str, notice: Notice) -> str:
    label = next(f.label for f in FIELDS if f.key == key)
    period_label = tables().categories[notice.category].period_label
    if key == "expiry_date" and period_label and period_label != "在留期間":
        return f"{period_label}の満了の日"
    if key == "card_number" and notice.card_kind:
        return f"{tables().card_kinds[notice.card_kind].label}番号"
    return period_label if key == "period_of_stay" and period_label else label


@pytest.fixture(scope="module")
def notices() -> list[Notice]:
    return generate(SampleOptions(count=30, seed=1, notice_date=NOTICE_DATE))


@pytest.fixture(scope="module")
def batch_pdf(notices: list[Notice]) -> bytes:
    """A cover and a sheet for each of the 30 sample notices (every event; several with before values)."""
    sheets = [spec(n, i + 1, len(notices)) for i, n in enumerate(notices)]
    rows = tuple((i + 1, n.notice_id, tables().events[n.event].label, n.name) for i, n in enumerate(notices))
    cover = CoverSpec(BATCH, "131016", NOTICE_DATE, rows, (qr_text(999, 200),))
    return render_pdf(cover, sheets)


@pytest.fixture
def open_pdf() -> Iterator[Any]:
    opened: list[Any] = []

    def read(data: bytes) -> Any:
        pdf = pdfplumber.open(io.BytesIO(data))
        opened.append(pdf)
        return pdf

    yield read
    for pdf in opened:
        pdf.close()


# -- reading a sheet back ----------------------------------------------------------------------------


def _text_in(page: Any, x0: float, top: float, x1: float, bottom: float) -> str:
    return squash(page.within_bbox((x0, top, x1, bottom)).extract_text())


def table_rows(page: Any) -> list[dict[str, str]]:
    """The item table read cell by cell: row bands from the full-width rules, columns from the layout."""
    tops = sorted({round(line["top"], 1) for line in page.lines
                   if line["height"] < 1 and line["x0"] <= LEFT + 1 and line["x1"] >= RIGHT - 1})
    bands = tops[1:-1]  # drop the rule under the header and the footer rule
    assert len(bands) == len(FIELDS) + 2, bands
    edges = [LEFT]
    for width in SHEET_COLUMNS:
        edges.append(edges[-1] + width)
    rows = []
    for field, top, bottom in zip(ordered_fields(), bands[1:-1], bands[2:], strict=True):
        spans = field.key not in BEFORE_KEYS
        rows.append({
            "label": _text_in(page, edges[0], top, edges[1], bottom),
            "value": _text_in(page, edges[1], top, edges[3] if spans else edges[2], bottom),
            "before": "" if spans else _text_in(page, edges[2], top, edges[3], bottom),
            "check": _text_in(page, edges[3], top, edges[4], bottom),
        })
    return rows


@pytest.mark.slow
def test_every_item_label_value_before_and_check_is_on_its_sheet(batch_pdf: bytes, notices: list[Notice],
                                                                 open_pdf: Any) -> None:
    pdf = open_pdf(batch_pdf)
    cover_pages = len(pdf.pages) - len(notices)
    for notice, page in zip(notices, pdf.pages[cover_pages:], strict=True):
        checks = field_checks(notice)
        before = notice.before_dict()
        for field, row in zip(ordered_fields(), table_rows(page), strict=True):
            where = f"{notice.notice_id} {field.key}"
            assert row["label"] == squash(expected_label(field.key, notice)), where
            assert row["value"] == squash(expected_value(field.key, notice.get(field.key))), where
            assert row["before"] == squash(expected_value(field.key, before[field.key]) if field.key in before else ""), where
            assert row["check"] == checks.get(field.key, ""), where


@pytest.mark.slow
def test_sheet_head_names_the_notice_batch_sequence_event_and_dates(batch_pdf: bytes, notices: list[Notice],
                                                                    open_pdf: Any) -> None:
    pdf = open_pdf(batch_pdf)
    cover_pages = len(pdf.pages) - len(notices)
    for i, (notice, page) in enumerate(zip(notices, pdf.pages[cover_pages:], strict=True)):
        text = squash(page.extract_text())
        head = squash(page.crop((0, 0, PAGE_W, 75 * MM)).extract_text())
        for part in ("外国人住民に係る住民票記載事項通知", "取扱注意（個人情報）", notice.notice_id, BATCH,
                     f"{i + 1}/{len(notices)}", tables().events[notice.event].label,
                     expected_value("notice_date", notice.notice_date), expected_value("event_date", notice.event_date)):
            assert squash(part) in head, (notice.notice_id, part)
        for part in ("チェックコード", CHECK_CODE, "事務処理欄", "受付", "入力", "審査", "paperlink",
                     f"ページ{cover_pages + i + 1}/{len(pdf.pages)}"):
            assert part in text, (notice.notice_id, part)


@pytest.mark.slow
def test_changed_items_are_shaded(batch_pdf: bytes, notices: list[Notice], open_pdf: Any) -> None:
    pdf = open_pdf(batch_pdf)
    cover_pages = len(pdf.pages) - len(notices)
    grey = (0.86, 0.86, 0.86)
    for notice, page in zip(notices, pdf.pages[cover_pages:], strict=True):
        shaded = [r for r in page.rects if r["fill"] and r["non_stroking_color"] == grey]
        assert len(shaded) == len(notice.before), notice.notice_id


@pytest.mark.slow
def test_fonts_are_embedded_subsets(batch_pdf: bytes, open_pdf: Any) -> None:
    pdf = open_pdf(batch_pdf)
    names = {ch["fontname"] for page in pdf.pages[:3] for ch in page.chars}
    assert names and all(re.match(r"^[A-Z]{6}\+", name) for name in names), names
    assert b"/FontFile2" in batch_pdf


def test_metadata_carries_no_personal_data(batch_pdf: bytes, notices: list[Notice], open_pdf: Any) -> None:
    info = open_pdf(batch_pdf).metadata
    assert info["Author"] == "paperlink" and BATCH in info["Title"]
    blob = " ".join(str(v) for v in info.values())
    assert not any(n.name in blob or n.notice_id in blob for n in notices)


# -- QR codes ----------------------------------------------------------------------------------------


def decode(data: bytes, page: int, dpi: int) -> list[str]:
    image = pdfium.PdfDocument(data)[page].render(scale=dpi / 72).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def cover_page_count(data: bytes, sheets: int) -> int:
    return len(pdfium.PdfDocument(data)) - sheets


@pytest.mark.parametrize("dpi", [300, 150])
def test_sheet_qr_decodes_to_exactly_the_text_given(batch_pdf: bytes, notices: list[Notice], dpi: int) -> None:
    cover_pages = cover_page_count(batch_pdf, len(notices))
    for seq in (1, 2, 17, 30):
        assert decode(batch_pdf, cover_pages + seq - 1, dpi) == [qr_text(seq)]


def test_cover_manifest_qr_decodes(batch_pdf: bytes) -> None:
    assert decode(batch_pdf, 0, 150) == [qr_text(999, 200)]


def qr_boxes(data: bytes, page: int, texts: Sequence[str], layout: Layout) -> list[tuple[float, float, float, float]]:
    """The bounding box (pdfplumber's top-down coordinates) of each QR path: exactly one path per code."""
    sizes = {qr_matrix(t, layout.error).symbol_size(border=0)[0] * layout.module_mm * MM for t in texts}
    boxes = []
    for obj in pdfium.PdfDocument(data)[page].get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH,)):
        x0, y0, x1, y1 = obj.get_bounds()
        if any(abs((x1 - x0) - s) < 0.5 and abs((y1 - y0) - s) < 0.5 for s in sizes):
            boxes.append((x0, PAGE_H - y1, x1, PAGE_H - y0))
    assert len(boxes) == len(texts)
    return boxes


def assert_quiet_zone(page: Any, box: tuple[float, float, float, float], module: float) -> None:
    """Nothing is drawn within four modules of the code but the code's own modules; all of it is on the page."""
    x0, top, x1, bottom = box
    q = 4 * module - 0.01
    zone = (x0 - q, top - q, x1 + q, bottom + q)
    assert zone[0] >= 0 and zone[1] >= 0 and zone[2] <= PAGE_W and zone[3] <= PAGE_H

    def inside_code(o: dict[str, Any]) -> bool:
        return bool(o["x0"] >= x0 - 0.01 and o["x1"] <= x1 + 0.01 and o["top"] >= top - 0.01 and o["bottom"] <= bottom + 0.01)

    def touches_zone(o: dict[str, Any]) -> bool:
        return bool(o["x1"] > zone[0] and o["x0"] < zone[2] and o["bottom"] > zone[1] and o["top"] < zone[3])

    code_rects = [r for r in page.rects if inside_code(r) and r["fill"] and not r["stroke"]]
    assert code_rects and all(abs(r["height"] - module) < 0.01 for r in code_rects)
    others = [o for o in [*page.chars, *page.lines, *page.curves, *page.rects] if o not in code_rects]
    assert not [o for o in others if touches_zone(o)]


@pytest.mark.parametrize("layout", [Layout(), Layout(module_mm=0.6, error="q")])
def test_quiet_zone_and_module_size_measured_from_the_pdf(notices: list[Notice], layout: Layout, open_pdf: Any) -> None:
    texts = (qr_text(1),)
    data = render_pdf(None, [spec(notices[0], texts=texts)], layout)
    page = open_pdf(data).pages[0]
    (box,) = qr_boxes(data, 0, texts, layout)
    modules = qr_matrix(texts[0], layout.error).symbol_size(border=0)[0]
    module = (box[2] - box[0]) / modules
    assert module >= 0.6 * MM - 0.001
    assert abs(module - layout.module_mm * MM) < 0.001
    assert_quiet_zone(page, box, module)
    assert decode(data, 0, 150) == list(texts)


def test_two_codes_on_one_sheet_each_decode_and_keep_clear(notices: list[Notice], open_pdf: Any) -> None:
    texts = (qr_text(5, 150), qr_text(6, 150))  # two 380-character codes and the stamps do not fit side by side
    data = render_pdf(None, [spec(notices[1], texts=texts)])
    page = open_pdf(data).pages[0]
    for box in qr_boxes(data, 0, texts, Layout()):
        assert_quiet_zone(page, box, Layout().module_mm * MM)
    assert sorted(decode(data, 0, 300)) == sorted(texts)


def test_stamp_boxes_are_far_from_the_code(batch_pdf: bytes, notices: list[Notice], open_pdf: Any) -> None:
    index = cover_page_count(batch_pdf, len(notices))
    page = open_pdf(batch_pdf).pages[index]
    (box,) = qr_boxes(batch_pdf, index, [qr_text(1)], Layout())
    stamp_label = next(w for w in page.extract_words() if w["text"] == "受付")
    stamp_frames = [r for r in page.rects if r["x0"] <= stamp_label["x0"] and r["x1"] >= stamp_label["x1"]
                    and r["top"] <= stamp_label["top"] and r["bottom"] >= stamp_label["bottom"]]
    assert stamp_frames
    frame = stamp_frames[0]
    assert frame["width"] >= 75 * MM - 0.5 and frame["height"] >= 25 * MM
    assert frame["x0"] - box[2] >= 20 * MM


def test_qr_matrix_uses_alphanumeric_mode_and_the_level_asked() -> None:
    code = qr_matrix(qr_text(1), "q")
    assert code.mode == "alphanumeric" and code.error == "Q"
    assert qr_matrix("pl1:lower", "m").mode == "byte"


def test_layout_refuses_small_modules_and_unknown_levels() -> None:
    with pytest.raises(ValueError):
        Layout(module_mm=0.5)
    with pytest.raises(ValueError):
        Layout(error="h")


# -- cover ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cover_with_300_rows_paginates_and_lists_every_notice(notices: list[Notice], open_pdf: Any) -> None:
    events = [e.label for e in tables().events.values()]
    rows = tuple((i + 1, f"N20261126-{i + 1:05d}", events[i % len(events)], notices[i % len(notices)].name)
                 for i in range(300))
    cover = CoverSpec(BATCH, "131016", NOTICE_DATE, rows, (qr_text(7, 300),))
    data = render_pdf(cover, [])
    pdf = open_pdf(data)
    assert len(pdf.pages) > 3
    texts = [squash(p.extract_text()) for p in pdf.pages]
    first = texts[0]
    for part in ("通知書送付票（バッチ表紙）", "取扱注意（個人情報）", "131016", "2026-11-26（令和8年11月26日）", BATCH, "300件"):
        assert part in first, part
    assert all("取扱注意（個人情報）" in t and "（続き）" in t for t in texts[1:])
    everything = "".join(texts)
    found = re.findall(r"N20261126-\d{5}", everything)
    assert sorted(found) == sorted(r[1] for r in rows)  # each exactly once
    assert all(f"{i}/300" in everything for i in (1, 150, 300))
    assert all(f"ページ{i + 1}/{len(pdf.pages)}" in t for i, t in enumerate(texts))
    assert decode(data, 0, 150) == [qr_text(7, 300)]
    assert decode(data, 1, 150) == [qr_text(7, 300)]  # a continuation page repeats its part's code


def test_cover_in_parts_puts_each_manifest_code_over_its_own_rows(notices: list[Notice], open_pdf: Any) -> None:
    rows = tuple((i + 1, f"N20261126-{i + 1:05d}", "出国", notices[i % len(notices)].name) for i in range(60))
    texts = (qr_text(1, 120), qr_text(2, 120), qr_text(3, 120))
    data = render_pdf(CoverSpec(BATCH, "131016", NOTICE_DATE, rows, texts, rows_per_part=25), [])
    pdf = open_pdf(data)
    assert len(pdf.pages) == 3
    pages = [squash(p.extract_text()) for p in pdf.pages]
    assert "N20261126-00025" in pages[0] and "N20261126-00026" not in pages[0]
    assert "N20261126-00026" in pages[1] and "N20261126-00051" in pages[2]
    assert [decode(data, i, 150) for i in range(3)] == [[t] for t in texts]
    assert all("60件" in p for p in pages)


# -- long values, limits and determinism --------------------------------------------------------------


def test_a_200_character_address_wraps_inside_its_cell(notices: list[Notice], open_pdf: Any) -> None:
    address = ("東京都千代田区九段南一丁目二番一号 グランドハイツ九段南第二別館" * 6)[:190] + "1234567890"
    assert len(address) == 200
    notice = dataclasses.replace(notices[0], address=address)
    page = open_pdf(render_pdf(None, [spec(notice)])).pages[0]
    row = table_rows(page)[[f.key for f in ordered_fields()].index("address")]
    assert row["value"] == squash(address)
    assert all(ch["x1"] <= RIGHT + 0.5 and ch["x0"] >= LEFT - 0.5 for ch in page.chars)


def test_a_notice_at_every_length_limit_shrinks_but_fits(notices: list[Notice], open_pdf: Any) -> None:
    identity = next(n for n in notices if n.event == "identity_change" and n.category == "mid_long_term")
    long_name = ("WICKRAMASINGHE MUDIYANSELAGE DON CHAMINDA " * 3)[:120]
    notice = dataclasses.replace(
        identity, name=long_name, name_kanji="長" * 60, address="東" * 200, remarks="備" * 200,
        before=(("name", long_name[::-1].strip()), ("name_kanji", "旧" * 60)))
    page = open_pdf(render_pdf(None, [spec(notice)])).pages[0]
    rows = {f.key: r for f, r in zip(ordered_fields(), table_rows(page), strict=True)}
    assert rows["address"]["value"] == "東" * 200 and rows["remarks"]["value"] == "備" * 200
    assert rows["name"]["before"] == squash(long_name[::-1])
    assert rows["name_kanji"]["before"] == "旧" * 60


def test_an_absurd_notice_raises_sheet_too_large_naming_it(notices: list[Notice]) -> None:
    notice = dataclasses.replace(notices[0], remarks="あ" * 5000)
    with pytest.raises(SheetTooLarge, match=notice.notice_id):
        render_pdf(None, [spec(notice)])


def test_same_input_gives_the_same_bytes(notices: list[Notice]) -> None:
    sheets = [spec(n, i + 1, 3) for i, n in enumerate(notices[:3])]
    cover = CoverSpec(BATCH, "131016", NOTICE_DATE, ((1, notices[0].notice_id, "出国", notices[0].name),), (qr_text(9),))
    assert render_pdf(cover, sheets) == render_pdf(cover, sheets)


def test_nothing_to_print_is_an_error() -> None:
    with pytest.raises(ValueError):
        render_pdf(None, [])


def test_font_missing_names_the_paths_tried_and_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setattr(fonts, "_SYSTEM_FONTS", ())
    env = {"PAPERLINK_FONT": str(tmp_path / "none.ttf"), "WINDIR": str(tmp_path)}
    with pytest.raises(fonts.FontMissing) as info:
        fonts.load_font(env)
    message = str(info.value)
    assert "none.ttf" in message and "msgothic.ttc" in message and "PAPERLINK_FONT" in message
