"""The demo's preparation in the core: `prepare_demo` sets up a data directory once and reports what it did."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import paperlink.users
from paperlink.dataformat import read_notices
from paperlink.demo import DEMO_PASSWORD, DEMO_USERS, prepare_demo
from paperlink.home import Home
from paperlink.intake import OFFICE_MUNICIPALITY_SETTING
from paperlink.keys import KeyStore
from paperlink.ledger import Ledger
from paperlink.users import authenticate


def test_prepare_demo_sets_up_once_and_says_what_it_did(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN an empty data directory WHEN the demo is prepared twice THEN the first call prints and registers a batch
    of the given size, with the clerks, key and office set; the second changes nothing and says so."""
    monkeypatch.setattr(paperlink.users, "_SCRYPT", {"n": 2**8, "r": 8, "p": 1})
    first = prepare_demo(Home(home), count=3, today=dt.date(2026, 11, 26))
    assert first.printed_now and first.count == 3 and first.batch_id is not None
    assert first.root == home and first.pdf == home / "demo" / "batch.pdf" and first.pdf.exists()
    assert first.clerks == tuple(login for login, _, _ in DEMO_USERS) and first.password == DEMO_PASSWORD
    notices = read_notices(home / "demo" / "notices.jsonl")
    assert len(notices) == 3 and KeyStore(Home(home)).has_signing_key()
    with Ledger(home / "ledger.sqlite3") as ledger:
        assert ledger.setting(OFFICE_MUNICIPALITY_SETTING) == notices[0].municipality_code
        assert [r[0] for r in ledger.query("SELECT batch_id FROM batches")] == [first.batch_id]
        for login, _, roles in DEMO_USERS:
            user = authenticate(ledger, login, DEMO_PASSWORD)
            assert user is not None and user.roles == set(roles)
    pdf = first.pdf.read_bytes()
    again = prepare_demo(Home(home), count=5)
    assert not again.printed_now and (again.batch_id, again.count) == (None, 0)
    assert again.pdf.read_bytes() == pdf
    with Ledger(home / "ledger.sqlite3") as ledger:
        assert ledger.query("SELECT COUNT(*) FROM batches")[0][0] == 1
