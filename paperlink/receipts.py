"""Receipts: the receiving side tells the sending side, per notice, what became of a batch – by the same pattern.

A receipt is one signed JSON object (docs/spec.md, "Receipts"):

    {"format":"paperlink-receipt","version":1,"batch_id":"B20261126-7K3Q","issued":"2026-11-26T05:00:00+00:00",
     "office":"131016","total":3,"notices":[{"n":1,"id":"N20261126-00001","status":"exported"},
     {"n":2,"id":"N20261126-00002","status":"held","reason":"hold_foreign_municipality","detail":"…"},
     {"n":3,"id":null,"status":"missing"}],"key_id":"…","signature":"<base64 Ed25519 over the rest>"}

Status per notice: `received` (known, not verified yet), `held` (with the reason's code and its English text),
`entered` (verified), `exported` (written to an export file: final), `missing` (never received). The receiving
side signs with its own key (`paperlink keys init`); the sending side trusts that key (`paperlink keys trust`).

It travels as the batch did: pattern 1 – a file `<batch>.receipt.json` in the shared folder's `return/`
directory; pattern 2 – inside a bundle (the same encryption as a batch bundle); pattern 3 – a printed receipt
sheet whose QR codes (`PR1:i/k:` + base45 of the compressed receipt, in k parts) the sending side scans. The
sending side imports it (`import_receipt`): the signature must verify with a trusted key, the batch must be one
it sent, and every notice id must be the one it sent at that n. Each notice's acknowledgement is then kept in
its outbox; `views.unacknowledged` lists what is not yet accounted for.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from paperlink.atomicfile import atomic_write_bytes
from paperlink.base45 import b45decode, b45encode
from paperlink.errors import PaperlinkError
from paperlink.holding import hold_text
from paperlink.keys import key_id
from paperlink.ledger import VERIFIED_STATES, Ledger, LedgerError, NoticeState, ReceiptStatus, now, store
from paperlink.ledger.schema import MediaDirection
from paperlink.notice import canonical_json

RECEIPT_FORMAT = "paperlink-receipt"
RECEIPT_VERSION = 1
RETURN_DIR = "return"
"""The shared folder's directory for receipts going back to the sender (pattern 1)."""
RECEIPT_SUFFIX = ".receipt.json"
QR_PREFIX = "PR1:"
QR_PART_CHARS = 1200
"""Base45 characters per receipt QR code (a version-25-or-so code at level M, easily read from a 150-dpi scan)."""
_QR = re.compile(r"^PR1:(\d{1,3})/(\d{1,3}):([0-9A-Z $%*+\-./:]+)$")


class ReceiptError(PaperlinkError):
    """A receipt cannot be read, is not signed by a trusted key, or does not fit what was sent."""


