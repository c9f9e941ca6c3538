"""The ledger owns its schema: enums mirror the SQL CHECKs, the state machine refuses illegal moves, and no SQL
or notice-state literal lives outside paperlink/ledger/."""

from __future__ import annotations

import ast
import re
from enum import Enum
from pathlib import Path

import pytest

from paperlink.ledger import IllegalTransition, Ledger, NoticeState, store
from paperlink.ledger.schema import (
    MIGRATIONS,
    TRANSITIONS,
    Channel,
    EntryRound,
    MediaDirection,
    OutboxState,
    ScanFileOutcome,
    Transport,
    VerificationMethod,
)

PACKAGE = Path(__file__).resolve().parents[1] / "paperlink"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

CONSTRAINED = [("notices", "state", NoticeState), ("batches", "transport", Transport), ("captures", "channel", Channel),
               ("verifications", "method", VerificationMethod), ("entries", "round", EntryRound),
               ("scanned_files", "outcome", ScanFileOutcome), ("media_register", "direction", MediaDirection),
               ("outbox", "state", OutboxState), ("receipts", "direction", MediaDirection)]


@pytest.fixture
def ledger(tmp_path: Path):  # type: ignore[no-untyped-def]
    with Ledger(tmp_path / "ledger.sqlite3") as led:
        yield led


def check_values(ledger: Ledger, table: str, column: str) -> set[str]:
    """The values a table's CHECK (column IN (...)) admits, read back from the migrated ledger's own schema."""
    sql = ledger.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))[0][0]
    found = re.search(rf"CHECK \({column} IN \(([^)]*)\)\)", sql)
    assert found, f"{table}.{column} has no CHECK constraint"
    return {v.strip().strip("'") for v in found.group(1).split(",")}


@pytest.mark.parametrize(("table", "column", "enum"), CONSTRAINED, ids=[f"{t}.{c}" for t, c, _ in CONSTRAINED])
def test_enum_matches_the_check_constraint(ledger: Ledger, table: str, column: str, enum: type[Enum]) -> None:
    """GIVEN a freshly migrated ledger THEN each constrained column admits exactly its enum's values."""
    assert check_values(ledger, table, column) == {str(member.value) for member in enum}


def test_every_state_has_a_row_in_the_transition_table() -> None:
    assert set(TRANSITIONS) == {None, *NoticeState}
    for targets in TRANSITIONS.values():
        assert targets <= set(NoticeState)


def _notice_in(ledger: Ledger, state: NoticeState, seq: int) -> int:
    """A notice forced into `state` (by raw SQL: the test sets up what the store would refuse to create)."""
    with ledger.transaction():
        if store.batch(ledger, "B1") is None:
            store.register_batch(ledger, "B1", Transport.PAPER, 20, None, "test")
        pk = store.add_notice(ledger, "B1", seq, NoticeState.MISSING)
        ledger.db.execute("UPDATE notices SET state = ? WHERE id = ?", (state.value, pk))
    return pk


@pytest.mark.parametrize("source", list(NoticeState))
def test_the_store_moves_exactly_what_the_transition_table_allows(ledger: Ledger, source: NoticeState) -> None:
    """GIVEN a notice in each state WHEN moved to each state THEN allowed moves happen and the others raise."""
    for seq, target in enumerate(NoticeState, start=1):
        pk = _notice_in(ledger, source, seq)
        if target in TRANSITIONS[source]:
            with ledger.transaction():
                assert store.move_notice(ledger, pk, target).state is target
        else:
            with pytest.raises(IllegalTransition) as refused, ledger.transaction():
                store.move_notice(ledger, pk, target)
            assert refused.value.code == "ledger_illegal_transition"
            assert store.notice(ledger, pk).state is source  # nothing changed


def test_a_new_notice_can_only_start_where_the_table_allows(ledger: Ledger) -> None:
    with ledger.transaction():
        store.register_batch(ledger, "B1", Transport.PAPER, 3, None, "test")
    with pytest.raises(IllegalTransition), ledger.transaction():
        store.add_notice(ledger, "B1", 1, NoticeState.DONE)
    assert ledger.query("SELECT COUNT(*) FROM notices")[0][0] == 0


def test_store_writes_need_a_transaction(ledger: Ledger) -> None:
    from paperlink.ledger import LedgerError

    with pytest.raises(LedgerError) as outside:
        store.register_batch(ledger, "B1", Transport.PAPER, 1, None, "test")
    assert outside.value.code == "ledger_outside_transaction"


