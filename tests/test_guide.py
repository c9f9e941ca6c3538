"""docs/guide-ja.md tells clerks the truth about times: everything they read is Japan time."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from paperlink.dates import JST
from paperlink.ledger import Ledger
from paperlink.ledger.registers import add_media_record
from paperlink.ledger.schema import MediaDirection

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide-ja.md"


def test_the_guide_never_tells_clerks_to_read_utc() -> None:
    text = GUIDE.read_text("utf-8")
    assert "9時間足して" not in text and "（UTC）" not in text and "日付の切り替わりは UTC" not in text
    assert "日本時間" in text


def test_paperlink_media_prints_japan_time(home: Path, runner) -> None:
    """GIVEN a bundle entered in the media register WHEN `paperlink media` lists it THEN the time is JST."""
    home.mkdir(parents=True, exist_ok=True)
    with Ledger(home / "ledger.sqlite3") as ledger, ledger.transaction():
        add_media_record(ledger, "B20261126-7K3T", MediaDirection.IN, "B.plb", "0" * 64, 3, "tanaka")
    out = runner("media").output
    shown = re.search(r"^(\d{4}-\d\d-\d\d \d\d:\d\d) JST  B20261126-7K3T", out, re.M)
    assert shown, out
    now_jst = dt.datetime.now(JST).replace(tzinfo=None)
    assert abs(dt.datetime.strptime(shown[1], "%Y-%m-%d %H:%M") - now_jst) < dt.timedelta(minutes=5)
