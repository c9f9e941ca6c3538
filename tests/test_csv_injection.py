"""CSV formula injection (issue 13, item 3): cells a spreadsheet would run are written as text, and read back exactly."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from paperlink.csvformat import FORMULA_TRIGGERS, dumps_csv, neutralise, restore
from paperlink.dataformat import read_notices, write_notices
from paperlink.notice import parse_notice

HOSTILE = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0",
           "=HYPERLINK(\"http://evil.example\",\"x\")"]


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "'=1", "''=1", "'", "''", "'a",
                                   "a=b", "", "'\t", "x'=1", "＝1"])
def test_neutralise_then_restore_is_the_identity(value: str) -> None:
    written = neutralise(value)
    assert restore(written) == value
    assert not written or written[0] not in FORMULA_TRIGGERS


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932"])
def test_formula_cells_are_text_and_the_round_trip_is_byte_exact(record, runner, tmp_path: Path,
                                                                 encoding: str) -> None:
    notices = [parse_notice(record(notice_id=f"N20261126-0000{i}", remarks=value, address=value))
               for i, value in enumerate(HOSTILE, start=1)]
    notices.append(parse_notice(record(notice_id="N20261126-00009", remarks="'=already quoted")))
    source = tmp_path / "in.jsonl"
    write_notices(notices, source)
    assert runner("convert", source, "-o", tmp_path / "out.csv", "--encoding", encoding).exit_code == 0
    text = (tmp_path / "out.csv").read_bytes().decode("utf-8-sig" if encoding == "utf-8-sig" else "cp932")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    cells = [cell for row in rows[1:] for cell in row]
    assert all(not cell or cell[0] not in FORMULA_TRIGGERS for cell in cells)  # nothing a spreadsheet runs
    assert "'=cmd|' /C calc'!A0" in cells and "''=already quoted" in cells
    assert runner("convert", tmp_path / "out.csv", "-o", tmp_path / "back.jsonl").exit_code == 0
    assert (tmp_path / "back.jsonl").read_bytes() == source.read_bytes()
    assert [n.remarks for n in read_notices(tmp_path / "out.csv")] == [*HOSTILE, "'=already quoted"]


def test_export_csv_is_neutralised_too(record) -> None:
    data = dumps_csv([parse_notice(record(remarks="=cmd|' /C calc'!A0"))])
    assert b",'=cmd|' /C calc'!A0" in data.replace(b'"', b"")
