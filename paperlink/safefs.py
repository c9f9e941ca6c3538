"""Files in folders that other accounts (or other programs) may write: read, create and move them safely.

The scan folder, the shared folder and their `done/`, `failed/` and `quarantine/` sub-folders can be written by
a scanner, the MOJ linkage terminal or anyone with access to the share. What paperlink does there:

* **Reading** (`read_regular`): only a regular file, opened without following a symbolic link (where the
  system allows it), never blocking (a FIFO or a device is refused before a byte is read) and never more
  than a stated number of bytes (`/dev/zero` is refused, not read until memory runs out).
* **Writing** (`create_exclusive`): a new file only – created with `O_EXCL` (never through a symbolic link,
  never over an existing file), owner-only unless asked otherwise, written completely under a temporary
  name first and then linked to its final name.
* **Moving** (`move_into`): a rename that never replaces what is at the target (a symbolic link placed there
  is a name that is taken, not a way out), retried for a while when the file is held open by another
  program (a scanner, an antivirus or Explorer's preview on Windows give a sharing violation).
* **Text about names** (`escape_name`, `safe_text`): file names put into reason files are escaped – every
  character outside letters, digits and `._-+@,=` becomes `%XX` – so a name such as `x; touch PWNED; #.pdf`
  can never become a command in a text some program might run, and control characters (a newline in a
  name) can never forge a line.
* **Names** (`has_suffix`): suffixes match in any case, as they do on Windows.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
NONBLOCK = getattr(os, "O_NONBLOCK", 0)
BINARY = getattr(os, "O_BINARY", 0)
NOCTTY = getattr(os, "O_NOCTTY", 0)

RETRY_DELAYS: Sequence[float] = (0.05, 0.1, 0.2, 0.4, 0.8)
"""Pauses between attempts to move or delete a file held open by another program (about 1.5 s in all)."""

_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV, errno.EMLINK, errno.EINVAL}
"""Errors of `link()` that mean 'this file system (or this entry) cannot be hard-linked': rename instead."""


class UnsafeFileError(OSError):
    """An entry that is not a regular file of bounded size: a link, folder, FIFO, device – or too large."""


def kind_of(mode: int) -> str | None:
    """What an entry is, in words, when it is not a regular file (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "something other than a file"


def entry_kind(path: str | os.PathLike[str]) -> str | None:
    """What is at `path` without following a link: None for a regular file, else its kind in words."""
    return kind_of(os.lstat(path).st_mode)


def _refuse(path: str | os.PathLike[str], why: str) -> UnsafeFileError:
    return UnsafeFileError(errno.EINVAL, why, str(path))


def read_regular(path: str | os.PathLike[str], limit: int, *, follow: bool = True) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; UnsafeFileError (an OSError) naming it otherwise.

    `follow=False` refuses a symbolic link (for folders other accounts write). The file is opened without
    blocking, and checked on the open descriptor, so nothing can be swapped in between the check and the read.
    """
    if not follow and not NOFOLLOW and os.path.islink(path):
        raise _refuse(path, "a symbolic link, not a regular file")
    flags = os.O_RDONLY | NONBLOCK | BINARY | NOCTTY | (0 if follow else NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise _refuse(path, "a symbolic link, not a regular file") from None
        if exc.errno in (errno.EISDIR, errno.EACCES) and os.path.isdir(path):
            raise _refuse(path, "a folder, not a regular file") from None
        raise
    try:
        info = os.fstat(fd)
        kind = kind_of(info.st_mode)
        if kind is not None:
            raise _refuse(path, f"{kind}, not a regular file")
        if info.st_size > limit:
            raise _refuse(path, f"too large: {info.st_size:,} bytes, at most {limit:,}")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # it grew while being read
            raise _refuse(path, f"too large: more than {limit:,} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def has_suffix(name: str, *suffixes: str) -> bool:
    """Whether `name` ends with one of `suffixes`, in any case (`X.MANIFEST.JSON`, `scan.PDF.TMP`)."""
    folded = name.casefold()
    return any(folded.endswith(s.casefold()) for s in suffixes)


def strip_suffix(name: str, suffix: str) -> str:
    """`name` without `suffix` (matched in any case)."""
    return name[: -len(suffix)] if has_suffix(name, suffix) else name


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+@,=")


def escape_name(name: str) -> str:
    """A file name as it may appear in a text another program might read or run.

    Letters, digits, `._-+@,=` and printable non-ASCII characters (Japanese names) stay; everything else –
    spaces, `;`, `$`, quotes, `#`, slashes, control characters such as a newline – becomes `%XX` (UTF-8),
    and `%` itself becomes `%25`, so the escaping is unambiguous.
    """
    out = []
    for ch in name:
        if ch in _SAFE or (ord(ch) > 127 and ch.isprintable() and not ch.isspace()):
            out.append(ch)
        else:
            out.append(_percent(ch))
    return "".join(out)


def safe_text(text: str, names: Iterable[str] = ()) -> str:
    """`text` with every occurrence of `names` escaped (see `escape_name`) and no unprintable character left.

    Longer names are replaced first (a full path before its last component). Every other character that is
    not printable (a newline, a carriage return, an escape, a byte that was not UTF-8) becomes `%XX` too, so
    one reason is one line.
    """
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = text.replace(name, escape_name(name))
    return "".join(ch if ch.isprintable() else _percent(ch) for ch in text)


def label(text: str) -> str:
    """`text` safe to store and print: a byte of a file name that was not UTF-8 (a lone surrogate) as `%XX`."""
    return "".join(_percent(ch) if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)


def is_utf8_name(name: str) -> bool:
    """Whether a file name was valid UTF-8 (no byte had to be smuggled in as a surrogate)."""
    return label(name) == name


def _percent(ch: str) -> str:
    return "".join(f"%{byte:02X}" for byte in ch.encode("utf-8", "surrogateescape"))


T = TypeVar("T")


def retry(action: Callable[[], T], delays: Sequence[float] | None = None) -> T:
    """Run `action`; while it fails with PermissionError (a file held open elsewhere), wait and try again.

    The last PermissionError is raised when every pause in `delays` (default `RETRY_DELAYS`) has passed.
    """
    pauses = list(RETRY_DELAYS if delays is None else delays)
    while True:
        try:
            return action()
        except PermissionError:
            if not pauses:
                raise
            time.sleep(pauses.pop(0))


def _variants(name: str) -> Iterable[str]:
    """`name`, then `stem-1.suffix`, `stem-2.suffix`, … (the suffix from the first dot)."""
    yield name
    stem, dot, suffix = name.partition(".")
    counter = 1
    while True:
        yield f"{stem}-{counter}{dot}{suffix}"
        counter += 1


def free_name(folder: Path, name: str, companions: Sequence[str] = ()) -> Path:
    """`folder/name`, or the first variant (`name-1`, …) such that it and `name + companion` are all free.

    An entry counts as taken whatever it is – a dangling symbolic link too.
    """
    for candidate in _variants(name):
        if not any(os.path.lexists(folder / (candidate + extra)) for extra in ("", *companions)):
            return folder / candidate
    raise AssertionError("unreachable")  # pragma: no cover


def rename_new(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Give `source` the name `target` without ever replacing an entry there (FileExistsError if one is)."""
    if os.name == "nt":
        os.rename(source, target)  # Windows: rename never replaces an existing file
        return
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        # a folder, or a file system without hard links (FAT, some network shares): check, then rename
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "File exists", str(target)) from None
        os.rename(source, target)
        return
    try:
        os.unlink(source)
    except OSError:
        os.unlink(target)
        raise


