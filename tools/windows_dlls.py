"""Release check: which DLLs do paperlink's dependencies need on Windows, and does Windows have them?

Downloads the Windows wheels (win_amd64) of every runtime dependency in pyproject.toml – the compiled ones
carry .pyd/.dll files –, reads the import tables (and delay-load tables) of those PE files with pefile and
sorts each imported DLL:

  bundled   shipped inside the same wheel (or another wheel of the set)
  windows   part of Windows 10/11 (kernel32, the Universal CRT api-ms-win-crt-*, bcrypt, ...)
  python    shipped with Python from python.org or the Store (python3xx.dll, vcruntime140.dll, ...)
  runtime   a Visual C++ runtime Windows does not have (MSVCP140.dll: the VC++ 2015-2022 redistributable;
            MSVCR120.dll: VC++ 2013) – the user must install it
  unknown   none of these: look before releasing

Exit 1 when a dependency needs a runtime not listed in KNOWN_RUNTIMES (which the README's Windows section
names) or imports an unknown DLL: a new missing runtime is caught before users meet it. Dependencies whose
environment marker excludes Windows (pyzbar) are checked too and reported, but do not fail the check.

    .venv/bin/python tools/windows_dlls.py                # download into a temporary folder and check
    .venv/bin/python tools/windows_dlls.py --wheels DIR   # check wheels already downloaded (no network)

Needs `pefile` and `packaging` (in the test extras). Not run by CI (it downloads); tests/test_windows_dlls.py
tests it on a PE file it builds.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_VERSION = "3.12"
"""The Python whose wheels are checked (the python.org/Store release an office would install)."""

WINDOWS_DLLS = {
    "kernel32.dll", "user32.dll", "gdi32.dll", "advapi32.dll", "shell32.dll", "ole32.dll", "oleaut32.dll",
    "ws2_32.dll", "bcrypt.dll", "crypt32.dll", "ncrypt.dll", "secur32.dll", "userenv.dll", "ntdll.dll",
    "shlwapi.dll", "comdlg32.dll", "comctl32.dll", "winmm.dll", "version.dll", "iphlpapi.dll", "dbghelp.dll",
    "msvcrt.dll", "rpcrt4.dll", "setupapi.dll", "cfgmgr32.dll", "dwrite.dll", "d2d1.dll", "usp10.dll",
    "winspool.drv", "imm32.dll", "psapi.dll", "powrprof.dll", "mswsock.dll", "dnsapi.dll", "wldap32.dll",
    "normaliz.dll", "propsys.dll", "uxtheme.dll", "dwmapi.dll", "shcore.dll", "wtsapi32.dll", "netapi32.dll",
    "mpr.dll", "credui.dll", "odbc32.dll", "opengl32.dll", "glu32.dll", "gdiplus.dll", "windowscodecs.dll",
    "ucrtbase.dll", "bcryptprimitives.dll", "aclui.dll", "activeds.dll", "dsound.dll", "ktmw32.dll", "loadperf.dll",
    "lz32.dll", "msimg32.dll", "ntdsapi.dll", "oleacc.dll", "pdh.dll", "query.dll", "rasapi32.dll", "sfc.dll",
    "urlmon.dll", "wevtapi.dll", "winhttp.dll", "wininet.dll", "netutils.dll", "samcli.dll", "authz.dll",
}
WINDOWS_PREFIXES = ("api-ms-win-", "ext-ms-win-")
PYTHON_DLLS = re.compile(r"^(python3\d*\.dll|vcruntime140(_1)?\.dll|pywintypes3\d+\.dll|pythoncom3\d+\.dll)$")
"""Shipped in the Python installation (python.org and Store builds carry vcruntime140.dll and _1) or by pywin32."""
RUNTIMES = {
    "msvcp140.dll": "VC++ 2015-2022 redistributable", "msvcp140_1.dll": "VC++ 2015-2022 redistributable",
    "msvcp140_2.dll": "VC++ 2015-2022 redistributable", "msvcp140_atomic_wait.dll": "VC++ 2015-2022 redistributable",
    "msvcp140_codecvt_ids.dll": "VC++ 2015-2022 redistributable", "concrt140.dll": "VC++ 2015-2022 redistributable",
    "vcomp140.dll": "VC++ 2015-2022 redistributable (OpenMP)", "msvcr120.dll": "VC++ 2013 redistributable",
    "msvcp120.dll": "VC++ 2013 redistributable", "msvcr110.dll": "VC++ 2012 redistributable",
    "msvcr100.dll": "VC++ 2010 redistributable", "msvcr90.dll": "VC++ 2008 redistributable",
    "mfc140u.dll": "VC++ 2015-2022 redistributable (MFC)", "mfc140.dll": "VC++ 2015-2022 redistributable (MFC)",
}
KNOWN_RUNTIMES = {("zxing-cpp", "msvcp140.dll")}
"""Runtimes the README's Windows section tells the user to install; anything else fails the check."""
USED = {"pywin32": ("win32security", "win32api", "pywintypes")}
"""For a dependency of which paperlink loads only some modules, the files that count (by name start)."""


