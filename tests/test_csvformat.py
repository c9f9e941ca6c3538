"""CSV import and export (UTF-8 with BOM, cp932) for older register systems."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperlink.csvformat import COLUMNS, dumps_csv, read_csv, write_csv
from paperlink.dataformat import dumps_notices, read_notices, validate_file, write_notices
from paperlink.errors import ExportError
from paperlink.notice import parse_notice


def cp932_safe(notices):
    ok = []
    for n in notices:
        try:
            n.canonical_json().encode("cp932")
        except UnicodeEncodeError:
            continue
        ok.append(n)
    return ok


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932"])
def test_jsonl_to_csv_to_jsonl_is_exact(tmp_path: Path, sample_notices, encoding: str) -> None:
    notices = sample_notices if encoding == "utf-8-sig" else cp932_safe(sample_notices)
    assert len(notices) > 150
    source = tmp_path / "in.jsonl"
    write_notices(notices, source)
    csv_path = tmp_path / "out.csv"
    write_csv(read_notices(source), csv_path, encoding)
    back = tmp_path / "back.jsonl"
    write_notices(read_csv(csv_path), back)
    assert back.read_bytes() == source.read_bytes()


def test_csv_bytes_start_with_bom_and_header(sample_notices) -> None:
    data = dumps_csv(sample_notices[:1])
    assert data.startswith(b"\xef\xbb\xbfnotice_id,notice_date,")
    assert data.split(b"\r\n")[0].decode("utf-8-sig").split(",") == list(COLUMNS)


def test_cp932_file_is_really_shift_jis(sample_notices) -> None:
    data = dumps_csv(cp932_safe(sample_notices)[:5], "cp932")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert "千代田区" in data.decode("cp932")


def test_cp932_export_refuses_characters_it_cannot_hold(record) -> None:
    notice = parse_notice(record(name_kanji="𠮷田\u3000太郎"))
    with pytest.raises(ExportError) as exc:
        dumps_csv([notice], "cp932")
    assert "N20261126-00001" in str(exc.value) and "name_kanji" in str(exc.value) and "U+20BB7" in str(exc.value)
    assert "𠮷田" in dumps_csv([notice]).decode("utf-8-sig")


def test_csv_problems_name_line_and_field(tmp_path: Path, sample_notices) -> None:
    text = dumps_csv(sample_notices[:3]).decode("utf-8-sig").split("\r\n")
    text[2] = text[2].replace(sample_notices[1].municipality_code, "131017")
    path = tmp_path / "bad.csv"
    path.write_text("\r\n".join(text), encoding="utf-8-sig")
    (problem,) = validate_file(path)
    assert (problem.line, problem.field) == (3, "municipality_code")


def test_csv_with_unknown_column(tmp_path: Path, sample_notices) -> None:
    text = dumps_csv(sample_notices[:1]).decode("utf-8-sig").replace("remarks", "memo", 1)
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    fields = {(p.line, p.field, p.message) for p in validate_file(path)}
    assert (1, "(header)", "unknown column(s) memo") in fields
    assert (1, "(header)", "missing column(s) remarks") in fields


def test_csv_from_a_spreadsheet_with_japanese_labels_and_wareki(tmp_path: Path, record) -> None:
    notice = parse_notice(record())
    row = dict(zip(COLUMNS, dumps_csv([notice]).decode("utf-8-sig").split("\r\n")[1].split(","), strict=True))
    row.update(event="在留期間更新許可", category="中長期在留者", card_kind="在留カード", sex="男",
               nationality="VNM", expiry_date="令和11年12月10日")
    path = tmp_path / "typed.csv"
    path.write_bytes(("\r\n".join([",".join(COLUMNS), ",".join(row[c] for c in COLUMNS)]) + "\r\n").encode("cp932"))
    assert read_csv(path) == [notice]
    assert dumps_notices(read_csv(path)) == dumps_notices([notice])


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_csv_in_neither_encoding_names_the_right_byte(tmp_path: Path, bom: bytes) -> None:
    data = bom + ",".join(COLUMNS).encode() + b"\r\nN1,\xff\x81\x7f\r\n"
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    (problem,) = validate_file(path)
    import re

    match = re.fullmatch(r"the file (?:is neither UTF-8 nor Shift_JIS/cp932|starts with a UTF-8 byte order mark but is "
                         r"not UTF-8) \(byte 0x([0-9A-F]{2}) at offset (\d+)\)", problem.message)
    assert match and data[int(match[2])] == int(match[1], 16)
    assert int(match[2]) >= data.index(b"\xff")
