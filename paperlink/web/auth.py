"""Login, logout, and the decorators that guard every other view (login required, role checks)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers.response import Response

from paperlink.ledger import now
from paperlink.users import LOCK_MINUTES, ROLES, LoginThrottled, User, authenticate, get_user
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
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("batches.board")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """The login form; a fresh session on success (no session fixation)."""
    if request.method == "POST":
        login_name = request.form.get("login", "").strip()
        password = request.form.get("password", "")
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
