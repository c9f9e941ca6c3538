"""Double entry: a notice typed twice from paper, the second entry blind, differences re-keyed.

The form never carries the first entry's values. The second entry is refused for the first entry's clerk
unless the office allows it (setting `double_entry.allow_same_clerk`); then the form asks for the password
again (a fresh login) and that is logged. The mismatch screen names only the differing items, never values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response

from paperlink.checkcodes import field_check
from paperlink.codetables import tables
from paperlink.confirm import WorkflowError, get_notice
from paperlink.doubleentry import (
    SAME_CLERK_SETTING,
    differing_items,
    new_manual_notice,
    printed_items,
    resolve,
    submit_entry,
)
from paperlink.errors import FieldError, field_error
from paperlink.fields import BEFORE_KEYS, FIELD_BY_KEY, FIELDS, FieldProblem, FieldSpec
from paperlink.labels import STATE_LABELS, display_value, entry_item_label, ordered_fields
from paperlink.ledger import ENTRY_STATES, Ledger, NoticeState, views
from paperlink.ledger.rows import NoticeRow
from paperlink.notice import before_from_text
from paperlink.printedtext import PRINTED_MARK
from paperlink.users import authenticate
from paperlink.web import printed
from paperlink.web.auth import current_user, role_required
from paperlink.web.db import get_ledger

bp = Blueprint("entry", __name__, url_prefix="/entry")

DATE_HINT = "例: 2026-11-26 / R8.11.26 / 令和8年11月26日"
LISTS = {"event": "events", "category": "categories", "card_kind": "card_kinds", "status": "statuses",
         "nationality": "nationalities", "sex": "sexes"}


@dataclass(frozen=True)
class FormField:
    """One input of the entry form."""

    name: str
    key: str
    label: str
    required: bool
    is_date: bool
    datalist: str | None


def form_fields() -> tuple[list[FormField], list[FormField]]:
    """The items (in the sheet's order, so the clerk types top to bottom) and the before items, as form inputs."""
    def make(spec: FieldSpec, before: bool) -> FormField:
        key = f"before.{spec.key}" if before else spec.key
        return FormField(key, key, spec.label, spec.always_required and not before, spec.is_date,
                         LISTS.get(spec.key))

    return ([make(spec, False) for spec in ordered_fields()], [make(FIELD_BY_KEY[key], True) for key in BEFORE_KEYS])


def datalists() -> dict[str, list[str]]:
    """Choices offered while typing (Japanese labels; the core also accepts codes)."""
    t = tables()
    return {"events": [e.label for e in t.events.values()], "categories": [c.label for c in t.categories.values()],
            "card_kinds": [k.label for k in t.card_kinds.values()], "statuses": list(t.statuses),
            "nationalities": list(t.nationalities), "sexes": ["男", "女"]}


def raw_record(form: Any) -> dict[str, Any]:
    """The typed form as a raw record for the core (empty inputs as absent items)."""
    raw: dict[str, Any] = {spec.key: (form.get(spec.key, "").strip() or None) for spec in FIELDS}
    raw["before"] = {key: before_from_text(form.get(f"before.{key}", "").strip()) for key in BEFORE_KEYS
                     if form.get(f"before.{key}", "").strip()}
    return raw


def errors_by_field(errors: tuple[FieldError, ...] | list[FieldError]) -> dict[str, list[str]]:
    """Japanese messages per form input ("(record)" for the whole record)."""
    out: dict[str, list[str]] = {}
    for error in errors:
        out.setdefault(error.field, []).append(error.message_ja)
    return out


def _total(ledger: Ledger, batch_id: str) -> int:
    return views.batch_total(ledger, batch_id) or 0


@bp.route("/")
@role_required("entry")
def index() -> str:
    """Notices waiting to be typed (未着 with a known sheet, 一次入力済, 不一致) and a new manual notice."""
    return render_template("entry/index.html", queue=views.entry_queue(get_ledger()), labels=STATE_LABELS,
                           states=NoticeState)


@bp.route("/new", methods=["POST"])
@role_required("entry")
def new() -> Response:
    """A notice for paper without a code (a printout from another system), in the day's manual batch."""
    today = dt.date.today().isoformat()
    try:
        row_id = new_manual_notice(get_ledger(), current_user(), today)
    except WorkflowError as exc:
        flash(exc.message_ja, "error")
        return redirect(url_for("entry.index"))
    return redirect(url_for("entry.form", row_id=row_id))


@bp.route("/printed/<token>")
@role_required("entry")
def printed_sheet(token: str) -> Response | tuple[str, int]:
    """A sheet whose code could not be read but whose printed text proved items: its first entry, pre-filled.

    The notice is the one awaited under the proven notice id (listed by a cover) when there is one; a notice with
    that id typed once already goes to its second entry (the reading is not used), one in any other state
    (read, confirmed, done, held) is refused with a link to it; only when no notice has the id is a new notice
    of the day's manual batch made.
    """
    ledger = get_ledger()
    data = printed.load(token)
    if data is None:
        flash(WorkflowError("entry_printed_gone").message_ja, "error")
        return redirect(url_for("entry.index"))
    row_id = data.get("row")
    if row_id is None:
        notice_id = dict(data.get("items", {})).get("notice_id")
        found = views.notice_under_id(ledger, str(notice_id)) if notice_id else None
        if found is not None and found[1] is not NoticeState.MISSING:
            if found[1] in ENTRY_STATES:  # typed once already: the second entry is typed from the sheet
                printed.used(token)
                flash(f"通知 {notice_id} は一回目の入力が済んでいます。用紙から二回目を入力してください"
                      "（印字の読取結果は使いません）。", "info")
                return redirect(url_for("entry.form", row_id=found[0]))
            return render_template("entry/printed_refused.html", notice_id=notice_id, row_id=found[0],
                                   state_label=STATE_LABELS[found[1]]), 409
        row_id = found[0] if found is not None else None
        if row_id is None:
            try:
                row_id = new_manual_notice(ledger, current_user(), dt.date.today().isoformat())
            except WorkflowError as exc:
                flash(exc.message_ja, "error")
                return redirect(url_for("entry.index"))
        printed.bind(token, row_id)
        bound = get_notice(ledger, row_id)
        with ledger.transaction():
            ledger.audit(current_user().login, "entry.printed_bound", bound.batch_id, seq=bound.seq, row=row_id)
    return redirect(url_for("entry.form", row_id=row_id, printed=token))


def _render(ledger: Ledger, row: NoticeRow, round_: int, needs_password: bool,
            values: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None,
            status: int = 200, proven: dict[str, str] | None = None, token: str | None = None) -> tuple[str, int]:
    fields, before = form_fields()
    listed = row.notice_id if row.listed else None  # from the cover, never from entry 1
    if round_ == 2:  # the items the sheet's printed text proved are not typed again (nor shown)
        skipped = set(printed_items(ledger, row.id))
        fields = [f for f in fields if f.name not in skipped]
    else:
        skipped = set()
    shown = dict(values or {})
    shown.update({key: _form_value(key, value) for key, value in (proven or {}).items()})
    open_fields = [f for f in fields if f.name not in (proven or {})]
    first_open = open_fields[0].name if open_fields else None  # the first item the clerk types has the focus
    return render_template("entry/form.html", row=row, total=_total(ledger, row.batch_id), round=round_,
                           fields=fields, before_fields=before, values=shown, errors=errors or {},
                           lists=datalists(), listed_id=listed, needs_password=needs_password,
                           label_of=entry_item_label, date_hint=DATE_HINT, proven=proven or {},
                           printed_token=token, printed_mark=PRINTED_MARK, skipped=len(skipped),
                           first_open=first_open, to_type=[entry_item_label(f.name) for f in open_fields],
                           unproven=printed.unproven_for(token) if proven else set()), status


def _form_value(key: str, value: str) -> str:
    """A proven canonical value as the form shows it (dates ISO, codes as their Japanese labels)."""
    if FIELD_BY_KEY[key].is_date:
        return value
    return display_value(key, value)


@bp.route("/<int:row_id>", methods=["GET", "POST"])
@role_required("entry")
def form(row_id: int) -> str | Response | tuple[str, int]:
    """The first or (blind) second entry of one notice."""
    ledger = get_ledger()
    clerk = current_user()
    try:
        row = get_notice(ledger, row_id)
    except WorkflowError as exc:
        flash(exc.message_ja, "error")
        return redirect(url_for("entry.index"))
    if row.state is NoticeState.MISMATCH:
        return redirect(url_for("entry.resolve_form", row_id=row_id))
    if row.state not in ENTRY_STATES:
        flash(f"{row.notice_id} は入力済みです（状態: {STATE_LABELS[row.state]}）。", "info")
        return redirect(url_for("confirm.notice", row_id=row_id))
    round_ = 1 if row.state is NoticeState.MISSING else 2
    same = round_ == 2 and views.first_clerk(ledger, row_id) == clerk.login
    if same and ledger.setting(SAME_CLERK_SETTING, "0") != "1":
        return render_template("entry/refused.html", row=row, total=_total(ledger, row.batch_id)), 403
    token = (request.values.get("printed") or None) if round_ == 1 else None
    proven = printed.items_for(token, row_id) if token else None
    gone = bool(token) and proven is None
    if gone:
        token = None
    if request.method == "GET":
        if gone:
            flash(WorkflowError("entry_printed_gone").message_ja, "error")
        return _render(ledger, row, round_, same, proven=proven, token=token)
    values = {k: v for k, v in request.form.items() if k not in ("csrf_token", "password", "printed")}
    if gone:  # the reading vanished: what was posted for its items is not the clerk's typing, nothing is stored
        flash(WorkflowError("entry_printed_gone_unlocked").message_ja, "error")
        return _render(ledger, row, round_, same, values, status=400)
    if same:
        if authenticate(ledger, clerk.login, request.form.get("password", "")) is None:
            return _render(ledger, row, round_, same, values,
                           {"password": ["パスワードが違います。同じ職員が二回目を入力するには、パスワードを入力し直してください。"]},
                           400, proven, token)
        with ledger.transaction():
            ledger.audit(clerk.login, "entry.same_clerk_login", row.batch_id, seq=row.seq)
    try:
        result = submit_entry(ledger, row_id, raw_record(request.form), request.form.get("check_code", "").strip() or None,
                              clerk, printed=proven, printed_from=printed.origin(token) if proven else None)
    except WorkflowError as exc:
        flash(exc.message_ja, "error")
        return _render(ledger, row, round_, same, values, status=400, proven=proven, token=token)
    if not result.stored and token and proven and any(e.code == "entry_check_code" for e in result.errors):
        # an item "proven" by its printed check characters may still be misread (see printedtext.py): the
        # whole-record check code failed, so the proven items are unlocked and typed like any other item
        printed.used(token)
        flash(WorkflowError("entry_printed_unlocked").message_ja, "error")
        shown = {**values, **{key: _form_value(key, value) for key, value in proven.items()}}
        return _render(ledger, row, round_, same, shown, errors_by_field(result.errors), 400)
    if not result.stored:
        flash("入力内容に誤りがあります。赤く表示された項目を用紙と見比べて直してください。", "error")
        return _render(ledger, row, round_, same, values, errors_by_field(result.errors), 400, proven, token)
    if token:
        printed.used(token)
    if result.state is NoticeState.FIRST_ENTRY:
        printed.drop_for_row(row_id)  # another reading of the same sheet, bound to this notice, is of no more use
        flash("一回目の入力を保存しました。二回目の入力は別の職員が用紙から行ってください。", "info")
        return redirect(url_for("batches.board"))
    if result.state is NoticeState.MISMATCH:
        flash("一回目と二回目の入力が一致しません。表示された項目だけを用紙から入力し直してください。", "error")
        return redirect(url_for("entry.resolve_form", row_id=row_id))
    flash("二回の入力が一致しました（完了）。", "info")
    return redirect(url_for("confirm.notice", row_id=row_id))


@bp.route("/<int:row_id>/resolve", methods=["GET", "POST"])
@role_required("entry")
def resolve_form(row_id: int) -> str | Response | tuple[str, int]:
    """The differing items – labels only – re-keyed from the paper until both entries agree."""
    ledger = get_ledger()
    try:
        row = get_notice(ledger, row_id)
    except WorkflowError as exc:
        flash(exc.message_ja, "error")
        return redirect(url_for("entry.index"))
    if row.state is not NoticeState.MISMATCH:
        return redirect(url_for("confirm.notice", row_id=row_id) if row.state is NoticeState.DONE
                        else url_for("entry.form", row_id=row_id))
    errors: dict[str, list[str]] = {}
    status = 200
    clerk = current_user()
    # a one-clerk office (setting): the clerk who keyed an entry counts again only after a fresh login
    needs_password = ledger.setting(SAME_CLERK_SETTING, "0") == "1" and clerk.login in views.entry_clerks(ledger, row_id)
    if request.method == "POST":
        # only the items the clerk re-keyed now (one may be settled at a time); 「空欄」 ticked keys an empty value
        rekeyed = {k: v for k, v in request.form.items()
                   if k not in ("csrf_token", "password") and not k.startswith("empty.") and v.strip()}
        rekeyed.update({k.removeprefix("empty."): "" for k in request.form if k.startswith("empty.")})
        fresh = False
        if needs_password and request.form.get("password"):
            if authenticate(ledger, clerk.login, request.form.get("password", "")) is None:
                errors["password"] = ["パスワードが違います。"]
            else:
                fresh = True
                with ledger.transaction():
                    ledger.audit(clerk.login, "entry.same_clerk_login", row.batch_id, seq=row.seq)
        try:
            result = resolve(ledger, row_id, rekeyed, clerk, views.typed_check_code(ledger, row_id),
                             reauthenticated=fresh)
        except WorkflowError as exc:
            flash(exc.message_ja, "error")
            return redirect(url_for("entry.resolve_form", row_id=row_id))
        if result.state is NoticeState.DONE:
            flash("すべての項目が一致しました（完了）。", "info")
            return redirect(url_for("confirm.notice", row_id=row_id))
        errors = {**errors_by_field(result.errors), **errors}
        status = 400
        flash("まだ一致しない項目があります。用紙をもう一度確認してください。", "error")
    items = differing_items(ledger, row_id)
    return render_template("entry/resolve.html", row=row, total=_total(ledger, row.batch_id),
                           items=[(item, entry_item_label(item)) for item in items], errors=errors,
                           record_errors=errors.get("(record)", []) + errors.get("check_code", []),
                           date_items={i for i in items if FIELD_BY_KEY[i.removeprefix("before.")].is_date},
                           date_hint=DATE_HINT, needs_password=needs_password), status


@bp.route("/check", methods=["POST"])
@role_required("entry")
def check() -> Response | tuple[Response, int]:
    """One typed item: its normalised value, its two printed check characters, or a Japanese error."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # deeply nested JSON
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("key", ""), str) or not isinstance(data.get("value", ""), str):
        return jsonify(ok=False, error="送信された内容を処理できませんでした。"), 400
    item = data.get("key", "")
    text = data.get("value", "")
    key = item.removeprefix("before.")
    if key not in FIELD_BY_KEY or (item.startswith("before.") and key not in BEFORE_KEYS):
        return jsonify(ok=False, error="不明な項目です。"), 400
    if not text.strip():
        return jsonify(ok=True, empty=True, value="", check="")
    try:
        value = FIELD_BY_KEY[key].normalise(text)
    except FieldProblem as exc:
        return jsonify(ok=False, error=field_error(item, exc.code, **exc.params).message_ja)
    canonical = value.isoformat() if isinstance(value, dt.date) else value
    # the sheet prints check characters for the items only, not for the before values
    check = "" if item.startswith("before.") else field_check(item, canonical)
    return jsonify(ok=True, value=display_value(key, value), canonical=canonical, check=check)
