"""Recording what was scanned: each decoded code becomes a capture in the ledger, and identifies its notice.

A verified manifest registers its batch and every expected notice (`n/N`, notice id, short hash); a
verified sheet fills its notice's record (state 読取済). The same sheet twice is a duplicate, never a
second notice; a sheet that contradicts what the ledger knows (another record for the same `n/N`, a hash
that differs from the manifest's) is a conflict; a sheet whose signature fails is rejected. None of these
changes a notice or a batch: the attempt is only kept as a capture with its outcome, audited, so a
reviewer can see it (and, for a failed signature, accept it with a reason). Input that holds no paperlink
code at all (a blank page, a broken file, another program's QR code) leaves no trace in the ledger; a
sheet or a cover sheet addressed to another municipality than the office's registers nothing and leaves
only an audit line naming the batch and both municipality codes (so the refusal can be seen).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from paperlink.errors import PaperlinkError
from paperlink.failpoints import failpoint
from paperlink.ledger import CaptureOutcome, Channel, Ledger, NoticeState, Transport, store
from paperlink.payload import ManifestPayload, SheetPayload
from paperlink.scanning import ScanItem

OFFICE_MUNICIPALITY_SETTING = "office.municipality_code"
"""The office's own 全国地方公共団体コード; when set, sheets for another municipality are refused."""

ACCEPTED = frozenset({CaptureOutcome.NEW, CaptureOutcome.DUPLICATE, CaptureOutcome.REGISTERED})
"""Outcomes that mean the code was taken (a new notice, a duplicate of one, or a cover sheet registered)."""


def foreign_municipality(ledger: Ledger, item: ScanItem) -> str | None:
    """The code of another municipality a sheet or a cover sheet is addressed to, if the office has its own set.

    A sheet names its notice's municipality; a cover sheet (manifest version 2) names every municipality its
    batch's notices are addressed to, and is foreign unless that is exactly the office's own.
    """
    office = ledger.setting(OFFICE_MUNICIPALITY_SETTING)
    if not office:
        return None
    if item.sheet is not None and item.sheet.notice.municipality_code != office:
        return item.sheet.notice.municipality_code
    if item.manifest is not None and item.manifest.entries:
        others = [code for code in item.manifest.municipalities if code != office]
        if others or not item.manifest.municipalities:
            return others[0] if others else "?"
    return None


def typed_foreign_municipality(ledger: Ledger, municipality_code: str) -> str | None:
    """The office's own code if a typed notice is addressed to another municipality (None: it may be entered)."""
    office = ledger.setting(OFFICE_MUNICIPALITY_SETTING)
    return office if office and municipality_code != office else None


@dataclass(frozen=True)
class IntakeResult:
    """What recording one scanned item did, and why, as a message code with its parameters."""

    outcome: CaptureOutcome
    code: str
    params: dict[str, str] = field(default_factory=dict, compare=False)
    batch_id: str | None = None
    seq: int | None = None
    notice_id: str | None = None
    capture_id: int | None = None
    page: int = 0

    @property
    def accepted(self) -> bool:
        """Whether the code was taken (new, duplicate, cover registered)."""
        return self.outcome in ACCEPTED

    def message_in(self, lang: str) -> str:
        """What happened, in 'en' or 'ja'."""
        return PaperlinkError(self.code, **self.params).message(lang)

    @property
    def message(self) -> str:
        """What happened, in English (command line, reason files, the audit log)."""
        return self.message_in("en")


class _Conflict(PaperlinkError):
    """A code contradicts what the ledger knows; nothing of it is kept but the capture."""


def capture_scans(ledger: Ledger, items: Iterable[ScanItem], channel: Channel | str, actor: str,
                 then: Callable[[list[IntakeResult]], None] | None = None) -> list[IntakeResult]:
    """Record scanned items – and whatever `then` writes – in one transaction; say what each did."""
    items = list(items)  # decode before taking the write lock
    channel = Channel(channel)
    with ledger.transaction():
        results = [_record(ledger, item, channel, actor) for item in items]
        failpoint("capture.in-transaction")
        if then is not None:
            then(results)
    return results


def capture_scan(ledger: Ledger, item: ScanItem, channel: Channel | str, actor: str) -> IntakeResult:
    """Record one scanned item in its own transaction."""
    return capture_scans(ledger, [item], channel, actor)[0]


def _result(outcome: CaptureOutcome, error: PaperlinkError, batch_id: str | None = None, seq: int | None = None,
            notice_id: str | None = None, page: int = 0) -> IntakeResult:
    return IntakeResult(outcome, error.code, dict(error.params), batch_id, seq, notice_id, page=page)


