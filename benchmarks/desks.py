"""Desks benchmark: 1, 2, 4 and 8 desks (processes) working on one ledger at once, on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/desks.py [--seconds 60] [--desks 1,2,4,8] [--backends sqlite,postgresql]
                                         [--url postgresql://…]

Each desk is a process of its own with its own ledger connection, doing what a clerk's PC does all day through
paperlink's own workflow functions: it reads the five sheets of a new batch (each capture one transaction, the
signed QR text checked), confirms each one (timed: "confirm"), and types one notice from paper twice – a new
manual notice, the first entry by one clerk and the blind second entry by another – then starts over with the
next batch, for `--seconds`. All desks start together (a barrier).

SQLite: the desks are processes of one PC sharing the data directory's ledger file (WAL, synchronous=FULL,
`BEGIN IMMEDIATE`). PostgreSQL: each desk has its own data directory and connects over TCP with TLS
(`sslmode=verify-full`) to a server started for the run from Debian's `postgresql` package (tests/pgserver.py,
its fsync and synchronous commit switched back on, so that a commit is as durable as SQLite's), or to `--url`
(a database the benchmark may fill). Writes are serialised on both (the advisory lock on PostgreSQL).

Printed per run: notices per second (captured and confirmed, or settled by double entry), the median and p95
latency of a confirm, errors (any exception; must be 0), duplicates (a capture that found its sheet already
read, or a notice the ledger holds twice; must be 0), and whether the audit chain holds afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 11, 26)
SHEETS_PER_BATCH = 5
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass
class DeskResult:
    """What one desk did."""

    desk: int
    notices: int = 0
    created: int = 0
    """Notices this desk added to the ledger (sheets read new, notices typed from paper)."""
    elapsed: float = 0.0
    confirms: list[float] = field(default_factory=list)
    entries: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    duplicates: int = 0


def _batch_id(desk: int, number: int) -> str:
    """A batch id of its own for each desk and batch: B20261126-<desk><3 chars>."""
    tail = "".join(CROCKFORD[(number // 32 ** i) % 32] for i in (2, 1, 0))
    return f"B{DAY:%Y%m%d}-{CROCKFORD[desk]}{tail}"


def desk(number: int, home: str, ledger_target: str, key_pem: bytes, seconds: float, barrier: Any,
         results: Any, run_tag: str) -> None:
    """One desk's work loop (run in a process of its own)."""
    from paperlink.confirm import confirm
    from paperlink.doubleentry import new_manual_notice, submit_entry
    from paperlink.home import Home
    from paperlink.intake import capture_scan
    from paperlink.keys import KeyStore
    from paperlink.ledger import Ledger, store
    from paperlink.payload import sheet_text
    from paperlink.samples import SampleOptions, generate
    from paperlink.scanning import interpret
    from paperlink.users import get_user

    result = DeskResult(number)
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    pool = generate(SampleOptions(count=40, seed=100 + number, notice_date=DAY))
    data = Home(Path(home))
    trusted = KeyStore(data).trusted()
    try:
        with Ledger(ledger_target, home=data.root) as ledger:
            first, second = get_user(ledger, f"a{number}"), get_user(ledger, f"b{number}")
            assert first is not None and second is not None
            barrier.wait()
            began = time.monotonic()
            deadline = began + seconds
            batch = 0
            while time.monotonic() < deadline:
                batch_id = _batch_id(number, batch)
                chosen = [pool[(batch * SHEETS_PER_BATCH + i) % len(pool)] for i in range(SHEETS_PER_BATCH)]
                try:
                    for seq, notice in enumerate(chosen, start=1):
                        text = sheet_text(notice, batch_id, seq, SHEETS_PER_BATCH, key)
                        outcome = capture_scan(ledger, interpret(text, "webcam", 1, trusted), "webcam", first.login)
                        if outcome.outcome != "new":
                            result.duplicates += outcome.outcome == "duplicate"
                            result.errors.append(f"{batch_id} {seq}: {outcome.outcome} ({outcome.code})")
                            continue
                        result.created += 1
                        row = store.notice_at(ledger, batch_id, seq)
                        assert row is not None
                        start = time.perf_counter()
                        confirm(ledger, row.id, first)
                        result.confirms.append(time.perf_counter() - start)
                        result.notices += 1
                    # a notice id of its own: the day's manual batch holds each notice once
                    typed = {**pool[(batch * 7 + number) % len(pool)].record(),
                             "notice_id": f"N{DAY:%Y%m%d}-T{run_tag}-{number}-{batch:06d}"}
                    start = time.perf_counter()
                    pk = new_manual_notice(ledger, first, DAY.isoformat())
                    result.created += 1
                    one = submit_entry(ledger, pk, typed, None, first)
                    two = submit_entry(ledger, pk, typed, None, second)
                    result.entries.append(time.perf_counter() - start)
                    if (one.state.value, two.state.value) != ("first_entry", "done"):
                        result.errors.append(f"double entry {pk}: {one.state.value}, {two.state.value}")
                    else:
                        result.notices += 1
                except Exception as exc:  # counted, and the desk goes on with the next batch
                    result.errors.append(f"{type(exc).__name__}: {exc}")
                batch += 1
            result.elapsed = time.monotonic() - began
    except Exception:
        result.errors.append(traceback.format_exc())
    results.put(result)


