"""The bundle header's key-derivation limits (spec 5.1): n ≤ 2^16, r ≤ 8, p ≤ 4, scrypt only – checked before any derivation."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.bundle import MAGIC, BundleError, open_bundle, seal
from paperlink.keys import key_id
from paperlink.samples import SampleOptions, generate

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
PASSPHRASE = "a-long-passphrase"


@pytest.fixture(scope="module")
def blob() -> bytes:
    notices = generate(SampleOptions(count=1, seed=3, notice_date=dt.date(2026, 11, 26)))
    return seal(notices, "B20261126-LIMT", KEY, PASSPHRASE)[0]


def _with_header(blob: bytes, **changes: object) -> bytes:
    end = blob.index(b"\n", len(MAGIC))
    header = json.loads(blob[len(MAGIC):end])
    header.update(changes)
    return MAGIC + json.dumps(header, separators=(",", ":")).encode() + blob[end:]


@pytest.mark.parametrize("changes", [{"n": 2**17}, {"r": 9}, {"p": 5}, {"n": 1}, {"n": 2**20, "r": 16}])
def test_parameters_beyond_the_limits_are_refused_before_deriving(blob: bytes, changes: dict) -> None:
    start = time.monotonic()
    with pytest.raises(BundleError) as caught:
        open_bundle(_with_header(blob, **changes), PASSPHRASE, TRUSTED)
    assert caught.value.code == "bundle_kdf_range"
    assert time.monotonic() - start < 0.5


@pytest.mark.slow
def test_the_largest_accepted_parameters_reach_the_derivation(blob: bytes) -> None:
    """n = 2^16, r = 8, p = 4 stays within the 128 MiB cap: the header is derived, then fails authentication."""
    with pytest.raises(BundleError) as caught:
        open_bundle(_with_header(blob, n=2**16, r=8, p=4), PASSPHRASE, TRUSTED)
    assert caught.value.code == "bundle_cannot_open"


def test_another_kdf_is_named(blob: bytes) -> None:
    with pytest.raises(BundleError) as caught:
        open_bundle(_with_header(blob, kdf="argon2id"), PASSPHRASE, TRUSTED)
    assert caught.value.code == "bundle_kdf" and "argon2id" in caught.value.message("en")
