"""Security defaults: login required, CSRF on every form and fetch, cookie flags, headers, roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperlink.web import CSP
from tests.windows_lookalike import assert_owner_only


def test_every_page_needs_a_login(client) -> None:
    """GIVEN nobody logged in WHEN any page is opened THEN the login page is shown instead."""
    for url in ("/", "/board", "/capture/camera", "/capture/files", "/capture/wedge", "/entry/", "/export/",
                "/audit/", "/notice/1", "/image/1.jpg"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 302, url
        assert "/login" in response.location or response.location == "/board"


def test_posts_need_a_login(client) -> None:
    """GIVEN nobody logged in WHEN a frame is posted with a valid token THEN 401 and nothing is decoded."""
    response = client.post("/capture/frame", data=b"x", headers={"X-CSRFToken": client.csrf(),
                                                                 "Content-Type": "image/jpeg"})
    assert response.status_code == 401


def test_login_and_logout(client) -> None:
    """GIVEN a clerk WHEN logging in THEN the board shows their name; logging out ends the session."""
    response = client.login("aoki")
    assert response.status_code == 302 and response.location.endswith("/board")
    assert "青木" in client.get("/board").get_data(as_text=True)
    client.send("/logout")
    assert client.get("/board").status_code == 302


def test_wrong_password_is_refused_in_japanese(client, ledger) -> None:
    """GIVEN a wrong password WHEN logging in THEN a Japanese message, no session, and the failure is audited."""
    response = client.login("aoki", "wrong-password")
    assert response.status_code == 400
    assert "ログイン名またはパスワードが違います" in response.get_data(as_text=True)
    assert client.get("/board").status_code == 302
    assert ledger.audit_entries()[-1].action == "login.failed"


def test_open_redirect_is_ignored(client) -> None:
    """GIVEN a next= pointing elsewhere WHEN logging in THEN the clerk lands on the board."""
    response = client.send("/login", {"login": "aoki", "password": "correct-horse-1", "next": "//evil.example/"})
    assert response.location.endswith("/board")


@pytest.mark.parametrize("url", ["/login", "/capture/wedge", "/entry/new", "/export/"])
def test_forms_without_csrf_token_are_rejected(client, url, state) -> None:
    """GIVEN a logged-in clerk WHEN a form is posted without the CSRF token THEN 400 in Japanese, no change."""
    client.login("baba")
    before = state()
    response = client.post(url, data={"login": "baba", "password": "x", "code": "PL1:XXX"})
    assert response.status_code == 400
    assert "ページを再読み込み" in response.get_data(as_text=True)
    assert state() == before


def test_fetch_without_csrf_header_is_rejected(client) -> None:
    """GIVEN a logged-in clerk WHEN a camera frame or a field check is posted without the header THEN 400."""
    client.login("aoki")
    assert client.post("/capture/frame", data=b"\xff\xd8", content_type="image/jpeg").status_code == 400
    assert client.post("/entry/check", json={"key": "sex", "value": "M"}).status_code == 400


def test_security_headers_and_cookie(client) -> None:
    """GIVEN any page WHEN served THEN a strict CSP (scripts from self only) and an HttpOnly, SameSite=Strict cookie."""
    response = client.get("/login")
    assert response.headers["Content-Security-Policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "<script>" not in response.get_data(as_text=True)


def test_secret_key_is_generated_once_owner_only(app, home: Path) -> None:
    """GIVEN a new data directory WHEN the app starts THEN secret_key exists with mode 0600 and is reused."""
    from paperlink.web import create_app

    path = home / "secret_key"
    assert_owner_only(path, 0o600)
    assert create_app({"HOME": str(home)}).config["SECRET_KEY"] == app.config["SECRET_KEY"]


@pytest.mark.parametrize(("login", "url", "allowed"), [
    ("miru", "/capture/camera", False), ("miru", "/entry/", False), ("aoki", "/export/", False),
    ("aoki", "/audit/", False), ("aoki", "/audit/settings", False), ("baba", "/audit/settings", False),
    ("baba", "/export/", True), ("baba", "/audit/", True), ("kanri", "/audit/settings", True),
    ("kanri", "/capture/camera", True),
])
def test_role_checks(client, login, url, allowed) -> None:
    """GIVEN clerks with different roles WHEN they open a page THEN only the right roles get it (403 in Japanese)."""
    client.login(login)
    response = client.get(url)
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert "権限" in response.get_data(as_text=True)
