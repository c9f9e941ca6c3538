"""Readings of printed text kept between the upload of a sheet whose code could not be read and its first entry.

A reading (`printedtext.PrintedReading`: only items proven by their check characters) is kept as an owner-only
JSON file `<home>/printed/<token>.json`; the result line of the upload links to `entry.printed_sheet` with the token.
The entry form takes the proven items from this file – never from what the browser posts – and the file is
removed once the first entry is stored (or, unused, after a day).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from paperlink.atomicfile import atomic_write_bytes
from paperlink.printedtext import PrintedReading
from paperlink.web.db import home

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _folder() -> Path:
    path = home().root / "printed"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


KEEP_SECONDS = 24 * 3600
"""A reading not used for a first entry within a day is removed (the next time a reading is kept)."""


def keep(reading: PrintedReading, source: str, page: int) -> str:
    """Keep a reading (removing those older than KEEP_SECONDS); its token."""
    now = time.time()
    for old in _folder().glob("*.json"):
        try:
            if now - old.stat().st_mtime > KEEP_SECONDS:
                old.unlink()
        except OSError:
            continue
    token = secrets.token_urlsafe(18)
    data = {"items": reading.items, "seq": reading.seq, "total": reading.total, "source": source, "page": page,
            "unproven": list(reading.unproven), "row": None}
    atomic_write_bytes(_folder() / f"{token}.json", json.dumps(data, ensure_ascii=False).encode(), exclusive=True)
    return token


def load(token: str | None) -> dict[str, Any] | None:
    """A kept reading, or None (no such token, or already used)."""
    if not token or not _TOKEN.match(token):
        return None
    path = _folder() / f"{token}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def bind(token: str, row_id: int) -> None:
    """Tie a kept reading to the notice row it is entered as (so it cannot be used for another notice)."""
    data = load(token)
    if data is not None:
        data["row"] = row_id
        atomic_write_bytes(_folder() / f"{token}.json", json.dumps(data, ensure_ascii=False).encode())


def items_for(token: str | None, row_id: int) -> dict[str, str] | None:
    """The proven items of a reading tied to `row_id`, or None."""
    data = load(token)
    if data is None or data.get("row") != row_id:
        return None
    return {str(k): str(v) for k, v in dict(data.get("items", {})).items()}


def unproven_for(token: str | None) -> set[str]:
    """The items of a reading whose printed check characters did not match what OCR read (the clerk types them)."""
    data = load(token)
    return {str(k) for k in data.get("unproven", [])} if data else set()


def used(token: str) -> None:
    """Remove a reading once its first entry is stored."""
    if _TOKEN.match(token):
        (_folder() / f"{token}.json").unlink(missing_ok=True)
