"""The audit log view (審査・管理) and the office settings (管理)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response

from paperlink.auditlabels import ACTION_GROUPS, ACTION_LABELS, describe
from paperlink.dates import JST, parse_date
from paperlink.doubleentry import SAME_CLERK_SETTING
from paperlink.errors import FieldError, PaperlinkError, field_error
from paperlink.fields import FieldProblem, norm_municipality
from paperlink.intake import OFFICE_MUNICIPALITY_SETTING
from paperlink.web.auth import current_user, login_required, role_required
from paperlink.web.db import get_ledger

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE = 100


def _utc_bound(day: str, next_day: bool) -> str | None:
    """The UTC ISO time at which a Japan-time date starts (or the next one, for `until`); 西暦 or 和暦."""
    try:
        date = parse_date(day)
    except (ValueError, PaperlinkError):
        return None
    if next_day:
        date += dt.timedelta(days=1)
    start = dt.datetime.combine(date, dt.time(), tzinfo=JST).astimezone(dt.UTC)
    return start.isoformat(timespec="seconds")


@bp.route("/")
@login_required
def log() -> str:
    """Audit entries in Japanese, newest first, filtered (date, clerk, batch, action) and paged."""
    user = current_user()
    if not (user.can("review") or user.can("admin")):
        abort(403)
    ledger = get_ledger()
    args = request.args
    filters = {"date_from": args.get("date_from", "")[:16].strip(), "date_to": args.get("date_to", "")[:16].strip(),
               "actor": args.get("actor", "")[:64], "batch": args.get("batch", "")[:64],
               "action": args.get("action", "")[:32]}
    try:
        page = max(1, min(int(args.get("page", "1")), 1_000_000))
    except ValueError:
        page = 1
    found, total = ledger.audit_search(
        actor=filters["actor"] or None, subject=filters["batch"].strip() or None,
        action=filters["action"] if filters["action"] in ACTION_GROUPS or filters["action"] in ACTION_LABELS else None,
        since=_utc_bound(filters["date_from"], False) if filters["date_from"] else None,
        until=_utc_bound(filters["date_to"], True) if filters["date_to"] else None,
        offset=(page - 1) * PAGE, limit=PAGE)
    pages = max(1, -(-total // PAGE))
    query = {k: v for k, v in filters.items() if v}
    return render_template("audit/log.html", lines=[describe(e) for e in found], total=total, page=page,
                           pages=pages, filters=filters, query=query, actors=ledger.audit_actors(),
                           groups=ACTION_GROUPS, count=ledger.audit_count(), broken=ledger.verify_audit())


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
