"""The dialect layer without a server: the `instr(` rewrite, and the ledger's list of tables kept in one accord
(the migrations, `transfer.COPY_ORDER`, `connection._TABLES`)."""

from __future__ import annotations

from pathlib import Path

from paperlink.ledger import Ledger, transfer
from paperlink.ledger.connection import _TABLES
from paperlink.ledger.dialect import to_postgresql


def test_instr_is_rewritten_only_as_a_whole_name() -> None:
    assert to_postgresql("SELECT mainstr(x), INSTR(y, ?) FROM t WHERE z = 'instr('") == \
        "SELECT mainstr(x), strpos(y, %s) FROM t WHERE z = 'instr('"
    assert to_postgresql("SELECT my_instr(a) + instr(b, 'c')", placeholders=False) == \
        "SELECT my_instr(a) + strpos(b, 'c')"


def test_the_migrated_tables_are_the_ones_copied_and_counted(tmp_path: Path) -> None:
    """Every table the migrations make is copied by `ledger migrate` (COPY_ORDER) and known to `Ledger.count`
    (_TABLES): a new table left out of either would be silently lost on the way to PostgreSQL."""
    with Ledger(tmp_path / "x.sqlite3", anchored=False) as ledger:
        made = {r[0] for r in ledger.query("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not str(r[0]).startswith("sqlite_")}
    assert made == {table for table, _ in transfer.COPY_ORDER} == set(_TABLES)
