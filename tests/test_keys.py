"""Keys: created in the data directory, private key owner-only, exported and trusted by fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperlink.home import Home
from paperlink.keys import KeyExists, KeyFileInvalid, KeyMissing, KeyStore, fingerprint, key_id
from tests.windows_lookalike import assert_owner_only


def test_init_creates_owner_only_private_key(home: Path) -> None:
    store = KeyStore(Home(home).ensure())
    public = store.init()
    assert_owner_only(store.signing_path, 0o600)
    assert_owner_only(store.dir, 0o700)
    assert store.signing_key().public_key() == public
    assert key_id(public) in store.trusted()


def test_init_never_overwrites(home: Path) -> None:
    store = KeyStore(Home(home).ensure())
    store.init()
    before = store.signing_path.read_bytes()
    with pytest.raises(KeyExists):
        store.init()
    assert store.signing_path.read_bytes() == before


def test_missing_and_broken_keys_are_clear(home: Path) -> None:
    store = KeyStore(Home(home).ensure())
    with pytest.raises(KeyMissing, match="paperlink keys init"):
        store.signing_key()
    store.dir.mkdir()
    store.signing_path.write_text("not a key")
    with pytest.raises(KeyFileInvalid, match=r"signing-key\.pem"):
        store.signing_key()


def test_export_then_trust_on_another_pc(tmp_path: Path) -> None:
    printer, entry = KeyStore(Home(tmp_path / "print").ensure()), KeyStore(Home(tmp_path / "entry").ensure())
    public = printer.init()
    shown_there = printer.export(tmp_path / "pub.pem")
    shown_here = entry.trust(tmp_path / "pub.pem")
    assert shown_there == shown_here == fingerprint(public)
    assert len(shown_here.split()) == 10
    assert list(entry.trusted()) == [key_id(public)]
    assert b"PRIVATE" not in (tmp_path / "pub.pem").read_bytes()


def test_trusting_a_private_key_or_garbage_fails(tmp_path: Path) -> None:
    store = KeyStore(Home(tmp_path / "h").ensure())
    store.init()
    with pytest.raises(KeyFileInvalid, match="not a PEM public key"):
        store.trust(store.signing_path)
    with pytest.raises(KeyFileInvalid, match="cannot read"):
        store.trust(tmp_path / "missing.pem")


def test_cli_keys_round_trip(runner, tmp_path: Path) -> None:
    result = runner("--home", tmp_path / "p", "keys", "init")
    assert result.exit_code == 0 and "fingerprint:" in result.stdout
    again = runner("--home", tmp_path / "p", "keys", "init")
    assert again.exit_code == 1 and "exists already" in again.stderr
    exported = runner("--home", tmp_path / "p", "keys", "export", "-o", tmp_path / "k.pem")
    trusted = runner("--home", tmp_path / "e", "keys", "trust", tmp_path / "k.pem")
    fp = exported.stdout.split("fingerprint: ")[1].strip()
    assert trusted.exit_code == 0 and fp in trusted.stdout


def test_no_key_is_ever_committed() -> None:
    import subprocess

    root = Path(__file__).resolve().parent.parent
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.split()
    for name in tracked:
        path = root / name
        if path.is_file() and path.suffix in (".pem", ".key", ""):
            assert b"PRIVATE KEY" not in path.read_bytes(), name
