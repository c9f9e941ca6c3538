"""Issue 12, point 12: no English in the Japanese screens. Every page a clerk can open – each in the states
that change what it shows – and every error page (400, 403, 404, 405, 413, 500) is walked; its visible text
may hold Latin letters only in an allow-list (product and format names, keys) or in data (ids, logins,
names and other values of the notices in the ledger)."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from paperlink.doubleentry import flatten
from paperlink.payload import SheetPayload
from tests.web.test_confirm_entry import _form, _register

pytestmark = pytest.mark.slow

ALLOWED = {
    "paperlink", "PDF", "CSV", "JSONL", "QR", "Enter", "Alt", "Ctrl", "PNG", "JPEG", "TIFF", "MB", "UTF",
    "Shift_JIS", "cp932", "SHA", "USB", "ID", "exports", "scans", "quarantine", "B20261126", "R8", "to",
    "IME", "PC", "keys", "trust",
}
"""Words that are names, not English sentences: product, formats, keys, folder names, date examples, the
command a message tells the administrator to run (`paperlink keys trust`)."""


class _Text(HTMLParser):
    """The visible text of a page (no tags, no attributes, no script or style), plus the <title>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:  # what a clerk reads in attributes: placeholders, tooltips, alt texts
            if name in ("placeholder", "title", "alt", "aria-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def english_words(html: str, data_words: set[str]) -> set[str]:
    parser = _Text()
    parser.feed(html)
    words = set(re.findall(r"[A-Za-z][A-Za-z_]+", " ".join(parser.parts)))
    return {w for w in words if w not in ALLOWED and w not in data_words}


def _data_words(ledger: Any) -> set[str]:
    """Every Latin word of the ledger's data: notice records, ids, logins, file and batch names."""
    words: set[str] = set()
    texts: list[str] = []
    for row in ledger.query("SELECT notice_id, batch_id, record_json FROM notices"):
        texts += [row["notice_id"] or "", row["batch_id"]]
        if row["record_json"]:
            texts += [str(v) for v in flatten(json.loads(row["record_json"])).values() if v]
    texts += [r["login"] for r in ledger.query("SELECT login FROM users")]
    texts += [r["file_name"] for r in ledger.query("SELECT file_name FROM exports")]
    texts += [r["actor"] + " " + r["subject"] for r in ledger.query("SELECT actor, subject FROM audit")]
    texts += [r["source"] for r in ledger.query("SELECT source FROM captures")]
    for r in ledger.query("SELECT payload FROM captures WHERE payload LIKE 'PL1:%'"):
        texts += [str(v) for v in flatten(SheetPayload.from_text(r["payload"]).notice.record()).values() if v]
    for text in texts:
        words.update(re.findall(r"[A-Za-z][A-Za-z_]+", text))
    return words


@pytest.fixture
def busy(client, printed, ledger, stranger, app) -> dict[str, Any]:
    """A ledger with every kind of page to show: a batch with a confirmed, a read, a typed-once and a
    mismatched notice, a rejected capture, a manual batch done, an export."""
    from paperlink.users import add_user

    add_user(ledger, "sato", "佐藤", {"entry", "review", "admin"}, "correct-horse-1", actor="test")
    client.login("aoki")
    _register(client, printed, (0, 1))
    client.send("/capture/wedge", {"code": stranger.sheet_texts[0]})
    client.send("/capture/files", {"files": [(io.BytesIO(b"not a scan"), "memo.txt")]},
                content_type="multipart/form-data")
    rows = {r["seq"]: r["id"] for r in ledger.query("SELECT id, seq FROM notices WHERE batch_id = ?",
                                                      (printed.result.batch_id,))}
    client.send(f"/notice/{rows[1]}/confirm")
    client.send(f"/entry/{rows[3]}", _form(printed.notices[2]))
    manual = client.send("/entry/new").location.rsplit("/", 1)[1]
    client.send(f"/entry/{manual}", _form(printed.notices[0]))
    client.send("/logout")
    client.login("baba")
    client.send(f"/entry/{manual}", _form(printed.notices[0], address=printed.notices[0].address + "1"))
    client.send(f"/entry/{manual}/resolve", {"address": "x"})
    client.send("/logout")
    captures = {r["outcome"]: r["id"] for r in ledger.query("SELECT id, outcome FROM captures")}
    return {"rows": rows, "manual": int(manual), "rejected": captures["rejected"], "new": captures["new"]}


def test_every_page_is_japanese(client, busy, ledger, printed) -> None:
    client.login("sato")  # 入力・審査・管理: every menu and every button
    rows = busy["rows"]
    pages = [
        "/login", "/board", "/capture/camera", "/capture/files", "/capture/wedge", "/entry/",
        f"/notice/{rows[1]}", f"/notice/{rows[2]}", f"/notice/{rows[2]}?from=camera&read=duplicate",
        f"/entry/{rows[3]}", f"/entry/{busy['manual']}/resolve", f"/capture/{busy['rejected']}",
        "/export/", "/audit/", "/audit/?action=entry", "/audit/settings",
    ]
    visited_endpoints = set()
    data_words = _data_words(ledger)
    found: dict[str, set[str]] = {}
    for url in pages:
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        visited_endpoints.add(response.request.path)
        words = english_words(response.get_data(as_text=True), data_words)
        if words:
            found[url] = words
    # the export confirm step, the files result table, the scanner's error
    for response in (client.send("/export/", {"format": "jsonl", "batch": busy and printed.result.batch_id}),
                     client.send("/capture/files", {"files": [(io.BytesIO(printed.pages[1]), "p.png")]},
                                 content_type="multipart/form-data"),
                     client.send("/capture/wedge", {"code": "hello world"})):
        words = english_words(response.get_data(as_text=True), _data_words(ledger))
        if words:
            found[response.request.path + " (POST)"] = words
    assert not found, f"English outside the allow-list: {found}"


def test_every_error_page_is_japanese(app, client, ledger) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.config["MAX_CONTENT_LENGTH"] = 1024

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("an unexpected failure")

    client.login("aoki")
    data_words = _data_words(ledger)
    responses = {
        400: client.post("/entry/check", data="{", headers={"X-CSRFToken": client.csrf(),
                                                            "Content-Type": "application/x-www-form-urlencoded"}),
        403: client.get("/audit/"),
        404: client.get("/no/such/page"),
        405: client.get("/entry/new"),
        413: client.send("/export/", {"x": "y" * 4096}),
        500: client.get("/boom"),
    }
    page_400 = client.post("/capture/wedge", data={"code": "x"})  # no CSRF token: the 400 page
    assert page_400.status_code == 400 and "<h1>" in page_400.get_data(as_text=True)
    assert not english_words(page_400.get_data(as_text=True), data_words)
    for status, response in responses.items():
        assert response.status_code == status, (status, response.status_code)
        text = response.get_json()["error"] if response.is_json else response.get_data(as_text=True)
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text), status
        assert not english_words(text, data_words), (status, english_words(text, data_words))
