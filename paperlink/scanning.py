"""Turning scanned pages into verified notices: decode every page, parse and verify every code.

`scan_paths` yields one `ScanItem` per notice code found, per manifest found and per page where no
code could be read, so the command line and the entry screen report the same facts. What is wrong with an
item is a `PaperlinkError` (`ScanItem.problem`): the command line prints its English message, the entry
screen decides by its code (see paperlink.web.texts).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from paperlink.decode import decode
from paperlink.errors import PaperlinkError
from paperlink.pages import Page, ScanInputError, pages_of, pages_of_data
from paperlink.payload import (
    MANIFEST_PREFIX,
    BadSignature,
    ManifestPayload,
    PayloadError,
    SheetPayload,
    UnknownKey,
)

if TYPE_CHECKING:
    from PIL import Image

    from paperlink.printedtext import PrintedReading


class NoCodeFound(PaperlinkError):
    """A page was read, but no QR code could be found on it."""

    def __init__(self) -> None:
        super().__init__("scan_no_code")


@dataclass(frozen=True)
class ScanItem:
    """What one page gave: a sheet payload, a manifest, an unreadable page, or a code that is not ours."""

    source: str
    page: int
    sheet: SheetPayload | None = None
    manifest: ManifestPayload | None = None
    verified: bool = False
    problem: PaperlinkError | None = None
    text: str | None = None
    printed: PrintedReading | None = None
    """On a page without a code, read with `printed=True`: the items its printed table proved (printedtext.py)."""
    printed_problem: PaperlinkError | None = None
    """Why the printed text could not be read (Tesseract missing), when it was asked for (the command line says
    it once on standard error; the JSON stays as without OCR)."""

    @property
    def error(self) -> str | None:
        """What is wrong with the item, in English (None when nothing is): `problem`'s message."""
        return None if self.problem is None else self.problem.message("en")

    @property
    def error_code(self) -> str | None:
        """The message code of `problem` (None when nothing is wrong): what the ledger and the screen go by."""
        return None if self.problem is None else self.problem.code

    def to_json(self) -> dict[str, object]:
        """The `scan --json` object of this item."""
        out: dict[str, object] = {"source": self.source, "page": self.page}
        if self.sheet is not None:
            out.update(verified=self.verified, batch_id=self.sheet.batch_id, seq=self.sheet.seq,
                       total=self.sheet.total, notice=self.sheet.notice.record())
        elif self.manifest is not None:
            out.update(verified=self.verified, batch_id=self.manifest.batch_id, manifest_part=self.manifest.part,
                       manifest_parts=self.manifest.parts, notice_ids=[e[1] for e in self.manifest.entries])
        elif self.text is not None:
            out["verified"] = False  # a code was read but is not a valid paperlink payload
        if self.error is not None:
            out["error"] = self.error
        if self.printed is not None and self.printed.table_found:  # a notice sheet's item table was found
            out["printed"] = dict(self.printed.items)
            if self.printed.notice_id:
                out["notice_id"] = self.printed.notice_id
            if self.printed.seq is not None:  # read by OCR, unsigned: never under a signed sheet's `seq`/`total`
                out.update(printed_seq=self.printed.seq, printed_total=self.printed.total)
        return out


def _verify(payload: SheetPayload | ManifestPayload,
            trusted: Mapping[bytes, Ed25519PublicKey]) -> UnknownKey | BadSignature | None:
    try:
        payload.verify(trusted)
    except (UnknownKey, BadSignature) as exc:
        return exc
    return None


def interpret(text: str, source: str, page: int, trusted: Mapping[bytes, Ed25519PublicKey]) -> ScanItem:
    """One decoded QR text as a ScanItem (verified or with the reason it is not)."""
    try:
        if text.startswith(MANIFEST_PREFIX):
            manifest = ManifestPayload.from_text(text)
            problem = _verify(manifest, trusted)
            return ScanItem(source, page, manifest=manifest, verified=problem is None, problem=problem, text=text)
        sheet = SheetPayload.from_text(text)
    except PayloadError as exc:
        return ScanItem(source, page, problem=exc, text=text)
    problem = _verify(sheet, trusted)
    return ScanItem(source, page, sheet=sheet, verified=problem is None, problem=problem, text=text)


def scan_pages(paths: Iterable[str | os.PathLike[str]], trusted: Mapping[bytes, Ed25519PublicKey],
               dpi: int | None = None, printed: bool = False) -> Iterator[tuple[ScanItem, Image.Image | None]]:
    """Every code on every page of every file, each with the image of its page (None where no page was read).

    A page without a code, or an unreadable file, is an item with its problem. `dpi` forces the PDF
    rendering resolution (None: chosen per page, see pages.py). `printed`: a page without a code is also
    read for its printed item table (`printedtext.read_printed`; the item's `printed`).
    """
    for path in paths:
        yield from _scan(pages_of(path, dpi), str(path), trusted, printed)


def no_code_item(source: str, number: int, image: Image.Image, printed: bool) -> ScanItem:
    """The item of a page where no code was read; with `printed`, what its printed table proved."""
    if not printed:
        return ScanItem(source, number, problem=NoCodeFound())
    from paperlink.printedtext import read_printed

    try:
        return ScanItem(source, number, problem=NoCodeFound(), printed=read_printed(image))
    except PaperlinkError as exc:  # Tesseract is not installed here: the page is reported as before, and why
        return ScanItem(source, number, problem=NoCodeFound(), printed_problem=exc)


def _scan(pages: Iterator[Page], source: str, trusted: Mapping[bytes, Ed25519PublicKey],
          printed: bool = False) -> Iterator[tuple[ScanItem, Image.Image | None]]:
    try:
        for page in pages:
            if page.image is None:
                yield ScanItem(source, page.number, problem=page.problem), None
                continue
            codes = decode(page.image, page.number)
            if not codes:
                yield no_code_item(source, page.number, page.image, printed), page.image
            for code in codes:
                yield interpret(code.text, source, page.number, trusted), page.image
    except ScanInputError as exc:
        yield ScanItem(source, 0, problem=exc), None


def scan_data(data: bytes, source: str, trusted: Mapping[bytes, Ed25519PublicKey]) -> Iterator[ScanItem]:
    """Every code on every page of a file already read (what the scan folder uses: the bytes it hashed)."""
    for item, _image in _scan(pages_of_data(data, source), source, trusted):
        yield item


def scan_paths(paths: Iterable[str | os.PathLike[str]], trusted: Mapping[bytes, Ed25519PublicKey],
               dpi: int | None = None, printed: bool = False) -> Iterator[ScanItem]:
    """Every code on every page of every file (see `scan_pages`), without the page images."""
    for item, _image in scan_pages(paths, trusted, dpi, printed):
        yield item
