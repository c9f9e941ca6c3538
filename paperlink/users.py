"""Clerks: named accounts with a salted, memory-hard password hash (scrypt) and roles.

Roles: `entry` (入力: capture, confirm, type the first or second entry, re-key differences), `review`
(審査: accept a sheet whose signature failed, with a reason; export; the audit view), `admin` (管理: accounts,
settings; implies every role). Every change is audited.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from paperlink.errors import PaperlinkError
from paperlink.ledger import Ledger, accounts
from paperlink.ledger.accounts import AccountRow

ROLES = {"entry": "入力", "review": "審査", "admin": "管理"}
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_PASSWORD = 8


class UserError(PaperlinkError):
    """An account cannot be created or changed as asked."""


@dataclass(frozen=True)
class User:
    """A clerk."""

    login: str
    display_name: str
    roles: frozenset[str]
    active: bool
    session_epoch: int = 0
    """Moves on with every new password and (de)activation; a session begun in an earlier epoch is over."""

    def can(self, role: str) -> bool:
        """Whether the clerk holds `role` (admin implies every role)."""
        return role in self.roles or "admin" in self.roles


def hash_password(password: str) -> str:
    """scrypt with a random salt, as `scrypt$n$r$p$salt$hash` (base64)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, maxmem=64 * 1024 * 1024, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    """Whether `password` matches a stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected), maxmem=64 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return scheme == "scrypt" and hmac.compare_digest(actual, expected)


def _user(row: AccountRow) -> User:
    return User(row.login, row.display_name, row.roles, row.active, row.session_epoch)


def add_user(ledger: Ledger, login: str, display_name: str, roles: set[str] | frozenset[str], password: str,
             actor: str) -> User:
    """Create an account; UserError with the reason if the login, roles or password are not acceptable."""
    login = login.strip().lower()
    if not _LOGIN.match(login):
        raise UserError("user_login_format", login=login)
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise UserError("user_roles", roles=", ".join(ROLES), got=", ".join(sorted(roles)) or "none")
    if len(password) < MIN_PASSWORD:
        raise UserError("user_password_short", min=MIN_PASSWORD)
    if not display_name.strip():
        raise UserError("user_display_name")
    with ledger.transaction():
        if accounts.account(ledger, login) is not None:
            raise UserError("user_exists", login=login)
        accounts.add_account(ledger, login, display_name.strip(), frozenset(roles), hash_password(password))
        ledger.audit(actor, "user.added", login, roles=sorted(roles), display_name=display_name.strip())
    return User(login, display_name.strip(), frozenset(roles), True)


def get_user(ledger: Ledger, login: str) -> User | None:
    """The active or inactive account with this login."""
    row = accounts.account(ledger, login.strip().lower())
    return _user(row) if row else None


MAX_FAILURES = 5
LOCK_MINUTES = 10


class LoginThrottled(UserError):
    """Too many failed logins for this name lately; the account is locked for a while."""


def recent_failures(ledger: Ledger, login: str, minutes: int = LOCK_MINUTES) -> int:
    """Failed logins for `login` in the last `minutes` since its last success."""
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)).replace(microsecond=0).isoformat()
    return ledger.recent_actions(login, "login.failed", since, reset_action="login.ok")


MAX_LOGIN_TYPED = 64
"""Longer login names are not looked up (a login is at most 32 characters); the web form is bounded the same."""
MAX_PASSWORD_TYPED = 1024
"""Longer passwords are refused without hashing (bounds the work one request can cause)."""


def login_actor(ledger: Ledger, name: str, known: bool) -> str:
    """Who a login attempt is logged as: the login of an account, else a keyed digest of what was typed.

    Whatever was typed for an unknown name – a mistyped name, or a password typed into the name field –
    is never kept: the log holds `?` and 12 hex digits of an HMAC under the data directory's audit key,
    enough to count repeated failures of one name, useless for reading it back.
    """
    if known:
        return name
    key = ledger.anchors.key() if ledger.anchors is not None else None
    if key is None:
        return "?"
    return "?" + hmac.new(key, b"paperlink-login-name\x1f" + name.encode("utf-8", "replace"),
                          hashlib.sha256).hexdigest()[:12]


def authenticate(ledger: Ledger, login: str, password: str) -> User | None:
    """The clerk if the login exists, is active and the password matches; otherwise None (audited either way).

    After MAX_FAILURES failures within LOCK_MINUTES the name is locked (LoginThrottled) for the rest of
    that window, whatever the password: guessing is slowed to a few tries per ten minutes. The count is
    read, the password checked and the attempt logged in one write transaction, so parallel guesses are
    counted one after another: at most MAX_FAILURES passwords are checked per window, however many arrive
    at once.
    """
    name = login.strip().lower()
    row = accounts.account(ledger, name) if len(name) <= MAX_LOGIN_TYPED else None
    actor = login_actor(ledger, name, row is not None)
    locked = ok = False
    with ledger.transaction():
        if recent_failures(ledger, actor) >= MAX_FAILURES:
            ledger.audit(actor, "login.locked", "session")
            locked = True
        else:
            row = accounts.account(ledger, name) if row is not None else None
            ok = (row is not None and row.active and len(password) <= MAX_PASSWORD_TYPED
                  and check_password(password, row.password_hash))
            ledger.audit(actor, "login.ok" if ok else "login.failed", "session")
    if locked:
        raise LoginThrottled("user_throttled", login=name[:MAX_LOGIN_TYPED], minutes=LOCK_MINUTES)
    return _user(row) if ok and row is not None else None


def list_users(ledger: Ledger) -> list[User]:
    """Every account, by login."""
    return [_user(r) for r in accounts.accounts(ledger)]


def set_active(ledger: Ledger, login: str, active: bool, actor: str) -> User:
    """Deactivate (a clerk who left; their name stays in the log) or reactivate an account."""
    user = get_user(ledger, login)
    if user is None:
        raise UserError("user_unknown", login=login)
    with ledger.transaction():
        accounts.set_account_active(ledger, user.login, active)
        ledger.audit(actor, "user.activated" if active else "user.deactivated", user.login)
    return User(user.login, user.display_name, user.roles, active, user.session_epoch + 1)


def set_password(ledger: Ledger, login: str, password: str, actor: str) -> None:
    """Give an account a new password (the old one stops working at once, and its open sessions end)."""
    user = get_user(ledger, login)
    if user is None:
        raise UserError("user_unknown", login=login)
    if len(password) < MIN_PASSWORD:
        raise UserError("user_password_short", min=MIN_PASSWORD)
    with ledger.transaction():
        accounts.set_password_hash(ledger, user.login, hash_password(password))
        ledger.audit(actor, "user.password_set", user.login)
