"""The sending side's outbox: what it printed, sent or bundled, what it held back, and what receipts said.

Every command that hands a batch on (`print`, `send`, `bundle`) records each notice with its n/N – and each
notice it held, with the reason – in one transaction with its audit entry. Receipts from the receiving side
(`paperlink.receipts`) fill in each notice's acknowledgement; `views.unacknowledged` lists what is not yet
accounted for.
"""

from __future__ import annotations

from collections.abc import Sequence

from paperlink.holding import Held, held_list
from paperlink.ledger import Ledger, OutboxState, Transport, store, views
from paperlink.ledger.rows import OutboxRow
from paperlink.notice import Notice


def record_rows(ledger: Ledger, batch_id: str, transport: Transport, notices: Sequence[Notice], held: Sequence[Held],
                clerk: str) -> None:
    """Record a batch handed on (inside the caller's transaction, with its audit entry): each notice with its n of
    N, and each notice held here with its reason."""
    total = len(notices)
    for seq, notice in enumerate(notices, start=1):
        store.add_outbox(ledger, batch_id, transport, total, clerk, seq=seq, notice_id=notice.notice_id)
    for hold in held:
        store.add_outbox(ledger, batch_id, transport, total, clerk, seq=None, notice_id=hold.notice_id,
                         line=hold.line, state=OutboxState.HELD, reason_code=hold.code, params=hold.params)


def record_printed(ledger: Ledger, batch_id: str, notices: Sequence[Notice], held: Sequence[Held], clerk: str) -> None:
    """Record a printed batch in the outbox, audited as `paper.printed` (one transaction)."""
    with ledger.transaction():
        record_rows(ledger, batch_id, Transport.PAPER, notices, held, clerk)
        ledger.audit(clerk, "paper.printed", batch_id, count=len(notices), held=held_list(held))


def unacknowledged(ledger: Ledger) -> list[OutboxRow]:
    """Every notice not yet accounted for (see `views.unacknowledged`)."""
    return views.unacknowledged(ledger)
