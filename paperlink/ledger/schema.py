"""The ledger's schema: numbered migrations, and the enums and transitions that the SQL CHECKs mirror.

Every value the ledger stores in a constrained column is a member of one of these enums; nothing outside
this module spells a state, a method, a channel or a round as a bare literal. `TRANSITIONS` is the notice
state machine: the store refuses every move that is not in it (`IllegalTransition`). A test checks that the
enums and the CHECK constraints of a freshly migrated ledger name the same values.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class NoticeState(StrEnum):
    """Where a notice stands (the `notices.state` column)."""

    MISSING = "missing"
    """未着: listed by a cover sheet (or a manual notice), nothing read or typed yet."""
    DECODED = "decoded"
    """読取済: its sheet's code was read; waiting for a clerk to confirm."""
    CONFIRMED = "confirmed"
    """確認済: confirmed from a verified code, accepted by a reviewer, or delivered by line or media."""
    FIRST_ENTRY = "first_entry"
    """一次入力済: typed once; waiting for the blind second entry."""
    MISMATCH = "mismatch"
    """不一致: the two entries differ; the differing items are re-keyed."""
    DONE = "done"
    """完了: settled by double entry."""
    HELD = "held"
    """保留: held with a reason (invalid, addressed to another municipality, unprintable); the rest of its batch
    goes on. Released once corrected: back to 未着 (paper, to be read or typed again) or 確認済 (a corrected record)."""

    def message(self, lang: str = "en") -> str:
        """The state as a message parameter: its value in English, its label (未着, 読取済, …) in Japanese."""
        if lang != "ja":
            return self.value
        from paperlink.labels import STATE_LABELS

        return STATE_LABELS[self]


VERIFIED_STATES: frozenset[NoticeState] = frozenset({NoticeState.CONFIRMED, NoticeState.DONE})
"""States in which a notice's record is verified and may be exported."""

ENTRY_STATES: frozenset[NoticeState] = frozenset({NoticeState.MISSING, NoticeState.FIRST_ENTRY})
"""States in which a notice takes a first or second typed entry."""

TRANSITIONS: dict[NoticeState | None, frozenset[NoticeState]] = {
    # None: the notice does not exist yet – what a new row may start as
    None: frozenset({NoticeState.MISSING, NoticeState.DECODED, NoticeState.CONFIRMED, NoticeState.HELD}),
    NoticeState.MISSING: frozenset({NoticeState.DECODED, NoticeState.FIRST_ENTRY, NoticeState.CONFIRMED}),
    NoticeState.DECODED: frozenset({NoticeState.CONFIRMED}),
    NoticeState.FIRST_ENTRY: frozenset({NoticeState.MISMATCH, NoticeState.DONE}),
    NoticeState.MISMATCH: frozenset({NoticeState.DONE}),
    NoticeState.CONFIRMED: frozenset({NoticeState.HELD}),
    NoticeState.DONE: frozenset({NoticeState.HELD}),
    NoticeState.HELD: frozenset({NoticeState.MISSING, NoticeState.CONFIRMED}),
}
"""The allowed moves of a notice: state → the states it may move to."""


class Transport(StrEnum):
    """How a batch reached this office (`batches.transport`)."""

    PAPER = "paper"
    LINE = "line"
    MEDIA = "media"


class Channel(StrEnum):
    """How one code or batch came in (`captures.channel`)."""

    FILE = "file"
    FOLDER = "folder"
    WEBCAM = "webcam"
    WEDGE = "wedge"
    LINE = "line"
    MEDIA = "media"


class VerificationMethod(StrEnum):
    """How a notice's record was verified (`verifications.method`)."""

    QR = "qr"
    DOUBLE_ENTRY = "double_entry"
    OVERRIDE = "override"
    LINE = "line"
    MEDIA = "media"


class EntryRound(IntEnum):
    """What a typed entry is (`entries.round`)."""

    FIRST = 1
    SECOND = 2
    SETTLED = 3
    """Re-keyed values that settled differing items (each equal to one of the two entries, or confirmed)."""
    CANDIDATE = 4
    """A re-keyed value that matched neither entry; settled once keyed again the same way by another clerk."""


class CaptureOutcome(StrEnum):
    """What recording one scanned code did (`captures.outcome`)."""

    NEW = "new"
    DUPLICATE = "duplicate"
    REGISTERED = "registered"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    FOREIGN = "foreign"


