"""The municipality table: every real code passes, codes that are not a notice address are refused."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from paperlink.codetables import tables
from paperlink.errors import NoticeInvalid
from paperlink.fields import FieldProblem, municipality_check_digit, norm_municipality
from paperlink.notice import parse_notice

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT / "tests" / "data" / "shared-municipalities.csv"


def _shared_codes() -> list[str]:
    with SHARED.open(encoding="utf-8", newline="") as f:
        return [row["code"] for row in csv.DictReader(f)]


def test_the_table_is_built_from_the_shared_list_exactly() -> None:
    """GIVEN the builder WHEN run on the shared list THEN it writes the shipped table byte for byte."""
    built = subprocess.run([sys.executable, str(ROOT / "tools" / "build_municipalities.py"), str(SHARED)],
                           check=True, capture_output=True).stdout
    assert built == (ROOT / "paperlink" / "tables" / "municipalities.json").read_bytes()


def test_every_code_of_the_shared_list_is_in_the_table() -> None:
    codes = _shared_codes()
    assert len(codes) == 1916
    assert set(codes) <= set(tables().municipalities)


def test_every_real_municipality_and_ward_code_passes_on_a_day_it_is_in_use() -> None:
    """GIVEN every municipality and ward of the shared list (not the 20 designated cities) THEN each passes."""
    t = tables()
    passed = 0
    for code in _shared_codes():
        entry = t.municipalities[code]
        if entry.kind == "designated_city":
            continue
        assert norm_municipality(code) == code
        day = entry.valid_to or dt.date(2026, 12, 1)
        assert entry.valid_on(day)
        passed += 1
    assert passed == 1916 - 20


@pytest.mark.parametrize(("code", "name"), [("011011", "札幌市中央区"), ("131016", "千代田区"), ("402311", "那珂川市"),
                                            ("094111", "那珂川町"), ("473821", "与那国町"), ("221384", "浜松市中央区")])
def test_names_are_written_as_the_office_writes_them(code: str, name: str) -> None:
    entry = tables().municipalities[code]
    assert entry.name == name
    assert entry.head_title == f"{name}長"


@pytest.mark.parametrize("code", ["130001", "010006", "470007", "000001", "999997", "131008"])
def test_codes_that_are_not_a_municipality_fail_even_with_a_correct_check_digit(code: str) -> None:
    assert municipality_check_digit(code[:5]) == int(code[5])
    with pytest.raises(FieldProblem) as exc:
        norm_municipality(code)
    assert exc.value.code in ("municipality_prefecture", "municipality_unknown", "municipality_special_ward_area")


def test_a_prefecture_code_is_refused_naming_the_prefecture() -> None:
    with pytest.raises(FieldProblem) as exc:
        norm_municipality("130001")
    assert (exc.value.code, exc.value.params["name"]) == ("municipality_prefecture", "東京都")


def test_a_designated_city_code_is_refused_naming_its_wards(record) -> None:
    """GIVEN a notice addressed to 札幌市 (a 政令指定都市) THEN it is refused, and the message names its 10 wards."""
    with pytest.raises(NoticeInvalid) as exc:
        parse_notice(record(municipality_code="011002"))
    [error] = exc.value.errors
    assert (error.field, error.code) == ("municipality_code", "municipality_designated_city")
    for ward in ("中央区 011011", "北区 011029", "清田区 011100"):
        assert ward in error.message and ward in error.message_ja


def test_every_designated_city_is_refused() -> None:
    cities = [m for m in tables().municipalities.values() if m.kind == "designated_city"]
    assert len(cities) == 20
    for city in cities:
        with pytest.raises(FieldProblem, match="municipality_designated_city"):
            norm_municipality(city.code)
        assert tables().wards(city.code, dt.date(2026, 12, 1))


def test_hamamatsu_wards_follow_the_2024_reorganisation(record) -> None:
    """GIVEN 浜松市's old 中区 and new 中央区 THEN each passes only on the dates it was in use."""
    assert [w.code for w in tables().wards("221309", dt.date(2026, 12, 1))] == ["221384", "221392", "221406"]
    assert len(tables().wards("221309", dt.date(2023, 12, 31))) == 7
    parse_notice(record(municipality_code="221317", notice_date="2023-12-28", event_date="2023-12-27"))
    parse_notice(record(municipality_code="221384", notice_date="2024-01-05", event_date="2024-01-04"))
    with pytest.raises(NoticeInvalid) as exc:
        parse_notice(record(municipality_code="221317", notice_date="2024-01-05", event_date="2024-01-04"))
    assert [(e.field, e.code) for e in exc.value.errors] == [("municipality_code", "municipality_not_in_use")]
    with pytest.raises(NoticeInvalid) as exc:
        parse_notice(record(municipality_code="221384", notice_date="2023-12-28", event_date="2023-12-27"))
    assert [(e.field, e.code) for e in exc.value.errors] == [("municipality_code", "municipality_not_in_use")]
