"""The batch board (home page): today's batches and older open ones, every notice's state and next action."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, render_template, url_for

from paperlink.dates import JST, japan_time
from paperlink.export import STATE_LABELS
from paperlink.intake import BatchStatus, batch_status
from paperlink.ledger import Ledger
from paperlink.web.auth import login_required
from paperlink.web.db import get_ledger

bp = Blueprint("batches", __name__)

STATE_ORDER = ("missing", "decoded", "confirmed", "first_entry", "mismatch", "done")
NEXT_ACTION = {"missing": "手入力", "decoded": "確認する", "confirmed": "表示", "first_entry": "二回目の入力",
               "mismatch": "不一致を解消", "done": "表示"}


@dataclass(frozen=True)
class NoticeLine:
    """One notice of a batch on the board."""

    row_id: int | None
    seq: int
    notice_id: str | None
    state: str
    action: str
    url: str | None


@dataclass(frozen=True)
class BatchCard:
    """One batch on the board."""

    status: BatchStatus
    registered_at: str
    exported: bool
    manual: bool
    lines: list[NoticeLine]

    @property
    def counts(self) -> dict[str, int]:
        """Notices per state (a sheet never seen counts as 未着)."""
        out = dict.fromkeys(STATE_ORDER, 0)
        for line in self.lines:
            out[line.state] += 1
        return out

    @property
    def received(self) -> int:
        """Sheets received (read or typed): every notice not 未着."""
        return self.status.total - self.counts["missing"]

    @property
    def missing(self) -> list[NoticeLine]:
        """The sheets still missing, by n/N."""
        return [line for line in self.lines if line.state == "missing"]

    @property
    def percent(self) -> int:
        """Share of notices verified (確認済 or 完了)."""
        done = self.counts["confirmed"] + self.counts["done"]
        return round(100 * done / self.status.total) if self.status.total else 0


def next_url(row_id: int, state: str) -> str:
    """Where a notice's next action happens."""
    if state in ("missing", "first_entry"):
        return url_for("entry.form", row_id=row_id)
    if state == "mismatch":
        return url_for("entry.resolve_form", row_id=row_id)
    return url_for("confirm.notice", row_id=row_id)


def batch_cards(ledger: Ledger, today: str) -> list[BatchCard]:
    """Batches registered today, and older ones not yet exported (newest first)."""
    rows = ledger.query(
        "SELECT b.*, EXISTS (SELECT 1 FROM exports e WHERE e.batch_id = b.batch_id) AS exported FROM batches b"
        " ORDER BY b.registered_at DESC, b.batch_id")
    cards = []
    for batch in rows:
        if batch["exported"] and not japan_time(batch["registered_at"]).startswith(today):
            continue
        status = batch_status(ledger, batch["batch_id"])
        if status is None:
            continue
        known = {r["seq"]: r for r in ledger.query("SELECT id, seq, notice_id, state, digest FROM notices"
                                                   " WHERE batch_id = ? ORDER BY seq", (batch["batch_id"],))}
        lines = []
        for seq in range(1, status.total + 1):
            r = known.get(seq)
            if r is None:
                lines.append(NoticeLine(None, seq, None, "missing", "用紙の読取待ち", None))
            else:
                state = str(r["state"])
                lines.append(NoticeLine(int(r["id"]), seq, r["notice_id"], state, NEXT_ACTION[state],
                                        next_url(int(r["id"]), state)))
        cards.append(BatchCard(status, batch["registered_at"], bool(batch["exported"]),
                               batch["key_id"] is None, lines))
    return cards


@bp.route("/board")
@login_required
def board() -> str:
    """The home page."""
    today = dt.datetime.now(JST).date().isoformat()
    return render_template("batches/board.html", cards=batch_cards(get_ledger(), today), labels=STATE_LABELS,
                           order=STATE_ORDER)
