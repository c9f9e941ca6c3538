"""The ledger: paperlink's state in one database, and the only place that knows its schema and speaks SQL.

- `connection` – the `Ledger` (connection, transactions, settings, the file as a whole);
- `schema` – migrations, and the notice states, transports, channels, verification methods and entry
  rounds as enums, with the notice state machine (`TRANSITIONS`);
- `audit` – the hash-chained, append-only audit log;
- `store` – the only writer of batches, notices, captures, entries, verifications and exports;
- `accounts` – clerks' account rows; `registers` – the scan folder's files and the media register;
- `views` – read models for the screen and the command line (board, entry queue, batch status, …).
"""

from paperlink.ledger import accounts, registers, store, views
from paperlink.ledger.audit import GENESIS, AuditEntry, entry_hash
from paperlink.ledger.connection import IllegalTransition, Ledger, LedgerError, NoticeNotFound, now
from paperlink.ledger.schema import (
    ENTRY_STATES,
    TRANSITIONS,
    VERIFIED_STATES,
    CaptureOutcome,
    Channel,
    EntryRound,
    NoticeState,
    OutboxState,
    ReceiptStatus,
    Transport,
    VerificationMethod,
)

__all__ = ["ENTRY_STATES", "GENESIS", "TRANSITIONS", "VERIFIED_STATES", "AuditEntry", "CaptureOutcome", "Channel", "EntryRound",
           "IllegalTransition", "Ledger", "LedgerError", "NoticeNotFound", "NoticeState", "OutboxState",
           "ReceiptStatus", "Transport",
           "VerificationMethod", "accounts", "entry_hash", "now", "registers", "store", "views"]
