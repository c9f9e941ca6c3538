"""The data file: JSON Lines with a header, read in full, every problem reported with file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperlink.codetables import tables_version
from paperlink.dataformat import dumps_notices, read_notices, validate_file, write_notices
from paperlink.errors import DataFileError
from paperlink.notice import parse_notice


def lines_of(*records: dict, count: int | None = None) -> str:
    head = {"format": "paperlink-notices", "version": 1, "count": len(records) if count is None else count}
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (head, *records))


def write(tmp_path: Path, text: str | bytes, name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def where(path: Path) -> list[tuple[int, str]]:
    return [(p.line, p.field) for p in validate_file(path)]


def test_write_then_read_is_exact(tmp_path: Path, sample_notices) -> None:
    path = tmp_path / "out.jsonl"
    write_notices(sample_notices, path)
    assert read_notices(path) == sample_notices
    assert path.read_bytes() == dumps_notices(sample_notices)
    first = path.read_bytes().split(b"\n")[0]
    assert first == b'{"format":"paperlink-notices","version":2,"count":200,"tables":"%s"}' % tables_version().encode()


def test_written_file_has_one_canonical_record_a_line(tmp_path: Path, sample_notices) -> None:
    path = tmp_path / "out.jsonl"
    write_notices(sample_notices[:3], path)
    lines = path.read_text("utf-8").splitlines()
    assert lines[1:] == [n.canonical_json() for n in sample_notices[:3]]


def test_every_bad_input_is_reported_in_one_run(tmp_path: Path, record) -> None:
    """GIVEN a file with a problem on many lines WHEN validated THEN each is named with its line and field."""
    good = json.dumps(record(notice_id="N-1"), ensure_ascii=False)
    text = "\n".join([
        json.dumps({"format": "paperlink-notices", "version": 1, "count": 9}),
        good,                                                                        # 2 fine
        good[:-20],                                                                  # 3 truncated JSON
        "",                                                                          # 4 empty line
        json.dumps(record(notice_id="N-2", colour="red"), ensure_ascii=False),       # 5 unknown field
        json.dumps(record(notice_id="N-3", name=...), ensure_ascii=False),           # 6 missing field
        json.dumps(record(notice_id="N-1"), ensure_ascii=False),                     # 7 duplicate id
        json.dumps(record(notice_id="N-4", municipality_code="131015")),             # 8 check digit
        json.dumps(record(notice_id="N-5", birth_date="1995-02-29")),                # 9 impossible date
        json.dumps(record(notice_id="N-6", status="育成就労", period_of_stay="1年")),  # 10 status not yet valid
    ]) + "\n"
    path = write(tmp_path, text)
    found = where(path)
    assert (3, "(line)") in found
    assert (4, "(line)") in found
    assert (5, "colour") in found
    assert (6, "name") in found
    assert (7, "notice_id") in found
    assert (8, "municipality_code") in found
    assert (9, "birth_date") in found
    assert (10, "status") in found
    assert (2, "notice_id") not in found
    messages = {p.line: str(p) for p in validate_file(path)}
    assert messages[7] == f"{path}:7: notice_id: notice id N-1 already appears on line 2"
    assert messages[3].startswith(f"{path}:3: (line): not valid JSON")


def test_shift_jis_bytes_are_named_with_line_and_offset(tmp_path: Path, record) -> None:
    text = lines_of(record(), record(notice_id="N-2"))
    data = text.encode("utf-8").replace("九段南".encode(), "九段南".encode("cp932"), 1)
    problems = validate_file(write(tmp_path, data))
    assert [(p.line, p.field) for p in problems] == [(2, "(line)"), (1, "count")]
    assert "not UTF-8" in problems[0].message and "Shift_JIS" in problems[0].message


def test_bom_is_reported(tmp_path: Path, record) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf" + lines_of(record()).encode())
    assert [(p.line, p.field) for p in validate_file(path)] == [(1, "(file)")]


def test_truncated_file_is_caught_by_the_header_count(tmp_path: Path, record) -> None:
    path = write(tmp_path, lines_of(record(), count=2))
    (problem,) = validate_file(path)
    assert problem.field == "count" and "announces 2 notices but the file holds 1" in problem.message


def test_file_cut_mid_line_is_caught(tmp_path: Path, record) -> None:
    data = lines_of(record(), record(notice_id="N-2")).encode()[:-40]
    found = where(write(tmp_path, data))
    assert (3, "(file)") in found and (3, "(line)") in found


@pytest.mark.parametrize(("head", "field"), [
    ({"format": "paperlink-notices", "version": 3, "count": 1}, "version"),
    ({"format": "paperlink-notices", "version": 2, "count": 1}, "tables"),
    ({"format": "paperlink-notices", "version": 2, "count": 1, "tables": "new"}, "tables"),
    ({"format": "paperlink-notices", "version": 1, "count": 1, "tables": "2026-12-01"}, "tables"),
    ({"format": "other", "version": 1, "count": 1}, "format"),
    ({"format": "paperlink-notices", "version": 1}, "count"),
    ({"format": "paperlink-notices", "version": 1, "count": 1, "extra": 1}, "extra"),
])
def test_header_problems(tmp_path: Path, record, head: dict, field: str) -> None:
    text = json.dumps(head) + "\n" + json.dumps(record(), ensure_ascii=False) + "\n"
    assert (1, field) in where(write(tmp_path, text))


def test_missing_header_is_reported_and_records_still_checked(tmp_path: Path, record) -> None:
    text = json.dumps(record(), ensure_ascii=False) + "\n" + json.dumps(record(sex="X"), ensure_ascii=False) + "\n"
    found = where(write(tmp_path, text))
    assert (1, "(header)") in found and (2, "sex") in found


def test_crlf_line_ends_are_accepted(tmp_path: Path, record) -> None:
    path = write(tmp_path, lines_of(record()).replace("\n", "\r\n"))
    assert read_notices(path) == [parse_notice(record())]


@pytest.mark.parametrize("content", [b"", None])
def test_empty_or_missing_file(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "x.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataFileError) as exc:
        read_notices(path)
    assert exc.value.problems[0].field == "(file)" and str(path) in str(exc.value)


def test_directory_is_reported_not_raised(tmp_path: Path) -> None:
    (problem,) = validate_file(tmp_path)
    assert "cannot read" in problem.message


def test_failed_write_leaves_the_old_file(tmp_path: Path, sample_notices, monkeypatch) -> None:
    path = tmp_path / "out.jsonl"
    write_notices(sample_notices[:2], path)
    before = path.read_bytes()

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        write_notices(sample_notices, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_a_version_1_file_still_reads(tmp_path: Path, record) -> None:
    text = json.dumps({"format": "paperlink-notices", "version": 1, "count": 1}) + "\n" + json.dumps(
        record(), ensure_ascii=False) + "\n"
    assert read_notices(write(tmp_path, text)) == [parse_notice(record())]


def test_a_file_from_newer_tables_is_not_called_invalid(tmp_path: Path, record) -> None:
    """GIVEN a file whose header names newer code tables and a value our tables lack THEN one problem says so."""
    head = {"format": "paperlink-notices", "version": 2, "count": 2, "tables": "2099-01-01"}
    text = "\n".join([json.dumps(head), json.dumps(record(), ensure_ascii=False),
                      json.dumps(record(notice_id="N-2", status="未来の資格"), ensure_ascii=False)]) + "\n"
    problems = validate_file(write(tmp_path, text))
    assert [(p.line, p.field) for p in problems] == [(1, "tables")]
    assert "2099-01-01" in problems[0].message and tables_version() in problems[0].message
    assert "update paperlink" in problems[0].message


def test_a_file_from_the_same_tables_with_a_bad_value_is_invalid(tmp_path: Path, record) -> None:
    head = {"format": "paperlink-notices", "version": 2, "count": 1, "tables": tables_version()}
    text = json.dumps(head) + "\n" + json.dumps(record(status="未来の資格"), ensure_ascii=False) + "\n"
    assert [(p.line, p.field) for p in validate_file(write(tmp_path, text))] == [(2, "status")]
