"""Folders other accounts may write, and files no command should choke on (issue 13 items 1, 2, 7, 10; issue 16
items 6 and 7).

Real symbolic links, FIFOs, folders and devices; a Windows sharing violation is simulated by making the rename
and link calls (and, for retention, unlink) raise PermissionError for a while.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from paperlink import safefs
from paperlink.export import export
from paperlink.home import Home
from paperlink.keys import key_id
from paperlink.ledger import Ledger
from paperlink.maintenance import erase_expired
from paperlink.samples import SampleOptions, generate
from paperlink.sharedfolder import Receiver, send
from paperlink.watch import ScanFolder
from tests.conftest import set_up_office, trusting_home

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
NOTICES = generate(SampleOptions(count=3, seed=13, notice_date=dt.date(2026, 11, 26)))
EVIL = "x; touch PWNED; #.png"
DEEP = b"[" * 100_000 + b"\n"
BIG_NUMBER = b"9" * 5000 + b"\n"


@pytest.fixture(autouse=True)
def office(home: Path) -> None:
    """Every receiving side here is a set-up office (receive and unbundle refuse to run before)."""
    home.mkdir(parents=True, exist_ok=True)
    set_up_office(home / "ledger.sqlite3")


@pytest.fixture
def ledger(home: Path) -> Iterator[Ledger]:
    with Ledger(home / "ledger.sqlite3") as led:
        yield led


POSIX = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="real symbolic links, FIFOs, devices and POSIX modes")
"""Tests that need them (the sharing-violation and suffix tests run everywhere)."""


class Blocked(BaseException):
    """A read blocked (not an OSError, so that no error handler of the code under test can swallow it)."""


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    """A read that blocks (a FIFO opened for reading) fails the test after 20 s instead of hanging the suite."""
    def stop(_signum: int, _frame: object) -> None:
        raise Blocked("a read that should never block did")

    if not hasattr(signal, "SIGALRM"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safefs, "RETRY_DELAYS", (0.01, 0.01, 0.01))


def blank_png(path: Path) -> Path:
    Image.new("L", (200, 200), 255).save(path, "PNG")
    return path


def runs_harmlessly(script: Path, cwd: Path) -> bool:
    """Whether running `script` as a shell start-up file would leave no PWNED file behind."""
    subprocess.run(["sh", str(script)], cwd=cwd, capture_output=True, timeout=10, check=False)
    return not (cwd / "PWNED").exists()


# -- item 1: reason files never follow a link, never quote a name unescaped --------------------------


@POSIX
def test_a_link_placed_in_failed_is_never_written_through(ledger: Ledger, tmp_path: Path) -> None:
    """GIVEN failed/<name>.reason.txt is a symbolic link to the clerk's shell start-up file
    WHEN a file of that name fails THEN the start-up file is untouched and the reason file is a new, safe file."""
    folder = tmp_path / "scans"
    watcher = ScanFolder(folder, ledger, TRUSTED, stable_seconds=0)
    victim = tmp_path / "bashrc"
    victim.write_text("# my settings\n")
    os.symlink(victim, folder / "failed" / f"{EVIL}.reason.txt")
    os.symlink(tmp_path / "nowhere", folder / "failed" / EVIL)  # a dangling link where the file would go
    (folder / EVIL).write_bytes(b"not an image")  # its reason quotes its name
    (outcome,) = watcher.poll()
    assert outcome.outcome == "failed"
    assert victim.read_text() == "# my settings\n"
    assert (folder / "failed" / f"{EVIL}.reason.txt").is_symlink()  # neither followed nor replaced
    assert outcome.moved_to.name != EVIL and outcome.moved_to.is_file()
    reason = outcome.moved_to.with_name(outcome.moved_to.name + ".reason.txt")
    assert reason.is_file() and not reason.is_symlink() and reason.stat().st_mode & 0o777 == 0o600
    text = reason.read_text("utf-8")
    assert "not an image or PDF" in text and "x%3B%20touch%20PWNED%3B%20%23.png" in text and "; touch" not in text
    assert runs_harmlessly(reason, tmp_path)


@POSIX
def test_a_newline_in_a_name_cannot_forge_a_reason_line(ledger: Ledger, tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    watcher = ScanFolder(folder, ledger, TRUSTED, stable_seconds=0)
    name = "scan\nfile: all good, imported\n.png"
    (folder / name).write_bytes(b"not an image")
    (outcome,) = watcher.poll()
    text = outcome.moved_to.with_name(outcome.moved_to.name + ".reason.txt").read_text("utf-8")
    assert text.count("\n") == 1 and "scan%0Afile%3A%20all%20good,%20imported%0A.png" in text


@POSIX
def test_a_link_in_the_scan_folder_is_not_read(ledger: Ledger, tmp_path: Path) -> None:
    """GIVEN a symbolic link to a file elsewhere (that paperlink could read) WHEN polled THEN it is moved to
    failed/ unread, with its reason – the file it points to is neither read nor moved."""
    folder = tmp_path / "scans"
    watcher = ScanFolder(folder, ledger, TRUSTED, stable_seconds=0)
    target = blank_png(tmp_path / "private.png")
    os.symlink(target, folder / "link.png")
    os.mkfifo(folder / "pipe.png")
    outcomes = {o.name: o for o in watcher.poll()}
    assert outcomes["link.png"].outcome == "failed" and "symbolic link" in (outcomes["link.png"].reason or "")
    assert outcomes["pipe.png"].outcome == "failed" and "FIFO" in (outcomes["pipe.png"].reason or "")
    assert (folder / "failed" / "link.png").is_symlink() and target.is_file()
    assert "symbolic link" in (folder / "failed" / "link.png.reason.txt").read_text("utf-8")
    assert ledger.query("SELECT COUNT(*) FROM scanned_files")[0][0] == 0


@POSIX
def test_shared_folder_reason_files_escape_names(ledger: Ledger, tmp_path: Path) -> None:
    """GIVEN a stray file named like a shell command WHEN quarantined THEN the reason file runs harmlessly."""
    folder = tmp_path / "link"
    folder.mkdir()
    (folder / "x; touch PWNED; #").write_bytes(b"x")
    (folder / "y\nfile: B1.jsonl").write_bytes(b"y")
    results = Receiver(folder, ledger, TRUSTED).receive_once()
    assert {r.outcome for r in results} == {"quarantined"}
    for reason in (folder / "quarantine").glob("*.reason.txt"):
        assert reason.stat().st_mode & 0o777 == 0o600
        assert runs_harmlessly(reason, tmp_path)
        assert reason.read_text("utf-8").count("\n") == 2  # the reason, one file line


# -- item 2: one hostile entry never stops the deliveries beside it -----------------------------------


def _hostile(kind: str, path: Path, tmp_path: Path) -> None:
    if kind == "dangling link":
        os.symlink(tmp_path / "gone", path)
    elif kind == "link to a file":
        os.symlink(blank_png(tmp_path / "elsewhere.png"), path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "deep JSON":
        path.write_bytes(b"[" * 60_000 + b"\n")
    elif kind == "huge file":
        with path.open("wb") as out:
            out.truncate(10 * 1024 * 1024)  # sparse: 10 MiB of zeros
    elif kind == "FIFO":
        os.mkfifo(path)


HOSTILE = {"dangling link": "symbolic link", "link to a file": "symbolic link", "folder": "folder",
           "deep JSON": "nested too deeply", "huge file": "too large", "FIFO": "FIFO"}
"""Each hostile kind of entry, and what its reason says."""


@POSIX
@pytest.mark.parametrize("kind", HOSTILE)
def test_one_hostile_manifest_does_not_stop_the_folder(ledger: Ledger, tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "link"
    folder.mkdir()
    send(NOTICES, folder, KEY, "B20261126-GOOD")
    _hostile(kind, folder / "B20261126-AAAA.manifest.json", tmp_path)
    results = {r.name: r for r in Receiver(folder, ledger, TRUSTED).receive_once()}
    assert results["B20261126-GOOD.manifest.json"].outcome == "imported"
    bad = results["B20261126-AAAA.manifest.json"]
    assert bad.outcome == "quarantined" and "B20261126-AAAA.manifest.json" in (bad.reason or "")
    assert HOSTILE[kind] in (bad.reason or "")
    assert os.path.lexists(folder / "quarantine" / "B20261126-AAAA.manifest.json")
    assert (folder / "quarantine" / "B20261126-AAAA.reason.txt").is_file()
    assert ledger.query("SELECT COUNT(*) FROM notices")[0][0] == 3
    assert sorted(p.name for p in folder.iterdir()) == ["done", "quarantine"]
    # and again: the folder is quiet, nothing more happens
    assert Receiver(folder, ledger, TRUSTED).receive_once() == []


@POSIX
@pytest.mark.parametrize("kind", ["dangling link", "FIFO", "folder"])
def test_a_hostile_data_file_is_quarantined_with_its_manifest(ledger: Ledger, tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "link"
    folder.mkdir()
    send(NOTICES, folder, KEY, "B20261126-AAAA")
    (folder / "B20261126-AAAA.jsonl").unlink()
    _hostile(kind, folder / "B20261126-AAAA.jsonl", tmp_path)
    send(NOTICES, folder, KEY, "B20261126-GOOD")
    results = {r.name: r for r in Receiver(folder, ledger, TRUSTED).receive_once()}
    assert results["B20261126-GOOD.manifest.json"].outcome == "imported"
    assert results["B20261126-AAAA.manifest.json"].outcome == "quarantined"
    assert "not a regular file" in (results["B20261126-AAAA.manifest.json"].reason or "")


@POSIX
@pytest.mark.parametrize("kind", ["dangling link", "link to a file", "FIFO"])
def test_a_hostile_stray_is_quarantined_unread(ledger: Ledger, tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "link"
    folder.mkdir()
    _hostile(kind, folder / "notes.txt", tmp_path)
    (folder / "sub").mkdir()  # a sub-folder is left alone
    send(NOTICES, folder, KEY, "B20261126-GOOD")
    results = {r.name: r for r in Receiver(folder, ledger, TRUSTED).receive_once()}
    assert results["B20261126-GOOD.manifest.json"].outcome == "imported"
    assert results["notes.txt"].outcome == "quarantined" and "not a regular file" in (results["notes.txt"].reason or "")
    assert "sub" not in results and (folder / "sub").is_dir()


@POSIX
def test_cli_receive_survives_hostile_entries(runner, tmp_path: Path) -> None:
    """`paperlink receive` beside a dangling link, a FIFO and a deep manifest: imports, quarantines, exit 2."""
    trusting_home(Path(os.environ["PAPERLINK_HOME"]), KEY)
    folder = tmp_path / "link"
    folder.mkdir()
    send(NOTICES, folder, KEY, "B20261126-GOOD")
    _hostile("dangling link", folder / "B20261126-AAAA.manifest.json", tmp_path)
    _hostile("FIFO", folder / "B20261126-BBBB.manifest.json", tmp_path)
    (folder / "B20261126-CCCC.manifest.json").write_bytes(DEEP)
    result = runner("receive", folder)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "B20261126-GOOD.manifest.json: imported (3 notices)" in result.stdout
    for batch in ("AAAA", "BBBB", "CCCC"):
        assert f"B20261126-{batch}.manifest.json: quarantined" in result.stdout


# -- issue 16 item 7: suffixes in any case ------------------------------------------------------------


def test_suffixes_match_in_any_case(ledger: Ledger, tmp_path: Path) -> None:
    folder = tmp_path / "link"
    folder.mkdir()
    send(NOTICES, folder, KEY, "B20261126-CASE")
    (folder / "B20261126-CASE.manifest.json").rename(folder / "B20261126-CASE.MANIFEST.JSON")
    (folder / "B20261126-CASE.jsonl").rename(folder / "B20261126-CASE.JSONL")
    (result,) = Receiver(folder, ledger, TRUSTED).receive_once()
    assert result.outcome == "imported" and ledger.query("SELECT COUNT(*) FROM notices")[0][0] == 3
    assert sorted(p.name for p in (folder / "done").iterdir()) == ["B20261126-CASE.JSONL",
                                                                  "B20261126-CASE.MANIFEST.JSON"]
    scans = tmp_path / "scans"
    watcher = ScanFolder(scans, ledger, TRUSTED, stable_seconds=0)
    for name in ("half.PDF.TMP", "half.pdf.Part", "download.CRDOWNLOAD", "old.REASON.TXT"):
        (scans / name).write_bytes(b"%PDF-1.7 half")
    assert watcher.poll() == []


# -- issue 16 item 6: files held open by another program ---------------------------------------------


class SharingViolation:
    """os.link / os.rename / os.replace (and optionally os.unlink) raise PermissionError `times` times."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, times: int, unlink_suffix: str | None = None) -> None:
        self.left = times
        for name in ("link", "rename", "replace"):
            monkeypatch.setattr(os, name, self._wrap(getattr(os, name)))
        if unlink_suffix is not None:
            real_unlink = os.unlink

            def unlink(path: object, *args: object, **kwargs: object) -> None:
                if str(path).endswith(unlink_suffix):
                    self._maybe_fail(path)
                real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]

            monkeypatch.setattr(os, "unlink", unlink)

    def _maybe_fail(self, path: object) -> None:
        if self.left > 0:
            self.left -= 1
            raise PermissionError(errno.EACCES, "The process cannot access the file because it is being used "
                                  "by another process", str(path))

    def _wrap(self, real):  # type: ignore[no-untyped-def]
        def call(src: object, dst: object, *args: object, **kwargs: object) -> None:
            if "scans" in str(src) or "link" in str(src):
                self._maybe_fail(src)
            return real(src, dst, *args, **kwargs)

        return call


