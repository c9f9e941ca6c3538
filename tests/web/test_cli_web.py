"""The commands around the screen: users add, demo, serve's options."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperlink.ledger import Ledger
from paperlink.users import authenticate
from paperlink.web import SERVE_HOST
from tests.conftest import child_env, set_up_office


def test_users_add_with_password_file(runner, home: Path, tmp_path: Path, fast_passwords) -> None:
    """GIVEN a password file WHEN a clerk is added with two roles THEN they can log in with both roles."""
    secret = tmp_path / "pw.txt"
    secret.write_text("long-enough-1\n", "utf-8")
    result = runner("users", "add", "tanaka", "--name", "田中 花子", "--role", "entry", "--role", "review",
                    "--password-file", secret)
    assert result.exit_code == 0, result.output
    with Ledger(home / "ledger.sqlite3") as ledger:
        user = authenticate(ledger, "tanaka", "long-enough-1")
    assert user is not None and user.roles == {"entry", "review"}
    short = tmp_path / "short.txt"
    short.write_text("short\n", "utf-8")
    result = CliFail(runner("users", "add", "sato", "--name", "佐藤", "--role", "entry", "--password-file", short))
    assert result.failed and "at least 8" in result.output


class CliFail:
    def __init__(self, result) -> None:  # type: ignore[no-untyped-def]
        self.failed = result.exit_code != 0
        self.output = result.output


def test_demo_prepares_everything(runner, home: Path, fast_passwords) -> None:
    """GIVEN an empty data directory WHEN `paperlink demo --no-serve` THEN keys, demo clerks, the printed PDF and
    a registered batch of 12 notices; running it again changes nothing."""
    result = runner("demo", "--no-serve", "--count", "4")
    assert result.exit_code == 0, result.output
    assert "paperlink-demo" in result.output and (home / "demo" / "batch.pdf").exists()
    with Ledger(home / "ledger.sqlite3") as ledger:
        assert authenticate(ledger, "demo-review", "paperlink-demo") is not None
        assert ledger.query("SELECT COUNT(*) AS n FROM notices")[0]["n"] == 4
    again = runner("demo", "--no-serve")
    assert again.exit_code == 0 and "already printed" in again.output


def test_serve_binds_to_localhost_only(runner) -> None:
    """GIVEN serve's help WHEN read THEN there is a port option and no host option."""
    result = runner("serve", "--help")
    assert "--port" in result.output and "--host" not in result.output and "127.80.76.1" in result.output


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((SERVE_HOST, 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, seconds: float = 30.0) -> None:
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://{SERVE_HOST}:{port}/login", timeout=2) as answer:
                assert answer.status == 200
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.mark.slow
def test_serve_runs_on_waitress_and_a_second_start_says_already_running(home: Path) -> None:
    """GIVEN `paperlink serve` WHEN it runs THEN waitress serves on paperlink's loopback address (no development-server warning);
    a second start on the same port exits 1 with "already running at http://SERVE_HOST:PORT/"; Ctrl+C stops the first
    even though it was started with SIGINT ignored (as a background job of a script starts it)."""
    import signal
    import subprocess
    import sys
    import urllib.request

    port = _free_port()
    set_up_office(home / "ledger.sqlite3")  # `serve` refuses to run before the office is set up
    env = child_env(home)
    command = [sys.executable, "-m", "paperlink.cli", "serve", "--port", str(port)]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        _wait_for(port)
        with urllib.request.urlopen(f"http://{SERVE_HOST}:{port}/login", timeout=5) as answer:
            assert answer.headers["Server"] == "paperlink" and answer.headers["X-Paperlink"] == "entry-screen"
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert f"already running at http://{SERVE_HOST}:{port}/" in second.stderr
    finally:
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=30)  # a loaded CI machine can be slow to shut waitress down
    assert first.returncode == 0, err
    assert f"open http://{SERVE_HOST}:{port}/" in out
    for warning in ("development server", "WARNING: This is", "Do not use it in a production"):
        assert warning not in out + err
