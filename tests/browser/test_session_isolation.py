"""The session cookie stays with the entry screen: other local servers never receive it (issue 13, item 8).

`paperlink serve` runs as a real process on its own loopback address (SERVE_HOST); Debian's Chromium logs in
there; spy servers on 127.0.0.1 and localhost (other ports) record every Cookie header they are sent. For
contrast, the same login on a screen served on 127.0.0.1 – as before – hands the cookie to a spy on another port.
"""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from paperlink.ledger import Ledger
from paperlink.users import add_user
from paperlink.web import SERVE_HOST, create_app
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import child_env, set_up_office

PASSWORD = "correct-horse-1"


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def spy(host: str) -> Iterator[tuple[int, list[str]]]:
    """An HTTP server on `host` and a free port that records the Cookie header of every request."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Cookie", ""))
            body = f'<a id="go" href="{self.server.link}">go</a>'.encode()  # type: ignore[attr-defined]
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    server.link = "/"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
        server.link = ""  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def served(home: Path) -> Iterator[str]:
    """`paperlink serve` as a process; yields its URL once it answers."""
    port = _free_port(SERVE_HOST)
    env = child_env(home)
    process = subprocess.Popen([sys.executable, "-m", "paperlink.cli", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection((SERVE_HOST, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("paperlink serve did not start")
        yield f"http://{SERVE_HOST}:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def office(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    with Ledger(home / "ledger.sqlite3") as ledger:
        add_user(ledger, "aoki", "青木", {"entry"}, PASSWORD, actor="test")
    set_up_office(home / "ledger.sqlite3")  # `serve` refuses to run before the office is set up
    return home


@pytest.fixture
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _login(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("input[name=login]", "aoki")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/board")


def test_other_local_ports_never_receive_the_session_cookie(office: Path, chromium) -> None:  # type: ignore[no-untyped-def]
    context = chromium.new_context()
    page = context.new_page()
    with served(office) as base:
        _login(page, base)
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["paperlink_session"]["domain"] == SERVE_HOST
        # a loopback address of its own is still a secure context: the camera page works
        assert page.evaluate("window.isSecureContext && !!navigator.mediaDevices")
        with spy("127.0.0.1") as (port, seen_ip):
            page.goto(f"http://127.0.0.1:{port}/")
            page.goto(f"http://localhost:{port}/")
            assert seen_ip and all("paperlink_session" not in c for c in seen_ip), seen_ip
        # a listener on the screen's own address, reached by a link from another site: SameSite=Strict keeps the
        # cookie off that navigation (what the landed page then loads from its own host is same-site and does
        # carry it – the residual risk security.md names)
        with spy(SERVE_HOST) as (own_port, seen_own), spy("127.0.0.1") as (lure_port, _lure):
            page.goto(f"http://127.0.0.1:{lure_port}/")
            page.evaluate(f"document.getElementById('go').href = 'http://{SERVE_HOST}:{own_port}/'")
            page.click("#go")
            page.wait_for_url(f"http://{SERVE_HOST}:{own_port}/")
            assert seen_own and "paperlink_session" not in seen_own[0], seen_own
        page.goto(f"{base}/board")
        assert page.url == f"{base}/board"  # still logged in: nothing above disturbed the session
    context.close()


def test_on_127_0_0_1_the_cookie_went_to_every_port(office: Path, chromium) -> None:  # type: ignore[no-untyped-def]
    """Why: a screen on 127.0.0.1 (as before) – a spy on another port of 127.0.0.1 receives the cookie."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, create_app({"HOME": str(office)}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = chromium.new_context()
    page = context.new_page()
    try:
        _login(page, f"http://127.0.0.1:{server.server_port}")
        with spy("127.0.0.1") as (port, seen):
            page.goto(f"http://127.0.0.1:{port}/")
        assert any("paperlink_session" in c for c in seen)
    finally:
        context.close()
        server.shutdown()
