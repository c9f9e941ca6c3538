"""Names as the 在留カード writes them print visibly correct: a variation sequence with the glyph it selects, a
character the main font lacks from the fallback font (IPAmj明朝), and where neither can, the base character with a
visible marker naming it. Proven on the rendered page: each character's box on the rasterised sheet is compared
with the font's own glyph drawn by an independent renderer (Pillow + HarfBuzz), and with the wrong glyph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from paperlink import fonts
from paperlink.notice import parse_notice
from paperlink.printing import print_batch

MJ = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
GOTHIC = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")
DPI = 600
pytestmark = pytest.mark.skipif(not MJ.is_file() or not GOTHIC.is_file(), reason="fonts-ipamj-mincho not installed")

KUZU_AJ1 = "葛\U000E0100"  # 葛 with its Adobe-Japan1 selector: IPAex Gothic lists it
KUZU_MJ = "葛\U000E0102"  # a Moji_Joho selector of 葛: only IPAmj明朝 has it
YOSHI = "𠮷"  # U+20BB7, not in IPAex Gothic
TSUJI_NONE = "辻\U000E01EF"  # a selector no installed font lists


def _ink(image: Image.Image) -> Image.Image:
    """The image cropped to its dark pixels, scaled to 64×64 and made black and white."""
    grey = image.convert("L")
    box = ImageChops.invert(grey).point(lambda v: 255 if v > 96 else 0).getbbox()
    assert box is not None, "no ink"
    blurred = grey.crop(box).resize((48, 48), Image.Resampling.LANCZOS).filter(ImageFilter.GaussianBlur(1.2))
    return blurred.point(lambda v: 0 if v < 200 else 255)


def _overlap(a: Image.Image, b: Image.Image) -> float:
    """Intersection over union of the dark pixels of two 64×64 glyph images."""
    pa, pb = list(a.tobytes()), list(b.tobytes())
    both = sum(1 for x, y in zip(pa, pb, strict=True) if x == 0 and y == 0)
    either = sum(1 for x, y in zip(pa, pb, strict=True) if x == 0 or y == 0)
    return both / either


def _reference(text: str, path: Path) -> Image.Image:
    """`text` drawn by Pillow with HarfBuzz (raqm), which applies variation selectors itself."""
    font = ImageFont.truetype(str(path), 200, layout_engine=ImageFont.Layout.RAQM)
    image = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(image).text((50, 50), text, font=font, fill=0)
    return _ink(image)


@pytest.fixture(scope="module")
def sheet(record_module: Any) -> dict[str, Any]:
    """A printed sheet whose 漢字氏名 holds all four cases, rasterised, with the text boxes of its characters."""
    import pypdfium2 as pdfium

    name = f"{KUZU_AJ1}飾\u3000{YOSHI}田\u3000{KUZU_MJ}\u3000{TSUJI_NONE}"
    notice = parse_notice(record_module(name_kanji=name))
    result = print_batch([notice], Ed25519PrivateKey.generate())  # self-tested: the QR still reads back
    document = pdfium.PdfDocument(result.pdf)
    page = document[len(document) - 1]
    image = page.render(scale=DPI / 72).to_pil()
    text = page.get_textpage()
    chars = text.get_text_range()
    boxes = [text.get_charbox(i) for i in range(text.count_chars())]
    return {"image": image, "chars": chars, "boxes": boxes, "height": page.get_height(), "pdf": result.pdf}


@pytest.fixture(scope="module")
def record_module() -> Any:
    import copy

    from tests.conftest import BASE_RECORD

    def make(**changes: Any) -> dict[str, Any]:
        return {**copy.deepcopy(BASE_RECORD), **changes}

    return make


def _glyph_before(sheet: dict[str, Any], anchor: str, offset: int = 1) -> Image.Image:
    """The rasterised glyph `offset` characters before the first `anchor` of the name row."""
    index = sheet["chars"].index(anchor, sheet["chars"].index("氏名（漢字）")) - offset
    left, bottom, right, top = sheet["boxes"][index]
    scale = DPI / 72
    height = sheet["height"]
    pad = 0.2
    crop = sheet["image"].crop((int((left - pad) * scale), int((height - top - pad) * scale),
                                int((right + pad) * scale), int((height - bottom + pad) * scale)))
    return _ink(crop)


def _assert_shows(printed: Any, right_text: str, wrong_text: str, font: Any) -> None:
    """The printed glyph box looks like `right_text` drawn in `font`, clearly more than like `wrong_text`."""
    right = _overlap(printed, _reference(right_text, font))
    wrong = _overlap(printed, _reference(wrong_text, font))
    print(f"overlap with the right glyph {right:.2f}, with the wrong one {wrong:.2f}")
    assert right > 0.75 and right > wrong + 0.05, (right, wrong)


def test_a_variation_sequence_prints_the_glyph_it_selects(sheet: dict[str, Any]) -> None:
    """GIVEN 葛+U+E0100 (in IPAex Gothic) WHEN printed THEN the sheet shows that glyph, not the plain 葛."""
    _assert_shows(_glyph_before(sheet, "飾"), KUZU_AJ1, "葛", GOTHIC)


def test_a_sequence_only_the_fallback_font_has_prints_from_it(sheet: dict[str, Any]) -> None:
    """GIVEN 葛+U+E0102 (Moji_Joho, only IPAmj明朝) WHEN printed THEN the sheet shows IPAmj's selected glyph."""
    # the stand-in, an ideographic space, then 辻
    _assert_shows(_glyph_before(sheet, "辻", offset=2), KUZU_MJ, "葛", MJ)


