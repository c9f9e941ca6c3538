"""Fuzzing the readers of untrusted input: thousands of generated inputs each, only paperlink's own errors.

PAPERLINK_FUZZ_EXAMPLES sets the number of inputs per target (default 1500); the counts are printed in
the test summary.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlink.base45 import ALPHABET, b45decode, b45encode
from paperlink.csvformat import dumps_csv, parse_csv
from paperlink.dataformat import dumps_notices, parse_jsonl
from paperlink.errors import DataFileError
from paperlink.keys import key_id
from paperlink.payload import ManifestPayload, PayloadError, SheetPayload, manifest_texts, sheet_text
from paperlink.samples import SampleOptions, generate
from paperlink.wedge import WedgeInputError, normalise_wedge

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("PAPERLINK_FUZZ_EXAMPLES", "1500"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
COUNTS: dict[str, int] = {}

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
NOTICES = generate(SampleOptions(count=8, seed=51, notice_date=dt.date(2026, 11, 26)))
SHEETS = [sheet_text(n, "B20261126-7K3Q", i + 1, 8, KEY) for i, n in enumerate(NOTICES)]
MANIFEST = manifest_texts("B20261126-7K3Q", list(enumerate(NOTICES, 1)), 8, KEY)[0]
JSONL = dumps_notices(NOTICES)
CSV = dumps_csv(NOTICES)


def count(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Flip, drop, insert, duplicate or truncate: what a damaged file or code looks like."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(5)
        pos = rng.randrange(len(out) + 1) if out else 0
        if kind == 0 and out:
            out[min(pos, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif kind == 1 and out:
            del out[pos:pos + rng.randint(1, 8)]
        elif kind == 2:
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif kind == 3 and out:
            out[pos:pos] = out[max(0, pos - 16):pos]
        else:
            out = out[:pos]
    return bytes(out)


def payload_parses_or_refuses(text: str) -> None:
    for kind in (SheetPayload, ManifestPayload):
        with contextlib.suppress(PayloadError):
            kind.from_text(text).verify(TRUSTED)


@FUZZ
@given(seed=st.integers(0, 2**32), which=st.integers(0, len(SHEETS)))
def test_fuzz_payload_mutations(seed: int, which: int) -> None:
    """Damaged versions of real payloads: a PayloadError, or (rarely) a payload that still verifies exactly."""
    rng = random.Random(seed)
    original = ([*SHEETS, MANIFEST])[which]
    prefix, body = original[:4], b45decode(original[4:])
    damaged = prefix + b45encode(mutate(body, rng))
    count("payload (mutated bytes)")
    for kind in (SheetPayload, ManifestPayload):
        try:
            payload = kind.from_text(damaged)
            payload.verify(TRUSTED)
        except PayloadError:
            continue
        assert damaged == original or kind.from_text(original) == payload


@FUZZ
@given(text=st.one_of(st.text(alphabet=ALPHABET, max_size=600).map(lambda t: "PL1:" + t),
                      st.text(alphabet=ALPHABET, max_size=600).map(lambda t: "PM1:" + t),
                      st.text(max_size=300)))
def test_fuzz_payload_text(text: str) -> None:
    count("payload (random text)")
    payload_parses_or_refuses(text)


@FUZZ
@given(seed=st.integers(0, 2**32))
def test_fuzz_jsonl_reader(seed: int) -> None:
    count("data file (JSON Lines)")
    data = mutate(JSONL, random.Random(seed))
    try:
        notices = parse_jsonl(data, "fuzz.jsonl")
    except DataFileError as exc:
        assert exc.problems and all(p.path == "fuzz.jsonl" and p.message for p in exc.problems)
    else:
        assert dumps_notices(notices) == data or len(notices) <= len(NOTICES)


@FUZZ
@given(data=st.binary(max_size=400))
def test_fuzz_jsonl_reader_random_bytes(data: bytes) -> None:
    count("data file (random bytes)")
    with contextlib.suppress(DataFileError):
        parse_jsonl(data, "fuzz.jsonl")


@FUZZ
@given(seed=st.integers(0, 2**32))
def test_fuzz_csv_reader(seed: int) -> None:
    count("CSV")
    try:
        parse_csv(mutate(CSV, random.Random(seed)), "fuzz.csv")
    except DataFileError as exc:
        assert exc.problems and all(p.message for p in exc.problems)


@FUZZ
@given(typed=st.text(max_size=200))
def test_fuzz_wedge_normaliser(typed: str) -> None:
    count("keyboard wedge")
    try:
        out = normalise_wedge(typed)
    except WedgeInputError:
        return
    assert set(out) <= set(ALPHABET)
    payload_parses_or_refuses(out)
