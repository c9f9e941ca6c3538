"""The decoder chain on real renderings of paperlink's own sheets, degraded as a scanner or a webcam would."""

from __future__ import annotations

import importlib
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segno
from PIL import Image, ImageFilter

from paperlink import decode as dec
from paperlink.payload import MANIFEST_PREFIX, ManifestPayload, SheetPayload

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import degrade as D  # noqa: E402

SHEETS = 3
HEAVY = {"noise", "uneven_light", "scanner", "perspective"}
"""Degradations whose per-pixel work makes a case take half a second or more: run in the full suite only."""


def kinds(names: list[str]) -> list[Any]:
    """The degradation names as parameters, the HEAVY ones marked slow (left out of the fast loop)."""
    return [pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name for name in names]


@pytest.fixture(scope="module")
def batch() -> D.SampleBatch:
    """Three sample notices printed by print_batch (self-tested) with a throwaway key."""
    return D.sample_batch(SHEETS, seed=23)


@pytest.fixture(scope="module")
def pages(batch: D.SampleBatch) -> dict[int, list[Image.Image]]:
    """The sheet pages (cover left out) rasterised once per dpi: {300: [...], 150: [...], 100: [...]}."""
    return {dpi: D.rasterise(batch.pdf, dpi, batch.cover_pages) for dpi in (300, 150, 100)}


@pytest.fixture(scope="module")
def boxes(pages: dict[int, list[Image.Image]]) -> list[D.Box]:
    """Where the code is on each 300-dpi sheet."""
    return [D.locate_code(page) for page in pages[300]]


@pytest.fixture
def fresh_backends() -> Any:
    """The backend import cache emptied before and after the test (imports may be faked in between)."""
    dec._module.cache_clear()
    dec._zbar_binary_config.cache_clear()
    yield
    dec._module.cache_clear()
    dec._zbar_binary_config.cache_clear()


def assert_exact(codes: list[dec.DecodedCode], batch: D.SampleBatch, sheet: int) -> None:
    """The codes hold exactly the sheet's printed text, and it verifies back to the sheet's notice."""
    spec = batch.sheets[sheet]
    assert [c.text for c in codes] == list(spec.qr_texts)
    payload = SheetPayload.from_text(codes[0].text)
    payload.verify(batch.trusted)
    assert payload.notice == spec.notice and payload.seq == spec.seq


# -- degraded pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", kinds(list(D.DEGRADATIONS)))
def test_degraded_300_dpi_sheet_gives_back_the_exact_record(kind: str, batch, pages, boxes) -> None:
    """GIVEN a sheet rasterised at 300 dpi and degraded as `kind`
    WHEN the page is decoded with the full chain
    THEN the one code read is the sheet's exact text and verifies to its notice."""
    sheet = len(kind) % SHEETS
    image = D.degrade(kind, pages[300][sheet], boxes[sheet], seed=sheet)
    assert_exact(dec.decode(image, page=4), batch, sheet)


@pytest.mark.parametrize("dpi", [150, pytest.param(100, marks=pytest.mark.slow)])
@pytest.mark.parametrize("kind", kinds(["rotate_small", "rotate_90", "skew", "perspective", "blur", "jpeg", "noise",
                                        "uneven_light", "stamp", "fold"]))
def test_degraded_sheet_rescanned_at_low_dpi_still_reads(kind: str, dpi: int, batch, pages, boxes) -> None:
    """GIVEN a 300-dpi sheet degraded as `kind`, then resampled to 150 or 100 dpi
    WHEN it is decoded
    THEN the exact record comes back."""
    sheet = (len(kind) + dpi) % SHEETS
    image = D.degrade(kind, pages[300][sheet], boxes[sheet], seed=dpi)
    assert_exact(dec.decode(D.resample(dpi)(image, None, boxes[sheet])), batch, sheet)  # type: ignore[arg-type]


@pytest.mark.parametrize("dpi", [300, 150, 100])
def test_sheets_rendered_at_each_dpi_all_read(dpi: int, batch, pages) -> None:
    """GIVEN every sheet rasterised by pdfium at 300, 150 and 100 dpi
    WHEN each is decoded
    THEN each gives its exact record, on the page number it was given."""
    for sheet, image in enumerate(pages[dpi]):
        codes = dec.decode(image, page=sheet + 2)
        assert_exact(codes, batch, sheet)
        assert codes[0].page == sheet + 2 and codes[0].symbology == "QRCode"


def test_position_is_reported_in_the_pixels_of_the_image_given(pages, boxes) -> None:
    """GIVEN a clean 300-dpi sheet whose code box is known
    WHEN it is decoded
    THEN the reported position is that box, within a few pixels."""
    (code,) = dec.decode(pages[300][0])
    assert code.position is not None
    assert all(abs(a - b) <= 6 for a, b in zip(code.position, boxes[0], strict=True))


