"""Deterministic degradations of rendered sheets, as a scanner or a webcam would spoil them.

Every degradation is `fn(image, rng, box) -> image`: `image` a gray PIL image of a sheet rasterised at
300 dpi (`PAGE_DPI`), `rng` a `random.Random` (the same seed gives the same image), `box` the QR code's
(x, y, w, h) in that image (`locate_code`), which the stamp and the fold need. `DEGRADATIONS` lists them
by name; `webcam_frame` makes a 1280×720 frame of the page region around the code. `sample_batch` and
`rasterise` print and rasterise sheets with paperlink itself, with a throwaway key.

Used by `benchmarks/decode.py` and `tests/test_decode.py` (which put this folder on sys.path).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Box = tuple[int, int, int, int]
Degradation = Callable[[Image.Image, random.Random, Box], Image.Image]
PAGE_DPI = 300
FRAME_SIZE = (1280, 720)
STAMP_FONT = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
WHITE = 255


# -- printing the sheets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleBatch:
    """A printed batch: PDF bytes, the sheet specs (notice and QR text of each sheet) and the public key."""

    pdf: bytes
    sheets: tuple  # type: ignore[type-arg]  # tuple[SheetSpec, ...]
    cover_pages: int
    trusted: dict  # type: ignore[type-arg]  # {key id: Ed25519PublicKey}


def sample_batch(count: int, seed: int = 11) -> SampleBatch:
    """`count` sample notices printed by `print_batch` (self-test included), signed with a throwaway key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from paperlink.keys import key_id
    from paperlink.printing import print_batch
    from paperlink.samples import SampleOptions, generate

    day = dt.date(2026, 11, 26)
    notices = generate(SampleOptions(count=count, seed=seed, notice_date=day))
    private = Ed25519PrivateKey.from_private_bytes(random.Random(seed).randbytes(32))
    result = print_batch(notices, private, batch_id="B20261126-TEST", printed_on=day)
    pages = page_count(result.pdf)
    public = private.public_key()
    return SampleBatch(result.pdf, result.sheets, pages - len(result.sheets), {key_id(public): public})


def page_count(pdf: bytes) -> int:
    """Number of pages of a PDF."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def rasterise(pdf: bytes, dpi: int = PAGE_DPI, first: int = 0, last: int | None = None) -> list[Image.Image]:
    """Pages first..last (0-based, last excluded) of a PDF as gray PIL images at `dpi`."""
    from paperlink.pages import rasterise_pdf

    pages = []
    for index, page in enumerate(rasterise_pdf(pdf, dpi)):
        if index >= first and (last is None or index < last):
            pages.append(page)
    return pages


def locate_code(image: Image.Image) -> Box:
    """The (x, y, w, h) of the one QR code on a clean rendering (found with zxing-cpp)."""
    import zxingcpp

    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    if len(results) != 1:
        raise ValueError(f"expected one QR code on the clean page, found {len(results)}")
    p = results[0].position
    xs = [q.x for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
    ys = [q.y for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


# -- helpers ------------------------------------------------------------------------------------------


def _np_rng(rng: random.Random) -> np.random.Generator:
    return np.random.default_rng(rng.getrandbits(64))


def _to_image(pixels: np.ndarray) -> Image.Image:  # type: ignore[type-arg]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def perspective_coeffs(dst: list[tuple[float, float]], src: list[tuple[float, float]]) -> list[float]:
    """PIL PERSPECTIVE coefficients mapping output points `dst` to input points `src` (4 pairs)."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    rhs = [c for point in src for c in point]
    return [float(c) for c in np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float))]


def _warp(image: Image.Image, offsets: list[tuple[float, float]], fill: int = WHITE) -> Image.Image:
    """The image with its corners moved by `offsets` (output corner = input corner + offset)."""
    w, h = image.size
    src = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]
    dst = [(x + dx, y + dy) for (x, y), (dx, dy) in zip(src, offsets, strict=True)]
    coeffs = perspective_coeffs(dst, src)
    return image.transform(image.size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC,
                           fillcolor=fill)


def _light_field(size: tuple[int, int], rng: random.Random, darkest: float, vignette: float) -> np.ndarray:  # type: ignore[type-arg]
    """A multiplicative light field: a linear gradient down to `darkest` in a random direction, and a vignette."""
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    along = (xs / w - 0.5) * math.cos(angle) + (ys / h - 0.5) * math.sin(angle)
    along = (along - along.min()) / max(float(along.max() - along.min()), 1e-6)
    field = 1.0 - (1.0 - darkest) * along
    radius = np.hypot(xs / w - 0.5, ys / h - 0.5) / math.hypot(0.5, 0.5)
    return field * (1.0 - vignette * radius**2)  # type: ignore[no-any-return]


