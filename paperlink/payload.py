"""QR payloads: what a printed sheet's code carries, as one value type with to_text()/from_text().

A sheet payload is plain ASCII in the QR alphanumeric alphabet:

    PL1:<base45 of: kind, key id, tables fingerprint, batch, seq, total, flags, compact record, signature>

The Ed25519 signature covers every byte before it and the SHA-256 of the canonical record, so a changed
byte anywhere, or a record decoded with other code tables, fails verification. A cover sheet carries
manifest payloads (`PM2:`), listing every notice id of the batch with a short hash of its record and the
municipality code(s) its notices are addressed to (version 2; a version-1 cover, which named no municipality,
is refused as a format this version does not read, so no batch reaches the board without its addressee).
Parsing (`from_text`) and verifying (`verify`) are separate steps: a tampered sheet is still shown.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from paperlink.base45 import Base45Error, b45decode, b45encode
from paperlink.checkcodes import CROCKFORD
from paperlink.compact import (
    CompactError,
    Reader,
    deflate,
    inflate,
    pack_record,
    put_varint,
    tables_fingerprint,
    unpack_record,
)
from paperlink.errors import NoticeInvalid, PaperlinkError
from paperlink.keys import key_id
from paperlink.notice import Notice, parse_notice

VERSION = 1
MANIFEST_VERSION = 2
"""Manifest payloads are one version ahead of sheets: version 2 added the municipality code(s)."""
SHEET_PREFIX = f"PL{VERSION}:"
MANIFEST_PREFIX = f"PM{MANIFEST_VERSION}:"
_KIND_SHEET, _KIND_MANIFEST = 0x01, 0x02
_FLAG_DEFLATED = 0x01
_SIGNATURE_CONTEXT = b"paperlink-qr-v1\x00"
_SIG_LEN = 64


class PayloadError(PaperlinkError, ValueError):
    """A QR text is not a valid paperlink payload."""


class NotPaperlinkPayload(PayloadError):
    """The text does not start with a paperlink prefix (some other QR code)."""


class PayloadVersionError(PayloadError):
    """The payload was written by a paperlink format version this one does not read."""


class PayloadCorrupt(PayloadError):
    """The payload is truncated, not base45, or its bytes do not decode."""


class PayloadTablesMismatch(PayloadError):
    """The print side used other code tables than this PC (update paperlink on one side)."""


class PayloadRecordInvalid(PayloadError):
    """The payload decodes, but its record breaks the notice rules."""


class UnknownKey(PayloadError):
    """The payload is signed by a key this PC does not trust."""


class BadSignature(PayloadError):
    """The signature does not match: the sheet was altered or forged."""


# -- batch ids --------------------------------------------------------------------------------------

_BATCH = re.compile(r"^B(\d{8})-([0-9A-HJKMNP-TV-Z]{4})$")
_BATCH_EPOCH = dt.date(2000, 1, 1)


def new_batch_id(day: dt.date) -> str:
    """A fresh batch id for a print run on `day`: B20261126-7K3Q."""
    return f"B{day:%Y%m%d}-" + "".join(secrets.choice(CROCKFORD) for _ in range(4))


def is_batch_id(text: str) -> bool:
    """Whether `text` has the form of a batch id."""
    return bool(_BATCH.match(text))


def _pack_batch(batch_id: str) -> bytes:
    m = _BATCH.match(batch_id)
    if not m:
        raise PayloadError("payload_batch_id", batch_id=batch_id)
    days = (dt.datetime.strptime(m[1], "%Y%m%d").date() - _BATCH_EPOCH).days
    suffix = 0
    for ch in m[2]:
        suffix = suffix * 32 + CROCKFORD.index(ch)
    return ((days << 20) | suffix).to_bytes(5, "big")


def _unpack_batch(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    days, suffix = number >> 20, number & 0xFFFFF
    chars = "".join(CROCKFORD[(suffix >> shift) & 31] for shift in (15, 10, 5, 0))
    return f"B{_BATCH_EPOCH + dt.timedelta(days=days):%Y%m%d}-{chars}"


# -- framing shared by both kinds -------------------------------------------------------------------

def _frame(kind: int, key: bytes, batch_id: str) -> bytearray:
    return bytearray([kind]) + key + tables_fingerprint() + _pack_batch(batch_id)


def _unframe(text: str, prefix: str, kind: int) -> tuple[Reader, bytes, bytes, str, bytes]:
    """Check prefix and framing; return (reader at the body, signed bytes, key id, batch id, signature)."""
    if not text.startswith(prefix):
        other = re.match(r"^P([LM])(\d+):", text)
        supported = MANIFEST_VERSION if prefix == MANIFEST_PREFIX else VERSION
        if other and other[1] == prefix[1] and other[2] != str(supported):
            raise PayloadVersionError("payload_version", version=other[2], supported=supported)
        raise NotPaperlinkPayload("payload_foreign", prefix=prefix)
    if len(text) - len(prefix) < (12 + _SIG_LEN) * 3 // 2:
        raise PayloadCorrupt("payload_too_short")
    try:
        data = b45decode(text[len(prefix):])
    except Base45Error as exc:
        raise PayloadCorrupt("payload_damaged", detail=exc) from None
    if len(data) < 12 + _SIG_LEN:
        raise PayloadCorrupt("payload_truncated")
    if data[0] != kind:
        raise PayloadCorrupt("payload_kind", kind=data[0])
    signed, signature = data[:-_SIG_LEN], data[-_SIG_LEN:]
    if signed[5:7] != tables_fingerprint():
        raise PayloadTablesMismatch("payload_tables_mismatch")
    reader = Reader(signed)
    reader.pos = 12
    return reader, signed, signed[1:5], _unpack_batch(signed[7:12]), signature


def _verify(message: bytes, signature: bytes, key: bytes, trusted: Mapping[bytes, Ed25519PublicKey]) -> None:
    public = trusted.get(key)
    if public is None:
        raise UnknownKey("payload_unknown_key", key_id=key.hex().upper())
    try:
        public.verify(signature, message)
    except InvalidSignature:
        raise BadSignature("payload_bad_signature") from None


# -- sheet payloads ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SheetPayload:
    """The content of one notice sheet's QR code."""

    batch_id: str
    seq: int
    total: int
    notice: Notice
    key_id: bytes
    signature: bytes = b""
    signed_bytes: bytes = field(default=b"", compare=False, repr=False)
    """The bytes the signature covers, as read from a QR text (empty for a payload built here)."""

    def _body(self) -> bytes:
        packed = pack_record(self.notice.record())
        squeezed = deflate(packed)
        flags, body = (_FLAG_DEFLATED, squeezed) if len(squeezed) < len(packed) else (0, packed)
        out = _frame(_KIND_SHEET, self.key_id, self.batch_id)
        put_varint(out, self.seq)
        put_varint(out, self.total)
        out.append(flags)
        return bytes(out + body)

    def message(self, signed_bytes: bytes | None = None) -> bytes:
        """What the signature covers: the payload bytes before it and the canonical record's digest."""
        return _SIGNATURE_CONTEXT + (signed_bytes if signed_bytes is not None else self._body()) + self.notice.digest()

    def signed(self, private: Ed25519PrivateKey) -> SheetPayload:
        """This payload signed by the print side's key."""
        own = key_id(private.public_key())
        unsigned = SheetPayload(self.batch_id, self.seq, self.total, self.notice, own)
        return SheetPayload(self.batch_id, self.seq, self.total, self.notice, own, private.sign(unsigned.message()))

    def to_text(self) -> str:
        """The QR text (base45, alphanumeric mode)."""
        if len(self.signature) != _SIG_LEN:
            raise PayloadError("payload_unsigned")
        return SHEET_PREFIX + b45encode(self._body() + self.signature)

    @classmethod
    def from_text(cls, text: str) -> SheetPayload:
        """Parse a QR text (not yet verified); a PayloadError subclass says what is wrong."""
        reader, signed, key, batch_id, signature = _unframe(text, SHEET_PREFIX, _KIND_SHEET)
        try:
            seq, total, flags = reader.varint(), reader.varint(), reader.take(1)[0]
            body = signed[reader.pos:]
            body_reader = Reader(inflate(body) if flags & _FLAG_DEFLATED else body)
            record = unpack_record(body_reader)
            if not body_reader.done():
                raise CompactError("extra bytes after the record")
        except CompactError as exc:
            raise PayloadCorrupt("payload_damaged", detail=exc) from None
        if not 1 <= seq <= total:
            raise PayloadCorrupt("payload_sequence", seq=seq, total=total)
        try:
            notice = parse_notice(record)
        except NoticeInvalid as exc:
            raise PayloadRecordInvalid("payload_record_invalid", detail=exc) from None
        return cls(batch_id, seq, total, notice, key, signature, signed)

    def verify(self, trusted: Mapping[bytes, Ed25519PublicKey]) -> None:
        """Raise UnknownKey or BadSignature unless a trusted key signed exactly this payload."""
        _verify(self.message(self.signed_bytes or None), self.signature, self.key_id, trusted)


