"""The release check tools/windows_dlls.py, on wheels holding a small PE file built here (no download)."""

from __future__ import annotations

import struct
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import windows_dlls as W  # noqa: E402


def build_pe(imports: list[str]) -> bytes:
    """A minimal 64-bit PE (DLL) whose import table names `imports` (one import by ordinal each)."""
    section_rva, section_raw = 0x1000, 0x200
    descriptors = 20 * (len(imports) + 1)
    body = bytearray(descriptors)
    for i, dll in enumerate(imports):
        thunks = section_rva + len(body)
        body += struct.pack("<QQ", 0x8000000000000001, 0)  # import ordinal 1, end of list
        name = section_rva + len(body)
        body += dll.encode("ascii") + b"\0"
        body += b"\0" * (-len(body) % 8)
        struct.pack_into("<IIIII", body, 20 * i, thunks, 0, 0, name, thunks)
    body += b"\0" * (-len(body) % 0x200)
    dos = b"MZ" + b"\0" * 0x3A + struct.pack("<I", 0x40)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 240, 0x2022)
    optional = struct.pack("<HBBIIIII", 0x20B, 14, 0, 0, len(body), 0, 0, 0)
    optional += struct.pack("<QIIHHHHHHIIIIHHQQQQII", 0x180000000, 0x1000, 0x200, 6, 0, 0, 0, 6, 0, 0,
                            section_rva + len(body), section_raw, 0, 2, 0x160, 0x100000, 0x1000, 0x100000, 0x1000,
                            0, 16)
    directories = [(0, 0)] * 16
    directories[1] = (section_rva, descriptors)  # the import table
    optional += b"".join(struct.pack("<II", *d) for d in directories)
    section = struct.pack("<8sIIIIIIHHI", b".idata", len(body), section_rva, len(body), section_raw, 0, 0, 0, 0,
                          0xC0000040)
    headers = dos + coff + optional + section
    return bytes(headers + b"\0" * (section_raw - len(headers)) + body)


def wheel(folder: Path, name: str, files: dict[str, bytes]) -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def test_pe_imports_are_read_from_the_import_table() -> None:
    pe = build_pe(["KERNEL32.dll", "MSVCP140.dll", "python3.dll", "api-ms-win-crt-heap-l1-1-0.dll"])
    assert W.pe_imports(pe) == {"kernel32.dll", "msvcp140.dll", "python3.dll", "api-ms-win-crt-heap-l1-1-0.dll"}


def test_a_new_missing_runtime_fails_the_check(tmp_path: Path, capsys) -> None:
    """GIVEN wheels like today's (zxing-cpp needing MSVCP140, which the README names; pyzbar needing MSVCR120
    but excluded on Windows by its marker; numpy bundling its own msvcp140 copy) plus a new release of a
    dependency that suddenly needs VCOMP140.dll and an unknown DLL
    WHEN the check runs on the folder THEN it lists every DLL by kind and fails naming just the new needs."""
    wheel(tmp_path, "zxing_cpp-3.1.1-cp312-abi3-win_amd64.whl",
          {"zxingcpp.pyd": build_pe(["MSVCP140.dll", "VCRUNTIME140.dll", "python3.dll", "KERNEL32.dll"])})
    wheel(tmp_path, "pyzbar-0.1.9-py2.py3-none-win_amd64.whl",
          {"pyzbar/libzbar-64.dll": build_pe(["MSVCR120.dll", "libiconv.dll"]),
           "pyzbar/libiconv.dll": build_pe(["KERNEL32.dll"])})
    wheel(tmp_path, "numpy-2.5.5-cp312-cp312-win_amd64.whl",
          {"numpy/_core/_multiarray_umath.cp312-win_amd64.pyd": build_pe(["msvcp140-a4c2.dll", "python312.dll"]),
           "numpy.libs/msvcp140-a4c2.dll": build_pe(["KERNEL32.dll"])})
    wheel(tmp_path, "click-8.5.1-py3-none-any.whl", {"click/__init__.py": b""})
    assert W.main(["--wheels", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "zxing_cpp-3.1.1-cp312-abi3-win_amd64.whl\n    runtime  msvcp140.dll\n" in out
    assert "pyzbar-0.1.9-py2.py3-none-win_amd64.whl  (not installed on Windows: environment marker)\n" in out
    assert "    runtime  msvcr120.dll\n    bundled  libiconv.dll\n" in out
    assert "click-8.5.1-py3-none-any.whl\n    no native code" in out

    wheel(tmp_path, "pillow-14.0.0-cp312-cp312-win_amd64.whl",
          {"PIL/_imaging.pyd": build_pe(["VCOMP140.dll", "libfoo-7.dll", "USER32.dll"])})
    assert W.main(["--wheels", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["PROBLEM: pillow: needs vcomp140.dll (VC++ 2015-2022 redistributable (OpenMP)), which Windows "
                   "and Python lack and the README does not name",
                   "PROBLEM: pillow: imports libfoo-7.dll, which is not bundled, not part of Windows or Python"]


@pytest.mark.parametrize(("dll", "kind"), [("kernel32.dll", "windows"), ("api-ms-win-crt-math-l1-1-0.dll", "windows"),
                                           ("python312.dll", "python"), ("vcruntime140_1.dll", "python"),
                                           ("msvcp140.dll", "runtime"), ("msvcr120.dll", "runtime"),
                                           ("libzbar-64.dll", "unknown")])
def test_classify(dll: str, kind: str) -> None:
    assert W.classify(dll, bundled=set()) == kind


def test_dependencies_follow_the_windows_markers() -> None:
    deps = dict(W.dependencies())
    assert deps["pyzbar>=0.1.9"] is False and deps["pywin32>=306"] is True and deps["zxing-cpp>=2.2"] is True
