"""Pages from files: images (PNG, JPEG, BMP, multi-page TIFF) and PDFs, as gray PIL images to decode."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from paperlink.errors import PaperlinkError


class ScanInputError(PaperlinkError):
    """A file given to the scanner cannot be read as an image or PDF."""


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
