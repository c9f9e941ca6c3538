"""Readings of printed text kept between the upload of a sheet whose code could not be read and its first entry.

A reading (`printedtext.PrintedReading`: only items proven by their check characters) is kept as an owner-only
JSON file `<home>/printed/<token>.json`; the result line of the upload links to `entry.printed_sheet` with the token.
The entry form takes the proven items from this file – never from what the browser posts – and the file is
removed once the first entry is stored (with any other reading bound to the same notice), and a reading older
than a day (`printedkeep.KEEP_SECONDS`, by the `kept_at` time stored in it) is refused and removed by `load`,
by `keep` and by retention erasure.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from paperlink import printedkeep
from paperlink.atomicfile import atomic_write_bytes
from paperlink.printedtext import PrintedReading
from paperlink.web.db import home

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _folder() -> Path:
    path = home().root / "printed"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


KEEP_SECONDS = printedkeep.KEEP_SECONDS
"""A reading not used for a first entry within a day is refused and removed."""


def keep(reading: PrintedReading, source: str, page: int) -> str:
    """Keep a reading (removing those older than KEEP_SECONDS); its token."""
    printedkeep.sweep(_folder())
    token = secrets.token_urlsafe(18)
    data = {"items": reading.items, "seq": reading.seq, "total": reading.total, "source": source, "page": page,
            "unproven": list(reading.unproven), "row": None, "kept_at": time.time()}
    atomic_write_bytes(_folder() / f"{token}.json", json.dumps(data, ensure_ascii=False).encode(), exclusive=True)
    return token


def load(token: str | None) -> dict[str, Any] | None:
    """A kept reading, or None (no such token, already used, or older than a day: old readings are removed)."""
    printedkeep.sweep(_folder())
    if not token or not _TOKEN.match(token):
        return None
    path = _folder() / f"{token}.json"
    data = printedkeep.read(path)
    if data is None or printedkeep.is_old(path, data):
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


def origin(token: str | None) -> tuple[str, int] | None:
    """The file and page a kept reading was read from (for the audit log), or None."""
    data = load(token)
    if data is None:
        return None
    return str(data.get("source", "")), int(data.get("page") or 0)


def unproven_for(token: str | None) -> set[str]:
    """The items of a reading whose printed check characters did not match what OCR read (the clerk types them)."""
    data = load(token)
    return {str(k) for k in data.get("unproven", [])} if data else set()


def used(token: str) -> None:
    """Remove a reading once its first entry is stored."""
    if _TOKEN.match(token):
        (_folder() / f"{token}.json").unlink(missing_ok=True)


def drop_for_row(row_id: int) -> None:
    """Remove every reading bound to a notice row whose first entry is stored."""
    printedkeep.drop_for_row(_folder(), row_id)