def test_a_character_the_main_font_lacks_prints_from_the_fallback_font(sheet: dict[str, Any]) -> None:
    """GIVEN 𠮷 (not in IPAex Gothic) WHEN printed THEN the sheet shows IPAmj's 𠮷, not 吉 and not a blank."""
    assert ord(YOSHI) not in fonts._main_face().face.charToGlyph  # type: ignore[attr-defined]
    _assert_shows(_glyph_before(sheet, "田"), YOSHI, "吉", MJ)


def test_a_sequence_no_font_has_prints_the_base_with_a_marker_naming_it(sheet: dict[str, Any]) -> None:
    """GIVEN 辻+U+E01EF (no installed font lists it) WHEN printed THEN 辻 prints followed by [異体字 U+8FBB U+E01EF]."""
    assert "辻[異体字 U+8FBB U+E01EF]" in sheet["chars"]
    printed = _glyph_before(sheet, "[異体字", offset=1)
    assert _overlap(printed, _reference("辻", GOTHIC)) > 0.75


def test_a_character_no_font_has_is_held_not_printed_blank(record: Any) -> None:
    """GIVEN a name with a character (CJK Ext. G) no installed font draws WHEN the batch is printed THEN that notice is held
    by name and the other notice prints."""
    from paperlink.printing import prepare_batch

    bad = parse_notice(record(notice_id="N20261126-00002", name_kanji="\U00030000田\u3000太郎"))  # CJK Ext. G
    good = parse_notice(record())
    prepared = prepare_batch([good, bad])
    assert [n.notice_id for n in prepared.notices] == [good.notice_id]
    (held,) = prepared.held
    assert held.notice_id == bad.notice_id and held.code == "sheet_unprintable_char"
    assert "U+30000" in held.message("en") and "IPAmj" in held.message("en")
    result = print_batch(prepared.notices, Ed25519PrivateKey.generate(), held=prepared.held)
    assert result.cover is not None and result.cover.held == ((bad.notice_id, held.message_ja),)


def test_stand_in_code_points_typed_into_a_name_are_not_drawn_as_glyphs() -> None:
    """GIVEN text that itself holds the private code point used as a stand-in WHEN laid out THEN it is unprintable."""
    fonts.runs(KUZU_MJ)  # hands out the first stand-in
    assert fonts.unprintable("\U000F0000") == ["〓[U+F0000]"]