def _record(ledger: Ledger, item: ScanItem, channel: Channel, actor: str) -> IntakeResult:
    if item.sheet is None and item.manifest is None:
        # no paperlink code at all (blank page, unreadable file, another program's QR): nothing to keep
        return _result(CaptureOutcome.REJECTED, item.problem or PaperlinkError("intake_no_code"), page=item.page)
    other = foreign_municipality(ledger, item)
    if other is not None:
        office = ledger.setting(OFFICE_MUNICIPALITY_SETTING) or ""
        if item.sheet is not None:
            return _foreign(ledger, item, actor, channel,
                            _result(CaptureOutcome.FOREIGN, PaperlinkError("intake_foreign", other=other, office=office),
                                    item.sheet.batch_id, item.sheet.seq, item.sheet.notice.notice_id, item.page))
        assert item.manifest is not None
        return _foreign(ledger, item, actor, channel,
                        _result(CaptureOutcome.FOREIGN,
                                PaperlinkError("intake_foreign_cover", other=other, office=office),
                                item.manifest.batch_id, page=item.page))
    if item.sheet is not None and item.verified:
        try:
            result = _record_sheet(ledger, item.sheet, actor)
        except _Conflict as exc:
            result = _result(CaptureOutcome.CONFLICT, exc, item.sheet.batch_id, item.sheet.seq,
                             item.sheet.notice.notice_id)
    elif item.manifest is not None and item.verified:
        try:
            result = _record_manifest(ledger, item.manifest, actor)
        except _Conflict as exc:
            result = _result(CaptureOutcome.CONFLICT, exc, item.manifest.batch_id)
    else:
        result = _rejected(item)
    capture_id = store.add_capture(
        ledger, channel=channel, source=item.source, page=item.page, payload=item.text, verified=item.verified,
        outcome=result.outcome, actor=actor, batch_id=result.batch_id, seq=result.seq, error=item.error,
        error_code=item.problem.code if item.problem is not None else None)
    ledger.audit(actor, f"capture.{result.outcome.value}", result.batch_id or item.source,
                 capture=capture_id, channel=channel.value, source=item.source, page=item.page,
                 seq=result.seq, notice_id=result.notice_id, message=result.message, code=result.code)
    return IntakeResult(result.outcome, result.code, result.params, result.batch_id, result.seq, result.notice_id,
                        capture_id, item.page)


def _foreign(ledger: Ledger, item: ScanItem, actor: str, channel: Channel, result: IntakeResult) -> IntakeResult:
    """A code for another municipality: nothing of it is kept but an audit line with the reason (no personal
    data: the batch id, the page and the municipality codes)."""
    ledger.audit(actor, "capture.foreign", result.batch_id or item.source, channel=channel.value, page=item.page,
                 seq=result.seq, other=result.params.get("other"), office=result.params.get("office"), code=result.code)
    return result


def _rejected(item: ScanItem) -> IntakeResult:
    code = item.sheet or item.manifest
    batch = code.batch_id if code is not None else None
    seq = item.sheet.seq if item.sheet is not None else None
    notice_id = item.sheet.notice.notice_id if item.sheet is not None else None
    return _result(CaptureOutcome.REJECTED, item.problem or PaperlinkError("intake_not_verified"), batch, seq,
                   notice_id)


def _ensure_batch(ledger: Ledger, batch_id: str, total: int, key_id: bytes, actor: str, manifest: bool) -> None:
    found = store.batch(ledger, batch_id)
    if found is None:
        store.register_batch(ledger, batch_id, Transport.PAPER, total, key_id.hex(), actor, manifest_seen=manifest)
        ledger.audit(actor, "batch.registered", batch_id, total=total, via="manifest" if manifest else "sheet")
        return
    if found.total != total:
        raise _Conflict("intake_total_differs", batch=batch_id, known=found.total, total=total)
    if manifest:
        store.mark_manifest_seen(ledger, batch_id)


def _record_manifest(ledger: Ledger, manifest: ManifestPayload, actor: str) -> IntakeResult:
    _ensure_batch(ledger, manifest.batch_id, manifest.total, manifest.key_id, actor, manifest=True)
    added = 0
    for seq, notice_id, short in manifest.entries:
        where = {"batch": manifest.batch_id, "seq": seq, "total": manifest.total}
        known = store.notice_at(ledger, manifest.batch_id, seq)
        if known is None:
            store.add_notice(ledger, manifest.batch_id, seq, NoticeState.MISSING, notice_id=notice_id,
                             manifest_hash=short)
            added += 1
            continue
        if known.notice_id != notice_id:
            raise _Conflict("intake_manifest_other_id", **where, listed=notice_id, known=known.notice_id)
        if not store.digest_matches(short, known.digest):
            raise _Conflict("intake_manifest_hash", **where, notice_id=notice_id)
        store.list_notice(ledger, known.id, short)
    return IntakeResult(CaptureOutcome.REGISTERED, "intake_registered",
                        {"part": str(manifest.part), "parts": str(manifest.parts),
                         "listed": str(len(manifest.entries)), "added": str(added)}, manifest.batch_id)


def _record_sheet(ledger: Ledger, sheet: SheetPayload, actor: str) -> IntakeResult:
    notice = sheet.notice
    _ensure_batch(ledger, sheet.batch_id, sheet.total, sheet.key_id, actor, manifest=False)
    where = {"batch": sheet.batch_id, "seq": str(sheet.seq), "total": str(sheet.total), "notice_id": notice.notice_id}
    digest = notice.digest()
    known = store.notice_at(ledger, sheet.batch_id, sheet.seq)
    if known is None:
        store.add_notice(ledger, sheet.batch_id, sheet.seq, NoticeState.DECODED, record=notice, verified=True)
        return IntakeResult(CaptureOutcome.NEW, "intake_new", where, sheet.batch_id, sheet.seq, notice.notice_id)
    if known.notice_id != notice.notice_id:
        raise _Conflict("intake_sheet_other_id", **where, known=known.notice_id)
    if not store.digest_matches(known.manifest_hash, digest):
        raise _Conflict("intake_sheet_manifest", **where)
    if known.digest is None:
        store.fill_record(ledger, known.id, notice)
        return IntakeResult(CaptureOutcome.NEW, "intake_new", where, sheet.batch_id, sheet.seq, notice.notice_id)
    if known.digest == digest:
        return IntakeResult(CaptureOutcome.DUPLICATE, "intake_duplicate", where, sheet.batch_id, sheet.seq,
                            notice.notice_id)
    raise _Conflict("intake_sheet_differs", **where)
