"""Printing a batch: numbered, signed sheets, rendered, then proven readable before the PDF exists.

`print_batch` numbers every notice of the file (n/N over the whole file, so a reprint of single sheets
keeps its numbers), signs one payload per notice, renders the PDF in memory, rasterises every sheet and
decodes it back to its exact record (the self-test), and only then returns the bytes. Writing them is
the caller's job (`write_pdf`, atomic): a failed self-test leaves no file behind.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from paperlink.atomicfile import atomic_write_bytes
from paperlink.checkcodes import field_checks, record_check_code
from paperlink.codetables import tables
from paperlink.decode import decode
from paperlink.errors import PaperlinkError
from paperlink.holding import Held, HeldRead, hold_unprintable
from paperlink.keys import key_id
from paperlink.notice import Notice
from paperlink.pages import rasterise_pdf
from paperlink.payload import PayloadError, SheetPayload, manifest_texts, new_batch_id
from paperlink.sheets import CoverSpec, Layout, SheetSpec, render_pdf

SELF_TEST_DPI = 100
MANIFEST_ROWS_PER_PAGE = 25
"""Notices listed on one cover page, with the manifest QR of exactly those notices in its head."""


class SelfTestFailed(PaperlinkError):
    """A rendered sheet did not decode back to its exact record; nothing was written."""


class UnknownNoticeId(PaperlinkError):
    """--only named a notice id that the file does not hold."""


@dataclass(frozen=True)
class PrintResult:
    """A rendered, self-tested batch: the PDF bytes and what went into them."""

    pdf: bytes
    batch_id: str
    sheets: tuple[SheetSpec, ...]
    cover: CoverSpec | None


def sheet_specs(notices: Sequence[Notice], batch_id: str, private: Ed25519PrivateKey,
                only: set[str] | None = None) -> list[SheetSpec]:
    """One signed SheetSpec per notice (or per notice named in `only`), numbered over the whole file."""
    own = key_id(private.public_key())
    total = len(notices)
    specs = []
    for seq, notice in enumerate(notices, start=1):
        if only is not None and notice.notice_id not in only:
            continue
        text = SheetPayload(batch_id, seq, total, notice, own).signed(private).to_text()
        specs.append(SheetSpec(notice=notice, seq=seq, total=total, batch_id=batch_id, qr_texts=(text,),
                               check_code=record_check_code(notice), field_checks=field_checks(notice)))
    return specs


def cover_spec(notices: Sequence[Notice], batch_id: str, printed_on: dt.date, private: Ed25519PrivateKey,
               held: Sequence[Held] = ()) -> CoverSpec:
    """The batch cover: every notice listed, the signed manifest QR texts, and the notices held back."""
    events = tables().events
    rows = tuple((seq, n.notice_id, events[n.event].label, n.name) for seq, n in enumerate(notices, start=1))
    numbered = list(enumerate(notices, start=1))
    municipality = notices[0].municipality_code if notices else ""
    texts = manifest_texts(batch_id, numbered, len(notices), private, per_part=MANIFEST_ROWS_PER_PAGE)
    return CoverSpec(batch_id=batch_id, municipality_code=municipality, printed_on=printed_on, rows=rows,
                     manifest_qr_texts=tuple(texts), rows_per_part=MANIFEST_ROWS_PER_PAGE,
                     held=tuple((h.label, h.message_ja) for h in held))


def prepare_batch(notices: Sequence[Notice], held: Sequence[Held] = ()) -> HeldRead:
    """The notices that can be printed, and those held: `held` (from reading the file) plus every notice with a
    character no print font has. One bad notice holds that notice; the rest of the batch prints."""
    printable = hold_unprintable(notices)
    return HeldRead(printable.notices, [*held, *printable.held])


def print_batch(notices: Sequence[Notice], private: Ed25519PrivateKey, *, batch_id: str | None = None,
                printed_on: dt.date | None = None, only: Sequence[str] | None = None, layout: Layout | None = None,
                progress: Callable[[int], None] | None = None, held: Sequence[Held] = ()) -> PrintResult:
    """Render and self-test a batch; SelfTestFailed or UnknownNoticeId instead of a bad PDF.

    `notices` are those to print (see `prepare_batch`); `held` are listed on the cover as held, not printed."""
    printed_on = printed_on or dt.date.today()
    batch_id = batch_id or new_batch_id(printed_on)
    wanted = None
    if only is not None:
        wanted = set(only)
        missing = sorted(wanted - {n.notice_id for n in notices})
        if missing:
            raise UnknownNoticeId("print_unknown_ids", ids=", ".join(missing))
    specs = sheet_specs(notices, batch_id, private, wanted)
    cover = None if wanted is not None else cover_spec(notices, batch_id, printed_on, private, held)
    pdf = render_pdf(cover, specs, layout or Layout())
    self_test(pdf, cover, specs, {key_id(private.public_key()): private.public_key()}, progress)
    return PrintResult(pdf, batch_id, tuple(specs), cover)


def self_test(pdf: bytes, cover: CoverSpec | None, specs: Sequence[SheetSpec],
              trusted: Mapping[bytes, Ed25519PublicKey], progress: Callable[[int], None] | None = None) -> None:
    """Rasterise every page and decode it: each sheet must give back its exact record, signature intact."""
    pages = rasterise_pdf(pdf, SELF_TEST_DPI, "rendered PDF")
    cover_pages = 0
    if cover is not None:
        cover_pages = _cover_page_count(pdf) - len(specs)
        read = [code.text for number in range(1, cover_pages + 1) for code in decode(next(pages), number)]
        if set(read) != set(cover.manifest_qr_texts):  # a long part's continuation page repeats its code
            raise SelfTestFailed("print_selftest_cover", batch_id=cover.batch_id,
                                 read=len(set(read) & set(cover.manifest_qr_texts)), total=len(cover.manifest_qr_texts))
    for index, (image, spec) in enumerate(zip(pages, specs, strict=False)):
        _check_sheet(image, spec, trusted, cover_pages + index + 1)
        if progress:
            progress(index + 1)


def _cover_page_count(pdf: bytes) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def _check_sheet(image: object, spec: SheetSpec, trusted: Mapping[bytes, Ed25519PublicKey], page: int) -> None:
    where = {"notice_id": spec.notice.notice_id, "seq": spec.seq, "total": spec.total, "page": page}
    texts = [code.text for code in decode(image, page)]
    if sorted(texts) != sorted(spec.qr_texts):
        raise SelfTestFailed("print_selftest_unread", **where, read=len(texts), codes=len(spec.qr_texts))
    try:
        payloads = [SheetPayload.from_text(text) for text in texts]
        for payload in payloads:
            payload.verify(trusted)
    except PayloadError as exc:
        raise SelfTestFailed("print_selftest_payload", **where, detail=exc) from None
    if any(p.notice != spec.notice or p.seq != spec.seq or p.batch_id != spec.batch_id for p in payloads):
        raise SelfTestFailed("print_selftest_mismatch", **where)


def write_pdf(result: PrintResult, path: str | os.PathLike[str]) -> None:
    """Write the PDF atomically (a crash leaves either no file or the whole file)."""
    atomic_write_bytes(path, result.pdf)

