"""The QR payload: one value type, pinned by golden strings, every malformed payload a clear error."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from paperlink.base45 import ALPHABET, Base45Error, b45decode, b45encode
from paperlink.checkcodes import field_check, field_checks, normalise_check_code, record_check_code
from paperlink.compact import tables_fingerprint
from paperlink.keys import key_id
from paperlink.notice import parse_notice
from paperlink.payload import (
    BadSignature,
    ManifestPayload,
    NotPaperlinkPayload,
    PayloadCorrupt,
    PayloadError,
    PayloadVersionError,
    SheetPayload,
    UnknownKey,
    manifest_texts,
    new_batch_id,
    sheet_text,
)

# A fixed key for golden tests only (RFC 8032 signatures are deterministic); never a real key.
GOLDEN_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
TRUSTED = {key_id(GOLDEN_KEY.public_key()): GOLDEN_KEY.public_key()}
BATCH = "B20261126-7K3Q"

GOLDEN_SHEET_TEXT = (
    "PL1:R70-09M5LJVS2-C8%PFH0560LGUNF6QF6:Q66J6NV6WF0EA3CGJCX53/718KRHHO02E8AOXV$:VJ7UE8C. JAHP2$T9VCDVC*JCW.CBP"
    "SVH4SND2ZE:0J9VLY3VDLK3%M0QVF8UEBQITDQ1HYTIYRE2:LAVV56FO84B8AYBGNCD:O1K.GU/9-AL6K1:L6DK2KN45FOU$CJFJMC94XBXW"
    "QJ6WV$AE:0PP0UN9I*JRONMGQYNT6E2%/D.F7394W98*$3FC3Q9U8BR/MA6$BDB16OF6TCFZ6DR9TVOVNPTQPVKT"
)
# The code tables' fingerprint inside the payload: a change of any table the payload indexes changes it and
# the golden text with it (deliberately: paperlink/tables/*.json changed, and their versions say so).
GOLDEN_TABLES_FINGERPRINT = "14e3"
GOLDEN_MANIFEST_TEXT = (  # pinned again after the realistic samples of issue 11 changed the sample notices
    "PM2:DD0-09M5LJVS2-C8%P4H0Y506A0$AWCSCDBVNF6QF6:Q66J6NV6WF02 VSNB1KJ+P0V2KDOCN2DBJ2V1MVV1/S1UYT BF0VGKOS7 3C242"
    "ON1+28IG%+H+IPT0LSD34/1/FGPMG1Y3I+JE6J3 F260FTQ%WFP*B7N2T6P+CS+SC6G4W4DR.K*AA"
)
GOLDEN_CHECK_CODE = "SPC-WDH"
GOLDEN_CARD_CHECK = "E1"


@pytest.fixture
def notice(record):
    return parse_notice(record())


def test_rfc9285_examples() -> None:
    assert b45encode(b"AB") == "BB8"
    assert b45encode(b"Hello!!") == "%69 VD92EX0"
    assert b45encode(b"base-45") == "UJCLQE7W581"
    assert b45decode("QED8WEX0") == b"ietf!"
    for bad in ("GGW", "ZZZ"):  # values over 65535
        with pytest.raises(Base45Error):
            b45decode(bad)


@given(st.binary(max_size=300))
def test_base45_round_trip(data: bytes) -> None:
    text = b45encode(data)
    assert set(text) <= set(ALPHABET) and b45decode(text) == data


def test_golden_tables_fingerprint() -> None:
    """GIVEN the shipped code tables THEN their fingerprint is the pinned one (a table change is deliberate)."""
    assert tables_fingerprint().hex() == GOLDEN_TABLES_FINGERPRINT


def test_golden_sheet_payload(notice) -> None:
    """GIVEN a fixed key, batch and record THEN the payload text is exactly the pinned one (a format change is deliberate)."""
    text = sheet_text(notice, BATCH, 3, 12, GOLDEN_KEY)
    assert text == GOLDEN_SHEET_TEXT
    payload = SheetPayload.from_text(text)
    payload.verify(TRUSTED)
    assert (payload.batch_id, payload.seq, payload.total) == (BATCH, 3, 12)
    assert payload.notice.record() == notice.record()


def test_golden_check_codes(notice) -> None:
    assert record_check_code(notice) == GOLDEN_CHECK_CODE
    assert field_checks(notice)["card_number"] == field_check("card_number", "AB12345678CD") == GOLDEN_CARD_CHECK
    assert normalise_check_code(GOLDEN_CHECK_CODE.lower().replace("-", " ")) == GOLDEN_CHECK_CODE


def test_every_sample_round_trips_exactly(sample_notices) -> None:
    key = Ed25519PrivateKey.generate()
    trusted = {key_id(key.public_key()): key.public_key()}
    batch = new_batch_id(dt.date(2026, 11, 26))
    for seq, notice in enumerate(sample_notices, start=1):
        payload = SheetPayload.from_text(sheet_text(notice, batch, seq, len(sample_notices), key))
        payload.verify(trusted)
        assert payload.notice.canonical_json() == notice.canonical_json()


def test_a_one_character_change_anywhere_is_detected(notice) -> None:
    """GIVEN a signed payload WHEN any single character is changed THEN parsing or verification fails."""
    text = sheet_text(notice, BATCH, 1, 1, GOLDEN_KEY)
    prefix = len("PL1:")
    for position in range(prefix, len(text)):
        replacement = "0" if text[position] != "0" else "1"
        tampered = text[:position] + replacement + text[position + 1:]
        with pytest.raises(PayloadError):
            SheetPayload.from_text(tampered).verify(TRUSTED)


def test_a_one_byte_change_anywhere_is_detected(notice) -> None:
    text = sheet_text(notice, BATCH, 1, 1, GOLDEN_KEY)
    data = b45decode(text[4:])
    for position in range(len(data)):
        tampered = bytearray(data)
        tampered[position] ^= 0x01
        with pytest.raises(PayloadError):
            SheetPayload.from_text("PL1:" + b45encode(bytes(tampered))).verify(TRUSTED)


@pytest.mark.parametrize(("mutate", "error", "words"), [
    (lambda t: "HTTPS://EXAMPLE.COM/", NotPaperlinkPayload, "not a paperlink code"),
    (lambda t: "PL2:" + t[4:], PayloadVersionError, "version 2"),
    (lambda t: t[:4] + "abc" + t[7:], PayloadCorrupt, "not in the base45 alphabet"),
    (lambda t: t[:-1], PayloadCorrupt, "damaged payload"),
    (lambda t: t[:60], PayloadCorrupt, "truncated"),
    (lambda t: t[:200], PayloadCorrupt, "damaged"),
    (lambda t: t[:12], PayloadCorrupt, "truncated"),
])
def test_malformed_payloads_have_clear_errors(notice, mutate, error, words: str) -> None:
    text = sheet_text(notice, BATCH, 1, 1, GOLDEN_KEY)
    with pytest.raises(error) as exc:
        SheetPayload.from_text(mutate(text))
    assert words in str(exc.value)


def test_unknown_key_and_forged_signature(notice) -> None:
    other = Ed25519PrivateKey.generate()
    text = sheet_text(notice, BATCH, 1, 1, other)
    with pytest.raises(UnknownKey, match="does not trust"):
        SheetPayload.from_text(text).verify(TRUSTED)
    # a forger who knows our key id but not our key
    forged = SheetPayload(BATCH, 1, 1, notice, key_id(GOLDEN_KEY.public_key()), other.sign(b"x" * 10))
    with pytest.raises(BadSignature):
        SheetPayload.from_text(forged.to_text()).verify(TRUSTED)


def test_manifest_lists_every_notice_with_a_short_hash(sample_notices) -> None:
    numbered = list(enumerate(sample_notices, start=1))
    texts = manifest_texts(BATCH, numbered, len(sample_notices), GOLDEN_KEY, per_part=40)
    assert len(texts) == 5
    entries = []
    for index, text in enumerate(texts, start=1):
        manifest = ManifestPayload.from_text(text)
        manifest.verify(TRUSTED)
        assert (manifest.part, manifest.parts, manifest.total) == (index, 5, 200)
        entries += manifest.entries
    assert [(seq, nid) for seq, nid, _ in entries] == [(s, n.notice_id) for s, n in numbered]
    assert all(h == n.digest()[:4] for (_, _, h), n in zip(entries, sample_notices, strict=True))


def test_manifest_tamper_is_detected(sample_notices) -> None:
    text = manifest_texts(BATCH, list(enumerate(sample_notices[:5], 1)), 5, GOLDEN_KEY)[0]
    data = bytearray(b45decode(text[4:]))
    data[14] ^= 0x04
    with pytest.raises(PayloadError):
        ManifestPayload.from_text("PM2:" + b45encode(bytes(data))).verify(TRUSTED)


def test_golden_manifest_payload(sample_notices) -> None:
    """GIVEN a fixed key, batch and notices THEN the cover's payload is exactly the pinned one: version 2,
    naming the municipality its notices are addressed to (a format change is deliberate)."""
    text = manifest_texts(BATCH, list(enumerate(sample_notices[:3], 1)), 3, GOLDEN_KEY)[0]
    assert text.startswith("PM2:")
    manifest = ManifestPayload.from_text(text)
    manifest.verify(TRUSTED)
    assert manifest.municipalities == tuple(sorted({n.municipality_code for n in sample_notices[:3]}))
    assert text == GOLDEN_MANIFEST_TEXT
    with pytest.raises(PayloadVersionError, match="version 1"):
        ManifestPayload.from_text("PM1:" + text[4:])
