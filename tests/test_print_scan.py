"""Printing a batch and scanning it back: self-tested PDFs, exact records, signatures shown by scan."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pdfplumber
import pytest
from click.testing import CliRunner

from paperlink.base45 import b45decode, b45encode
from paperlink.cli import main
from paperlink.dataformat import read_notices
from paperlink.home import Home
from paperlink.keys import KeyStore
from paperlink.printing import SelfTestFailed, print_batch
from paperlink.scanning import scan_paths

COUNT = 14  # more than the 12 event kinds: every pairing of the first rows is printed


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict:
    """GIVEN a home with a key and a sample file WHEN printed THEN this module's tests read the PDF."""
    base = tmp_path_factory.mktemp("print")
    home = base / "home"
    cli = CliRunner()
    notices = base / "notices.jsonl"
    for args in (["samples", "--count", str(COUNT), "--seed", "5", "--date", "2026-11-26", "-o", notices],
                 ["keys", "init"],
                 ["print", notices, "-o", base / "batch.pdf", "--date", "2026-11-26"]):
        result = cli.invoke(main, ["--home", str(home), *map(str, args)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    batch_id = result.stdout.split()[1].rstrip(":")
    return {"home": home, "notices": notices, "pdf": base / "batch.pdf", "batch": batch_id, "base": base}


def scan_json(home: Path, *paths: Path, extra: tuple[str, ...] = ()) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(main, ["--home", str(home), "scan", "--json", *extra, *map(str, paths)],
                                catch_exceptions=False)
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.slow
def test_pdf_has_cover_and_one_sheet_per_notice(printed) -> None:
    notices = read_notices(printed["notices"])
    with pdfplumber.open(printed["pdf"]) as pdf:
        texts = ["".join((page.extract_text() or "").replace("⇒", "").split()) for page in pdf.pages]
    assert len(texts) == COUNT + 1
    assert printed["batch"] in texts[0] and f"{COUNT}件" in texts[0]
    for seq, (notice, text) in enumerate(zip(notices, texts[1:], strict=True), start=1):
        assert notice.notice_id in text and printed["batch"] in text and f"{seq}/{COUNT}" in text
        # a name broken across lines (⇒) may have its row label and 検 characters read in between
        assert re.search(".{0,30}".join(map(re.escape, notice.name.split())), text), notice.name


def test_scan_json_gives_back_every_exact_record_verified(printed) -> None:
    status, items = scan_json(printed["home"], printed["pdf"])
    assert status == 0
    sheets = [i for i in items if "notice" in i]
    manifests = [i for i in items if "notice_ids" in i]
    notices = read_notices(printed["notices"])
    assert [s["notice"] for s in sheets] == [n.record() for n in notices]
    assert all(s["verified"] and s["batch_id"] == printed["batch"] and s["source"] == str(printed["pdf"])
               for s in sheets)
    assert [s["page"] for s in sheets] == list(range(2, COUNT + 2))
    assert manifests and manifests[0]["notice_ids"] == [n.notice_id for n in notices]


@pytest.mark.parametrize("dpi", [300, 150])
def test_every_sheet_decodes_at_300_and_150_dpi(printed, dpi: int) -> None:
    trusted = KeyStore(Home(printed["home"])).trusted()
    items = [i for i in scan_paths([printed["pdf"]], trusted, dpi=dpi) if i.sheet is not None]
    assert [i.sheet.notice for i in items] == read_notices(printed["notices"])
    assert all(i.verified for i in items)


def test_entry_side_without_the_key_sees_unverified_sheets(printed, tmp_path: Path) -> None:
    status, items = scan_json(tmp_path / "other-home", printed["pdf"])
    sheets = [i for i in items if "notice" in i]
    assert status == 0 and sheets and not any(s["verified"] for s in sheets)
    assert all("unknown key" in s["error"] for s in sheets)


@pytest.mark.parametrize(("position", "words"), [(-10, "signature check failed"), (30, "")])
def test_a_one_byte_change_is_shown_by_scan_json(printed, tmp_path: Path, position: int, words: str) -> None:
    """GIVEN a sheet whose payload has one byte changed WHEN scanned THEN it is reported as not verified."""
    from paperlink.printing import sheet_specs
    from paperlink.sheets import render_pdf

    notices = read_notices(printed["notices"])
    private = KeyStore(Home(printed["home"])).signing_key()
    spec = sheet_specs(notices[:1], printed["batch"], private)[0]
    data = bytearray(b45decode(spec.qr_texts[0][4:]))
    data[position] ^= 0x01  # in the signature, or inside the compressed record
    tampered = "PL1:" + b45encode(bytes(data))
    forged = type(spec)(**{**spec.__dict__, "qr_texts": (tampered,)})
    path = tmp_path / "forged.pdf"
    path.write_bytes(render_pdf(None, [forged]))
    status, items = scan_json(printed["home"], path)
    assert status == 0
    (item,) = items
    assert item["verified"] is False
    assert words in item["error"] and item["error"]


def test_reprint_keeps_batch_and_numbers(printed) -> None:
    notices = read_notices(printed["notices"])
    target = notices[6].notice_id
    out = printed["base"] / "reprint.pdf"
    result = CliRunner().invoke(main, ["--home", str(printed["home"]), "print", str(printed["notices"]), "-o", str(out),
                                       "--batch", printed["batch"], "--only", target.lower()], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    _, items = scan_json(printed["home"], out)
    (item,) = items
    assert (item["batch_id"], item["seq"], item["total"]) == (printed["batch"], 7, COUNT)
    assert item["notice"]["notice_id"] == target


def test_reprint_of_an_unknown_id_is_refused(printed, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--home", str(printed["home"]), "print", str(printed["notices"]), "-o",
                                       str(tmp_path / "r.pdf"), "--batch", printed["batch"], "--only", "N-NOPE"])
    assert result.exit_code == 1 and "N-NOPE" in result.stderr
    assert not (tmp_path / "r.pdf").exists()


def test_invalid_notices_are_held_and_the_rest_prints(printed, tmp_path: Path) -> None:
    """GIVEN a file with two invalid notices WHEN printed THEN each is held, named with file, line and item, and
    the rest prints; a file that is no notice file at all still prints nothing."""
    bad = tmp_path / "bad.jsonl"
    lines = printed["notices"].read_text().splitlines()
    lines[2] = lines[2].replace('"sex":"M"', '"sex":"X"').replace('"sex":"F"', '"sex":"X"')
    lines[4] = lines[4].replace('"municipality_code":"131016"', '"municipality_code":"131017"')
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.pdf"
    result = CliRunner().invoke(main, ["--home", str(printed["home"]), "print", str(bad), "-o", str(out)])
    assert result.exit_code == 0 and out.exists()
    assert f"{len(lines) - 3} sheet(s)" in result.stdout
    assert "bad.jsonl line 3: sex:" in result.stderr and "bad.jsonl line 5: municipality_code:" in result.stderr
    assert "2 notice(s) held" in result.stderr
    (tmp_path / "junk.jsonl").write_text("no header\n")
    refused = CliRunner().invoke(main, ["--home", str(printed["home"]), "print", str(tmp_path / "junk.jsonl"),
                                        "-o", str(tmp_path / "junk.pdf")])
    assert refused.exit_code == 1 and not (tmp_path / "junk.pdf").exists()


def test_missing_key_is_a_clear_message(printed, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "empty"), "print", str(printed["notices"]), "-o", str(out)])
    assert result.exit_code == 1 and "paperlink keys init" in result.stderr and not out.exists()


