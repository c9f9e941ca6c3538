"""Reading QR codes back from images: `decode(image) -> list[DecodedCode]` and `decode_frame(image)`.

Every backend is one small function `gray array -> list[_Found]` with a lazy import, tried in a fixed
order; the chain stops at the first stage that finds a code. `decode` (files and scans) runs the whole
chain, `decode_frame` (webcam frames, one every 100 ms) only its cheap first stages.

The order was chosen from `benchmarks/decode.py` (corpus: 20 sheets printed by paperlink, rasterised
at 300 dpi, 15 page degradations plus renderings at 150/100 dpi = 340 pages, and simulated 1280×720
webcam frames; numbers from runs on this machine, 2 cores). Issue 14 then added `zxing_code_enlarged`
and `zxing_smoothed` to both chains for photographs (see "Photos" below); on this corpus they read
nothing the stages before them miss and change no figure below beyond noise (checked with `--quick`):

- zxing-cpp (QR only, default local-average binariser) reads 97.1 % of the pages and 73.5 % of the frames
  at 12 ms a 300-dpi page and 7 ms a frame. It is the first stage of both chains.
- Pages it misses are all red-stamp pages (the stamp, gray after scanning, covers a finder pattern):
  pyzbar reads 10 of those 10 (134 ms), the enlarged code crop 3, zxing on a half-size copy 1 (17 ms),
  sharpening 1 (138 ms); the global-histogram binariser and the upscale+threshold stage read none.
  Hence, for pages: zxing -> zxing_half (cheap) -> pyzbar -> zxing_code_upscaled -> zxing_sharpened
  -> zxing_upscaled_threshold: 100 % of the pages, median 1.04x one bare zxing call. pyzbar is not
  installed on Windows (its DLL needs a runtime Windows lacks), so `zxing_ink` (the print alone, the
  stamp's gray thresholded away) now runs before it and reads the stamped pages without it: see
  `zxing_ink` for its figures. The last three
  stages read nothing more on pages; they stay because files also hold camera pictures, where they
  are what reads (see frames).
- Of the 53 of 200 frames it misses (the corpus blurs up to σ 2 px at ~3 px a module, with sensor
  noise and MJPEG), the enlarged code crop (`zxing_code_upscaled`: the most contrasted region, 1.5×
  bicubic, unsharp mask radius 4 px / 250 %, zxing without its downscaled passes) reads 46 (11 ms),
  the sharpened whole frame 37 (19 ms), upscale+threshold 11 (61 ms), half size 1, global histogram
  and pyzbar none. After the crop stage, sharpening reads 1 more and upscale+threshold none. Hence,
  for frames: zxing -> zxing_code_upscaled -> zxing_sharpened: 97.0 % of the frames (target 95 %),
  p95 35 ms and about 45 ms for a frame with no code (all three stages), within the 100 ms between
  frames; median 1.18x one bare zxing call, no wrong text. (Candidates measured on the 15 frames
  the former chain zxing -> sharpened -> upscale+threshold missed: whole-frame unsharp mask 2.5 px /
  350 % read 6, 3 px / 400 % 5, a median or Gaussian pre-filter then sharpening 3-4 at 32-140 ms,
  autocontrast/equalise 0-1, a 2× whole-frame upscale alone 0 and sharpened 7 at 105 ms, a 1×
  local threshold 0-1; the enlarged crop read 9 at a fifth of the whole-frame upscale's cost.)
- zxing's global-histogram binariser (the old fallback) read nothing either corpus missed, so it is
  in no chain; it stays in `BACKENDS` so the benchmark keeps measuring it.

Photos (issue 14, `benchmarks/photos.py`: generated photographs of segno codes of every version 1–40 and
level L/M/Q/H and of printed sheets, taken at an angle, curved, crumpled, under glare, faded, shaken, from
afar at 1.5–2 pixels a module, on coloured or textured paper and off screens): zxing-cpp alone read 89.2 %
of 380 photos of an earlier, easier calibration and 83.3 % of the 60 of the final `--quick` set. Of the
photos zxing misses, the new `zxing_code_enlarged` (the code crop enlarged 2×, no sharpening) reads the
most at the least cost (18 of 41 at 24 ms median on the 380; every `small` photo), so it runs right after
the two cheap stages, before pyzbar; `zxing_smoothed` (σ 1.2 px first) reads the screen photos whose pixel
grid and moiré defeat the other stages (9 of the 41, all screens; on the final set 2 frames main's frame
chain missed), so it ends the frame chain and runs after the crop stages in `decode`. Measured and left
out of both chains: local contrast normalisation (`zxing_normalised`) and CLAHE (`zxing_clahe`) read no
photo another stage did not; zxing on the whole image enlarged 2× read what the crop stage reads at twice
its cost; inversion (dark-mode screens) and mirroring (selfie cameras) need no stage, zxing-cpp tries both
itself (test_decode_photos). Final `--quick` set, 2 workers on a loaded 2-core machine: `decode()` 96.7 %
(main's chain also 96.7 %, without pyzbar as on Windows 95.0 %), `decode_frame()` 95.0 % (main's 91.7 %),
no wrong text; on photos bare zxing reads, `decode()` costs 1.07× and `decode_frame()` 0.99× a bare call
(median of per-photo ratios), p95 152 ms and 229 ms over all photos. Not reached: a set on which main's
chain reads ≤ 93 % – the final set is easier than that – and the remaining misses (a faded version-35 H
code, a version-18 code on dim coloured paper) are read by no stage. The whole-image filter stages work
on at most `FILTER_MAX_PIXELS` (larger images are reduced first).

Large images: no backend sees more than `MAX_PIXELS` pixels. A larger image (a 600-dpi or
100-megapixel scan) is first reduced by an integer factor (box average) until it fits, so a huge scan
costs a few hundred milliseconds, not minutes; a code whose modules are then smaller than about two
pixels will not read (a QR code printed by paperlink has 0.75 mm modules, which stay above 3 pixels on
an A4 page reduced to the cap). The 2× upscale stage only runs when the upscaled image still fits.

A backend that fails to load, for any reason (pyzbar without the zbar library, or – on Windows – its
DLL without the Visual C++ 2013 runtime, which raises FileNotFoundError; a zbar without binary mode) is
reported once through `logging.warning` and skipped; pyzbar is not even installed on Windows (see
pyproject.toml). `decoder_problem()`, checked when the screen starts, names the remedy when zxing-cpp
itself cannot load (the Visual C++ 2015–2022 redistributable, for its MSVCP140.dll). pyzbar always runs in binary mode: zbar
otherwise guesses Shift_JIS for byte segments and may change the text; its bytes are taken as
latin-1, so the text is exactly the bytes in the code.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from paperlink.errors import PaperlinkError

log = logging.getLogger(__name__)

Gray = npt.NDArray[np.uint8]
MAX_PIXELS = 16_000_000
"""Most pixels any backend sees (an A4 page at about 400 dpi); larger images are reduced first."""


class NoDecoder(PaperlinkError):
    """No QR decoder backend (zxing-cpp or pyzbar) could be loaded."""


@dataclass(frozen=True)
class DecodedCode:
    """One code found on one page: its text, symbology, page number (1-based) and position (x, y, w, h)."""

    text: str
    symbology: str
    page: int
    position: tuple[int, int, int, int] | None = None


class _Found(NamedTuple):
    """What a backend returns: the text and the bounding box in the coordinates of the image it was given."""

    text: str
    box: tuple[int, int, int, int]


Backend = Callable[[Gray], list[_Found]]


# -- optional modules ---------------------------------------------------------------------------------


_load_failures: dict[str, BaseException] = {}
"""Why a backend module could not be loaded, by module name (filled by `_module`)."""


@functools.cache
def _module(name: str) -> ModuleType | None:
    """The module, or None (reported once) when it cannot be loaded, for whatever reason.

    A backend fails to load in more ways than ImportError: on Windows, pyzbar's bundled libzbar-64.dll
    needs a Visual C++ 2013 runtime and its import raises FileNotFoundError; zxing-cpp without the
    Visual C++ 2015–2022 runtime raises ImportError ("DLL load failed"); a broken ctypes wrapper may
    raise anything. Each is reported once and the backend skipped; `decoder_problem` names the remedy.
    """
    try:
        return importlib.import_module(name)
    except Exception as exc:  # any load failure skips the backend; it is reported (below), not swallowed
        _load_failures[name] = exc
        log.warning("QR backend %s is not available and is skipped: %s: %s", name, type(exc).__name__, exc)
        return None


def _missing_runtime(exc: BaseException) -> bool:
    """Whether a load failure looks like a missing DLL (the module is installed, a library it needs is not)."""
    if isinstance(exc, ModuleNotFoundError):
        return False
    return isinstance(exc, OSError) or "DLL load failed" in str(exc) or ".dll" in str(exc).lower()


def decoder_problem() -> PaperlinkError | None:
    """Checked at start-up: None when zxing-cpp (the first stage of every chain) loads, else what to do.

    A missing Visual C++ runtime is named as such (installing zxing-cpp again would not help); with
    zxing-cpp absent but pyzbar working, scanning still runs, but slower and reading fewer frames.
    """
    if _module("zxingcpp") is not None:
        return None
    failure = _load_failures.get("zxingcpp")
    if failure is not None and _missing_runtime(failure):
        return NoDecoder("decoder_runtime_missing", detail=f"{type(failure).__name__}: {failure}")
    return NoDecoder("decoder_missing")


def _box(points: Sequence[tuple[float, float]], scale: float = 1.0) -> tuple[int, int, int, int]:
    xs = [p[0] / scale for p in points]
    ys = [p[1] / scale for p in points]
    return round(min(xs)), round(min(ys)), round(max(xs) - min(xs)), round(max(ys) - min(ys))


# -- image helpers ------------------------------------------------------------------------------------


def _gray(image: Any) -> Gray:
    """A 2-D uint8 array of a PIL image (any mode) or a numpy array (gray, RGB or RGBA)."""
    if isinstance(image, np.ndarray):
        if image.ndim == 2 and image.dtype == np.uint8:
            return image
        from PIL import Image

        image = Image.fromarray(image)
    return np.asarray(image if image.mode == "L" else image.convert("L"))


def _cap(gray: Gray, max_pixels: int = MAX_PIXELS) -> tuple[Gray, int]:
    """The image reduced by the smallest integer factor that brings it under `max_pixels`, and the factor."""
    factor = 1
    while gray.size / (factor * factor) > max_pixels:
        factor += 1
    if factor == 1:
        return gray, 1
    from PIL import Image

    return np.asarray(Image.fromarray(gray).reduce(factor)), factor


def _resize(gray: Gray, scale: float) -> Gray:
    from PIL import Image

    height, width = gray.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    method = Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.BOX
    return np.asarray(Image.fromarray(gray).resize(size, method))


def _sharpen(gray: Gray, radius: float = 2, percent: int = 150) -> Gray:
    from PIL import Image, ImageFilter

    return np.asarray(Image.fromarray(gray).filter(ImageFilter.UnsharpMask(radius=radius, percent=percent, threshold=0)))


def _textured_box(gray: Gray, block: int = 32, pad: int = 3) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the most contrasted part of the image (where a code is), or None if it is flat.

    The standard deviation of each `block`-pixel square (taken on a half-size copy, which averages sensor
    noise away) marks the squares at least half as contrasted as the most contrasted one; squares not
    surrounded by four such neighbours (a paper edge, a line of text) are dropped, unless nothing is left;
    the bounding box of the rest is widened by `pad` squares on each side and clipped to the image.
    """
    from PIL import Image

    half = block // 2
    small = np.asarray(Image.fromarray(gray).reduce(2), dtype=np.float32)
    rows, cols = small.shape[0] // half, small.shape[1] // half
    if rows < 3 or cols < 3:
        return None
    spread = small[: rows * half, : cols * half].reshape(rows, half, cols, half).std(axis=(1, 3))
    if spread.max() < 8:  # nothing but paper or desk
        return None
    marked = spread >= 0.5 * spread.max()
    inner = np.zeros_like(marked)
    inner[1:-1, 1:-1] = (marked[1:-1, 1:-1] & marked[:-2, 1:-1] & marked[2:, 1:-1]
                         & marked[1:-1, :-2] & marked[1:-1, 2:])
    ys, xs = np.nonzero(inner if inner.any() else marked)
    height, width = gray.shape
    return (max(0, (int(ys.min()) - pad) * block), min(height, (int(ys.max()) + 1 + pad) * block),
            max(0, (int(xs.min()) - pad) * block), min(width, (int(xs.max()) + 1 + pad) * block))


