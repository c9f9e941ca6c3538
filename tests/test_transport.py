"""Patterns 1 and 2: the shared folder and USB bundles, with faults injected; nothing lost, nothing twice."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.bundle import BundleError, media_register, read_bundle, seal, write_bundle
from paperlink.dataformat import dumps_notices, write_notices
from paperlink.export import export
from paperlink.failpoints import KILLED_RETURNCODE
from paperlink.intake import OFFICE_MUNICIPALITY_SETTING
from paperlink.keys import key_id
from paperlink.ledger import Ledger
from paperlink.samples import SampleOptions, generate
from paperlink.sharedfolder import Receiver, send
from paperlink.transport import TransportError, sign_manifest
from tests.conftest import child_env, set_up_office, trusting_home

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
NOTICES = generate(SampleOptions(count=25, seed=31, notice_date=dt.date(2026, 11, 26)))
PASS = "kasumigaseki-2026-usb"


@pytest.fixture
def ledger(home: Path):
    with Ledger(home / "ledger.sqlite3") as led:
        led.set_setting(OFFICE_MUNICIPALITY_SETTING, "131016", "test")
        yield led


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "link"
    path.mkdir()
    return path


def count(ledger: Ledger) -> int:
    return int(ledger.query("SELECT COUNT(*) FROM notices")[0][0])


def test_send_receive_export_round_trip(ledger: Ledger, folder: Path, tmp_path: Path) -> None:
    """GIVEN samples sent to the folder WHEN received and exported THEN the export equals the input file."""
    manifest = send(NOTICES, folder, KEY, "B20261126-AAAA")
    assert sorted(p.name for p in folder.iterdir()) == ["B20261126-AAAA.jsonl", "B20261126-AAAA.manifest.json"]
    (result,) = Receiver(folder, ledger, TRUSTED).receive_once()
    assert (result.outcome, result.count) == ("imported", 25)
    assert sorted(p.name for p in (folder / "done").iterdir()) == ["B20261126-AAAA.jsonl", "B20261126-AAAA.manifest.json"]
    export(ledger, None, tmp_path / "out.jsonl", "jsonl", "clerk")
    assert (tmp_path / "out.jsonl").read_bytes() == dumps_notices(NOTICES)
    assert manifest.count == 25


def test_bundle_unbundle_export_round_trip(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "usb" / "batch.plb"
    path.parent.mkdir()
    write_bundle(ledger, NOTICES, path, "B20261126-BBBB", KEY, PASS, "sato")
    assert b"NGUYEN" not in path.read_bytes() and "ベトナム".encode() not in path.read_bytes()
    set_up_office(tmp_path / "entry.sqlite3")
    with Ledger(tmp_path / "entry.sqlite3") as entry:
        result = read_bundle(entry, path, PASS, TRUSTED, "tanaka")
        assert (result.outcome, result.count) == ("imported", 25)
        again = read_bundle(entry, path, PASS, TRUSTED, "tanaka")
        assert again.outcome == "duplicate" and count(entry) == 25
        export(entry, None, tmp_path / "out.jsonl", "jsonl", "tanaka")
        assert [(r.direction, r.clerk) for r in media_register(entry)] == [("in", "tanaka"), ("in", "tanaka")]
    assert (tmp_path / "out.jsonl").read_bytes() == dumps_notices(NOTICES)
    assert [(r.direction, r.clerk, r.count) for r in media_register(ledger)] == [("out", "sato", 25)]


def test_same_batch_twice_is_imported_once(ledger: Ledger, folder: Path) -> None:
    send(NOTICES, folder, KEY, "B20261126-CCCC")
    Receiver(folder, ledger, TRUSTED).receive_once()
    send(NOTICES, folder, KEY, "B20261126-CCCC")
    (result,) = Receiver(folder, ledger, TRUSTED).receive_once()
    assert result.outcome == "duplicate" and count(ledger) == 25


def quarantined(ledger: Ledger, folder: Path) -> list:
    results = Receiver(folder, ledger, TRUSTED, orphan_seconds=0).receive_once()
    assert count(ledger) == 0
    assert all(r.outcome == "quarantined" for r in results)
    return results


def test_partial_data_file_is_quarantined(ledger: Ledger, folder: Path) -> None:
    send(NOTICES, folder, KEY, "B20261126-DDDD")
    data = folder / "B20261126-DDDD.jsonl"
    data.write_bytes(data.read_bytes()[:1000])
    (result,) = quarantined(ledger, folder)
    assert "incomplete or altered" in result.reason
    reason = (folder / "quarantine" / "B20261126-DDDD.reason.txt").read_text()
    assert "incomplete" in reason and "B20261126-DDDD.jsonl" in reason
    assert sorted(p.name for p in (folder / "quarantine").iterdir()) == [
        "B20261126-DDDD.jsonl", "B20261126-DDDD.manifest.json", "B20261126-DDDD.reason.txt"]


@pytest.mark.parametrize("target", ["data", "manifest"])
def test_one_flipped_byte_is_quarantined(ledger: Ledger, folder: Path, target: str) -> None:
    send(NOTICES, folder, KEY, "B20261126-EEEE")
    path = folder / ("B20261126-EEEE.jsonl" if target == "data" else "B20261126-EEEE.manifest.json")
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))
    (result,) = quarantined(ledger, folder)
    assert any(w in result.reason for w in ("SHA-256", "signature", "damaged", "altered"))


def test_missing_data_file_and_extra_entries(ledger: Ledger, folder: Path) -> None:
    send(NOTICES, folder, KEY, "B20261126-FFFF")
    (folder / "B20261126-FFFF.jsonl").unlink()
    (folder / "notes.txt").write_text("hello")
    results = {r.name: r for r in quarantined(ledger, folder)}
    assert "missing" in results["B20261126-FFFF.manifest.json"].reason
    assert "unknown file" in results["notes.txt"].reason


def test_manifest_with_an_extra_entry_is_refused(ledger: Ledger, folder: Path) -> None:
    data = dumps_notices(NOTICES)
    manifest = sign_manifest("B20261126-GGGG", "B20261126-GGGG.jsonl", data, 25, KEY)
    obj = json.loads(manifest.to_bytes())
    obj["files"].append({"name": "other.jsonl", "size": 1, "sha256": "0" * 64, "count": 1})
    (folder / "B20261126-GGGG.jsonl").write_bytes(data)
    (folder / "B20261126-GGGG.manifest.json").write_text(json.dumps(obj))
    (result,) = quarantined(ledger, folder)
    assert "damaged or incomplete" in result.reason


def test_unsigned_and_unknown_key_batches_are_quarantined(ledger: Ledger, folder: Path) -> None:
    stranger = Ed25519PrivateKey.generate()
    send(NOTICES, folder, stranger, "B20261126-HHHH")
    send(NOTICES, folder, KEY, "B20261126-JJJJ")
    unsigned = json.loads((folder / "B20261126-JJJJ.manifest.json").read_text())
    unsigned["signature"] = ""
    (folder / "B20261126-JJJJ.manifest.json").write_text(json.dumps(unsigned))
    reasons = sorted(r.reason for r in quarantined(ledger, folder))
    assert "does not trust" in reasons[0] and "not signed" in reasons[1]


def test_data_file_without_manifest_waits_then_is_quarantined(ledger: Ledger, folder: Path) -> None:
    write_notices(NOTICES, folder / "B20261126-KKKK.jsonl")
    assert Receiver(folder, ledger, TRUSTED, orphan_seconds=600).receive_once() == []
    assert (folder / "B20261126-KKKK.jsonl").exists()
    (result,) = Receiver(folder, ledger, TRUSTED, orphan_seconds=0).receive_once()
    assert "no manifest" in result.reason


@pytest.mark.parametrize("damage", ["wrong passphrase", "flipped byte", "truncated", "empty", "flipped header"])
def test_bad_bundles_import_nothing_and_leave_nothing_decrypted(ledger: Ledger, tmp_path: Path, damage: str) -> None:
    blob, _ = seal(NOTICES, "B20261126-MMMM", KEY, PASS)
    passphrase = PASS
    if damage == "wrong passphrase":
        passphrase = PASS + "x"
    elif damage == "flipped byte":
        blob = blob[:-100] + bytes([blob[-100] ^ 1]) + blob[-99:]
    elif damage == "truncated":
        blob = blob[: len(blob) // 2]
    elif damage == "empty":
        blob = b""
    else:
        blob = blob.replace(b'"r":8', b'"r":9', 1)
    path = tmp_path / "usb.plb"
    path.write_bytes(blob)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(BundleError) as exc:
        read_bundle(ledger, path, passphrase, TRUSTED, "tanaka")
    assert any(w in str(exc.value) for w in ("nothing was imported", "not a paperlink bundle", "out of range"))
    assert count(ledger) == 0 and media_register(ledger) == []
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_bundle_from_an_untrusted_sender_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    blob, _ = seal(NOTICES, "B20261126-NNNN", Ed25519PrivateKey.generate(), PASS)
    (tmp_path / "x.plb").write_bytes(blob)
    with pytest.raises(TransportError, match="does not trust"):
        read_bundle(ledger, tmp_path / "x.plb", PASS, TRUSTED, "tanaka")
    assert count(ledger) == 0


def test_short_passphrase_is_refused() -> None:
    with pytest.raises(BundleError, match="at least 12"):
        seal(NOTICES, "B20261126-PPPP", KEY, "short")


# -- a receiver killed with SIGKILL -------------------------------------------------------------------

def _cli_env(home: Path, failpoint: str | None = None) -> dict[str, str]:
    env = child_env(home)
    env.pop("PAPERLINK_FAILPOINT", None)
    if failpoint:
        env["PAPERLINK_FAILPOINT"] = failpoint
    return env


@pytest.fixture
def entry_home(tmp_path: Path) -> Path:
    return trusting_home(tmp_path / "entry-home", KEY)


@pytest.mark.crash
@pytest.mark.parametrize("point", ["line.before-import", "line.in-transaction", "line.after-import",
                                   "line.between-moves", "line.in-transaction:3", "line.between-moves:2"])
def test_receiver_killed_anywhere_imports_everything_exactly_once(folder: Path, entry_home: Path, point: str) -> None:
    """GIVEN four batches WHEN the receiver is SIGKILLed at a failpoint and started again THEN each is in once."""
    for i in range(4):
        send(NOTICES[i * 5:(i + 1) * 5], folder, KEY, f"B20261126-Q00{i}")
    cmd = [sys.executable, "-m", "paperlink.cli", "receive", str(folder)]
    killed = subprocess.run(cmd, env=_cli_env(entry_home, point), capture_output=True, text=True)
    assert killed.returncode == KILLED_RETURNCODE
    again = subprocess.run(cmd, env=_cli_env(entry_home), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    with Ledger(entry_home / "ledger.sqlite3") as ledger:
        assert count(ledger) == 20
        assert ledger.query("SELECT COUNT(*) FROM batches")[0][0] == 4
        assert ledger.verify_audit() is None
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == []
    assert len(list((folder / "done").iterdir())) == 8
    assert list((folder / "quarantine").iterdir()) == []


def test_cli_send_receive_bundle_unbundle(runner, tmp_path: Path, folder: Path) -> None:
    source = tmp_path / "n.jsonl"
    write_notices(NOTICES, source)
    printer, entry = tmp_path / "p", tmp_path / "e"
    runner("--home", printer, "keys", "init")
    runner("--home", printer, "keys", "export", "-o", tmp_path / "k.pem")
    runner("--home", entry, "keys", "trust", tmp_path / "k.pem")
    runner("--home", entry, "setup", "--municipality", "131016")
    sent = runner("--home", printer, "send", source, "--to", folder, "--batch", "B20261126-RRRR")
    assert sent.exit_code == 0 and "25 notices delivered" in sent.stdout
    received = runner("--home", entry, "receive", folder, "--clerk", "tanaka")
    assert "B20261126-RRRR.manifest.json: imported (25 notices)" in received.stdout
    pw = tmp_path / "pw.txt"
    pw.write_text(PASS + "\n")
    sealed = runner("--home", printer, "bundle", source, "-o", tmp_path / "b.plb", "--passphrase-file", pw,
                    "--batch", "B20261126-SSSS")
    assert sealed.exit_code == 0
    opened = runner("--home", entry, "unbundle", tmp_path / "b.plb", "--passphrase-file", pw)
    assert "B20261126-SSSS: imported (25 notices)" in opened.stdout
    pw.write_text("wrong-passphrase-123")
    wrong = runner("--home", entry, "unbundle", tmp_path / "b.plb", "--passphrase-file", pw)
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.stderr


def test_batch_ids_cannot_escape_the_folder(ledger: Ledger, folder: Path) -> None:
    for bad in ("../escaped", "b20261126", "A/B", "B" * 41):
        with pytest.raises(TransportError, match="not a batch id"):
            send(NOTICES, folder, KEY, bad)
    assert list(folder.iterdir()) == [] and not (folder.parent / "escaped.jsonl").exists()


@pytest.mark.parametrize("content", ["[]", "{}", '{"format":"paperlink-batch-manifest"}', "null", "\xff"])
def test_malformed_manifests_are_quarantined_not_crashed_on(ledger: Ledger, folder: Path, content: str) -> None:
    (folder / "B20261126-XXXX.manifest.json").write_bytes(content.encode("latin-1"))
    (result,) = quarantined(ledger, folder)
    assert "manifest" in result.reason


def test_hidden_and_young_manifests_wait(ledger: Ledger, folder: Path) -> None:
    send(NOTICES, folder, KEY, "B20261126-YYYY")
    (folder / ".half.manifest.json").write_text("{")
    assert Receiver(folder, ledger, TRUSTED, stable_seconds=3600).receive_once() == []
    (result,) = Receiver(folder, ledger, TRUSTED).receive_once()
    assert result.outcome == "imported" and (folder / ".half.manifest.json").exists()


def test_receive_exits_2_when_something_was_quarantined(runner, tmp_path: Path, folder: Path) -> None:
    (folder / "junk.bin").write_bytes(b"x")
    runner("setup", "--municipality", "131016")
    result = runner("receive", folder)
    assert result.exit_code == 2 and "junk.bin: quarantined" in result.stdout and "quarantined" in result.stderr


def test_same_batch_id_with_other_data_is_quarantined(ledger: Ledger, folder: Path) -> None:
    send(NOTICES, folder, KEY, "B20261126-ZZZZ")
    Receiver(folder, ledger, TRUSTED).receive_once()
    send(NOTICES[:3], folder, KEY, "B20261126-ZZZZ")
    (result,) = Receiver(folder, ledger, TRUSTED).receive_once()
    assert result.outcome == "quarantined" and "other data" in result.reason and count(ledger) == 25
