"""The command line: samples, validate, convert, the data directory, and help on every command."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from paperlink.cli import main
from paperlink.codetables import tables
from paperlink.dataformat import read_notices
from paperlink.home import Home, default_home
from paperlink.samples import pairings
from tests.windows_lookalike import assert_owner_only


@pytest.fixture(scope="module")
def thousand(tmp_path_factory) -> Path:
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("samples") / "notices.jsonl"
    result = CliRunner().invoke(main, ["samples", "--count", "1000", "--seed", "1", "--date", "2026-11-26",
                                       "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_thousand_samples_validate(runner, thousand: Path) -> None:
    result = runner("validate", thousand)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert len(read_notices(thousand)) == 1000


def test_samples_cover_every_event_category_and_pairing(thousand: Path) -> None:
    notices = read_notices(thousand)
    assert {n.event for n in notices} == set(tables().events)
    assert {n.category for n in notices} == set(tables().categories)
    assert {(n.event, n.category) for n in notices} == set(pairings())
    assert any(n.name_kanji for n in notices)
    assert any(len(n.name) > 40 for n in notices)
    assert any("," in n.name for n in notices)
    assert all(n.before for n in notices if n.event in ("status_change", "extension", "card_reissue"))
    assert any(n.card_kind == "specified_residence_card" for n in notices)
    assert len({n.status for n in notices if n.status}) > 20


def test_same_seed_same_file_other_seed_other_file(runner, tmp_path: Path, thousand: Path) -> None:
    again, other = tmp_path / "again.jsonl", tmp_path / "other.jsonl"
    runner("samples", "--count", "1000", "--seed", "1", "--date", "R8.11.26", "-o", again)
    runner("samples", "--count", "1000", "--seed", "2", "--date", "2026-11-26", "-o", other)
    assert again.read_bytes() == thousand.read_bytes()
    assert other.read_bytes() != thousand.read_bytes()


def test_validate_prints_file_line_field_message_and_exits_1(runner, tmp_path: Path, record) -> None:
    path = tmp_path / "bad.jsonl"
    head = {"format": "paperlink-notices", "version": 1, "count": 2}
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in
                              (head, record(municipality_code="131017"), record(notice_id="N2", sex="?"))) + "\n")
    result = runner("validate", path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:2: municipality_code: check digit is wrong: 131017 should end in 6",
        f"{path}:3: sex: '?' is not a sex (use M or F, 男 or 女)",
    ]
    assert "2 problem(s)" in result.stderr


def test_validate_missing_file_is_a_message_not_a_traceback(runner, tmp_path: Path) -> None:
    result = runner("validate", tmp_path / "nope.jsonl")
    assert result.exit_code == 1
    assert "nope.jsonl:0: (file): cannot read the file: No such file or directory" in result.stdout


def test_convert_to_cp932_csv_and_back(runner, tmp_path: Path, thousand: Path) -> None:
    csv_path, back = tmp_path / "n.csv", tmp_path / "back.jsonl"
    utf = runner("convert", thousand, "-o", csv_path)
    assert utf.exit_code == 0
    assert runner("convert", csv_path, "-o", back).exit_code == 0
    assert back.read_bytes() == thousand.read_bytes()


def test_convert_refuses_an_invalid_file_and_writes_nothing(runner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format":"paperlink-notices","version":1,"count":1}\n{"notice_id":\n')
    out = tmp_path / "out.csv"
    result = runner("convert", bad, "-o", out)
    assert result.exit_code == 1
    assert "nothing was written" in result.stderr and "bad.jsonl:2: (line): not valid JSON" in result.stderr
    assert not out.exists()


def test_samples_rejects_a_bad_municipality_code(runner, tmp_path: Path) -> None:
    result = runner("samples", "--municipality", "131017", "-o", tmp_path / "x.jsonl")
    assert result.exit_code == 2 and "should end in 6" in result.stderr


def test_home_from_option_environment_or_default(tmp_path: Path, monkeypatch, home: Path) -> None:
    assert Home.resolve().root == home.resolve()
    assert Home.resolve(tmp_path / "opt").root == (tmp_path / "opt").resolve()
    monkeypatch.delenv("PAPERLINK_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Home.resolve().root == tmp_path / "xdg" / "paperlink" == default_home()
    made = Home.resolve(tmp_path / "new").ensure()
    assert made.root.is_dir()
    assert_owner_only(made.root, 0o700)


def test_home_option_reaches_commands(tmp_path: Path) -> None:
    seen = {}

    @main.command("_probe")
    @click.pass_obj
    def probe(ctx) -> None:
        seen["home"] = ctx.home.root

    from click.testing import CliRunner

    try:
        CliRunner().invoke(main, ["--home", str(tmp_path / "h"), "_probe"], catch_exceptions=False)
    finally:
        main.commands.pop("_probe")
    assert seen["home"] == (tmp_path / "h").resolve()


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_with_an_example(runner, name: str) -> None:
    result = runner(name, "--help")
    assert result.exit_code == 0 and "Example:" in result.stdout
