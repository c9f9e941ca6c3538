"""Several desks on one ledger at the same moment: each case with two real processes, on both backends.

SQLite: two processes of one PC sharing the data directory's ledger file. PostgreSQL: two desks, each with a
data directory of its own (its own keys and audit anchors), on one database of a real server
(tests/pgserver.py). Every desk runs tests/desk_child.py, which waits at a file barrier until both are ready,
so that they really collide; the writes are serialised by the ledger (`BEGIN IMMEDIATE` on SQLite, a
transaction-level advisory lock on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.failpoints import KILLED_RETURNCODE
from paperlink.home import Home
from paperlink.intake import OFFICE_MUNICIPALITY_SETTING
from paperlink.keys import KeyStore
from paperlink.ledger import Ledger
from paperlink.payload import sheet_text
from paperlink.samples import SampleOptions, generate
from paperlink.users import add_user
from tests.conftest import OFFICE, write_public_key
from tests.ledgers import BACKENDS, ledger_url

pytestmark = pytest.mark.slow

KEY = Ed25519PrivateKey.generate()
CHILD = Path(__file__).resolve().with_name("desk_child.py")
DAY = dt.date(2026, 11, 26)


@dataclass
class Office:
    """One office's ledger and the data directories of its desks."""

    backend: str
    target: Any
    """The ledger: the shared SQLite file, or the PostgreSQL URL."""
    root: Path
    homes: list[Path] = field(default_factory=list)

    def desk_home(self, number: int) -> Path:
        """Desk `number`'s data directory: on SQLite the one shared by the PC's processes, on PostgreSQL its own."""
        return self.homes[0] if self.backend == "sqlite" else self.homes[number]

    def env(self, number: int, failpoint: str | None = None) -> dict[str, str]:
        env = {**os.environ, "PAPERLINK_HOME": str(self.desk_home(number))}
        env.pop("PAPERLINK_FAILPOINT", None)
        env.pop("PAPERLINK_LEDGER", None)
        if self.backend != "sqlite":
            env["PAPERLINK_LEDGER"] = str(self.target)
        if failpoint:
            env["PAPERLINK_FAILPOINT"] = failpoint
        return env

    def desk(self, number: int, step: str, *args: str, actor: str = "tanaka", barrier: Path | None = None,
             failpoint: str | None = None) -> subprocess.Popen[str]:
        command = [sys.executable, str(CHILD), step, *args, "--actor", actor]
        if barrier is not None:
            command += ["--barrier", str(barrier)]
        return subprocess.Popen(command, env=self.env(number, failpoint), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="backslashreplace")

    def ledger(self) -> Ledger:
        return Ledger(self.target, home=self.homes[0])  # (a named data directory: never redirected by a job)


