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
    """The values a table's CHECK (column IN (...)) admits, read back from the migrated ledger's own schema
    (SQLite keeps the CREATE TABLE text; PostgreSQL its catalogue, which reads `column = ANY (ARRAY[…])`)."""
    if ledger.backend == "postgresql":
        checks = [r[0] for r in ledger.query(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(?) AND contype = 'c'",
            (table,))]
        found = next((m for m in (re.search(rf"\(+{column} = ANY \(+ARRAY\[([^]]*)\]", c) for c in checks) if m),
                     None)
        assert found, f"{table}.{column} has no CHECK constraint: {checks}"
        return {re.sub(r"::\w+$", "", v.strip()).strip("'") for v in found.group(1).split(",")}
    sql = ledger.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))[0][0]
    found = re.search(rf"CHECK \({column} IN \(([^)]*)\)\)", sql)
    assert found, f"{table}.{column} has no CHECK constraint"
    return {v.strip().strip("'") for v in found.group(1).split(",")}


@pytest.mark.parametrize(("table", "column", "enum"), CONSTRAINED, ids=[f"{t}.{c}" for t, c, _ in CONSTRAINED])
def test_enum_matches_the_check_constraint(ledger: Ledger, table: str, column: str, enum: type[Enum]) -> None:
    """GIVEN a freshly migrated ledger THEN each constrained column admits exactly its enum's values."""
    assert check_values(ledger, table, column) == {str(member.value) for member in enum}


EXPECTED_MOVES = {
    None: {"missing", "decoded", "confirmed", "held"},
    "missing": {"decoded", "first_entry", "confirmed"},
    "decoded": {"confirmed"},
    "first_entry": {"mismatch", "done"},
    "mismatch": {"done"},
    "confirmed": {"held"},
    "done": {"held"},
    "held": {"missing", "confirmed"},
}
"""The state machine spelled out: widening it (say, done → mismatch) must be a deliberate change of this test."""


def test_the_transition_table_is_exactly_the_reviewed_one() -> None:
    assert {k.value if k else None: {t.value for t in v} for k, v in TRANSITIONS.items()} == EXPECTED_MOVES


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


def _day_of_work(ledger: Ledger) -> int:
    """A notice with what points at it: a capture, two entries and a verification."""
    with ledger.transaction():
        store.register_batch(ledger, "B1", Transport.PAPER, 2, None, "test")
        pk = store.add_notice(ledger, "B1", 1, NoticeState.MISSING, notice_id="N1")
        store.add_capture(ledger, channel=Channel.FILE, source="scan.pdf", page=1, payload="PL1:X", verified=False,
                          outcome="rejected", actor="test", batch_id="B1", seq=1, error="unknown key: 1a2b")
        store.add_entry(ledger, pk, EntryRound.FIRST, {"notice_id": "N1"}, "tanaka")
        store.move_notice(ledger, pk, NoticeState.FIRST_ENTRY)
        store.add_entry(ledger, pk, EntryRound.SECOND, {"notice_id": "N1"}, "suzuki")
        store.move_notice(ledger, pk, NoticeState.DONE)
        store.add_verification(ledger, pk, VerificationMethod.DOUBLE_ENTRY, "suzuki", entered_by="tanaka")
        store.add_notice(ledger, "B1", 2, NoticeState.MISSING)
    return pk


def test_a_state_added_by_a_migration_is_refused_until_the_transition_table_names_it(tmp_path: Path) -> None:
    """GIVEN a ledger holding a day of work, and a test-only migration that rebuilds `notices` so its CHECK admits a
    dummy state 'archived' WHEN it is migrated and a notice is moved there THEN the rebuild keeps every row and
    reference, the database would take the state, but the store refuses: no transition leads there."""
    path = tmp_path / "dummy.sqlite3"
    with Ledger(path) as ledger:
        done = _day_of_work(ledger)
    with Ledger(path, migrations=(*MIGRATIONS, DUMMY_STATE_MIGRATION)) as ledger:
        assert ledger.schema_version == len(MIGRATIONS) + 1
        assert "archived" in check_values(ledger, "notices", "state")
        assert ledger.query("PRAGMA foreign_keys")[0][0] == 1 and ledger.query("PRAGMA foreign_key_check") == []
        assert store.notice(ledger, done).state is NoticeState.DONE
        assert store.verification(ledger, done) is not None and len(store.captures_of(ledger, done)) == 1
        pk = store.notice_at(ledger, "B1", 2).id
        with pytest.raises(IllegalTransition) as refused, ledger.transaction():
            store.move_notice(ledger, pk, "archived")
        assert refused.value.params == {"state": "missing", "target": "archived"}
        assert store.notice(ledger, pk).state is NoticeState.MISSING
        with ledger.transaction():  # the schema alone would have let it through
            ledger.db.execute("UPDATE notices SET state = 'archived' WHERE id = ?", (pk,))