@dataclass(frozen=True)
class Receipt:
    """A batch's receipt: what became of each notice at the receiving side, signed by that side."""

    batch_id: str
    issued: str
    office: str
    total: int
    notices: tuple[dict[str, Any], ...]
    key_id: str = ""
    signature: str = ""

    def unsigned(self) -> dict[str, Any]:
        """The receipt's JSON object without its signature (what is signed)."""
        return {"format": RECEIPT_FORMAT, "version": RECEIPT_VERSION, "batch_id": self.batch_id, "issued": self.issued,
                "office": self.office, "total": self.total, "notices": list(self.notices), "key_id": self.key_id}

    def to_bytes(self) -> bytes:
        """The receipt file's bytes (canonical JSON, one line)."""
        return (canonical_json({**self.unsigned(), "signature": self.signature}) + "\n").encode("utf-8")

    def signed(self, private: Ed25519PrivateKey) -> Receipt:
        """The receipt signed with `private`."""
        unsigned = Receipt(self.batch_id, self.issued, self.office, self.total, self.notices,
                           key_id(private.public_key()).hex())
        signature = private.sign(canonical_json(unsigned.unsigned()).encode("utf-8"))
        return Receipt(**{**unsigned.__dict__, "signature": base64.b64encode(signature).decode("ascii")})

    def verify(self, trusted: Mapping[bytes, Ed25519PublicKey], name: str) -> None:
        """ReceiptError unless a trusted key signed exactly this receipt."""
        try:
            public = trusted[bytes.fromhex(self.key_id)]
        except (KeyError, ValueError):
            raise ReceiptError("receipt_unknown_key", name=name, key_id=self.key_id) from None
        try:
            public.verify(base64.b64decode(self.signature, validate=True),
                          canonical_json(self.unsigned()).encode("utf-8"))
        except (InvalidSignature, ValueError):
            raise ReceiptError("receipt_bad_signature", name=name) from None

    @classmethod
    def from_bytes(cls, data: bytes, name: str) -> Receipt:
        """Parse a receipt; ReceiptError naming what is wrong."""
        try:
            obj = json.loads(data.decode("utf-8"))
            if not isinstance(obj, dict) or obj.get("format") != RECEIPT_FORMAT or obj.get("version") != RECEIPT_VERSION:
                raise ValueError("not a paperlink receipt of version 1")
            notices = obj["notices"]
            if not isinstance(notices, list) or any(not isinstance(n, dict) or type(n.get("n")) is not int
                                                    or n.get("status") not in _STATUSES for n in notices):
                raise ValueError("malformed notice list")
            values = (obj["batch_id"], obj["issued"], obj["office"], obj["total"], obj["key_id"], obj["signature"])
            if any(type(v) is not t for v, t in zip(values, (str, str, str, int, str, str), strict=True)):
                raise ValueError("a field has the wrong type")
            return cls(obj["batch_id"], obj["issued"], obj["office"], obj["total"], tuple(notices), obj["key_id"],
                       obj["signature"])
        except (UnicodeDecodeError, KeyError, TypeError, ValueError, RecursionError) as exc:
            raise ReceiptError("receipt_damaged", name=name, detail=exc) from None


_STATUSES = frozenset(s.value for s in ReceiptStatus)


# -- the receiving side: build and issue ----------------------------------------------------------------


def build_receipt(ledger: Ledger, batch_id: str, office: str) -> Receipt:
    """The (unsigned) receipt of one batch as the ledger knows it now."""
    found = store.batch(ledger, batch_id)
    if found is None:
        raise LedgerError("ledger_unknown_batch", batch_id=batch_id)
    known = {n.seq: n for n in store.notices_of(ledger, batch_id)}
    entries: list[dict[str, Any]] = []
    for seq in range(1, found.total + 1):
        row = known.get(seq)
        entry: dict[str, Any] = {"n": seq, "id": row.notice_id if row else None}
        if row is None or (row.state is NoticeState.MISSING and row.record_json is None):
            entry["status"] = ReceiptStatus.MISSING.value
        elif row.state is NoticeState.HELD:
            hold = store.open_hold(ledger, row.id)
            entry["status"] = ReceiptStatus.HELD.value
            if hold is not None:
                entry["reason"] = hold.reason_code
                entry["detail"] = hold_text(hold.reason_code, hold.params, "en")
        elif row.exported_at and row.state in VERIFIED_STATES:
            entry["status"] = ReceiptStatus.EXPORTED.value
        elif row.state in VERIFIED_STATES:
            entry["status"] = ReceiptStatus.ENTERED.value
        else:
            entry["status"] = ReceiptStatus.RECEIVED.value
        entries.append(entry)
    return Receipt(batch_id, now(), office, found.total, tuple(entries))


