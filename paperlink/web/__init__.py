"""The entry screen: a local Flask application over the paperlink core (bound to the loopback address SERVE_HOST).

`create_app(test_config=None)` is the application factory; each area is one blueprint (auth, batches,
capture, confirm, entry, export, audit). Views parse input, call the core and turn its errors into
Japanese flash messages or HTTP 400s; no rule of the notice format lives here. A core error a view does
not handle itself reaches one error handler, which shows its Japanese message (`PaperlinkError.message_ja`)
with status 400 – as the error page, or as JSON `{"ok": false, "error": …}` to the screen's fetch() calls.

Templates live in the repository's top-level `templates/` (the design card fixes that). From a checkout
they are found next to the package; an installed wheel carries a copy as data files under
`<prefix>/share/paperlink/templates` (see `[tool.setuptools.data-files]` in pyproject.toml), where the
prefix depends on the install scheme (a venv, `--user`, `--prefix`): `template_folder()` asks the installed
distribution's file list where they went. Static files (CSS/JS) are package data of `paperlink.web`.
"""

from __future__ import annotations

import os
import secrets
import sysconfig
from pathlib import Path
from typing import Any

from flask import Flask, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge, SecurityError
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers.response import Response as BaseResponse

from paperlink.dates import japan_time
from paperlink.errors import PaperlinkError
from paperlink.home import Home

SERVE_HOST = "127.80.76.1"
"""The loopback address the screen listens on: one of its own in 127.0.0.0/8 (80 76 = "PL"), not 127.0.0.1.

Cookies are scoped by host, not port: a session cookie for 127.0.0.1 would go to every local server on
127.0.0.1 (any port) and be readable there. For this host the browser sends it only to 127.80.76.1, and –
SameSite=Strict – never on a request started from another site, 127.0.0.1 and localhost included.
"""
MAX_UPLOAD_MB = 50
MAX_FIELD_BYTES = 64 * 1024
"""The largest JSON body the screen accepts."""
MAX_FORM_FIELD_BYTES = 500_000
"""The largest form field (not a file) the screen accepts (Werkzeug's default, set here so that it is said)."""
csrf = CSRFProtect()

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


def _installed_templates() -> list[Path]:
    """Where the installed distribution's own record (RECORD) says its templates went, under any install
    scheme: a venv, `pip install --user` (Python from the Microsoft Store or in Program Files), `--prefix`."""
    from importlib.metadata import distributions

    return [Path(str(f.locate())).parent for dist in distributions(name="paperlink") for f in dist.files or []
            if f.as_posix().endswith("share/paperlink/templates/base.html")]


class SqliteIdConverter(IntegerConverter):
    """`<int:…>` in routes: 1 to 18 digits, so a matched id always fits SQLite's 64-bit integer."""

    regex = r"\d{1,18}"


def template_folder() -> Path:
    """The templates/ folder: the checkout's top-level one, else the copy installed as data files (found through
    the installed distribution's file list, then the install schemes' data directories)."""
    candidates = [Path(__file__).resolve().parents[2] / "templates", *_installed_templates(),
                  *(Path(sysconfig.get_path("data", scheme)) / "share" / "paperlink" / "templates"
                    for scheme in (sysconfig.get_default_scheme(), f"{os.name}_user"))]
    for candidate in candidates:
        if (candidate / "base.html").is_file():
            return candidate.resolve()
    raise RuntimeError("paperlink's templates/ folder was not found (checked: "
                       + ", ".join(str(c) for c in candidates) + ")")


