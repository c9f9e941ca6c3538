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
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from paperlink.atomicfile import atomic_write_bytes, free_name, move_into
from paperlink.dataformat import dumps_notices
from paperlink.errors import DataFileError
from paperlink.failpoints import failpoint
from paperlink.holding import Held, by_position, held_list, parse_holding
from paperlink.ledger import Ledger, Transport
from paperlink.notice import Notice
from paperlink.payload import new_batch_id
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
    if (target / f"{batch_id}{MANIFEST_SUFFIX}").exists():
        raise TransportError("folder_batch_present", batch_id=batch_id, folder=target)
    atomic_write_bytes(target / name, data)
    atomic_write_bytes(target / f"{batch_id}{MANIFEST_SUFFIX}", manifest.to_bytes())
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
    outcome: str  # imported, duplicate, quarantined
    batch_id: str | None = None
    count: int = 0
    reason: str | None = None
    held: tuple[tuple[int, Held], ...] = ()
    """(n, hold) of each notice of the batch held on import."""


@dataclass
class Receiver:
    """Receives batches from a shared folder into the ledger."""

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

    def receive_once(self) -> list[Received]:
        """Handle every complete batch now in the folder, and quarantine what can never become one."""
        now_ = time.time()
        manifests = [p for p in sorted(self.folder.glob(f"*{MANIFEST_SUFFIX}"))
                     if not p.name.startswith(".") and now_ - p.stat().st_mtime >= self.stable_seconds]
        results = [self._receive(path) for path in manifests]
        results += self._strays()
        return results

    def _receive(self, manifest_path: Path) -> Received:
        name = manifest_path.name
        batch_guess = name.removesuffix(MANIFEST_SUFFIX)
        try:
            manifest = Manifest.from_bytes(manifest_path.read_bytes(), name)
            manifest.verify(self.trusted, name)
            if manifest.batch_id != batch_guess or manifest.file_name != f"{batch_guess}{DATA_SUFFIX}":
                raise TransportError("folder_manifest_names", name=name, batch_id=manifest.batch_id,
                                     file_name=manifest.file_name)
            data_path = self.folder / manifest.file_name
            if not data_path.exists() and self._already_done(manifest):
                self._move([manifest_path], "done")  # a receiver stopped between its two moves
                return Received(name, "duplicate", manifest.batch_id, manifest.count)
            if not data_path.exists():
                raise TransportError("folder_data_missing", name=name, file_name=manifest.file_name)
            data = data_path.read_bytes()
            manifest.check_data(data, manifest.file_name)
            read = parse_holding(data, manifest.file_name)
            failpoint("line.before-import")
            result = import_batch(self.ledger, manifest, read.notices, Transport.LINE, self.actor,
                                  held=by_position(read))
            failpoint("line.after-import")
        except (TransportError, DataFileError) as exc:
            reason = str(exc) if isinstance(exc, TransportError) else "; ".join(str(p) for p in exc.problems[:20])
            self._quarantine([manifest_path, self.folder / f"{batch_guess}{DATA_SUFFIX}"], batch_guess, reason)
            return Received(name, "quarantined", batch_guess, reason=reason)
        self._move([self.folder / manifest.file_name], "done")
        failpoint("line.between-moves")
        self._move([manifest_path], "done")
        return Received(name, result.outcome, result.batch_id, result.count, held=result.held)

    def _already_done(self, manifest: Manifest) -> bool:
        return already_imported(self.ledger, manifest) and (self.folder / "done" / manifest.file_name).exists()

    def _strays(self) -> list[Received]:
        """Data files whose manifest never came, and files that are no part of any batch."""
        out = []
        for path in sorted(p for p in self.folder.iterdir() if p.is_file()):
            if path.name.startswith(".") or path.name.endswith(MANIFEST_SUFFIX):
                continue  # temporary files of a sender at work; manifests are handled above
            if path.name.endswith(DATA_SUFFIX):
                if (self.folder / path.name.replace(DATA_SUFFIX, MANIFEST_SUFFIX)).exists():
                    continue
                if time.time() - path.stat().st_mtime < self.orphan_seconds:
                    continue  # the manifest may still come
                reason = f"{path.name}: no manifest came within {self.orphan_seconds:g} s (the sender stopped midway?)"
            else:
                reason = f"{path.name}: not part of any batch (unknown file)"
            self._quarantine([path], path.stem, reason)
            out.append(Received(path.name, "quarantined", reason=reason))
        return out

    def _quarantine(self, paths: list[Path], stem: str, reason: str) -> None:
        present = [p for p in paths if p.exists()]
        note = free_name(self.folder / "quarantine", f"{stem}.reason.txt")
        # the reason first: a crash after it leaves the files in place, to be quarantined again
        atomic_write_bytes(note, (reason + "\n" + "\n".join(f"file: {p.name}" for p in present) + "\n").encode("utf-8"))
        moved = self._move(present, "quarantine")
        with self.ledger.transaction():
            self.ledger.audit(self.actor, "line.quarantined", stem, reason=reason, files=[p.name for p in moved])

    def _move(self, paths: list[Path], sub: str) -> list[Path]:
        return [move_into(path, self.folder / sub) for path in paths]

