"""The scan folder: files a scanner drops in are imported once, then moved out of the way.

A file is taken only when its size and modification time have stayed the same for `stable_seconds`
(a scanner may still be writing it). It is read in full, hashed, every page decoded and recorded in the
ledger, and only then moved: to `done/`, or to `failed/` next to a `<name>.reason.txt` that says why. A file
whose SHA-256 the ledger has seen is never processed again (it goes to `done/` as a duplicate). Nothing is
ever deleted. A crash between the ledger commit and the move is repaired on the next poll by the hash check.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from paperlink.atomicfile import move_into
from paperlink.errors import PaperlinkError
from paperlink.failpoints import failpoint
from paperlink.intake import IntakeResult, capture_scans
from paperlink.ledger import Channel, Ledger
from paperlink.ledger.registers import add_scanned_file, scanned_file
from paperlink.ledger.schema import ScanFileOutcome
from paperlink.scanning import scan_paths

SKIPPED_SUFFIXES = (".part", ".tmp", ".crdownload", ".reason.txt")


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file of the scan folder."""

    name: str
    moved_to: Path
    outcome: str
    results: tuple[IntakeResult, ...] = ()
    reason: str | None = None


@dataclass
class ScanFolder:
    """A watched folder with `done/` and `failed/` inside it."""

    root: Path
    ledger: Ledger
    trusted: Mapping[bytes, Ed25519PublicKey]
    actor: str = "scan-folder"
    stable_seconds: float = 2.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, tuple[int, float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for sub in ("", "done", "failed"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def candidates(self) -> list[Path]:
        """Files in the folder that may be scans (hidden and partial files aside)."""
        return sorted(p for p in self.root.iterdir()
                      if p.is_file() and not p.name.startswith(".") and not p.name.endswith(SKIPPED_SUFFIXES))

    def stable(self, path: Path) -> bool:
        """Whether the file has kept its size and mtime for `stable_seconds` (tracked across polls)."""
        try:
            info = path.stat()
        except FileNotFoundError:
            return False
        key, stamp = str(path), (info.st_size, info.st_mtime)
        previous = self._seen.get(key)
        if previous is None or previous[:2] != stamp:
            self._seen[key] = (*stamp, self.clock())
            return self.stable_seconds <= 0
        return self.clock() - previous[2] >= self.stable_seconds

    def poll(self) -> list[FileOutcome]:
        """Process every file that has become stable; return what happened to each."""
        outcomes = []
        for path in self.candidates():
            if self.stable(path):
                outcomes.append(self.process(path))
                self._seen.pop(str(path), None)
        return outcomes

    def process(self, path: Path) -> FileOutcome:
        """Import one file (or recognise it as already imported) and move it out of the folder."""
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        done = scanned_file(self.ledger, sha)
        if done is not None:
            target = self._move(path, "done")
            return FileOutcome(path.name, target, "duplicate", reason=f"already imported on {done.processed_at}")
        verdict: dict[str, str | None] = {}

        def remember_file(results: list[IntakeResult]) -> None:
            problems = [f"p.{r.page}: {r.message}" for r in results if not r.accepted]
            outcome = ScanFileOutcome.FAILED if problems or not results else ScanFileOutcome.DONE
            verdict["outcome"] = outcome.value
            verdict["reason"] = "; ".join(problems) if problems else None
            add_scanned_file(self.ledger, sha, path.name, len(data), outcome, verdict["reason"])
            self.ledger.audit(self.actor, f"scan_folder.{outcome.value}", path.name, sha256=sha,
                              reason=verdict["reason"], codes=[r.code for r in results if not r.accepted])

        results = tuple(capture_scans(self.ledger, scan_paths([path], self.trusted), Channel.FOLDER, self.actor,
                                     then=remember_file))
        outcome, reason = str(verdict["outcome"]), verdict["reason"]
        failpoint("scan_folder.before-move")
        if outcome == ScanFileOutcome.FAILED:
            target = self._move(path, "failed")
            target.with_name(target.name + ".reason.txt").write_text((reason or "nothing was read") + "\n", "utf-8")
        else:
            target = self._move(path, "done")
        return FileOutcome(path.name, target, outcome, results, reason)

    def _move(self, path: Path, folder: str) -> Path:
        """Move without overwriting: name, name-1, name-2, … in the target folder."""
        return move_into(path, self.root / folder)


def watch_in_background(home_root: Path, stop: threading.Event, interval: float = 3.0,
                        stable_seconds: float = 2.0, on_outcome: Callable[[FileOutcome], None] | None = None) -> None:
    """Poll `<home>/scans` until `stop` is set (the entry screen runs this in a thread).

    It has its own ledger connection; trusted keys are re-read at every poll, so a key trusted while the
    screen runs counts at once. A failure is reported through `on_outcome`-less logging and the loop goes on.
    """
    import logging

    from paperlink.home import Home
    from paperlink.keys import KeyStore

    log = logging.getLogger("paperlink.watch")
    home = Home(home_root)
    with Ledger(home.ledger) as ledger:
        folder = ScanFolder(home.scans, ledger, {}, actor="scan-folder", stable_seconds=stable_seconds)
        while not stop.wait(interval):
            try:
                folder.trusted = KeyStore(home).trusted()
                for outcome in folder.poll():
                    log.info("scan folder: %s: %s", outcome.name, outcome.outcome)
                    if on_outcome is not None:
                        on_outcome(outcome)
            except (PaperlinkError, OSError) as exc:
                log.warning("scan folder: %s", exc)
