"""Crash safety: processes killed with SIGKILL mid-capture, mid-double-entry, mid-export and mid-import.

Each scenario runs the real code in a child process that a failpoint kills (PAPERLINK_FAILPOINT, see
paperlink/failpoints.py) at a chosen place, then runs it again, and checks that the ledger is consistent:
nothing committed is lost, nothing is duplicated, the audit chain holds, SQLite's integrity check passes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.dataformat import dumps_notices, write_notices
from paperlink.failpoints import KILLED_RETURNCODE
from paperlink.ledger import Ledger
from paperlink.printing import print_batch
from paperlink.samples import SampleOptions, generate
from tests.conftest import child_env, trusting_home

pytestmark = pytest.mark.crash

KEY = Ed25519PrivateKey.generate()
NOTICES = generate(SampleOptions(count=4, seed=61, notice_date=dt.date(2026, 11, 26)))


def run(code: str, home: Path, point: str | None = None, *args: str) -> subprocess.CompletedProcess[str]:
    env = child_env(home)
    env.pop("PAPERLINK_FAILPOINT", None)
    if point:
        env["PAPERLINK_FAILPOINT"] = point
    # errors=: in the Windows look-alike job the child writes cp932 (PYTHONIOENCODING); only stderr is looked at
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env, capture_output=True, text=True,
                          errors="backslashreplace")


def consistent(home: Path) -> Ledger:
    ledger = Ledger(home / "ledger.sqlite3")
    if ledger.backend == "sqlite":  # a server checks its own pages
        assert ledger.query("PRAGMA integrity_check")[0][0] == "ok"
    assert ledger.verify_audit() is None
    dupes = ledger.query("SELECT batch_id, seq, COUNT(*) c FROM notices GROUP BY batch_id, seq HAVING COUNT(*) > 1")
    assert dupes == []
    return ledger


@pytest.fixture
def entry_home(tmp_path: Path) -> Path:
    return trusting_home(tmp_path / "home", KEY)


@pytest.fixture(scope="module")
def batch_pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "batch.pdf"
    path.write_bytes(print_batch(NOTICES, KEY, printed_on=dt.date(2026, 11, 26)).pdf)
    return path


WATCH = """
import sys
from paperlink.cli import main
sys.argv = ["paperlink", "watch", "--once"]
main()
"""


@pytest.mark.parametrize("point", ["capture.in-transaction", "scan_folder.before-move", "atomic.mid-write"])
def test_capture_from_the_scan_folder(entry_home: Path, batch_pdf: Path, point: str) -> None:
    """GIVEN a scanned batch in the folder WHEN the importer is killed THEN a restart imports it exactly once."""
    (entry_home / "scans").mkdir()
    shutil.copy(batch_pdf, entry_home / "scans" / "batch.pdf")
    killed = run(WATCH, entry_home, point)
    if point == "atomic.mid-write":  # no atomic write on this path: the run must simply finish
        assert killed.returncode == 0, killed.stderr
    else:
        assert killed.returncode == KILLED_RETURNCODE, killed.stderr
    finished = run(WATCH, entry_home)
    assert finished.returncode == 0, finished.stderr
    with consistent(entry_home) as ledger:
        assert ledger.query("SELECT COUNT(*) FROM notices WHERE digest IS NOT NULL")[0][0] == 4
        assert ledger.query("SELECT COUNT(*) FROM captures WHERE outcome = 'new'")[0][0] == 4
        assert ledger.query("SELECT COUNT(*) FROM scanned_files")[0][0] == 1
    assert [p.name for p in (entry_home / "scans" / "done").iterdir()] == ["batch.pdf"]
    assert not (entry_home / "scans" / "batch.pdf").exists()


ENTRY = """
import json, sys
from paperlink.doubleentry import new_manual_notice, resolve, submit_entry
from paperlink.home import Home
from paperlink.ledger import Ledger
from paperlink.users import add_user, get_user
home = Home.resolve()
first, second = json.loads(sys.argv[1]), json.loads(sys.argv[2])
with Ledger.of(home) as ledger:
    if get_user(ledger, "tanaka") is None:
        add_user(ledger, "tanaka", "田中", {"entry"}, "password-1", "admin")
        add_user(ledger, "suzuki", "鈴木", {"entry"}, "password-2", "admin")
        new_manual_notice(ledger, get_user(ledger, "tanaka"), "2026-11-26")
    row = ledger.query("SELECT id, state FROM notices")[0]
    if row["state"] == "missing":
        submit_entry(ledger, row["id"], first, None, get_user(ledger, "tanaka"))
    if ledger.query("SELECT state FROM notices")[0][0] == "first_entry":
        submit_entry(ledger, row["id"], second, None, get_user(ledger, "suzuki"))
    if ledger.query("SELECT state FROM notices")[0][0] == "mismatch":
        resolve(ledger, row["id"], {"card_number": first["card_number"]}, get_user(ledger, "suzuki"))
    print(ledger.query("SELECT state FROM notices")[0][0])
