"""The baseline for the print benchmark: reportlab alone drawing N A4 pages with one QR code and a little text each.

Usage: python benchmarks/bare_reportlab.py N OUT.pdf PAYLOAD_FILE   (payload texts one per line)
"""

from __future__ import annotations

import sys

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas


def main() -> None:
    count, out, payload_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(payload_file) as handle:
        texts = handle.read().splitlines()
    c = canvas.Canvas(out, pagesize=A4)
    for i in range(count):
        text = texts[i % len(texts)]
        qr = segno.make_qr(text, error="m", boost_error=False)
        module = 0.75 * mm
        path = c.beginPath()
        size = len(qr.matrix)
        for y, row in enumerate(qr.matrix):  # one rectangle per run of dark modules, as a careful script would
            x = 0
            while x < size:
                if row[x]:
                    start = x
                    while x < size and row[x]:
                        x += 1
                    path.rect(20 * mm + start * module, 100 * mm + (size - y) * module, (x - start) * module, module)
                else:
                    x += 1
        c.drawPath(path, stroke=0, fill=1)
        c.setFont("Helvetica", 12)
        c.drawString(20 * mm, 270 * mm, f"sheet {i + 1}/{count}")
        c.showPage()
    c.save()


if __name__ == "__main__":
    main()
