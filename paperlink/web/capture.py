"""Capture, three ways – webcam frames, scanned files (and the scan folder), a handheld wedge scanner.

Every way ends in the same place: each decoded code is interpreted by the core (`scanning.interpret`) and
recorded (`intake.capture_scans`), and the clerk is sent to the confirm screen of that notice.

What is recorded: every code that is a paperlink sheet or cover, whatever its verification (a sheet with
an unknown key or a failed signature is kept as a rejected capture, so that a reviewer can look at it and
override). What is only reported, never written: pages without a code, codes that are not paperlink's,
files that are not images, scanner input that cannot be read, and sheets addressed to another
municipality than the office's (setting `office.municipality_code`, when set).
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response

from paperlink.decode import decode_frame
from paperlink.framehints import HINT_TEXTS, frame_hint, sheet_box
from paperlink.intake import IntakeResult, capture_scans
from paperlink.ledger import CaptureOutcome, Channel, Ledger, store, views
from paperlink.pages import page_count
from paperlink.scanning import ScanItem, interpret, scan_pages
from paperlink.watch import ScanFolder
from paperlink.web import printed
from paperlink.web.auth import current_user, role_required
from paperlink.web.db import captures_dir, get_ledger, home, trusted
from paperlink.web.texts import OUTCOME_LABELS, outcome_message, scan_error_ja, unrecorded_label
from paperlink.wedge import WedgeInputError, normalise_wedge

bp = Blueprint("capture", __name__, url_prefix="/capture")

SNAPSHOT_WIDTH = 1200


@dataclass(frozen=True)
class Outcome:
    """One line of a capture's result: what was read, what it did, and where to go next."""

    source: str
    page: int
    label: str
    message: str
    ok: bool
    url: str | None = None
    capture_id: int | None = None
    manual: bool = False


def _jpeg(image: Any) -> bytes:
    """A page image as a JPEG no wider than SNAPSHOT_WIDTH (for the confirm screen)."""
    picture = image.convert("L")
    if picture.width > SNAPSHOT_WIDTH:
        picture = picture.resize((SNAPSHOT_WIDTH, round(picture.height * SNAPSHOT_WIDTH / picture.width)))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=80)
    return out.getvalue()


def _url(ledger: Ledger, result: IntakeResult) -> str | None:
    if result.outcome in (CaptureOutcome.NEW, CaptureOutcome.DUPLICATE) and result.batch_id and result.seq:
        row = store.notice_at(ledger, result.batch_id, result.seq)
        return url_for("confirm.notice", row_id=row.id) if row else None
    if result.outcome is CaptureOutcome.REGISTERED:
        return url_for("batches.board")
    if result.outcome is CaptureOutcome.REJECTED and result.capture_id and result.seq:
        return url_for("confirm.capture", capture_id=result.capture_id)
    return None


def capture_scanned(ledger: Ledger, scanned: Iterable[tuple[ScanItem, bytes | None]], channel: Channel) -> list[Outcome]:
    """Record what is recordable (see the module docstring), keep page images, and describe every item."""
    pairs = list(scanned)
    outcomes: list[Outcome | None] = [None] * len(pairs)
    to_record: list[tuple[int, ScanItem, bytes | None]] = []
    refused: list[ScanItem] = []
    for index, (item, image) in enumerate(pairs):
        if item.sheet is None and item.manifest is None and item.printed is not None and item.printed.items:
            outcomes[index] = _printed_outcome(item)
            refused.append(item)
        elif item.sheet is None and item.manifest is None:
            message = scan_error_ja(item.problem)
            if item.printed_problem is not None:  # Tesseract is not installed here: say why the text was not read
                message += f"（{item.printed_problem.message_ja}）"
            outcomes[index] = Outcome(item.source, item.page, unrecorded_label(item), message, False,
                                      url_for("entry.index") if item.text is None and item.page else None,
                                      manual=item.text is None and item.page > 0)
            refused.append(item)
        else:
            to_record.append((index, item, image))
    if refused and channel is not Channel.WEBCAM:  # a camera sees foreign codes many times a second: not logged
        refuse_inputs(ledger, channel, [(item.source, item.page, item.problem.code if item.problem else "intake_no_code")
                                        for item in refused])
    if to_record:
        results = capture_scans(ledger, [item for _, item, _ in to_record], channel, current_user().login)
        for (index, item, image), result in zip(to_record, results, strict=True):
            if image is not None and result.capture_id:
                (captures_dir() / f"{result.capture_id}.jpg").write_bytes(image)
            outcomes[index] = Outcome(item.source, item.page, OUTCOME_LABELS[result.outcome],
                                      outcome_message(result, views.batch_total(ledger, result.batch_id), item.problem),
                                      result.accepted, _url(ledger, result), result.capture_id)
    return [o for o in outcomes if o is not None]


