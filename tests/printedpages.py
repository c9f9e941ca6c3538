"""Sheets whose QR code is destroyed, for the tests of reading the printed text (issue 14)."""

from __future__ import annotations

import io
from typing import Any


def render_page(pdf: bytes, index: int, dpi: int = 300) -> Any:
    """PDF page `index` (0-based) as a gray PIL image, as a scanner at `dpi` would give it."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return document[index].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        document.close()


def cut_out_code(page: Any) -> Any:
    """The page with its QR code cut out (white, with a margin); asserts that no code can be read any more."""
    from PIL import ImageDraw

    from paperlink.decode import decode

    codes = decode(page, 1)
    assert codes and codes[0].position, "the sheet's code was not found before cutting it out"
    x, y, w, h = codes[0].position
    out = page.copy()
    margin = round(0.1 * w)
    ImageDraw.Draw(out).rectangle((x - margin, y - margin, x + w + margin, y + h + margin), fill=255)
    assert not decode(out, 1), "the code can still be read"
    return out


def png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
