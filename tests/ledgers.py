"""Both ledger backends for tests that run a case on each: SQLite, and PostgreSQL on a real server.

`BACKENDS` parametrises a fixture; `ledger_url()` gives a fresh, empty PostgreSQL database of one server
(tests/pgserver.py): the PostgreSQL job's session server (`pg_server` in tests/conftest.py) when it runs, else
one started here on first use and stopped when the test session ends. Without Debian's `postgresql`
package the PostgreSQL cases are skipped with that reason (`./dev test-postgresql` installs it).
"""

from __future__ import annotations

import atexit
from typing import Any

import pytest

from tests import pgserver

BACKENDS = ["sqlite", "postgresql"]
_server: list[pgserver.PgServer] = []


def server() -> pgserver.PgServer:
    """The session's PostgreSQL server (started on first use)."""
    if not pgserver.available():
        pytest.skip("PostgreSQL is not installed (./dev test-postgresql installs it)")
    if not _server:
        _server.append(pgserver.PgServer())
        atexit.register(_server[0].stop)
    return _server[0]


def ledger_url(request: pytest.FixtureRequest | None = None) -> str:
    """A new empty database on the session's PostgreSQL server, as a `postgresql://` URL (Unix socket)."""
    job: Any = request.getfixturevalue("pg_server") if request is not None else None
    return str((job or server()).fresh_database())