def secret_key(home: Home) -> str:
    """The session signing key: generated once into the data directory (mode 0600), then reused."""
    path = home.root / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text("ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
    return path.read_text("ascii").strip()


ERROR_PAGES_JA = {
    400: "送信された内容を処理できませんでした。ページを再読み込みしてから、もう一度操作してください。",
    405: "この操作はこの画面からは行えません。メニューから操作し直してください。",
    500: "予期しないエラーが起きたため、操作を完了できませんでした。もう一度操作しても同じときは、管理者に連絡してください。",
}
"""The Japanese message of an HTTP error without a message of its own (403, 404 and 413 have their handlers)."""


def wants_json() -> bool:
    """Whether the request comes from the screen's fetch() calls (JSON or a camera frame), not a page."""
    return request.is_json or request.mimetype.startswith("image/")


def error_response(message: str, status: int) -> tuple[str | Response, int]:
    """A Japanese message as the error page, or as JSON `{"ok": false, "error": …}` to a fetch() call."""
    if wants_json():
        return jsonify(ok=False, found=False, error=message), status
    return render_template("error.html", message=message), status


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The application for one data directory (test_config may set HOME and override settings)."""
    app = Flask(__name__, template_folder=str(template_folder()), static_folder="static")
    config = dict(test_config or {})
    home = Home.resolve(config.pop("HOME", None), config.pop("LEDGER", None)).ensure()
    app.config.from_mapping(
        HOME=str(home.root),
        LEDGER=home.ledger_option,
        SECRET_KEY=secret_key(home),
        MAX_CONTENT_LENGTH=MAX_UPLOAD_MB * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="paperlink_session",
        WTF_CSRF_TIME_LIMIT=None,  # a clerk keeps a page open all day; the token lives as long as the session
        WTF_CSRF_SSL_STRICT=False,
        SEND_FILE_MAX_AGE_DEFAULT=0,
        # DNS rebinding: a page on another site that resolves its own name to 127.0.0.1 is refused (400)
        TRUSTED_HOSTS=[SERVE_HOST, "127.0.0.1", "localhost"],
        # every field a client can send is bounded: a form field (not a file) at 500 KB – Werkzeug's multipart
        # parser buffers up to this much of any part, files too, so it must stay well above its 64 KB reads –,
        # 200 parts a form, a JSON body (the screen's fetch() calls) at 64 KB; files as MAX_CONTENT_LENGTH above
        MAX_FORM_MEMORY_SIZE=MAX_FORM_FIELD_BYTES,
        MAX_FORM_PARTS=200,
    )
    app.config.update(config)

    @app.before_request  # before CSRFProtect's, which reads the body
    def bounded_json() -> None:
        if request.is_json:  # beyond this the body is refused with 413 (a chunked body too, as it is read)
            request.max_content_length = MAX_FIELD_BYTES
            if (request.content_length or 0) > MAX_FIELD_BYTES:
                raise RequestEntityTooLarge()

    # ids in URLs: at most 18 digits, so every id matched fits SQLite's integer (a longer one is a plain 404)
    app.url_map.converters["int"] = SqliteIdConverter
    csrf.init_app(app)
    app.add_template_filter(japan_time, "jst")

    from paperlink.web import db

    db.init_app(app)

    from paperlink.web import audit, auth, batches, capture, confirm, entry, export

    for module in (auth, batches, capture, confirm, entry, export, audit):
        app.register_blueprint(module.bp)
    app.add_url_rule("/", endpoint="index", view_func=lambda: redirect(url_for("batches.board")))

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Paperlink"] = "entry-screen"  # a second `serve` recognises the first one
        response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        message = "画面の有効期限が切れたか、不正な送信です。ページを再読み込みしてからもう一度操作してください。"
        if request.is_json or request.mimetype.startswith("image/"):
            return message, 400
        return render_template("error.html", message=message), 400

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> tuple[str | Response, int] | BaseResponse:
        whole = request.content_length or 0
        if wants_json() or whole <= (request.max_content_length or whole):  # a field or JSON body, not the files
            return error_response("送信された内容が長すぎます。入力を短くしてから、もう一度操作してください。", 413)
        message = f"ファイルが大きすぎます（1回に送れるのは合計 {MAX_UPLOAD_MB} MB までです）。分けて取り込んでください。"
        if request.path == url_for("capture.files"):
            flash(message, "error")
            return redirect(url_for("capture.files"))
        return render_template("error.html", message=message), 413

    @app.errorhandler(403)
    def forbidden(error: Exception) -> tuple[str, int]:
        return render_template("error.html", message="この操作の権限がありません。"), 403

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return render_template("error.html", message="ページが見つかりません。"), 404

    @app.errorhandler(PaperlinkError)
    def core_error(error: PaperlinkError) -> tuple[str | Response, int]:
        app.logger.info("core error %s on %s: %s", error.code, request.path, error.message("en"))
        return error_response(error.message_ja, 400)

    @app.errorhandler(400)
    def bad_request(error: HTTPException) -> tuple[str | Response, int]:
        if isinstance(error, SecurityError):  # a Host not trusted: no URL can be built for the error page
            return ERROR_PAGES_JA[400], 400
        own = type(error) is BadRequest and error.description != BadRequest.description  # abort(400, "…")
        return error_response(str(error.description) if own else ERROR_PAGES_JA[400], 400)

    @app.errorhandler(405)
    def method_not_allowed(error: HTTPException) -> tuple[str | Response, int, dict[str, str]]:
        allow = {k: v for k, v in error.get_headers() if k == "Allow"}
        return (*error_response(ERROR_PAGES_JA[405], 405), allow)

    @app.errorhandler(500)
    def internal_error(error: HTTPException) -> tuple[str | Response, int]:
        return error_response(ERROR_PAGES_JA[500], 500)

    return app
