"""The audit log view (審査・管理) and the office settings (管理)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response

from paperlink.doubleentry import SAME_CLERK_SETTING
from paperlink.errors import FieldError, field_error
from paperlink.fields import FieldProblem, norm_municipality
from paperlink.intake import OFFICE_MUNICIPALITY_SETTING
from paperlink.web.auth import current_user, login_required, role_required
from paperlink.web.db import get_ledger

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE = 200


@bp.route("/")
@login_required
def log() -> str:
    """Audit entries, newest first, with the state of the hash chain."""
    user = current_user()
    if not (user.can("review") or user.can("admin")):
        abort(403)
    ledger = get_ledger()
    entries = list(reversed(ledger.audit_entries()))
    return render_template("audit/log.html", entries=entries[:PAGE], count=len(entries), broken=ledger.verify_audit())


@bp.route("/settings", methods=["GET", "POST"])
@role_required("admin")
def settings() -> str | Response | tuple[str, int]:
    """Office settings: the same clerk for both entries (after a fresh login); the office's municipality."""
    ledger = get_ledger()
    if request.method == "POST":
        clerk = current_user().login
        same = "1" if request.form.get("same_clerk") == "1" else "0"
        code = request.form.get("municipality", "").strip()
        if code:
            try:
                code = norm_municipality(code)
            except FieldProblem as exc:
                error: FieldError = field_error("municipality_code", exc.code, **exc.params)
                flash(error.message_ja, "error")
                return render_template("audit/settings.html", same=same == "1", municipality=code), 400
        if ledger.setting(SAME_CLERK_SETTING, "0") != same:
            ledger.set_setting(SAME_CLERK_SETTING, same, clerk)
        if (ledger.setting(OFFICE_MUNICIPALITY_SETTING) or "") != code:
            ledger.set_setting(OFFICE_MUNICIPALITY_SETTING, code, clerk)
        flash("設定を保存しました。", "info")
        return redirect(url_for("audit.settings"))
    return render_template("audit/settings.html", same=ledger.setting(SAME_CLERK_SETTING, "0") == "1",
                           municipality=ledger.setting(OFFICE_MUNICIPALITY_SETTING) or "")
