"""Moving up to PostgreSQL: `paperlink ledger migrate --to URL`, and `backup` of a PostgreSQL ledger with a restore.

A day of work is done on the SQLite ledger of a data directory (a line batch with a notice held for another town,
a printed batch read by camera – with a duplicate and a sheet signed by an unknown key – confirmed and typed twice,
a notice typed from paper with a slip settled by re-keying, an export), then the ledger is copied to an empty
database on a real PostgreSQL server (tests/pgserver.py): the exports written from both ledgers are byte-identical
and `audit verify` passes on the server's ledger with the data directory's anchors.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.confirm import confirm
from paperlink.doubleentry import new_manual_notice, resolve, submit_entry
from paperlink.export import export
from paperlink.home import Home
from paperlink.intake import capture_scan
from paperlink.keys import KeyStore
from paperlink.ledger import Ledger, LedgerError, store, transfer
from paperlink.payload import manifest_texts, sheet_text
from paperlink.samples import SampleOptions, generate
from paperlink.scanning import interpret
from paperlink.users import add_user
from tests import ledgers, pgserver
from tests.test_holds_receipts import ELSEWHERE, OFFICE, _file, _record

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not pgserver.available(),
                                                   reason="PostgreSQL is not installed (./dev test-postgresql installs it)")]

DAY = dt.date(2026, 11, 26)
PAPER = "B20261126-PAPR"


@pytest.fixture
def day(runner: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A receiving office R whose SQLite ledger holds a day of work (see the module docstring)."""
    monkeypatch.delenv("PAPERLINK_LEDGER", raising=False)  # the day is done on the SQLite file, whatever the run
    s, r, folder = tmp_path / "sender", tmp_path / "receiver", tmp_path / "link"
    folder.mkdir()
    for home in (s, r):
        assert runner("--home", home, "keys", "init").exit_code == 0
        runner("--home", home, "keys", "export", "-o", tmp_path / f"{home.name}.pem")
    runner("--home", r, "keys", "trust", tmp_path / "sender.pem")
    on_file = ("--home", r, "--ledger", r / "ledger.sqlite3")  # the receiver's SQLite file, in every job
    assert runner(*on_file, "setup", "--municipality", OFFICE).exit_code == 0
    # by line: four notices, the third for another town (held with its reason)
    line = _file(tmp_path / "line.jsonl", [_record(1), _record(2), _record(3, municipality_code=ELSEWHERE),
                                           _record(4)])
    assert runner("--home", s, "send", line, "--to", folder, "--batch", "B20261126-LINE").exit_code == 0
    assert runner(*on_file, "receive", folder).exit_code == 0
    # on paper: a cover and four sheets, read by camera; sheet 3 cannot be read and is typed twice
    key = KeyStore(Home(s)).signing_key()
    notices = generate(SampleOptions(count=4, seed=81, notice_date=DAY))
    with Ledger(Home(r).ledger, home=r) as ledger:
        tanaka = add_user(ledger, "tanaka", "田中", {"entry"}, "password-one", "admin")
        suzuki = add_user(ledger, "suzuki", "鈴木", {"entry", "review"}, "password-two", "admin")
        trusted = KeyStore(Home(r)).trusted()

        def read(text: str) -> str:
            return capture_scan(ledger, interpret(text, "webcam", 1, trusted), "webcam", "tanaka").outcome.value

        assert [read(t) for t in manifest_texts(PAPER, list(enumerate(notices, start=1)), 4, key)] == ["registered"]
        for seq in (1, 2, 4):
            assert read(sheet_text(notices[seq - 1], PAPER, seq, 4, key)) == "new"
            confirm(ledger, store.notice_at(ledger, PAPER, seq).id, tanaka)  # type: ignore[union-attr]
        assert read(sheet_text(notices[0], PAPER, 1, 4, key)) == "duplicate"
        stranger = Ed25519PrivateKey.generate()
        assert read(sheet_text(notices[1], "B20261126-XXXX", 1, 1, stranger)) == "rejected"
        third = store.notice_at(ledger, PAPER, 3)
        assert third is not None
        assert submit_entry(ledger, third.id, notices[2].record(), None, tanaka).state == "first_entry"
        assert submit_entry(ledger, third.id, notices[2].record(), None, suzuki).state == "done"
        # paper without a code, typed twice with a slip that is settled by re-keying
        typed = generate(SampleOptions(count=1, seed=82, notice_date=DAY))[0]
        pk = new_manual_notice(ledger, tanaka, DAY.isoformat())
        submit_entry(ledger, pk, typed.record(), None, tanaka)
        slip = {**typed.record(), "card_number": "ZZ99999999ZZ"}
        assert submit_entry(ledger, pk, slip, None, suzuki).state == "mismatch"
        assert resolve(ledger, pk, {"card_number": typed.card_number}, suzuki).state == "done"
    assert runner(*on_file, "export", "-o", tmp_path / "first.jsonl").exit_code == 0
    return {"home": r, "tmp": tmp_path, "runner": runner}


