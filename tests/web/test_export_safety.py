"""Issue 12, point 9: export is never one Enter away, names what it writes, and an exported batch can be
downloaded again – the same bytes, in any format – by a 審査 clerk, recorded."""

from __future__ import annotations

from tests.web.test_confirm_entry import _register


def _all_confirmed(client, printed, ledger) -> None:
    client.login("aoki")
    _register(client, printed)
    for row in ledger.query("SELECT id FROM notices ORDER BY seq"):
        client.send(f"/notice/{row['id']}/confirm")
    client.send("/logout")


def test_export_needs_a_confirm_step_that_names_batch_and_count(client, printed, ledger) -> None:
    _all_confirmed(client, printed, ledger)
    client.login("baba")
    page = client.get("/export/").get_data(as_text=True)
    assert "autofocus" not in page
    step = client.send("/export/", {"format": "csv", "batch": printed.result.batch_id})
    text = step.get_data(as_text=True)
    assert step.status_code == 200 and printed.result.batch_id in text and "3 件" in text and "CSV（UTF-8）" in text
    assert "autofocus" not in text
    assert ledger.query("SELECT COUNT(*) AS n FROM exports")[0]["n"] == 0
    client.send("/export/", {"format": "csv", "batch": printed.result.batch_id, "proceed": "1"})
    assert ledger.query("SELECT COUNT(*) AS n FROM exports")[0]["n"] == 1


def test_an_exported_batch_downloads_again_in_any_format(client, printed, ledger, home) -> None:
    _all_confirmed(client, printed, ledger)
    client.login("baba")
    batch = printed.result.batch_id
    client.send("/export/", {"format": "jsonl", "batch": batch, "proceed": "1"})
    name = ledger.query("SELECT file_name FROM exports")[0]["file_name"]
    original = (home / "exports" / name).read_bytes()
    assert 'data-testid="again-form"' in client.get("/export/").get_data(as_text=True)
    again = client.get(f"/export/again?batch={batch}&format=jsonl")
    assert again.status_code == 200 and again.data == original
    cp932 = client.get(f"/export/again?batch={batch}&format=csv-cp932")
    assert cp932.status_code == 200 and printed.notices[0].notice_id.encode() in cp932.data
    downloads = [e for e in ledger.audit_entries() if e.action == "export.downloaded"]
    assert [d.detail["format"] for d in downloads] == ["jsonl", "csv-cp932"] and downloads[0].actor == "baba"
    assert client.get("/export/again?batch=B20990101-AAAA&format=jsonl").status_code == 404
    client.send("/logout")
    client.login("aoki")  # 入力 only
    assert client.get(f"/export/again?batch={batch}&format=jsonl").status_code == 403
