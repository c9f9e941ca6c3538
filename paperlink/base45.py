"""Base45 (RFC 9285): bytes as text in the QR alphanumeric alphabet."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


class Base45Error(ValueError):
    """Text that is not valid base45; args[0] says why."""


def b45encode(data: bytes) -> str:
    """Encode bytes as base45 text (3 characters per 2 bytes, 2 for a last odd byte)."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Decode base45 text; Base45Error on a character outside the alphabet, a bad length or an overflow."""
    try:
        values = [_INDEX[c] for c in text]
    except KeyError as exc:
        raise Base45Error(f"character {exc.args[0]!r} is not in the base45 alphabet") from None
    if len(values) % 3 == 1:
        raise Base45Error(f"length {len(text)} cannot be base45 (truncated?)")
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i:i + 3]
        n = sum(v * 45**k for k, v in enumerate(chunk))
        if len(chunk) == 3:
            if n > 0xFFFF:
                raise Base45Error("a triplet encodes a value over 65535")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise Base45Error("the last pair encodes a value over 255")
            out.append(n)
    return bytes(out)
