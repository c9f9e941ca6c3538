"""The compact binary form of a notice used inside QR payloads (format version 1).

Items in canonical order; text as length-prefixed UTF-8, dates as day numbers, table values as indices
into the code tables (their order in tables/*.json), `before` as a bit mask then its values. A fingerprint
of the tables travels with the payload, so a print side and an entry side with different tables are told
apart instead of decoding wrong values. The result is deflated with a preset dictionary when that helps.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import zlib
from collections.abc import Callable
from typing import Any

from paperlink.codetables import tables
from paperlink.fields import BEFORE_KEYS, FIELDS

_EPOCH = dt.date(1880, 1, 1)

# Preset dictionary for deflate: words common in addresses and names. Changing it changes format version.
ZDICT = ("号室 ハイツ マンション アパート コーポ レジデンス 荘 丁目 番地 番 号 "
         "北海道 東京都 大阪府 京都府 県 市 区 町 村 郡 大字 字 "
         "NGUYEN TRAN THI VAN LE PHAM HOANG DELA CRUZ MARIA SANTOS SILVA KIM LEE PARK WANG ZHANG LIU CHEN "
         "MUHAMMAD KHAN SINGH GURUNG SHRESTHA DE DOS DA").encode()


class CompactError(ValueError):
    """Bytes that do not decode as a compact notice; args[0] says why (in English, a technical detail).

    Never shown as is: payload.py turns it into PayloadCorrupt (`payload_damaged` / `payload_manifest_damaged`)
    with this text as the `detail` parameter.
    """


def _table_lists() -> dict[str, list[str]]:
    t = tables()
    return {
        "event": list(t.events), "category": list(t.categories), "card_kind": list(t.card_kinds),
        "status": list(t.statuses), "nationality": list(t.nationalities), "sex": ["M", "F"],
    }


@functools.cache
def tables_fingerprint() -> bytes:
    """Two bytes identifying the code tables' contents and order (both sides must agree)."""
    joined = "\x1e".join("\x1f".join(values) for values in _table_lists().values())
    return hashlib.sha256(joined.encode("utf-8") + ZDICT).digest()[:2]


# -- varints and items ------------------------------------------------------------------------------

def put_varint(out: bytearray, n: int) -> None:
    """Append an unsigned LEB128 integer."""
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return


class Reader:
    """Reads varints and byte strings from a buffer, raising CompactError when it runs out."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def varint(self) -> int:
        shift = result = 0
        while True:
            if self.pos >= len(self.data):
                raise CompactError("truncated (a number runs past the end)")
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise CompactError("a number is too long")

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise CompactError("truncated (a value runs past the end)")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def done(self) -> bool:
        return self.pos == len(self.data)


def _codec(key: str) -> tuple[Callable[[bytearray, Any], None], Callable[[Reader], Any]]:
    spec_is_date = any(f.key == key and f.is_date for f in FIELDS)
    lists = _table_lists()
    if spec_is_date:
        return _put_date, _get_date
    if key in lists:
        values = lists[key]
        index = {v: i for i, v in enumerate(values)}

        def put_table(out: bytearray, value: Any) -> None:
            put_varint(out, 0 if value is None else index[value] + 1)

        def get_table(reader: Reader) -> Any:
            n = reader.varint()
            if n > len(values):
                raise CompactError(f"{key}: index {n - 1} is not in this paperlink's code table")
            return None if n == 0 else values[n - 1]

        return put_table, get_table
    if key == "municipality_code":
        return (lambda out, v: put_varint(out, int(v))), (lambda r: f"{r.varint():06d}")
    return _put_text, _get_text


def _put_date(out: bytearray, value: str | None) -> None:
    put_varint(out, 0 if value is None else (dt.date.fromisoformat(value) - _EPOCH).days + 1)


def _get_date(reader: Reader) -> str | None:
    n = reader.varint()
    if n > 200_000:
        raise CompactError("a date is out of range")
    return None if n == 0 else (_EPOCH + dt.timedelta(days=n - 1)).isoformat()


def _put_text(out: bytearray, value: str | None) -> None:
    if value is None:
        put_varint(out, 0)
        return
    data = value.encode("utf-8")
    put_varint(out, len(data) + 1)
    out += data


def _get_text(reader: Reader) -> str | None:
    n = reader.varint()
    if n == 0:
        return None
    try:
        return reader.take(n - 1).decode("utf-8")
    except UnicodeDecodeError:
        raise CompactError("a text item is not UTF-8") from None


@functools.cache
def _codecs() -> dict[str, tuple[Callable[[bytearray, Any], None], Callable[[Reader], Any]]]:
    return {f.key: _codec(f.key) for f in FIELDS}


# -- records ----------------------------------------------------------------------------------------

def pack_record(record: dict[str, Any]) -> bytes:
    """A canonical record as compact bytes (not yet compressed)."""
    codecs = _codecs()
    out = bytearray()
    for spec in FIELDS:
        codecs[spec.key][0](out, record[spec.key])
    before = record["before"]
    put_varint(out, sum(1 << i for i, key in enumerate(BEFORE_KEYS) if key in before))
    for key in BEFORE_KEYS:
        if key in before:
            codecs[key][0](out, before[key])
    return bytes(out)


def unpack_record(reader: Reader) -> dict[str, Any]:
    """The record (raw: validate it with parse_notice) read from compact bytes."""
    codecs = _codecs()
    record: dict[str, Any] = {spec.key: codecs[spec.key][1](reader) for spec in FIELDS}
    mask = reader.varint()
    if mask >> len(BEFORE_KEYS):
        raise CompactError("unknown before items")
    record["before"] = {key: codecs[key][1](reader) for i, key in enumerate(BEFORE_KEYS) if mask >> i & 1}
    return record


def deflate(data: bytes) -> bytes:
    """Raw deflate with the preset dictionary."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, ZDICT)
    return comp.compress(data) + comp.flush()


def inflate(data: bytes, limit: int = 64 * 1024) -> bytes:
    """Inverse of deflate, refusing output over `limit` bytes (a decompression bomb) or a cut stream."""
    decomp = zlib.decompressobj(-15, ZDICT)
    try:
        out = decomp.decompress(data, limit)
    except zlib.error as exc:
        raise CompactError(f"compressed data is damaged ({exc})") from None
    if decomp.unconsumed_tail:
        raise CompactError("compressed data is too large")
    if not decomp.eof:
        raise CompactError("compressed data is truncated")
    return out
