"""Issue 13 (second pass): what a hostile client sends is bounded and answered, never a 500 or a lasting trace.

Huge ids on every `<int:…>` route, nested JSON, a tab-split `next=`, unbounded login fields, a password
typed into the name field, and sessions that outlive a new password or a deactivation.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from paperlink.ledger import Ledger
from paperlink.users import set_active, set_password
from tests.web.conftest import PASSWORD

HUGE_IDS = ["9223372036854775808", "99999999999999999999", "1" * 5000]


def _int_routes(app) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if any(isinstance(conv, IntegerConverter) for conv in rule._converters.values()):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule.rule, method))
    return out


def test_every_id_route_answers_404_for_ids_beyond_sqlite(app, client) -> None:
    routes = _int_routes(app)
    assert len(routes) >= 8, routes  # every <int:…> of the screen uses the bounded converter
    client.login("kanri")
    token = client.csrf()
    for rule, method in routes:
        for huge in HUGE_IDS:
            url = re.sub(r"<int:[a-z_]+>", huge, rule)
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code in (400, 404), (url, method, response.status_code)
            assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("body", ["[" * 60000, "[]", '"x"', '{"key": ["name"], "value": "A"}',
                                  '{"key": "name", "value": {"a": 1}}', "{" * 50000])
def test_nested_or_odd_json_to_entry_check_is_400(client, body: str) -> None:
    client.login("aoki")
    response = client.post("/entry/check", data=body, content_type="application/json",
                           headers={"X-CSRFToken": client.csrf()})
    assert response.status_code == 400
    assert response.get_json()["ok"] is False


def test_a_json_body_is_bounded(client) -> None:
    client.login("aoki")
    body = '{"key": "name", "value": "' + "A" * 200_000 + '"}'
    response = client.post("/entry/check", data=body, content_type="application/json",
                           headers={"X-CSRFToken": client.csrf()})
    assert response.status_code == 413 and response.get_json()["ok"] is False


@pytest.mark.parametrize("target", ["/\t/evil.example/", "/\n/evil.example/", "/\r\n/evil.example", "/\\evil.example",
                                    "\\/evil.example", " //evil.example", "/\x00/evil.example", "http://evil.example/"])
def test_next_is_normalised_before_it_is_checked(client, target: str) -> None:
    response = client.send("/login", {"login": "aoki", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil.example" not in location.replace("/board", ""), location
    assert not location.startswith("//")


def test_next_on_the_site_is_kept(client) -> None:
    response = client.send("/login", {"login": "aoki", "password": PASSWORD, "next": "/capture/files"})
    assert response.headers["Location"] == "/capture/files"


def test_unknown_login_names_are_not_kept(client, ledger: Ledger, home) -> None:
    """A password typed into the name field is not in the ledger; a megabyte of name does not grow it."""
    secret = "Tanaka-Secret-Passw0rd"
    assert client.login(secret, "whatever-1").status_code == 400
    entry = ledger.audit_entries()[-1]
    assert entry.action == "login.failed" and re.fullmatch(r"\?[0-9a-f]{12}", entry.actor)
    if ledger.backend != "sqlite":  # the rest reads the ledger file's bytes: on a server, its audit rows
        assert not any(secret.lower() in repr(e).lower() for e in ledger.audit_entries())
        return
    ledger.checkpoint()
    raw = (home / "ledger.sqlite3").read_bytes()
    assert secret.lower().encode() not in raw and secret.encode() not in raw
    size = (home / "ledger.sqlite3").stat().st_size
    for _ in range(5):
        response = client.login("x" * 1_000_000, "y" * 1_000_000)
        assert response.status_code in (400, 413)
    ledger.checkpoint()
    assert (home / "ledger.sqlite3").stat().st_size - size < 64 * 1024


def test_unknown_names_are_still_throttled(client, ledger: Ledger) -> None:
    for _ in range(5):
        assert client.login("nosuchclerk", "wrong-password").status_code == 400
    assert client.login("nosuchclerk", "wrong-password").status_code == 429
    actors = {e.actor for e in ledger.audit_entries() if e.action.startswith("login.")}
    assert all("nosuchclerk" not in actor for actor in actors)


def test_a_new_password_ends_open_sessions(client, app, ledger: Ledger) -> None:
    assert client.login("aoki").status_code == 302
    assert client.get("/board").status_code == 200
    set_password(ledger, "aoki", "another-password-2", actor="kanri")
    response = client.get("/board")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.login("aoki", "another-password-2").status_code == 302
    assert client.get("/board").status_code == 200


def test_deactivation_ends_open_sessions_for_good(client, ledger: Ledger) -> None:
    assert client.login("aoki").status_code == 302
    set_active(ledger, "aoki", False, actor="kanri")
    assert client.get("/board").status_code == 302
    set_active(ledger, "aoki", True, actor="kanri")  # reactivated: the old session does not come back
    response = client.get("/board")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_cli_password_and_deactivate_end_sessions(client, runner, home) -> None:
    assert client.login("baba").status_code == 302
    out = runner("--home", home, "users", "password", "baba", input="new-password-3\nnew-password-3\n")
    assert out.exit_code == 0, out.output
    assert client.get("/board").status_code == 302
    assert client.login("miru").status_code == 302
    assert runner("--home", home, "users", "deactivate", "miru").exit_code == 0
    assert client.get("/board").status_code == 302
