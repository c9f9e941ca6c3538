"""Confirm, override, double entry (blind second entry, same-clerk rule, mismatch and re-keying), export."""

from __future__ import annotations

import io
from typing import Any

from paperlink.checkcodes import field_check, record_check_code
from paperlink.dataformat import dumps_notices
from paperlink.doubleentry import SAME_CLERK_SETTING, flatten
from paperlink.notice import Notice


def _form(notice: Notice, check_code: str | None = None, **changes: str) -> dict[str, Any]:
    """The entry form filled from a notice (canonical values; before values in their own inputs)."""
    values = {k: ("" if v is None else v) for k, v in flatten(notice.record()).items()}
    values.update(changes)
    values["check_code"] = check_code or ""
    return values


def _register(client, printed, sheets: tuple[int, ...] = (0, 1, 2)) -> None:
    for text in printed.cover_texts + [printed.sheet_texts[i] for i in sheets]:
        client.send("/capture/wedge", {"code": text})


def test_confirm_screen_and_confirm(client, printed, ledger, row_of) -> None:
    """GIVEN a read sheet WHEN the clerk opens it THEN every item has its Japanese label, changed items show
    before → after, the state is 検証済; confirming records who and when (audited)."""
    client.login("aoki")
    _register(client, printed)
    notice = printed.notices[0]
    page = client.get(f"/notice/{row_of(1)}").get_data(as_text=True)
    assert "通知番号" in page and "事由発生日" in page and "検証済" in page and 'id="confirm-button"' in page
    if notice.before:
        assert 'class="before"' in page
    response = client.send(f"/notice/{row_of(1)}/confirm")
    assert response.status_code == 302
    row = ledger.query("SELECT state FROM notices WHERE id = ?", (row_of(1),))[0]
    verification = ledger.query("SELECT * FROM verifications")[0]
    assert row["state"] == "confirmed" and verification["verified_by"] == "aoki" and verification["method"] == "qr"
    assert ledger.audit_entries()[-1].action == "notice.confirmed"
    assert ledger.audit_entries()[-1].actor == "aoki"
    assert "confirm-button" not in client.get(f"/notice/{row_of(1)}").get_data(as_text=True)


def test_confirm_twice_is_refused(client, printed, row_of) -> None:
    """GIVEN a confirmed notice WHEN confirmed again THEN a Japanese message, still one verification."""
    client.login("aoki")
    _register(client, printed, (0,))
    client.send(f"/notice/{row_of(1)}/confirm")
    page = client.send(f"/notice/{row_of(1)}/confirm", follow_redirects=True).get_data(as_text=True)
    assert "確認できる状態ではありません" in page


def test_override_needs_review_and_a_reason(client, stranger, ledger) -> None:
    """GIVEN an unknown-key sheet WHEN an entry clerk tries to override THEN 403; a reviewer without a reason
    gets a Japanese message; with a reason the notice is accepted and the reason is logged."""
    client.login("aoki")
    client.send("/capture/wedge", {"code": stranger.sheet_texts[0]})
    capture_id = ledger.query("SELECT id FROM captures")[0]["id"]
    assert client.send(f"/capture/{capture_id}/override", {"reason": "送付元に電話で確認"}).status_code == 403
    client.send("/logout")
    client.login("baba")
    page = client.get(f"/capture/{capture_id}").get_data(as_text=True)
    assert 'id="override-form"' in page and "confirm-button" not in page
    page = client.send(f"/capture/{capture_id}/override", {"reason": "x"}, follow_redirects=True).get_data(as_text=True)
    assert "理由を具体的に" in page and ledger.query("SELECT COUNT(*) AS n FROM notices")[0]["n"] == 0
    response = client.send(f"/capture/{capture_id}/override", {"reason": "送付元に電話で確認した"})
    assert response.status_code == 302
    assert ledger.query("SELECT method, reason FROM verifications")[0]["method"] == "override"
    assert "審査で受理" in client.get(response.location).get_data(as_text=True)
    assert ledger.audit_entries()[-1].detail["reason"] == "送付元に電話で確認した"


