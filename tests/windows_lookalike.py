"""Doubles that make Linux look like a Windows office PC, for tests/test_windows.py, tests/test_private.py and
the look-alike job (`./dev test-windows-lookalike`, which sets PAPERLINK_WINDOWS_LOOKALIKE=1; see
tests/conftest.py and tests/lookalike_site/sitecustomize.py).

- `FakeAcl`: Windows' access control in memory (SDDL per path, inherited by what is created inside a folder
  with an `OI`/`CI` entry), behind the same interface as paperlink.private's Win32 and icacls backends.
  A path nobody set inherits what a fresh folder on `D:\\` gets: Authenticated Users may read and change it.
- `FakeIcacls`: `icacls` and `whoami` as paperlink runs them, over a FakeAcl.
- `build_ttc`: a TrueType collection (.ttc, as MS Gothic, Meiryo, Yu Gothic and BIZ UDGothic ship) made from
  a .ttf, so that the Windows font candidates are loaded for real.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from pathlib import Path

from paperlink import private

USER_SID = "S-1-5-21-1004336348-1177238915-682003330-1001"
DRIVE_DEFAULT = ("D:AI(A;OICIID;FA;;;BA)(A;OICIID;FA;;;SY)(A;OICIID;0x1301bf;;;AU)(A;OICIID;0x1200a9;;;BU)"
                 f"(A;OICIID;FA;;;{USER_SID})")
"""What a new folder on a second drive (D:\\paperlink) inherits: Authenticated Users may read and modify."""


class FakeAcl:
    """Windows ACLs in memory; implements paperlink.private.Acl."""

    def __init__(self, default: str = DRIVE_DEFAULT) -> None:
        self.explicit: dict[Path, str] = {}
        self.default = default
        self.refuse: set[Path] = set()
        """Paths whose DACL this user may not change (set_owner_only raises 'Access is denied')."""
        self.calls: list[tuple[str, Path]] = []

    def user_sid(self) -> str:
        return USER_SID

    def get_sddl(self, path: Path) -> str:
        path = Path(path).absolute()
        if not path.exists():
            raise FileNotFoundError(2, "The system cannot find the file specified", str(path))
        self.calls.append(("get", path))
        if path in self.explicit:
            return self.explicit[path]
        for parent in path.parents:
            if parent in self.explicit:
                inherited = [ace for ace in re.findall(r"\(([^()]*)\)", self.explicit[parent])
                             if "OI" in ace.split(";")[1] or "CI" in ace.split(";")[1]]
                return "D:AI" + "".join(f"({_inherited(ace)})" for ace in inherited)
        return self.default

    def set_owner_only(self, path: Path, directory: bool) -> None:
        path = Path(path).absolute()
        self.calls.append(("set", path))
        if path in self.refuse:
            raise PermissionError(13, "Access is denied", str(path))
        self.explicit[path] = private.owner_only_sddl(USER_SID, directory)

    def is_protected_owner_only(self, path: Path) -> bool:
        """Whether `path` has, or inherits from a folder that has, paperlink's protected owner-only DACL."""
        path = Path(path).absolute()
        for candidate in (path, *path.parents):
            if candidate in self.explicit:
                return self.explicit[candidate].startswith("D:P") and not private.readers_in_sddl(
                    self.explicit[candidate], USER_SID)
        return False


def _inherited(ace: str) -> str:
    kind, flags, *rest = ace.split(";")
    return ";".join([kind, flags + "ID", *rest])


class FakeIcacls:
    """The `icacls`/`whoami` command lines paperlink.private.IcaclsAcl runs, acting on a FakeAcl's SDDL."""

    def __init__(self, acl: FakeAcl) -> None:
        self.acl = acl
        self.commands: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> str:
        args = list(args)
        self.commands.append(args)
        if args[0] == "whoami":
            return f'"office\\clerk","{USER_SID}"\r\n'
        assert args[0] == "icacls", args
        path = Path(args[1]).absolute()
        if path in self.acl.refuse and args[2] != "/save":
            raise OSError(f"icacls failed (5): {path}: Access is denied.")
        sddl = self.acl.get_sddl(path)
        if args[2] == "/save":
            Path(args[3]).write_bytes(f"{path.name}\r\n{sddl}\r\n".encode("utf-16"))
        elif args[2] == "/inheritance:r":
            aces = [ace for ace in re.findall(r"\(([^()]*)\)", sddl) if "ID" not in ace.split(";")[1]]
            self.acl.explicit[path] = "D:P" + "".join(f"({ace})" for ace in aces)
        elif args[2] == "/grant:r":
            aces = re.findall(r"\(([^()]*)\)", sddl)
            for grant in args[3:-1]:
                sid, _, perms = grant[1:].partition(":")
                flags = "OICI" if "(OI)(CI)" in perms else ""
                aces = [ace for ace in aces if ace.split(";")[5] != sid] + [f"A;{flags};FA;;;{sid}"]
            self.acl.explicit[path] = "D:P" + "".join(f"({ace})" for ace in aces)
        elif args[2] == "/remove:g":
            gone = {sid[1:] for sid in args[3:-1]}
            aces = [ace for ace in re.findall(r"\(([^()]*)\)", sddl)
                    if private._ALIASES.get(ace.split(";")[5], ace.split(";")[5]) not in gone]
            self.acl.explicit[path] = "D:P" + "".join(f"({ace})" for ace in aces)
        else:
            raise AssertionError(f"unexpected icacls call {args}")
        return "Successfully processed 1 files; Failed processing 0 files\r\n"


def build_ttc(ttf: bytes, copies: int = 1) -> bytes:
    """A TrueType collection holding `copies` faces, each the given .ttf (tables shared)."""
    if ttf[:4] not in (b"\x00\x01\x00\x00", b"true"):
        raise ValueError("not a TrueType font")
    num_tables = struct.unpack(">H", ttf[4:6])[0]
    header = 12 + 4 * copies
    directory = 12 + 16 * num_tables
    out = bytearray(b"ttcf" + struct.pack(">HHI", 1, 0, copies))
    out += b"".join(struct.pack(">I", header + i * directory) for i in range(copies))
    tables_at = header + copies * directory
    table_data = ttf[directory:]
    for _ in range(copies):
        out += ttf[:12]
        for i in range(num_tables):
            tag, checksum, offset, length = struct.unpack(">4sIII", ttf[12 + 16 * i: 28 + 16 * i])
            out += struct.pack(">4sIII", tag, checksum, offset - directory + tables_at, length)
    out += table_data
    return bytes(out)


def build_cff_font() -> bytes:
    """The start of an OpenType font with PostScript (CFF) outlines: what reportlab cannot embed."""
    return b"OTTO" + struct.pack(">HHHH", 1, 128, 0, 16) + struct.pack(">4sIII", b"CFF ", 0, 28, 4) + b"\x00" * 4


def assert_owner_only(path: Path, mode: int) -> None:
    """`path` is readable by its owner only: the ACL on Windows (or the look-alike job), else exactly `mode`."""
    import stat

    if private.is_windows():
        assert private.is_private(path), private.backend().get_sddl(path)
        acl = private.backend()
        if isinstance(acl, FakeAcl):
            assert acl.is_protected_owner_only(path)
    else:
        assert stat.S_IMODE(path.stat().st_mode) == mode
