"""The scan folder: files a scanner drops in are imported once, then moved out of the way.

A file is taken only when its size and modification time have stayed the same for `stable_seconds`
(a scanner may still be writing it). It is read in full, hashed, every page decoded and recorded in the
ledger, and only then moved: to `done/`, or to `failed/` next to a `<name>.reason.txt` that says why. A file
whose SHA-256 the ledger has seen is never processed again (it is filed by its recorded outcome). Nothing is
ever deleted. A crash between the ledger commit and the move – or a move refused because another program
(a scanner, an antivirus, Explorer's preview) holds the file open – is repaired on a later poll by the hash
check, which files it where the ledger's recorded outcome says: `failed/` with its reason, or `done/`.
"""

from __future__ import annotations

import hashlib
import stat
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from paperlink.errors import PaperlinkError
from paperlink.failpoints import failpoint
from paperlink.home import Home
from paperlink.intake import IntakeResult, capture_scans
from paperlink.ledger import Channel, Ledger
from paperlink.ledger.registers import ScannedFile, add_scanned_file, scanned_file
from paperlink.ledger.schema import ScanFileOutcome
from paperlink.pages import MAX_FILE_BYTES
from paperlink.safefs import (
    UnsafeFileError,
    create_exclusive,
    has_suffix,
    is_utf8_name,
    label,
    move_into,
    read_regular,
    safe_text,
)
from paperlink.scanning import scan_data

SKIPPED_SUFFIXES = (".part", ".tmp", ".crdownload", ".reason.txt")
"""Files a writer is still at, and our own reason files: never taken (matched in any case, as on Windows)."""

