"""What a camera frame without a readable code shows, so the screen can tell the clerk what to change; and
where the sheet lies in a frame, so its snapshot is cropped to the paper.

`frame_hint` looks at the frame the way the decoder did: a dark frame means "more light"; a QR symbol
located but not decoded and small in the frame means "closer", large enough means "focus"; otherwise the
decoder's most contrasted region (where it looks for a code) decides: small means "closer", soft edges in
it mean "focus", and a flat frame or a sharp region without a code means no code is in view.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import numpy as np

DARK_MEAN = 55
"""Mean brightness (0–255) under which a frame is too dark to read."""
SMALL_SIDE = 0.22
"""A located code whose side is under this share of the frame's shorter side is too far away."""
SOFT_EDGES = 0.2
"""A frame whose steepest edges are under this share of its contrast is out of focus (or moving)."""


class FrameHint(StrEnum):
    """Why a frame gave no code (the screen words each in Japanese)."""

    CLOSER = "closer"
    LIGHT = "light"
    FOCUS = "focus"
    NONE = "none"


HINT_TEXTS = {
    FrameHint.CLOSER: "QR コードが小さすぎます。用紙をカメラに近づけてください。",
    FrameHint.LIGHT: "暗すぎます。明るくしてください（照明をつける・用紙を光に向ける）。",
    FrameHint.FOCUS: "ぼやけています。用紙を止めて、ピントを合わせてください。",
    FrameHint.NONE: "QR コードが見えません。用紙の QR コードを枠の中に入れてください。",
}


def _gray(image: Any) -> np.ndarray:
    picture = image.convert("L")
    if picture.width > 960:
        picture = picture.resize((960, round(picture.height * 960 / picture.width)))
    return np.asarray(picture, dtype=np.float32)


def _sharpness(gray: np.ndarray) -> float:
    """The steepest edges (99.9th percentile of the step between neighbouring pixels) as a share of the
    frame's contrast: about 0.5 or more when in focus, under 0.2 when blurred."""
    contrast = float(np.percentile(gray, 99.5) - np.percentile(gray, 0.5))
    if contrast < 30:
        return 0.0
    steps = np.concatenate([np.abs(np.diff(gray, axis=0)).ravel(), np.abs(np.diff(gray, axis=1)).ravel()])
    return float(np.percentile(steps, 99.9)) / contrast


def frame_hint(image: Any) -> FrameHint:
    """Why this frame gave no code."""
    import zxingcpp

    gray = _gray(image)
    if float(gray.mean()) < DARK_MEAN:
        return FrameHint.LIGHT
    located = zxingcpp.read_barcodes(gray.astype(np.uint8), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
                                     return_errors=True)
    shorter = min(gray.shape)
    for symbol in located:
        p = symbol.position
        xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
        ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
        side = max(max(xs) - min(xs), max(ys) - min(ys))
        return FrameHint.CLOSER if side < SMALL_SIDE * shorter else FrameHint.FOCUS
    from paperlink.decode import textured_box

    textured = textured_box(gray.astype(np.uint8), pad=0)  # where the decoder would look for a code
    if textured is None:
        return FrameHint.NONE  # a flat frame: nothing in view
    top, bottom, left, right = textured
    if max(bottom - top, right - left) < SMALL_SIDE * shorter:
        return FrameHint.CLOSER
    region = gray[max(0, top - 16):bottom + 16, max(0, left - 16):right + 16]
    if _sharpness(region) < SOFT_EDGES:
        return FrameHint.FOCUS
    return FrameHint.NONE


def sheet_box(image: Any, margin: int = 12) -> tuple[int, int, int, int] | None:
    """The box (left, top, right, bottom) of the bright sheet in a camera frame, or None when no sheet
    stands out from its background (then the whole frame is kept)."""
    factor = 4  # a quarter of the frame is plenty to find a sheet, and 16 times quicker
    small = image.convert("L").reduce(factor)
    gray = np.asarray(small, dtype=np.uint8)
    height, width = gray.shape
    margin = max(1, margin // factor)
    dark, light = float(np.percentile(gray, 5)), float(np.percentile(gray, 95))
    if light - dark < 60:
        return None  # no paper standing out from a desk
    bright = gray >= (dark + light) / 2
    cols = np.flatnonzero(bright.mean(axis=0) > 0.25)
    rows = np.flatnonzero(bright.mean(axis=1) > 0.25)
    if cols.size == 0 or rows.size == 0:
        return None
    left, right = max(0, int(cols[0]) - margin), min(width, int(cols[-1]) + 1 + margin)
    top, bottom = max(0, int(rows[0]) - margin), min(height, int(rows[-1]) + 1 + margin)
    if (right - left) * (bottom - top) > 0.9 * width * height or right - left < width / 5 or bottom - top < height / 5:
        return None
    return (left * factor, top * factor, min(image.width, right * factor), min(image.height, bottom * factor))
