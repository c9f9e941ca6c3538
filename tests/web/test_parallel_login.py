"""Login throttling under real parallel requests against the served entry screen (werkzeug, 127.0.0.1)."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

import paperlink.users
from paperlink.ledger import Ledger
from paperlink.users import MAX_FAILURES, add_user

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from webload import Client, running_server

GUESSES = 40


@pytest.mark.slow
def test_parallel_guesses_check_at_most_max_failures_passwords(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN one clerk WHEN 40 wrong passwords arrive at once THEN at most 5 are checked, the rest are locked."""
    home.mkdir(parents=True, exist_ok=True)
    with Ledger(home / "ledger.sqlite3") as ledger:
        add_user(ledger, "aoki", "青木", {"entry"}, "correct-horse-1", actor="test")
    checked: list[float] = []
    real_check = paperlink.users.check_password

    def slow_check(password: str, stored: str) -> bool:  # as long as the real scrypt cost takes on a slow PC
        checked.append(time.monotonic())
        time.sleep(0.05)
        return real_check(password, stored)

    monkeypatch.setattr(paperlink.users, "check_password", slow_check)
    statuses: list[int] = []
    with running_server(home) as port:
        clients = [Client(port) for _ in range(GUESSES)]
        for client in clients:
            client.get("/login")  # a session and its CSRF token each
        barrier = threading.Barrier(GUESSES, timeout=30)

        def guess(client: Client, number: int) -> None:
            barrier.wait()
            status, _, _ = client.post_form("/login", {"login": "aoki", "password": f"guess-{number}"})
            statuses.append(status)

        threads = [threading.Thread(target=guess, args=(c, i)) for i, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
    assert len(statuses) == GUESSES
    assert len(checked) <= MAX_FAILURES, f"{len(checked)} passwords were checked"
    assert statuses.count(400) == MAX_FAILURES and statuses.count(429) == GUESSES - MAX_FAILURES
    with Ledger(home / "ledger.sqlite3") as ledger:
        actions = [e.action for e in ledger.audit_entries() if e.actor == "aoki"]
    assert actions.count("login.failed") == MAX_FAILURES and actions.count("login.locked") == GUESSES - MAX_FAILURES
