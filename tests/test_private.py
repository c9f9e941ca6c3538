"""Owner-only data: POSIX modes here, an owner-only ACL on Windows (Win32 API and icacls faked), refusal otherwise."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from paperlink import private
from paperlink.errors import HomeError
from paperlink.home import Home
from tests.windows_lookalike import DRIVE_DEFAULT, USER_SID, FakeAcl, FakeIcacls


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> FakeAcl:
    """paperlink.private behaves as on Windows, over an ACL store in memory."""
    acl = FakeAcl()
    monkeypatch.setattr(private, "is_windows", lambda: True)
    monkeypatch.setattr(private, "_backend", acl)
    return acl


@pytest.fixture
def posix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(private, "is_windows", lambda: False)


# -- SDDL: which entries let whom read ----------------------------------------------------------------


@pytest.mark.parametrize(("sddl", "readers"), [
    (DRIVE_DEFAULT, ["S-1-5-32-544", "S-1-5-11", "S-1-5-32-545"]),
    (private.owner_only_sddl(USER_SID, True), []),
    # %LOCALAPPDATA%: the user, SYSTEM and Administrators (inherited from C:\Users\<name>)
    (f"D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;FA;;;{USER_SID})", ["S-1-5-32-544"]),
    ("D:P(A;;FA;;;SY)(A;;0x1200a9;;;WD)", ["S-1-1-0"]),  # Everyone: read & execute as a hex mask
    ("D:P(A;;0x100116;;;AU)", []),  # write-only rights (no FILE_READ_DATA) let nobody read
    ("D:P(A;OICIIO;GA;;;CO)(A;;FR;;;BU)", ["S-1-5-32-545"]),  # inherit-only entries do not apply to the folder
    ("D:P(D;;FA;;;WD)(A;;CCLCRC;;;S-1-5-21-9-9-9-500)", ["S-1-5-21-9-9-9-500"]),  # CC = 0x1 = read data
    ("O:BAG:SYD:PAI(A;;FA;;;AU)S:AI(AU;SA;FA;;;WD)", ["S-1-5-11"]),  # owner, group and SACL around the DACL
])
def test_readers_in_sddl(sddl: str, readers: list[str]) -> None:
    assert private.readers_in_sddl(sddl, USER_SID) == readers


# -- POSIX --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("posix")
def test_an_existing_group_readable_home_and_ledger_are_made_owner_only(tmp_path: Path) -> None:
    """GIVEN a data directory made by hand (0755) holding a ledger copied in (0644)
    WHEN paperlink starts on it THEN the folder becomes 0700 and the ledger 0600."""
    root = tmp_path / "home"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    (root / "ledger.sqlite3").write_bytes(b"")
    os.chmod(root / "ledger.sqlite3", 0o644)
    Home(root).ensure()
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "ledger.sqlite3").stat().st_mode) == 0o600
    assert private.is_private(root)


@pytest.mark.usefixtures("posix")
def test_a_home_others_can_read_and_that_cannot_be_changed_is_refused(tmp_path: Path, monkeypatch, runner) -> None:
    """GIVEN a data directory others can read whose mode this user may not change (not its owner)
    WHEN a command starts THEN it refuses with a message naming the folder, who can read it and what to do."""
    root = tmp_path / "shared"
    root.mkdir()
    os.chmod(root, 0o755)

    def denied(path: Any, mode: int) -> None:
        raise PermissionError(1, "Operation not permitted", str(path))

    monkeypatch.setattr(private.os, "chmod", denied)
    with pytest.raises(HomeError) as caught:
        Home(root).ensure()
    assert caught.value.code == "home_not_private"
    result = runner("--home", root, "status")
    assert result.exit_code == 1
    assert f"{root} holds personal data but others can read it (group, others)" in result.stderr
    assert "Operation not permitted" in result.stderr and "does not run on it" in result.stderr
    assert not (root / "ledger.sqlite3").exists()


# -- Windows, Win32 API faked -------------------------------------------------------------------------


def test_windows_home_gets_a_protected_owner_only_acl_inherited_inside(windows: FakeAcl, tmp_path: Path) -> None:
    """GIVEN a new data directory on D:\\ (inheriting Authenticated Users' access) WHEN paperlink starts
    THEN the folder gets a protected owner-only DACL, and what is created inside inherits it."""
    from paperlink.keys import KeyStore

    root = tmp_path / "paperlink"
    assert private.readers(tmp_path)  # the drive's default lets others read
    home = Home(root).ensure()
    assert windows.explicit[root] == f"D:P(A;OICI;FA;;;{USER_SID})(A;OICI;FA;;;SY)"
    KeyStore(home).init()
    signing = root / "keys" / "signing-key.pem"
    assert private.is_private(signing) and windows.is_protected_owner_only(signing)


def test_windows_personal_files_with_their_own_acl_are_fixed(windows: FakeAcl, tmp_path: Path) -> None:
    """GIVEN a ledger moved into the data directory with an explicit ACL letting Users read (a moved file keeps
    its ACL) WHEN paperlink starts THEN that file gets the owner-only DACL too."""
    root = tmp_path / "paperlink"
    Home(root).ensure()
    ledger = root / "ledger.sqlite3"
    ledger.write_bytes(b"")
    windows.explicit[ledger.absolute()] = "D:(A;;FR;;;BU)"
    assert private.readers(ledger) == ["S-1-5-32-545"]
    Home(root).ensure()
    assert windows.explicit[ledger.absolute()] == f"D:P(A;;FA;;;{USER_SID})(A;;FA;;;SY)"


def test_windows_private_home_is_only_read_not_rewritten(windows: FakeAcl, tmp_path: Path) -> None:
    root = tmp_path / "paperlink"
    Home(root).ensure()
    windows.calls.clear()
    Home(root).ensure()
    assert [kind for kind, _ in windows.calls] == ["get"]


def test_windows_home_others_can_read_is_refused(windows: FakeAcl, tmp_path: Path, runner) -> None:
    """GIVEN D:\\paperlink made by an administrator, which this clerk may not change the permissions of
    WHEN a command starts THEN it refuses, naming Authenticated Users and Users, and writes nothing."""
    root = tmp_path / "paperlink"
    root.mkdir()
    windows.refuse.add(root.absolute())
    result = runner("--home", root, "status")
    assert result.exit_code == 1
    assert "others can read it (Administrators, Authenticated Users, Users)" in result.stderr
    assert "Access is denied" in result.stderr and "%LOCALAPPDATA%\\paperlink" in result.stderr
    assert not (root / "ledger.sqlite3").exists()


def test_win32_backend_sets_a_protected_dacl_through_pywin32(tmp_path: Path) -> None:
    """The pywin32 calls: the user's SID from the process token, SDDL read back, the DACL set PROTECTED with
    SetNamedSecurityInfo (which also updates what existing contents inherit)."""
    calls: list[tuple[Any, ...]] = []
    store = FakeAcl()

    class Descriptor:
        def __init__(self, sddl: str) -> None:
            self.sddl = sddl

        def GetSecurityDescriptorDacl(self) -> str:  # pywin32's name
            return self.sddl

    sec = SimpleNamespace(
        TOKEN_QUERY=8, TokenUser=1, SE_FILE_OBJECT=1, DACL_SECURITY_INFORMATION=4,
        PROTECTED_DACL_SECURITY_INFORMATION=0x80000000, SDDL_REVISION_1=1,
        OpenProcessToken=lambda process, access: ("token", process, access),
        GetTokenInformation=lambda token, kind: ("sid-object", None),
        ConvertSidToStringSid=lambda sid: USER_SID,
        GetNamedSecurityInfo=lambda path, kind, info: Descriptor(store.get_sddl(Path(path))),
        ConvertSecurityDescriptorToStringSecurityDescriptor=lambda sd, rev, info: sd.sddl,
        ConvertStringSecurityDescriptorToSecurityDescriptor=lambda sddl, rev: Descriptor(sddl),
        SetNamedSecurityInfo=lambda *args: calls.append(args),
    )
    api = SimpleNamespace(GetCurrentProcess=lambda: -1)
    acl = private.Win32Acl(sec, api)
    folder = tmp_path / "d"
    folder.mkdir()
    assert private.readers_in_sddl(acl.get_sddl(folder), acl.user_sid()) == ["S-1-5-32-544", "S-1-5-11",
                                                                              "S-1-5-32-545"]
    acl.set_owner_only(folder, directory=True)
    ((path, kind, info, owner, group, dacl, sacl),) = calls
    assert path == str(folder) and kind == 1 and info == 4 | 0x80000000 and owner is group is sacl is None
    assert dacl == f"D:P(A;OICI;FA;;;{USER_SID})(A;OICI;FA;;;SY)"


# -- Windows, icacls faked ----------------------------------------------------------------------------


def test_icacls_backend_removes_inheritance_grants_owner_and_removes_others(tmp_path: Path) -> None:
    """GIVEN a folder with inherited entries and an explicit one for Everyone WHEN icacls makes it owner-only
    THEN inheritance is cut, the user and SYSTEM get full control inherited inside, Everyone is removed, and
    the SDDL read back with /save lists no other reader."""
    store = FakeAcl()
    folder = tmp_path / "paperlink"
    folder.mkdir()
    store.explicit[folder.absolute()] = DRIVE_DEFAULT + "(A;;FR;;;WD)"
    run = FakeIcacls(store)
    acl = private.IcaclsAcl(run)
    assert private.readers_in_sddl(acl.get_sddl(folder), acl.user_sid()) == [
        "S-1-5-32-544", "S-1-5-11", "S-1-5-32-545", "S-1-1-0"]
    acl.set_owner_only(folder, directory=True)
    commands = [c[2] for c in run.commands if c[0] == "icacls"]
    assert commands == ["/save", "/inheritance:r", "/grant:r", "/save", "/remove:g"]
    grant = next(c for c in run.commands if c[2:3] == ["/grant:r"])
    assert grant[3:] == [f"*{USER_SID}:(OI)(CI)F", "*S-1-5-18:(OI)(CI)F", "/q"]
    remove = next(c for c in run.commands if c[2:3] == ["/remove:g"])
    assert remove[3:] == ["*S-1-1-0", "/q"]
    assert private.readers_in_sddl(acl.get_sddl(folder), USER_SID) == []
    assert acl.get_sddl(folder).startswith("D:P")


def test_icacls_backend_through_home_ensure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    store = FakeAcl()
    monkeypatch.setattr(private, "is_windows", lambda: True)
    monkeypatch.setattr(private, "_backend", private.IcaclsAcl(FakeIcacls(store)))
    Home(tmp_path / "paperlink").ensure()
    assert private.is_private(tmp_path / "paperlink")
    (tmp_path / "paperlink" / "ledger.sqlite3").write_bytes(b"x")
    assert private.is_private(tmp_path / "paperlink" / "ledger.sqlite3")


def test_backend_falls_back_to_icacls_without_pywin32(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN pywin32 cannot be imported (as here, or with its DLLs broken) THEN icacls is used."""
    monkeypatch.setattr(private, "_backend", None)
    assert isinstance(private.backend(), private.IcaclsAcl)
