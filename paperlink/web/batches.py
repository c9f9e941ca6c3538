"""The batch board (home page): today's batches and older open ones, every notice's state and next action."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, render_template, url_for

from paperlink.dates import JST, japan_time
from paperlink.labels import NEXT_ACTION, STATE_LABELS, STATE_ORDER
from paperlink.ledger import VERIFIED_STATES, Ledger, NoticeState, views
from paperlink.ledger.views import BatchStatus
from paperlink.web.auth import login_required
from paperlink.web.db import get_ledger

bp = Blueprint("batches", __name__)

WAITING_FOR_SHEET = "用紙の読取待ち"
"""The next action of a position whose notice the ledger does not know yet."""


@dataclass(frozen=True)
class BoardLine:
    """One notice of a batch on the board."""

    row_id: int | None
    seq: int
    notice_id: str | None
    state: NoticeState
    action: str
    url: str | None


@dataclass(frozen=True)
class BatchCard:
    """One batch on the board."""

    status: BatchStatus
    registered_at: str
    exported: bool
    manual: bool
    lines: list[BoardLine]

    @property
    def counts(self) -> dict[NoticeState, int]:
        """Notices per state (a sheet never seen counts as 未着)."""
        out = dict.fromkeys(STATE_ORDER, 0)
        for line in self.lines:
            out[line.state] += 1
        return out

    @property
    def received(self) -> int:
        """Sheets received (read or typed): every notice not 未着."""
        return self.status.total - self.counts[NoticeState.MISSING]

    @property
    def missing(self) -> list[BoardLine]:
        """The sheets still missing, by n/N."""
        return [line for line in self.lines if line.state is NoticeState.MISSING]

    @property
    def percent(self) -> int:
        """Share of notices verified (確認済 or 完了)."""
        done = sum(self.counts[state] for state in VERIFIED_STATES)
        return round(100 * done / self.status.total) if self.status.total else 0


def next_url(row_id: int, state: NoticeState) -> str:
    """Where a notice's next action happens."""
    if state in (NoticeState.MISSING, NoticeState.FIRST_ENTRY):
        return url_for("entry.form", row_id=row_id)
    if state is NoticeState.MISMATCH:
        return url_for("entry.resolve_form", row_id=row_id)
    return url_for("confirm.notice", row_id=row_id)


def batch_cards(ledger: Ledger, today: str) -> list[BatchCard]:
    """Batches registered today, and older ones not yet exported (newest first)."""
    cards = []
    for shown in views.board(ledger):
        if shown.exported and not japan_time(shown.batch.registered_at).startswith(today):
            continue
        lines = []
        for line in shown.status.lines:
            if line.notice is None:
                lines.append(BoardLine(None, line.seq, None, NoticeState.MISSING, WAITING_FOR_SHEET, None))
            else:
                n = line.notice
                lines.append(BoardLine(n.id, n.seq, n.notice_id, n.state, NEXT_ACTION[n.state],
                                        next_url(n.id, n.state)))
        cards.append(BatchCard(shown.status, shown.batch.registered_at, shown.exported, shown.batch.manual, lines))
    return cards


@bp.route("/board")
@login_required
def board() -> str:
    """The home page."""
    today = dt.datetime.now(JST).date().isoformat()
    return render_template("batches/board.html", cards=batch_cards(get_ledger(), today), labels=STATE_LABELS,
                           order=STATE_ORDER, states=NoticeState)
