"""The audit log anchored outside the ledger: a cut tail, an emptied log or a recomputed chain is detected."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pdfplumber
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.export import export, processing_report
from paperlink.keys import key_id
from paperlink.ledger import Ledger
from paperlink.ledger.audit import Anchor, anchor_mac
from paperlink.maintenance import backup
from paperlink.samples import SampleOptions, generate
from paperlink.sharedfolder import Receiver, send
from tests import rawdb
from tests.conftest import SQLITE_ONLY, set_up_office

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
NOTICES = generate(SampleOptions(count=3, seed=43, notice_date=dt.date(2026, 11, 26)))


@pytest.fixture
def ledger(home: Path, tmp_path: Path):
    home.mkdir(parents=True, exist_ok=True)
    set_up_office(home / "ledger.sqlite3")  # a receiving office is set up before it receives
    with Ledger(home / "ledger.sqlite3") as led:
        folder = tmp_path / "link"
        folder.mkdir()
        send(NOTICES, folder, KEY, "B20261126-ANCH")
        Receiver(folder, led, TRUSTED).receive_once()
        with led.transaction():
            led.audit("clerk1", "test.one", "X")
            led.audit("clerk1", "test.two", "X")
        yield led


def _tamper(home: Path, *sql: str) -> None:
    rawdb.tamper(home, *sql)


def _rechain(home: Path) -> None:
    """What an attacker with the file (or the database) can do: recompute every hash after an edit."""
    rawdb.rechain(home)


def test_every_transaction_anchors_the_log_outside_the_ledger(ledger: Ledger, home: Path, runner) -> None:
    head = json.loads((home / "keys" / "audit-anchor.json").read_text())
    assert head["count"] == ledger.audit_count() and head["head"] == ledger.audit_entries()[-1].hash
    assert (home / "keys" / "audit-key").stat().st_mode & 0o777 == 0o600
    key = bytes.fromhex((home / "keys" / "audit-key").read_text().strip())
    assert key.hex() not in rawdb.dump(home)  # the key is not in the ledger
    out = runner("audit", "verify")
    assert out.exit_code == 0, out.stdout
    assert f"last anchored: entry {ledger.audit_count()}" in out.stdout


def test_a_cut_tail_is_detected(ledger: Ledger, home: Path, runner) -> None:
    total = ledger.audit_count()
    _tamper(home, "DELETE FROM audit WHERE id > (SELECT MAX(id) - 2 FROM audit)")
    out = runner("audit", "verify")
    assert out.exit_code == 1
    assert f"audit chain intact: {total - 2} entries" in out.stdout  # the chain alone cannot tell
    assert f"anchored entry {total} is missing: the log holds only {total - 2} entries" in out.stdout


def test_an_emptied_log_is_detected(ledger: Ledger, home: Path, runner) -> None:
    _tamper(home, "DELETE FROM audit")
    out = runner("audit", "verify")
    assert out.exit_code == 1 and "the log holds only 0 entries" in out.stdout


def test_a_recomputed_chain_is_detected(ledger: Ledger, home: Path, runner) -> None:
    _tamper(home, "UPDATE audit SET actor = 'mallory' WHERE id = 1")
    _rechain(home)
    out = runner("audit", "verify")
    assert out.exit_code == 1 and "audit chain intact" in out.stdout
    assert "differs from its anchor: the log was altered up to there" in out.stdout


def test_an_anchor_made_without_the_key_is_refused(ledger: Ledger, home: Path, runner) -> None:
    _tamper(home, "DELETE FROM audit WHERE id = (SELECT MAX(id) FROM audit)")
    last = ledger.audit_entries()[-1]
    forged = Anchor(ledger.audit_count(), last.hash, anchor_mac(b"guess" * 8, ledger.audit_count(), last.hash))
    (home / "keys" / "audit-anchor.json").write_text(json.dumps(forged.as_dict()))
    (home / "keys" / "audit-anchors.jsonl").unlink(missing_ok=True)
    out = runner("audit", "verify")
    assert out.exit_code == 1 and "not made with this data directory's audit key" in out.stdout


@SQLITE_ONLY  # its backup part: a PostgreSQL ledger's backup is a pg_dump (issue-15b)
def test_backup_export_and_report_carry_the_anchor(ledger: Ledger, home: Path, tmp_path: Path, runner) -> None:
    backup(ledger, tmp_path / "b.sqlite3", "tanaka")
    manifest = json.loads((tmp_path / "b.sqlite3.manifest.json").read_text())
    assert manifest["audit_anchor"]["count"] == ledger.audit_count() - 1  # taken just before backup.written
    assert manifest["audit_anchor"]["head"] == ledger.audit_entries()[-2].hash
    assert (tmp_path / "b.sqlite3.manifest.json").stat().st_mode & 0o777 == 0o600
    export(ledger, None, tmp_path / "out.jsonl", "jsonl", "suzuki")
    exported = json.loads((tmp_path / "out.jsonl.manifest.json").read_text())
    assert exported["audit_anchor"]["count"] == ledger.audit_count() and exported["count"] == 3
    pdf = processing_report(ledger, ["B20261126-ANCH"])
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = doc.pages[0].extract_text().replace(" ", "")
    head = ledger.audit_entries()[-1].hash
    assert f"監査ログ{ledger.audit_count()}件" in text and head in text
    printed = (str(ledger.audit_count()), head)
    assert "printed anchor holds" in runner("audit", "verify", "--printed", *printed).stdout
    # the backup taken earlier still pins the log: cut back below it, the manifest given tells
    (home / "keys" / "audit-anchor.json").unlink()
    (home / "keys" / "audit-anchors.jsonl").unlink()
    _tamper(home, "DELETE FROM audit WHERE id > 1")
    out = runner("audit", "verify", "--anchor", tmp_path / "b.sqlite3.manifest.json", "--printed", *printed)
    assert out.exit_code == 1 and "b.sqlite3.manifest.json" in out.stdout and "is missing" in out.stdout
    assert f"printed anchor FAILED: entry {printed[0]} is missing" in out.stdout


def test_the_anchor_function_for_receipts(ledger: Ledger) -> None:
    anchor = ledger.anchor("receipt", "B20261126-ANCH").as_dict()
    assert set(anchor) == {"count", "head", "hmac", "at"}
    assert anchor["count"] == ledger.audit_count() and anchor["head"] == ledger.audit_entries()[-1].hash


@SQLITE_ONLY  # restores a SQLite backup file; a PostgreSQL ledger is restored from a pg_dump (issue-15b)
def test_restore_from_a_backup_then_audit_restored(ledger: Ledger, home: Path, tmp_path: Path, runner) -> None:
    """The README's restore steps: verify names the entries lost since the backup, `audit restored` records it."""
    import shutil

    backup(ledger, tmp_path / "b.sqlite3", "tanaka")
    with ledger.transaction():
        ledger.audit("clerk1", "test.after_backup", "X")
    total = ledger.audit_count()
    ledger.close()
    for suffix in ("", "-wal", "-shm"):
        (home / f"ledger.sqlite3{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "b.sqlite3", home / "ledger.sqlite3")
    lost = runner("audit", "verify")
    assert lost.exit_code == 1 and f"anchored entry {total} is missing" in lost.stdout
    done = runner("audit", "restored", "--clerk", "tanaka")
    assert done.exit_code == 0 and "anchored entries were lost with the restore" in done.stdout, done.output
    assert list((home / "keys").glob("anchors-before-restore-*/audit-anchor.json"))
    again = runner("audit", "verify", "--anchor", tmp_path / "b.sqlite3.manifest.json")
    assert again.exit_code == 0, again.stdout
    with Ledger(home / "ledger.sqlite3") as reopened:
        assert reopened.audit_entries()[-1].action == "audit.restored"
