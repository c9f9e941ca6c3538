"""The entry screen's scan-folder import when a file is held open by another program (issue 16 item 6)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from paperlink import safefs


def test_a_file_held_open_is_shown_as_waiting_then_filed(client, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a scan another program holds open WHEN the clerk imports the folder THEN the screen says it is in
    use and stays; the next import files it in failed/."""
    client.login("aoki")
    (home / "scans").mkdir(exist_ok=True)
    (home / "scans" / "memo.png").write_bytes(b"not an image")
    monkeypatch.setattr(safefs, "RETRY_DELAYS", (0.01,))
    real = {name: getattr(os, name) for name in ("link", "rename", "replace")}

    def held(src: object, dst: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "being used by another process", str(src))

    for name in real:
        monkeypatch.setattr(os, name, held)
    response = client.send("/capture/folder")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "memo.png" in page and "使用中" in page and "そのまま" in page
    assert (home / "scans" / "memo.png").exists()
    for name, function in real.items():
        monkeypatch.setattr(os, name, function)
    page = client.send("/capture/folder").get_data(as_text=True)
    assert "読めないページあり" in page and (home / "scans" / "failed" / "memo.png.reason.txt").exists()