class ScanFileOutcome(StrEnum):
    """What became of one file of the scan folder (`scanned_files.outcome`)."""

    DONE = "done"
    FAILED = "failed"


class OutboxState(StrEnum):
    """What the sending side did with one notice of a batch it printed, sent or bundled (`outbox.state`)."""

    SENT = "sent"
    """printed, delivered into the shared folder or sealed into a bundle."""
    HELD = "held"
    """held here with its reason (invalid, or a character no print font has): not sent."""


class ReceiptStatus(StrEnum):
    """Where one notice stands at the receiving side, as its signed receipt says (`outbox.ack`)."""

    RECEIVED = "received"
    """known to the receiving ledger, not yet verified (paper waiting for confirmation or typing)."""
    HELD = "held"
    """held there with a reason."""
    ENTERED = "entered"
    """verified (confirmed, double entry settled, or delivered by line or media)."""
    EXPORTED = "exported"
    """written into an export file for the register (final)."""
    MISSING = "missing"
    """listed by the batch but never received (a sheet that has not come)."""


class MediaDirection(StrEnum):
    """Whether a USB bundle was written here or read here (`media_register.direction`)."""

    OUT = "out"
    IN = "in"


MIGRATIONS: tuple[str, ...] = (
    # 1: batches, notices, captures, scanned files, the audit log
    """
    CREATE TABLE batches (
        batch_id TEXT PRIMARY KEY,
        transport TEXT NOT NULL CHECK (transport IN ('paper', 'line', 'media')),
        total INTEGER NOT NULL CHECK (total >= 0),
        key_id TEXT,
        registered_at TEXT NOT NULL,
        registered_by TEXT NOT NULL,
        manifest_seen INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        batch_id TEXT NOT NULL REFERENCES batches(batch_id),
        seq INTEGER NOT NULL CHECK (seq >= 1),
        notice_id TEXT,
        manifest_hash BLOB,
        record_json TEXT,
        digest BLOB,
        state TEXT NOT NULL DEFAULT 'missing'
            CHECK (state IN ('missing', 'decoded', 'confirmed', 'first_entry', 'mismatch', 'done')),
        verified INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        UNIQUE (batch_id, seq),
        UNIQUE (batch_id, notice_id)
    );
    CREATE TABLE captures (
        id INTEGER PRIMARY KEY,
        notice_row INTEGER REFERENCES notices(id),
        batch_id TEXT,
        seq INTEGER,
        channel TEXT NOT NULL CHECK (channel IN ('file', 'folder', 'webcam', 'wedge', 'line', 'media')),
        source TEXT NOT NULL,
        page INTEGER NOT NULL,
        payload TEXT,
        verified INTEGER NOT NULL DEFAULT 0,
        outcome TEXT NOT NULL,
        error TEXT,
        captured_at TEXT NOT NULL,
        actor TEXT NOT NULL
    );
    CREATE INDEX captures_by_notice ON captures(notice_row);
    CREATE TABLE scanned_files (
        sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        processed_at TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('done', 'failed')),
        reason TEXT
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 2: clerks, double entries, verifications, exports, settings
    """
    CREATE TABLE users (
        login TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        roles TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    );
    CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        notice_row INTEGER NOT NULL REFERENCES notices(id),
        round INTEGER NOT NULL CHECK (round IN (1, 2, 3, 4)),
        record_json TEXT NOT NULL,
        check_code TEXT,
        clerk TEXT NOT NULL,
        entered_at TEXT NOT NULL
    );
    CREATE INDEX entries_by_notice ON entries(notice_row);
    CREATE TABLE verifications (
        id INTEGER PRIMARY KEY,
        notice_row INTEGER NOT NULL UNIQUE REFERENCES notices(id),
        method TEXT NOT NULL CHECK (method IN ('qr', 'double_entry', 'override', 'line', 'media')),
        entered_by TEXT,
        verified_by TEXT NOT NULL,
        verified_at TEXT NOT NULL,
        reason TEXT
    );
    CREATE TABLE exports (
        id INTEGER PRIMARY KEY,
        batch_id TEXT NOT NULL REFERENCES batches(batch_id),
        format TEXT NOT NULL,
        file_name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        exported_at TEXT NOT NULL,
        clerk TEXT NOT NULL
    );
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 3: batches delivered by line or media, and the media register
    """
    ALTER TABLE batches ADD COLUMN data_sha256 TEXT;
    CREATE TABLE media_register (
        id INTEGER PRIMARY KEY,
        batch_id TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
        bundle_name TEXT NOT NULL,
        bundle_sha256 TEXT NOT NULL,
        count INTEGER NOT NULL,
        clerk TEXT NOT NULL,
        at TEXT NOT NULL
    );
    """,
    # 4: erasure of personal data after the retention period
    """
    ALTER TABLE batches ADD COLUMN erased_at TEXT;
    """,
    # 5: a capture keeps the code of why it was not accepted (the screen words it from the code, never the text);
    #    captures made before keep their English text, from which the two codes they can have are recovered
    """
    ALTER TABLE captures ADD COLUMN error_code TEXT;
    UPDATE captures SET error_code = 'payload_unknown_key' WHERE error LIKE 'unknown key:%';
    UPDATE captures SET error_code = 'payload_bad_signature' WHERE error LIKE 'signature check failed%';
    """,
    # 6: a new password or a deactivation ends the account's open sessions (a session carries the epoch it began in)
    """
    ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: per-notice holds (the state 'held' and its reasons), each notice's export time, the sending side's outbox,
    # and batch receipts.
    # SQLite cannot widen a CHECK in place: the notices table is rebuilt (foreign keys are off while migrating).
    """
    CREATE TABLE notices_v6 (
        id INTEGER PRIMARY KEY,
        batch_id TEXT NOT NULL REFERENCES batches(batch_id),
        seq INTEGER NOT NULL CHECK (seq >= 1),
        notice_id TEXT,
        manifest_hash BLOB,
        record_json TEXT,
        digest BLOB,
        state TEXT NOT NULL DEFAULT 'missing'
            CHECK (state IN ('missing', 'decoded', 'confirmed', 'first_entry', 'mismatch', 'done', 'held')),
        verified INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        exported_at TEXT,
        UNIQUE (batch_id, seq),
        UNIQUE (batch_id, notice_id)
    );
    INSERT INTO notices_v6 (id, batch_id, seq, notice_id, manifest_hash, record_json, digest, state, verified,
        updated_at, exported_at) SELECT id, batch_id, seq, notice_id, manifest_hash, record_json, digest, state,
        verified, updated_at, (SELECT MIN(e.exported_at) FROM exports e WHERE e.batch_id = notices.batch_id)
        FROM notices;
    DROP TABLE notices;
    ALTER TABLE notices_v6 RENAME TO notices;
    CREATE TABLE holds (
        id INTEGER PRIMARY KEY,
        notice_row INTEGER NOT NULL REFERENCES notices(id),
        reason_code TEXT NOT NULL,
        params TEXT NOT NULL,
        raw_record TEXT,
        held_at TEXT NOT NULL,
        held_by TEXT NOT NULL,
        released_at TEXT,
        released_by TEXT,
        release_note TEXT
    );
    CREATE INDEX holds_by_notice ON holds(notice_row);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        batch_id TEXT NOT NULL,
        seq INTEGER,
        total INTEGER NOT NULL,
        notice_id TEXT,
        line INTEGER,
        transport TEXT NOT NULL CHECK (transport IN ('paper', 'line', 'media')),
        state TEXT NOT NULL CHECK (state IN ('sent', 'held')),
        reason_code TEXT,
        params TEXT,
        at TEXT NOT NULL,
        clerk TEXT NOT NULL,
        ack TEXT CHECK (ack IN ('received', 'held', 'entered', 'exported', 'missing')),
        ack_reason TEXT,
        ack_at TEXT,
        UNIQUE (batch_id, seq)
    );
    CREATE TABLE receipts (
        id INTEGER PRIMARY KEY,
        batch_id TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
        issued TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        key_id TEXT NOT NULL,
        via TEXT NOT NULL,
        at TEXT NOT NULL,
        clerk TEXT NOT NULL
    );
    """,
    # 8: items of a first entry that were proven from the sheet's printed text (their check characters matched),
    #    as a JSON list of item keys; NULL for an entry typed in full (issue 14)
    """
    ALTER TABLE entries ADD COLUMN printed TEXT;
    """,
)
"""The migrations, in order, as literal SQL: a migration once released never changes (a new one is added).
`PRAGMA user_version` records how many a ledger has applied."""

