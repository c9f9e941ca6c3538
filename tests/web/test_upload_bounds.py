"""Uploads are bounded (issue 13, item 15): pages an upload, and time a request, each with a Japanese message."""

from __future__ import annotations

import io
import time

import pypdfium2 as pdfium
import pytest


def blank_pdf(pages: int) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(595, 842)
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


def _upload(client, *files: tuple[bytes, str]):
    data = {"files": [(io.BytesIO(body), name) for body, name in files], "csrf_token": client.csrf()}
    return client.post("/capture/files", data=data, content_type="multipart/form-data")


def test_a_pdf_of_200_blank_pages_is_refused_at_once(client, ledger) -> None:
    pdf = blank_pdf(200)
    assert len(pdf) < 100_000  # the attack: a small file of many pages
    client.login("aoki")
    start = time.monotonic()
    response = _upload(client, (pdf, "blank.pdf"))
    elapsed = time.monotonic() - start
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "ページ数が多すぎます" in page and "200 ページ" in page and "100 ページまで" in page
    assert elapsed < 10, f"{elapsed:.1f} s"
    assert ledger.query("SELECT COUNT(*) FROM captures")[0][0] == 0


@pytest.mark.slow
def test_pages_of_all_files_of_an_upload_count_together(app, client) -> None:
    app.config["UPLOAD_MAX_PAGES"] = 3
    client.login("aoki")
    response = _upload(client, (blank_pdf(2), "a.pdf"), (blank_pdf(2), "b.pdf"))
    page = response.get_data(as_text=True)
    assert "a.pdf" in page and "b.pdf" in page
    assert "このファイルは 2 ページ、1回に取り込めるのは合計 3 ページまで" in page


@pytest.mark.slow
def test_reading_stops_at_the_time_limit_and_names_the_first_page_not_read(app, client, printed) -> None:
    app.config["UPLOAD_SECONDS"] = 0.01
    client.login("aoki")
    start = time.monotonic()
    response = _upload(client, (blank_pdf(20), "slow.pdf"), (blank_pdf(1), "next.pdf"))
    elapsed = time.monotonic() - start
    page = response.get_data(as_text=True)
    assert "時間がかかりすぎたため" in page and "2 ページ目から後は読み取っていません" in page
    assert "このファイルは読み取っていません" in page  # next.pdf
    assert elapsed < 15, f"{elapsed:.1f} s"


def _only_refusals(ledger, before: int) -> list:  # type: ignore[no-untyped-def]
    """The audit entries since `before`, each an `input.refused` with only where and why (nothing of the input)."""
    added = ledger.audit_entries()[before:]
    for entry in added:
        assert entry.action == "input.refused" and set(entry.detail) <= {"channel", "page", "code"}, entry
    return added


def test_input_without_a_code_leaves_only_its_refusal(client, ledger) -> None:
    """Security.md T6: code-less input leaves no capture and no notice – only the refusal in the audit log, with the
    file's name and the reason's code (nothing read from it)."""
    from PIL import Image

    client.login("aoki")
    before = ledger.audit_count()
    blank = io.BytesIO()
    Image.new("L", (800, 600), 255).save(blank, "PNG")
    response = _upload(client, (blank.getvalue(), "blank.png"), (b"not an image at all", "x.pdf"))
    assert response.status_code == 400
    assert [e.subject for e in _only_refusals(ledger, before)] == ["blank.png", "x.pdf"]
    assert ledger.query("SELECT COUNT(*) FROM captures")[0][0] == 0


def test_a_file_larger_than_the_field_bound_still_uploads(client) -> None:
    """The form-field bound must not catch file parts (Werkzeug buffers every part up to it)."""
    import os

    from PIL import Image

    client.login("aoki")
    noise = Image.frombytes("L", (700, 700), os.urandom(700 * 700))
    body = io.BytesIO()
    noise.save(body, "PNG")
    assert len(body.getvalue()) > 400_000
    response = _upload(client, (body.getvalue(), "noise.png"))
    assert response.status_code in (200, 400)  # read (and found no code), not refused as too large


def test_a_huge_form_field_changes_nothing_but_its_refusal(client, ledger) -> None:
    """A 600 KB scanner field is refused (400): no capture, and the log keeps only the refusal, not what was typed."""
    client.login("aoki")
    before = ledger.audit_count()
    response = client.send("/capture/wedge", {"code": "A" * 600_000})
    assert response.status_code in (400, 413)
    assert len(_only_refusals(ledger, before)) <= 1
    assert ledger.query("SELECT COUNT(*) FROM captures")[0][0] == 0
