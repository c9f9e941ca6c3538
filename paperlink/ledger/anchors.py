"""Where the audit log's anchors are kept outside the ledger, and where `audit verify` looks for them.

    keys/audit-key            the HMAC key (see `KeyStore.audit_key`); never in the ledger
    keys/audit-anchor.json    the latest anchor, rewritten after every transaction that appended audit entries
    keys/audit-anchors.jsonl  every anchor handed out (processing report, receipt, backup, export manifest)

Anyone who can write the ledger file can delete its last rows or recompute its hash chain; they cannot make an
anchor without the key, and every anchor written before names an entry (by position and hash) that must still
be there, unchanged. The head file is rewritten only forwards (a count never goes down), under a file lock, after
the transaction's COMMIT – so a crash between the two leaves the anchor one transaction behind, never ahead.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperlink.atomicfile import atomic_write_bytes
from paperlink.home import Home
from paperlink.keys import KeyStore
from paperlink.ledger import audit as chain
from paperlink.ledger.audit import Anchor

if TYPE_CHECKING:
    from paperlink.ledger.dialect import Db

MANIFEST_SUFFIX = ".manifest.json"
"""A backup or export `FILE` gets `FILE.manifest.json` beside it, holding the anchor among its facts."""
MAX_ANCHOR_FILE = 4 * 1024 * 1024
"""Anchor files larger than this are not read (a manifest is a few hundred bytes)."""


@dataclass(frozen=True)
class FoundAnchor:
    """An anchor and where it was found."""

    source: str
    anchor: Anchor


class AnchorStore:
    """The anchors of one data directory."""

    def __init__(self, home_root: Path) -> None:
        self.home = Home(home_root)
        self.keys = KeyStore(self.home)
        self.head_path = self.home.keys / "audit-anchor.json"
        self.issued_path = self.home.keys / "audit-anchors.jsonl"
        self._key: bytes | None = None

    def key(self, create: bool = True) -> bytes | None:
        """The HMAC key (made on first use when `create`)."""
        if self._key is None:
            self._key = self.keys.audit_key(create=create)
        return self._key

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.home.keys.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.home.keys / "audit-anchor.lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
        try:
            try:
                import fcntl
            except ImportError:  # Windows: one process at a time in practice
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def stored_head(self) -> Anchor | None:
        """The anchor in the head file, or None."""
        return _read_anchor(self.head_path)

    def update(self, db: Db, at: str) -> Anchor:
        """Anchor the log as committed now; the head file only ever moves forward."""
        key = self.key()
        assert key is not None
        with self._locked():
            anchor = chain.make_anchor(db, key, at)
            stored = self.stored_head()
            if stored is None or anchor.count >= stored.count:
                _replace_file(self.head_path, json.dumps(anchor.as_dict()).encode("ascii") + b"\n")
            return anchor

    def issue(self, db: Db, at: str, purpose: str, subject: str = "") -> Anchor:
        """An anchor to hand out (report, receipt, backup or export manifest); kept in the issued list too."""
        anchor = self.update(db, at)
        line = json.dumps({**anchor.as_dict(), "purpose": purpose, "subject": subject}, ensure_ascii=False) + "\n"
        with self._locked():
            fd = os.open(self.issued_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as out:
                out.write(line)
        return anchor

    def archive(self, tag: str) -> Path:
        """Move the head file and the issued list into `keys/anchors-before-restore-<tag>/` (after a restore)."""
        folder = self.home.keys / f"anchors-before-restore-{tag}"
        with self._locked():
            folder.mkdir(mode=0o700)
            for path in (self.head_path, self.issued_path):
                if path.exists():
                    os.replace(path, folder / path.name)
        return folder

    def found(self, extra: list[Path] | None = None) -> list[FoundAnchor]:
        """Every anchor this data directory holds (head file, issued list, manifests in exports/) and in `extra`."""
        out: list[FoundAnchor] = []
        head = self.stored_head()
        if head is not None:
            out.append(FoundAnchor(str(self.head_path), head))
        for number, data in enumerate(_read_lines(self.issued_path), start=1):
            anchor = Anchor.from_dict(data)
            if anchor is not None:
                out.append(FoundAnchor(f"{self.issued_path}:{number}", anchor))
        exports = self.home.root / "exports"
        manifests = sorted(exports.glob("*" + MANIFEST_SUFFIX)) if exports.is_dir() else []
        for path in manifests + list(extra or []):
            anchor = _read_anchor(path)
            if anchor is not None:
                out.append(FoundAnchor(str(path), anchor))
        return out


def _replace_file(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all (temp file, fsync, rename), owner-only.

    Not `atomic_write_bytes`: its crash-test failpoint belongs to the files a command is asked to write, and
    the anchor is written after every transaction of every command.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def anchor_in(data: Any) -> Anchor | None:
    """The anchor in a JSON document: the document itself, or its `audit_anchor` member."""
    if isinstance(data, dict) and "audit_anchor" in data:
        return Anchor.from_dict(data["audit_anchor"])
    return Anchor.from_dict(data)


def _read_bounded(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        import stat

        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        data = handle.read(MAX_ANCHOR_FILE + 1)
    return data if len(data) <= MAX_ANCHOR_FILE else None


def _read_anchor(path: Path) -> Anchor | None:
    data = _read_bounded(path)
    if data is None:
        return None
    try:
        return anchor_in(json.loads(data))
    except (ValueError, RecursionError):
        return None


def _read_lines(path: Path) -> list[Any]:
    data = _read_bounded(path)
    out = []
    for line in (data or b"").splitlines():
        try:
            out.append(json.loads(line))
        except (ValueError, RecursionError):
            out.append(None)
    return out


def write_manifest(target: Path, facts: dict[str, Any]) -> Path:
    """`target.manifest.json` beside a backup or export: its facts and the audit anchor (owner-only)."""
    path = target.with_name(target.name + MANIFEST_SUFFIX)
    atomic_write_bytes(path, json.dumps(facts, ensure_ascii=False, indent=2).encode("utf-8") + b"\n", mode=0o600)
    return path
