"""Transport benchmark: throughput of send+receive (pattern 1) and bundle+unbundle (pattern 2).

    .venv/bin/python benchmarks/bench_transport.py [--count 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.bundle import read_bundle, write_bundle
from paperlink.dataformat import dumps_notices
from paperlink.export import export
from paperlink.keys import key_id
from paperlink.ledger import Ledger
from paperlink.samples import SampleOptions, generate
from paperlink.sharedfolder import Receiver, send


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    notices = generate(SampleOptions(count=args.count, seed=1, notice_date=dt.date(2026, 11, 26)))
    key = Ed25519PrivateKey.generate()
    trusted = {key_id(key.public_key()): key.public_key()}
    expected = dumps_notices(notices)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = work / "link"
        folder.mkdir()
        with Ledger(work / "line.sqlite3") as ledger:
            start = time.perf_counter()
            send(notices, folder, key, "B20261126-AAAA")
            sent = time.perf_counter()
            Receiver(folder, ledger, trusted).receive_once()
            received = time.perf_counter()
            export(ledger, None, work / "line.jsonl", "jsonl", "bench")
            assert (work / "line.jsonl").read_bytes() == expected
        with Ledger(work / "out.sqlite3") as out, Ledger(work / "in.sqlite3") as inn:
            start2 = time.perf_counter()
            write_bundle(out, notices, work / "b.plb", "B20261126-BBBB", key, "benchmark-passphrase", "bench")
            sealed = time.perf_counter()
            read_bundle(inn, work / "b.plb", "benchmark-passphrase", trusted, "bench")
            opened = time.perf_counter()
            export(inn, None, work / "media.jsonl", "jsonl", "bench")
            assert (work / "media.jsonl").read_bytes() == expected
    n = args.count
    print(f"notices: {n} ({len(expected) / 1e6:.1f} MB data file); both exports equal the input file")
    print(f"pattern 1 send {sent - start:.2f} s + receive {received - sent:.2f} s = {received - start:.2f} s "
          f"-> {n / (received - start):,.0f} notices/s")
    print(f"pattern 2 bundle {sealed - start2:.2f} s + unbundle {opened - sealed:.2f} s = {opened - start2:.2f} s "
          f"-> {n / (opened - start2):,.0f} notices/s")


if __name__ == "__main__":
    main()
