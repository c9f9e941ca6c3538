"""Print benchmark: `paperlink print` on 1000 sample notices against a bare reportlab script.

Prints: time and peak memory of `paperlink print` (self-test included), pages per second, the bare
reportlab time for the same number of pages with one QR each, and their ratio; the distribution of
payload lengths, QR versions (error correction M and Q) and code sizes in mm; and how often a code still
reads with a stamp over it, for M and Q.

    .venv/bin/python benchmarks/bench_print.py [--count 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time (s) and peak RSS (MiB) of one command in a fresh process."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            sys.exit(f"{' '.join(cmd)} failed:\n{err.read().decode()}")
    return elapsed, usage.ru_maxrss // 1024


def percentiles(values: list[float]) -> str:
    values = sorted(values)
    q = statistics.quantiles(values, n=20)
    return f"min {values[0]:g}  median {statistics.median(values):g}  p95 {q[18]:g}  max {values[-1]:g}"


def stamp_survival(texts: list[str], error: str, cover: float) -> float:
    """Share of codes that still decode with a dark round stamp covering `cover` of the code's width."""
    import numpy as np
    import segno
    from PIL import Image, ImageDraw

    from paperlink.decode import decode

    ok = 0
    for text in texts:
        matrix = np.array(segno.make_qr(text, error=error, boost_error=False).matrix, dtype=np.uint8)
        pixels = np.kron(np.pad(1 - matrix, 4, constant_values=1) * 255, np.ones((4, 4), dtype=np.uint8))
        image = Image.fromarray(pixels.astype(np.uint8), "L")
        draw = ImageDraw.Draw(image)
        w = image.width
        r = w * cover / 2
        cx, cy = w * 0.62, w * 0.58
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=60, width=max(3, int(r / 5)))
        draw.text((cx - r / 2, cy - 6), "受付", fill=60)
        ok += any(c.text == text for c in decode(image))
    return ok / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    import segno

    from paperlink.dataformat import read_notices
    from paperlink.home import Home
    from paperlink.keys import KeyStore
    from paperlink.payload import new_batch_id
    from paperlink.printing import sheet_specs
    from paperlink.sheets import Layout

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "PAPERLINK_HOME": str(work / "home")}
        notices_file = work / "notices.jsonl"
        subprocess.run([BIN / "paperlink", "samples", "--count", str(args.count), "--seed", "1",
                        "--date", "2026-11-26", "-o", notices_file], env=env, check=True, capture_output=True)
        subprocess.run([BIN / "paperlink", "keys", "init"], env=env, check=True, capture_output=True)
        print_time, print_rss = run([str(BIN / "paperlink"), "print", str(notices_file), "-o", str(work / "out.pdf")], env)
        pdf_size = (work / "out.pdf").stat().st_size

        notices = read_notices(notices_file)
        private = KeyStore(Home(work / "home")).signing_key()
        specs = sheet_specs(notices, new_batch_id(dt.date(2026, 11, 26)), private)
        texts = [s.qr_texts[0] for s in specs]
        (work / "payloads.txt").write_text("\n".join(texts))
        bare_time, bare_rss = run([sys.executable, str(ROOT / "benchmarks" / "bare_reportlab.py"), str(args.count),
                                   str(work / "bare.pdf"), str(work / "payloads.txt")], env)

    layout = Layout()
    lengths = [len(t) for t in texts]
    versions = {e: [segno.make_qr(t, error=e, boost_error=False).version for t in texts] for e in "mq"}
    sizes = [(segno.make_qr(t, error=layout.error, boost_error=False).symbol_size(border=0)[0]) * layout.module_mm
             for t in texts]
    print(f"notices: {args.count}")
    print(f"paperlink print (self-test included): {print_time:.2f} s, peak RSS {print_rss} MiB, "
          f"{args.count / print_time:.1f} sheets/s, PDF {pdf_size / 1e6:.1f} MB")
    print(f"bare reportlab, {args.count} pages with one QR each: {bare_time:.2f} s, peak RSS {bare_rss} MiB")
    print(f"ratio paperlink / bare: {print_time / bare_time:.2f}x")
    print(f"payload length (chars): {percentiles(lengths)}")
    for e, vs in versions.items():
        print(f"QR version, error correction {e.upper()}: {percentiles(vs)}")
    print(f"code size at {layout.module_mm} mm/module, EC {layout.error.upper()} (without quiet zone), mm: "
          f"{percentiles([round(s, 1) for s in sizes])}")
    sample = texts[:: max(1, len(texts) // 100)]
    for cover in (0.3, 0.45, 0.6):
        rates = {e: stamp_survival(sample, e, cover) for e in "mq"}
        print(f"stamp ring over {int(cover * 100)}% of the code width: decoded M {rates['m']:.0%}, Q {rates['q']:.0%}")


if __name__ == "__main__":
    main()
