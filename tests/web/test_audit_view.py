"""Issue 12, point 11: the audit view in Japanese, with paging and filters, recording refused inputs,
downloads and settings changes."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

from paperlink.auditlabels import ACTION_LABELS, DETAIL_LABELS, HIDDEN_DETAILS
from paperlink.ledger.schema import CaptureOutcome, ScanFileOutcome
from tests.web.test_confirm_entry import _register

PACKAGE = Path(__file__).resolve().parents[2] / "paperlink"


def _written_actions() -> tuple[set[str], set[str]]:
    """Every action and detail key the package writes into the audit log (f-strings expanded)."""
    actions: set[str] = set()
    keys: set[str] = set()
    expansions = {"{result.outcome.value}": [o.value for o in CaptureOutcome],
                  "{how.value}": ["line", "media"], "{outcome.value}": [o.value for o in ScanFileOutcome]}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "audit"):
                continue
            if len(node.args) < 2:
                continue
            action = node.args[1]
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                actions.add(action.value)
            elif isinstance(action, ast.JoinedStr):
                text = ast.unparse(action)[2:-1]
                for pattern, values in expansions.items():
                    if pattern in text:
                        actions.update(text.replace(pattern, v) for v in values)
            elif isinstance(action, ast.Name) and action.id == "SENT_ACTION":
                actions.add("line.sent")
            keys.update(k.arg for k in node.keywords if k.arg)
    return actions, keys


def test_every_action_and_detail_has_a_japanese_label() -> None:
    actions, keys = _written_actions()
    assert len(actions) > 20
    assert actions <= set(ACTION_LABELS), actions - set(ACTION_LABELS)
    assert keys <= set(DETAIL_LABELS) | HIDDEN_DETAILS, keys - set(DETAIL_LABELS)


def test_audit_view_is_japanese_filtered_and_paged(client, printed, ledger) -> None:
    """GIVEN activity by two clerks WHEN a reviewer filters by clerk, action and batch THEN only matching lines,
    every action in Japanese (no `notice.confirmed`, no English reason), and pages of 100."""
    client.login("aoki")
    _register(client, printed, (0,))
    row = ledger.query("SELECT id FROM notices WHERE seq = 1")[0]["id"]
    client.send(f"/notice/{row}/confirm")
    client.send("/logout")
    client.login("baba")
    page = client.get("/audit/").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)
    assert "確認" in text and "用紙の読取（新規）" in text and "表紙の読取（登録）" in text and "ログイン" in text
    assert "notice.confirmed" not in text and "capture.new" not in text and "read" not in text
    only_aoki = client.get("/audit/?actor=aoki&action=notice").get_data(as_text=True)
    assert only_aoki.count('data-testid="audit-row"') == 1 and 'data-action="notice.confirmed"' in only_aoki
    batch = client.get(f"/audit/?batch={printed.result.batch_id}").get_data(as_text=True)
    assert 'data-action="login.ok"' not in batch and 'data-action="capture.new"' in batch
    future = client.get("/audit/?date_from=2099-01-01").get_data(as_text=True)
    assert future.count('data-testid="audit-row"') == 0
    with ledger.transaction():
        for _ in range(150):
            ledger.audit("baba", "login.ok", "session")
    first = client.get("/audit/").get_data(as_text=True)
    assert first.count('data-testid="audit-row"') == 100 and 'data-testid="page-older"' in first
    second = client.get("/audit/?page=2").get_data(as_text=True)
    assert 'data-testid="page-newer"' in second and second.count('data-testid="audit-row"') > 0


def test_refused_inputs_downloads_and_settings_are_recorded(client, printed, ledger) -> None:
    """GIVEN a file that is not a scan, a bad scanner input, a download of an export and of the report, and a
    settings change WHEN done THEN each is in the audit log, shown in Japanese with its reason."""
    client.login("aoki")
    client.send("/capture/files", {"files": [(io.BytesIO(b"not a scan"), "memo.txt")]},
                content_type="multipart/form-data")
    client.send("/capture/wedge", {"code": "PL1:\x00\x01"})
    _register(client, printed)
    for seq in (1, 2, 3):
        client.send(f"/notice/{ledger.query('SELECT id FROM notices WHERE seq = ?', (seq,))[0]['id']}/confirm")
    client.send("/logout")
    client.login("baba")
    client.send("/export/", {"format": "jsonl", "batch": printed.result.batch_id, "proceed": "1"})
    name = ledger.query("SELECT file_name FROM exports")[0]["file_name"]
    assert client.get(f"/export/files/{name}").status_code == 200
    assert client.get("/export/report.pdf").status_code == 200
    client.send("/logout")
    client.login("kanri")
    client.send("/audit/settings", {"same_clerk": "1", "municipality": "131016"})
    actions = [e.action for e in ledger.audit_entries()]
    assert actions.count("input.refused") == 2
    assert "export.downloaded" in actions and "report.downloaded" in actions
    assert actions.count("setting.changed") == 2
    page = client.get("/audit/").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)
    assert "入力を受け付けず" in text and "画像でも PDF でもない" in text
    assert "出力ファイルのダウンロード" in text and "処理結果一覧の表示" in text
    assert "一人体制（同じ職員が二回入力できる）" in text and "この窓口の市区町村コード" in text
