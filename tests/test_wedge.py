"""Handheld scanners in keyboard-wedge mode: case, width, IME punctuation and keyboard layouts repaired."""

from __future__ import annotations

import unicodedata

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from paperlink.base45 import ALPHABET
from paperlink.keys import key_id
from paperlink.notice import parse_notice
from paperlink.payload import SheetPayload, sheet_text
from paperlink.wedge import WedgeInputError, normalise_wedge
from tests.conftest import trusting_home

KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def text(record) -> str:
    return sheet_text(parse_notice(record()), "B20261126-7K3Q", 1, 1, KEY)


def full_width(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in s)


def us_scanner_on_jis_pc(s: str) -> str:
    return s.translate(str.maketrans({":": "+", "*": "(", "+": "~"}))


def jis_scanner_on_us_pc(s: str) -> str:
    return s.translate(str.maketrans({":": "'", "*": '"', "+": ":"}))


@pytest.mark.parametrize("mangle", [
    lambda s: s,
    lambda s: s + "\r\n",
    str.lower,
    full_width,
    lambda s: full_width(s.lower()),
    us_scanner_on_jis_pc,
    jis_scanner_on_us_pc,
    lambda s: us_scanner_on_jis_pc(s).lower(),
])
def test_typed_payload_is_repaired_exactly(text: str, mangle) -> None:
    """GIVEN a payload typed by a misconfigured scanner WHEN normalised THEN it is the printed text and verifies."""
    repaired = normalise_wedge(mangle(text))
    assert repaired == text
    SheetPayload.from_text(repaired).verify({key_id(KEY.public_key()): KEY.public_key()})


def test_ime_punctuation_is_mapped_back() -> None:
    assert normalise_wedge("PL1:AB。CD・EFー") == "PL1:AB.CD/EF-"


def test_kana_from_an_active_ime_is_explained_not_guessed() -> None:
    with pytest.raises(WedgeInputError, match="IME"):
        normalise_wedge("ぷl1:ABC")


def test_characters_outside_the_alphabet_are_named() -> None:
    with pytest.raises(WedgeInputError) as exc:
        normalise_wedge("PL1:AB#C")
    assert "'#'" in str(exc.value)


@given(st.text(alphabet=ALPHABET, min_size=1, max_size=80))
def test_layout_repair_round_trips_any_payload(body: str) -> None:
    text = "PL1:" + body
    assert normalise_wedge(us_scanner_on_jis_pc(text)) == text
    assert normalise_wedge(jis_scanner_on_us_pc(text)) == text
    assert normalise_wedge(full_width(text).lower()) == text


@given(st.text(max_size=60))
def test_any_typed_text_gives_a_payload_text_or_a_wedge_error(typed: str) -> None:
    try:
        out = normalise_wedge(typed)
    except WedgeInputError:
        return
    assert set(out) <= set(ALPHABET) and unicodedata.is_normalized("NFKC", out)


def test_cli_scan_typed(runner, tmp_path, text: str) -> None:
    import json


    home = trusting_home(tmp_path / "entry", KEY)
    typed = us_scanner_on_jis_pc(text).lower() + "\n" + "ぷらす\n"
    result = runner("--home", home, "scan", "--typed", "--json", input=typed)
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["verified"] is True and first["notice"]["notice_id"] == "N20261126-00001"
    assert second["verified"] is False and "IME" in second["error"]
