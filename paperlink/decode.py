"""Reading QR codes back from images and PDFs: `decode(image) -> list[DecodedCode]`.

zxing-cpp (restricted to QR) is the decoder; when it finds nothing, the same image is tried again with
zxing-cpp's global-histogram binariser. The fuller decoder chain (more fallbacks, pyzbar, camera frames)
is measured and extended by the scanning work; every backend stays behind this one signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DecodedCode:
    """One code found on one page: its text, symbology, page number (1-based) and position (x, y, w, h)."""

    text: str
    symbology: str
    page: int
    position: tuple[int, int, int, int] | None = None


def _gray(image: Any) -> Any:
    import numpy as np

    if isinstance(image, np.ndarray):
        return image
    return np.asarray(image.convert("L"))


def decode(image: Any, page: int = 1) -> list[DecodedCode]:
    """Every QR code zxing-cpp finds in a PIL image or numpy array (gray or colour)."""
    import zxingcpp

    gray = _gray(image)
    qr = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    results = zxingcpp.read_barcodes(gray, formats=qr)
    if not results:
        results = zxingcpp.read_barcodes(gray, formats=qr, binarizer=zxingcpp.Binarizer.GlobalHistogram)
    found = []
    for r in results:
        tl, br = r.position.top_left, r.position.bottom_right
        box = (min(tl.x, br.x), min(tl.y, br.y), abs(br.x - tl.x), abs(br.y - tl.y))
        found.append(DecodedCode(r.text, "QRCode", page, box))
    return found