@dataclass(frozen=True)
class Run:
    """One row of the table."""

    backend: str
    desks: int
    seconds: float
    notices: int
    confirms: list[float]
    errors: list[str]
    duplicates: int
    chain_holds: bool

    @property
    def rate(self) -> float:
        return self.notices / self.seconds

    def p(self, q: float) -> float:
        """The q-quantile of the confirm latency, in ms."""
        if not self.confirms:
            return float("nan")
        ordered = sorted(self.confirms)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def prepare(root: Path, target: str | Path, desks: int, public: Path) -> list[Path]:
    """The desks' data directories (one shared on SQLite), the office set up and two clerks per desk."""
    from paperlink.home import Home
    from paperlink.intake import OFFICE_MUNICIPALITY_SETTING
    from paperlink.keys import KeyStore
    from paperlink.ledger import Ledger
    from paperlink.users import add_user

    homes = [root / "desk0"] if isinstance(target, Path) else [root / f"desk{n}" for n in range(desks)]
    for home in homes:
        KeyStore(Home(home).ensure()).trust(public)
    with Ledger(target, home=homes[0]) as ledger:
        if ledger.setting(OFFICE_MUNICIPALITY_SETTING) is None:
            ledger.set_setting(OFFICE_MUNICIPALITY_SETTING, "131016", "bench")
        for n in range(desks):
            for clerk in (f"a{n}", f"b{n}"):
                from paperlink.users import get_user

                if get_user(ledger, clerk) is None:
                    add_user(ledger, clerk, clerk, {"entry"}, "benchmark-password", "bench")
    return homes


def run(backend: str, target: str | Path, root: Path, desks: int, seconds: float, key: Ed25519PrivateKey) -> Run:
    from paperlink.ledger import Ledger

    public = root / "print-side.pub.pem"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    homes = prepare(root, target, desks, public)
    with Ledger(target, anchored=False) as ledger:
        before = ledger.count("notices")
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    context = mp.get_context("spawn")
    barrier = context.Barrier(desks + 1)
    results = context.Queue()
    tag = "".join(CROCKFORD[b % 32] for b in os.urandom(4))
    processes = [context.Process(target=desk, args=(n, str(homes[n % len(homes)]), str(target), pem, seconds,
                                                    barrier, results, tag)) for n in range(desks)]
    for process in processes:
        process.start()
    barrier.wait()
    collected = [results.get(timeout=seconds + 600) for _ in processes]
    for process in processes:
        process.join()
    with Ledger(target, anchored=False) as ledger:
        held = ledger.count("notices") - before
        chain = ledger.verify_audit() is None
    made = sum(r.notices for r in collected)
    created = sum(r.created for r in collected)
    errors = [e for r in collected for e in r.errors]
    if held != created:  # a notice lost, or one the ledger holds twice
        errors.append(f"the ledger holds {held} new notices, the desks added {created}")
    elapsed = max((r.elapsed for r in collected), default=seconds) or seconds
    return Run(backend, desks, elapsed, made, [c for r in collected for c in r.confirms], errors,
               sum(r.duplicates for r in collected) + max(0, held - created), chain)


def _server() -> Any:
    """A PostgreSQL server for the run (tests/pgserver.py), made as durable as SQLite's synchronous=FULL."""
    sys.path.insert(0, str(ROOT))
    from tests.pgserver import PgServer

    server = PgServer()
    with open(server.data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write("\nfsync = on\nfull_page_writes = on\nsynchronous_commit = on\n")
    server._run("pg_ctl", "-D", str(server.data), "-w", "reload")
    time.sleep(1)
    os.environ["PGPASSFILE"] = str(server.pgpass)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--desks", default="1,2,4,8")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--url", help="an existing PostgreSQL database to use instead of starting a server")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out (the `finally`)
    counts = [int(n) for n in args.desks.split(",")]
    backends = args.backends.split(",")
    key = Ed25519PrivateKey.generate()
    server = _server() if "postgresql" in backends and not args.url else None
    rows: list[Run] = []
    try:
        for backend in backends:
            for desks in counts:
                with tempfile.TemporaryDirectory(prefix="desks-") as tmp:
                    root = Path(tmp)
                    if backend == "sqlite":
                        target: str | Path = root / "desk0" / "ledger.sqlite3"
                    elif args.url:
                        target = args.url
                    else:
                        name = server.fresh_database().rsplit("/", 1)[1]
                        target = server.tcp_url(name)
                    row = run(backend, target, root, desks, args.seconds, key)
                    rows.append(row)
                    print(_line(row, rows[0]), flush=True)
                    for error in row.errors[:5]:
                        print(f"    error: {error.strip().splitlines()[-1]}", flush=True)
    finally:
        if server is not None:
            server.stop()
    print()
    print("| backend | desks | notices/s | vs SQLite 1 desk | confirm p50 ms | confirm p95 ms | errors | duplicates | "
          "audit chain |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    base = rows[0].rate if rows else 1
    for row in rows:
        print(f"| {row.backend} | {row.desks} | {row.rate:.1f} | {row.rate / base:.2f}× | {row.p(0.5):.1f} | "
              f"{row.p(0.95):.1f} | {len(row.errors)} | {row.duplicates} | {'holds' if row.chain_holds else 'BROKEN'} |")


def _line(row: Run, base: Run) -> str:
    return (f"{row.backend:10} {row.desks} desk(s): {row.notices} notices in {row.seconds:.0f} s = {row.rate:.1f}/s "
            f"({row.rate / base.rate:.2f}× SQLite 1 desk); confirm p50 {row.p(0.5):.1f} ms, p95 {row.p(0.95):.1f} ms; "
            f"errors {len(row.errors)}, duplicates {row.duplicates}, audit chain "
            f"{'holds' if row.chain_holds else 'BROKEN'}")


if __name__ == "__main__":
    main()
