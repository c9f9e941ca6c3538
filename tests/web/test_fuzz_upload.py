"""Fuzzing the upload endpoints with generated files: never a server error, never a change to the ledger."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("PAPERLINK_FUZZ_UPLOADS", "1000"))
COUNTS: dict[str, int] = {}
pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.filterwarnings("ignore::UserWarning"),  # Pillow warns about the corrupt EXIF it survives
]

# beginnings of real formats, so the fuzz reaches the image and PDF parsers rather than stopping at magic bytes
MAGIC = [b"", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"BM", b"II*\x00", b"MM\x00*", b"GIF89a"]


def _ledger_tables(ledger) -> dict:
    return {t: ledger.query(f"SELECT COUNT(*) FROM {t}")[0][0]
            for t in ("batches", "notices", "entries", "verifications", "exports", "captures")}


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(magic=st.sampled_from(MAGIC), body=st.binary(max_size=2048), name=st.text(max_size=40))
def test_fuzz_file_upload(client, ledger, magic: bytes, body: bytes, name: str) -> None:
    """GIVEN any bytes under any file name WHEN uploaded THEN a page with a message, and the ledger unchanged."""
    COUNTS["upload endpoint (files)"] = COUNTS.get("upload endpoint (files)", 0) + 1
    if not getattr(client, "_logged_in", False):
        client.login("aoki")
        client._logged_in = True
    before = _ledger_tables(ledger)
    data = {"files": [(io.BytesIO(magic + body), name or "x")]}
    response = client.send("/capture/files", data, content_type="multipart/form-data")
    assert response.status_code in (200, 302, 400, 413)
    assert _ledger_tables(ledger) == before


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(magic=st.sampled_from(MAGIC[:4]), body=st.binary(max_size=4096))
def test_fuzz_camera_frame(client, ledger, magic: bytes, body: bytes) -> None:
    COUNTS["upload endpoint (camera frames)"] = COUNTS.get("upload endpoint (camera frames)", 0) + 1
    if not getattr(client, "_logged_in", False):
        client.login("aoki")
        client._logged_in = True
    before = _ledger_tables(ledger)
    response = client.post("/capture/frame", data=magic + body, content_type="image/jpeg",
                           headers={"X-CSRFToken": client.csrf()})
    assert response.status_code in (200, 400)
    assert response.is_json and response.get_json()["found"] is False
    assert _ledger_tables(ledger) == before
