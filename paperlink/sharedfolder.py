"""Pattern 1: the folder shared by the MOJ linkage terminal and the register's server.

Sending writes `<batch>.jsonl` and then `<batch>.manifest.json` into the folder, each as a temporary file,
fsync'd and renamed – the manifest last, so a reader that sees a manifest sees a complete batch. Receiving
takes each manifest, verifies its signature and the data file's size and SHA-256, validates every record,
imports the batch in one transaction and only then moves both files to `done/`. Anything incomplete,
altered, unsigned, from an unknown key or simply unknown goes to `quarantine/` with a `.reason.txt`. A
receiver killed at any moment and started again imports nothing twice (the ledger knows the batch and its
SHA-256) and loses nothing (files leave the folder only after the ledger has them).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from paperlink.atomicfile import atomic_write_bytes
from paperlink.datafile import MAX_DATA_FILE_BYTES
from paperlink.dataformat import dumps_notices
from paperlink.errors import DataFileError
from paperlink.failpoints import failpoint
from paperlink.holding import Held, by_position, held_list, parse_holding
from paperlink.ledger import Ledger, Transport
from paperlink.notice import Notice
from paperlink.payload import new_batch_id
from paperlink.safefs import (
    UnsafeFileError,
    create_exclusive,
    escape_name,
    has_suffix,
    is_utf8_name,
    kind_of,
    label,
    move_into,
    read_regular,
    safe_text,
    strip_suffix,
)
from paperlink.transport import Manifest, TransportError, already_imported, import_batch, sign_manifest

MANIFEST_SUFFIX = ".manifest.json"
DATA_SUFFIX = ".jsonl"


def send(notices: Sequence[Notice], folder: str | os.PathLike[str], private: Ed25519PrivateKey,
         batch_id: str | None = None) -> Manifest:
    """Deliver a batch into the shared folder (data file first, manifest last, both atomic)."""
    target = Path(folder)
    if not target.is_dir():
        raise TransportError("folder_missing", folder=target)
    batch_id = batch_id or new_batch_id(dt.date.today())
    data = dumps_notices(notices)
    name = f"{batch_id}{DATA_SUFFIX}"
    manifest = sign_manifest(batch_id, name, data, len(notices), private)
    leftover = target / name  # a regular data file without manifest: an earlier send of this batch, killed midway
    if os.path.lexists(target / f"{batch_id}{MANIFEST_SUFFIX}") or (
            os.path.lexists(leftover) and not stat.S_ISREG(leftover.lstat().st_mode)):
        raise TransportError("folder_batch_present", batch_id=batch_id, folder=target)
    # readable by others: the receiver is another account (confidentiality rests on the folder's permissions).
    # Renamed into place, so a link at the data file's name is replaced, never followed; the manifest is
    # created exclusively: whatever another account placed at its name stays and the send is refused
    try:
        atomic_write_bytes(leftover, data, mode=0o644)
        atomic_write_bytes(target / f"{batch_id}{MANIFEST_SUFFIX}", manifest.to_bytes(), mode=0o644, exclusive=True)
    except FileExistsError:
        raise TransportError("folder_batch_present", batch_id=batch_id, folder=target) from None
    return manifest


SENT_ACTION = "line.sent"
"""The audit action of a batch delivered into the shared folder (subject: the batch id)."""


def send_batch(ledger: Ledger, notices: Sequence[Notice], folder: str | os.PathLike[str], private: Ed25519PrivateKey,
               batch_id: str | None, clerk: str, held: Sequence[Held] = ()) -> Manifest:
    """Deliver a batch into the shared folder (`send`), record it in the outbox (with the notices `held` back) and
    audit it as `clerk`, in one transaction, as `bundle.write_bundle` does.

    TransportError (no such folder, the batch is there already) or OSError before anything is recorded.
    """
    from paperlink.outbox import record_rows

    manifest = send(notices, folder, private, batch_id)
    with ledger.transaction():
        record_rows(ledger, manifest.batch_id, Transport.LINE, notices, held, clerk)
        ledger.audit(clerk, SENT_ACTION, manifest.batch_id, count=manifest.count, folder=str(Path(folder)),
                     sha256=manifest.sha256, held=held_list(held))
    return manifest


@dataclass(frozen=True)
class Received:
    """What the receiver did with one batch or file."""

    name: str
    outcome: str  # imported, duplicate, quarantined, in_use (left in place for now: tried again on the next poll)
    batch_id: str | None = None
    count: int = 0
    reason: str | None = None
    held: tuple[tuple[int, Held], ...] = ()
    """(n, hold) of each notice of the batch held on import."""


@dataclass
class Receiver:
    """Receives batches from a shared folder into the ledger.

    The folder may be written by other accounts, so it is read as `paperlink.safefs` says: only regular files
    of bounded size, never through a symbolic link, never blocking; one entry that is anything else – a link,
    a folder or FIFO named like a manifest, a manifest nested too deeply – is quarantined with its reason, and
    the rest of the folder is still processed. An entry that cannot be handled now (a file held open by
    another program) is left in place, reported as `held`, and tried again on the next poll.
    """

    folder: Path
    ledger: Ledger
    trusted: Mapping[bytes, Ed25519PublicKey]
    actor: str = "receiver"
    orphan_seconds: float = 600.0
    """A data file whose manifest has not come after this long is quarantined (the sender died midway)."""
    stable_seconds: float = 0.0
    """A manifest is read only once it is this old (a polling receiver waits for a quiet folder)."""

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if not self.folder.is_dir():
            raise TransportError("folder_missing", folder=self.folder)
        for sub in ("done", "quarantine"):
            (self.folder / sub).mkdir(exist_ok=True)

    def _listing(self) -> dict[str, tuple[Path, os.stat_result]]:
        """The folder's top-level entries (hidden ones and our own sub-folders aside), by case-folded name,
        each with its `lstat` (a link is described, never followed)."""
        found: dict[str, tuple[Path, os.stat_result]] = {}
        for path in sorted(self.folder.iterdir()):
            if path.name.startswith(".") or path.name in ("done", "quarantine"):
                continue
            try:
                found.setdefault(path.name.casefold(), (path, path.lstat()))
            except FileNotFoundError:
                continue  # gone since the listing
        return found

    def receive_once(self) -> list[Received]:
        """Handle every complete batch now in the folder, and quarantine what can never become one."""
        now_ = time.time()
        listing = self._listing()
        results = []
        for path, info in listing.values():
            if not has_suffix(path.name, MANIFEST_SUFFIX) or not is_utf8_name(path.name):
                continue  # (a name that is not UTF-8 is quarantined as a stray)
            if stat.S_ISREG(info.st_mode) and now_ - info.st_mtime < self.stable_seconds:
                continue  # may still be arriving
            results.append(self._guarded(path, functools.partial(self._receive, path, listing)))
        results += self._strays(self._listing())
        return results

    def _guarded(self, path: Path, handle: Callable[[], Received]) -> Received:
        """`handle()`, or – when the file system refuses for now (a file held open) – `held`, to retry later."""
        try:
            return handle()
        except OSError as exc:
            reason = safe_text(f"{path.name}: left in place for now ({exc.strerror or exc})", [path.name])
            return Received(label(path.name), "in_use", reason=reason)

    def _receive(self, manifest_path: Path, listing: dict[str, tuple[Path, os.stat_result]]) -> Received:
        name = manifest_path.name
        batch_guess = strip_suffix(name, MANIFEST_SUFFIX)
        data_guess = listing.get(f"{batch_guess}{DATA_SUFFIX}".casefold(), (self.folder / f"{batch_guess}{DATA_SUFFIX}",))[0]
        try:
            manifest = Manifest.from_bytes(_read_shared(manifest_path, MAX_MANIFEST_BYTES), name)
            manifest.verify(self.trusted, name)
            if manifest.batch_id != batch_guess or manifest.file_name != f"{batch_guess}{DATA_SUFFIX}":
                raise TransportError("folder_manifest_names", name=name, batch_id=manifest.batch_id,
                                     file_name=manifest.file_name)
            data_path = data_guess
            if not os.path.lexists(data_path) and self._already_done(manifest):
                self._move([manifest_path], "done")  # a receiver stopped between its two moves
                return Received(name, "duplicate", manifest.batch_id, manifest.count)
            if not os.path.lexists(data_path):
                raise TransportError("folder_data_missing", name=name, file_name=manifest.file_name)
            data = _read_shared(data_path, MAX_DATA_FILE_BYTES)
            manifest.check_data(data, manifest.file_name)
            read = parse_holding(data, manifest.file_name)
            failpoint("line.before-import")
            result = import_batch(self.ledger, manifest, read.notices, Transport.LINE, self.actor,
                                  held=by_position(read))
            failpoint("line.after-import")
        except (TransportError, DataFileError) as exc:
            reason = str(exc) if isinstance(exc, TransportError) else "; ".join(str(p) for p in exc.problems[:20])
            self._quarantine([manifest_path, data_guess], batch_guess, reason)
            return Received(name, "quarantined", batch_guess, reason=reason)
        try:
            self._move([data_path], "done")
            failpoint("line.between-moves")
            self._move([manifest_path], "done")
        except OSError as exc:  # imported: the next poll finds it a duplicate and moves what is left
            reason = safe_text(f"imported; {name} left in place for now ({exc.strerror or exc})", [name])
            return Received(name, result.outcome, result.batch_id, result.count, reason=reason, held=result.held)
        return Received(name, result.outcome, result.batch_id, result.count, held=result.held)

    def _already_done(self, manifest: Manifest) -> bool:
        return already_imported(self.ledger, manifest) and (self.folder / "done" / manifest.file_name).exists()

    def _strays(self, listing: dict[str, tuple[Path, os.stat_result]]) -> list[Received]:
        """Data files whose manifest never came, and entries that are no part of any batch."""
        out = []
        for path, info in listing.values():
            utf8 = is_utf8_name(path.name)
            if has_suffix(path.name, MANIFEST_SUFFIX) and utf8:
                continue  # manifests are handled above (one that is still there waits to be stable)
            kind = kind_of(info.st_mode)
            if kind == "a folder" and not has_suffix(path.name, DATA_SUFFIX, MANIFEST_SUFFIX):
                continue  # a sub-folder is no delivery: left alone
            if not utf8:
                reason = f"{label(path.name)}: never read: its name is not UTF-8"
            elif kind is not None:
                reason = f"{path.name}: never read: {kind}, not a regular file"
            elif has_suffix(path.name, DATA_SUFFIX):
                manifest_name = f"{strip_suffix(path.name, DATA_SUFFIX)}{MANIFEST_SUFFIX}"
                if manifest_name.casefold() in listing:
                    continue
                if time.time() - info.st_mtime < self.orphan_seconds:
                    continue  # the manifest may still come
                reason = f"{path.name}: no manifest came within {self.orphan_seconds:g} s (the sender stopped midway?)"
            else:
                reason = f"{path.name}: not part of any batch (unknown file)"
            result = self._guarded(path, functools.partial(self._quarantine_stray, path, reason))
            out.append(result)
        return out

    def _quarantine_stray(self, path: Path, reason: str) -> Received:
        self._quarantine([path], path.stem, reason)
        return Received(label(path.name), "quarantined", reason=label(reason))

    def _quarantine(self, paths: list[Path], stem: str, reason: str) -> None:
        present = [p for p in paths if os.path.lexists(p)]
        names = [p.name for p in present]
        text = safe_text(reason, names) + "\n" + "".join(f"file: {escape_name(n)}\n" for n in names)
        # the reason first: a crash after it leaves the files in place, to be quarantined again
        create_exclusive(self.folder / "quarantine", f"{label(stem)}.reason.txt", text.encode("utf-8"))
        moved = self._move(present, "quarantine")
        with self.ledger.transaction():
            self.ledger.audit(self.actor, "line.quarantined", label(stem), reason=label(reason),
                              files=[label(p.name) for p in moved])

    def _move(self, paths: list[Path], sub: str) -> list[Path]:
        return [move_into(path, self.folder / sub) for path in paths]


MAX_MANIFEST_BYTES = 64 * 1024
"""A manifest is a few hundred bytes; anything over this is refused unread."""


def _read_shared(path: Path, limit: int) -> bytes:
    """A file of the shared folder: a regular file, not through a link, at most `limit` bytes, never blocking.

    Anything else is a TransportError (the entry is quarantined); other OSErrors (a file held open) pass.
    """
    try:
        return read_regular(path, limit, follow=False)
    except UnsafeFileError as exc:
        raise TransportError("folder_not_regular", name=path.name, detail=exc.strerror) from None
