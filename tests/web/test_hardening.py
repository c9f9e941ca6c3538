"""Web hardening: host check (DNS rebinding), cookies, idle timeout, login throttling, headers, paths."""

from __future__ import annotations

import time

import pytest

from tests.web.conftest import PASSWORD


def test_foreign_host_header_is_refused(client) -> None:
    """GIVEN a page on evil.example whose name resolves to 127.0.0.1 WHEN it calls the server THEN 400."""
    assert client.get("/login", headers={"Host": "evil.example:8765"}).status_code == 400
    assert client.get("/login", headers={"Host": "127.0.0.1:8765"}).status_code == 200
    assert client.get("/login", headers={"Host": "localhost:8765"}).status_code == 200


def test_session_cookie_is_httponly_and_strict(client) -> None:
    response = client.login("aoki")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_security_headers_and_csp_without_inline_script(client) -> None:
    headers = client.get("/login").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    page = client.get("/login").get_data(as_text=True)
    assert "<script>" not in page and "onclick=" not in page


def test_idle_session_is_ended(client, monkeypatch) -> None:
    client.login("aoki")
    assert client.get("/board").status_code == 200
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 21 * 60)
    response = client.get("/board")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get("/login").get_data(as_text=True)
    assert "操作がなかったため" in page


def test_login_is_throttled_after_repeated_failures(client, ledger) -> None:
    for _ in range(5):
        assert client.login("aoki", "wrong-password").status_code == 400
    locked = client.login("aoki", PASSWORD)
    assert locked.status_code == 429 and "ロック" in locked.get_data(as_text=True)
    actions = [e.action for e in ledger.audit_entries() if e.actor == "aoki"]
    assert actions.count("login.failed") == 5 and "login.locked" in actions
    assert client.login("baba").status_code == 302  # other clerks are not affected


@pytest.mark.parametrize("name", ["..%2Fledger.sqlite3", "secret_key", "%2E%2E%2Fsecret_key", "nothing.jsonl"])
def test_downloads_only_serve_recorded_exports(client, name: str) -> None:
    client.login("baba")
    assert client.get(f"/export/files/{name}").status_code == 404


def test_csrf_token_is_required_for_every_post(client) -> None:
    client.login("aoki")
    for url in ("/logout", "/capture/wedge", "/entry/new", "/capture/folder"):
        assert client.post(url, data={}).status_code == 400, url