def test_unwritable_output_is_a_clear_message(printed, tmp_path: Path) -> None:
    out = tmp_path / "no-such-dir" / "out.pdf"
    result = CliRunner().invoke(main, ["--home", str(printed["home"]), "print", str(printed["notices"]), "-o", str(out)])
    assert result.exit_code == 1 and "cannot write" in result.stderr and "Traceback" not in result.output


def test_failed_self_test_aborts_naming_the_notice(printed, monkeypatch) -> None:
    notices = read_notices(printed["notices"])[:3]
    private = KeyStore(Home(printed["home"])).signing_key()
    real = __import__("paperlink.printing", fromlist=["decode"]).decode
    calls = {"n": 0}

    def flaky(image, page=1):
        calls["n"] += 1
        return [] if calls["n"] == 3 else real(image, page)  # call 1 reads the cover, 2 and 3 the sheets

    monkeypatch.setattr("paperlink.printing.decode", flaky)
    with pytest.raises(SelfTestFailed) as exc:
        print_batch(notices, private)
    assert notices[1].notice_id in str(exc.value) and "sheet 2/3" in str(exc.value)


def test_scan_exit_codes_and_bad_inputs(printed, tmp_path: Path) -> None:
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (400, 400), 255).save(blank)
    status, items = scan_json(printed["home"], blank)
    assert status == 2 and items == [{"source": str(blank), "page": 1, "error": "no QR code could be read on this page"}]
    empty, corrupt = tmp_path / "empty.pdf", tmp_path / "corrupt.png"
    empty.write_bytes(b"")
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    status, items = scan_json(printed["home"], empty, corrupt, tmp_path, blank)
    assert status == 1
    errors = {Path(i["source"]).name: i.get("error", "") for i in items}
    assert "empty" in errors["empty.pdf"] and "not an image or PDF" in errors["corrupt.png"]
    assert "is a folder" in errors[tmp_path.name]


