"""Fixtures of the entry screen's tests: an app over a temp data directory with a key pair and clerks,
a CSRF-aware test client, and a small batch printed once and rendered to real page images."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

import paperlink.users
from paperlink.ledger import Ledger
from paperlink.notice import Notice
from paperlink.printing import PrintResult, print_batch
from paperlink.samples import SampleOptions, generate
from paperlink.users import add_user
from paperlink.web import create_app

PASSWORD = "correct-horse-1"
CLERKS = {"aoki": ("青木", {"entry"}), "baba": ("馬場", {"entry", "review"}), "kanri": ("管理者", {"admin"}),
          "miru": ("審査のみ", {"review"})}


@dataclass(frozen=True)
class Printed:
    """A batch printed once per test session: its notices, the PDF, and every page as a PNG."""

    notices: list[Notice]
    result: PrintResult
    pages: list[bytes]
    key: Ed25519PrivateKey

    @property
    def sheet_texts(self) -> list[str]:
        return [spec.qr_texts[0] for spec in self.result.sheets]

    @property
    def cover_texts(self) -> list[str]:
        assert self.result.cover is not None
        return list(self.result.cover.manifest_qr_texts)


def _pages(pdf: bytes, dpi: int) -> list[bytes]:
    import pypdfium2 as pdfium

    out = []
    document = pdfium.PdfDocument(pdf)
    for index in range(len(document)):
        image = document[index].render(scale=dpi / 72, grayscale=True).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        out.append(buffer.getvalue())
    document.close()
    return out


@pytest.fixture(scope="session")
def printed() -> Printed:
    """Three notices printed with a key of their own (cover + 3 sheets), pages rendered at 150 dpi."""
    key = Ed25519PrivateKey.generate()
    notices = generate(SampleOptions(count=3, seed=11, notice_date=dt.date(2026, 11, 26)))
    result = print_batch(notices, key, printed_on=dt.date(2026, 11, 26))
    return Printed(notices, result, _pages(result.pdf, 150), key)


@pytest.fixture(scope="session")
def stranger() -> Printed:
    """One notice printed by a print side whose key this entry side does not trust."""
    key = Ed25519PrivateKey.generate()
    notices = generate(SampleOptions(count=1, seed=5, notice_date=dt.date(2026, 11, 26)))
    result = print_batch(notices, key, printed_on=dt.date(2026, 11, 26))
    return Printed(notices, result, [], key)


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt with a small cost factor: the tests log in often."""
    monkeypatch.setattr(paperlink.users, "_SCRYPT", {"n": 2**8, "r": 8, "p": 1})


class Client(FlaskClient):
    """A test client that knows the CSRF token of its session and can log in."""

    def csrf(self) -> str:
        page = self.get("/login").get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match, "no csrf meta tag"
        return match.group(1)

    def send(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """POST a form with the session's CSRF token."""
        form = dict(data or {})
        form["csrf_token"] = self.csrf()
        return self.post(url, data=form, **kwargs)

    def send_json(self, url: str, payload: dict[str, Any]) -> Any:
        return self.post(url, json=payload, headers={"X-CSRFToken": self.csrf()})

    def login(self, login: str, password: str = PASSWORD) -> Any:
        return self.send("/login", {"login": login, "password": password})


@pytest.fixture
def app(home: Path, printed: Printed) -> Iterator[Flask]:
    """The app over a fresh data directory: the printed batch's key pair, and four clerks."""
    keys = home / "keys"
    keys.mkdir(parents=True, mode=0o700)
    (keys / "signing-key.pem").write_bytes(printed.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (keys / "signing-key.pub.pem").write_bytes(printed.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with Ledger(home / "ledger.sqlite3") as ledger:
        for login, (name, roles) in CLERKS.items():
            add_user(ledger, login, name, roles, PASSWORD, actor="test")
    application = create_app({"HOME": str(home), "TESTING": True})
    application.test_client_class = Client
    yield application


@pytest.fixture
def client(app: Flask) -> Client:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def ledger(home: Path) -> Iterator[Ledger]:
    """A second connection to the app's ledger, for checking what the screen did."""
    with Ledger(home / "ledger.sqlite3") as opened:
        yield opened


@pytest.fixture
def state(ledger: Ledger) -> Any:
    """state(): rows in the tables that hold notices and their verification (not the capture log)."""

    def read() -> dict[str, Any]:
        out: dict[str, Any] = {table: ledger.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
                               for table in ("batches", "notices", "entries", "verifications", "exports")}
        out["states"] = [tuple(r) for r in ledger.query("SELECT batch_id, seq, state FROM notices ORDER BY id")]
        return out

    return read


@pytest.fixture
def row_of(ledger: Ledger) -> Any:
    """row_of(seq): the notice row id of a sequence number (first batch)."""
    return lambda seq: int(ledger.query("SELECT id FROM notices WHERE seq = ? ORDER BY id", (seq,))[0]["id"])


def jpeg(png: bytes, width: int | None = None) -> bytes:
    """A page image as a JPEG (optionally scaled), like a camera frame."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    if width:
        image = image.resize((width, round(image.height * width / image.width)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def to_jpeg() -> Any:
    return jpeg
