"""The command line's one place for the core's errors (CoreErrorGroup): every command turns a PaperlinkError,
a DataFileError or an OSError into one English line on stderr and exit status 1 – never a traceback.

The runner is invoked with catch_exceptions=False, so an exception that escapes a command fails the test.
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from paperlink.cli import CoreErrorCommand, CoreErrorGroup, main
from tests import rawdb
from tests.conftest import SQLITE_ONLY


def run(*args: str | Path, input: str | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def one_error_line(result: Result) -> str:
    """The single `Error: …` line a failed command printed on stderr (and nothing else there)."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


@pytest.fixture
def newer_ledger(home: Path) -> Path:
    """The data directory's ledger, stamped with a schema version from a future paperlink."""
    rawdb.set_version(home, 999)
    return home / "ledger.sqlite3"


@pytest.mark.parametrize("command", [
    ["status"],
    ["media"],
    ["retention"],
    ["retention", "--days", "30"],
    ["audit", "verify"],
    ["users", "list"],
    ["users", "deactivate", "tanaka"],
    ["watch", "--once"],
])
def test_a_ledger_of_a_newer_schema_is_one_line_not_a_traceback(newer_ledger: Path, command: list[str]) -> None:
    """GIVEN a ledger written by a newer paperlink WHEN any ledger command runs THEN exit 1, one line naming
    the newer schema version, and the ledger is left as it was."""
    line = one_error_line(run(*command))
    assert "999" in line and "newer" in line
    assert rawdb.get_version(newer_ledger.parent) == 999


def test_backup_and_export_of_a_newer_ledger_write_nothing(newer_ledger: Path, tmp_path: Path) -> None:
    for command in (["backup", "-o", tmp_path / "copy.sqlite3"], ["export", "-o", tmp_path / "out.jsonl"]):
        line = one_error_line(run(*command))
        assert "999" in line
    assert not (tmp_path / "copy.sqlite3").exists() and not (tmp_path / "out.jsonl").exists()


def test_a_core_error_is_its_english_message(home: Path) -> None:
    """GIVEN a signing key WHEN keys init runs again THEN the KeyExists message, one line."""
    assert run("keys", "init").exit_code == 0
    line = one_error_line(run("keys", "init"))
    assert line == f"Error: a signing key exists already: {home / 'keys' / 'signing-key.pem'}"


def test_a_missing_key_is_its_english_message(tmp_path: Path) -> None:
    line = one_error_line(run("keys", "export", "-o", tmp_path / "public.pem"))
    assert "run 'paperlink keys init' first" in line


def test_an_unwritable_output_names_the_output(tmp_path: Path) -> None:
    """GIVEN an output in a folder that does not exist WHEN written THEN `cannot write OUTPUT: why`."""
    assert run("keys", "init").exit_code == 0
    output = tmp_path / "no-such-folder" / "public.pem"
    line = one_error_line(run("keys", "export", "-o", output))
    assert line == f"Error: cannot write {output}: No such file or directory"


def test_an_unreadable_input_names_the_input(tmp_path: Path) -> None:
    missing = tmp_path / "no-password.txt"
    line = one_error_line(run("users", "add", "tanaka", "--name", "田中", "--role", "entry",
                              "--password-file", missing))
    assert line == f"Error: cannot read {missing}: No such file or directory"


def test_an_unreadable_input_next_to_the_output_is_still_a_read(tmp_path: Path) -> None:
    """GIVEN a missing passphrase file in the folder the bundle is written to THEN `cannot read` names it."""
    notices = tmp_path / "notices.jsonl"
    assert run("samples", "--count", "2", "-o", notices).exit_code == 0
    missing = tmp_path / "passphrase.txt"
    line = one_error_line(run("bundle", notices, "-o", tmp_path / "batch.plb", "--passphrase-file", missing))
    assert line == f"Error: cannot read {missing}: No such file or directory"
    assert not (tmp_path / "batch.plb").exists()


def test_a_data_file_error_lists_every_problem_then_a_summary(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "paperlink-notices", "version": 1, "count": 2}\nnot json\n{}\n', "utf-8")
    result = run("convert", bad, "-o", tmp_path / "out.csv")
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) >= 3 and all(line.startswith(f"{bad}:") for line in lines[:-1])
    assert lines[-1].startswith(f"Error: {bad}: ") and lines[-1].endswith("problem(s); nothing was written")
    assert not (tmp_path / "out.csv").exists()


def test_every_command_reports_through_the_one_place() -> None:
    """Every group is a CoreErrorGroup and every command a CoreErrorCommand (no command of its own kind)."""
    def walk(group: click.Group) -> list[click.Command]:
        found: list[click.Command] = []
        for command in group.commands.values():
            found.append(command)
            if isinstance(command, click.Group):
                assert isinstance(command, CoreErrorGroup), command.name
                found += walk(command)
        return found

    assert isinstance(main, CoreErrorGroup)
    for command in walk(main):
        assert isinstance(command, CoreErrorCommand | CoreErrorGroup), command.name


def test_a_write_error_without_a_file_name_names_the_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a disk that fills up during fsync (the OSError carries no file name) THEN the output is named."""
    import errno
    import os

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "out.jsonl"
    line = one_error_line(run("samples", "--count", "2", "-o", out))
    assert line == f"Error: cannot write {out}: No space left on device"
    assert not out.exists()


def test_typed_codes_that_are_not_utf8_give_one_line(home: Path) -> None:
    result = CliRunner().invoke(main, ["scan", "--typed"], input=b"PL1:\xff\xfe\n", catch_exceptions=False)
    assert "not UTF-8" in one_error_line(result)


@SQLITE_ONLY  # SQLite's own lock and busy timeout; PostgreSQL's: tests/test_ledger_postgresql.py
def test_a_busy_ledger_gives_one_line(home: Path) -> None:
    """GIVEN another process holding the ledger's write lock WHEN a command must write THEN one line, no traceback."""
    from paperlink.ledger import Ledger

    with Ledger(home / "ledger.sqlite3") as other:
        other.db.execute("PRAGMA busy_timeout = 0")
        other.db.execute("BEGIN IMMEDIATE")
        import paperlink.ledger.connection as connection

        original = connection.sqlite3.connect

        def impatient(*args, **kwargs):  # type: ignore[no-untyped-def]
            kwargs["timeout"] = 0.1
            return original(*args, **kwargs)

        try:
            connection.sqlite3.connect = impatient  # type: ignore[assignment]
            line = one_error_line(run("retention", "--days", "30", "--clerk", "x"))
        finally:
            connection.sqlite3.connect = original  # type: ignore[assignment]
            other.db.execute("ROLLBACK")
    assert "busy" in line
