"""The sender's record: `send` (pattern 1) and `bundle` (pattern 2) are audited the same way, with the clerk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.dataformat import write_notices
from paperlink.ledger import Ledger
from paperlink.samples import SampleOptions, generate
from paperlink.sharedfolder import SENT_ACTION, send_batch
from paperlink.transport import TransportError

NOTICES = generate(SampleOptions(count=3, seed=41, notice_date=dt.date(2026, 11, 26)))
PASS = "kasumigaseki-2026-usb"


def _entries(home: Path, batch_id: str) -> list[tuple[str, str, int]]:
    with Ledger(home / "ledger.sqlite3") as ledger:
        return [(e.actor, e.action, e.detail["count"]) for e in ledger.audit_entries(batch_id)]


def test_send_and_bundle_each_write_one_audit_entry_with_the_clerk(runner, home: Path, tmp_path: Path) -> None:
    """GIVEN a signing key WHEN `send --clerk` and `bundle --clerk` deliver a batch each THEN the sender's audit log
    holds exactly one entry per batch, naming that clerk."""
    source = tmp_path / "n.jsonl"
    write_notices(NOTICES, source)
    folder = tmp_path / "link"
    folder.mkdir()
    assert runner("keys", "init").exit_code == 0
    sent = runner("send", source, "--to", folder, "--batch", "B20261126-SEND", "--clerk", "sato")
    assert sent.exit_code == 0, sent.output
    pw = tmp_path / "pw.txt"
    pw.write_text(PASS + "\n")
    sealed = runner("bundle", source, "-o", tmp_path / "b.plb", "--passphrase-file", pw, "--batch", "B20261126-BNDL",
                    "--clerk", "sato")
    assert sealed.exit_code == 0, sealed.output
    assert _entries(home, "B20261126-SEND") == [("sato", "line.sent", 3)]
    assert _entries(home, "B20261126-BNDL") == [("sato", "media.written", 3)]
    with Ledger(home / "ledger.sqlite3") as ledger:
        assert ledger.verify_audit() is None


def test_send_batch_records_nothing_when_nothing_was_delivered(home: Path, tmp_path: Path) -> None:
    """GIVEN a batch already in the folder WHEN it is sent again THEN TransportError and no second audit entry."""
    key = Ed25519PrivateKey.generate()
    folder = tmp_path / "link"
    folder.mkdir()
    home.mkdir()
    with Ledger(home / "ledger.sqlite3") as ledger:
        manifest = send_batch(ledger, NOTICES, folder, key, "B20261126-ONCE", "tanaka")
        with pytest.raises(TransportError):
            send_batch(ledger, NOTICES, folder, key, "B20261126-ONCE", "tanaka")
        (entry,) = ledger.audit_entries("B20261126-ONCE")
    assert (entry.actor, entry.action, entry.detail["sha256"]) == ("tanaka", SENT_ACTION, manifest.sha256)
    assert entry.detail["folder"] == str(folder)
