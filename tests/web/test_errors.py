"""The entry screen's one handler for core errors, and its Japanese pages for HTTP errors: a clerk never
sees an English message or a traceback."""

from __future__ import annotations

from flask import Flask, abort

from paperlink.keys import KeyMissing
from paperlink.web import ERROR_PAGES_JA


def _add_failing_views(app: Flask) -> None:
    """Views that fail the way a view that does not catch a core error would."""

    def core_error() -> str:
        raise KeyMissing("key_missing", dir="/srv/paperlink/keys")

    def own_message() -> str:
        abort(400, "バッチ番号を選んでください。")

    def plain_bad_request() -> str:
        abort(400)

    app.add_url_rule("/test/core-error", view_func=core_error)
    app.add_url_rule("/test/own-message", view_func=own_message)
    app.add_url_rule("/test/bad-request", view_func=plain_bad_request)


def test_a_core_error_is_its_japanese_message_on_the_error_page(app: Flask) -> None:
    """GIVEN a view that lets a PaperlinkError through WHEN opened THEN 400 and the error page with the
    catalogue's Japanese message, not the English one."""
    _add_failing_views(app)
    response = app.test_client().get("/test/core-error")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="error-message"' in page
    assert "/srv/paperlink/keys に署名鍵がありません。先に「paperlink keys init」を実行してください" in page
    assert "no signing key" not in page and "Traceback" not in page


def test_a_core_error_in_a_fetch_call_is_japanese_json(app: Flask) -> None:
    """GIVEN the same failure in a fetch() call (JSON) WHEN posted THEN 400 and {"ok": false, "error": 日本語}."""
    _add_failing_views(app)
    response = app.test_client().get("/test/core-error", json={"key": "value"})
    assert response.status_code == 400 and response.is_json
    data = response.get_json()
    assert data["ok"] is False
    assert data["error"] == KeyMissing("key_missing", dir="/srv/paperlink/keys").message_ja


def test_http_errors_have_japanese_pages(app: Flask, client) -> None:
    """400 with a message of its own keeps it; a bare 400 and a 405 get a Japanese sentence."""
    _add_failing_views(app)
    own = client.get("/test/own-message")
    assert own.status_code == 400 and "バッチ番号を選んでください。" in own.get_data(as_text=True)
    bare = client.get("/test/bad-request")
    assert bare.status_code == 400 and ERROR_PAGES_JA[400] in bare.get_data(as_text=True)
    wrong_method = client.send("/board")
    assert wrong_method.status_code == 405 and ERROR_PAGES_JA[405] in wrong_method.get_data(as_text=True)
    assert "GET" in wrong_method.headers["Allow"]
    for response in (bare, wrong_method):
        assert "The browser" not in response.get_data(as_text=True)
        assert "Method Not Allowed" not in response.get_data(as_text=True)


def test_every_error_page_message_is_japanese() -> None:
    assert set(ERROR_PAGES_JA) == {400, 405, 500}
    assert all(not message.isascii() for message in ERROR_PAGES_JA.values())
