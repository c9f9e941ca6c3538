"""The audit log in Japanese: a label for every action and detail, and each detail's value worded for a clerk.

The log itself keeps neutral facts (action names such as `notice.confirmed`, detail keys, codes). The screen
shows them through these tables; an action or a key missing here is shown as a generic Japanese line
(「その他の操作」), never as the raw English name – a test walks every action the code writes.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from paperlink.ledger.audit import AuditEntry
from paperlink.messages import MESSAGES

ACTION_LABELS: dict[str, str] = {
    "login.ok": "ログイン",
    "login.failed": "ログイン失敗",
    "login.locked": "ログイン停止（失敗が続いたため）",
    "logout": "ログアウト",
    "user.added": "職員の追加",
    "user.password_set": "パスワードの設定",
    "user.activated": "職員の有効化",
    "user.deactivated": "職員の無効化",
    "batch.registered": "バッチの登録",
    "capture.new": "用紙の読取（新規）",
    "capture.duplicate": "用紙の読取（重複）",
    "capture.registered": "表紙の読取（登録）",
    "capture.conflict": "読取を保留（台帳と矛盾）",
    "capture.rejected": "読取を保留（検証できない）",
    "capture.foreign": "読取を拒否（別の市区町村宛て）",
    "input.refused": "入力を受け付けず",
    "scan_folder.refused": "スキャンフォルダーのファイルを読まずに退避",
    "notice.held": "通知を保留",
    "notice.released": "保留を解除",
    "paper.printed": "通知用紙の印刷",
    "receipt.issued": "受領書の発行",
    "receipt.imported": "受領書の取込",
    "audit.restored": "復元後の監査ログ確認（目印の退避）",
    "notice.confirmed": "確認",
    "notice.override": "審査で受理",
    "entry.manual_notice": "手入力の通知を追加",
    "entry.first": "一回目の入力",
    "entry.printed_kept": "印字の読取結果を保存",
    "entry.printed_bound": "印字の読取結果を通知に結び付け",
    "entry.mismatch": "二回目の入力（不一致）",
    "entry.done": "二重入力で完了",
    "entry.rekeyed": "不一致の項目を確定",
    "entry.rekey_candidate": "入力し直し（未確定）",
    "entry.same_clerk_login": "同じ職員の再認証",
    "export.written": "出力",
    "export.downloaded": "出力ファイルのダウンロード",
    "report.downloaded": "処理結果一覧の表示",
    "setting.changed": "設定の変更",
    "backup.written": "バックアップ",
    "retention.erased": "保存期間後の消去",
    "media.written": "媒体（USB）の作成",
    "media.imported": "媒体（USB）の取込",
    "media.duplicate": "媒体（USB）の取込（取込済）",
    "line.sent": "共有フォルダーへの送信",
    "line.imported": "共有フォルダーからの取込",
    "line.duplicate": "共有フォルダーからの取込（取込済）",
    "line.quarantined": "共有フォルダーの受信を隔離",
    "scan_folder.done": "スキャンフォルダーの取込",
    "scan_folder.failed": "スキャンフォルダーの取込（読めないページあり）",
    "ledger.migrated": "台帳を PostgreSQL サーバーへ移行",
}
"""Every action the code writes, in Japanese (tests/web/test_audit_view.py checks that none is missing)."""

ACTION_GROUPS: dict[str, str] = {
    "login": "ログイン", "user": "職員", "batch": "バッチ", "capture": "読取", "input": "受け付けなかった入力",
    "notice": "確認・審査", "entry": "手入力（二重入力）", "export": "出力", "report": "処理結果一覧",
    "setting": "設定", "backup": "バックアップ", "retention": "消去", "media": "媒体（USB）",
    "line": "共有フォルダー", "scan_folder": "スキャンフォルダー", "ledger": "台帳",
}
"""The action filter's choices: an action's group is the part before the first dot."""

DETAIL_LABELS: dict[str, str] = {
    "seq": "連番", "notice_id": "通知番号", "count": "件数", "reason": "理由", "same_clerk": "同じ職員",
    "page": "ページ", "notices": "通知件数", "items": "違いのあった項目", "channel": "読取方法", "capture": "読取番号",
    "via": "登録のもと", "value": "値", "total": "件数", "source": "ファイル", "settled": "確定した項目",
    "roles": "役割", "retention_days": "保存日数", "other": "宛先の市区町村", "office": "この窓口",
    "notice": "通知", "minutes": "分", "method": "確認方法", "login": "ログイン名", "key_id": "鍵",
    "format": "形式", "folder": "フォルダー", "files": "ファイル", "file": "ファイル", "error": "検証の結果",
    "entered_by": "入力した職員", "display_name": "氏名", "differences": "違い", "bundle": "媒体ファイル",
    "audit_entries": "監査記録の件数", "sha256": "SHA-256", "code": "結果", "batches": "バッチ数",
    "codes": "結果", "setting": "設定", "again": "再ダウンロード",
    "held": "保留", "anchored_before": "復元前に目印のあった件数", "state": "状態", "archive": "退避先",
    "note": "メモ", "statuses": "状態ごとの件数", "printed": "印字から読取（検字一致）の項目",
    "tables": "表の数", "rows": "行数", "head": "監査ログの末尾ハッシュ",
    "row": "通知（台帳の行番号）",
}
"""Every detail key, in Japanese."""

HIDDEN_DETAILS = frozenset({"message"})
"""Detail keys not shown: `message` is the English wording of `code` (kept for the command line)."""

CHANNEL_LABELS = {"file": "ファイル", "folder": "スキャンフォルダー", "webcam": "カメラ", "wedge": "スキャナー",
                  "line": "回線", "media": "媒体"}
METHOD_LABELS = {"qr": "QR コード", "double_entry": "二重入力", "override": "審査", "line": "回線", "media": "媒体"}
ROLE_LABELS = {"entry": "入力", "review": "審査", "admin": "管理"}
VIA_LABELS = {"manifest": "表紙", "sheet": "用紙"}
FORMAT_LABELS = {"jsonl": "通知データ（JSONL）", "csv": "CSV（UTF-8）", "csv-cp932": "CSV（Shift_JIS）"}

SETTING_LABELS = {"double_entry.allow_same_clerk": "一人体制（同じ職員が二回入力できる）",
                  "office.municipality_code": "この窓口の市区町村コード",
                  "retention.days": "保存期間（日）"}
"""Setting keys in the words of the settings page."""

ITEM_LABELS_FALLBACK = "項目"


def _item_label(item: str) -> str:
    from paperlink.labels import entry_item_label

    try:
        return entry_item_label(item)
    except (KeyError, ValueError):
        return item


def _message_ja(code: str, params: dict[str, Any]) -> str:
    """The catalogue's Japanese text for `code`, its placeholders filled from the detail (or 「…」)."""
    template = MESSAGES.get(code, (None, None))[1]
    if template is None:
        return "（記録された結果）"
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return template.format(**{name: params.get(name, "…") for name in names})


