"""The decoder on generated photographs of QR codes in real conditions (benchmarks/photos.py, issue 14).

Each stage added to the chain for photos is proven by a real generated photo that main's chain
(`photos.MAIN_CHAIN`) does not read and the stage does; the slow test runs `decode()` over a small
seeded sample of the benchmark's corpus.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from paperlink import decode as dec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import photos as P  # noqa: E402


def photo(condition: str, seed: int, versions: tuple[int, ...], ec: str = "M") -> tuple[Any, str]:
    """A segno code (a version drawn from `versions`) photographed under `condition`, from a fixed seed, the
    code half the frame's short side; and its text."""
    rng = random.Random(f"test/{condition}/{seed}")
    version = rng.choice(versions)
    source, text, ppm = P.segno_source(version, ec, rng)
    shot = P.shot_for(condition, rng)
    shot.fill = 0.5
    return P.photograph(source, ppm, source.shape[0] / ppm, shot, rng), text


def gray(image: Any) -> dec.Gray:
    return np.asarray(image.convert("L"))


def test_a_code_at_1_5_pixels_a_module_is_read_from_its_enlarged_crop() -> None:
    """GIVEN a version-8 code photographed from afar at 1.53 pixels a module (320×240, noise, JPEG)
    WHEN main's chain and the zxing_code_enlarged stage read it
    THEN main's chain finds nothing, the stage reads the exact text, and so does decode() and decode_frame()."""
    image, text = photo("small", 5, (4, 6, 8, 10, 12))
    assert image.size == (320, 240)
    assert dec.run_chain(image, P.MAIN_CHAIN) == []
    assert [f.text for f in dec.zxing_code_enlarged(gray(image))] == [text]
    assert [c.text for c in dec.decode(image)] == [text]
    assert [c.text for c in dec.decode_frame(image)] == [text]


@pytest.mark.slow
def test_a_screen_photo_is_read_by_the_frame_chain_once_its_pixel_grid_is_smoothed_away() -> None:
    """GIVEN the benchmark's photo of a version-20 code on a screen (4 screen pixels a module, RGB stripes,
    moiré), 788×591
    WHEN main's frame chain and the zxing_smoothed stage read it
    THEN main's frame chain finds nothing, the stage (σ 1.2 px Gaussian first) reads the exact text, and so
    does decode_frame()."""
    job = P.Job("screen", "segno", 20, "L", 19)
    image, (text,) = P.make(job, 2)
    assert image.size == (788, 591)
    assert dec.run_chain(image, P.MAIN_FRAME_CHAIN) == []
    assert [f.text for f in dec.zxing_smoothed(gray(image))] == [text]
    assert [c.text for c in dec.decode_frame(image)] == [text]


def test_inverted_and_mirrored_codes_need_no_stage_of_their_own() -> None:
    """GIVEN a code shown in dark mode (light modules on black) and seen through a selfie camera (mirrored)
    WHEN zxing-cpp alone reads it
    THEN the exact text comes back: zxing-cpp tries both itself, so the chain has no inversion or mirror stage."""
    source, text, _ = P.segno_source(7, "Q", random.Random(3))
    image = np.ascontiguousarray(255 - source[:, ::-1]).astype(np.uint8)
    assert [f.text for f in dec.zxing_local(image)] == [text]
    assert "inverted" not in " ".join(dec.CHAIN) and "mirror" not in " ".join(dec.CHAIN)


def test_filter_stages_reduce_huge_images_first() -> None:
    """GIVEN a 16-megapixel blank page (the most any backend is given)
    WHEN the whole-image filter stages run on it
    THEN each answers 'nothing' having filtered at most FILTER_MAX_PIXELS (checked by a spy on zxing)."""
    seen: list[int] = []
    real = dec._zxing

    def spy(image: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(image.size)
        return real(image, *args, **kwargs)

    blank = np.full((4000, 4000), 240, dtype=np.uint8)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dec, "_zxing", spy)
        for name in ("zxing_normalised", "zxing_smoothed", "zxing_clahe"):
            assert dec.BACKENDS[name](blank) == []
    assert seen and max(seen) <= dec.FILTER_MAX_PIXELS


@pytest.mark.slow
def test_a_seeded_sample_of_the_photo_benchmark_reads_with_no_wrong_text() -> None:
    """GIVEN every eighth photo of the benchmark's quick corpus (segno codes of versions 1, 9, 17, 25
    and 33 and printed sheets, under five of the ten conditions), generated from their fixed seeds
    WHEN each is decoded with decode()
    THEN every one gives its exact text (all eight did when this was written) and none gives any other text."""
    corpus = P.jobs(quick=True, sheets=2)[::8]
    read = 0
    for job in corpus:
        image, texts = P.make(job, 2)
        found = [c.text for c in dec.decode(image)]
        assert all(text in texts for text in found), (job, found)
        read += any(text in texts for text in found)
    assert read == len(corpus), f"{read} of {len(corpus)}"