def check_folder(folder: Path) -> None:
    """UnsafeFileError unless `folder` is a real folder – not a symbolic link to one somewhere else."""
    kind = kind_of(os.lstat(folder).st_mode)
    if kind is None or kind != "a folder":
        raise _refuse(folder, f"{kind or 'a file'}, not a folder (never followed)")


def move_into(path: Path, folder: Path, companions: Sequence[str] = (), delays: Sequence[float] | None = None) -> Path:
    """Move `path` into `folder` (same file system) without replacing anything there; return where it went.

    The name is kept, or the first free variant (`free_name`, also keeping `name + companion` free for a file
    that comes with it, such as its reason file). A PermissionError (the file is held open by another
    program) is retried for a while (`retry`), then raised; the file is then still where it was. `folder`
    must be a real folder: a symbolic link put in place of `done/` or `failed/` is refused (UnsafeFileError).
    """
    check_folder(folder)

    def attempt() -> Path:
        while True:
            target = free_name(folder, path.name, companions)
            try:
                rename_new(path, target)
            except FileExistsError:
                continue  # taken in the meantime: the next free name
            return target

    return retry(attempt, delays)


def create_exclusive(folder: Path, name: str, data: bytes, mode: int = 0o600) -> Path:
    """Create a new file `folder/name` (or a free variant) holding `data`; return its path.

    Written in full under a temporary name first (`mkstemp`: O_EXCL, owner-only), fsync'd, then linked to
    the final name, which must not exist – a symbolic link or file placed there is never followed nor
    replaced. A reader never sees half of it.
    """
    check_folder(folder)
    fd, tmp = tempfile.mkstemp(prefix=".paperlink-", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode != 0o600:
            os.chmod(tmp, mode)
        for candidate in _variants(name):
            target = folder / candidate
            try:
                rename_new(Path(tmp), target)
            except FileExistsError:
                continue
            return target
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    raise AssertionError("unreachable")  # pragma: no cover


def open_new(path: str | os.PathLike[str], mode: int = 0o600) -> int:
    """A descriptor of a new, empty file at `path`: created exclusively (never through a link), `mode`."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | BINARY, mode)
