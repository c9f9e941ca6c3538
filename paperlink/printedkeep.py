"""The folder of kept printed-text readings (`<home>/printed/<token>.json`, see `web/printed.py`): their age
and the sweep of old ones, shared by the entry screen and retention erasure (`maintenance.erase_expired`).

A reading is at most KEEP_SECONDS old: its age is taken from the `kept_at` time stored in it and from the file's
modification time, whichever is older (a reading without `kept_at`, or unreadable, counts as old).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

KEEP_SECONDS = 24 * 3600
"""A reading not used for a first entry within a day is refused and removed."""


def folder_of(home_root: Path) -> Path:
    """Where the readings of a data directory are kept."""
    return home_root / "printed"


def read(path: Path) -> dict[str, Any] | None:
    """A reading's data, or None (gone, unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_old(path: Path, data: dict[str, Any] | None, now: float | None = None) -> bool:
    """Whether a reading is older than KEEP_SECONDS (by `kept_at` and by the file's time, the older of the two)."""
    now = time.time() if now is None else now
    kept_at = data.get("kept_at") if data else None
    if not isinstance(kept_at, (int, float)) or isinstance(kept_at, bool):
        return True
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return True
    return now - min(float(kept_at), mtime) > KEEP_SECONDS


def sweep(folder: Path, now: float | None = None) -> int:
    """Remove the readings older than KEEP_SECONDS (and unreadable ones); how many were removed."""
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.glob("*.json"):
        if is_old(path, read(path), now):
            try:
                path.unlink()
                removed += 1
            except OSError:
                continue
    return removed


def drop_for_row(folder: Path, row_id: int) -> int:
    """Remove every reading bound to notice row `row_id` (its first entry is stored); how many were removed."""
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.glob("*.json"):
        data = read(path)
        if data is not None and data.get("row") == row_id:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
