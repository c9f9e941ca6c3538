"""Both ledger backends for tests that run a case on each: SQLite, and PostgreSQL on a real server.

`BACKENDS` parametrises a fixture; `ledger_url(request)` gives a fresh, empty PostgreSQL database of the session's
server (tests/pgserver.py), started once per session on first use. Without the `postgresql` package installed
the PostgreSQL cases are skipped with that reason (`./dev test-postgresql` installs it).
"""

from __future__ import annotations

import pytest

BACKENDS = ["sqlite", "postgresql"]


def ledger_url(request: pytest.FixtureRequest) -> str:
    """A new empty database on the session's PostgreSQL server, as a `postgresql://` URL."""
    try:
        from tests import pgserver
    except ImportError:
        pytest.skip("tests/pgserver.py is not there yet")
    server = request.getfixturevalue("pg_server")
    return str(pgserver.fresh_database(server))