# -- page degradations (300-dpi gray sheets) ----------------------------------------------------------


def clean(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """The rendering as it is."""
    return image


def rotate_small(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """A page laid slightly crooked on the glass: 0.5–4° either way."""
    angle = rng.uniform(0.5, 4.0) * rng.choice((-1, 1))
    return image.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=WHITE)


def rotate_90(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """A page fed sideways: 90° or 270°."""
    return image.transpose(rng.choice((Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270)))


def rotate_180(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """A page fed upside down."""
    return image.transpose(Image.Transpose.ROTATE_180)


def skew(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """A sheet dragged by the feeder: a horizontal shear of 1.5–4 %."""
    shear = rng.uniform(0.015, 0.04) * rng.choice((-1, 1))
    w, h = image.size
    return image.transform((w + int(abs(shear) * h), h), Image.Transform.AFFINE,
                           (1, shear, -abs(shear) * h if shear > 0 else 0, 0, 1, 0),
                           Image.Resampling.BICUBIC, fillcolor=WHITE)


def perspective(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """A page photographed or lifted off the glass: each corner moved up to 4 % of the page size."""
    w, h = image.size
    offsets = [(rng.uniform(-0.04, 0.04) * w, rng.uniform(-0.04, 0.04) * h) for _ in range(4)]
    return _warp(image, offsets)


def blur(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """Out of focus: a Gaussian blur of 1.5–3 px at 300 dpi (a module is about 9 px)."""
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 3.0)))


def jpeg(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """Saved as JPEG at quality 30–60."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=rng.randint(30, 60))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")


def resample(dpi: int) -> Degradation:
    """Scanned at `dpi` instead of 300 (area-averaged down-sampling)."""

    def degrade(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
        scale = dpi / PAGE_DPI
        return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BOX)

    degrade.__doc__ = f"Scanned at {dpi} dpi (area-averaged down-sampling from 300)."
    return degrade


def noise(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """Sensor noise: Gaussian, σ 12–30 grey levels."""
    pixels = np.asarray(image, dtype=np.float32)
    return _to_image(pixels + _np_rng(rng).normal(0, rng.uniform(12, 30), pixels.shape))


def uneven_light(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """Uneven lighting: a gradient down to 45–70 % brightness and a vignette."""
    field = _light_field(image.size, rng, rng.uniform(0.45, 0.7), rng.uniform(0.1, 0.3))
    return _to_image(np.asarray(image, dtype=np.float32) * field)


def _stamp_layer(diameter: int, rng: random.Random) -> Image.Image:
    """A red 受付 date stamp (RGBA): a ring, the word, a date bar."""
    size = diameter + 8
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    red = (rng.randint(190, 225), rng.randint(20, 60), rng.randint(30, 70), rng.randint(190, 235))
    ring = max(3, diameter // 28)
    draw.ellipse((4, 4, 4 + diameter, 4 + diameter), outline=red, width=ring)
    draw.line((4 + diameter * 0.1, 4 + diameter * 0.42, 4 + diameter * 0.9, 4 + diameter * 0.42), fill=red, width=ring)
    draw.line((4 + diameter * 0.1, 4 + diameter * 0.62, 4 + diameter * 0.9, 4 + diameter * 0.62), fill=red, width=ring)
    font = ImageFont.truetype(STAMP_FONT, max(8, diameter // 5))
    draw.text((size / 2, 4 + diameter * 0.25), "受付", fill=red, font=font, anchor="mm")
    draw.text((size / 2, 4 + diameter * 0.52), "8.11.27", fill=red, font=ImageFont.truetype(STAMP_FONT, max(6, diameter // 8)), anchor="mm")
    return layer.rotate(rng.uniform(-25, 25), Image.Resampling.BICUBIC)


def stamp(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """A red 受付 stamp (ring 20–25 mm) overlapping a corner or edge of the code, scanned in gray.

    Drawn in colour over the page (multiplied, like ink), then converted to gray with the ITU-R 601 luma
    weights a gray scanner uses: the red ink comes out mid-gray (about 90–110), not white.
    """
    x, y, w, h = box
    diameter = round(rng.uniform(20, 25) / 25.4 * PAGE_DPI)
    cx = x + rng.choice((rng.uniform(-0.1, 0.25), rng.uniform(0.75, 1.1))) * w
    cy = y + rng.uniform(-0.1, 1.1) * h
    layer = _stamp_layer(diameter, rng)
    page = image.convert("RGB")
    ink = Image.new("RGB", page.size, (255, 255, 255))
    ink.paste(layer, (round(cx - layer.width / 2), round(cy - layer.height / 2)), layer)
    mixed = np.asarray(page, dtype=np.float32) * np.asarray(ink, dtype=np.float32) / 255
    return _to_image(mixed).convert("L")


def fold(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """A fold across the code: a dark crease line 3–6 px wide and a 6–15 % brightness step on one side."""
    x, y, w, h = box
    pixels = np.asarray(image, dtype=np.float32).copy()
    vertical = rng.random() < 0.5
    at = round((x + rng.uniform(0.2, 0.8) * w) if vertical else (y + rng.uniform(0.2, 0.8) * h))
    width = rng.randint(3, 6)
    step = 1.0 - rng.uniform(0.06, 0.15)
    darkness = rng.uniform(0.45, 0.7)
    if vertical:
        pixels[:, at:] *= step
        pixels[:, at:at + width] *= darkness
    else:
        pixels[at:, :] *= step
        pixels[at:at + width, :] *= darkness
    return _to_image(pixels).filter(ImageFilter.GaussianBlur(0.7))


def scanner(image: Image.Image, rng: random.Random, box: Box) -> Image.Image:
    """An ordinary office scan: slightly crooked, 200 dpi, a little blur and noise, JPEG at quality 50–75."""
    page = image.rotate(rng.uniform(-2, 2), Image.Resampling.BICUBIC, expand=True, fillcolor=WHITE)
    page = page.resize((round(page.width * 2 / 3), round(page.height * 2 / 3)), Image.Resampling.BOX)
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.0)))
    pixels = np.asarray(page, dtype=np.float32)
    page = _to_image(pixels + _np_rng(rng).normal(0, 6, pixels.shape))
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=rng.randint(50, 75))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")


DEGRADATIONS: dict[str, Degradation] = {
    "clean": clean,
    "rotate_small": rotate_small,
    "rotate_90": rotate_90,
    "rotate_180": rotate_180,
    "skew": skew,
    "perspective": perspective,
    "blur": blur,
    "jpeg": jpeg,
    "dpi150": resample(150),
    "dpi100": resample(100),
    "noise": noise,
    "uneven_light": uneven_light,
    "stamp": stamp,
    "fold": fold,
    "scanner": scanner,
}


def degrade(name: str, image: Image.Image, box: Box, seed: int) -> Image.Image:
    """`DEGRADATIONS[name]` applied with its own RNG seeded by (name, seed)."""
    return DEGRADATIONS[name](image, random.Random(f"{name}/{seed}"), box)


# -- webcam frames ------------------------------------------------------------------------------------


def webcam_frame(image: Image.Image, box: Box, seed: int) -> Image.Image:
    """A 1280×720 gray webcam frame of the page region around the code, the code about a third of the height.

    The region (the code and about half a code's width of the sheet around it) is scaled so the code spans
    0.3–0.38 of the frame height, put on a darker desk at a random place, tilted by a random perspective
    (corners moved up to 5 % of the frame) and rotated up to ±8°, then blurred (σ 0.6–2 px), lit
    unevenly, given sensor noise (σ 3–12) and MJPEG-compressed at quality 70–85.
    """
    rng = random.Random(f"frame/{seed}")
    fw, fh = FRAME_SIZE
    x, y, w, h = box
    margin = 0.5 * max(w, h)
    region = image.crop((max(0, round(x - margin)), max(0, round(y - margin)),
                         min(image.width, round(x + w + margin)), min(image.height, round(y + h + margin))))
    scale = rng.uniform(0.3, 0.38) * fh / h
    region = region.resize((round(region.width * scale), round(region.height * scale)), Image.Resampling.LANCZOS)
    frame = Image.new("L", FRAME_SIZE, rng.randint(60, 120))
    code_x, code_y = (x - max(0, round(x - margin))) * scale, (y - max(0, round(y - margin))) * scale
    code_w, code_h = w * scale, h * scale
    left = rng.uniform(0.1 * fw, 0.9 * fw - code_w) - code_x
    top = rng.uniform(0.12 * fh, 0.88 * fh - code_h) - code_y
    frame.paste(region, (round(left), round(top)))
    frame = frame.rotate(rng.uniform(-8, 8), Image.Resampling.BICUBIC, center=(left + code_x + code_w / 2, top + code_y + code_h / 2),
                         fillcolor=80)
    frame = _warp(frame, [(rng.uniform(-0.05, 0.05) * fw, rng.uniform(-0.05, 0.05) * fh) for _ in range(4)], fill=80)
    frame = frame.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 2.0)))
    field = _light_field(FRAME_SIZE, rng, rng.uniform(0.55, 0.85), rng.uniform(0.15, 0.35))
    pixels = np.asarray(frame, dtype=np.float32) * field
    frame = _to_image(pixels + _np_rng(rng).normal(0, rng.uniform(3, 12), pixels.shape))
    buffer = io.BytesIO()
    frame.save(buffer, "JPEG", quality=rng.randint(70, 85))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")