@dataclass
class Report:
    """What one wheel's PE files import, sorted."""

    wheel: str
    project: str
    on_windows: bool = True
    imports: dict[str, set[str]] = field(default_factory=dict)
    """kind → DLL names (lower case), of every PE file in the wheel."""
    used: dict[str, set[str]] = field(default_factory=dict)
    """kind → DLL names, of the files paperlink loads (all of them unless the project is in USED)."""


def pe_imports(data: bytes) -> set[str]:
    """The DLL names (lower case) in the import and delay-import tables of a PE file."""
    import pefile  # type: ignore[import-untyped]

    pe = pefile.PE(data=data, fast_load=True)
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"],
                                           pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT"]])
    names = set()
    for entries in (getattr(pe, "DIRECTORY_ENTRY_IMPORT", []), getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", [])):
        names.update(entry.dll.decode("ascii", "replace").lower() for entry in entries)
    return names


def classify(dll: str, bundled: set[str]) -> str:
    """bundled, windows, python, runtime or unknown (see the module docstring)."""
    if dll in bundled:
        return "bundled"
    if dll in WINDOWS_DLLS or dll.startswith(WINDOWS_PREFIXES):
        return "windows"
    if PYTHON_DLLS.match(dll):
        return "python"
    if dll in RUNTIMES:
        return "runtime"
    return "unknown"


def check_wheels(wheels: Iterable[Path], excluded: set[str] = frozenset()) -> list[Report]:  # type: ignore[assignment]
    """A Report per wheel; DLLs shipped in any of the wheels count as bundled."""
    wheels = list(wheels)
    contents = {w: zipfile.ZipFile(w) for w in wheels}
    bundled = {Path(n).name.lower() for z in contents.values() for n in z.namelist()
               if n.lower().endswith((".dll", ".pyd"))}
    reports = []
    for wheel, archive in contents.items():
        project = _project(wheel)
        report = Report(wheel.name, project, on_windows=project not in excluded)
        for name in archive.namelist():
            if name.lower().endswith((".pyd", ".dll", ".exe")):
                used = project not in USED or Path(name).name.lower().startswith(USED[project])
                for dll in pe_imports(archive.read(name)):
                    kind = classify(dll, bundled)
                    report.imports.setdefault(kind, set()).add(dll)
                    if used:
                        report.used.setdefault(kind, set()).add(dll)
        reports.append(report)
    return reports


def _project(wheel: Path) -> str:
    return wheel.name.split("-")[0].replace("_", "-").lower()


def problems(reports: list[Report]) -> list[str]:
    """What fails the release check: a runtime not in KNOWN_RUNTIMES, an unknown DLL (Windows wheels only)."""
    found = []
    for report in reports:
        if not report.on_windows:
            continue
        for dll in sorted(report.used.get("runtime", ())):
            if (report.project, dll) not in KNOWN_RUNTIMES:
                found.append(f"{report.project}: needs {dll} ({RUNTIMES[dll]}), which Windows and Python lack "
                             "and the README does not name")
        for dll in sorted(report.used.get("unknown", ())):
            found.append(f"{report.project}: imports {dll}, which is not bundled, not part of Windows or Python")
    return found


def dependencies(pyproject: Path = ROOT / "pyproject.toml") -> list[tuple[str, bool]]:
    """Each runtime requirement of pyproject.toml and whether it is installed on Windows (its marker)."""
    from packaging.requirements import Requirement

    windows = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
               "platform_machine": "AMD64", "python_version": PYTHON_VERSION}
    found = []
    for line in tomllib.loads(pyproject.read_text("utf-8"))["project"]["dependencies"]:
        requirement = Requirement(line)
        wanted = requirement.marker is None or requirement.marker.evaluate(windows)
        found.append((f"{requirement.name}{requirement.specifier}", wanted))
    return found


def download(requirements: list[str], into: Path) -> None:
    """The win_amd64 (or pure-Python) wheels of `requirements`, without their dependencies."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                    "--platform", "win_amd64", "--python-version", PYTHON_VERSION, "--only-binary=:all:",
                    "--no-deps", "-d", str(into), *requirements], check=True)


def render(reports: list[Report]) -> str:
    lines = []
    for report in sorted(reports, key=lambda r: r.project):
        note = "" if report.on_windows else "  (not installed on Windows: environment marker)"
        if report.project in USED:
            note += f"  (paperlink loads only {', '.join(USED[report.project])}: "
            note += f"runtime {', '.join(sorted(report.used.get('runtime', ()))) or 'none'})"
        lines.append(f"{report.wheel}{note}")
        if not report.imports:
            lines.append("    no native code")
        for kind in ("runtime", "unknown", "bundled", "python", "windows"):
            if report.imports.get(kind):
                lines.append(f"    {kind:8} {', '.join(sorted(report.imports[kind]))}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--wheels", type=Path, help="check the wheels in this folder instead of downloading")
    args = parser.parse_args(argv)
    deps = dependencies()
    excluded = {name.split("<")[0].split(">")[0].split("=")[0].lower() for name, wanted in deps if not wanted}
    if args.wheels:
        reports = check_wheels(sorted(args.wheels.glob("*.whl")), excluded)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            download([name for name, _ in deps], Path(tmp))
            reports = check_wheels(sorted(Path(tmp).glob("*.whl")), excluded)
    print(render(reports))
    found = problems(reports)
    for problem in found:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