def textured_box(gray: Gray, pad: int = 3) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of where the decoder looks for a code (see `_textured_box`), or None."""
    return _textured_box(gray, pad=pad)


def _adaptive_threshold(gray: Gray, ratio: float = 0.1) -> Gray:
    """Bradley's local threshold: dark where a pixel is `ratio` below the mean of its window (1/24 of the short side)."""
    from PIL import Image, ImageFilter

    radius = max(7, min(gray.shape) // 48)
    mean = np.asarray(Image.fromarray(gray).filter(ImageFilter.BoxBlur(radius)), dtype=np.float32)
    return np.where(gray < mean * (1.0 - ratio), 0, 255).astype(np.uint8)


# -- backends -----------------------------------------------------------------------------------------


def _zxing(gray: Gray, binarizer: str = "LocalAverage", scale: float = 1.0, offset: tuple[int, int] = (0, 0),
           try_downscale: bool = True) -> list[_Found]:
    """zxing-cpp, QR only; boxes divided by `scale` and moved by `offset` (x, y) back to the caller's pixels."""
    zxingcpp = _module("zxingcpp")
    if zxingcpp is None:
        return []
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    results = zxingcpp.read_barcodes(gray, formats=formats, binarizer=getattr(zxingcpp.Binarizer, binarizer),
                                     try_downscale=try_downscale)
    found = []
    for r in results:
        p = r.position
        corners = [(q.x, q.y) for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
        x, y, w, h = _box(corners, scale)
        found.append(_Found(r.text, (x + offset[0], y + offset[1], w, h)))
    return found


def zxing_local(gray: Gray) -> list[_Found]:
    """zxing-cpp restricted to QR with its default local-average binariser."""
    return _zxing(gray)


def zxing_global(gray: Gray) -> list[_Found]:
    """zxing-cpp with the global-histogram binariser (helps with blur and low contrast)."""
    return _zxing(gray, "GlobalHistogram")


def zxing_sharpened(gray: Gray) -> list[_Found]:
    """zxing-cpp on an unsharp-masked copy (blurred scans and frames)."""
    return _zxing(_sharpen(gray))


def zxing_upscaled_threshold(gray: Gray) -> list[_Found]:
    """zxing-cpp on a 2× bicubic upscale (when it fits under MAX_PIXELS) binarised by a local threshold."""
    scale = 2.0 if gray.size * 4 <= MAX_PIXELS else 1.0
    big = _resize(gray, scale) if scale != 1.0 else gray
    return _zxing(_adaptive_threshold(big), "FixedThreshold", scale)


CROP_UPSCALE_MAX_PIXELS = 2_000_000
"""Largest crop `zxing_code_upscaled` enlarges (a code a third of a 720p frame crops to about 0.2 MP)."""


def zxing_code_upscaled(gray: Gray) -> list[_Found]:
    """zxing-cpp on the most contrasted region (the code), enlarged 1.5× (bicubic) and strongly unsharp-masked.

    For small blurred noisy codes (webcam frames): at about 3 pixels a module, a blur of σ 2 px leaves
    zxing too few clean pixels per module; enlarged and sharpened with a wide radius (4 px, 250 %) the
    module edges come back. Crops over `CROP_UPSCALE_MAX_PIXELS` are only sharpened. zxing's own
    downscaled passes are skipped (they would undo the enlargement).
    """
    found = _textured_box(gray)
    if found is None:
        return []
    top, bottom, left, right = found
    crop = gray[top:bottom, left:right]
    scale = 1.5 if crop.size <= CROP_UPSCALE_MAX_PIXELS else 1.0
    big = _resize(crop, scale) if scale != 1.0 else crop
    return _zxing(_sharpen(big, radius=4, percent=250), scale=scale, offset=(left, top), try_downscale=False)


INK_LEVEL = 0.3
"""Where `zxing_ink` cuts between the darkest ink and the paper: below 30 % of the way up is print."""


def zxing_ink(gray: Gray) -> list[_Found]:
    """zxing-cpp on the print alone: pixels darker than `INK_LEVEL` of the way from the darkest ink (0.5th
    percentile) to the paper (90th) are black, everything else white – a red stamp scanned in gray (90–110)
    and pale marks vanish, the black modules under them stay. This is what reads stamped pages where pyzbar
    is missing (Windows): 108 of 108 stamped pages (6 sheets × 6 stamps × 300/150/100 dpi; zxing and its
    half-size pass read 70, the former chain without pyzbar 102), at about 30 ms a 300-dpi page (zxing: 15 ms)."""
    from PIL import Image

    dark, paper = np.percentile(gray[::4, ::4], (0.5, 90))
    cut = float(dark + INK_LEVEL * (paper - dark))
    lut = [0 if level < cut else 255 for level in range(256)]
    return _zxing(np.asarray(Image.fromarray(gray).point(lut)), "FixedThreshold")


def zxing_half(gray: Gray) -> list[_Found]:
    """zxing-cpp on a half-size box-averaged copy (averages away noise and JPEG artefacts)."""
    return _zxing(_resize(gray, 0.5), scale=0.5)


def _normalised(gray: Gray, radius: int) -> Gray:
    """Local contrast normalisation: each pixel's distance from the mean of its (2 radius + 1)-pixel window,
    divided by the window's mean absolute deviation (plus a floor, so flat paper stays flat), mapped back to
    0–255 around 128. Box filters in Pillow (C), a few milliseconds a megapixel."""
    from PIL import Image, ImageFilter

    box = ImageFilter.BoxBlur(radius)
    mean = np.asarray(Image.fromarray(gray).filter(box), dtype=np.int16)
    distance = gray.astype(np.int16) - mean
    spread = np.asarray(Image.fromarray(np.abs(distance).astype(np.uint8)).filter(box), dtype=np.float32)
    out = 128 + 64 * distance / (spread + 4)
    return np.clip(out, 0, 255).astype(np.uint8)


FILTER_MAX_PIXELS = 4_000_000
"""Most pixels the whole-image filter stages (normalisation, CLAHE, smoothing) work on; larger images are reduced."""


def _filtered(gray: Gray, image_filter: Callable[[Gray], Gray]) -> list[_Found]:
    """zxing-cpp on `image_filter` of the image, reduced first (integer factor) to at most FILTER_MAX_PIXELS."""
    small, factor = _cap(gray, FILTER_MAX_PIXELS)
    return [_Found(f.text, _scaled(f.box, factor)) for f in _zxing(image_filter(small))]


def zxing_normalised(gray: Gray) -> list[_Found]:
    """zxing-cpp on a locally contrast-normalised copy (glare, faded print, uneven light, stained paper)."""
    return _filtered(gray, lambda g: _normalised(g, max(8, min(g.shape) // 40)))


def _clahe(gray: Gray, tiles: int = 8, clip: float = 3.0) -> Gray:
    """Contrast-limited adaptive histogram equalisation: each of `tiles`×`tiles` tiles equalised with its
    histogram clipped at `clip` times the mean bin (the excess spread evenly), and every pixel mapped by the
    bilinear blend of the four nearest tiles' mappings, so no tile edge shows."""
    height, width = gray.shape
    ty, tx = max(1, min(tiles, height // 16)), max(1, min(tiles, width // 16))
    rows = np.linspace(0, height, ty + 1).astype(int)
    cols = np.linspace(0, width, tx + 1).astype(int)
    luts = np.empty((ty, tx, 256), dtype=np.float32)
    for i in range(ty):
        for j in range(tx):
            tile = gray[rows[i]:rows[i + 1], cols[j]:cols[j + 1]]
            hist = np.bincount(tile.ravel(), minlength=256).astype(np.float32)
            limit = clip * tile.size / 256
            excess = np.maximum(hist - limit, 0).sum()
            hist = np.minimum(hist, limit) + excess / 256
            cdf = hist.cumsum()
            luts[i, j] = 255 * (cdf - cdf[0]) / max(float(cdf[-1] - cdf[0]), 1.0)
    # position of each pixel between tile centres
    fy = np.clip((np.arange(height) + 0.5) / (height / ty) - 0.5, 0, ty - 1)
    fx = np.clip((np.arange(width) + 0.5) / (width / tx) - 0.5, 0, tx - 1)
    y0, x0 = fy.astype(int), fx.astype(int)
    y1, x1 = np.minimum(y0 + 1, ty - 1), np.minimum(x0 + 1, tx - 1)
    wy, wx = (fy - y0)[:, None].astype(np.float32), (fx - x0)[None, :].astype(np.float32)
    flat = luts.reshape(-1)
    g = gray.astype(np.int32)

    def mapped(ys: npt.NDArray[np.intp], xs: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
        return flat.take((ys[:, None] * tx + xs[None, :]) * 256 + g)  # type: ignore[no-any-return]

    top = mapped(y0, x0) * (1 - wx) + mapped(y0, x1) * wx
    bottom = mapped(y1, x0) * (1 - wx) + mapped(y1, x1) * wx
    out: Gray = np.clip(top * (1 - wy) + bottom * wy, 0, 255).astype(np.uint8)
    return out


def zxing_clahe(gray: Gray) -> list[_Found]:
    """zxing-cpp on a CLAHE copy (8×8 tiles, clip 3): faded print, glare, uneven light."""
    return _filtered(gray, _clahe)


def zxing_smoothed(gray: Gray) -> list[_Found]:
    """zxing-cpp on a Gaussian-smoothed copy (σ 1.2 px): a screen's pixel grid and paper fibres averaged away."""
    from PIL import Image, ImageFilter

    return _filtered(gray, lambda g: np.asarray(Image.fromarray(g).filter(ImageFilter.GaussianBlur(1.2))))


def zxing_code_enlarged(gray: Gray) -> list[_Found]:
    """zxing-cpp on the most contrasted region enlarged 2× (bicubic, no sharpening): small codes, 1.5–2.5 px a module."""
    found = _textured_box(gray)
    if found is None:
        return []
    top, bottom, left, right = found
    crop = gray[top:bottom, left:right]
    if crop.size * 4 > MAX_PIXELS:
        return []
    return _zxing(_resize(crop, 2.0), scale=2.0, offset=(left, top), try_downscale=False)


def zxing_enlarged(gray: Gray) -> list[_Found]:
    """zxing-cpp on the whole image enlarged 2× (bicubic) when that fits under MAX_PIXELS."""
    if gray.size * 4 > MAX_PIXELS:
        return []
    return _zxing(_resize(gray, 2.0), scale=2.0, try_downscale=False)


@functools.cache
def _zbar_binary_config() -> tuple[int, int] | None:
    """(symbology, config) of zbar's `qrcode.binary` option, or None (reported once) if zbar lacks it."""
    wrapper = _module("pyzbar.wrapper")
    if wrapper is None:
        return None
    from ctypes import byref, c_int

    symbology, config, value = c_int(), c_int(), c_int()
    if wrapper.zbar_parse_config(b"qrcode.binary", byref(symbology), byref(config), byref(value)):
        log.warning("QR backend pyzbar is skipped: this zbar library has no binary mode (zbar >= 0.23 needed)")
        return None
    return symbology.value, config.value


def _zbar_scan_binary(gray: Gray) -> list[tuple[bytes, list[tuple[int, int]]]]:
    """zbar through pyzbar's ctypes wrapper, QR only, binary mode (for pyzbar releases without `binary=`)."""
    config = _zbar_binary_config()
    wrapper = _module("pyzbar.wrapper")
    if config is None or wrapper is None:
        return []
    from ctypes import c_ubyte, c_void_p, cast, string_at

    data = np.ascontiguousarray(gray).tobytes()
    pixels = (c_ubyte * len(data)).from_buffer_copy(data)  # kept alive until the scan is done
    height, width = gray.shape
    scanner = wrapper.zbar_image_scanner_create()
    image = wrapper.zbar_image_create()
    try:
        wrapper.zbar_image_scanner_set_config(scanner, 0, wrapper.ZBarConfig.CFG_ENABLE, 0)
        wrapper.zbar_image_scanner_set_config(scanner, config[0], wrapper.ZBarConfig.CFG_ENABLE, 1)
        wrapper.zbar_image_scanner_set_config(scanner, config[0], config[1], 1)
        wrapper.zbar_image_set_format(image, 808466521)  # fourcc 'Y800': 8-bit gray
        wrapper.zbar_image_set_size(image, width, height)
        wrapper.zbar_image_set_data(image, cast(pixels, c_void_p), len(pixels), None)
        wrapper.zbar_scan_image(scanner, image)
        found = []
        symbol = wrapper.zbar_image_first_symbol(image)
        while symbol:
            data = string_at(wrapper.zbar_symbol_get_data(symbol), wrapper.zbar_symbol_get_data_length(symbol))
            corners = [(wrapper.zbar_symbol_get_loc_x(symbol, i), wrapper.zbar_symbol_get_loc_y(symbol, i))
                       for i in range(wrapper.zbar_symbol_get_loc_size(symbol))]
            found.append((data, corners))
            symbol = wrapper.zbar_symbol_next(symbol)
        return found
    finally:
        wrapper.zbar_image_destroy(image)
        wrapper.zbar_image_scanner_destroy(scanner)


def pyzbar(gray: Gray) -> list[_Found]:
    """zbar (through pyzbar), QR only, in binary mode; the bytes are read as latin-1 so the text is exact."""
    module = _module("pyzbar.pyzbar")
    if module is None:
        return []
    if "binary" in inspect.signature(module.decode).parameters:
        hits = [(r.data, list(r.polygon)) for r in
                module.decode(gray, symbols=[module.ZBarSymbol.QRCODE], binary=True)]
    else:
        hits = _zbar_scan_binary(gray)
    return [_Found(data.decode("latin-1"), _box(corners)) for data, corners in hits if corners]


BACKENDS: dict[str, Backend] = {
    "zxing": zxing_local,
    "zxing_global": zxing_global,
    "zxing_sharpened": zxing_sharpened,
    "zxing_upscaled_threshold": zxing_upscaled_threshold,
    "zxing_half": zxing_half,
    "zxing_code_upscaled": zxing_code_upscaled,
    "zxing_ink": zxing_ink,
    "pyzbar": pyzbar,
    "zxing_normalised": zxing_normalised,
    "zxing_smoothed": zxing_smoothed,
    "zxing_clahe": zxing_clahe,
    "zxing_code_enlarged": zxing_code_enlarged,
    "zxing_enlarged": zxing_enlarged,
}
"""Every backend by name (the benchmark measures each one alone)."""

CHAIN: tuple[str, ...] = ("zxing", "zxing_half", "zxing_ink", "zxing_code_enlarged", "pyzbar", "zxing_code_upscaled",
                          "zxing_smoothed", "zxing_sharpened", "zxing_upscaled_threshold")
"""The stages of `decode`, in order (see the module docstring for the measurements behind it)."""

FRAME_CHAIN: tuple[str, ...] = ("zxing", "zxing_code_upscaled", "zxing_code_enlarged", "zxing_sharpened", "zxing_smoothed")
"""The stages of `decode_frame`: only the cheap ones, a webcam sends the next frame in 100 ms."""


# -- the chain ----------------------------------------------------------------------------------------


def usable() -> bool:
    """Whether any decoder backend loads (zxing-cpp or pyzbar)."""
    return _module("zxingcpp") is not None or _module("pyzbar.pyzbar") is not None


def _require_a_backend() -> None:
    if _module("zxingcpp") is None and _module("pyzbar.pyzbar") is None:
        problem = decoder_problem()
        raise problem if problem is not None else NoDecoder("decoder_missing")


def run_chain(image: Any, stages: Sequence[str], page: int = 1) -> list[DecodedCode]:
    """The codes of the first stage (in `stages` order) that finds any; positions in the image's own pixels."""
    _require_a_backend()
    gray, factor = _cap(_gray(image))
    for name in stages:
        found = BACKENDS[name](gray)
        if found:
            return [DecodedCode(f.text, "QRCode", page, _scaled(f.box, factor)) for f in found]
    return []


def _scaled(box: tuple[int, int, int, int], factor: int) -> tuple[int, int, int, int]:
    x, y, w, h = box
    return x * factor, y * factor, w * factor, h * factor


def decode(image: Any, page: int = 1) -> list[DecodedCode]:
    """Every QR code in a PIL image or numpy array (gray, RGB or RGBA), trying the whole chain of backends."""
    return run_chain(image, CHAIN, page)


def decode_frame(image: Any) -> list[DecodedCode]:
    """The QR codes of one webcam frame, with the cheap stages only (`FRAME_CHAIN`)."""
    return run_chain(image, FRAME_CHAIN)
