"""One desk in its own process, for tests/test_concurrency.py: `python tests/desk_child.py STEP ARGS…`.

The desk opens the ledger its environment names (PAPERLINK_HOME, and PAPERLINK_LEDGER for a PostgreSQL
server), waits at a file barrier in `--barrier DIR` until every desk is ready (so the desks really collide),
then does its step with paperlink's own workflow functions and prints what happened as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from paperlink.home import Home
from paperlink.keys import KeyStore
from paperlink.ledger import Ledger


def barrier(folder: str | None, parties: int, name: str = "go") -> None:
    """Wait until `parties` desks have reached this barrier (each leaves a file in `folder`)."""
    if not folder:
        return
    Path(folder, f"{name}.{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while len(list(Path(folder).glob(f"{name}.*"))) < parties:
        if time.monotonic() > deadline:
            raise SystemExit("barrier timed out")
        time.sleep(0.0005)


def capture(ledger: Ledger, texts: list[str], actor: str, confirm_too: bool = False) -> list[dict[str, Any]]:
    """Record each QR text as the webcam would, one transaction each; confirm what became a new notice."""
    from paperlink.confirm import confirm
    from paperlink.intake import capture_scan
    from paperlink.scanning import interpret
    from paperlink.users import get_user

    trusted = KeyStore(Home.resolve()).trusted()
    items = [interpret(text, "webcam", 1, trusted) for text in texts]  # decoded before the barrier
    clerk = get_user(ledger, actor) if confirm_too else None
    out = []
    for item in items:
        result = capture_scan(ledger, item, "webcam", actor)
        state = None
        if confirm_too and result.outcome == "new" and item.sheet is not None:
            assert clerk is not None
            from paperlink.ledger import store

            row = store.notice_at(ledger, item.sheet.batch_id, item.sheet.seq)
            assert row is not None
            state = confirm(ledger, row.id, clerk).state.value
        out.append({"outcome": result.outcome.value, "batch": result.batch_id, "seq": result.seq, "state": state})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step")
    parser.add_argument("args", nargs="*")
    parser.add_argument("--barrier")
    parser.add_argument("--parties", type=int, default=2)
    parser.add_argument("--actor", default="tanaka")
    options = parser.parse_args()
    with Ledger.of(Home.resolve()) as ledger:  # PAPERLINK_LEDGER, else the data directory's SQLite file
        if options.step == "capture":  # args: files of QR texts, one per line
            texts = [line for path in options.args for line in Path(path).read_text(encoding="utf-8").splitlines()
                     if line]
            barrier(options.barrier, options.parties)
            print(json.dumps(capture(ledger, texts, options.actor)))
        elif options.step == "capture-confirm":  # args: files of QR texts; each new notice is confirmed at once
            texts = [line for path in options.args for line in Path(path).read_text(encoding="utf-8").splitlines()
                     if line]
            barrier(options.barrier, options.parties)
            print(json.dumps(capture(ledger, texts, options.actor, confirm_too=True)))
        elif options.step == "enter":  # args: notice row id, file with the typed record (JSON)
            from paperlink.doubleentry import submit_entry
            from paperlink.users import get_user

            clerk = get_user(ledger, options.actor)
            assert clerk is not None
            raw = json.loads(Path(options.args[1]).read_text(encoding="utf-8"))
            barrier(options.barrier, options.parties)
            result = submit_entry(ledger, int(options.args[0]), raw, None, clerk)
            print(json.dumps({"state": result.state.value, "stored": result.stored}))
        elif options.step == "export-loop":  # args: output folder, stop file; exports until the stop file exists
            from paperlink.errors import ExportError
            from paperlink.export import export

            folder, stop = Path(options.args[0]), Path(options.args[1])
            barrier(options.barrier, options.parties)
            written = []
            while True:
                last = stop.exists()  # one more export after the other desk has finished
                try:
                    result = export(ledger, None, folder / f"export-{len(written):04d}.jsonl", "jsonl", options.actor)
                    written.append(result.path.name)
                except ExportError as exc:
                    if exc.code != "export_nothing":
                        raise
                if last:
                    break
                time.sleep(0.01)
            print(json.dumps(written))
        elif options.step == "export":  # args: the file to write; every notice not exported yet, once
            from paperlink.errors import ExportError
            from paperlink.export import export

            barrier(options.barrier, options.parties)
            try:
                print(json.dumps({"count": export(ledger, None, options.args[0], "jsonl", options.actor).count}))
            except ExportError as exc:
                print(json.dumps({"count": 0, "code": exc.code}))
        elif options.step == "settings":  # args: how many audited writes
            barrier(options.barrier, options.parties)
            for number in range(int(options.args[0])):
                ledger.set_setting(f"desk.{options.actor}.{number}", str(number), options.actor)
            print(json.dumps({"written": int(options.args[0])}))
        else:
            sys.exit(f"unknown step {options.step}")


if __name__ == "__main__":
    main()
