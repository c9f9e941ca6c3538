"""Every input kind a clerk's scanner produces: PNG, JPEG, BMP, multi-page TIFF, text and scanned-image PDFs."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from paperlink.keys import key_id
from paperlink.pages import ScanInputError, page_dpi, pages_of, rasterise_pdf
from paperlink.printing import print_batch
from paperlink.samples import SampleOptions, generate
from paperlink.scanning import scan_paths

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
NOTICES = generate(SampleOptions(count=3, seed=4, notice_date=dt.date(2026, 11, 26)))


@pytest.fixture(scope="module")
def sheets(tmp_path_factory) -> dict:
    """GIVEN three notices printed by paperlink, rendered as a scanner would at 200 dpi."""
    result = print_batch(NOTICES, KEY, only=[n.notice_id for n in NOTICES])
    images = list(rasterise_pdf(result.pdf, 200))
    return {"pdf": result.pdf, "images": images, "dir": tmp_path_factory.mktemp("pages")}


def notices_read(path: Path) -> list[str]:
    return [i.sheet.notice.notice_id for i in scan_paths([path], TRUSTED) if i.sheet is not None and i.verified]


@pytest.mark.parametrize(("suffix", "options"), [
    (".png", {}), (".jpg", {"quality": 75}), (".bmp", {}), (".tif", {"compression": "tiff_lzw"}),
])
def test_single_image_files(sheets, suffix: str, options: dict) -> None:
    path = sheets["dir"] / f"one{suffix}"
    sheets["images"][0].save(path, **options)
    assert notices_read(path) == [NOTICES[0].notice_id]


def test_multi_page_tiff_gives_every_page(sheets) -> None:
    """GIVEN a flatbed's multi-page TIFF WHEN scanned THEN every page's notice is read, in order."""
    path = sheets["dir"] / "all.tif"
    first, *rest = sheets["images"]
    first.save(path, save_all=True, append_images=rest, compression="tiff_deflate")
    assert notices_read(path) == [n.notice_id for n in NOTICES]


def test_scanned_image_pdf_is_rendered_at_its_own_resolution(sheets) -> None:
    """GIVEN an MFP's image PDF at 150 dpi WHEN rasterised THEN at 150 dpi, and every notice is read."""
    path = sheets["dir"] / "scan.pdf"
    small = [im.resize((im.width * 3 // 4, im.height * 3 // 4)) for im in sheets["images"]]
    small[0].save(path, save_all=True, append_images=small[1:], resolution=150)
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path.read_bytes())
    assert page_dpi(document[0]) == 150
    assert page_dpi(pdfium.PdfDocument(sheets["pdf"])[0]) == 200  # vector page
    assert notices_read(path) == [n.notice_id for n in NOTICES]


def test_password_protected_pdf_is_explained(sheets) -> None:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    path = sheets["dir"] / "locked.pdf"
    c = canvas.Canvas(str(path), encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    c.drawString(100, 700, "locked")
    c.save()
    with pytest.raises(ScanInputError, match="password-protected"):
        list(pages_of(path))


@pytest.mark.parametrize(("content", "words"), [
    (b"%PDF-1.7\n1 0 obj garbage", "not a readable PDF"),
    (b"", "empty (0 bytes)"),
    (b"GIF89a-broken", "not an image or PDF"),
])
def test_broken_files_name_the_file(sheets, content: bytes, words: str) -> None:
    path = sheets["dir"] / "broken.bin"
    path.write_bytes(content)
    with pytest.raises(ScanInputError) as exc:
        list(pages_of(path))
    assert words in str(exc.value) and str(path) in str(exc.value)


def _png_header(width: int, height: int) -> bytes:
    """A PNG that announces a huge size (reading it would need gigabytes; the check must come first)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def test_oversized_images_are_refused_clearly(sheets) -> None:
    big = sheets["dir"] / "big.png"
    big.write_bytes(_png_header(13_000, 12_000))  # 156 megapixels: a page error, the file goes on
    (page,) = list(pages_of(big))
    assert page.image is None and "too large" in page.error
    huge = sheets["dir"] / "huge.png"
    huge.write_bytes(_png_header(20_000, 20_000))  # 400 megapixels: refused at once
    with pytest.raises(ScanInputError, match="too large"):
        list(pages_of(huge))


def test_a_bad_file_does_not_stop_the_others(sheets) -> None:
    good = sheets["dir"] / "good.png"
    sheets["images"][1].save(good)
    bad = sheets["dir"] / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    items = list(scan_paths([bad, good], TRUSTED))
    assert items[0].page == 0 and "not an image" in items[0].error
    assert items[1].sheet.notice.notice_id == NOTICES[1].notice_id


def test_several_codes_on_one_page(sheets) -> None:
    """GIVEN two sheets scanned side by side on one A3 page WHEN scanned THEN both notices are read."""
    a, b = sheets["images"][:2]
    page = Image.new("L", (a.width * 2, a.height), 255)
    page.paste(a, (0, 0))
    page.paste(b, (a.width, 0))
    path = sheets["dir"] / "a3.png"
    page.save(path)
    assert sorted(notices_read(path)) == sorted(n.notice_id for n in NOTICES[:2])


def test_a_pdf_page_declaring_an_absurd_size_is_rendered_within_the_pixel_cap(sheets) -> None:
    from reportlab.pdfgen import canvas

    from paperlink.pages import MAX_PIXELS

    path = sheets["dir"] / "huge-page.pdf"
    c = canvas.Canvas(str(path), pagesize=(14_000, 14_000))  # about 5 m square
    c.drawString(100, 100, "x")
    c.save()
    (page,) = list(pages_of(path))
    assert page.image.width * page.image.height <= MAX_PIXELS * 1.01
