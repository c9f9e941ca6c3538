"""Write paperlink/tables/index.json: the version of the set of code tables and each table's version and SHA-256.

    python tools/table_index.py VERSION

Run it after changing a table (and give the set a new version, the date of the change); the test suite fails
while index.json and the tables disagree.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

TABLES = Path(__file__).resolve().parent.parent / "paperlink" / "tables"
NAMES = ("events", "categories", "statuses", "periods", "card_kinds", "nationalities", "municipalities")


def build(version: str) -> str:
    entries = {}
    for name in NAMES:
        data = (TABLES / f"{name}.json").read_bytes()
        entries[name] = {"file": f"{name}.json", "version": json.loads(data)["version"],
                         "sha256": hashlib.sha256(data).hexdigest()}
    return json.dumps({"format": "paperlink-code-tables", "version": version, "tables": entries},
                      ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":
    (TABLES / "index.json").write_text(build(sys.argv[1]), encoding="utf-8")
