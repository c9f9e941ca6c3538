"""Backups that verify, erasure after the retention period that keeps the facts, the audit command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.export import export
from paperlink.keys import key_id
from paperlink.ledger import Ledger
from paperlink.maintenance import BackupError, backup, erase_expired, expired_batches
from paperlink.samples import SampleOptions, generate
from paperlink.sharedfolder import Receiver, send
from tests import rawdb
from tests.conftest import SQLITE_ONLY, set_up_office

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
NOTICES = generate(SampleOptions(count=5, seed=41, notice_date=dt.date(2026, 11, 26)))


@pytest.fixture
def ledger(home: Path, tmp_path: Path):
    home.mkdir(parents=True, exist_ok=True)
    set_up_office(home / "ledger.sqlite3")
    with Ledger(home / "ledger.sqlite3") as led:
        folder = tmp_path / "link"
        folder.mkdir()
        send(NOTICES, folder, KEY, "B20261126-AAAA")
        Receiver(folder, led, TRUSTED).receive_once()
        yield led


@SQLITE_ONLY  # a PostgreSQL ledger's backup is a pg_dump (issue-15b)
def test_backup_is_verified_and_complete(ledger: Ledger, tmp_path: Path) -> None:
    result = backup(ledger, tmp_path / "b.sqlite3", "tanaka")
    assert result.notices == 5 and result.schema_version == ledger.schema_version
    with Ledger(tmp_path / "b.sqlite3") as copy:
        assert copy.query("SELECT COUNT(*) FROM notices")[0][0] == 5
        assert copy.verify_audit() is None
    with pytest.raises(BackupError, match="exists already"):
        backup(ledger, tmp_path / "b.sqlite3", "tanaka")
    assert ledger.audit_entries()[-1].action == "backup.written"


@SQLITE_ONLY  # a PostgreSQL ledger's backup is a pg_dump (issue-15b)
def test_backup_of_a_tampered_ledger_is_refused(ledger: Ledger, home: Path, tmp_path: Path) -> None:
    rawdb.tamper(home, "UPDATE audit SET actor = 'mallory' WHERE id = 1")
    with pytest.raises(BackupError, match="audit chain is broken at entry 1"):
        backup(ledger, tmp_path / "b.sqlite3", "tanaka")
    assert not (tmp_path / "b.sqlite3").exists() and not (tmp_path / "b.sqlite3.part").exists()


def test_erasure_after_retention_keeps_the_facts(ledger: Ledger, home: Path, tmp_path: Path) -> None:
    """GIVEN an exported batch WHEN the retention period has passed THEN its personal data is gone, facts stay."""
    (home / "exports").mkdir()
    export(ledger, None, home / "exports" / "out.jsonl", "jsonl", "suzuki")
    assert expired_batches(ledger, dt.date.today() + dt.timedelta(days=30)) == []
    later = dt.date.today() + dt.timedelta(days=91)
    assert expired_batches(ledger, later) == ["B20261126-AAAA"]
    result = erase_expired(ledger, home, "admin", later)
    assert result.batches == ("B20261126-AAAA",) and result.notices == 5 and result.files == 1
    assert not (home / "exports" / "out.jsonl").exists()
    rows = ledger.query("SELECT notice_id, record_json, state FROM notices ORDER BY seq")
    assert [r["notice_id"] for r in rows] == [n.notice_id for n in NOTICES]
    assert all(r["record_json"] is None for r in rows)
    text = "\n".join(json.dumps(e.detail, ensure_ascii=False) for e in ledger.audit_entries())
    assert all(n.name not in text and n.address not in text for n in NOTICES)
    dump = rawdb.dump(home)
    assert all(n.name not in dump for n in NOTICES)
    assert ledger.audit_entries()[-1].action == "retention.erased"
    assert erase_expired(ledger, home, "admin", later).batches == ()


@SQLITE_ONLY  # its backup part: a PostgreSQL ledger's backup is a pg_dump (issue-15b)
def test_cli_backup_retention_audit(runner, ledger: Ledger, home: Path, tmp_path: Path) -> None:
    out = runner("backup", "-o", tmp_path / "x.sqlite3", "--clerk", "tanaka")
    assert out.exit_code == 0 and "verified" in out.stdout
    shown = runner("retention", "--days", "30", "--clerk", "admin")
    assert "erased 30 days after export" in shown.stdout and "0 batch(es) due" in shown.stdout
    assert runner("audit", "verify").stdout.startswith("audit chain intact")
    rawdb.tamper(home, "UPDATE audit SET detail = '{}' WHERE id = 2")
    broken = runner("audit", "verify")
    assert broken.exit_code == 1 and "BROKEN at entry 2" in broken.stdout


def test_erasure_removes_a_held_notice_s_text_as_received(ledger: Ledger, home: Path) -> None:
    """GIVEN a batch with a notice held with its text as received WHEN the batch is erased THEN that text is gone."""
    from paperlink.ledger import store

    raw = '{"notice_id": "N20261126-09999", "name": "YAMADA RAW TEXT"}'
    (home / "exports").mkdir()
    export(ledger, None, home / "exports" / "out.jsonl", "jsonl", "suzuki")
    with ledger.transaction():
        store.hold_notice(ledger, "B20261126-AAAA", 99, "hold_invalid",
                          {"file": "b.jsonl", "line": 6, "problems": "name"}, "suzuki", raw_record=raw)
    later = dt.date.today() + dt.timedelta(days=91)
    assert erase_expired(ledger, home, "admin", later).batches == ("B20261126-AAAA",)
    assert [r["raw_record"] for r in ledger.query("SELECT raw_record FROM holds")] == [None]
    assert "YAMADA RAW TEXT" not in rawdb.dump(home)
