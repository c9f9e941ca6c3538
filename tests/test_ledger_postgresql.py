"""The ledger on a real PostgreSQL server (tests/pgserver.py): TLS over TCP, no password in a URL, the schema
version in a table, a newer schema refused, CHECK == enum, and writers serialised by the advisory lock.

These run wherever Debian's `postgresql` package is installed (always in `./dev test-postgresql`, which installs
it); `./dev test` needs no database server, so there they are skipped when it is missing.
"""

from __future__ import annotations

import threading
import time
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from paperlink.home import Home
from paperlink.ledger import Ledger, LedgerError
from paperlink.ledger.dialect import PLAINTEXT_OVERRIDE, redact
from paperlink.ledger.schema import MIGRATIONS
from tests import pgserver
from tests.test_ledger_schema import CONSTRAINED, check_values

pytestmark = pytest.mark.skipif(not pgserver.available(),
                                reason="Debian's postgresql package is not installed (./dev test-postgresql installs it)")


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Any:
    """The session's server in the PostgreSQL job, else one of this module's own."""
    shared = request.getfixturevalue("pg_server")
    if shared is not None:
        yield shared
        return
    own = pgserver.PgServer()
    try:
        yield own
    finally:
        own.stop()


@pytest.fixture
def tcp(server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """A fresh database reached over TCP: (server, database name); the password only in the pgpass file, and no
    ~/.postgresql/root.crt (HOME is empty), so nothing but the URL says which CA to trust."""
    monkeypatch.setenv("PGPASSFILE", str(server.pgpass))
    monkeypatch.setenv("HOME", str(tmp_path / "nohome"))
    monkeypatch.delenv(PLAINTEXT_OVERRIDE, raising=False)
    name = server.fresh_database().rsplit("/", 1)[1]
    return server, name


def _ssl_in_use(ledger: Ledger) -> bool:
    return bool(ledger.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")[0][0])


def test_tcp_is_encrypted_and_the_server_verified(tcp: Any, tmp_path: Path) -> None:
    """GIVEN a URL over TCP naming the CA THEN the connection uses TLS (verify-full: the certificate matches
    127.0.0.1) and the ledger works."""
    server, name = tcp
    with Ledger(server.tcp_url(name), home=tmp_path) as ledger:
        assert ledger.backend == "postgresql" and _ssl_in_use(ledger)
        ledger.set_setting("office.municipality", "131016", "test")
        assert ledger.verify_audit() is None


def test_no_sslmode_means_verify_full(tcp: Any) -> None:
    """GIVEN a TCP URL without sslmode and without a CA THEN it is refused: the default is verify-full, which needs
    the CA to check the server against (a `require` default would have connected unverified)."""
    server, name = tcp
    url = f"postgresql://{pgserver.PASSWORD_ROLE}@127.0.0.1:{server.port}/{name}"
    with pytest.raises(LedgerError) as caught:
        Ledger(url)
    assert caught.value.code == "ledger_open_failed"
    assert "root certificate" in str(caught.value.params["detail"])


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer"])
def test_a_connection_without_tls_is_refused(tcp: Any, mode: str) -> None:
    """GIVEN sslmode that would allow plaintext over TCP THEN the ledger refuses it before connecting."""
    server, name = tcp
    with pytest.raises(LedgerError) as caught:
        Ledger(server.tcp_url(name, sslmode=mode))
    assert caught.value.code == "ledger_tls_required" and caught.value.params["mode"] == mode


def test_the_documented_override_allows_plaintext(tcp: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The server accepts TCP without TLS (pg_hba `host`): so the refusal above is the client's own. With
    PAPERLINK_LEDGER_ALLOW_PLAINTEXT=1 the explicit sslmode=disable connects, unencrypted."""
    server, name = tcp
    monkeypatch.setenv(PLAINTEXT_OVERRIDE, "1")
    with Ledger(server.tcp_url(name, sslmode="disable"), home=tmp_path) as ledger:
        assert not _ssl_in_use(ledger)


def test_a_unix_socket_needs_no_tls(server: Any, tmp_path: Path) -> None:
    with Ledger(server.fresh_database(), home=tmp_path) as ledger:
        assert ledger.schema_version == len(MIGRATIONS)


@pytest.mark.parametrize("where", ["userinfo", "query"])
def test_a_password_in_the_url_is_refused_and_never_shown(tcp: Any, where: str, runner: Any, home: Path) -> None:
    server, name = tcp
    secret = "Hunter2-Very-Secret"
    base = server.tcp_url(name)
    url = (base.replace(f"{pgserver.PASSWORD_ROLE}@", f"{pgserver.PASSWORD_ROLE}:{secret}@") if where == "userinfo"
           else base + f"&password={secret}")
    with pytest.raises(LedgerError) as caught:
        Ledger(url)
    assert caught.value.code == "ledger_url_password"
    assert secret not in caught.value.message("en") and secret not in caught.value.message("ja")
    assert "***" in caught.value.message("en")
    result = runner("--ledger", url, "status")
    assert result.exit_code != 0 and secret not in result.output
    assert "password" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (home / "ledger.sqlite3").exists()


def test_redact_hides_every_password() -> None:
    assert redact("postgresql://u:pw@h:5432/db?sslmode=require") == "postgresql://u:***@h:5432/db?sslmode=require"
    assert redact("postgresql://u@h/db?password=pw&sslmode=require") == "postgresql://u:***@h/db?sslmode=require"
    assert redact(Path("/x/ledger.sqlite3")) == "/x/ledger.sqlite3"


def test_a_refused_connection_names_the_url_without_its_secrets(tcp: Any) -> None:
    """A connection that fails (a database that does not exist) is reported with the redacted URL."""
    server, _name = tcp
    with pytest.raises(LedgerError) as caught:
        Ledger(server.tcp_url("no_such_database"))
    assert caught.value.code == "ledger_open_failed" and "no_such_database" in caught.value.message("en")


def test_the_schema_version_is_a_table(server: Any, tmp_path: Path) -> None:
    url = server.fresh_database()
    with Ledger(url, migrations=MIGRATIONS[:4], home=tmp_path) as ledger:
        assert ledger.query("SELECT version FROM paperlink_schema")[0][0] == 4 == ledger.schema_version
    with Ledger(url, home=tmp_path) as ledger:  # the rest applied in order, the version moved on
        assert [r[0] for r in ledger.query("SELECT version FROM paperlink_schema")] == [len(MIGRATIONS)]
        assert ledger.schema_version == len(MIGRATIONS)


def test_a_newer_schema_is_refused_with_one_line(server: Any, tmp_path: Path, runner: Any, home: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    url = server.fresh_database()
    with Ledger(url, migrations=(*MIGRATIONS, "CREATE TABLE later (id INTEGER PRIMARY KEY);"), home=tmp_path):
        pass
    with pytest.raises(LedgerError) as caught:
        Ledger(url, home=tmp_path)
    assert caught.value.code == "ledger_newer_schema"
    assert caught.value.params["version"] == str(len(MIGRATIONS) + 1)
    monkeypatch.delenv("PAPERLINK_LEDGER", raising=False)
    result = runner("--ledger", url, "status")
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1 and "newer paperlink" in result.output


@pytest.mark.parametrize(("table", "column", "enum"), CONSTRAINED, ids=[f"{t}.{c}" for t, c, _ in CONSTRAINED])
def test_enum_matches_the_check_constraint_on_postgresql(server: Any, tmp_path: Path, table: str, column: str,
                                                         enum: type[Enum]) -> None:
    with Ledger(server.fresh_database(), home=tmp_path) as ledger:
        assert ledger.backend == "postgresql"
        assert check_values(ledger, table, column) == {str(member.value) for member in enum}


def test_the_audit_log_is_append_only_on_postgresql(server: Any, tmp_path: Path) -> None:
    with Ledger(server.fresh_database(), home=tmp_path) as ledger:
        ledger.set_setting("a", "b", "test")
        for statement in ("UPDATE audit SET actor = 'mallory'", "DELETE FROM audit", "TRUNCATE audit"):
            with pytest.raises(LedgerError) as caught, ledger.transaction():
                ledger.db.execute(statement)
            assert "append-only" in caught.value.message("en")
        assert ledger.audit_count() == 1 and ledger.audit_entries()[0].actor == "test"


def test_a_second_writer_waits_for_the_first(server: Any, tmp_path: Path) -> None:
    """GIVEN one desk inside a write transaction THEN another desk's write transaction starts only after the first
    committed (the advisory lock), and sees what it wrote: the audit chain goes on from the first's head."""
    url = server.fresh_database()
    with Ledger(url, home=tmp_path) as first, Ledger(url, home=tmp_path) as second:
        entered = threading.Event()

        def other_desk() -> None:
            with second.transaction():
                entered.set()
                second.audit("desk2", "test.second", "x")

        with first.transaction():
            first.audit("desk1", "test.first", "x")
            desk = threading.Thread(target=other_desk)
            desk.start()
            assert not entered.wait(0.5), "the second writer got in while the first held the ledger"
        desk.join(10)
        assert entered.is_set()
        assert [e.action for e in first.audit_entries()] == ["test.first", "test.second"]
        assert first.verify_audit() is None


def test_concurrent_writers_keep_one_unbroken_chain(server: Any, tmp_path: Path) -> None:
    """Four desks (threads, each its own connection) appending at once: every entry kept, one chain."""
    url = server.fresh_database()
    Ledger(url, home=tmp_path).close()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def desk(number: int) -> None:
        try:
            with Ledger(url, home=tmp_path) as ledger:
                barrier.wait()
                for i in range(20):
                    with ledger.transaction():
                        ledger.audit(f"desk{number}", "test.append", str(i))
        except BaseException as exc:  # reported below
            errors.append(exc)

    desks = [threading.Thread(target=desk, args=(n,)) for n in range(4)]
    start = time.monotonic()
    for t in desks:
        t.start()
    for t in desks:
        t.join(60)
    assert not errors and time.monotonic() - start < 60
    with Ledger(url, home=tmp_path) as ledger:
        assert ledger.audit_count() == 80 and ledger.verify_audit() is None


def test_the_ledger_option_and_variable_choose_the_database(server: Any, runner: Any, home: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """`--ledger URL` (and PAPERLINK_LEDGER) send every command to the server; no SQLite file is made."""
    url = server.fresh_database()
    monkeypatch.delenv("PAPERLINK_LEDGER", raising=False)
    assert runner("--ledger", url, "setup", "--municipality", "131016").exit_code == 0
    assert not (home / "ledger.sqlite3").exists()
    with Ledger(url) as ledger:
        assert ledger.setting("office.municipality_code") == "131016"
    monkeypatch.setenv("PAPERLINK_LEDGER", url)
    assert Home.resolve().ledger_target == url
    assert runner("status").exit_code == 0
    assert not (home / "ledger.sqlite3").exists()


def test_sqlite_only_operations_are_refused_with_a_code(server: Any, runner: Any, home: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    url = server.fresh_database()
    monkeypatch.delenv("PAPERLINK_LEDGER", raising=False)
    # (`paperlink backup` of a PostgreSQL ledger is a pg_dump: tests/test_migrate.py)
    with Ledger(url, home=tmp_path) as ledger:
        for operation in (ledger.integrity, lambda: ledger.backup_to(tmp_path / "copy.sqlite3")):
            with pytest.raises(LedgerError) as caught:
                operation()
            assert caught.value.code == "ledger_sqlite_only"
    assert not (tmp_path / "copy.sqlite3").exists()


@pytest.mark.slow
def test_a_writer_waiting_too_long_gets_busy(server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a desk holding the write lock THEN another desk gives up after the busy timeout with `ledger_busy`
    (as SQLite's busy timeout does), and its connection stays usable."""
    from paperlink.ledger import dialect

    monkeypatch.setattr(dialect, "BUSY_TIMEOUT_SECONDS", 1)
    url = server.fresh_database()
    with Ledger(url, home=tmp_path) as first, Ledger(url, home=tmp_path) as second:
        with first.transaction():
            first.audit("desk1", "test.first", "x")
            with pytest.raises(LedgerError) as caught, second.transaction():
                pass
            assert caught.value.code == "ledger_busy"
        second.set_setting("a", "b", "desk2")
        assert second.verify_audit() is None and second.audit_count() == 2


# -- issue-15c: the review's findings -------------------------------------------------------------

def _service_file(tmp_path: Path, server: Any) -> Path:
    conf = tmp_path / "pg_service.conf"
    conf.write_text(f"[desk]\nhost=127.0.0.1\nport={server.port}\nuser={pgserver.PASSWORD_ROLE}\nsslmode=disable\n",
                    encoding="utf-8")
    return conf


@pytest.mark.parametrize("where", ["PGHOSTADDR", "PGHOST", "service", "PGSERVICE", "hostaddr", "PGSSLMODE"])
def test_tcp_from_elsewhere_than_the_url_still_uses_tls(tcp: Any, where: str, tmp_path: Path) -> None:
    """GIVEN a URL naming no host, the host coming from PGHOSTADDR, PGHOST, ?service=, PGSERVICE or ?hostaddr=
    (a service even asking sslmode=disable, or PGSSLMODE=disable) THEN the connection is still verify-full: with the
    CA it is encrypted, without it refused (before the fix these connected in plaintext)."""
    server, name = tcp
    with pytest.MonkeyPatch.context() as env:  # undone before the fixtures' teardown (which connects too)
        _test_tls_elsewhere(env, server, name, where, tmp_path)


def _test_tls_elsewhere(monkeypatch: pytest.MonkeyPatch, server: Any, name: str, where: str, tmp_path: Path) -> None:
    monkeypatch.setenv("PGSERVICEFILE", str(_service_file(tmp_path, server)))
    base = f"postgresql:///{name}?port={server.port}&user={pgserver.PASSWORD_ROLE}"
    url = {"PGHOSTADDR": base, "PGHOST": base, "PGSSLMODE": base + "&host=127.0.0.1", "PGSERVICE": f"postgresql:///{name}",
           "service": f"postgresql:///{name}?service=desk", "hostaddr": base + "&hostaddr=127.0.0.1"}[where]
    env = {"PGHOSTADDR": {"PGHOSTADDR": "127.0.0.1"}, "PGHOST": {"PGHOST": "127.0.0.1"},
           "PGSSLMODE": {"PGSSLMODE": "disable"}, "PGSERVICE": {"PGSERVICE": "desk"}}.get(where, {})
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(LedgerError) as caught:
        Ledger(url)
    assert caught.value.code == "ledger_open_failed"
    assert "root certificate" in str(caught.value.params["detail"]) or \
        "host name must be specified" in str(caught.value.params["detail"])  # verify-full with an address only
    verified = f"sslrootcert={server.ca}" + ("&sslmode=verify-ca" if "ADDR" in where.upper() else "")
    with Ledger(url + ("&" if "?" in url else "?") + verified, home=tmp_path) as ledger:
        assert _ssl_in_use(ledger)


def test_plaintext_only_when_every_host_is_a_socket(tcp: Any) -> None:
    """sslmode=disable is taken for a URL whose hosts are all socket paths; a socket host next to a TCP one, or a
    socket host with ?hostaddr= (which libpq then uses over TCP), is refused."""
    server, name = tcp
    sock = str(server.socket_dir)
    with Ledger(f"postgresql:///{name}?host={sock}&port={server.port}&user=postgres&sslmode=disable",
                anchored=False) as ledger:
        assert ledger.schema_version == len(MIGRATIONS)
    for hosts in (f"host={sock},127.0.0.1&port={server.port},{server.port}",
                  f"host={sock}&hostaddr=127.0.0.1&port={server.port}"):
        with pytest.raises(LedgerError) as caught:
            Ledger(f"postgresql:///{name}?{hosts}&user={pgserver.PASSWORD_ROLE}&sslmode=disable")
        assert caught.value.code == "ledger_tls_required"


SECRET = "s3cr3t-Hunter2"


@pytest.mark.parametrize("url", [
    f"postgresql://u:{SECRET[:4]}?{SECRET[5:]}@127.0.0.1/db",
    f"postgresql://u:{SECRET[:4]}#{SECRET[5:]}@127.0.0.1/db",
    f"postgresql://u:{SECRET[:4]}/{SECRET[5:]}@127.0.0.1/db",
    f"postgresql://u:{SECRET}@127.0.0.1/db?password=x",
    f"postgresql://127.0.0.1/db?PASSWORD={SECRET}",
    f"postgresql://127.0.0.1/db?pass%77ord={SECRET}&sslmode=require",
    f"postgresql://127.0.0.1/db?sslmode=require;password={SECRET}",
    f"postgresql://127.0.0.1/db?application_name=a;password={SECRET}",
    f"postgresql://u:{SECRET}@h1:5432,h2:5433/db",
    f"PostgreSQL://u:{SECRET}@127.0.0.1/db",
    f"postgresql:/u:{SECRET}@127.0.0.1/db",
])
def test_no_form_of_url_shows_its_password(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords with `?`, `#`, `/`, percent-encoded keys, `;password=`, a key in capitals, a mistyped scheme:
    neither `redact` nor any message refusing the URL prints any part of the secret (urlsplit read these
    otherwise than libpq does and printed them)."""
    monkeypatch.delenv(PLAINTEXT_OVERRIDE, raising=False)
    pieces = [SECRET[:4], SECRET[5:]] if SECRET not in url else [SECRET]
    shown = redact(url)
    assert not any(p in shown for p in pieces), shown
    with pytest.raises(LedgerError) as caught:
        Ledger(url, anchored=False)
    for lang in ("en", "ja"):
        assert not any(p in caught.value.message(lang) for p in pieces), caught.value.message(lang)


def test_redact_keeps_what_names_the_database() -> None:
    assert redact("postgresql://clerk@db.example.lg.jp:5433/ledger?sslrootcert=/etc/ca.crt&sslmode=verify-ca") == \
        "postgresql://clerk@db.example.lg.jp:5433/ledger?sslmode=verify-ca&sslrootcert=/etc/ca.crt"
    assert redact("postgresql://u:pw@h1:1,h2:2/d") == "postgresql://u:***@h1:1,h2:2/d"


def test_repeatable_read_by_default_keeps_one_chain(server: Any, tmp_path: Path) -> None:
    """GIVEN a database whose default isolation is REPEATABLE READ and a second desk waiting for the lock while the
    first appends THEN the second's entry follows the first's (its snapshot is taken after the lock: READ
    COMMITTED), the chain is not forked."""
    import psycopg

    url = server.fresh_database()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.replace(f"/{name}", "/postgres"), autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} SET default_transaction_isolation = 'repeatable read'".encode())
    with Ledger(url, anchored=False) as first, Ledger(url, anchored=False) as second:
        assert first.query("SHOW default_transaction_isolation")[0][0] == "repeatable read"
        first.set_setting("a", "b", "desk1")

        def other_desk() -> None:
            with second.transaction():
                second.audit("desk2", "test.second", "x")

        with first.transaction():
            first.audit("desk1", "test.first", "x")
            desk = threading.Thread(target=other_desk)
            desk.start()
            time.sleep(0.5)
        desk.join(10)
        assert first.verify_audit() is None
        assert [e.action for e in first.audit_entries()][-2:] == ["test.first", "test.second"]


@pytest.mark.slow
def test_a_stalled_desk_is_cut_off(server: Any, tmp_path: Path) -> None:
    """GIVEN a desk stopped (SIGSTOP) inside a write transaction THEN the server ends its session after
    idle_in_transaction_session_timeout (2 s here, 60 s by default) and another desk writes; the stalled desk's
    work is rolled back."""
    import os
    import signal
    import subprocess
    import sys

    if not hasattr(signal, "SIGSTOP"):
        pytest.skip("no SIGSTOP on this system")
    url = server.fresh_database()
    Ledger(url, anchored=False).close()
    child = subprocess.Popen([sys.executable, "-c", f"""
import os, signal
from paperlink.ledger import Ledger, dialect
dialect.IDLE_IN_TRANSACTION_SECONDS = 2
ledger = Ledger({url!r}, anchored=False)
with ledger.transaction():
    ledger.audit('deskA', 'test.stalled', 's')
    print('in', flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)
"""], stdout=subprocess.PIPE, text=True, encoding="utf-8", cwd=Path(__file__).parent.parent)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "in"
        with Ledger(url, anchored=False) as other:
            start = time.monotonic()
            with other.transaction():
                other.audit("deskB", "test.after", "s")
            assert time.monotonic() - start < 8
            assert [e.action for e in other.audit_entries()] == ["test.after"]
            assert other.verify_audit() is None
    finally:
        child.kill()  # SIGKILL; SIGTERM in the Windows look-alike, which a stopped process keeps pending…
        os.kill(child.pid, signal.SIGCONT)  # …until it runs again
        child.wait()


def test_keepalives_and_the_idle_timeout_are_set(server: Any) -> None:
    from paperlink.ledger.dialect import connection_settings

    settings = connection_settings(server.tcp_url("x"))
    assert {k: settings[k] for k in ("keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count")} == \
        {"keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10", "keepalives_count": "3"}
    with Ledger(server.fresh_database(), anchored=False) as ledger:
        assert ledger.query("SHOW idle_in_transaction_session_timeout")[0][0] == "1min"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_nested_transaction_is_refused_and_keeps_nothing(server: Any, tmp_path: Path, backend: str) -> None:
    """GIVEN a transaction opening another inside it THEN the inner one is refused with a code and the outer's work
    is rolled back (PostgreSQL's inner COMMIT used to commit the outer's first half)."""
    target = server.fresh_database() if backend == "postgresql" else tmp_path / "x.sqlite3"
    with Ledger(target, anchored=False) as ledger:
        before = ledger.audit_count()
        with pytest.raises(LedgerError) as caught, ledger.transaction():
            ledger.audit("x", "test.outer.first", "s")
            ledger.set_setting("k", "v", "x")
        assert caught.value.code == "ledger_nested_transaction"
        assert ledger.audit_count() == before and ledger.setting("k") is None
        ledger.set_setting("k", "v", "x")  # the connection is usable afterwards
        assert ledger.audit_count() == before + 1


def test_desks_opening_an_unmigrated_database_at_once_both_succeed(server: Any) -> None:
    """Four desks open a fresh database at the same moment: every one opens it (the version is read again under
    the lock, each migration applied once)."""
    url = server.fresh_database()
    barrier = threading.Barrier(4)
    results: list[str] = []

    def desk() -> None:
        barrier.wait()
        try:
            Ledger(url, anchored=False).close()
            results.append("ok")
        except LedgerError as exc:
            results.append(f"{exc.code}: {exc}")

    desks = [threading.Thread(target=desk) for _ in range(4)]
    for t in desks:
        t.start()
    for t in desks:
        t.join(60)
    assert results == ["ok"] * 4
    with Ledger(url, anchored=False) as ledger:
        assert [r[0] for r in ledger.query("SELECT version FROM paperlink_schema")] == [len(MIGRATIONS)]


@pytest.mark.parametrize("value", ["postgresql:/127.0.0.1/db", "postgres:127.0.0.1/db", "Postgresql//h/db",
                                   "postgresq://h/db", "mysql://h/db", "POSTGRESQL://u@h/db?sslmode=nonsense x"])
def test_a_mistyped_ledger_url_is_refused(value: str, runner: Any, home: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN PAPERLINK_LEDGER (or --ledger) that looks like a URL but is not a valid PostgreSQL one THEN every
    command refuses it with one line (`ledger_url_invalid`) and no SQLite file of that name is made."""
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(home)
    monkeypatch.setenv("PAPERLINK_LEDGER", value)
    result = runner("status")
    assert result.exit_code != 0 and "is not valid" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    monkeypatch.delenv("PAPERLINK_LEDGER")
    result = runner("--ledger", value, "status")
    assert result.exit_code != 0 and "is not valid" in result.output
    assert not [p for p in home.rglob("*") if p.name.endswith(("db", "db x"))]
    with pytest.raises(LedgerError) as caught:
        Ledger(value)
    assert caught.value.code == "ledger_url_invalid"


def test_the_scheme_in_capitals_is_a_url(server: Any) -> None:
    url = server.fresh_database().replace("postgresql://", "PostgreSQL://")
    with Ledger(url, anchored=False) as ledger:
        assert ledger.backend == "postgresql"
    assert Home(Path("/nonexistent"), url).ledger_target == url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_audit_action_filter_ignores_case_on_both_backends(server: Any, tmp_path: Path, backend: str) -> None:
    """`ENTRY` finds `entry.first` and `Entry.First` finds it too, on SQLite (whose LIKE ignores case) and on
    PostgreSQL (whose LIKE does not) alike."""
    from paperlink.ledger import audit

    target = server.fresh_database() if backend == "postgresql" else tmp_path / "x.sqlite3"
    with Ledger(target, anchored=False) as ledger:
        with ledger.transaction():
            ledger.audit("x", "entry.first", "s")
            ledger.audit("x", "entry.second", "s")
            ledger.audit("x", "entryway", "s")
        for wanted in ("ENTRY", "entry", "Entry.First"):
            found, _total = audit.search(ledger.db, action=wanted)
            assert sorted(e.action for e in found) == (["entry.first"] if "." in wanted
                                                       else ["entry.first", "entry.second"]), wanted