REASON_SUFFIX = ".reason.txt"


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file of the scan folder.

    `outcome`: done, failed, duplicate – or in_use (it could not be moved, being held open by another program:
    it stays where it is, and the next poll files it by the outcome the ledger recorded).
    """

    name: str
    moved_to: Path
    outcome: str
    results: tuple[IntakeResult, ...] = ()
    reason: str | None = None


@dataclass
class ScanFolder:
    """A watched folder with `done/` and `failed/` inside it.

    Scanners and other accounts may write the folder, so it is handled as `paperlink.safefs` says: only a
    regular file is read (never through a symbolic link, never blocking, at most `MAX_FILE_BYTES`); anything
    else – a link, a FIFO, a device – is moved to `failed/` unread, with its reason. Reason files are created
    exclusively (a link placed in `failed/` is never written through) and escape the file names they quote.
    """

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
        """Entries in the folder that may be scans (hidden and partial files, and sub-folders, aside)."""
        out = []
        for path in sorted(self.root.iterdir()):
            if path.name.startswith(".") or has_suffix(path.name, *SKIPPED_SUFFIXES) or path.name in ("done", "failed"):
                continue
            try:
                if stat.S_ISDIR(path.lstat().st_mode):
                    continue  # done/, failed/, or a sub-folder: never ours to take
            except FileNotFoundError:
                continue
            out.append(path)
        return out

    def stable(self, path: Path) -> bool:
        """Whether the file has kept its size and mtime for `stable_seconds` (tracked across polls)."""
        try:
            info = path.lstat()
        except FileNotFoundError:
            return False
        key, stamp = str(path), (info.st_size, info.st_mtime)
        previous = self._seen.get(key)
        if previous is None or previous[:2] != stamp:
            self._seen[key] = (*stamp, self.clock())
            return self.stable_seconds <= 0
        return self.clock() - previous[2] >= self.stable_seconds

    def poll(self) -> list[FileOutcome]:
        """Process every file that has become stable; return what happened to each.

        One file that cannot be handled now never stops the others: it is reported `held` and tried again.
        """
        outcomes = []
        for path in self.candidates():
            if self.stable(path):
                try:
                    if not is_utf8_name(path.name):
                        outcomes.append(self._refuse(path, f"{label(path.name)}: never read: its name is not UTF-8"))
                        continue
                    outcomes.append(self.process(path))
                except OSError as exc:
                    outcomes.append(FileOutcome(label(path.name), path, "in_use", reason=self._held(path, exc)))
                finally:
                    self._seen.pop(str(path), None)
        return outcomes

    def process(self, path: Path) -> FileOutcome:
        """Import one file (or recognise it as already processed) and move it out of the folder."""
        try:
            data = read_regular(path, MAX_FILE_BYTES, follow=False)
        except UnsafeFileError as exc:
            return self._refuse(path, f"{path.name}: never read: {exc.strerror}")
        sha = hashlib.sha256(data).hexdigest()
        known = scanned_file(self.ledger, sha)
        if known is not None:
            return self._follow_record(path, known)
        verdict: dict[str, str | None] = {}

        def remember_file(results: list[IntakeResult]) -> None:
            problems = [f"p.{r.page}: {r.message}" for r in results if not r.accepted]
            outcome = ScanFileOutcome.FAILED if problems or not results else ScanFileOutcome.DONE
            verdict["outcome"] = outcome.value
            verdict["reason"] = "; ".join(problems) if problems else None
            add_scanned_file(self.ledger, sha, path.name, len(data), outcome, verdict["reason"])
            self.ledger.audit(self.actor, f"scan_folder.{outcome.value}", path.name, sha256=sha,
                              reason=verdict["reason"], codes=[r.code for r in results if not r.accepted])

        results = tuple(capture_scans(self.ledger, scan_data(data, str(path), self.trusted), Channel.FOLDER,
                                     self.actor, then=remember_file))
        outcome, reason = str(verdict["outcome"]), verdict["reason"]
        failpoint("scan_folder.before-move")
        try:
            target = self._file(path, outcome, reason)
        except OSError as exc:  # recorded, not moved: the next poll files it by the recorded outcome
            return FileOutcome(path.name, path, "in_use", results, self._held(path, exc))
        return FileOutcome(path.name, target, outcome, results, reason)

    def _follow_record(self, path: Path, known: ScannedFile) -> FileOutcome:
        """A file whose content the ledger has seen: filed where its recorded outcome says (never re-read)."""
        if known.outcome == ScanFileOutcome.FAILED:
            reason = known.reason or "nothing was read"
            target = self._file(path, ScanFileOutcome.FAILED, reason)
            return FileOutcome(path.name, target, ScanFileOutcome.FAILED.value, reason=reason)
        target = self._move(path, "done")
        return FileOutcome(path.name, target, "duplicate", reason=f"already imported on {known.processed_at}")

    def _file(self, path: Path, outcome: str, reason: str | None) -> Path:
        """Move the file to `done/`, or to `failed/` next to its reason file; return where it went."""
        if outcome != ScanFileOutcome.FAILED:
            return self._move(path, "done")
        target = self._move(path, "failed")
        self._write_reason(target, path, reason or "nothing was read")
        return target

    def _refuse(self, path: Path, reason: str) -> FileOutcome:
        """An entry that is not a regular file: to `failed/` unread, with its reason, and audited."""
        target = self._move(path, "failed")
        self._write_reason(target, path, reason)
        with self.ledger.transaction():
            self.ledger.audit(self.actor, "scan_folder.refused", label(path.name), reason=label(reason))
        return FileOutcome(label(path.name), target, ScanFileOutcome.FAILED.value, reason=label(reason))

    def _write_reason(self, target: Path, original: Path, reason: str) -> Path:
        """`failed/<name>.reason.txt`, created exclusively; names escaped, one line per reason."""
        reason = reason.replace(str(original), original.name)  # the folder is known: the name says enough
        text = safe_text(reason, [original.name, target.name]) + "\n"
        return create_exclusive(target.parent, target.name + REASON_SUFFIX, text.encode("utf-8"))

    def _held(self, path: Path, exc: OSError) -> str:
        return label(f"{path.name}: left in place for now ({exc.strerror or exc}); tried again on the next poll")

    def _move(self, path: Path, folder: str) -> Path:
        """Move without replacing anything: name, name-1, name-2, … in the target folder (its reason file's
        name kept free too); a file held open is retried for a while, then the OSError is raised."""
        return move_into(path, self.root / folder, companions=(REASON_SUFFIX,))


def watch_in_background(home: Home | Path, stop: threading.Event, interval: float = 3.0,
                        stable_seconds: float = 2.0, on_outcome: Callable[[FileOutcome], None] | None = None) -> None:
    """Poll `<home>/scans` until `stop` is set (the entry screen runs this in a thread).

    It has its own ledger connection; trusted keys are re-read at every poll, so a key trusted while the
    screen runs counts at once. A failure is reported through `on_outcome`-less logging and the loop goes on.
    """
    import logging

    from paperlink.keys import KeyStore

    log = logging.getLogger("paperlink.watch")
    if not isinstance(home, Home):
        home = Home(home)
    with Ledger.of(home) as ledger:
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