def test_colour_numpy_input_is_read_like_a_gray_image(batch, pages) -> None:
    """GIVEN a sheet as an RGB numpy array (a colour scan)
    WHEN decoded
    THEN the exact record comes back."""
    rgb = np.asarray(pages[150][1].convert("RGB"))
    assert_exact(dec.decode(rgb), batch, 1)


# -- webcam frames ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_webcam_frames_read_with_the_cheap_chain(batch, pages, boxes) -> None:
    """GIVEN twenty 1280x720 webcam frames of the sheets (code a third of the height, tilted, blurred, noisy)
    WHEN each is decoded with decode_frame
    THEN at least 95 % give their exact record (the hardest blur may miss; the next frame is 100 ms away)
    AND no frame gives any other text."""
    read = 0
    for seed in range(20):
        sheet = seed % SHEETS
        frame = D.webcam_frame(pages[300][sheet], boxes[sheet], seed)
        assert frame.size == D.FRAME_SIZE
        codes = dec.decode_frame(frame)
        if codes:
            assert_exact(codes, batch, sheet)
            read += 1
    assert read >= 19


def test_blurred_small_code_is_read_from_its_enlarged_crop_at_its_frame_position(batch, pages, boxes) -> None:
    """GIVEN a code 240 px high pasted at a known place on a 1280x720 desk, blurred (σ 1.8 px) and noisy
    WHEN the zxing_code_upscaled stage reads it (crop around the code, 1.5x, strong unsharp mask)
    THEN the text is the sheet's exact text and the box is in the frame's pixels, where the code was put."""
    x, y, w, h = boxes[1]
    margin = w // 4
    region = pages[300][1].crop((x - margin, y - margin, x + w + margin, y + h + margin))
    scale = 240 / h
    region = region.resize((round(region.width * scale), round(region.height * scale)), Image.Resampling.LANCZOS)
    frame = Image.new("L", D.FRAME_SIZE, 90)
    frame.paste(region, (800, 300))
    pixels = np.asarray(frame.filter(ImageFilter.GaussianBlur(1.8)), dtype=np.float32)
    noisy = np.clip(pixels + np.random.default_rng(5).normal(0, 8, pixels.shape), 0, 255).astype(np.uint8)
    found = dec.zxing_code_upscaled(noisy)
    assert [f.text for f in found] == list(batch.sheets[1].qr_texts)
    expected = (800 + margin * scale, 300 + margin * scale, w * scale, h * scale)
    assert all(abs(a - b) <= 8 for a, b in zip(found[0].box, expected, strict=True))


def test_decode_frame_runs_only_the_cheap_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a blank frame (nothing to find), with every backend's call recorded
    WHEN decode_frame is run
    THEN only the FRAME_CHAIN stages were tried, not the slow fallbacks."""
    called: list[str] = []
    for name, fn in list(dec.BACKENDS.items()):
        monkeypatch.setitem(dec.BACKENDS, name, lambda gray, name=name, fn=fn: called.append(name) or fn(gray))
    assert dec.decode_frame(np.full((720, 1280), 200, dtype=np.uint8)) == []
    assert called == list(dec.FRAME_CHAIN)
    assert "pyzbar" not in dec.FRAME_CHAIN


# -- several codes, large images ----------------------------------------------------------------------


def test_two_sheets_side_by_side_give_both_codes(batch, pages) -> None:
    """GIVEN two 150-dpi sheets tiled side by side on one image
    WHEN decoded
    THEN both exact texts come back, each at its own position."""
    left, right = pages[150][0], pages[150][2]
    tiled = Image.new("L", (left.width + right.width, left.height), 255)
    tiled.paste(left, (0, 0))
    tiled.paste(right, (left.width, 0))
    codes = dec.decode(tiled)
    assert sorted(c.text for c in codes) == sorted(batch.sheets[0].qr_texts + batch.sheets[2].qr_texts)
    xs = sorted(c.position[0] for c in codes if c.position)
    assert xs[0] < left.width <= xs[1]


def test_cover_page_manifest_reads(batch) -> None:
    """GIVEN the batch cover page at 150 dpi
    WHEN decoded
    THEN its manifest code is read (the cover carries the whole batch)."""
    (cover,) = D.rasterise(batch.pdf, 150, 0, batch.cover_pages)
    texts = [c.text for c in dec.decode(cover)]
    assert texts and all(text.startswith(MANIFEST_PREFIX) for text in texts)
    ManifestPayload.from_text(texts[0]).verify(batch.trusted)


def test_100_megapixel_scan_is_reduced_and_read_in_bounded_time(batch, pages) -> None:
    """GIVEN a 10000x10000 (100-megapixel) white scan with a 300-dpi sheet pasted in
    WHEN decoded
    THEN it is read within 5 s (reduced under MAX_PIXELS first) and its position is in the big image's pixels."""
    big = np.full((10_000, 10_000), 255, dtype=np.uint8)
    page = np.asarray(pages[300][1])
    big[4000:4000 + page.shape[0], 5000:5000 + page.shape[1]] = page
    start = time.perf_counter()
    codes = dec.decode(big)
    assert time.perf_counter() - start < 5
    assert_exact(codes, batch, 1)
    assert codes[0].position is not None and codes[0].position[0] > 5000 and codes[0].position[1] > 6000