PRINTED_LABEL = "印字から読取"


def _printed_outcome(item: ScanItem) -> Outcome:
    """A page without a readable code whose printed table proved items: kept for its first entry (web/printed.py)."""
    assert item.printed is not None
    token = printed.keep(item.printed, item.source, item.page)
    ledger = get_ledger()
    with ledger.transaction():  # which items were proven, never their values
        ledger.audit(current_user().login, "entry.printed_kept", item.source, source=item.source, page=item.page,
                     printed=sorted(item.printed.items) or None)
    count, rest = len(item.printed.items), len(item.printed.unproven)
    notice = f"通知番号 {item.printed.notice_id}、" if item.printed.notice_id else ""
    message = (f"QR コードを読めませんでした。{notice}印字から {count} 項目を読み取りました（検字一致）。"
               + (f"残り {rest} 項目と" if rest else "") + "チェックコードを手入力してください。")
    return Outcome(item.source, item.page, PRINTED_LABEL, message, False, url_for("entry.printed_sheet", token=token),
                   manual=True)


def refuse_inputs(ledger: Ledger, channel: Channel, refused: list[tuple[str, int, str]]) -> None:
    """Audit inputs that were not taken (no code, not an image, unreadable scanner input), with the reason's code."""
    with ledger.transaction():
        for source, page, code in refused:
            ledger.audit(current_user().login, "input.refused", source, channel=channel.value, page=page or None,
                         code=code)


# -- webcam ---------------------------------------------------------------------------------------


@bp.route("/camera")
@role_required("entry")
def camera() -> str:
    """The webcam page: live preview, a frame posted every ~150 ms."""
    return render_template("capture/camera.html")


@bp.route("/frame", methods=["POST"])
@role_required("entry")
def frame() -> Response | tuple[Response, int]:
    """One camera frame (JPEG body): {"found": false} fast, or what the code found did and where to go."""
    from PIL import Image, UnidentifiedImageError

    data = request.get_data(cache=False)
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > 12_000_000:  # a camera frame is at most 4K
            return jsonify(found=False, error="カメラの画像が大きすぎます。"), 400
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return jsonify(found=False, error="カメラの画像を読めませんでした。"), 400
    codes = decode_frame(image)
    if not codes:
        if request.args.get("hint") == "1":
            hint = frame_hint(image)
            return jsonify(found=False, hint=HINT_TEXTS[hint], hintCode=hint.value)
        return jsonify(found=False)
    keys = trusted()
    snapshot = _snapshot(image, data)
    items = [(interpret(code.text, "webcam", 1, keys), snapshot) for code in codes]
    outcomes = capture_scanned(get_ledger(), items, Channel.WEBCAM)
    best = next((o for o in outcomes if o.ok and o.url), None) or next((o for o in outcomes if o.url), outcomes[0])
    duplicate = best.label == OUTCOME_LABELS[CaptureOutcome.DUPLICATE]
    target = best.url
    if target and best.ok and "/notice/" in target:
        target += "?" + urlencode({"read": "duplicate" if duplicate else "new"})
    return jsonify(found=True, ok=best.ok, label=best.label, message=best.message, next=target, duplicate=duplicate)


def _snapshot(image: Any, data: bytes) -> bytes:
    """The camera frame cropped to the sheet (the clerk compares the paper, not the desk), as a JPEG; the frame
    as it came when no sheet stands out from a desk around it."""
    box = sheet_box(image)
    return _jpeg(image.crop(box)) if box else data


# -- files and the scan folder --------------------------------------------------------------------


UPLOAD_MAX_PAGES = 100
"""Pages one upload (all its files together) may have; a file that would go beyond is not read at all."""
UPLOAD_SECONDS = 60
"""Reading the pages of one upload stops after this long; the pages not read yet are reported, not lost."""


def _file_items(name: str, path: Path, deadline: float) -> tuple[list[tuple[ScanItem, bytes | None]], int | None]:
    """Every code on every page of one uploaded file (`scanning.scan_pages`), with its page as a JPEG.

    Stops between pages once `deadline` (time.monotonic()) has passed; then also returns the number of the
    first page not read (None when every page was read).
    """
    out: list[tuple[ScanItem, bytes | None]] = []
    pictures: dict[int, bytes] = {}
    last = 0
    for item, image in scan_pages([path], trusted(), printed=True):
        if item.page > last and last and time.monotonic() > deadline:  # a new page begins after the deadline
            return out, item.page
        last = max(last, item.page)
        item = replace(item, source=name)
        if image is None or item.text is None:
            out.append((item, None))
            continue
        if item.page not in pictures:
            pictures[item.page] = _jpeg(image)
        out.append((item, pictures[item.page]))
    return out, None


def _not_read(name: str, page: int, message: str) -> Outcome:
    return Outcome(name, page, "取り込んでいません", message, False)