def _batches(ledger: Ledger) -> list[str]:
    return [str(r[0]) for r in ledger.query("SELECT batch_id FROM batches ORDER BY batch_id")]


def _exports(ledger: Ledger, folder: Path) -> dict[str, bytes]:
    """Every batch written again in each format: file name → bytes."""
    folder.mkdir()
    out = {}
    for fmt in ("jsonl", "csv", "csv-cp932"):
        path = folder / f"all.{fmt}"
        export(ledger, _batches(ledger), path, fmt, "suzuki")
        out[fmt] = path.read_bytes()
    return out


def test_a_day_of_work_moves_to_postgresql_and_exports_the_same_bytes(day: dict[str, Any], request: pytest.FixtureRequest,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a day of work on SQLite WHEN migrated to an empty PostgreSQL database THEN counts, rows, chain and
    anchors match, exports from both ledgers are byte-identical, and audit verify passes on the server's ledger."""
    home, tmp, runner = day["home"], day["tmp"], day["runner"]
    url = ledgers.ledger_url(request)
    with Ledger(Home(home).ledger, home=home) as source:
        counts = {table: source.count(table) for table, _ in transfer.COPY_ORDER}
        entries = source.audit_count()
    assert counts["holds"] == 1 and counts["exports"] >= 1 and counts["entries"] >= 5 and counts["captures"] == 6
    moved = runner("--home", home, "ledger", "migrate", "--to", url, "--clerk", "admin")
    assert moved.exit_code == 0, moved.output
    assert f"audit chain of {entries} entries holds on both sides" in moved.stdout
    assert "anchors match" in moved.stdout and re.search(r"^holds\s+1 rows", moved.stdout, re.M)
    with Ledger(url, home=home) as target:
        assert {table: target.count(table) for table, _ in transfer.COPY_ORDER} == \
            {**counts, "audit": entries + 1}  # and the migration's own entry
        assert target.audit_entries()[-1].action == "ledger.migrated"
        assert target.verify_audit() is None
        assert [problem for _, problem in target.check_anchors()] == [None] * len(target.check_anchors())
        # a new row gets an id after the copied ones (the sequences were moved past them)
        before = int(target.query("SELECT MAX(id) FROM audit")[0][0])
        target.set_setting("test.after", "1", "admin")
        assert int(target.query("SELECT MAX(id) FROM audit")[0][0]) == before + 1
        from_pg = _exports(target, tmp / "from-pg")
    with Ledger(Home(home).ledger, home=home, anchored=False) as source:  # not anchored: the server's ledger is the live one
        from_sqlite = _exports(source, tmp / "from-sqlite")
    assert from_pg == from_sqlite
    assert b"N20261126-00001" in from_pg["jsonl"] and from_pg["jsonl"].count(b"\n") == 1 + 3 + 4 + 1
    monkeypatch.setenv("PAPERLINK_LEDGER", url)
    verified = runner("--home", home, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert f"audit chain intact: {entries + 1 + 1 + 3} entries" in verified.stdout  # migrated, a setting, 3 exports
    assert "anchors checked" in verified.stdout and "FAILED" not in verified.stdout


def test_a_database_that_holds_anything_is_refused(day: dict[str, Any], request: pytest.FixtureRequest) -> None:
    """GIVEN a migrated database, or one with another program's table WHEN migrating into it THEN refused, one line."""
    home, runner = day["home"], day["runner"]
    url = ledgers.ledger_url(request)
    assert runner("--home", home, "ledger", "migrate", "--to", url).exit_code == 0
    again = runner("--home", home, "ledger", "migrate", "--to", url)
    assert again.exit_code == 1
    assert again.stderr.strip().splitlines()[-1].endswith("a ledger is copied only into an empty database")
    assert "settings: " in again.stderr
    other = ledgers.ledger_url(request)
    import psycopg

    with psycopg.connect(other, autocommit=True) as conn:
        conn.execute("CREATE TABLE residents (id integer)")
    refused = runner("--home", home, "ledger", "migrate", "--to", other)
    assert refused.exit_code == 1 and "(residents: ? rows)" in refused.stderr
    assert runner("--home", home, "ledger", "migrate", "--to", str(home / "x.sqlite3")).exit_code == 1


def test_a_copy_that_does_not_verify_leaves_the_server_empty(day: dict[str, Any], request: pytest.FixtureRequest,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a copy whose notices differ from the source (a fault made in the copying) WHEN verified THEN the whole
    copy is rolled back: the database is as empty as before and can be migrated into afterwards."""
    home = day["home"]
    url = ledgers.ledger_url(request)
    real = transfer._insert_many

    def faulty(target: Ledger, table: str, sql: str, values: Any) -> None:
        if table == "settings":  # one value changed on the way
            values = [*values[:-1], (values[-1][0], values[-1][1] + "!")]
        real(target, table, sql, values)

    monkeypatch.setattr(transfer, "_insert_many", faulty)
    with Ledger(Home(home).ledger, home=home) as source, Ledger(url, home=home) as target:
        with pytest.raises(LedgerError) as failed:
            transfer.migrate(source, target, "admin")
        assert failed.value.code == "migrate_table_content_differs" and failed.value.params["table"] == "settings"
        assert "contents differ" in failed.value.message("en") and "copied" not in failed.value.message("en")
    transfer.check_empty(url)  # nothing kept
    monkeypatch.setattr(transfer, "_insert_many", real)
    with Ledger(Home(home).ledger, home=home) as source, Ledger(url, home=home) as target:
        assert transfer.migrate(source, target, "admin").audit_entries == source.audit_count()


def test_backup_of_a_postgresql_ledger_is_a_verified_dump_that_restores(day: dict[str, Any], request: pytest.FixtureRequest,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a ledger on the server WHEN `backup` runs THEN a pg_dump archive is written, read back and its chain
    checked; restored into an empty database it verifies against the backup's manifest anchor."""
    home, tmp, runner = day["home"], day["tmp"], day["runner"]
    url = ledgers.ledger_url(request)
    assert runner("--home", home, "ledger", "migrate", "--to", url).exit_code == 0
    monkeypatch.setenv("PAPERLINK_LEDGER", url)
    out = tmp / "ledger.dump"
    made = runner("--home", home, "backup", "-o", out, "--clerk", "admin")
    assert made.exit_code == 0, made.output
    assert "backup written and verified" in made.stdout
    manifest = json.loads((tmp / "ledger.dump.manifest.json").read_text(encoding="utf-8"))
    with Ledger(url) as live:
        held, notices = live.audit_count(), live.count("notices")
    assert manifest["format"] == "pg_dump custom" and manifest["notices"] == notices == 9
    assert manifest["audit_entries_in_backup"] == held - 1  # the backup's own entry follows the dump
    assert out.read_bytes()[:5] == b"PGDMP" and oct(out.stat().st_mode & 0o777) == "0o600"
    # the restore procedure of docs/postgresql.md, for real
    restored = ledgers.ledger_url(request)
    from paperlink.ledger import pgdump

    subprocess.run([pgdump.tool("pg_restore"), "--no-owner", f"--dbname={restored}", str(out)], check=True,
                   capture_output=True)
    monkeypatch.setenv("PAPERLINK_LEDGER", restored)
    checked = runner("--home", home, "audit", "verify", "--anchor", tmp / "ledger.dump.manifest.json")
    # the backup's own entry was written after the dump: the restored log ends one entry before the live one
    assert f"audit chain intact: {held - 1} entries" in checked.stdout
    with Ledger(restored, home=home) as ledger:
        assert ledger.count("notices") == notices and ledger.verify_audit() is None
        found = {f.source: problem for f, problem in ledger.check_anchors([tmp / "ledger.dump.manifest.json"])}
        assert found[str(tmp / "ledger.dump.manifest.json")] is None
    # the anchors written after the backup are set aside (`audit restored`); then everything verifies
    assert runner("--home", home, "audit", "restored", "--clerk", "admin").exit_code == 0
    again = runner("--home", home, "audit", "verify", "--anchor", tmp / "ledger.dump.manifest.json")
    assert again.exit_code == 0, again.output


def test_a_dump_with_a_broken_chain_does_not_verify(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """GIVEN a server ledger whose audit entry was altered behind paperlink's back WHEN dumped THEN not verified."""
    from paperlink.ledger import pgdump

    url = ledgers.ledger_url(request)
    with Ledger(url) as ledger:
        for n in range(3):
            ledger.set_setting(f"s{n}", str(n), "admin")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:  # the superuser, triggers off: what an intruder could do
        conn.execute("ALTER TABLE audit DISABLE TRIGGER USER")
        conn.execute("UPDATE audit SET actor = 'someone' WHERE id = 2")
    pgdump.dump(url, tmp_path / "x.dump")
    with pytest.raises(LedgerError) as broken:
        pgdump.verify(tmp_path / "x.dump")
    assert broken.value.code == "pgdump_chain_broken" and broken.value.params["entry"] == "2"
    (tmp_path / "not.dump").write_bytes(b"PGDMP garbage")
    with pytest.raises(LedgerError) as garbage:
        pgdump.verify(tmp_path / "not.dump")
    assert garbage.value.code == "pgdump_failed"


def test_a_database_whose_collation_is_not_byte_order_takes_the_copy(tmp_path: Path, request: pytest.FixtureRequest,
                                                                     runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN logins whose order differs between byte order and a language's collation (`a-b`, `a_b`, `a1x`) and a
    database created with an ICU en-US collation WHEN migrated THEN the copy verifies (both sides are compared in
    the same order; a server ORDER BY on the text key made it `differ`)."""
    import psycopg

    from paperlink.ledger import accounts

    monkeypatch.delenv("PAPERLINK_LEDGER", raising=False)
    job: Any = request.getfixturevalue("pg_server")
    server = job or ledgers.server()
    name = server.fresh_database().rsplit("/", 1)[1] + "_icu"
    with psycopg.connect(server.socket_url("postgres"), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} OWNER {pgserver.PASSWORD_ROLE} LOCALE_PROVIDER icu"
                      " ICU_LOCALE 'en-US' LOCALE 'C' TEMPLATE template0".encode())
    try:
        home = tmp_path / "home"
        with Ledger(home / "ledger.sqlite3", home=home) as ledger, ledger.transaction():
            for login in ("a1x", "a_b", "a-b"):
                accounts.add_account(ledger, login, login, frozenset({"entry"}), "x")
                ledger.audit("admin", "user.added", login)
        url = server.socket_url(name)
        with psycopg.connect(url) as conn:  # the server really sorts these otherwise than SQLite
            order = [r[0] for r in conn.execute("SELECT x FROM (VALUES ('a1x'), ('a_b'), ('a-b')) v(x) ORDER BY x")]
            assert order != sorted(order)
        moved = runner("--home", home, "ledger", "migrate", "--to", url, "--clerk", "admin")
        assert moved.exit_code == 0, moved.output
        with Ledger(url, anchored=False) as target:
            assert target.count("users") == 3 and target.verify_audit() is None
    finally:
        server.drop_database(name)