def sheet_text(notice: Notice, batch_id: str, seq: int, total: int, private: Ed25519PrivateKey) -> str:
    """The signed QR text for one notice sheet."""
    return SheetPayload(batch_id, seq, total, notice, key_id(private.public_key())).signed(private).to_text()


# -- manifest payloads ------------------------------------------------------------------------------

SHORT_HASH_BYTES = 4


def short_hash(notice: Notice) -> bytes:
    """The first bytes of a record's digest, listed in the manifest."""
    return notice.digest()[:SHORT_HASH_BYTES]


@dataclass(frozen=True)
class ManifestPayload:
    """One part of a batch's manifest: (seq, notice id, short hash) for a run of the batch's notices, and the
    municipality code(s) the batch's notices are addressed to (signed with the rest)."""

    batch_id: str
    total: int
    part: int
    parts: int
    entries: tuple[tuple[int, str, bytes], ...]
    key_id: bytes
    signature: bytes = b""
    municipalities: tuple[str, ...] = ()

    def _bytes(self) -> bytes:
        out = _frame(_KIND_MANIFEST, self.key_id, self.batch_id)
        for n in (self.total, self.part, self.parts, len(self.entries), len(self.municipalities)):
            put_varint(out, n)
        for code in self.municipalities:
            put_varint(out, int(code))
        body = bytearray()
        for seq, notice_id, digest in self.entries:
            put_varint(body, seq)
            encoded = notice_id.encode("ascii")
            put_varint(body, len(encoded))
            body += encoded + digest
        return bytes(out + deflate(bytes(body)))

    def to_text(self) -> str:
        """The QR text."""
        if len(self.signature) != _SIG_LEN:
            raise PayloadError("payload_manifest_unsigned")
        return MANIFEST_PREFIX + b45encode(self._bytes() + self.signature)

    @classmethod
    def from_text(cls, text: str) -> ManifestPayload:
        """Parse a manifest QR text (not yet verified)."""
        reader, signed, key, batch_id, signature = _unframe(text, MANIFEST_PREFIX, _KIND_MANIFEST)
        try:
            total, part, parts, count, places = (reader.varint() for _ in range(5))
            municipalities = tuple(f"{reader.varint():06d}" for _ in range(places))
            if any(len(code) != 6 for code in municipalities):
                raise CompactError("a municipality code longer than six digits")
            body = Reader(inflate(signed[reader.pos:]))
            entries = []
            for _ in range(count):
                seq = body.varint()
                notice_id = body.take(body.varint()).decode("ascii")
                entries.append((seq, notice_id, body.take(SHORT_HASH_BYTES)))
            if not body.done():
                raise CompactError("extra bytes after the entries")
        except (CompactError, UnicodeDecodeError) as exc:
            raise PayloadCorrupt("payload_manifest_damaged", detail=exc) from None
        return cls(batch_id, total, part, parts, tuple(entries), key, signature, municipalities)

    def verify(self, trusted: Mapping[bytes, Ed25519PublicKey]) -> None:
        """Raise UnknownKey or BadSignature unless a trusted key signed this manifest part."""
        _verify(_SIGNATURE_CONTEXT + self._bytes(), self.signature, self.key_id, trusted)


def manifest_texts(batch_id: str, numbered: Sequence[tuple[int, Notice]], total: int,
                   private: Ed25519PrivateKey, per_part: int = 40) -> list[str]:
    """The signed manifest QR texts for a batch, `per_part` notices in each."""
    chunks = [numbered[i:i + per_part] for i in range(0, len(numbered), per_part)] or [[]]
    own = key_id(private.public_key())
    places = tuple(sorted({n.municipality_code for _, n in numbered}))
    texts = []
    for index, chunk in enumerate(chunks, start=1):
        entries = tuple((seq, n.notice_id, short_hash(n)) for seq, n in chunk)
        unsigned = ManifestPayload(batch_id, total, index, len(chunks), entries, own, municipalities=places)
        signature = private.sign(_SIGNATURE_CONTEXT + unsigned._bytes())
        texts.append(ManifestPayload(batch_id, total, index, len(chunks), entries, own, signature,
                                     places).to_text())
    return texts