def test_a_failed_scan_held_open_is_never_misfiled(ledger: Ledger, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a failing scan that another program holds open after the ledger commit
    WHEN polled THEN no traceback, the file stays (held); once released THEN it goes to failed/ with its
    reason – never to done/ as a duplicate."""
    folder = tmp_path / "scans"
    watcher = ScanFolder(folder, ledger, TRUSTED, stable_seconds=0)
    blank_png(folder / "scan-001.png")
    violation = SharingViolation(monkeypatch, times=100)
    (first,) = watcher.poll()
    assert first.outcome == "in_use" and (folder / "scan-001.png").is_file()
    assert ledger.query("SELECT outcome FROM scanned_files")[0][0] == "failed"
    violation.left = 0  # the program lets go
    (second,) = watcher.poll()
    assert second.outcome == "failed" and second.moved_to == folder / "failed" / "scan-001.png"
    assert "no QR code" in (folder / "failed" / "scan-001.png.reason.txt").read_text("utf-8")
    assert list((folder / "done").iterdir()) == []


def test_a_short_hold_is_retried_within_the_poll(ledger: Ledger, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "scans"
    watcher = ScanFolder(folder, ledger, TRUSTED, stable_seconds=0)
    blank_png(folder / "scan-002.png")
    SharingViolation(monkeypatch, times=2)
    (outcome,) = watcher.poll()
    assert outcome.outcome == "failed" and (folder / "failed" / "scan-002.png.reason.txt").is_file()


def test_a_received_batch_held_open_is_moved_later_and_imported_once(ledger: Ledger, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "link"
    folder.mkdir()
    send(NOTICES, folder, KEY, "B20261126-HELD")
    violation = SharingViolation(monkeypatch, times=100)
    (first,) = Receiver(folder, ledger, TRUSTED).receive_once()
    assert first.outcome == "imported" and "left in place" in (first.reason or "")
    assert (folder / "B20261126-HELD.manifest.json").is_file()
    violation.left = 0
    (second,) = Receiver(folder, ledger, TRUSTED).receive_once()
    assert second.outcome == "duplicate"
    assert sorted(p.name for p in (folder / "done").iterdir()) == ["B20261126-HELD.jsonl",
                                                                  "B20261126-HELD.manifest.json"]
    assert ledger.query("SELECT COUNT(*) FROM notices")[0][0] == 3


def test_retention_deletes_a_file_held_open_on_a_later_run(ledger: Ledger, home: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "link"
    folder.mkdir()
    send(NOTICES, folder, KEY, "B20261126-KEEP")
    Receiver(folder, ledger, TRUSTED).receive_once()
    (home / "exports").mkdir()
    export(ledger, None, home / "exports" / "out.jsonl", "jsonl", "suzuki")
    later = dt.date.today() + dt.timedelta(days=91)
    violation = SharingViolation(monkeypatch, times=100, unlink_suffix="out.jsonl")
    first = erase_expired(ledger, home, "admin", later)
    assert first.batches == ("B20261126-KEEP",) and first.held == (home / "exports" / "out.jsonl",)
    violation.left = 0
    second = erase_expired(ledger, home, "admin", later)
    assert second.batches == () and second.files == 1 and second.held == ()
    assert not (home / "exports" / "out.jsonl").exists()


# -- item 7: files written with -o are owner-only ------------------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@POSIX
def test_output_files_are_owner_only(runner, tmp_path: Path, open_umask: None) -> None:
    source = tmp_path / "in.jsonl"
    assert runner("samples", "--count", "2", "-o", source).exit_code == 0
    assert runner("convert", source, "-o", tmp_path / "out.csv").exit_code == 0
    link = tmp_path / "link"
    link.mkdir()
    send(NOTICES, link, KEY, "B20261126-MODE")
    trusting_home(Path(os.environ["PAPERLINK_HOME"]), KEY)
    assert runner("receive", link).exit_code == 0
    assert runner("export", "-o", tmp_path / "export.jsonl").exit_code == 0
    names = ["in.jsonl", "out.csv", "out.plb", "export.jsonl"]
    if Home.resolve().ledger_is_file:  # a PostgreSQL ledger's backup is a pg_dump (issue-15b)
        assert runner("backup", "-o", tmp_path / "backup.sqlite3", "--clerk", "admin").exit_code == 0
        names.append("backup.sqlite3")
    passphrase = tmp_path / "pass.txt"
    passphrase.write_text("kasumigaseki-2026-usb\n")
    assert runner("keys", "init").exit_code == 0
    assert runner("bundle", source, "-o", tmp_path / "out.plb", "--passphrase-file", passphrase).exit_code == 0
    for name in names:
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name


@POSIX
@pytest.mark.slow
def test_printed_pdf_is_owner_only(runner, tmp_path: Path, open_umask: None) -> None:
    source = tmp_path / "in.jsonl"
    runner("samples", "--count", "1", "-o", source)
    runner("keys", "init")
    assert runner("print", source, "-o", tmp_path / "out.pdf").exit_code == 0
    assert (tmp_path / "out.pdf").stat().st_mode & 0o777 == 0o600


# -- item 10: no traceback, no hang, nothing written ----------------------------------------------------


def _cli_fails_cleanly(result, name: str, written: list[Path]) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and name in result.output
    assert not [p for p in written if p.exists()]


@pytest.fixture
def bad_inputs(tmp_path: Path) -> dict[str, Path]:
    deep, big = tmp_path / "deep.jsonl", tmp_path / "big.jsonl"
    deep.write_bytes(DEEP)
    big.write_bytes(b'{"format":"paperlink-notices","version":1,"count":1}\n' + BIG_NUMBER)
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    return {"deep": deep, "big": big, "fifo": fifo, "zero": Path("/dev/zero")}


@POSIX
@pytest.mark.parametrize("which", ["deep", "big", "fifo", "zero"])
def test_data_file_commands_fail_cleanly(runner, tmp_path: Path, bad_inputs: dict[str, Path], which: str) -> None:
    bad = bad_inputs[which]
    out = tmp_path / "out"
    link = tmp_path / "link"
    link.mkdir()
    _cli_fails_cleanly(runner("validate", bad), bad.name, [])
    _cli_fails_cleanly(runner("convert", bad, "-o", out.with_suffix(".csv")), bad.name, [out.with_suffix(".csv")])
    _cli_fails_cleanly(runner("print", bad, "-o", out.with_suffix(".pdf")), bad.name, [out.with_suffix(".pdf")])
    _cli_fails_cleanly(runner("send", bad, "--to", link), bad.name, [])
    _cli_fails_cleanly(runner("bundle", bad, "-o", out.with_suffix(".plb"), "--passphrase-file", bad), bad.name,
                       [out.with_suffix(".plb")])
    assert list(link.iterdir()) == []


@POSIX
@pytest.mark.parametrize("which", ["deep", "big", "fifo", "zero"])
def test_unbundle_and_scan_fail_cleanly(runner, tmp_path: Path, bad_inputs: dict[str, Path], which: str) -> None:
    passphrase = tmp_path / "pass.txt"
    passphrase.write_text("kasumigaseki-2026-usb\n")
    bad = bad_inputs[which]
    if which in ("deep", "big"):  # the bundle header is the hostile JSON
        blob = tmp_path / f"{which}.plb"
        blob.write_bytes(b"PLBUNDLE1\n" + (DEEP if which == "deep" else b'{"version":1,"n":' + BIG_NUMBER[:-1] + b"}\n")
                         + b"ciphertext")
        bad = blob
    _cli_fails_cleanly(runner("unbundle", bad, "--passphrase-file", passphrase), bad.name, [])
    assert Ledger(Path(os.environ["PAPERLINK_HOME"]) / "ledger.sqlite3").count("batches") == 0
    if which in ("fifo", "zero"):
        result = runner("scan", bad)
        _cli_fails_cleanly(result, bad.name, [])
        assert "not a regular file" in result.output


@POSIX
@pytest.mark.parametrize("which", ["fifo", "zero"])
def test_secret_files_that_are_not_files(runner, bad_inputs: dict[str, Path], which: str) -> None:
    bad = bad_inputs[which]
    result = runner("users", "add", "tanaka", "--name", "田中", "--role", "entry", "--password-file", bad)
    _cli_fails_cleanly(result, bad.name, [])


@POSIX
def test_safe_reads_refuse_what_is_not_a_bounded_regular_file(tmp_path: Path) -> None:
    regular = tmp_path / "a.txt"
    regular.write_bytes(b"12345")
    assert safefs.read_regular(regular, 5) == b"12345"
    with pytest.raises(safefs.UnsafeFileError, match="too large"):
        safefs.read_regular(regular, 4)
    os.symlink(regular, tmp_path / "link")
    assert safefs.read_regular(tmp_path / "link", 5) == b"12345"  # a file the user named: followed
    with pytest.raises(safefs.UnsafeFileError, match="symbolic link"):
        safefs.read_regular(tmp_path / "link", 5, follow=False)
    with pytest.raises(safefs.UnsafeFileError, match="folder"):
        safefs.read_regular(tmp_path, 5)
    assert safefs.escape_name("田中 スキャン;$(id)`.pdf") == "田中%20スキャン%3B%24%28id%29%60.pdf"
    assert shutil.which("sh")


@POSIX
def test_send_never_writes_through_a_link_in_the_shared_folder(tmp_path: Path) -> None:
    """GIVEN links at the names a batch will get WHEN sent THEN nothing is written through them."""
    folder = tmp_path / "link"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    os.symlink(victim, folder / "B20261126-SEND.manifest.json")
    with pytest.raises(Exception, match="already in"):
        send(NOTICES, folder, KEY, "B20261126-SEND")
    assert victim.read_text() == "mine\n" and (folder / "B20261126-SEND.manifest.json").is_symlink()
    os.symlink(victim, folder / "B20261126-LINK.jsonl")
    with pytest.raises(Exception, match="already in"):
        send(NOTICES, folder, KEY, "B20261126-LINK")
    assert victim.read_text() == "mine\n"
    assert sorted(p.name for p in folder.iterdir()) == ["B20261126-LINK.jsonl", "B20261126-SEND.manifest.json"]


@POSIX
def test_a_link_in_place_of_failed_or_quarantine_is_not_followed(ledger: Ledger, tmp_path: Path) -> None:
    """GIVEN failed/ (scan folder) or quarantine/ (shared folder) replaced by a link to another folder
    WHEN a file must go there THEN nothing is moved or written into the other folder; the file stays, held."""
    elsewhere = tmp_path / "home-of-the-clerk"
    elsewhere.mkdir()
    scans = tmp_path / "scans"
    watcher = ScanFolder(scans, ledger, TRUSTED, stable_seconds=0)
    (scans / "failed").rmdir()
    os.symlink(elsewhere, scans / "failed")
    (scans / "junk.png").write_bytes(b"not an image")
    (outcome,) = watcher.poll()
    assert outcome.outcome == "in_use" and "not a folder" in (outcome.reason or "")
    link = tmp_path / "link"
    link.mkdir()
    os.symlink(elsewhere, link / "quarantine")
    (link / "done").mkdir()
    (link / "junk.bin").write_bytes(b"x")
    (result,) = Receiver(link, ledger, TRUSTED).receive_once()
    assert result.outcome == "in_use"
    assert list(elsewhere.iterdir()) == [] and (scans / "junk.png").exists() and (link / "junk.bin").exists()


@POSIX
def test_a_name_that_is_not_utf8_does_not_stop_the_folders(ledger: Ledger, tmp_path: Path) -> None:
    """GIVEN a file whose name is not UTF-8 (bytes 0xFF, 0xFE) WHEN polled THEN it is refused unread with an
    escaped name, and the folder goes on (before: UnicodeEncodeError on every poll)."""
    scans = tmp_path / "scans"
    watcher = ScanFolder(scans, ledger, TRUSTED, stable_seconds=0)
    with open(os.fsencode(scans) + b"/\xff.png", "wb") as out:
        out.write(b"junk")
    (outcome,) = watcher.poll()
    assert outcome.outcome == "failed" and outcome.name == "%FF.png" and "not UTF-8" in (outcome.reason or "")
    link = tmp_path / "link"
    link.mkdir()
    with open(os.fsencode(link) + b"/\xfe.manifest.json", "wb") as out:
        out.write(b"{}")
    send(NOTICES, link, KEY, "B20261126-GOOD")
    results = {r.name: r.outcome for r in Receiver(link, ledger, TRUSTED).receive_once()}
    assert results == {"B20261126-GOOD.manifest.json": "imported", "%FE.manifest.json": "quarantined"}
    assert ledger.verify_audit() is None


@POSIX
@pytest.mark.parametrize("which", ["fifo", "zero"])
def test_keys_trust_of_a_fifo_or_a_device_fails_cleanly(runner, bad_inputs: dict[str, Path], which: str) -> None:
    bad = bad_inputs[which]
    _cli_fails_cleanly(runner("keys", "trust", bad), bad.name, [])
