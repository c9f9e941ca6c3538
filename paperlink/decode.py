"""Reading QR codes back from images and PDFs: `decode(image) -> list[DecodedCode]`.

zxing-cpp (restricted to QR) is the decoder; when it finds nothing, the same image is tried again with
zxing-cpp's global-histogram binariser. The fuller decoder chain (more fallbacks, pyzbar, camera frames)
is measured and extended by the scanning work; every backend stays behind this one signature.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperlink.errors import PaperlinkError


class ScanInputError(PaperlinkError):
    """A file given to the scanner cannot be read as an image or PDF."""


@dataclass(frozen=True)
class DecodedCode:
    """One code found on one page: its text, symbology, page number (1-based) and position (x, y, w, h)."""

    text: str
    symbology: str
    page: int
    position: tuple[int, int, int, int] | None = None


def _gray(image: Any) -> Any:
    import numpy as np

    if isinstance(image, np.ndarray):
        return image
    return np.asarray(image.convert("L"))


def decode(image: Any, page: int = 1) -> list[DecodedCode]:
    """Every QR code zxing-cpp finds in a PIL image or numpy array (gray or colour)."""
    import zxingcpp

    gray = _gray(image)
    qr = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    results = zxingcpp.read_barcodes(gray, formats=qr)
    if not results:
        results = zxingcpp.read_barcodes(gray, formats=qr, binarizer=zxingcpp.Binarizer.GlobalHistogram)
    found = []
    for r in results:
        tl, br = r.position.top_left, r.position.bottom_right
        box = (min(tl.x, br.x), min(tl.y, br.y), abs(br.x - tl.x), abs(br.y - tl.y))
        found.append(DecodedCode(r.text, "QRCode", page, box))
    return found


def rasterise_pdf(data: bytes, dpi: int = 200, name: str = "PDF") -> Iterator[Any]:
    """Each page of a PDF as a gray PIL image at `dpi`."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ScanInputError(f"{name}: not a readable PDF ({exc})") from None
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                yield page.render(scale=dpi / 72, grayscale=True).to_pil()
            finally:
                page.close()
    finally:
        document.close()


def pages_of(path: str | os.PathLike[str], dpi: int = 200) -> Iterator[Any]:
    """The pages of a PDF or image file as PIL images (a multi-page TIFF gives every frame)."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ScanInputError(f"{file}: cannot read ({exc.strerror or exc})") from None
    if not data:
        raise ScanInputError(f"{file}: the file is empty")
    if data.startswith(b"%PDF"):
        yield from rasterise_pdf(data, dpi, str(file))
        return
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(file)
    except (UnidentifiedImageError, OSError) as exc:
        raise ScanInputError(f"{file}: not an image or PDF ({exc})") from None
    for frame in range(getattr(image, "n_frames", 1)):
        image.seek(frame)
        yield image.convert("L")