@bp.route("/files", methods=["GET", "POST"])
@role_required("entry")
def files() -> str | tuple[str, int]:
    """Upload scanned images / PDFs (several at once); every page's result is listed.

    Bounded: at most UPLOAD_MAX_PAGES pages an upload (a file beyond is refused before any page is read)
    and UPLOAD_SECONDS of reading (then the pages not read yet are named); each with a Japanese message.
    """
    if request.method == "GET":
        return render_template("capture/files.html", outcomes=None)
    uploads = [f for f in request.files.getlist("files") if f.filename]
    if not uploads:
        flash("ファイルを選んでください。", "error")
        return render_template("capture/files.html", outcomes=None), 400
    max_pages = int(current_app.config.get("UPLOAD_MAX_PAGES", UPLOAD_MAX_PAGES))
    seconds = float(current_app.config.get("UPLOAD_SECONDS", UPLOAD_SECONDS))
    deadline = time.monotonic() + seconds
    pages_left = max_pages
    outcomes: list[Outcome] = []
    tmp = home().root / "tmp"
    tmp.mkdir(exist_ok=True, mode=0o700)
    ledger = get_ledger()
    stopped = False
    for upload in uploads:
        name = Path(upload.filename or "upload").name
        if stopped:
            outcomes.append(_not_read(name, 0, f"時間がかかりすぎたため（1回 {seconds:g} 秒まで）、このファイルは読み取って"
                                               "いません。もう一度取り込んでください。"))
            continue
        fd, temp_name = tempfile.mkstemp(dir=tmp, suffix=".upload")
        try:
            with os.fdopen(fd, "wb") as out:
                upload.save(out)
            count = page_count(temp_name) or 1
            if count > pages_left:
                outcomes.append(_not_read(name, 0, f"ページ数が多すぎます（このファイルは {count} ページ、1回に取り込めるのは"
                                                   f"合計 {max_pages} ページまでです）。このファイルは読み取っていません。"
                                                   "分けて取り込んでください。"))
                continue
            pages_left -= count
            items, first_unread = _file_items(name, Path(temp_name), deadline)
            outcomes.extend(capture_scanned(ledger, items, Channel.FILE))
            if first_unread is not None:
                outcomes.append(_not_read(name, first_unread, f"時間がかかりすぎたため（1回 {seconds:g} 秒まで）、"
                                                              f"{first_unread} ページ目から後は読み取っていません。"
                                                              "そのページだけを、もう一度取り込んでください。"))
                stopped = True
        finally:
            Path(temp_name).unlink(missing_ok=True)
    bad = any(not o.ok for o in outcomes)
    return render_template("capture/files.html", outcomes=outcomes), 200 if not bad or any(o.ok for o in outcomes) else 400


@bp.route("/folder", methods=["POST"])
@role_required("entry")
def folder() -> str:
    """Import the watched scan folder (<home>/scans) now."""
    scan_folder = ScanFolder(home().scans, get_ledger(), trusted(), actor=current_user().login, stable_seconds=0)
    done = scan_folder.poll()
    return render_template("capture/files.html", outcomes=None, folder=done, folder_path=str(scan_folder.root))


# -- handheld scanner (keyboard wedge) ------------------------------------------------------------


@bp.route("/wedge", methods=["GET", "POST"])
@role_required("entry")
def wedge() -> str | Response | tuple[str, int]:
    """A focused input that a handheld 2D scanner types into; Enter submits."""
    if request.method == "GET":
        return render_template("capture/wedge.html")
    typed = request.form.get("code", "")
    if not typed.strip():
        flash("スキャナーで用紙の QR コードを読み取ってください（入力欄が空です）。", "error")
        return render_template("capture/wedge.html"), 400
    try:
        text = normalise_wedge(typed)
    except WedgeInputError as exc:
        refuse_inputs(get_ledger(), Channel.WEDGE, [("wedge", 0, exc.code)])
        flash(exc.message_ja, "error")
        return render_template("capture/wedge.html"), 400
    item = interpret(text, "wedge", 1, trusted())
    outcome = capture_scanned(get_ledger(), [(item, None)], Channel.WEDGE)[0]
    flash(outcome.message, "info" if outcome.ok else "error")
    if outcome.url and outcome.url != url_for("batches.board"):
        if outcome.ok and "/notice/" in outcome.url:  # the confirm page says 新規 or 重複 at the top
            duplicate = outcome.label == OUTCOME_LABELS[CaptureOutcome.DUPLICATE]
            return redirect(outcome.url + "?" + urlencode({"read": "duplicate" if duplicate else "new"}))
        return redirect(outcome.url)
    if outcome.ok:
        return redirect(url_for("capture.wedge"))
    return render_template("capture/wedge.html", outcome=outcome), 400
