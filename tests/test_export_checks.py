"""Export checks every stored record before it writes (issue 13, item 11): digest, manifest hash, signature.

An attacker with the ledger file edits a confirmed notice's record – alone, with its digest recomputed, and
with the cover sheet's short hash recomputed too; each time the export stops, names the notice and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.confirm import confirm
from paperlink.errors import ExportError
from paperlink.export import export
from paperlink.intake import capture_scan
from paperlink.keys import key_id
from paperlink.ledger import Ledger
from paperlink.notice import parse_notice
from paperlink.printing import print_batch
from paperlink.samples import SampleOptions, generate
from paperlink.scanning import interpret
from paperlink.users import add_user
from tests import rawdb

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
NOTICES = generate(SampleOptions(count=3, seed=29, notice_date=dt.date(2026, 11, 26)))


@pytest.fixture(scope="module")
def printed():
    return print_batch(NOTICES, KEY, printed_on=dt.date(2026, 11, 26))


@pytest.fixture
def ledger(home: Path, printed):
    home.mkdir(parents=True, exist_ok=True)
    with Ledger(home / "ledger.sqlite3") as led:
        tanaka = add_user(led, "tanaka", "田中", {"entry"}, "correct horse 1", "admin")
        for text in [*printed.cover.manifest_qr_texts, *(s.qr_texts[0] for s in printed.sheets)]:
            capture_scan(led, interpret(text, "scan.png", 1, TRUSTED), "file", "tanaka")
        for row in led.query("SELECT id FROM notices ORDER BY seq"):
            confirm(led, row["id"], tanaka)
        yield led


def _edit(home: Path, seq: int, *, digest: bool, manifest: bool) -> None:
    db = rawdb.open_raw(home)
    record = json.loads(db.execute("SELECT record_json FROM notices WHERE seq = ?", (seq,)).fetchone()[0])
    record["address"] = "東京都千代田区霞が関1丁目1番1号"  # moved, on paper only
    forged = parse_notice(record)
    db.execute("UPDATE notices SET record_json = ? WHERE seq = ?", (forged.canonical_json(), seq))
    if digest:
        db.execute("UPDATE notices SET digest = ? WHERE seq = ?", (forged.digest(), seq))
    if manifest:
        short = db.execute("SELECT manifest_hash FROM notices WHERE seq = ?", (seq,)).fetchone()[0]
        db.execute("UPDATE notices SET manifest_hash = ? WHERE seq = ?", (forged.digest()[:len(short)], seq))
    db.close()


def test_an_untouched_ledger_exports(ledger: Ledger, tmp_path: Path) -> None:
    assert export(ledger, None, tmp_path / "out.jsonl", "jsonl", "suzuki", trusted=TRUSTED).count == 3


@pytest.mark.parametrize(("digest", "manifest", "code"), [(False, False, "export_record_altered"),
                                                          (True, False, "export_record_altered"),
                                                          (True, True, "export_signature_failed")])
def test_an_edited_record_stops_the_export(ledger: Ledger, home: Path, tmp_path: Path, digest: bool, manifest: bool,
                                           code: str) -> None:
    _edit(home, 2, digest=digest, manifest=manifest)
    with pytest.raises(ExportError) as caught:
        export(ledger, None, tmp_path / "out.jsonl", "jsonl", "suzuki", trusted=TRUSTED)
    assert caught.value.code == code and "2/3" in caught.value.message("en")
    assert not (tmp_path / "out.jsonl").exists()
    assert ledger.query("SELECT COUNT(*) FROM exports")[0][0] == 0


def test_the_cli_export_checks_signatures_with_the_trusted_keys(ledger: Ledger, home: Path, tmp_path: Path,
                                                                runner) -> None:
    from paperlink.home import Home
    from paperlink.keys import KeyStore
    from tests.conftest import write_public_key

    KeyStore(Home(home)).trust(write_public_key(KEY, tmp_path / "print.pub.pem"))
    _edit(home, 3, digest=True, manifest=True)
    out = runner("export", "-o", tmp_path / "out.csv", "--csv")
    assert out.exit_code == 1 and "3/3" in out.output and "verifies" in out.output
    assert not (tmp_path / "out.csv").exists()
    assert ledger.query("SELECT COUNT(*) FROM exports")[0][0] == 0