# a migration only a test ever applies: the notices table rebuilt to admit one more state, 'archived'
DUMMY_STATE_MIGRATION = """
PRAGMA legacy_alter_table = ON;
CREATE TABLE notices_new (
    id INTEGER PRIMARY KEY,
    batch_id TEXT NOT NULL REFERENCES batches(batch_id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    notice_id TEXT,
    manifest_hash BLOB,
    record_json TEXT,
    digest BLOB,
    state TEXT NOT NULL DEFAULT 'missing'
        CHECK (state IN ('missing', 'decoded', 'confirmed', 'first_entry', 'mismatch', 'done', 'held', 'archived')),
    verified INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    exported_at TEXT,
    UNIQUE (batch_id, seq),
    UNIQUE (batch_id, notice_id)
);
INSERT INTO notices_new SELECT * FROM notices;
DROP TABLE notices;
ALTER TABLE notices_new RENAME TO notices;
"""


def test_a_state_added_by_a_migration_is_refused_until_the_transition_table_names_it(tmp_path: Path) -> None:
    """GIVEN a test-only migration whose CHECK admits a dummy state 'archived'
    WHEN a notice is moved there THEN the database would take it, but the store refuses: no transition leads there."""
    with Ledger(tmp_path / "dummy.sqlite3", migrations=(*MIGRATIONS, DUMMY_STATE_MIGRATION)) as ledger:
        assert ledger.schema_version == len(MIGRATIONS) + 1
        assert "archived" in check_values(ledger, "notices", "state")
        with ledger.transaction():
            store.register_batch(ledger, "B1", Transport.PAPER, 1, None, "test")
            pk = store.add_notice(ledger, "B1", 1, NoticeState.MISSING)
        for target in ("archived",):
            with pytest.raises(IllegalTransition) as refused, ledger.transaction():
                store.move_notice(ledger, pk, target)
            assert refused.value.params == {"state": "missing", "target": "archived"}
        assert store.notice(ledger, pk).state is NoticeState.MISSING
        with ledger.transaction():  # the schema alone would have let it through
            ledger.db.execute("UPDATE notices SET state = 'archived' WHERE id = ?", (pk,))


# -- one owner: SQL and state literals only under paperlink/ledger/ ------------------------------------

SQL = re.compile(r"\b(SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|TRIGGER)"
                 r"|ALTER\s+TABLE|PRAGMA\s+\w+)", re.IGNORECASE)
STATE_VALUES = {s.value for s in NoticeState}


def _outside_ledger() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "ledger" not in p.relative_to(PACKAGE).parts)


def test_no_sql_outside_the_ledger_package() -> None:
    offenders = []
    for path in _outside_ledger():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value[:60]!r}")
    assert not offenders, "SQL outside paperlink/ledger/:\n" + "\n".join(offenders)


def _is_state(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "state") or \
        (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == "state")


def _literals(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [v for e in node.elts for v in _literals(e)]
    return []


def test_no_notice_state_literal_outside_the_schema() -> None:
    """States are compared as NoticeState members; a bare 'decoded' or ("missing", …) against a state is a bug."""
    distinctive = STATE_VALUES - {"missing", "done"}  # 'missing' and 'done' are also a message code and a folder
    offenders = []
    for path in _outside_ledger():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and node.value in distinctive:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}")
            if isinstance(node, ast.Compare) and any(_is_state(side) for side in (node.left, *node.comparators)):
                for side in (node.left, *node.comparators):
                    offenders += [f"{path.relative_to(PACKAGE)}:{node.lineno}: {v!r}" for v in _literals(side)
                                  if v in STATE_VALUES]
    for template in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(template.read_text("utf-8").splitlines(), start=1):
            if re.search(r"state\s*(==|!=|in)\s*[('\"]", line):
                offenders.append(f"templates/{template.relative_to(TEMPLATES)}:{number}: {line.strip()[:60]}")
    assert not offenders, "notice states spelled as literals:\n" + "\n".join(offenders)


def test_every_state_and_method_has_its_labels() -> None:
    from paperlink.labels import METHOD_LABELS, NEXT_ACTION, STATE_LABELS, STATE_ORDER, VERIFIED_BY_LABELS

    assert set(STATE_LABELS) == set(NEXT_ACTION) == set(STATE_ORDER) == set(NoticeState)
    assert set(METHOD_LABELS) == set(VERIFIED_BY_LABELS) == set(VerificationMethod)
