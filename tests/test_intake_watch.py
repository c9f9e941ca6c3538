"""Scans into the ledger: batches registered by manifests, notices identified once, the scan folder."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.intake import capture_scan, capture_scans
from paperlink.keys import key_id
from paperlink.ledger import Ledger, LedgerError
from paperlink.ledger.schema import MIGRATIONS
from paperlink.ledger.views import batch_status
from paperlink.printing import print_batch
from paperlink.samples import SampleOptions, generate
from paperlink.scanning import interpret, scan_paths
from paperlink.watch import ScanFolder
from tests import rawdb
from tests.conftest import trusting_home, write_public_key

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
NOTICES = generate(SampleOptions(count=6, seed=9, notice_date=dt.date(2026, 11, 26)))


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> dict:
    """GIVEN six notices printed as one batch (cover page + six sheets)."""
    result = print_batch(NOTICES, KEY, printed_on=dt.date(2026, 11, 26))
    base = tmp_path_factory.mktemp("batch")
    pdf = base / "batch.pdf"
    pdf.write_bytes(result.pdf)
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(result.pdf)
    pages = []
    for index in range(len(document)):
        path = base / f"page-{index + 1}.png"
        document[index].render(scale=150 / 72).to_pil().save(path)
        pages.append(path)
    return {"result": result, "pdf": pdf, "pages": pages}


@pytest.fixture
def ledger(home: Path):
    with Ledger(home / "ledger.sqlite3") as led:
        yield led


def test_ledger_schema_is_versioned_and_reopens(home: Path) -> None:
    path = home / "l.sqlite3"
    with Ledger(path) as first:
        assert first.schema_version == len(MIGRATIONS) == 8
        assert first.query("PRAGMA journal_mode")[0][0] == "wal"
        assert first.query("PRAGMA foreign_keys")[0][0] == 1
    with Ledger(path) as again:
        assert again.schema_version == len(MIGRATIONS)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(LedgerError, match="newer paperlink"):
        Ledger(path)


def test_audit_is_chained_and_append_only(ledger: Ledger, home: Path) -> None:
    with ledger.transaction():
        ledger.audit("clerk1", "test.one", "X", n=1)
        ledger.audit("clerk1", "test.two", "X", n=2)
    assert ledger.verify_audit() is None
    with pytest.raises(LedgerError, match="append-only"), ledger.transaction():
        ledger.db.execute("UPDATE audit SET actor = 'mallory'")
    rawdb.tamper(home, "UPDATE audit SET detail = '{\"n\":3}' WHERE id = 2")  # an attacker with the file itself
    assert ledger.verify_audit() == 2


def test_a_failed_write_leaves_nothing(ledger: Ledger) -> None:
    with pytest.raises(RuntimeError), ledger.transaction():
        ledger.audit("clerk1", "test", "X")
        raise RuntimeError("power cut")
    assert ledger.audit_entries() == []


def test_manifest_registers_the_batch_and_sheets_fill_it(ledger: Ledger, batch) -> None:
    """GIVEN the cover page WHEN scanned THEN the batch and all six notices are expected; sheets then fill them."""
    cover, *sheets = batch["pages"]
    results = capture_scans(ledger, scan_paths([cover], TRUSTED), "file", "clerk1")
    assert [r.outcome for r in results] == ["registered"]
    batch_id = batch["result"].batch_id
    state = batch_status(ledger, batch_id)
    assert (state.total, state.received) == (6, 0)
    assert [nid for _, nid in state.missing] == [n.notice_id for n in NOTICES]
    for page in sheets[:4]:
        (result,) = capture_scans(ledger, scan_paths([page], TRUSTED), "file", "clerk1")
        assert result.outcome == "new"
    state = batch_status(ledger, batch_id)
    assert state.received == 4 and [seq for seq, _ in state.missing] == [5, 6]
    assert state.states["decoded"] == 4


def test_the_same_sheet_twice_is_one_notice(ledger: Ledger, batch) -> None:
    page = batch["pages"][2]
    first = capture_scans(ledger, scan_paths([page], TRUSTED), "file", "clerk1")[0]
    again = capture_scans(ledger, scan_paths([page], TRUSTED), "webcam", "clerk2")[0]
    assert (first.outcome, again.outcome) == ("new", "duplicate")
    assert ledger.query("SELECT COUNT(*) FROM notices")[0][0] == 1
    assert ledger.query("SELECT COUNT(*) FROM captures")[0][0] == 2
    actions = [e.action for e in ledger.audit_entries()]
    assert actions.count("capture.new") == 1 and actions.count("capture.duplicate") == 1


def test_sheets_before_their_cover_still_match_the_manifest(ledger: Ledger, batch) -> None:
    for page in reversed(batch["pages"]):  # out of order, cover last
        capture_scans(ledger, scan_paths([page], TRUSTED), "file", "clerk1")
    state = batch_status(ledger, batch["result"].batch_id)
    assert state.received == 6 and state.missing == []


def test_a_sheet_that_contradicts_the_manifest_is_a_conflict(ledger: Ledger, batch) -> None:
    capture_scans(ledger, scan_paths([batch["pages"][0]], TRUSTED), "file", "clerk1")
    other = generate(SampleOptions(count=6, seed=10, notice_date=dt.date(2026, 11, 26)))
    forged = print_batch(other, KEY, batch_id=batch["result"].batch_id, printed_on=dt.date(2026, 11, 26))
    text = forged.sheets[0].qr_texts[0]
    result = capture_scan(ledger, interpret(text, "forged.png", 1, TRUSTED), "file", "clerk1")
    assert result.outcome == "conflict"
    assert ledger.query("SELECT COUNT(*) FROM notices WHERE digest IS NOT NULL")[0][0] == 0


def test_unverified_and_foreign_codes_are_kept_as_rejected_captures(ledger: Ledger, batch) -> None:
    stranger = Ed25519PrivateKey.generate()
    text = print_batch(NOTICES[:1], stranger).sheets[0].qr_texts[0]
    result = capture_scan(ledger, interpret(text, "x.png", 1, TRUSTED), "wedge", "clerk1")
    assert result.outcome == "rejected" and "unknown key" in result.message
    assert ledger.query("SELECT COUNT(*) FROM notices")[0][0] == 0
    assert ledger.query("SELECT outcome, payload FROM captures")[0]["payload"] == text


def test_scan_folder_imports_once_and_moves_files(ledger: Ledger, batch, tmp_path: Path) -> None:
    """GIVEN scans dropped in the folder WHEN polled THEN each is imported once and moved, nothing deleted."""
    import shutil

    folder = tmp_path / "scans"
    clock = {"t": 0.0}
    watcher = ScanFolder(folder, ledger, TRUSTED, stable_seconds=2, clock=lambda: clock["t"])
    shutil.copy(batch["pdf"], folder / "batch.pdf")
    (folder / "partial.pdf.part").write_bytes(b"%PDF-1.7 half")
    (folder / "junk.png").write_bytes(b"not an image")
    assert watcher.poll() == []  # first sight: not yet stable
    clock["t"] = 1.0
    assert watcher.poll() == []
    clock["t"] = 3.5
    outcomes = {o.name: o for o in watcher.poll()}
    assert outcomes["batch.pdf"].outcome == "done" and (folder / "done" / "batch.pdf").exists()
    assert outcomes["junk.png"].outcome == "failed"
    assert "not an image or PDF" in (folder / "failed" / "junk.png.reason.txt").read_text()
    assert (folder / "partial.pdf.part").exists() and not (folder / "batch.pdf").exists()
    assert batch_status(ledger, batch["result"].batch_id).received == 6
    # the same file again, under another name: recognised, not imported twice
    shutil.copy(batch["pdf"], folder / "again.pdf")
    clock["t"] = 10.0
    watcher.poll()
    clock["t"] = 20.0
    (again,) = watcher.poll()
    assert again.outcome == "duplicate" and (folder / "done" / "again.pdf").exists()
    assert ledger.query("SELECT COUNT(*) FROM notices")[0][0] == 6


def test_a_growing_file_waits(ledger: Ledger, batch, tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    clock = {"t": 0.0}
    watcher = ScanFolder(folder, ledger, TRUSTED, stable_seconds=2, clock=lambda: clock["t"])
    data = batch["pdf"].read_bytes()
    target = folder / "slow.pdf"
    target.write_bytes(data[: len(data) // 2])
    watcher.poll()
    clock["t"] = 5.0
    with target.open("ab") as handle:  # the scanner is still writing
        handle.write(data[len(data) // 2:])
    os.utime(target, (1, 1))
    assert watcher.poll() == []
    clock["t"] = 8.0
    (outcome,) = watcher.poll()
    assert outcome.outcome == "done"


def test_cli_watch_once_and_status(runner, batch, tmp_path: Path) -> None:
    import shutil

    home = tmp_path / "entry"
    pub = write_public_key(KEY, tmp_path / "k.pem")
    assert runner("--home", home, "keys", "trust", pub).exit_code == 0
    (home / "scans").mkdir(parents=True)
    for page in batch["pages"][:3]:
        shutil.copy(page, home / "scans" / page.name)
    result = runner("--home", home, "watch", "--once")
    assert result.exit_code == 0 and result.stdout.count(": done") == 3
    status = runner("--home", home, "status")
    batch_id = batch["result"].batch_id
    assert f"{batch_id}: 2/6 received" in status.stdout
    assert f"missing 3/6 {NOTICES[2].notice_id}" in status.stdout


def test_a_sheet_for_another_municipality_leaves_no_trace(ledger: Ledger, batch) -> None:
    """GIVEN an office set to another municipality WHEN a sheet is scanned from the folder THEN it is refused."""
    from paperlink.intake import OFFICE_MUNICIPALITY_SETTING

    ledger.set_setting(OFFICE_MUNICIPALITY_SETTING, "011002", "admin")
    (result,) = capture_scans(ledger, scan_paths([batch["pages"][1]], TRUSTED), "folder", "clerk1")
    assert result.outcome == "foreign" and "131016" in result.message
    assert ledger.query("SELECT COUNT(*) FROM notices")[0][0] == 0
    assert ledger.query("SELECT COUNT(*) FROM captures")[0][0] == 0


def test_the_scan_folder_is_watched_in_the_background(home: Path, batch) -> None:
    """GIVEN the screen's background watcher WHEN a scan is dropped in <home>/scans THEN it is imported by itself."""
    import shutil
    import threading
    import time

    from paperlink.watch import watch_in_background

    trusting_home(home, KEY)
    seen = []
    stop = threading.Event()
    thread = threading.Thread(target=watch_in_background, args=(home, stop, 0.1, 0.2, seen.append))
    thread.start()
    try:
        time.sleep(0.3)
        shutil.copy(batch["pages"][1], home / "scans" / "sheet.png")
        deadline = time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert [o.outcome for o in seen] == ["done"]
    with Ledger(home / "ledger.sqlite3") as ledger:
        assert ledger.query("SELECT COUNT(*) FROM notices WHERE digest IS NOT NULL")[0][0] == 1