def test_100_megapixel_blank_scan_fails_within_bounded_time() -> None:
    """GIVEN a 100-megapixel scan with nothing on it
    WHEN decoded (every stage of the chain runs)
    THEN the answer is 'no code' within 10 s."""
    start = time.perf_counter()
    assert dec.decode(np.full((10_000, 10_000), 250, dtype=np.uint8)) == []
    assert time.perf_counter() - start < 10


# -- backends -----------------------------------------------------------------------------------------


@pytest.mark.pyzbar
def test_pyzbar_runs_in_binary_mode_and_keeps_bytes_exact() -> None:
    """GIVEN a QR code whose byte segment is not ASCII (bytes zbar would otherwise read as Shift_JIS)
    WHEN it is read by the pyzbar backend
    THEN the text is exactly those bytes taken as latin-1."""
    data = b"\x82\xa0PL\x93\xfa"
    pixels = np.kron(np.pad(1 - np.array(segno.make_qr(data).matrix, dtype=np.uint8), 4, constant_values=1) * 255,
                     np.ones((6, 6), dtype=np.uint8)).astype(np.uint8)
    assert [f.text for f in dec.pyzbar(pixels)] == [data.decode("latin-1")]


def _fail_import(monkeypatch: pytest.MonkeyPatch, *missing: str) -> None:
    real = importlib.import_module

    def fake(name: str, package: str | None = None) -> Any:
        if name.split(".")[0] in missing:
            raise ImportError(f"Unable to find {name} (simulated)")
        return real(name, package)

    monkeypatch.setattr(dec.importlib, "import_module", fake)


@pytest.mark.usefixtures("fresh_backends")
def test_missing_pyzbar_is_reported_once_and_zxing_still_reads(monkeypatch, caplog, batch, pages) -> None:
    """GIVEN pyzbar cannot be imported (no zbar library)
    WHEN a blank page (whole chain runs) and then a sheet are decoded, twice each
    THEN one warning names pyzbar, nothing crashes, and the sheet is still read by zxing-cpp."""
    _fail_import(monkeypatch, "pyzbar")
    blank = np.full((1200, 900), 255, dtype=np.uint8)
    with caplog.at_level(logging.WARNING, logger="paperlink.decode"):
        for _ in range(2):
            assert dec.decode(blank) == []
            assert_exact(dec.decode(pages[100][0]), batch, 0)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "pyzbar" in warnings[0].getMessage()


@pytest.mark.pyzbar
@pytest.mark.usefixtures("fresh_backends")
def test_missing_zxing_falls_back_to_pyzbar(monkeypatch, caplog, batch, pages) -> None:
    """GIVEN zxing-cpp cannot be imported
    WHEN a sheet is decoded twice
    THEN pyzbar reads it, and zxing-cpp's absence is reported once."""
    _fail_import(monkeypatch, "zxingcpp")
    with caplog.at_level(logging.WARNING, logger="paperlink.decode"):
        for _ in range(2):
            assert_exact(dec.decode(pages[150][2]), batch, 2)
    assert [r.getMessage().split()[2] for r in caplog.records if r.levelno == logging.WARNING] == ["zxingcpp"]


@pytest.mark.usefixtures("fresh_backends")
@pytest.mark.slow
@pytest.mark.parametrize("dpi", [300, 150, 100])
def test_stamped_sheets_read_without_pyzbar(monkeypatch, dpi: int, batch, pages, boxes) -> None:
    """GIVEN pyzbar cannot load (as on Windows, where it is not installed)
    WHEN sheets with a red stamp over a finder pattern, scanned in gray, are decoded
    THEN zxing on the print alone (`zxing_ink`) reads every one exactly – pyzbar used to be what read them."""
    _fail_import(monkeypatch, "pyzbar")
    for sheet in range(SHEETS):
        for seed in (dpi, 7):
            image = D.degrade("stamp", pages[300][sheet], boxes[sheet], seed=seed)
            if dpi != 300:
                image = D.resample(dpi)(image, None, boxes[sheet])  # type: ignore[arg-type]
            assert_exact(dec.decode(image), batch, sheet)


@pytest.mark.usefixtures("fresh_backends")
def test_no_backend_at_all_is_a_clear_error(monkeypatch, pages) -> None:
    """GIVEN neither zxing-cpp nor pyzbar can be imported
    WHEN a page is decoded
    THEN NoDecoder says so (instead of reporting every page as unreadable)."""
    _fail_import(monkeypatch, "zxingcpp", "pyzbar")
    with pytest.raises(dec.NoDecoder, match="zxing-cpp"):
        dec.decode(pages[100][0])
