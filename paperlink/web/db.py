"""The ledger of the app's data directory, one connection per request (Flask tutorial's db.py pattern)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask, current_app, g

from paperlink.home import Home
from paperlink.keys import KeyStore
from paperlink.ledger import Ledger


def home() -> Home:
    """The data directory of this app."""
    return Home(Path(current_app.config["HOME"]), current_app.config.get("LEDGER"))


def get_ledger() -> Ledger:
    """The request's ledger connection (opened on first use, closed at teardown)."""
    if "ledger" not in g:
        g.ledger = Ledger.of(home())
    ledger: Ledger = g.ledger
    return ledger


def trusted() -> dict[bytes, Ed25519PublicKey]:
    """The public keys this entry side trusts."""
    return KeyStore(home()).trusted()


def captures_dir() -> Path:
    """Where page images and camera snapshots of captures are kept (captures/<capture id>.jpg)."""
    path = home().root / "captures"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def exports_dir() -> Path:
    """Where exported files are written."""
    path = home().root / "exports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def close_ledger(_error: BaseException | None = None) -> None:
    """Close the request's ledger, if one was opened."""
    ledger = g.pop("ledger", None)
    if ledger is not None:
        ledger.close()


def init_app(app: Flask) -> None:
    """Register the teardown that closes the ledger, and create it once so migrations run at start."""
    app.teardown_appcontext(close_ledger)
    with app.app_context():
        Ledger.of(home()).close()
