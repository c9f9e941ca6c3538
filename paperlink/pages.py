"""Pages from files: images (PNG, JPEG, BMP, multi-page TIFF) and PDFs, as gray PIL images to decode.

A file-level failure (missing, empty, a directory, not an image or PDF, broken or password-protected PDF)
raises `ScanInputError` naming the file. A page-level failure (a damaged TIFF frame, an image too large
to read) is yielded as a `Page` with a `problem` (a ScanInputError), so the other pages of the file still go on.

PDF pages are rasterised at a resolution chosen per page: a scanned page (a page that is one large image)
is rendered at the image's own resolution (clamped to 150–300 dpi), so its pixels are neither invented nor
lost; a page drawn as vectors – paperlink's own sheets, or a printout saved as PDF – at 200 dpi, which gives
about 6 pixels per module for a 0.75 mm code.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperlink.errors import PaperlinkError
from paperlink.safefs import read_regular

VECTOR_DPI = 200
SCAN_DPI_RANGE = (150, 300)
MAX_PIXELS = 150_000_000
"""Images larger than this (about 12,000 × 12,000) are refused: a 100-megapixel scan still goes through."""
MAX_FILE_BYTES = 512 * 1024 * 1024
"""The largest file read as a scan; anything larger (or not a regular file) is refused before it is read."""


class ScanInputError(PaperlinkError):
    """A file given to the scanner cannot be read as an image or PDF."""


@dataclass(frozen=True)
class Page:
    """One page of a file: its 1-based number and either its gray image or why it could not be read."""

    number: int
    image: Any | None
    problem: ScanInputError | None = None

    @property
    def error(self) -> str | None:
        """Why the page could not be read, in English (None when it could)."""
        return None if self.problem is None else self.problem.message("en")


def page_dpi(page: Any) -> int:
    """The resolution to render one PDF page at (see the module docstring)."""
    import pypdfium2.raw as pdfium_c

    width_pt, height_pt = page.get_width(), page.get_height()
    best = 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        covers = (right - left) * (top - bottom) >= 0.5 * width_pt * height_pt
        if covers and right > left:
            best = max(best, obj.get_px_size()[0] / ((right - left) / 72))
    if not best:
        return VECTOR_DPI
    low, high = SCAN_DPI_RANGE
    return int(min(max(best, low), high))


def rasterise_pdf(data: bytes, dpi: int | None = None, name: str = "PDF") -> Iterator[Any]:
    """Each page of a PDF as a gray PIL image, at `dpi` or (None) at the resolution chosen for the page."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ScanInputError("scan_pdf_password", file=name) from None
        raise ScanInputError("scan_pdf_unreadable", file=name, detail=exc) from None
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                scale = (dpi or page_dpi(page)) / 72
                area = page.get_width() * page.get_height() * scale * scale
                if area > MAX_PIXELS:  # a page that declares an absurd size must not allocate gigabytes
                    scale *= (MAX_PIXELS / area) ** 0.5
                yield page.render(scale=scale, grayscale=True).to_pil()
            finally:
                page.close()
    finally:
        document.close()


def page_count(path: str | os.PathLike[str]) -> int | None:
    """How many pages a PDF or image file has, read cheaply (nothing rendered); None if it cannot be told."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            head = handle.read(4)
        if head == b"%PDF":
            import pypdfium2 as pdfium

            document = pdfium.PdfDocument(str(file))
            try:
                return len(document)
            finally:
                document.close()
        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                return int(getattr(image, "n_frames", 1))
    except Exception:  # unreadable files are reported by pages_of, with the reason
        return None


def pages_of(path: str | os.PathLike[str], dpi: int | None = None) -> Iterator[Page]:
    """The pages of a PDF or image file (a multi-page TIFF gives every frame)."""
    file = Path(path)
    if file.is_dir():
        raise ScanInputError("scan_folder", file=file)
    try:
        data = read_regular(file, MAX_FILE_BYTES)  # never a FIFO or device, never unbounded
    except OSError as exc:
        raise ScanInputError("scan_unreadable", file=file, detail=exc.strerror or exc) from None
    yield from pages_of_data(data, str(file), dpi)


def pages_of_data(data: bytes, file: str, dpi: int | None = None) -> Iterator[Page]:
    """The pages of a PDF or image file already read (`file` names it in messages)."""
    if not data:
        raise ScanInputError("scan_empty", file=file)
    if data.startswith(b"%PDF"):
        for number, image in enumerate(rasterise_pdf(data, dpi, file), start=1):
            yield Page(number, image)
        return
    yield from _image_pages(file, data)


def _image_pages(file: str, data: bytes) -> Iterator[Page]:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # the bytes read once, not the path opened again
    except Image.DecompressionBombError:
        raise ScanInputError("scan_image_too_large", file=file, max=MAX_PIXELS // 1_000_000) from None
    except UnidentifiedImageError:
        raise ScanInputError("scan_not_image", file=file, detail="unknown format") from None
    except OSError as exc:
        raise ScanInputError("scan_not_image", file=file, detail=exc) from None
    with image:
        for frame in range(getattr(image, "n_frames", 1)):
            number = frame + 1
            try:
                image.seek(frame)
                width, height = image.size
                if width * height > MAX_PIXELS:
                    yield Page(number, None, ScanInputError("scan_page_too_large", width=width, height=height,
                                                            max=MAX_PIXELS // 1_000_000))
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                    yield Page(number, image.convert("L"))
            except (OSError, ValueError, EOFError) as exc:
                yield Page(number, None, ScanInputError("scan_page_unreadable", detail=exc))
