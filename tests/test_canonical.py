"""The canonical form: one function, idempotent, insensitive to how a record was typed."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlink.dates import to_wareki
from paperlink.errors import NoticeInvalid
from paperlink.fields import FIELDS, FieldProblem
from paperlink.notice import KEYS, canonical, parse_notice

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def widen(text: str) -> str:
    """The full-width spelling an IME produces for ASCII text."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


def test_canonical_record_has_fixed_key_order(record) -> None:
    shuffled = dict(reversed(list(record().items())))
    assert list(canonical(shuffled)) == list(KEYS)
    assert list(canonical(shuffled)["before"]) == ["card_number", "expiry_date"]


def test_canonical_json_is_compact_and_keeps_japanese(record) -> None:
    text = parse_notice(record()).canonical_json()
    assert '"nationality":"ベトナム"' in text and ", " not in text and "\\u" not in text


@SETTINGS
@given(data=st.data())
def test_canonical_is_idempotent_over_sample_notices(sample_notices, data) -> None:
    notice = data.draw(st.sampled_from(sample_notices))
    once = canonical(notice.record())
    assert canonical(once) == once
    assert parse_notice(once) == notice


@SETTINGS
@given(data=st.data(), lower=st.booleans(), wide=st.booleans(), wareki=st.booleans(), pad=st.sampled_from(["", " ", "\u3000"]))
def test_the_way_a_record_is_typed_does_not_change_its_canonical_form(sample_notices, data, lower, wide, wareki, pad) -> None:
    """GIVEN a valid notice WHEN it is retyped in lower case, full width, 和暦 and with padding THEN it is the same notice."""
    notice = data.draw(st.sampled_from(sample_notices))
    raw = notice.record()
    typed = dict(raw)
    for key in ("notice_id", "name", "card_number", "municipality_code"):
        value = typed[key]
        if value is None:
            continue
        if lower and key != "name":
            value = value.lower()
        if wide:
            value = widen(value)
        typed[key] = pad + value + pad
    if wareki:
        for key in ("event_date", "notice_date", "expiry_date"):
            if raw[key]:
                typed[key] = to_wareki(notice.get(key))
    assert canonical(typed) == raw
    assert parse_notice(typed).digest() == notice.digest()


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=40), index=st.integers(0, len(FIELDS) - 1))
def test_every_normaliser_is_idempotent_or_refuses(text: str, index: int) -> None:
    """Any text either normalises to a fixed point or is refused with the package's own error."""
    spec = FIELDS[index]
    try:
        value = spec.normalise(text)
    except FieldProblem:
        return
    again = spec.normalise(value.isoformat() if hasattr(value, "isoformat") else value)
    assert again == value


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(raw=st.dictionaries(st.sampled_from([*KEYS, "extra"]), st.one_of(st.none(), st.text(max_size=20),
                                                                       st.integers(), st.dictionaries(st.text(max_size=5), st.text(max_size=5)))))
def test_parse_notice_raises_only_notice_invalid(raw) -> None:
    try:
        notice = parse_notice(raw)
    except NoticeInvalid as exc:
        assert exc.errors and all(e.field and e.message and e.message_ja for e in exc.errors)
    else:  # pragma: no cover - a random valid notice is astronomically unlikely, but would be fine
        assert canonical(notice) == canonical(notice.record())


def test_kanji_and_kana_are_nfc_composed(record) -> None:
    decomposed = unicodedata.normalize("NFD", "ガルシア\u3000花子")
    assert parse_notice(record(name_kanji=decomposed)).name_kanji == "ガルシア\u3000花子"


def test_digest_is_sha256_of_canonical_json(record) -> None:
    import hashlib

    notice = parse_notice(record())
    assert notice.digest() == hashlib.sha256(json.dumps(notice.record(), ensure_ascii=False,
                                                        separators=(",", ":")).encode()).digest()
