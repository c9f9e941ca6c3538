"""Build paperlink/tables/municipalities.json from the shared list of 全国地方公共団体コード.

    python tools/build_municipalities.py [CSV] > paperlink/tables/municipalities.json

The input is the CC0 list `municipalities.csv` (columns code, prefecture, name, kana; a ward written
"札幌市 中央区"). Its known gaps are corrected here (CORRECTIONS) and every correction is named in the
table's source note. The output is deterministic: the same input gives the same bytes.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

VERSION = "2026-12-01"
DEFAULT_CSV = Path(__file__).resolve().parent.parent / "tests" / "data" / "shared-municipalities.csv"

# 浜松市 reorganised its seven wards into three on 2024-01-01 (the shared list still shows the old seven).
HAMAMATSU_CHANGE = "2024-01-01"
HAMAMATSU_OLD = {"221317", "221325", "221333", "221341", "221350", "221368", "221376"}
HAMAMATSU_NEW = (("221384", "浜松市中央区"), ("221392", "浜松市浜名区"), ("221406", "浜松市天竜区"))

SOURCE = (
    "全国地方公共団体コード (6 digits with check digit; 総務省). Built by tools/build_municipalities.py from the CC0 "
    "open data set 'localgovjp' (code4fukui/localgovjp, localgovjp-utf8.csv, state of 2026-07-09: every "
    "municipality, 政令指定都市 and its wards, Tokyo's 23 特別区; 1,916 rows), plus the 47 prefectures (code "
    "PP000 + check digit, kind 'prefecture': never a valid notice address) and 東京都特別区部 131008 (kind "
    "'special_ward_area': the 23 wards are the units). Corrections: 浜松市 reorganised its 7 wards into 3 on "
    "2024-01-01 - the old ward codes 221317-221376 are valid_to 2023-12-31; 中央区 221384 (verified: Wikipedia "
    "'中央区 (浜松市)', 市町村コード 22138-4, created 2024-01-01), 浜名区 221392 and 天竜区 221406 (from the shared list's "
    "README; not verified against 総務省's list) are valid_from 2024-01-01. valid_from null: the code existed before "
    "2012-07-09 or its start is not known (not verified per code); valid_to null: in use. Not verified: changes "
    "after 2026-07-09, and any other change since 2021 the source list may have missed. Kinds: city, town, village, "
    "special_ward (特別区), ward (行政区 of a 政令指定都市; 'city' names its designated city), designated_city "
    "(refused as a notice address: its wards are the units, 入管法施行令 第2条 / 住基法 第38条), prefecture, "
    "special_ward_area."
)


def check_digit(first_five: str) -> int:
    total = sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


def _kind(name: str) -> str:
    if name.endswith("市"):
        return "city"
    if name.endswith("町"):
        return "town"
    if name.endswith("村"):
        return "village"
    if name.endswith("区"):
        return "special_ward"
    raise ValueError(f"cannot tell the kind of {name!r}")


def build(csv_path: Path) -> dict[str, object]:
    with csv_path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    entries: dict[str, dict[str, object]] = {}
    city_codes: dict[tuple[str, str], str] = {}
    prefectures: dict[str, str] = {}
    for row in rows:
        code, pref, name = row["code"], row["prefecture"], row["name"]
        if len(code) != 6 or check_digit(code[:5]) != int(code[5]):
            raise ValueError(f"bad code {code}")
        prefectures.setdefault(code[:2], pref)
        entry: dict[str, object] = {"code": code, "name": name.replace(" ", ""), "prefecture": pref,
                                    "kind": _kind(name), "city": None, "valid_from": None, "valid_to": None}
        if " " in name:
            city_name = name.split(" ", 1)[0]
            entry["kind"] = "ward"
            entry["city"] = city_codes[(pref, city_name)]
            entries[str(entry["city"])]["kind"] = "designated_city"
        else:
            city_codes[(pref, name)] = code
        if code in HAMAMATSU_OLD:
            entry["valid_to"] = "2023-12-31"
        entries[code] = entry
    for code, name in HAMAMATSU_NEW:
        entries[code] = {"code": code, "name": name, "prefecture": "静岡県", "kind": "ward", "city": "221309",
                         "valid_from": HAMAMATSU_CHANGE, "valid_to": None}
    for two, pref in prefectures.items():
        code = f"{two}000{check_digit(two + '000')}"
        entries[code] = {"code": code, "name": pref, "prefecture": pref, "kind": "prefecture", "city": None,
                         "valid_from": None, "valid_to": None}
    entries["131008"] = {"code": "131008", "name": "特別区部", "prefecture": "東京都", "kind": "special_ward_area",
                         "city": None, "valid_from": None, "valid_to": None}
    for entry in entries.values():
        code = str(entry["code"])
        assert check_digit(code[:5]) == int(code[5]), code
    return {"table": "municipalities", "version": VERSION, "source": SOURCE,
            "entries": [entries[c] for c in sorted(entries)]}


def render(table: dict[str, object]) -> str:
    """One entry per line, so that a diff of the table shows the changed codes."""
    lines = ["{", f' "table": {json.dumps(table["table"])},', f' "version": {json.dumps(table["version"])},',
             f' "source": {json.dumps(table["source"], ensure_ascii=False)},', ' "entries": [']
    entries = table["entries"]
    assert isinstance(entries, list)
    for i, entry in enumerate(entries):
        comma = "," if i < len(entries) - 1 else ""
        lines.append("  " + json.dumps(entry, ensure_ascii=False) + comma)
    lines += [" ]", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_CSV
    sys.stdout.buffer.write(render(build(path)).encode("utf-8"))  # UTF-8 whatever the console encoding
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
