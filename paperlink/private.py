"""Owner-only folders and files: POSIX modes on Linux and macOS, an owner-only ACL on Windows.

The data directory holds personal data (the ledger, scans) and the signing key. On POSIX it is mode 0700
and the files with personal data 0600. On Windows `mkdir(mode=0o700)` and `chmod(0o600)` do not make
anything private (before Python 3.12.4 not at all, and never for a folder that exists already): a folder
such as `D:\\paperlink` inherits "Authenticated Users" read access from the drive. There, paperlink sets a
*protected* DACL (no inherited entries) that allows only the current user – plus SYSTEM, the operating
system itself, which like root on Linux can read everything anyway and which backup services run as –
inherited by everything created inside (`OI`/`CI`), and reads the DACL back to verify it.

`make_private(path)` sets it, `readers(path)` lists who besides the owner can read, and `ensure_private`
does both and raises HomeError `home_not_private` naming them when the path stays readable by others
(a folder the user may not change the permissions of): paperlink then refuses to run on it.

Two Windows backends, behind one small interface (`Acl`) that speaks SDDL strings: the Win32 security API
through pywin32 (declared for Windows in pyproject.toml), else `icacls` (in every Windows since Vista).
Both are tested on Linux with the Win32 calls and the `icacls` runs faked (tests/test_private.py); the
SDDL rules (which entries let whom read) are shared.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from paperlink.errors import HomeError

SYSTEM_SID = "S-1-5-18"
_ALIASES = {  # SDDL's two-letter names of well-known SIDs (the ones an ACL on a file is likely to name)
    "SY": SYSTEM_SID, "BA": "S-1-5-32-544", "BU": "S-1-5-32-545", "AU": "S-1-5-11", "WD": "S-1-1-0",
    "IU": "S-1-5-4", "NU": "S-1-5-2", "AN": "S-1-5-7", "CO": "S-1-3-0", "CG": "S-1-3-1", "OW": "S-1-3-4",
    "PU": "S-1-5-32-547", "AC": "S-1-15-2-1", "RD": "S-1-5-32-555", "NS": "S-1-5-20", "LS": "S-1-5-19",
    "BG": "S-1-5-32-546", "SU": "S-1-5-6", "BO": "S-1-5-32-551",
}
_READ_TOKENS = {"FA", "FR", "GA", "GR", "CC"}  # CC is bit 0x1: FILE_READ_DATA / FILE_LIST_DIRECTORY on a file
_READ_BITS = 0x1 | 0x80000000 | 0x10000000  # FILE_READ_DATA, GENERIC_READ, GENERIC_ALL
_ACE = re.compile(r"\(([^()]*)\)")


def is_windows() -> bool:
    """Whether files are protected by ACLs (Windows) rather than POSIX modes (tests fake this)."""
    return sys.platform == "win32"


# -- SDDL: shared by both Windows backends ------------------------------------------------------------


def owner_only_sddl(user_sid: str, directory: bool) -> str:
    """A protected DACL allowing the user and SYSTEM full control (inherited by a folder's contents)."""
    flags = "OICI" if directory else ""
    return f"D:P(A;{flags};FA;;;{user_sid})(A;{flags};FA;;;SY)"


def _grants_read(rights: str) -> bool:
    if rights.lower().startswith("0x"):
        return bool(int(rights, 16) & _READ_BITS)
    return any(rights[i:i + 2] in _READ_TOKENS for i in range(0, len(rights), 2))


def readers_in_sddl(sddl: str, user_sid: str) -> list[str]:
    """The SIDs besides the user and SYSTEM that an allow entry of this DACL lets read the object itself."""
    dacl = sddl[sddl.find("D:"):] if "D:" in sddl else sddl
    dacl = re.split(r"[OGS]:", dacl[2:], maxsplit=1)[0] if dacl.startswith("D:") else dacl
    found: list[str] = []
    for ace in _ACE.findall(dacl):
        fields = ace.split(";")
        if len(fields) < 6 or fields[0] not in ("A", "XA"):
            continue
        if "IO" in [fields[1][i:i + 2] for i in range(0, len(fields[1]), 2)]:
            continue  # inherit-only: applies to the folder's contents, not to the folder
        sid = _ALIASES.get(fields[5], fields[5])
        if sid in (user_sid, SYSTEM_SID) or not _grants_read(fields[2]):
            continue
        if sid not in found:
            found.append(sid)
    return found


class Acl(Protocol):
    """What paperlink needs of Windows' access control, in SDDL."""

    def user_sid(self) -> str:
        """The SID of the user running paperlink."""
        ...

    def get_sddl(self, path: Path) -> str:
        """The DACL of `path`, as SDDL."""
        ...

    def set_owner_only(self, path: Path, directory: bool) -> None:
        """Replace the DACL of `path` by `owner_only_sddl` (protected: nothing inherited)."""
        ...


# -- the Win32 security API (pywin32) -----------------------------------------------------------------


class Win32Acl:
    """The Win32 security API through pywin32's win32security."""

    def __init__(self, win32security: Any, win32api: Any) -> None:
        self.sec = win32security
        self.api = win32api

    def user_sid(self) -> str:
        token = self.sec.OpenProcessToken(self.api.GetCurrentProcess(), self.sec.TOKEN_QUERY)
        return str(self.sec.ConvertSidToStringSid(self.sec.GetTokenInformation(token, self.sec.TokenUser)[0]))

    def get_sddl(self, path: Path) -> str:
        info = self.sec.DACL_SECURITY_INFORMATION
        descriptor = self.sec.GetNamedSecurityInfo(str(path), self.sec.SE_FILE_OBJECT, info)
        return str(self.sec.ConvertSecurityDescriptorToStringSecurityDescriptor(descriptor, self.sec.SDDL_REVISION_1,
                                                                                 info))

    def set_owner_only(self, path: Path, directory: bool) -> None:
        descriptor = self.sec.ConvertStringSecurityDescriptorToSecurityDescriptor(
            owner_only_sddl(self.user_sid(), directory), self.sec.SDDL_REVISION_1)
        # SetNamedSecurityInfo (unlike SetFileSecurity) also updates what the folder's contents inherit
        self.sec.SetNamedSecurityInfo(str(path), self.sec.SE_FILE_OBJECT,
                                      self.sec.DACL_SECURITY_INFORMATION | self.sec.PROTECTED_DACL_SECURITY_INFORMATION,
                                      None, None, descriptor.GetSecurityDescriptorDacl(), None)


# -- icacls: the fallback -----------------------------------------------------------------------------


Runner = Callable[[Sequence[str]], str]


def _run(args: Sequence[str]) -> str:
    """Run a Windows tool; its output (decoded as the console's OEM code page would be irrelevant: SIDs are ASCII)."""
    result = subprocess.run(list(args), capture_output=True, check=False)
    if result.returncode != 0:
        raise OSError(f"{args[0]} failed ({result.returncode}): "
                      + (result.stderr or result.stdout).decode("ascii", "replace").strip())
    return result.stdout.decode("ascii", "replace")


class IcaclsAcl:
    """`icacls` and `whoami`; SIDs and SDDL only (their other output is in the PC's language)."""

    def __init__(self, run: Runner = _run) -> None:
        self.run = run
        self._sid: str | None = None

    def user_sid(self) -> str:
        if self._sid is None:
            line = self.run(["whoami", "/user", "/fo", "csv", "/nh"]).strip().splitlines()[-1]
            self._sid = line.rsplit(",", 1)[-1].strip().strip('"')
        return self._sid

    def get_sddl(self, path: Path) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            saved = Path(tmp) / "acl.txt"
            self.run(["icacls", str(path), "/save", str(saved), "/q"])
            lines = saved.read_bytes().decode("utf-16").splitlines()  # name, then the SDDL
        return next((line for line in lines if line.startswith("D:")), "")

    def set_owner_only(self, path: Path, directory: bool) -> None:
        inherit = "(OI)(CI)" if directory else ""
        user = self.user_sid()
        self.run(["icacls", str(path), "/inheritance:r", "/q"])
        self.run(["icacls", str(path), "/grant:r", f"*{user}:{inherit}F", f"*{SYSTEM_SID}:{inherit}F", "/q"])
        others = readers_in_sddl(self.get_sddl(path), user)
        if others:
            self.run(["icacls", str(path), "/remove:g", *(f"*{sid}" for sid in others), "/q"])


_backend: Acl | None = None


def backend() -> Acl:
    """The Win32 API through pywin32 when it loads, else icacls."""
    global _backend
    if _backend is None:
        try:
            import win32api  # type: ignore[import-untyped,import-not-found,unused-ignore]
            import win32security  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except Exception:  # pywin32 missing or its DLLs not loadable: icacls does the same job
            _backend = IcaclsAcl()
        else:
            _backend = Win32Acl(win32security, win32api)
    return _backend


def set_backend(acl: Acl | None) -> None:
    """Use `acl` (tests: a fake Windows); None goes back to choosing one."""
    global _backend
    _backend = acl


# -- the interface ------------------------------------------------------------------------------------


def make_private(path: Path) -> None:
    """Let only the owner (and, on Windows, SYSTEM) read and write `path` (a folder or a file)."""
    if is_windows():
        backend().set_owner_only(path, path.is_dir())
    else:
        os.chmod(path, 0o700 if path.is_dir() else 0o600)


def readers(path: Path) -> list[str]:
    """Who besides the owner can read `path`: SIDs on Windows; 'group'/'others' on POSIX."""
    if is_windows():
        acl = backend()
        return readers_in_sddl(acl.get_sddl(path), acl.user_sid())
    mode = stat.S_IMODE(path.stat().st_mode)
    return [who for who, bits in (("group", 0o070), ("others", 0o007)) if mode & bits]


def is_private(path: Path) -> bool:
    """Whether only the owner can read `path` (the ACL on Windows, the mode elsewhere)."""
    return not readers(path)


_NAMES = {"S-1-5-11": "Authenticated Users", "S-1-5-32-545": "Users", "S-1-1-0": "Everyone",
          "S-1-5-32-544": "Administrators", "S-1-5-4": "INTERACTIVE", "S-1-5-7": "ANONYMOUS LOGON",
          "S-1-5-32-547": "Power Users", "S-1-5-32-555": "Remote Desktop Users"}


def ensure_private(path: Path) -> None:
    """Make `path` owner-only unless it is already, and verify it; HomeError `home_not_private` if others can
    still read it (paperlink then refuses to run on it), naming them and why it could not be changed."""
    try:
        if not readers(path):
            return
    except OSError as exc:
        raise HomeError("home_acl_failed", path=path, detail=exc.strerror or exc) from None
    why = "the permissions did not change"
    try:
        make_private(path)
    except OSError as exc:
        why = str(exc.strerror or exc)
    try:
        left = readers(path)
    except OSError as exc:
        raise HomeError("home_acl_failed", path=path, detail=exc.strerror or exc) from None
    if left:
        raise HomeError("home_not_private", path=path, who=", ".join(_NAMES.get(sid, sid) for sid in left),
                        detail=why)
