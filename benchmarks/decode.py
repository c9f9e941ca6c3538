"""Decoder benchmark: every backend and the chain on degraded sheets printed by paperlink itself.

Builds a corpus with a fixed seed: sample notices printed by `print_batch` (throwaway Ed25519 key),
rasterised at 300 dpi, each sheet put through every degradation of `benchmarks/degrade.py` (plus the
sheet rendered straight at 150 and 100 dpi), and simulated 1280×720 webcam frames. For each image it
runs each backend alone, the chain (`decode` for pages, `decode_frame` for frames) and one bare
zxing-cpp call (on the numpy array, and on the PIL image), and prints, per degradation: the exact-record success rate (the text parses, verifies
with the key and gives back the sheet's notice), wrong texts (any decoded text other than the printed
one; must be 0), and median / p95 ms per image; then the checks against the targets of issue 4.

    .venv/bin/python benchmarks/decode.py [--quick] [--sheets N] [--frames N] [--workers N]
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import degrade as D  # noqa: E402
import numpy as np  # noqa: E402

from paperlink import decode as dec  # noqa: E402
from paperlink.payload import PayloadError, SheetPayload  # noqa: E402

RENDERED = {"render150": 150, "render100": 100}
"""Extra page kinds: the sheet rasterised by pdfium straight at this dpi (undegraded)."""
BARE = "bare zxing"
"""One zxing-cpp call (QR only) on the gray numpy array, converted outside the timing: the strict baseline."""
BARE_PIL = "bare zxing(PIL)"
"""The same call given the PIL image, as `pages_of` yields it (zxing-cpp converts it itself, ~2x slower)."""
CHAIN = "chain"


@dataclass
class Outcome:
    """One method on one image: read the exact record?, any wrong text?, milliseconds."""

    ok: bool
    wrong: bool
    ms: float


@dataclass
class Row:
    """All the outcomes of one image."""

    kind: str  # "page" or "frame"
    degradation: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)


# -- worker state: the batch and its 300-dpi pages, built once per process ---------------------------

_STATE: dict[str, Any] = {}


def _init(sheets: int) -> None:
    batch = D.sample_batch(sheets)
    pages = D.rasterise(batch.pdf, D.PAGE_DPI, batch.cover_pages)
    _STATE.update(batch=batch, pages=pages, boxes=[D.locate_code(p) for p in pages])


@functools.cache
def _rendered(dpi: int) -> list[Any]:
    batch = _STATE["batch"]
    return D.rasterise(batch.pdf, dpi, batch.cover_pages)


def _image(kind: str, name: str, sheet: int, seed: int) -> Any:
    page, box = _STATE["pages"][sheet], _STATE["boxes"][sheet]
    if kind == "frame":
        return D.webcam_frame(page, box, seed)
    if name in RENDERED:
        return _rendered(RENDERED[name])[sheet]
    return D.degrade(name, page, box, seed)


def _judge(texts: list[str], sheet: int) -> tuple[bool, bool]:
    """(exact record read, some text other than the printed one returned)."""
    batch = _STATE["batch"]
    spec = batch.sheets[sheet]
    ok = False
    for text in texts:
        try:
            payload = SheetPayload.from_text(text)
            payload.verify(batch.trusted)
        except PayloadError:
            continue
        ok = ok or (payload.notice == spec.notice and payload.seq == spec.seq)
    return ok, any(text not in spec.qr_texts for text in texts)


def _timed(fn: Callable[[], list[str]], sheet: int) -> Outcome:
    start = time.perf_counter()
    texts = fn()
    ms = (time.perf_counter() - start) * 1000
    ok, wrong = _judge(texts, sheet)
    return Outcome(ok, wrong, ms)


def _bare(image: Any) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))]


def measure(job: tuple[str, str, int, int]) -> Row:
    """Every method on one corpus image."""
    kind, name, sheet, seed = job
    image = _image(kind, name, sheet, seed)
    row = Row(kind, name)
    gray = np.asarray(image.convert("L"))
    row.outcomes[BARE] = _timed(lambda: _bare(gray), sheet)
    row.outcomes[BARE_PIL] = _timed(lambda: _bare(image), sheet)
    chain = dec.decode_frame if kind == "frame" else dec.decode
    row.outcomes[CHAIN] = _timed(lambda: [c.text for c in chain(image)], sheet)
    if kind == "frame":
        row.outcomes["full chain"] = _timed(lambda: [c.text for c in dec.decode(image)], sheet)
    for backend, fn in dec.BACKENDS.items():
        row.outcomes[backend] = _timed(lambda fn=fn: [f.text for f in fn(gray)], sheet)  # type: ignore[misc]
    return row


# -- corpus and report --------------------------------------------------------------------------------


def jobs(sheets: int, frames: int) -> list[tuple[str, str, int, int]]:
    """The corpus: every page kind for every sheet, and `frames` webcam frames over the sheets."""
    names = [*D.DEGRADATIONS, *RENDERED]
    pages = [("page", name, sheet, sheet) for name in names for sheet in range(sheets)]
    return pages + [("frame", "webcam", i % sheets, i) for i in range(frames)]


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def _cell(outcomes: list[Outcome]) -> str:
    rate = 100 * sum(o.ok for o in outcomes) / len(outcomes)
    wrong = sum(o.wrong for o in outcomes)
    ms = [o.ms for o in outcomes]
    return f"{rate:5.1f}% {statistics.median(ms):5.0f}/{_p95(ms):<5.0f}" + (f" W{wrong}" if wrong else "")


def table(rows: list[Row], title: str) -> None:
    """One block: degradation × method, 'rate% median/p95 ms' (W = wrong texts)."""
    methods = list(rows[0].outcomes)
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row.degradation].append(row)
    groups["ALL"] = rows
    print(f"\n## {title}: exact-record rate, median/p95 ms per image  (n = images; W = wrong texts)\n")
    width = 22
    print(f"{'degradation':14s} {'n':>4s} " + " ".join(f"{m[:width]:>{width}s}" for m in methods))
    for name, group in groups.items():
        cells = [_cell([r.outcomes[m] for r in group]) for m in methods]
        print(f"{name:14s} {len(group):4d} " + " ".join(f"{c:>{width}s}" for c in cells))


def rescues(rows: list[Row], title: str) -> None:
    """Of the images zxing alone misses, how many each other backend reads, and its median ms on them."""
    missed = [r for r in rows if not r.outcomes["zxing"].ok]
    print(f"\n## {title}: {len(missed)} of {len(rows)} images missed by zxing (default); what each fallback reads of them")
    for backend in dec.BACKENDS:
        if backend == "zxing" or not missed:
            continue
        read = [r for r in missed if r.outcomes[backend].ok]
        ms = statistics.median(r.outcomes[backend].ms for r in missed)
        kinds = sorted({r.degradation for r in read})
        print(f"  {backend:26s} reads {len(read):3d}  median {ms:6.0f} ms on the missed images  ({', '.join(kinds)})")
    order = [name for name in (dec.FRAME_CHAIN if rows[0].kind == "frame" else dec.CHAIN)]
    for name in order[1:]:
        left = [r for r in missed if not any(r.outcomes[b].ok for b in order[:order.index(name)])]
        print(f"  chain so far -> after {name:26s}: {sum(not any(r.outcomes[b].ok for b in order[:order.index(name) + 1]) for r in left)} still unread")


def stages(rows: list[Row], chain: tuple[str, ...]) -> str:
    """How often each chain stage was the one that found the code."""
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        stage = next((b for b in chain if row.outcomes[b].ok), "none")
        counts[stage] += 1
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def verdict(rows: list[Row], label: str, rate_target: float) -> list[str]:
    """The target lines for one set: rate, wrong records, chain/bare time."""
    chain = [r.outcomes[CHAIN] for r in rows]
    bare = [r.outcomes[BARE] for r in rows]
    rate = 100 * sum(o.ok for o in chain) / len(chain)
    wrong = sum(o.wrong for r in rows for o in r.outcomes.values())
    med_chain, med_bare = statistics.median(o.ms for o in chain), statistics.median(o.ms for o in bare)
    ratio = med_chain / med_bare
    per_image = statistics.median(c.ms / b.ms for c, b in zip(chain, bare, strict=True))
    return [
        f"{label}: chain reads {rate:.2f}% (target >= {rate_target}%) {'OK' if rate >= rate_target else 'MISSED by ' + format(rate_target - rate, '.2f') + ' points'}",
        f"{label}: wrong texts from any method: {wrong} (target 0) {'OK' if wrong == 0 else 'MISSED'}",
        f"{label}: median chain {med_chain:.1f} ms / median bare zxing {med_bare:.1f} ms = {ratio:.2f}x "
        f"(median of per-image ratios {per_image:.2f}x; target <= 1.5x) {'OK' if ratio <= 1.5 else 'MISSED by ' + format(ratio - 1.5, '.2f') + 'x'}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small corpus (3 sheets, 30 frames)")
    parser.add_argument("--sheets", type=int, default=20, help="sheets printed (each gets every page degradation)")
    parser.add_argument("--frames", type=int, default=200, help="webcam frames")
    parser.add_argument("--workers", type=int, default=2, help="processes (timings are taken inside them)")
    args = parser.parse_args()
    sheets, frames = (3, 30) if args.quick else (args.sheets, args.frames)
    corpus = jobs(sheets, frames)
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.workers, _init, (sheets,)) as pool:
        rows = pool.map(measure, corpus, chunksize=4)
    pages = [r for r in rows if r.kind == "page"]
    frame_rows = [r for r in rows if r.kind == "frame"]
    print(f"# Decoder benchmark: {len(pages)} pages (300-dpi A4, {sheets} sheets) and {len(frame_rows)} "
          f"1280x720 frames, {args.workers} workers, {time.perf_counter() - start:.0f} s")
    print(f"# page chain = decode(): {' -> '.join(dec.CHAIN)};  frame chain = decode_frame(): {' -> '.join(dec.FRAME_CHAIN)}")
    table(pages, "A4 pages")
    rescues(pages, "A4 pages")
    print(f"  page chain stopped at: {stages(pages, dec.CHAIN)}")
    if frame_rows:
        table(frame_rows, "1280x720 webcam frames")
        rescues(frame_rows, "frames")
        print(f"  frame chain stopped at: {stages(frame_rows, dec.FRAME_CHAIN)}")
    print("\n## Targets (issue 4)")
    lines = verdict(pages, "pages", 99.5)
    undegraded = [r for r in pages if r.degradation in ("clean", "dpi150", "render150")]
    rate = 100 * sum(r.outcomes[CHAIN].ok for r in undegraded) / len(undegraded)
    lines.append(f"pages: undegraded at 150 dpi and above (clean, dpi150, render150): {rate:.1f}% (target 100%) "
                 f"{'OK' if rate == 100 else 'MISSED'}")
    if frame_rows:
        lines += verdict(frame_rows, "frames", 95.0)
    print("\n".join(f"- {line}" for line in lines))


if __name__ == "__main__":
    main()