def issue(ledger: Ledger, batch_id: str, office: str, private: Ed25519PrivateKey, via: str, clerk: str) -> Receipt:
    """Build, sign and record a receipt (audited); the caller writes it where `via` says."""
    receipt = build_receipt(ledger, batch_id, office).signed(private)
    with ledger.transaction():
        store.add_receipt(ledger, batch_id, MediaDirection.OUT, receipt.issued,
                          hashlib.sha256(receipt.to_bytes()).hexdigest(), receipt.key_id, via, clerk)
        ledger.audit(clerk, "receipt.issued", batch_id, via=via, statuses=_counts(receipt))
    return receipt


def _counts(receipt: Receipt) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in receipt.notices:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    return counts


def write_to_folder(receipt: Receipt, folder: str | os.PathLike[str]) -> Path:
    """Pattern 1: the receipt into the shared folder's return directory (atomic; a newer receipt replaces it)."""
    target = Path(folder) / RETURN_DIR
    target.mkdir(exist_ok=True)
    path = target / f"{receipt.batch_id}{RECEIPT_SUFFIX}"
    atomic_write_bytes(path, receipt.to_bytes())
    return path


def seal_receipt(receipt: Receipt, passphrase: str) -> bytes:
    """Pattern 2: the receipt inside an encrypted bundle (the same format as a batch bundle)."""
    from paperlink.bundle import encrypt

    return encrypt({"receipt": json.loads(receipt.to_bytes())}, passphrase)


def qr_texts(receipt: Receipt) -> list[str]:
    """Pattern 3: the receipt as the texts of its QR codes (compressed, base45, in numbered parts)."""
    body = b45encode(zlib.compress(receipt.to_bytes(), 9))
    parts = [body[i:i + QR_PART_CHARS] for i in range(0, len(body), QR_PART_CHARS)] or [""]
    return [f"{QR_PREFIX}{i}/{len(parts)}:{part}" for i, part in enumerate(parts, start=1)]