def test_scan_raw_tells_what_a_foreign_code_is(printed, tmp_path: Path) -> None:
    import segno

    path = tmp_path / "other.png"
    segno.make_qr("https://example.com/menu").save(str(path), scale=6)
    status, items = scan_json(printed["home"], path)
    assert status == 0 and "not a paperlink code" in items[0]["error"]
    status, items = scan_json(printed["home"], path, extra=("--raw",))
    assert items == [{"source": str(path), "page": 1, "text": "https://example.com/menu"}]


def test_a_character_no_font_has_is_refused_by_the_renderer(printed, record) -> None:
    """GIVEN a 漢字 name with a character no print font has (𠮷 now prints from IPAmj明朝; CJK Ext. G does not)
    WHEN rendered without `prepare_batch` holding it first THEN it is refused by name, never blanked."""
    from paperlink.fonts import UnprintableCharacter
    from paperlink.notice import parse_notice

    rare = "\U00030000"
    notice = parse_notice(record(name_kanji=f"{rare}田\u3000太郎"))
    private = KeyStore(Home(printed["home"])).signing_key()
    with pytest.raises(UnprintableCharacter) as exc:
        print_batch([notice], private)
    assert "name_kanji" in str(exc.value) and f"U+{ord(rare):04X}" in str(exc.value)


def test_a_very_long_notice_gets_smaller_modules_and_still_reads_back(printed, record) -> None:
    """GIVEN a 200-character address and a 120-character name WHEN printed THEN the sheet fits and self-tests."""
    from paperlink.notice import parse_notice

    jis = [bytes([hi, lo]).decode("cp932") for hi in range(0x89, 0x98) for lo in range(0x40, 0xFC) if lo != 0x7F]
    address = "東京都千代田区" + "".join(jis[(i * 53) % len(jis)] for i in range(192)) + "号"
    name = ("WICKRAMASINGHE MUDIYANSELAGE DON " * 4)[:120].strip()
    notice = parse_notice(record(address=address, name=name))
    private = KeyStore(Home(printed["home"])).signing_key()
    result = print_batch([notice], private)  # the self-test inside decodes the sheet back
    with pdfplumber.open(__import__("io").BytesIO(result.pdf)) as pdf:
        text = "".join((pdf.pages[-1].extract_text() or "").replace("⇒", "").split())
    remaining = iter(text)  # the wrapped cell may interleave with the 検 column: check order, not adjacency
    assert all(ch in remaining for ch in notice.address.replace(" ", ""))
    assert notice.name.replace(" ", "")[:40] in text
