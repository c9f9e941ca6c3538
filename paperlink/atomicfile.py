"""Writing files so that a reader (or a crash) never sees half of one: temp file, fsync, rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from paperlink import safefs
from paperlink.failpoints import failpoint


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, mode: int = 0o600, exclusive: bool = False) -> None:
    """Write `data` to `path` atomically: the file is either the old one or the whole new one.

    Owner-only (0600) unless `mode` says otherwise: what paperlink writes mostly holds personal data.
    `exclusive`: `path` must not exist (FileExistsError, nothing written) – for folders other accounts write,
    where an entry placed at the name must be neither replaced nor followed.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data[: len(data) // 2])
            failpoint("atomic.mid-write")
            handle.write(data[len(data) // 2:])
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if exclusive:
            safefs.rename_new(tmp, target)
        else:
            os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sweep_stale(target)
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some file systems (e.g. FAT on USB media) cannot fsync a directory
    finally:
        os.close(dir_fd)


STALE_SECONDS = 60.0


def _sweep_stale(target: Path) -> None:
    """Remove temporary files an earlier, killed write to the same target left behind."""
    import time

    for leftover in target.parent.glob(f".{target.name}.*.part"):
        try:
            if time.time() - leftover.stat().st_mtime > STALE_SECONDS:
                leftover.unlink()
        except OSError:
            pass  # gone already, or not ours to remove


def free_name(folder: Path, name: str) -> Path:
    """`folder/name`, or `name-1`, `name-2`, … (before the suffix) if that exists: never overwrite.

    Whatever is there counts as taken, a dangling symbolic link too (see `paperlink.safefs.free_name`).
    """
    return safefs.free_name(folder, name)


def move_into(path: Path, folder: Path) -> Path:
    """Move a file into `folder` (same file system) without replacing anything there; return where it went.

    See `paperlink.safefs.move_into` (a file held open elsewhere is retried for a while).
    """
    return safefs.move_into(path, folder)
