"""What a Windows office PC does differently, made to happen here: decoder DLLs that fail to load, cp932
pipes, `python -m paperlink`, a file held open by another program, Windows font collections, no SIGKILL.

(ACLs: tests/test_private.py; templates under --user/--prefix installs: tests/test_packaging.py.)
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segno

from paperlink import decode as dec

ROOT = Path(__file__).resolve().parent.parent
PYZBAR_ON_WINDOWS = FileNotFoundError(
    "Could not find module 'libzbar-64.dll' (or one of its dependencies). Try using the full path with "
    "constructor syntax.")
ZXING_WITHOUT_VCRUNTIME = ImportError("DLL load failed while importing zxingcpp: The specified module could not "
                                      "be found.")


@pytest.fixture
def fresh_backends() -> Iterator[None]:
    def clear() -> None:
        dec._module.cache_clear()
        dec._zbar_binary_config.cache_clear()
        dec._load_failures.clear()

    clear()
    yield
    clear()


def _imports_fail(monkeypatch: pytest.MonkeyPatch, **failures: BaseException) -> None:
    """Importing a module whose top-level package is named in `failures` raises that exception."""
    real = dec.importlib.import_module

    def fake(name: str, package: str | None = None) -> Any:
        if name.split(".")[0] in failures:
            raise failures[name.split(".")[0]]
        return real(name, package)

    monkeypatch.setattr(dec.importlib, "import_module", fake)


def _qr(text: str) -> np.ndarray:
    matrix = np.pad(1 - np.array(segno.make_qr(text, error="m").matrix, dtype=np.uint8), 4, constant_values=1)
    return np.kron(matrix * 255, np.ones((6, 6), dtype=np.uint8)).astype(np.uint8)


# -- 1, 2: decoder backends that fail to load ---------------------------------------------------------


@pytest.mark.usefixtures("fresh_backends")
def test_pyzbar_dll_raising_file_not_found_is_skipped_with_one_warning(monkeypatch, caplog) -> None:
    """GIVEN pyzbar's import raises FileNotFoundError (libzbar-64.dll without the VC++ 2013 runtime, on Windows)
    WHEN a blank page (the whole chain runs) and a code are decoded, twice each
    THEN nothing raises, one warning names pyzbar and the error, and zxing-cpp still reads the code."""
    _imports_fail(monkeypatch, pyzbar=PYZBAR_ON_WINDOWS)
    with caplog.at_level(logging.WARNING, logger="paperlink.decode"):
        for _ in range(2):
            assert dec.decode(np.full((900, 700), 255, dtype=np.uint8)) == []
            assert [c.text for c in dec.decode(_qr("PL1-HELLO"))] == ["PL1-HELLO"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "pyzbar" in warnings[0] and "FileNotFoundError" in warnings[0]
    assert dec.decoder_problem() is None  # zxing-cpp loads: nothing to tell at start-up


@pytest.mark.usefixtures("fresh_backends")
def test_any_exception_while_loading_a_backend_skips_it(monkeypatch) -> None:
    _imports_fail(monkeypatch, pyzbar=AttributeError("function 'zbar_image_create' not found"))
    assert dec.pyzbar(_qr("X")) == []
    assert [c.text for c in dec.decode(_qr("PL1-X"))] == ["PL1-X"]


@pytest.mark.usefixtures("fresh_backends")
def test_zxing_without_the_vc_runtime_names_the_redistributable(monkeypatch) -> None:
    """GIVEN zxing-cpp is installed but its MSVCP140.dll is missing, and pyzbar fails too
    WHEN a page is decoded THEN the error names the Visual C++ 2015-2022 redistributable, not 'install zxing-cpp'."""
    _imports_fail(monkeypatch, zxingcpp=ZXING_WITHOUT_VCRUNTIME, pyzbar=PYZBAR_ON_WINDOWS)
    with pytest.raises(dec.NoDecoder) as caught:
        dec.decode(_qr("PL1-X"))
    assert caught.value.code == "decoder_runtime_missing"
    message = caught.value.message("en")
    assert "Visual C++ 2015-2022 Redistributable (x64)" in message and "vc_redist.x64.exe" in message
    assert "DLL load failed" in message and "pip install" not in message
    assert "再頒布可能パッケージ" in caught.value.message_ja


@pytest.mark.usefixtures("fresh_backends")
def test_zxing_not_installed_at_all_says_install_it(monkeypatch) -> None:
    _imports_fail(monkeypatch, zxingcpp=ModuleNotFoundError("No module named 'zxingcpp'"))
    problem = dec.decoder_problem()
    assert problem is not None and problem.code == "decoder_missing"


@pytest.mark.usefixtures("fresh_backends")
def test_start_up_check_warns_for_the_screen_and_refuses_watch(monkeypatch, runner, capsys) -> None:
    """GIVEN no decoder loads (zxing-cpp without its runtime, pyzbar's DLL broken)
    WHEN the entry screen starts THEN it warns with the remedy (typing sheets in still works);
    WHEN the scan folder watcher starts THEN it refuses with the remedy instead of failing every scan."""
    from paperlink import cli

    _imports_fail(monkeypatch, zxingcpp=ZXING_WITHOUT_VCRUNTIME, pyzbar=PYZBAR_ON_WINDOWS)
    cli._check_decoders(required=False)
    assert "warning: the QR decoder zxing-cpp is installed but cannot load" in capsys.readouterr().err
    result = runner("watch", "--once")
    assert result.exit_code == 1 and "Visual C++ 2015-2022 Redistributable" in result.stderr


def test_pyzbar_is_declared_only_off_windows() -> None:
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    assert "pyzbar>=0.1.9; sys_platform != 'win32'" in deps
    assert "pywin32>=306; sys_platform == 'win32'" in deps


# -- 5, 9: cp932 pipes, python -m paperlink -----------------------------------------------------------


def _cp932(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """`python -m paperlink ARGS` with its output piped, encoded as on a Japanese Windows PC (cp932)."""
    environ = {**os.environ, "PYTHONIOENCODING": "cp932", "PYTHONUTF8": "0", **(env or {})}
    return subprocess.run([sys.executable, "-X", "warn_default_encoding", "-m", "paperlink", *args], cwd=cwd,
                          env=environ, capture_output=True)


@pytest.mark.slow
def test_help_piped_as_cp932_does_not_crash_on_the_en_dash(tmp_path: Path) -> None:
    """GIVEN output piped in cp932 WHEN `python -m paperlink --help` runs THEN it succeeds, the en dash
    degraded to '-', and no EncodingWarning (a file opened without an encoding) came from paperlink."""
    result = _cp932("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode("cp932", "replace")
    text = result.stdout.decode("cp932")
    assert text.startswith("Usage: paperlink") and "paperlink - MOJ notices" in text
    assert b"EncodingWarning" not in result.stderr


@pytest.mark.slow
def test_scan_output_piped_as_cp932_with_a_name_outside_cp932(tmp_path: Path) -> None:
    """GIVEN a scan file whose name holds 𠮷 (not in cp932) and output piped in cp932
    WHEN `scan` reports it THEN the human line shows 申請 and an escape for 𠮷 (no crash), and `scan --json`
    is ASCII JSON that parses back to the exact name."""
    from PIL import Image

    page = tmp_path / "申請_𠮷野.png"
    Image.new("L", (400, 300), 255).save(page)
    human = _cp932("--home", str(tmp_path / "home"), "scan", page.name, cwd=tmp_path)
    assert human.returncode == 2, human.stderr.decode("cp932", "replace")
    line = human.stdout.decode("cp932")
    assert line.startswith("申請_\\U00020bb7野.png p.1: ")
    as_json = _cp932("--home", str(tmp_path / "home"), "scan", "--json", page.name, cwd=tmp_path)
    assert as_json.returncode == 2
    assert as_json.stdout.isascii()
    assert json.loads(as_json.stdout)["source"] == page.name


@pytest.mark.slow
def test_demo_piped_as_cp932_does_not_crash(tmp_path: Path) -> None:
    """GIVEN output piped in cp932 WHEN `python -m paperlink demo --no-serve` prints its summary (with an en dash)
    THEN it succeeds and says where the data directory and the printed PDF are."""
    result = _cp932("--home", str(tmp_path / "home"), "demo", "--no-serve", "--count", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode("cp932", "replace")
    text = result.stdout.decode("cp932")
    assert "clerks: demo-entry, demo-review - password paperlink-demo" in text
    assert f"data directory: {tmp_path / 'home'}" in text


def test_streams_degrade_instead_of_raising() -> None:
    import io

    from paperlink.console import make_safe

    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp932")
    make_safe(stream)  # type: ignore[arg-type]
    stream.write("paperlink – 申請 → 𠮷 …\n")
    stream.flush()
    assert raw.getvalue().decode("cp932") == "paperlink - 申請 → \\U00020bb7 …\n"  # → and … are in cp932
    utf8 = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    make_safe(utf8)  # type: ignore[arg-type]
    assert utf8.errors == "strict"


# -- a file held open by another program (Excel has the last export open) -----------------------------


def test_export_onto_a_file_held_open_reports_it_and_leaves_no_temporary(runner, tmp_path: Path,
                                                                         monkeypatch) -> None:
    """GIVEN os.replace raises a sharing violation (WinError 32: Excel holds the target open)
    WHEN a file is written atomically THEN the error names the file, the old file is intact, no .part is left."""
    from paperlink import atomicfile

    target = tmp_path / "verified.csv"
    target.write_bytes(b"old")

    def held_open(src: Any, dst: Any) -> None:
        error = PermissionError(13, "The process cannot access the file because it is being used by another "
                                    "process", str(dst))
        error.winerror = 32  # type: ignore[attr-defined]
        raise error

    monkeypatch.setattr(atomicfile.os, "replace", held_open)
    with pytest.raises(PermissionError):
        atomicfile.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["verified.csv"]
    result = runner("samples", "--count", "2", "-o", target)
    assert result.exit_code == 1
    assert f"cannot write {target}: The process cannot access the file" in result.stderr


# -- 8: Windows fonts ---------------------------------------------------------------------------------

IPAEX = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")


@pytest.fixture
def fake_windir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A %WINDIR% whose Fonts folder is empty, and no Linux font: only Windows' candidates remain."""
    from paperlink import fonts

    windir = tmp_path / "Windows"
    (windir / "Fonts").mkdir(parents=True)
    monkeypatch.setattr(fonts, "_SYSTEM_FONTS", ())
    return windir


def test_windows_font_candidates_in_order(tmp_path: Path) -> None:
    """IPAex (installed by the office), BIZ UDGothic, then MS Gothic, Meiryo and Yu Gothic; the user's own
    fonts folder before the system's; $PAPERLINK_FONT and Linux's IPAex before all of them."""
    from paperlink import fonts

    env = {"WINDIR": r"C:\Windows", "LOCALAPPDATA": r"C:\Users\clerk\AppData\Local", "PAPERLINK_FONT": "mine.ttf"}
    names = [c.path.name for c in fonts.candidates(env)]
    linux = len(fonts._SYSTEM_FONTS)  # three Debian/Ubuntu paths of IPAex (none in the look-alike job)
    assert names[0] == "mine.ttf" and names[1:1 + linux] == ["ipaexg.ttf"] * linux
    windows = list(dict.fromkeys(names[1 + linux:]))
    assert windows == ["ipaexg.ttf", "BIZ-UDGothicR.ttc", "BIZUDGothic-Regular.ttf", "msgothic.ttc", "meiryo.ttc",
                       "YuGothR.ttc", "YuGothM.ttc"]
    user_first = [str(c.path) for c in fonts.candidates(env) if c.path.name == "msgothic.ttc"]
    assert user_first == [str(Path(env["LOCALAPPDATA"]) / "Microsoft" / "Windows" / "Fonts" / "msgothic.ttc"),
                          str(Path(env["WINDIR"]) / "Fonts" / "msgothic.ttc")]


@pytest.mark.parametrize("present", [["msgothic.ttc", "meiryo.ttc", "YuGothR.ttc"], ["meiryo.ttc", "YuGothM.ttc"],
                                     ["YuGothM.ttc"], ["BIZ-UDGothicR.ttc", "msgothic.ttc"]])
def test_a_windows_collection_is_loaded_and_prints_japanese(fake_windir: Path, present: list[str]) -> None:
    """GIVEN stand-ins of Windows' TrueType collections (two faces each, built from IPAex) in a fake %WINDIR%
    WHEN the font is loaded THEN the best one present is used, its first face, and it draws Japanese."""
    from paperlink import fonts
    from tests.windows_lookalike import build_ttc

    ttc = build_ttc(IPAEX.read_bytes(), copies=2)
    for name in present:
        (fake_windir / "Fonts" / name).write_bytes(ttc)
    font = fonts.load_font({"WINDIR": str(fake_windir)})
    assert Path(font.face.filename).name == present[0]
    assert font.face.numSubfonts == 2 and font.face.subfontNameX == b"-0"  # a collection, its first face
    assert all(ord(ch) in font.face.charToGlyph for ch in "東京都千代田区 技術・人文知識")


def test_a_cff_font_is_skipped_with_a_clear_message(fake_windir: Path, tmp_path: Path) -> None:
    """GIVEN $PAPERLINK_FONT names an OpenType/CFF font (e.g. Source Han Sans .otf) and MS Gothic is present
    THEN the CFF font is skipped and MS Gothic used; with nothing else, the error names the CFF font and why."""
    from paperlink import fonts
    from tests.windows_lookalike import build_cff_font, build_ttc

    otf = tmp_path / "SourceHanSans-Regular.otf"
    otf.write_bytes(build_cff_font())
    with pytest.raises(fonts.FontMissing) as info:
        fonts.load_font({"WINDIR": str(fake_windir), "PAPERLINK_FONT": str(otf)})
    assert f"{otf} (skipped: OpenType with PostScript (CFF) outlines" in str(info.value)
    (fake_windir / "Fonts" / "msgothic.ttc").write_bytes(build_ttc(IPAEX.read_bytes()))
    font = fonts.load_font({"WINDIR": str(fake_windir), "PAPERLINK_FONT": str(otf)})
    assert Path(font.face.filename).name == "msgothic.ttc"