def test_check_endpoint(client) -> None:
    """GIVEN a date typed in 和暦 WHEN checked THEN its normalised value and the printed check characters;
    an invalid value gives a Japanese error."""
    client.login("aoki")
    data = client.send_json("/entry/check", {"key": "event_date", "value": "R8.11.20"}).get_json()
    assert data["ok"] and data["canonical"] == "2026-11-20"
    assert data["check"] == field_check("event_date", "2026-11-20")
    data = client.send_json("/entry/check", {"key": "before.card_number", "value": "ｚｘ87654321ｑｐ"}).get_json()
    assert data["canonical"] == "ZX87654321QP" and data["check"] == ""  # no check characters are printed for before values
    data = client.send_json("/entry/check", {"key": "birth_date", "value": "2026-02-30"}).get_json()
    assert not data["ok"] and "存在しない日付" in data["error"]
    assert client.send_json("/entry/check", {"key": "password", "value": "x"}).status_code == 400


def test_first_entry_with_errors_stores_nothing(client, printed, row_of, state) -> None:
    """GIVEN a missing sheet WHEN typed with a bad date and a wrong check code THEN Japanese messages by item
    and nothing stored."""
    client.login("aoki")
    _register(client, printed, (0, 1))
    before = state()
    response = client.send(f"/entry/{row_of(3)}", _form(printed.notices[2], "000-000", birth_date="昭和99年1月1日"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "生年月日" in page and 'data-testid="error-birth_date"' in page
    assert state() == before


def test_double_entry_of_a_missing_sheet_then_export_equals_the_printed_file(client, printed, row_of, ledger,
                                                                             tmp_path, runner) -> None:
    """GIVEN a batch whose third sheet is unreadable WHEN two clerks type it (dates in 和暦, check code) and
    the two read sheets are confirmed THEN the batch exports byte for byte as the printed notice file."""
    client.login("aoki")
    _register(client, printed, (0, 1))
    notice = printed.notices[2]
    form = _form(notice, record_check_code(notice).lower().replace("-", ""),
                 birth_date=f"{notice.birth_date:%Y年%m月%d日}")
    response = client.send(f"/entry/{row_of(3)}", form)
    assert response.status_code == 302
    assert client.get(f"/entry/{row_of(3)}").status_code == 403  # the same clerk: refused
    client.send(f"/notice/{row_of(1)}/confirm")
    client.send(f"/notice/{row_of(2)}/confirm")
    client.send("/logout")
    client.login("baba")
    second = client.get(f"/entry/{row_of(3)}").get_data(as_text=True)
    assert "2回目の入力" in second
    for value in (notice.name, notice.address, notice.card_number):
        if value:
            assert value not in second
    assert client.send(f"/entry/{row_of(3)}", _form(notice, record_check_code(notice))).status_code == 302
    assert ledger.query("SELECT state FROM notices WHERE id = ?", (row_of(3),))[0]["state"] == "done"
    response = client.send("/export/", {"format": "jsonl", "proceed": "1"})
    name = ledger.query("SELECT file_name FROM exports")[0]["file_name"]
    exported = client.get(f"/export/files/{name}").data
    assert exported == dumps_notices(printed.notices)
    report = client.get("/export/report.pdf")
    assert report.data.startswith(b"%PDF") and report.mimetype == "application/pdf"


def test_same_clerk_allowed_by_setting_needs_the_password(client, ledger) -> None:
    """GIVEN the office allows one clerk to do both entries WHEN the same clerk enters again THEN the form asks
    for the password; a wrong one is refused, the right one is logged and the notice is done."""
    import datetime as dt

    from paperlink.samples import SampleOptions, generate

    notice = generate(SampleOptions(count=1, seed=2, notice_date=dt.date(2026, 11, 26)))[0]
    ledger.set_setting(SAME_CLERK_SETTING, "1", "test")
    client.login("aoki")
    row = client.send("/entry/new").location.rsplit("/", 1)[1]
    client.send(f"/entry/{row}", _form(notice))
    page = client.get(f"/entry/{row}").get_data(as_text=True)
    assert 'name="password"' in page
    assert client.send(f"/entry/{row}", {**_form(notice), "password": "nope"}).status_code == 400
    assert client.send(f"/entry/{row}", {**_form(notice), "password": "correct-horse-1"}).status_code == 302
    actions = [e.action for e in ledger.audit_entries()]
    assert "entry.same_clerk_login" in actions and actions[-1] == "entry.done"
    assert ledger.audit_entries()[-1].detail["same_clerk"] is True


def test_manual_notice_mismatch_resolve_export(client, ledger, tmp_path, runner, home) -> None:
    """GIVEN paper without a code WHEN two clerks type it with one deliberate difference THEN the mismatch
    screen names only that item (no values); re-keying it from paper makes it done, and the export equals
    the input file byte for byte."""
    import datetime as dt

    from paperlink.samples import SampleOptions, generate

    notice = generate(SampleOptions(count=1, seed=4, notice_date=dt.date(2026, 11, 26)))[0]
    client.login("aoki")
    row = client.send("/entry/new").location.rsplit("/", 1)[1]
    assert client.send(f"/entry/{row}", _form(notice)).status_code == 302
    client.send("/logout")
    client.login("baba")
    wrong_address = notice.address + "1"
    response = client.send(f"/entry/{row}", _form(notice, address=wrong_address))
    assert response.location.endswith(f"/entry/{row}/resolve")
    page = client.get(response.location).get_data(as_text=True)
    assert "住所" in page and 'name="address"' in page
    assert notice.address not in page and wrong_address not in page
    assert page.count('data-testid="resolve-item"') == 1
    page = client.send(f"/entry/{row}/resolve", {"address": "全く違う住所"}).get_data(as_text=True)
    assert "どちらの入力とも一致しません" in page
    response = client.send(f"/entry/{row}/resolve", {"address": notice.address})
    assert response.status_code == 302
    assert ledger.query("SELECT state FROM notices WHERE id = ?", (row,))[0]["state"] == "done"
    source = tmp_path / "input.jsonl"
    source.write_bytes(dumps_notices([notice]))
    out = tmp_path / "out.jsonl"
    result = runner("export", "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == source.read_bytes()


def test_export_formats_and_nothing_to_export(client, printed, ledger) -> None:
    """GIVEN no complete batch WHEN exporting THEN a Japanese message; GIVEN a confirmed batch WHEN cp932 CSV is
    chosen THEN a Shift_JIS file lands in exports/."""
    client.login("baba")
    page = client.send("/export/", {"format": "csv", "proceed": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "出力できるバッチがありません" in page
    _register(client, printed)
    for seq in (1, 2, 3):
        client.send(f"/notice/{ledger.query('SELECT id FROM notices WHERE seq = ?', (seq,))[0]['id']}/confirm")
    client.send("/export/", {"format": "csv-cp932", "proceed": "1"})
    name = ledger.query("SELECT file_name FROM exports")[0]["file_name"]
    data = client.get(f"/export/files/{name}").data
    assert name.endswith(".cp932.csv") and printed.notices[0].nationality.encode("cp932") in data


def test_audit_view_newest_first_with_chain_state(client, printed) -> None:
    """GIVEN some activity WHEN a reviewer opens the audit log THEN newest first and the chain is intact."""
    client.login("baba")
    _register(client, printed, (0,))
    page = client.get("/audit/").get_data(as_text=True)
    assert 'data-ok="1"' in page
    assert page.index("capture.new") < page.index("login.ok")


def test_board_lists_missing_sheets_and_next_actions(client, printed, row_of) -> None:
    """GIVEN a registered batch with one sheet read WHEN the board is shown THEN n/N, the states in Japanese,
    the missing sheets by n/N and notice id, and each notice's next action."""
    client.login("aoki")
    _register(client, printed, (0,))
    page = client.get("/board").get_data(as_text=True)
    assert "1/3" in page and "未着の用紙" in page and printed.notices[1].notice_id in page
    for label in ("未着", "読取済", "確認済", "一次入力済", "不一致", "完了"):
        assert label in page
    assert f'href="/notice/{row_of(1)}"' in page and f'href="/entry/{row_of(2)}"' in page


def test_upload_pdf_then_confirm_via_result_link(client, printed) -> None:
    """GIVEN an uploaded PDF WHEN the clerk follows a result link and confirms THEN they return to the files page."""
    client.login("aoki")
    page = client.send("/capture/files", {"files": [(io.BytesIO(printed.result.pdf), "s.pdf")]},
                       content_type="multipart/form-data").get_data(as_text=True)
    link = page.split('data-testid="result-link" href="')[0]
    assert "?from=files" in page
    assert link
