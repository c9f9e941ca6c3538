"""Shared fixtures: a temporary data directory, the CLI runner, and valid notices to start from."""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from paperlink.cli import main
from paperlink.samples import SampleOptions, generate

BASE_RECORD: dict[str, Any] = {
    "notice_id": "N20261126-00001",
    "notice_date": "2026-11-26",
    "event_date": "2026-11-20",
    "municipality_code": "131016",
    "event": "extension",
    "category": "mid_long_term",
    "name": "NGUYEN VAN AN",
    "name_kanji": None,
    "birth_date": "1995-03-14",
    "sex": "M",
    "nationality": "ベトナム",
    "card_kind": "residence_card",
    "card_number": "AB12345678CD",
    "status": "技術・人文知識・国際業務",
    "period_of_stay": "3年",
    "expiry_date": "2029-12-10",
    "address": "東京都千代田区九段南1丁目2番1号",
    "remarks": None,
    "before": {"card_number": "ZX87654321QP", "expiry_date": "2026-12-10"},
}


def write_public_key(private: Any, path: Path) -> Path:
    """Write a test key's public half as PEM (what `paperlink keys export` writes)."""
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(private.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def trusting_home(root: Path, private: Any) -> Path:
    """A data directory at `root` that trusts `private`'s public key (an entry side for that print side)."""
    from paperlink.home import Home
    from paperlink.keys import KeyStore

    KeyStore(Home(root).ensure()).trust(write_public_key(private, root.parent / f"{root.name}.pub.pem"))
    set_up_office(Home(root).ledger)
    return root


OFFICE = "131016"
"""The municipality the test offices are (the samples' default addressee, 千代田区)."""


def set_up_office(ledger_path: Path, code: str = OFFICE) -> None:
    """Set the office's municipality code in the ledger at `ledger_path` (an entry side that is set up)."""
    from paperlink.intake import OFFICE_MUNICIPALITY_SETTING
    from paperlink.ledger import Ledger

    with Ledger(ledger_path) as ledger:
        ledger.set_setting(OFFICE_MUNICIPALITY_SETTING, code, "test")


POSTGRESQL = os.environ.get("PAPERLINK_TEST_LEDGER") == "postgresql"
"""The PostgreSQL job (`./dev test-postgresql`): every test's ledger is a fresh database on a real server."""
SQLITE_ONLY = pytest.mark.skipif(POSTGRESQL, reason="SQLite by nature (a ledger file, its pragmas or its modes)")
"""Marks a test of what only a SQLite ledger file has (skipped in the PostgreSQL job, with that reason)."""


@pytest.fixture(scope="session")
def pg_server() -> Any:
    """PostgreSQL job: one real server for the session (tests/pgserver.py), stopped at the end; else None.

    For the whole session every data directory's ledger is a database of its own on it: `Home.ledger_target`
    maps each directory (the test's `home`, a sender and a receiver, a module's web server) to one, made on first
    use as a copy of one migrated, still empty ledger (as if opened once; tests of the migrations themselves take
    `server.fresh_database()`, which is empty), and a test's `Ledger(<dir>/ledger.sqlite3)` – the ledger of a
    data directory, as the tests name it – opens that directory's database. A URL a test names itself (--ledger,
    or PAPERLINK_LEDGER set to another database) is left alone.
    """
    if not POSTGRESQL:
        yield None
        return
    from paperlink.home import LEDGER_ENV_VAR, Home
    from paperlink.ledger import Ledger, connection
    from tests.pgserver import PgServer

    server: Any = PgServer()
    try:
        with Ledger(server.fresh_database(), anchored=False) as ledger:
            template = ledger.url
        databases: dict[Path, str] = {}
        server.databases = databases

        def database_of(root: Path) -> str:
            root = root.resolve()
            if root not in databases:
                databases[root] = server.fresh_database(template)
            return databases[root]

        server.database_of = database_of
        original = Home.ledger_target

        def ledger_target(self: Home) -> str | Path:
            named = os.environ.get(LEDGER_ENV_VAR)
            if self.ledger_option or (named and named not in databases.values()):
                return original.fget(self)  # type: ignore[attr-defined, no-any-return]
            return database_of(self.root)

        opened = connection.Ledger.__init__

        def init(self: Any, target: Any, *args: Any, **kwargs: Any) -> None:
            if isinstance(target, Path) and target.name == connection.LEDGER_NAME and kwargs.get("home") is None:
                kwargs["home"] = target.parent
                target = Home(target.parent).ledger_target
            opened(self, target, *args, **kwargs)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Home, "ledger_target", property(ledger_target))
            patch.setattr(connection.Ledger, "__init__", init)
            patch.setenv("PGPASSFILE", str(server.pgpass))
            yield server
    finally:
        server.stop()


