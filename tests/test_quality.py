"""The code stays typed and lint-clean, and the README's commands are the ones that exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in the test environment (it is in the [test] extra)")
    return str(path)


@pytest.mark.slow
def test_core_type_checks() -> None:
    result = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.slow
def test_lint_clean() -> None:
    result = subprocess.run([_tool("ruff"), "check", "paperlink", "tests", "tools"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout


def test_core_imports_neither_click_nor_flask() -> None:
    for path in (ROOT / "paperlink").rglob("*.py"):
        if path.name == "cli.py" or "web" in path.parts:
            continue
        assert not re.search(r"^\s*(import|from)\s+(click|flask)\b", path.read_text(), re.M), path


def test_no_module_imports_another_modules_private_names() -> None:
    """What two modules share lives in a module of its own under public names (e.g. `datafile` for the two
    data formats), so no module reaches into another's `_private` names."""
    import ast

    for path in (ROOT / "paperlink").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("paperlink")):
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                assert not private, f"{path}: imports {', '.join(private)} from {node.module}"


def test_readme_quick_start_commands_are_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "./dev demo" in readme and "./dev test" in readme
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^\s+demo\)", (ROOT / "dev").read_text(), re.M)


def test_ci_runs_the_windows_lookalike_job_after_the_suite() -> None:
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert ci.index("./dev test-windows-lookalike") > ci.index("./dev test")
    assert re.search(r"^\s+test-windows-lookalike\)", (ROOT / "dev").read_text(), re.M)
    assert "./dev test-windows-lookalike" in (ROOT / "README.md").read_text()


def test_readme_names_every_cli_command() -> None:
    from paperlink.cli import main

    readme = (ROOT / "README.md").read_text()
    for name in main.commands:
        assert f"paperlink {name}" in readme, name


def test_every_test_named_in_the_docs_exists() -> None:
    """docs/security.md and docs/spec.md name the test behind each control: each must exist."""
    for doc in ("security.md", "spec.md"):
        text = (ROOT / "docs" / doc).read_text()
        refs = set(re.findall(r"(tests/[a-z_/]+\.py)::([A-Za-z0-9_]+)", text))
        assert refs or doc == "spec.md"
        for path, name in refs:
            assert re.search(rf"^\s*def {name}\(", (ROOT / path).read_text(), re.M), f"{doc}: {path}::{name}"
