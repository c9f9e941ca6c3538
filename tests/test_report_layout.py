"""Issue 12, point 10: the processing report (処理結果一覧) keeps every character inside its cell, however long
the 事由 or the list of clerks, and names both clerks of a double entry."""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.confirm import confirm
from paperlink.doubleentry import submit_entry
from paperlink.export import processing_report
from paperlink.intake import capture_scan
from paperlink.keys import key_id
from paperlink.ledger import Ledger
from paperlink.printing import print_batch
from paperlink.scanning import interpret
from paperlink.users import add_user

pytestmark = pytest.mark.slow

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}


@pytest.fixture
def report(home: Path, sample_notices) -> bytes:
    """A batch with the longest 事由, the longest names, a confirmed sheet and a double entry by two clerks."""
    longest_event = [n for n in sample_notices if n.event == "special_permanent"][:2]
    longest_names = sorted(sample_notices, key=lambda n: len(n.name), reverse=True)[:3]
    notices = longest_event + [n for n in longest_names if n not in longest_event]
    printed = print_batch(notices, KEY)
    with Ledger(home / "ledger.sqlite3") as ledger:
        a = add_user(ledger, "aoki-hanako", "青木", {"entry"}, "correct horse 1", "admin")
        b = add_user(ledger, "babasaburo", "馬場", {"entry", "review"}, "correct horse 2", "admin")
        for text in printed.cover.manifest_qr_texts:
            capture_scan(ledger, interpret(text, "scan.png", 1, TRUSTED), "file", "aoki-hanako")
        for spec in printed.sheets[1:]:
            capture_scan(ledger, interpret(spec.qr_texts[0], "scan.png", 1, TRUSTED), "file", "aoki-hanako")
            confirm(ledger, ledger.query("SELECT id FROM notices WHERE seq = ?", (spec.seq,))[0]["id"], b)
        first = ledger.query("SELECT id FROM notices WHERE seq = 1")[0]["id"]
        submit_entry(ledger, first, notices[0].record(), None, a)
        assert submit_entry(ledger, first, notices[0].record(), None, b).state == "done"
        return processing_report(ledger, [printed.batch_id])


def test_every_character_lies_inside_its_cell(report: bytes) -> None:
    with pdfplumber.open(io.BytesIO(report)) as pdf:
        for page in pdf.pages:
            tables = page.find_tables()
            assert tables, "no table found on the page"
            cells = [c for t in tables for c in t.cells]
            table_top = min(t.bbox[1] for t in tables)
            outside = []
            for char in page.chars:
                if char["top"] < table_top - 1 or not char["text"].strip():
                    continue  # the title and header lines above the table
                if not any(c[0] - 0.5 <= char["x0"] and char["x1"] <= c[2] + 0.5
                           and c[1] - 0.5 <= char["top"] and char["bottom"] <= c[3] + 0.5 for c in cells):
                    outside.append(char["text"])
            assert not outside, f"characters outside their cells: {''.join(outside)[:80]}"


def test_the_report_names_both_clerks_and_the_long_event(report: bytes) -> None:
    with pdfplumber.open(io.BytesIO(report)) as pdf:
        cells = [(cell or "").replace("\n", "").replace(" ", "")
                 for p in pdf.pages for table in p.extract_tables() for row in table for cell in row]
    assert "特別永住者証明書交付・再交付" in cells
    assert "aoki-hanako,babasaburo" in cells