def test_a_migration_that_breaks_a_reference_changes_nothing(tmp_path: Path) -> None:
    from paperlink.ledger import LedgerError

    path = tmp_path / "l.sqlite3"
    with Ledger(path) as ledger:
        _day_of_work(ledger)
    dropping = "CREATE TABLE notices_new (id INTEGER PRIMARY KEY);\nDROP TABLE notices;\n" \
               "ALTER TABLE notices_new RENAME TO notices;"
    with pytest.raises(LedgerError) as broken:
        Ledger(path, migrations=(*MIGRATIONS, dropping))
    assert broken.value.code == "ledger_migration_references"
    with Ledger(path) as ledger:
        assert ledger.schema_version == len(MIGRATIONS) and ledger.count("notices") == 2


def test_captures_from_before_migration_5_keep_why_they_were_refused(tmp_path: Path) -> None:
    """GIVEN a schema-4 ledger with an unknown-key and a tampered capture WHEN opened THEN their codes are recovered,
    so the screen still says 不明な鍵 / 改ざんの疑い for them."""
    from paperlink.web.texts import signature_state

    path = tmp_path / "old.sqlite3"
    with Ledger(path, migrations=MIGRATIONS[:4]) as old, old.transaction():
        for number, error in enumerate(("unknown key: 1a2b3c4d is not trusted", "signature check failed: x")):
            old.db.execute("INSERT INTO captures (channel, source, page, payload, verified, outcome, error,"
                           " captured_at, actor) VALUES ('file', ?, 1, 'PL1:X', 0, 'rejected', ?, 'now', 't')",
                           (f"scan{number}.pdf", error))
    with Ledger(path) as ledger:
        codes = [store.capture(ledger, i).error_code for i in (1, 2)]
    assert codes == ["payload_unknown_key", "payload_bad_signature"]
    assert [signature_state(code, False) for code in codes] == ["unknown_key", "tampered"]


# -- one owner: SQL and state literals only under paperlink/ledger/ ------------------------------------

TABLES = r"(batches|notices|captures|scanned_files|audit|users|entries|verifications|exports|settings|media_register)"
SQL = re.compile(r"\b(SELECT\s+[\w*(]|INSERT\s+(OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM"
                 r"|(CREATE|DROP)\s+(TABLE|INDEX|TRIGGER|VIEW)|ALTER\s+TABLE|PRAGMA\s+\w+"
                 rf"|(UPDATE|FROM|INTO|JOIN)\s+{TABLES}\b)")
"""SQL as paperlink writes it (keywords in capitals), whole or in pieces."""
STATE_VALUES = {s.value for s in NoticeState}
CONNECTION_ATTRIBUTES = {"db", "execute", "executemany", "executescript", "cursor"}


def _outside_ledger() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "ledger" not in p.relative_to(PACKAGE).parts)


def _sql_offenders(tree: ast.AST, where: str) -> list[str]:
    offenders = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            offenders.append(f"{where}:{node.lineno}: {node.value[:60]!r}")
        if isinstance(node, ast.Attribute) and node.attr in CONNECTION_ATTRIBUTES:
            offenders.append(f"{where}:{node.lineno}: .{node.attr} (the ledger's connection)")
    return offenders


def test_no_sql_outside_the_ledger_package() -> None:
    """No SQL text and no use of the connection (`.db`, `.execute`, …) outside paperlink/ledger/ (benchmarks too)."""
    paths = [*_outside_ledger(), *sorted((PACKAGE.parent / "benchmarks").glob("*.py"))]
    offenders = [o for path in paths for o in _sql_offenders(ast.parse(path.read_text("utf-8")), path.name)]
    assert not offenders, "SQL outside paperlink/ledger/:\n" + "\n".join(offenders)