def receipt_sheet(receipt: Receipt) -> bytes:
    """Pattern 3: a printed receipt sheet (PDF, A4): the counts, every notice not entered with its status and
    reason, and the receipt's QR codes for the sending side to scan."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from paperlink.dates import japan_time
    from paperlink.fonts import japanese_font
    from paperlink.sheets import BOTTOM, LEFT, TOP, WIDTH, draw_codes, mm, paragraph

    font = japanese_font()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, invariant=1, initialFontName=font)
    c.setTitle(f"受領書 {receipt.batch_id}")
    c.setFont(font, 17)
    c.drawString(LEFT, TOP - 7 * mm, "受領書（通知の処理結果）")
    lines = (("バッチ番号", receipt.batch_id), ("受領した役所", receipt.office), ("作成日時", japan_time(receipt.issued)),
             ("件数", "　".join(f"{_STATUS_JA[k]} {v} 件" for k, v in sorted(_counts(receipt).items()))))
    y = TOP - 18 * mm
    for label, value in lines:
        c.setFont(font, 9.5)
        c.drawString(LEFT, y, label)
        c.setFont(font, 11)
        c.drawString(LEFT + 28 * mm, y, value)
        y -= 7 * mm
    for entry in receipt.notices:
        if entry["status"] in (ReceiptStatus.ENTERED.value, ReceiptStatus.EXPORTED.value):
            continue
        text = f"{entry['n']}/{receipt.total} {entry.get('id') or '（番号不明）'}: {_STATUS_JA[entry['status']]}"
        if entry.get("detail"):
            text += f" – {entry['detail']}"
        para = paragraph(text, font, 9, WIDTH)
        _, height = para.wrap(WIDTH, 100 * mm)
        if y - height < BOTTOM + 90 * mm:
            break
        para.drawOn(c, LEFT, y - height)
        y -= height + 1.5 * mm
    draw_codes(c, qr_texts(receipt), LEFT, BOTTOM, WIDTH, font)
    c.showPage()
    c.save()
    return buffer.getvalue()


_STATUS_JA = {ReceiptStatus.RECEIVED.value: "受付済（未確認）", ReceiptStatus.HELD.value: "保留",
              ReceiptStatus.ENTERED.value: "確認済", ReceiptStatus.EXPORTED.value: "出力済",
              ReceiptStatus.MISSING.value: "未着"}


# -- the sending side: import -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptImport:
    """What importing one receipt did."""

    name: str
    batch_id: str
    outcome: str  # imported, duplicate
    counts: dict[str, int]


def import_receipt(ledger: Ledger, data: bytes, name: str, trusted: Mapping[bytes, Ed25519PublicKey],
                   clerk: str, via: str) -> ReceiptImport:
    """Verify a receipt and keep what it says of each notice in the outbox (one transaction, audited)."""
    receipt = Receipt.from_bytes(data, name)
    receipt.verify(trusted, name)
    sent = {row.seq: row for row in store.outbox_of(ledger, receipt.batch_id) if row.seq is not None}
    if not sent:
        raise ReceiptError("receipt_unknown_batch", name=name, batch_id=receipt.batch_id)
    if receipt.total != len(sent) or any(
            entry["n"] not in sent or (entry.get("id") is not None and entry["id"] != sent[entry["n"]].notice_id)
            for entry in receipt.notices):
        raise ReceiptError("receipt_other_batch", name=name, batch_id=receipt.batch_id)
    digest = hashlib.sha256(receipt.to_bytes()).hexdigest()
    with ledger.transaction():
        if store.receipt_seen(ledger, digest):
            return ReceiptImport(name, receipt.batch_id, "duplicate", _counts(receipt))
        for entry in receipt.notices:
            store.acknowledge(ledger, receipt.batch_id, entry["n"], ReceiptStatus(entry["status"]),
                              entry.get("detail"), receipt.issued)
        store.add_receipt(ledger, receipt.batch_id, MediaDirection.IN, receipt.issued, digest, receipt.key_id, via,
                          clerk)
        ledger.audit(clerk, "receipt.imported", receipt.batch_id, via=via, statuses=_counts(receipt), sha256=digest)
    return ReceiptImport(name, receipt.batch_id, "imported", _counts(receipt))


def receipts_in_bundle(blob: bytes, passphrase: str, name: str) -> bytes:
    """The receipt a receipt bundle holds (pattern 2)."""
    from paperlink.bundle import decrypt

    inner = decrypt(blob, passphrase, name).get("receipt")
    if not isinstance(inner, dict):
        raise ReceiptError("receipt_damaged", name=name, detail="the bundle holds no receipt")
    return (canonical_json(inner) + "\n").encode("utf-8")


def receipts_from_codes(texts: Iterable[str], name: str) -> list[bytes]:
    """The receipts whose QR codes are among `texts` (pattern 3: every part of a receipt must have been read)."""
    parts: dict[int, dict[int, str]] = {}
    totals: dict[int, int] = {}
    for text in texts:
        found = _QR.match(text.strip())
        if not found:
            continue
        index, total, body = int(found.group(1)), int(found.group(2)), found.group(3)
        parts.setdefault(total, {})[index] = body
        totals[total] = total
    out = []
    for total, got in parts.items():
        if sorted(got) != list(range(1, total + 1)):
            raise ReceiptError("receipt_damaged", name=name,
                               detail=f"{len(got)} of {total} receipt codes read; scan the whole sheet")
        try:
            out.append(zlib.decompress(b45decode("".join(got[i] for i in range(1, total + 1)))))
        except (ValueError, zlib.error) as exc:
            raise ReceiptError("receipt_damaged", name=name, detail=exc) from None
    return out


def read_receipt_sheet(path: str | os.PathLike[str]) -> list[bytes]:
    """The receipts printed on a scanned receipt sheet (PDF or image)."""
    from paperlink.decode import decode
    from paperlink.pages import pages_of

    texts = [code.text for page in pages_of(path) if page.image is not None for code in decode(page.image, page.number)]
    return receipts_from_codes(texts, str(path))
