"""Entry-screen benchmark over loopback: posted camera frame → decoded record, and a load run.

Prints the server's time from a posted 1280×720 frame to the decoded record (median, p95), the same for
frames without a code, and a load run: two clerks and a camera at 10 frames per second for a fixed time
(errors, lost or duplicated notices, p95 response times).

    .venv/bin/python benchmarks/bench_web.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from webload import load_run, prepare_office


def ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    from webload import frame_latency

    with tempfile.TemporaryDirectory() as tmp:
        office = prepare_office(Path(tmp) / "latency", count=12, frames_per_sheet=2)
        with_code, blank = frame_latency(office)
        print(f"frame → decoded record ({len(with_code)} frames with a code, 1280×720 JPEG over loopback): "
              f"median {statistics.median(with_code) * 1000:.0f} ms, p95 {ms(with_code, 0.95):.0f} ms")
        print(f"frame without a code ({len(blank)} frames): median {statistics.median(blank) * 1000:.0f} ms, "
              f"p95 {ms(blank, 0.95):.0f} ms")
        load_office = prepare_office(Path(tmp) / "load", count=12, frames_per_sheet=1)
        result = load_run(load_office, args.seconds)
        print("load:", result.summary())
        if result.errors:
            print("errors:", *result.errors[:10], sep="\n  ")


if __name__ == "__main__":
    main()