def value_text(key: str, value: Any, detail: dict[str, Any]) -> str:
    """One detail's value in Japanese."""
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if key == "channel":
        return CHANNEL_LABELS.get(str(value), str(value))
    if key == "method":
        return METHOD_LABELS.get(str(value), str(value))
    if key == "roles":
        return "・".join(ROLE_LABELS.get(str(r), str(r)) for r in value)
    if key == "via":
        return VIA_LABELS.get(str(value), str(value))
    if key == "format":
        return FORMAT_LABELS.get(str(value), str(value))
    if key in ("items", "settled", "printed"):
        return "、".join(_item_label(str(i)) for i in value)
    if key == "code":
        return _message_ja(str(value), {"batch": detail.get("batch_id", "…"), **detail})
    if key == "codes":
        return "、".join(_message_ja(str(c), {}) for c in value)
    if key == "error" and value:
        return "署名を検証できませんでした"
    if key == "sha256":
        return str(value)[:16] + "…"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class AuditLine:
    """One audit entry as the screen shows it."""

    entry: AuditEntry
    action: str
    subject: str
    details: tuple[tuple[str, str], ...]


def describe(entry: AuditEntry) -> AuditLine:
    """An audit entry in Japanese."""
    action = ACTION_LABELS.get(entry.action, "その他の操作")
    subject = entry.subject
    detail = dict(entry.detail)
    if entry.action == "setting.changed":
        subject = SETTING_LABELS.get(entry.subject, "設定")
        if entry.subject == "double_entry.allow_same_clerk":
            detail["value"] = "許可する" if detail.get("value") == "1" else "許可しない"
    if entry.action in ("login.ok", "login.failed", "login.locked") and subject == "session":
        subject = "―"
    if entry.action == "entry.first":
        detail.pop("notice_id", None)  # older logs kept the id the first clerk typed: never shown before entry 2
    if entry.action.startswith("line.") and "reason" in detail:
        detail["reason"] = "詳しい理由は共有フォルダーの quarantine にある理由ファイルを見てください"
    if entry.action.startswith("scan_folder.") and "reason" in detail:
        detail["reason"] = "読めないページがありました" if detail["reason"] else None
    shown = []
    for key, value in detail.items():
        if key in HIDDEN_DETAILS or value is None or value == [] or value == "":
            continue
        shown.append((DETAIL_LABELS.get(key, ITEM_LABELS_FALLBACK),
                      value_text(key, value, {"batch_id": entry.subject, **entry.detail})))
    return AuditLine(entry, action, subject, tuple(shown))
