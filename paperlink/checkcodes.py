"""Check codes printed for people: a short code for the whole record and two characters per item.

Both come from SHA-256 over the canonical form, written in Crockford's base32 (no I, L, O, U), so a
hand-typed record (or a single hand-typed item) can be proven equal to the printed one.
"""

from __future__ import annotations

import hashlib

from paperlink.notice import Notice

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _base32(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(length):
        number, r = divmod(number, 32)
        chars.append(CROCKFORD[r])
    return "".join(chars)


def record_check_code(notice: Notice) -> str:
    """Six characters (30 bits) from the record digest, shown as XXX-XXX."""
    code = _base32(notice.digest(), 6)
    return f"{code[:3]}-{code[3:]}"


def field_check(key: str, value: str) -> str:
    """Two characters (10 bits) for one item's canonical value (a before value uses key 'before.<item>')."""
    return _base32(hashlib.sha256(f"{key}\x1f{value}".encode()).digest(), 2)


def field_checks(notice: Notice) -> dict[str, str]:
    """The check characters of every item that has a value, before values included."""
    record = notice.record()
    before = record.pop("before")
    checks = {key: field_check(key, value) for key, value in record.items() if value is not None}
    checks.update({f"before.{key}": field_check(f"before.{key}", value) for key, value in before.items()})
    return checks


def normalise_check_code(text: str) -> str:
    """A typed check code in printed form: upper case, I/L→1, O→0, hyphen placed."""
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.translate(str.maketrans("ILO", "110"))
    return f"{cleaned[:3]}-{cleaned[3:]}" if len(cleaned) == 6 else cleaned
