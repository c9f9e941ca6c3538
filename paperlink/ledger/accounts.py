"""Clerks' account rows. The rules (login names, roles, password hashing, throttling) live in `paperlink.users`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from paperlink.ledger.connection import Ledger, now

if TYPE_CHECKING:
    from paperlink.ledger.dialect import Row


@dataclass(frozen=True)
class AccountRow:
    """One account as stored: login, display name, roles, password hash, active."""

    login: str
    display_name: str
    roles: frozenset[str]
    password_hash: str
    active: bool
    session_epoch: int = 0

    @classmethod
    def of(cls, r: Row) -> AccountRow:
        """The row as read from `users`."""
        return cls(r["login"], r["display_name"], frozenset(filter(None, r["roles"].split(","))), r["password_hash"],
                   bool(r["active"]), int(r["session_epoch"]))


def account(ledger: Ledger, login: str) -> AccountRow | None:
    """The account with this login (active or not), or None."""
    row = ledger.db.execute("SELECT * FROM users WHERE login = ?", (login,)).fetchone()
    return AccountRow.of(row) if row else None


def accounts(ledger: Ledger) -> list[AccountRow]:
    """Every account, by login."""
    return [AccountRow.of(r) for r in ledger.db.execute("SELECT * FROM users ORDER BY login")]


def add_account(ledger: Ledger, login: str, display_name: str, roles: frozenset[str], password_hash: str) -> None:
    """A new account (the caller checked the login is free, inside the same transaction)."""
    ledger.require_transaction()
    ledger.db.execute("INSERT INTO users (login, display_name, roles, password_hash, created_at) VALUES (?,?,?,?,?)",
                      (login, display_name, ",".join(sorted(roles)), password_hash, now()))


def set_account_active(ledger: Ledger, login: str, active: bool) -> None:
    """Let an account log in, or stop it (its open sessions end: the session epoch moves on)."""
    ledger.require_transaction()
    ledger.db.execute("UPDATE users SET active = ?, session_epoch = session_epoch + 1 WHERE login = ?",
                      (int(active), login))


def set_password_hash(ledger: Ledger, login: str, password_hash: str) -> None:
    """Replace an account's password hash (its open sessions end: the session epoch moves on)."""
    ledger.require_transaction()
    ledger.db.execute("UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1 WHERE login = ?",
                      (password_hash, login))
