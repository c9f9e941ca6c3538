"""Login, logout, and the decorators that guard every other view (login required, role checks)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers.response import Response

from paperlink.ledger import now
from paperlink.users import (
    LOCK_MINUTES,
    MAX_LOGIN_TYPED,
    MAX_PASSWORD_TYPED,
    ROLES,
    LoginThrottled,
    User,
    authenticate,
    get_user,
)
from paperlink.web.db import get_ledger

bp = Blueprint("auth", __name__)
IDLE_MINUTES = 20
"""A session with no request for this long is ended (config IDLE_MINUTES overrides)."""
F = TypeVar("F", bound=Callable[..., Any])


@bp.before_app_request
def load_user() -> None:
    """g.user: the logged-in, active clerk (or None); a session idle for too long is ended."""
    login = session.get("login")
    if login and request.endpoint != "static":
        idle = current_app.config.get("IDLE_MINUTES", IDLE_MINUTES)
        seen = session.get("seen", 0.0)
        if time.time() - float(seen) > idle * 60:
            session.clear()
            flash(f"{idle} 分間操作がなかったため、ログアウトしました。もう一度ログインしてください。", "info")
            login = None
        else:
            session["seen"] = time.time()
    user = get_user(get_ledger(), login) if login else None
    if user is not None and session.get("epoch") != user.session_epoch:
        session.clear()  # a new password or a deactivation since this session began ends it
        flash("アカウントのパスワードまたは状態が変更されたため、ログアウトしました。もう一度ログインしてください。", "info")
        user = None
    g.user = user if user is not None and user.active else None


def current_user() -> User:
    """The logged-in clerk (views behind login_required only)."""
    user: User = g.user
    return user


def login_required(view: F) -> F:
    """Send anonymous visitors to the login page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            if request.method == "GET":
                return redirect(url_for("auth.login", next=request.path))
            return "ログインしてください。", 401
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def role_required(role: str) -> Callable[[F], F]:
    """Login required, and the clerk must hold `role` (admin holds every role)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.user is None:
                return login_required(view)(*args, **kwargs)
            if not g.user.can(role):
                return render_template("error.html", message=f"この操作には「{ROLES[role]}」の権限が必要です。"), 403
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def _safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else the board.

    Browsers drop tabs and newlines from a URL and read `\\` as `/`, so `/<TAB>/evil.example/` or
    `/\\evil.example` would leave the site: the target is normalised as a browser would before it is checked,
    and the normalised form is what the redirect carries.
    """
    if target:
        cleaned = "".join(ch for ch in target if ord(ch) > 0x20 and ord(ch) != 0x7F).replace("\\", "/")
        parts = urlsplit(cleaned)
        if (cleaned.startswith("/") and not cleaned.startswith("//") and not parts.scheme and not parts.netloc
                and len(cleaned) <= 2000):
            return cleaned
    return url_for("batches.board")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """The login form; a fresh session on success (no session fixation)."""
    if request.method == "POST":
        login_name = request.form.get("login", "").strip()
        password = request.form.get("password", "")
        if len(login_name) > MAX_LOGIN_TYPED or len(password) > MAX_PASSWORD_TYPED:
            flash("ログイン名またはパスワードが違います。", "error")  # never looked up, never logged
            return render_template("auth/login.html", login=""), 400
        try:
            user = authenticate(get_ledger(), login_name, password) if login_name and password else None
        except LoginThrottled:
            flash(f"ログインの失敗が続いたため、このログイン名は {LOCK_MINUTES} 分間ロックされています。"
                  "時間をおいてから、もう一度お試しください。", "error")
            return render_template("auth/login.html", login=login_name), 429
        if user is None:
            flash("ログイン名またはパスワードが違います。", "error")
            return render_template("auth/login.html", login=login_name), 400
        session.clear()
        session["login"] = user.login
        session["epoch"] = user.session_epoch
        session["login_at"] = now()
        session["seen"] = time.time()
        return redirect(_safe_next(request.form.get("next")))
    return render_template("auth/login.html", login="")


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """End the session."""
    session.clear()
    flash("ログアウトしました。", "info")
    return redirect(url_for("auth.login"))
