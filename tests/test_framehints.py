"""Issue 12, point 5: why a camera frame gave no code (the screen's advice), and the sheet found in a frame."""

from __future__ import annotations

import io

import segno
from PIL import Image, ImageFilter

from paperlink.decode import decode_frame
from paperlink.framehints import HINT_TEXTS, FrameHint, frame_hint, sheet_box


def _frame(scale: float, blur: float = 0) -> Image.Image:
    """A 1280×720 frame with a paperlink-sized QR code of `scale` pixels per module on a grey desk."""
    buffer = io.BytesIO()
    segno.make("PL1:" + "A" * 300, error="m", micro=False).save(buffer, kind="png", scale=4, border=4)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    side = round(code.width * scale / 4)
    code = code.resize((side, side), Image.Resampling.BILINEAR)
    frame = Image.new("L", (1280, 720), 200)
    frame.paste(code, (300, 100))
    return frame.filter(ImageFilter.GaussianBlur(blur)) if blur else frame


def test_a_far_away_code_asks_to_come_closer() -> None:
    frame = _frame(0.7)
    assert decode_frame(frame) == []
    assert frame_hint(frame) is FrameHint.CLOSER


def test_a_blurred_code_asks_for_focus() -> None:
    frame = _frame(4, blur=3)
    assert decode_frame(frame) == []
    assert frame_hint(frame) is FrameHint.FOCUS


def test_a_dark_frame_asks_for_light_and_an_empty_one_for_a_code() -> None:
    assert frame_hint(Image.new("L", (1280, 720), 20)) is FrameHint.LIGHT
    assert frame_hint(Image.new("L", (1280, 720), 180)) is FrameHint.NONE
    assert set(HINT_TEXTS) == set(FrameHint)
    assert "近づけて" in HINT_TEXTS[FrameHint.CLOSER] and "明るく" in HINT_TEXTS[FrameHint.LIGHT]
    assert "ピントを合わせて" in HINT_TEXTS[FrameHint.FOCUS]


def test_the_sheet_is_found_on_a_dark_desk() -> None:
    frame = Image.new("L", (1280, 720), 70)
    frame.paste(Image.new("L", (500, 700), 250), (400, 10))
    left, top, right, bottom = sheet_box(frame) or (0, 0, 0, 0)
    assert 380 <= left <= 400 and 900 <= right <= 920 and top <= 10 and bottom >= 700
    assert sheet_box(Image.new("L", (1280, 720), 250)) is None  # all paper: nothing to crop