"""


@pytest.mark.parametrize(("point", "state_after_kill"), [
    ("entry.first-in-transaction", "missing"),
    ("entry.in-transaction", "first_entry"),
    ("entry.resolve-in-transaction", "mismatch"),
])
def test_double_entry_killed_and_repeated(entry_home: Path, point: str, state_after_kill: str) -> None:
    """GIVEN a notice typed twice with one slip WHEN killed at a step THEN that step left nothing and a re-run ends done."""
    first = NOTICES[0].record()
    second = {**first, "card_number": "ZZ99999999ZZ"}
    args = (json.dumps(first, ensure_ascii=False), json.dumps(second, ensure_ascii=False))
    killed = run(ENTRY, entry_home, point, *args)
    assert killed.returncode == KILLED_RETURNCODE, killed.stderr
    with consistent(entry_home) as ledger:
        assert ledger.query("SELECT state FROM notices")[0][0] == state_after_kill
    again = run(ENTRY, entry_home, None, *args)
    assert again.stdout.strip() == "done", again.stderr
    with consistent(entry_home) as ledger:
        assert [r[0] for r in ledger.query("SELECT round FROM entries ORDER BY id")] == [1, 2, 3]
        assert json.loads(ledger.query("SELECT record_json FROM notices")[0][0]) == first


IMPORT_AND_EXPORT = """
import sys
from paperlink.cli import main
sys.argv = ["paperlink"] + sys.argv[1:]
main()
"""


@pytest.mark.parametrize("point", ["atomic.mid-write", "export.after-write", "export.in-transaction"])
def test_export_killed_and_repeated(entry_home: Path, tmp_path: Path, point: str) -> None:
    """GIVEN verified notices WHEN the export is killed THEN no half file exists and a re-run exports once."""
    source = tmp_path / "n.jsonl"
    write_notices(NOTICES, source)
    folder = tmp_path / "link"
    folder.mkdir()
    from paperlink.sharedfolder import send

    send(NOTICES, folder, KEY, "B20261126-EXPT")
    assert run(IMPORT_AND_EXPORT, entry_home, None, "receive", str(folder)).returncode == 0
    out = tmp_path / "out.jsonl"
    code = """
import sys
from paperlink.export import export
from paperlink.home import Home
from paperlink.ledger import Ledger
with Ledger.of(Home.resolve()) as ledger:
    print(export(ledger, None, sys.argv[1], "jsonl", "suzuki").count)
"""
    killed = run(code, entry_home, point, str(out))
    assert killed.returncode == KILLED_RETURNCODE
    assert not out.exists() or out.read_bytes() == dumps_notices(NOTICES)
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert all(p.name.startswith(".out.jsonl.") for p in leftovers)  # hidden, never under the final name
    for p in leftovers:
        os.utime(p, (1, 1))  # as if the power cut was a while ago
    again = run(code, entry_home, None, str(out))
    assert again.stdout.strip() == "4", again.stderr
    assert out.read_bytes() == dumps_notices(NOTICES)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []  # swept by the next write
    with consistent(entry_home) as ledger:
        assert ledger.query("SELECT COUNT(*) FROM exports")[0][0] == 1


@pytest.mark.parametrize("point", ["media.in-transaction", "atomic.mid-write"])
def test_bundle_import_killed_and_repeated(entry_home: Path, tmp_path: Path, point: str) -> None:
    from paperlink.bundle import seal

    blob, _ = seal(NOTICES, "B20261126-USB1", KEY, "a-long-passphrase")
    (tmp_path / "b.plb").write_bytes(blob)
    (tmp_path / "pw").write_text("a-long-passphrase")
    args = ("unbundle", str(tmp_path / "b.plb"), "--passphrase-file", str(tmp_path / "pw"), "--clerk", "tanaka")
    killed = run(IMPORT_AND_EXPORT, entry_home, point, *args)
    if point == "atomic.mid-write":
        assert killed.returncode == 0  # unbundling writes no file: nothing to kill
    else:
        assert killed.returncode == KILLED_RETURNCODE
        with consistent(entry_home) as ledger:
            assert ledger.query("SELECT COUNT(*) FROM notices")[0][0] == 0
            assert ledger.query("SELECT COUNT(*) FROM media_register")[0][0] == 0
        again = run(IMPORT_AND_EXPORT, entry_home, None, *args)
        assert "imported (4 notices)" in again.stdout, again.stderr
    with consistent(entry_home) as ledger:
        assert ledger.query("SELECT COUNT(*) FROM notices")[0][0] == 4
        assert ledger.query("SELECT COUNT(*) FROM media_register")[0][0] == 1
