"""Writing files so that a reader (or a crash) never sees half of one: temp file, fsync, rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from paperlink.failpoints import failpoint


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` atomically: the file is either the old one or the whole new one."""
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
    """`folder/name`, or `name-1`, `name-2`, … (before the suffix) if that exists: never overwrite."""
    target = folder / name
    stem, dot, suffix = name.partition(".")
    counter = 1
    while target.exists():
        target = folder / f"{stem}-{counter}{dot}{suffix}"
        counter += 1
    return target


def move_into(path: Path, folder: Path) -> Path:
    """Move a file into `folder` (same file system) without overwriting anything there; return where it went."""
    target = free_name(folder, path.name)
    os.replace(path, target)
    return target