@pytest.fixture(params=BACKENDS)
def office(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Office:
    backend = request.param
    monkeypatch.delenv("PAPERLINK_LEDGER", raising=False)  # each case names its ledger itself, whatever the run
    homes = [tmp_path / f"desk{n}" for n in (0, 1)]
    public = write_public_key(KEY, tmp_path / "print-side.pub.pem")
    for root in homes:
        KeyStore(Home(root).ensure()).trust(public)
    target: Any = homes[0] / "ledger.sqlite3" if backend == "sqlite" else ledger_url(request)
    found = Office(backend, target, tmp_path, homes)
    with found.ledger() as ledger:
        ledger.set_setting(OFFICE_MUNICIPALITY_SETTING, OFFICE, "test")
        add_user(ledger, "tanaka", "田中", {"entry"}, "password-one", "admin")
        add_user(ledger, "suzuki", "鈴木", {"entry", "review"}, "password-two", "admin")
    return found


def finish(process: subprocess.Popen[str], timeout: float = 120) -> Any:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def sheets(tmp_path: Path, name: str, batches: list[tuple[str, int]], seed: int) -> Path:
    """A file of signed sheet QR texts: `count` notices for each (batch id, count)."""
    notices = generate(SampleOptions(count=sum(n for _, n in batches), seed=seed, notice_date=DAY))
    lines, start = [], 0
    for batch_id, count in batches:
        for seq, notice in enumerate(notices[start:start + count], start=1):
            lines.append(sheet_text(notice, batch_id, seq, count, KEY))
        start += count
    path = tmp_path / f"{name}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def chain_holds(office: Office) -> int:
    """The audit chain is one unbroken chain (each entry chained to the one before it). Returns its length.

    (On PostgreSQL the ids may have gaps: a rolled-back transaction has used its sequence numbers.)"""
    with office.ledger() as ledger:
        assert ledger.verify_audit() is None
        return ledger.audit_count()


def anchors_match(office: Office) -> None:
    """Each desk's anchors (in its data directory) match the one log."""
    for number in (0, 1):
        with Ledger(office.target, home=office.desk_home(number)) as ledger:
            found = ledger.check_anchors()
            assert found and [(f.source, problem) for f, problem in found if problem] == []


def test_two_desks_capture_the_same_sheet_at_the_same_moment(office: Office, tmp_path: Path) -> None:
    """GIVEN one sheet read by two desks WHEN both record it at once THEN one notice, one new and one duplicate."""
    texts = sheets(tmp_path, "one", [("B20261126-SAME", 1)], seed=71)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    desks = [office.desk(n, "capture", str(texts), actor=actor, barrier=barrier)
             for n, actor in ((0, "tanaka"), (1, "suzuki"))]
    outcomes = sorted(finish(d)[0]["outcome"] for d in desks)
    assert outcomes == ["duplicate", "new"]
    with office.ledger() as ledger:
        assert ledger.query("SELECT COUNT(*) FROM notices")[0][0] == 1
        assert ledger.query("SELECT COUNT(*) FROM batches")[0][0] == 1
        assert sorted(r[0] for r in ledger.query("SELECT outcome FROM captures")) == ["duplicate", "new"]
    chain_holds(office)


def test_two_clerks_do_the_two_entries_at_the_same_time(office: Office, tmp_path: Path) -> None:
    """GIVEN a notice typed from paper WHEN two clerks submit their entries at once from two desks THEN one is the
    first entry, the other the blind second, and the notice is settled by both."""
    from paperlink.doubleentry import new_manual_notice
    from paperlink.users import get_user

    notice = generate(SampleOptions(count=1, seed=72, notice_date=DAY))[0]
    with office.ledger() as ledger:
        clerk = get_user(ledger, "tanaka")
        assert clerk is not None
        pk = new_manual_notice(ledger, clerk, DAY.isoformat())
    typed = tmp_path / "typed.json"
    typed.write_text(json.dumps(notice.record(), ensure_ascii=False), encoding="utf-8")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    desks = [office.desk(n, "enter", str(pk), str(typed), actor=actor, barrier=barrier)
             for n, actor in ((0, "tanaka"), (1, "suzuki"))]
    states = sorted(finish(d)["state"] for d in desks)
    assert states == ["done", "first_entry"]
    with office.ledger() as ledger:
        rounds = ledger.query("SELECT round, clerk FROM entries WHERE notice_row = ? ORDER BY id", (pk,))
        assert [r[0] for r in rounds] == [1, 2] and {r[1] for r in rounds} == {"tanaka", "suzuki"}
        row = ledger.query("SELECT state, record_json FROM notices WHERE id = ?", (pk,))[0]
        assert row[0] == "done" and json.loads(row[1]) == notice.record()
        verification = ledger.query("SELECT method, entered_by FROM verifications WHERE notice_row = ?", (pk,))[0]
        assert verification[0] == "double_entry" and set(verification[1].split(", ")) == {"tanaka", "suzuki"}
    chain_holds(office)


def test_export_while_another_desk_captures_exports_each_notice_once(office: Office, tmp_path: Path) -> None:
    """GIVEN one desk capturing and confirming 12 batches WHEN another exports again and again meanwhile THEN every
    notice is in exactly one export file."""
    batches = [(f"B20261126-E{n:03d}", 1 + n % 3) for n in range(12)]
    texts = sheets(tmp_path, "many", batches, seed=73)
    out = tmp_path / "exports"
    out.mkdir()
    stop = tmp_path / "stop"
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    exporter = office.desk(1, "export-loop", str(out), str(stop), actor="suzuki", barrier=barrier)
    capturer = office.desk(0, "capture-confirm", str(texts), actor="tanaka", barrier=barrier)
    captured = finish(capturer)
    stop.touch()
    written = finish(exporter)
    assert [c["outcome"] for c in captured] == ["new"] * len(captured)
    exported = [json.loads(line)["notice_id"] for name in written
                for line in (out / name).read_text(encoding="utf-8").splitlines()[1:]]  # after the header
    with office.ledger() as ledger:
        expected = [r[0] for r in ledger.query("SELECT notice_id FROM notices")]
        assert ledger.query("SELECT COUNT(*) FROM notices WHERE exported_at IS NULL")[0][0] == 0
    assert len(expected) == sum(n for _, n in batches)
    assert sorted(exported) == sorted(expected)  # each once: no notice missing, none twice
    assert len(written) >= 2  # the exports really interleaved with the captures
    chain_holds(office)


def test_two_desks_export_at_the_same_moment_each_notice_once(office: Office, tmp_path: Path) -> None:
    """GIVEN a confirmed batch WHEN two desks export everything not yet exported at the same moment THEN each
    notice is in one file only: one desk writes the batch, the other finds nothing left to export."""
    texts = sheets(tmp_path, "both", [("B20261126-TWXN", 6)], seed=78)
    assert all(c["state"] == "confirmed" for c in finish(office.desk(0, "capture-confirm", str(texts))))
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    outs = [tmp_path / f"desk{n}.jsonl" for n in (0, 1)]
    desks = [office.desk(n, "export", str(outs[n]), actor=actor, barrier=barrier)
             for n, actor in ((0, "tanaka"), (1, "suzuki"))]
    results = [finish(d) for d in desks]
    assert sorted(r["count"] for r in results) == [0, 6]
    assert [r.get("code") for r in results if r["count"] == 0] == ["export_nothing"]
    written = [path for path in outs if path.exists()]
    assert len(written) == 1 and len(written[0].read_text(encoding="utf-8").splitlines()) == 1 + 6
    with office.ledger() as ledger:
        assert ledger.count("exports") == 1
    chain_holds(office)


def test_the_audit_chain_stays_one_chain_with_concurrent_writers(office: Office, tmp_path: Path) -> None:
    """GIVEN two desks capturing, confirming and changing settings at once THEN one unbroken chain holds every entry,
    and each desk's anchors match it."""
    with office.ledger() as ledger:
        before = ledger.audit_count()
    a = sheets(tmp_path, "a", [("B20261126-AAAA", 8)], seed=74)
    b = sheets(tmp_path, "b", [("B20261126-BBBB", 8)], seed=75)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    desks = [office.desk(0, "capture-confirm", str(a), actor="tanaka", barrier=barrier),
             office.desk(1, "capture-confirm", str(b), actor="suzuki", barrier=barrier)]
    results = [finish(d) for d in desks]
    assert all(c["state"] == "confirmed" for result in results for c in result)
    barrier2 = tmp_path / "barrier2"
    barrier2.mkdir()
    writers = [office.desk(n, "settings", "25", actor=actor, barrier=barrier2)
               for n, actor in ((0, "tanaka"), (1, "suzuki"))]
    for writer in writers:
        finish(writer)
    # per desk and sheet: capture.new and notice.confirmed, plus batch.registered once per batch; 25 settings each
    assert chain_holds(office) == before + 2 * (8 * 2 + 1) + 2 * 25
    anchors_match(office)


def test_a_desk_killed_mid_transaction_loses_nothing_committed(office: Office, tmp_path: Path) -> None:
    """GIVEN two desks capturing at once WHEN one is killed (SIGKILL) inside its 4th capture's transaction THEN its
    three committed notices stay, nothing of the 4th is left, the other desk finishes, and a re-run completes."""
    a = sheets(tmp_path, "a", [("B20261126-DEAD", 6)], seed=76)
    b = sheets(tmp_path, "b", [("B20261126-REST", 6)], seed=77)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    killed = office.desk(0, "capture-confirm", str(a), actor="tanaka", barrier=barrier,
                         failpoint="capture.in-transaction:4")
    other = office.desk(1, "capture-confirm", str(b), actor="suzuki", barrier=barrier)
    killed.communicate(timeout=120)
    assert killed.returncode == KILLED_RETURNCODE
    assert all(c["state"] == "confirmed" for c in finish(other))
    with office.ledger() as ledger:
        kept = ledger.query("SELECT seq, state FROM notices WHERE batch_id = 'B20261126-DEAD' ORDER BY seq")
        assert [(r[0], r[1]) for r in kept] == [(1, "confirmed"), (2, "confirmed"), (3, "confirmed")]
        assert ledger.query("SELECT COUNT(*) FROM captures WHERE batch_id = 'B20261126-DEAD'")[0][0] == 3
        assert ledger.query("SELECT COUNT(*) FROM notices WHERE batch_id = 'B20261126-REST'")[0][0] == 6
    chain_holds(office)
    again = finish(office.desk(0, "capture-confirm", str(a), actor="tanaka"))
    assert [c["outcome"] for c in again] == ["duplicate"] * 3 + ["new"] * 3
    with office.ledger() as ledger:
        assert ledger.query("SELECT COUNT(*) FROM notices WHERE state = 'confirmed'")[0][0] == 12
        dupes = ledger.query("SELECT batch_id, seq FROM notices GROUP BY batch_id, seq HAVING COUNT(*) > 1")
        assert dupes == []
    chain_holds(office)