def child_env(home: Path) -> dict[str, str]:
    """The environment of a child paperlink process working on the data directory `home` (and, in the PostgreSQL
    job, on that directory's database)."""
    from paperlink.home import LEDGER_ENV_VAR, Home

    env = {**os.environ, "PAPERLINK_HOME": str(home)}
    if POSTGRESQL:
        env[LEDGER_ENV_VAR] = str(Home(home).ledger_target)
    return env


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_server: Any) -> Any:
    """Every test gets its own empty data directory through PAPERLINK_HOME.

    PostgreSQL job: and its own empty database through PAPERLINK_LEDGER, so every `Ledger.of(home)` – the CLI,
    the web app, the scan folder, subprocesses – opens it (see `pg_server` for the other data directories).
    """
    path = tmp_path / "home"
    monkeypatch.setenv("PAPERLINK_HOME", str(path))
    if pg_server is None:
        yield path
        return
    monkeypatch.setenv("PAPERLINK_LEDGER", pg_server.database_of(path))
    yield path
    mine = tmp_path.resolve()  # a database is some 7 MB and 300 files: the test's own are dropped after it
    for root in [r for r in pg_server.databases if r == mine or mine in r.parents]:
        pg_server.drop_database(pg_server.databases.pop(root))


@pytest.fixture
def runner() -> Callable[..., Any]:
    """Invoke the paperlink CLI in-process: runner('validate', 'f.jsonl') -> click Result."""
    cli = CliRunner()

    def invoke(*args: str, **kwargs: Any) -> Any:
        return cli.invoke(main, [str(a) for a in args], catch_exceptions=False, **kwargs)

    return invoke


@pytest.fixture
def record() -> Callable[..., dict[str, Any]]:
    """A fresh valid raw record, with items replaced: record(status='留学', before={...})."""

    def make(**changes: Any) -> dict[str, Any]:
        raw = copy.deepcopy(BASE_RECORD)
        for key, value in changes.items():
            if value is ...:
                raw.pop(key, None)
            else:
                raw[key] = value
        return raw

    return make


@pytest.fixture(scope="session")
def sample_notices() -> list:  # type: ignore[type-arg]
    """200 generated notices covering every event and category."""
    return generate(SampleOptions(count=200, seed=3, notice_date=dt.date(2026, 11, 26)))


LOOKALIKE = os.environ.get("PAPERLINK_WINDOWS_LOOKALIKE") == "1"
"""The Windows look-alike job (`./dev test-windows-lookalike`): see tests/windows_lookalike.py."""


def pytest_configure(config: pytest.Config) -> None:
    if LOOKALIKE:  # on Windows a file opened without an encoding is read as cp932: paperlink must always name one
        config.addinivalue_line("filterwarnings", "ignore::EncodingWarning")  # the tests' own and other libraries'
        config.addinivalue_line("filterwarnings", "error::EncodingWarning:paperlink")


@pytest.fixture(scope="session", autouse=True)
def windows_fonts(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Look-alike job: no Linux font; a fake %WINDIR% whose Fonts folder holds MS Gothic and Meiryo as stand-in
    collections (built from IPAex), so every sheet printed in-process uses a Windows font collection."""
    if not LOOKALIKE:
        yield None
        return
    from paperlink import fonts
    from tests.windows_lookalike import build_ttc

    windir = tmp_path_factory.mktemp("Windows")
    (windir / "Fonts").mkdir()
    ttc = build_ttc(Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf").read_bytes(), copies=3)
    for name in ("msgothic.ttc", "meiryo.ttc"):
        (windir / "Fonts" / name).write_bytes(ttc)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WINDIR", str(windir))
        patch.setattr(fonts, "_SYSTEM_FONTS", ())
        yield windir


@pytest.fixture(autouse=True)
def windows_acl(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Look-alike job: owner-only data is made and checked through Windows ACLs (in memory), not file modes."""
    if not LOOKALIKE:
        return None
    from paperlink import private
    from tests.windows_lookalike import FakeAcl

    acl = FakeAcl()
    monkeypatch.setattr(private, "is_windows", lambda: True)
    monkeypatch.setattr(private, "_backend", acl)
    return acl


SLOW_KINDS = ("browser", "fuzz", "crash")
"""Markers that always imply `slow`: the fast loop (`./dev test -m "not slow"`) leaves these tests out."""
BROWSER_DIR = Path(__file__).resolve().parent / "browser"


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/browser is `browser`; every `browser`, `fuzz` or `crash` test is also `slow`."""
    for item in items:
        if LOOKALIKE and item.get_closest_marker("pyzbar"):
            item.add_marker(pytest.mark.skip(reason="pyzbar is not installed on Windows (pyproject.toml)"))
        if BROWSER_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)
        if any(item.get_closest_marker(kind) for kind in SLOW_KINDS) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    """Print how many generated inputs each fuzz target ran (issue: 'print the counts')."""
    import sys

    counts: dict[str, int] = {}
    for name in ("tests.test_fuzz", "test_fuzz"):
        module = sys.modules.get(name)
        if module is not None:
            counts.update(getattr(module, "COUNTS", {}))
    web = sys.modules.get("tests.web.test_fuzz_upload") or sys.modules.get("test_fuzz_upload")
    if web is not None:
        counts.update(getattr(web, "COUNTS", {}))
    if counts:
        terminalreporter.section("fuzz counts")
        for target, n in sorted(counts.items()):
            terminalreporter.write_line(f"{target}: {n} generated inputs")