def test_the_sql_guard_finds_what_it_is_for() -> None:
    sample = ast.parse("a = 'UPDATE notices ' + 'SET state = 1'\nb = 'INSERT OR REPLACE INTO users VALUES (1)'\n"
                       "c = 'DROP TABLE exports'\nd = ledger.db.execute('x')\ne = conn.executescript(s)\n")
    found = {line.split(":")[1] for line in _sql_offenders(sample, "sample")}
    assert found == {"1", "2", "3", "4", "5"}


def _is_state(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "state") or \
        (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == "state")


def _literals(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [v for e in node.elts for v in _literals(e)]
    return []


def _state_offenders(tree: ast.AST, where: str) -> list[str]:
    """State values spelled as literals where they are compared, looked up or collected."""
    distinctive = STATE_VALUES - {"missing", "done"}  # 'missing' and 'done' are also a message code and a folder
    offenders = []

    def flag(node: ast.expr, values: list[str]) -> None:
        offenders.extend(f"{where}:{node.lineno}: {v!r}" for v in values)

    dict_keys = {id(key) for node in ast.walk(tree) if isinstance(node, ast.Dict) for key in node.keys if key}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in distinctive and id(node) not in dict_keys:
            flag(node, [node.value])  # (a dict key may name a detail that happens to be spelled like a state)
        elif isinstance(node, ast.Compare):
            # 'missing' and 'done' count where something named state is compared (they also name a folder)
            stateful = any("state" in ast.unparse(side) for side in (node.left, *node.comparators))
            for side in (node.left, *node.comparators):
                flag(node, [v for v in _literals(side) if v in distinctive or (stateful and v in STATE_VALUES)])
        elif isinstance(node, ast.Subscript):
            flag(node, [v for v in _literals(node.slice) if v in STATE_VALUES])
        elif isinstance(node, (ast.Set, ast.Tuple, ast.List)):
            values = [v for v in _literals(node) if v in STATE_VALUES]
            if len(values) > 1:
                flag(node, values)
    return sorted(set(offenders))


TEMPLATE_STATE = re.compile(r"(==|!=|\bin|[\[(,])\s*['\"](" + "|".join(sorted(STATE_VALUES)) + r")['\"]"
                            r"|['\"](" + "|".join(sorted(STATE_VALUES)) + r")['\"]\s*(==|!=|in\b)")


def test_no_notice_state_literal_outside_the_schema() -> None:
    """States are compared as NoticeState members; a bare 'decoded' or ("missing", …) against a state is a bug."""
    offenders = [o for path in _outside_ledger()
                 for o in _state_offenders(ast.parse(path.read_text("utf-8")), str(path.relative_to(PACKAGE)))]
    for template in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(template.read_text("utf-8").splitlines(), start=1):
            if TEMPLATE_STATE.search(line) or re.search(r"state(\.value)?\s*(==|!=|in)\s*[\[('\"]", line):
                offenders.append(f"templates/{template.relative_to(TEMPLATES)}:{number}: {line.strip()[:60]}")
    assert not offenders, "notice states spelled as literals:\n" + "\n".join(offenders)


def test_the_state_guard_finds_what_it_is_for() -> None:
    sample = ast.parse("if state == 'missing': pass\nx = row.state.value == 'done'\ny = counts['missing']\n"
                       "z = {'missing', 'done'}\nw = 'first_entry'\nok = ('', 'done', 'failed')\n")
    found = {line.split(":")[1] for line in _state_offenders(sample, "sample")}
    assert found == {"1", "2", "3", "4", "5"}
    assert TEMPLATE_STATE.search("{% if r.state in ['missing'] %}") and TEMPLATE_STATE.search("{{ 'done' == s }}")


def test_every_state_and_method_has_its_labels() -> None:
    from paperlink.labels import METHOD_LABELS, NEXT_ACTION, STATE_LABELS, STATE_ORDER, VERIFIED_BY_LABELS

    assert set(STATE_LABELS) == set(NEXT_ACTION) == set(STATE_ORDER) == set(NoticeState)
    assert set(METHOD_LABELS) == set(VERIFIED_BY_LABELS) == set(VerificationMethod)
