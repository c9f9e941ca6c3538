"""The installed wheel works on its own: code tables, static files and the top-level templates/ included."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds and installs a wheel

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    (path,) = out.glob("paperlink-*.whl")
    return path


def test_wheel_carries_tables_static_files_and_templates(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "paperlink/tables/statuses.json" in names and "paperlink/py.typed" in names
    assert "paperlink/web/static/app.js" in names
    templates = [n for n in names if "/data/share/paperlink/templates/" in n]
    expected = {str(p.relative_to(ROOT / "templates")) for p in (ROOT / "templates").rglob("*.html")}
    assert {n.split("/templates/", 1)[1] for n in templates} == expected


def test_installed_wheel_renders_the_login_page(wheel: Path, tmp_path: Path) -> None:
    """GIVEN the wheel installed into a fresh environment WHEN the app starts THEN its templates are found."""
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, text=True)
    deps = sysconfig.get_paths()["purelib"]  # the dependencies of this test environment, not paperlink itself
    code = ("import sys, paperlink.web as w; "
            "assert 'site-packages' in w.__file__ and str(sys.prefix) in w.__file__, w.__file__; "
            "app = w.create_app({'HOME': sys.argv[1], 'TESTING': True}); "
            "r = app.test_client().get('/login'); print(r.status_code, w.template_folder()); "
            "assert 'ログイン' in r.get_data(as_text=True)")
    env = {**os.environ, "PYTHONPATH": deps, "PYTHONNOUSERSITE": "1"}
    result = subprocess.run([str(python), "-c", code, str(tmp_path / "home")], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    status, folder = result.stdout.split()
    assert status == "200" and folder == str(env_dir / "share" / "paperlink" / "templates")


RENDER = ("import sys, paperlink.web as w; "
          "assert sys.argv[2] in w.__file__, (w.__file__, sys.argv[2]); "
          "app = w.create_app({'HOME': sys.argv[1], 'TESTING': True}); "
          "r = app.test_client().get('/login'); print(r.status_code, w.template_folder()); "
          "assert 'ログイン' in r.get_data(as_text=True)")


def _render(python: Path, tmp_path: Path, installed_under: Path, extra_path: str = "", **env: str) -> Path:
    """Start the installed app with `python` (only the test environment's dependencies added to its path),
    render the login page; return the templates folder it used."""
    deps = sysconfig.get_paths()["purelib"]
    path = os.pathsep.join(p for p in (extra_path, deps) if p)
    result = subprocess.run([str(python), "-c", RENDER, str(tmp_path / "home"), str(installed_under)], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": path, **env}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    status, folder = result.stdout.split()
    assert status == "200"
    return Path(folder)


def test_wheel_installed_with_user_finds_its_templates(wheel: Path, tmp_path: Path) -> None:
    """GIVEN the wheel installed with `pip install --user` (as with Python from the Microsoft Store, or in
    Program Files) into a throwaway HOME/PYTHONUSERBASE, its templates under the user base, not sys.prefix
    WHEN the app starts from the user site THEN it finds them and renders."""
    env_dir = tmp_path / "python"  # a bare interpreter whose user site is on (as outside a venv)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    user = {"HOME": str(tmp_path / "home-dir"), "PYTHONUSERBASE": str(tmp_path / "userbase")}
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--user", "--no-deps",
                             "--no-warn-script-location", "-q", str(wheel)],
                            env={**os.environ, **user}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    userbase = Path(user["PYTHONUSERBASE"])
    assert (userbase / "share" / "paperlink" / "templates" / "base.html").is_file()
    assert not (env_dir / "share" / "paperlink").exists()
    site = subprocess.run([str(python), "-c", "import site; print(site.getusersitepackages())"],
                          env={**os.environ, **user}, capture_output=True, text=True, check=True).stdout.strip()
    folder = _render(python, tmp_path, Path(site), extra_path=site, **user)
    assert folder == (userbase / "share" / "paperlink" / "templates").resolve()


def test_wheel_installed_with_prefix_finds_its_templates(wheel: Path, tmp_path: Path) -> None:
    """GIVEN the wheel installed with `pip install --prefix DIR` and run from a bare environment with DIR's
    site-packages on its path WHEN the app starts THEN it finds DIR/share/paperlink/templates and renders."""
    env_dir = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    prefix = tmp_path / "prefix"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--prefix", str(prefix),
                    "--no-deps", "--no-warn-script-location", "-q", str(wheel)],
                   check=True, capture_output=True, text=True)
    (site,) = prefix.glob("lib/python*/site-packages")
    folder = _render(python, tmp_path, site, extra_path=str(site), PYTHONNOUSERSITE="1")
    assert folder == (prefix / "share" / "paperlink" / "templates").resolve()
