"""The clerk's workflow in the core: accounts, confirm, override, double entry, export and its report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pdfplumber
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.checkcodes import record_check_code
from paperlink.confirm import WorkflowError, confirm, override
from paperlink.dataformat import dumps_notices
from paperlink.doubleentry import SAME_CLERK_SETTING, new_manual_notice, resolve, submit_entry
from paperlink.errors import ExportError
from paperlink.export import export, exportable_batches, processing_report
from paperlink.intake import capture_scan
from paperlink.keys import key_id
from paperlink.ledger import Ledger
from paperlink.ledger.views import batch_status
from paperlink.printing import print_batch
from paperlink.samples import SampleOptions, generate
from paperlink.scanning import interpret
from paperlink.users import UserError, add_user, authenticate, check_password, hash_password

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
NOTICES = generate(SampleOptions(count=4, seed=21, notice_date=dt.date(2026, 11, 26)))


@pytest.fixture(scope="module")
def printed():
    return print_batch(NOTICES, KEY, printed_on=dt.date(2026, 11, 26))


@pytest.fixture
def ledger(home: Path):
    with Ledger(home / "ledger.sqlite3") as led:
        yield led


@pytest.fixture
def clerks(ledger: Ledger):
    a = add_user(ledger, "tanaka", "田中", {"entry"}, "correct horse 1", "admin")
    b = add_user(ledger, "suzuki", "鈴木", {"entry", "review"}, "correct horse 2", "admin")
    return a, b


def scan_text(ledger: Ledger, text: str, channel: str = "file"):
    return capture_scan(ledger, interpret(text, "scan.png", 1, TRUSTED), channel, "tanaka")


def register(ledger: Ledger, printed) -> None:
    for text in printed.cover.manifest_qr_texts:
        assert scan_text(ledger, text).outcome == "registered"


def row_of(ledger: Ledger, seq: int) -> int:
    return ledger.query("SELECT id FROM notices WHERE seq = ?", (seq,))[0]["id"]


def raw(notice, **changes):
    record = notice.record()
    record.update(changes)
    return record


# -- accounts -------------------------------------------------------------------------------------

def test_passwords_are_salted_scrypt_hashes() -> None:
    one, two = hash_password("secret-pass"), hash_password("secret-pass")
    assert one != two and one.startswith("scrypt$16384$8$1$")
    assert check_password("secret-pass", one) and not check_password("secret-pasS", one)
    assert not check_password("x", "garbage")


def test_accounts_and_login_are_audited(ledger: Ledger, clerks) -> None:
    assert authenticate(ledger, "TANAKA", "correct horse 1").login == "tanaka"
    assert authenticate(ledger, "tanaka", "wrong") is None
    assert authenticate(ledger, "nobody", "x") is None
    actions = [(e.actor, e.action) for e in ledger.audit_entries()]
    assert ("tanaka", "login.ok") in actions and ("tanaka", "login.failed") in actions
    assert ("admin", "user.added") in actions
    with pytest.raises(UserError, match="exists already"):
        add_user(ledger, "tanaka", "x", {"entry"}, "long enough", "admin")
    with pytest.raises(UserError, match="roles"):
        add_user(ledger, "sato", "佐藤", {"boss"}, "long enough", "admin")
    with pytest.raises(UserError, match="at least 8"):
        add_user(ledger, "sato", "佐藤", {"entry"}, "short", "admin")


# -- QR path ---------------------------------------------------------------------------------------

def test_confirm_then_export_is_byte_identical_to_the_printed_input(ledger: Ledger, clerks, printed, tmp_path) -> None:
    """GIVEN a printed batch WHEN every sheet is scanned and confirmed THEN the export equals the printed file."""
    tanaka, suzuki = clerks
    register(ledger, printed)
    for spec in printed.sheets:
        assert scan_text(ledger, spec.qr_texts[0], "webcam").outcome == "new"
        confirm(ledger, row_of(ledger, spec.seq), tanaka)
    assert exportable_batches(ledger) == [printed.batch_id]
    result = export(ledger, None, tmp_path / "out.jsonl", "jsonl", suzuki.login)
    assert (tmp_path / "out.jsonl").read_bytes() == dumps_notices(NOTICES)
    assert result.count == 4 and exportable_batches(ledger) == []
    with pytest.raises(WorkflowError):
        confirm(ledger, row_of(ledger, 1), tanaka)  # already confirmed


def test_a_batch_with_missing_sheets_is_not_exported(ledger: Ledger, clerks, printed, tmp_path) -> None:
    register(ledger, printed)
    scan_text(ledger, printed.sheets[0].qr_texts[0])
    confirm(ledger, row_of(ledger, 1), clerks[0])
    assert exportable_batches(ledger) == []
    with pytest.raises(ExportError, match="not verified: 2/4, 3/4, 4/4"):
        export(ledger, [printed.batch_id], tmp_path / "x.jsonl", "jsonl", "suzuki")
    assert not (tmp_path / "x.jsonl").exists()


def test_unknown_key_needs_a_reviewer_with_a_reason(ledger: Ledger, clerks) -> None:
    tanaka, suzuki = clerks
    stranger = Ed25519PrivateKey.generate()
    text = print_batch(NOTICES[:1], stranger).sheets[0].qr_texts[0]
    result = scan_text(ledger, text)
    assert result.outcome == "rejected"
    with pytest.raises(WorkflowError) as no_role:
        override(ledger, result.capture_id, tanaka, "電話で法務省に確認済み")
    assert no_role.value.code == "workflow_override_role" and "審査" in no_role.value.message_ja
    with pytest.raises(WorkflowError) as no_reason:
        override(ledger, result.capture_id, suzuki, " ")
    assert no_reason.value.code == "workflow_override_reason" and "理由" in no_reason.value.message_ja
    row = override(ledger, result.capture_id, suzuki, "電話で法務省に確認済み")
    assert ledger.query("SELECT state, verified FROM notices WHERE id = ?", (row,))[0]["state"] == "confirmed"
    entry = next(e for e in ledger.audit_entries() if e.action == "notice.override")
    assert entry.actor == "suzuki" and entry.detail["reason"] == "電話で法務省に確認済み"


# -- double entry ----------------------------------------------------------------------------------

def test_double_entry_by_two_clerks_then_export(ledger: Ledger, clerks, printed, tmp_path) -> None:
    """GIVEN a batch whose sheet 2 cannot be read WHEN typed twice identically THEN it is done and exported."""
    tanaka, suzuki = clerks
    register(ledger, printed)
    for spec in printed.sheets:
        if spec.seq != 2:
            scan_text(ledger, spec.qr_texts[0])
            confirm(ledger, row_of(ledger, spec.seq), tanaka)
    row, notice = row_of(ledger, 2), NOTICES[1]
    code = record_check_code(notice)
    first = submit_entry(ledger, row, raw(notice, name=notice.name.lower()), code.lower(), tanaka)
    assert first.state == "first_entry"
    with pytest.raises(WorkflowError) as same_clerk:
        submit_entry(ledger, row, raw(notice), code, tanaka)
    assert same_clerk.value.code == "workflow_second_clerk" and "別の職員" in same_clerk.value.message_ja
    second = submit_entry(ledger, row, raw(notice), None, suzuki)
    assert second.state == "done"
    export(ledger, None, tmp_path / "out.jsonl", "jsonl", "suzuki")
    assert (tmp_path / "out.jsonl").read_bytes() == dumps_notices(NOTICES)
    verification = ledger.query("SELECT * FROM verifications WHERE notice_row = ?", (row,))[0]
    assert (verification["method"], verification["entered_by"], verification["verified_by"]) == \
        ("double_entry", "tanaka, suzuki", "suzuki")


def test_typed_record_must_match_manifest_and_check_code(ledger: Ledger, clerks, printed) -> None:
    """GIVEN a registered batch WHEN two clerks type the same slip THEN the cover's manifest stops it."""
    tanaka, suzuki = clerks
    register(ledger, printed)
    row, notice = row_of(ledger, 3), NOTICES[2]
    wrong_birth = (notice.birth_date - dt.timedelta(days=1)).isoformat()
    result = submit_entry(ledger, row, raw(notice), "AAA-AAA", tanaka)
    assert not result.stored and result.errors[0].field == "check_code"
    result = submit_entry(ledger, row, raw(notice, notice_id=NOTICES[0].notice_id), None, tanaka)
    assert "notice_id" in [e.field for e in result.errors]
    invalid = submit_entry(ledger, row, raw(notice, sex="X", municipality_code="131017"), None, tanaka)
    assert {e.field for e in invalid.errors} == {"sex", "municipality_code"}
    assert ledger.query("SELECT COUNT(*) FROM entries")[0][0] == 0
    assert submit_entry(ledger, row, raw(notice, birth_date=wrong_birth), None, tanaka).state == "first_entry"
    same_slip = submit_entry(ledger, row, raw(notice, birth_date=wrong_birth), None, suzuki)
    assert not same_slip.stored and [e.field for e in same_slip.errors] == ["(record)"]
    assert "送付票" in same_slip.errors[0].message_ja
    second = submit_entry(ledger, row, raw(notice), None, suzuki)
    assert (second.state, second.differences) == ("mismatch", ("birth_date",))
    wrong_choice = resolve(ledger, row, {"birth_date": wrong_birth}, suzuki)
    assert wrong_choice.state == "mismatch" and not wrong_choice.stored
    alone = resolve(ledger, row, {"birth_date": notice.birth_date.isoformat()}, suzuki)  # only suzuki keyed it
    assert alone.state == "mismatch" and alone.errors[0].code == "entry_rekey_one_clerk"
    assert resolve(ledger, row, {"birth_date": notice.birth_date.isoformat()}, tanaka).state == "done"


def test_the_second_clerk_cannot_see_the_first_entry(ledger: Ledger, clerks) -> None:
    tanaka, _ = clerks
    row = new_manual_notice(ledger, tanaka, "2026-11-26")
    submit_entry(ledger, row, raw(NOTICES[0]), None, tanaka)
    visible = dict(ledger.query("SELECT * FROM notices WHERE id = ?", (row,))[0])
    assert visible["notice_id"] is None and visible["record_json"] is None and visible["state"] == "first_entry"


def test_mismatch_is_resolved_by_rekeying_only_the_differing_items(ledger: Ledger, clerks, tmp_path) -> None:
    """GIVEN paper without a code typed twice with one slip WHEN the differing item is re-keyed THEN done."""
    tanaka, suzuki = clerks
    notice = NOTICES[3]
    row = new_manual_notice(ledger, tanaka, "2026-11-26")
    submit_entry(ledger, row, raw(notice), None, tanaka)
    slip = notice.birth_date.replace(day=1 if notice.birth_date.day != 1 else 2).isoformat()
    second = submit_entry(ledger, row, raw(notice, birth_date=slip), None, suzuki)
    assert second.state == "mismatch" and second.differences == ("birth_date",)
    still = resolve(ledger, row, {"birth_date": "1900-01-01"}, suzuki)
    assert still.state == "mismatch" and still.errors[0].code == "entry_rekey_differs"
    done = resolve(ledger, row, {"birth_date": notice.birth_date.strftime("%Y/%m/%d")}, suzuki)
    assert done.state == "done"
    assert json.loads(ledger.query("SELECT record_json FROM notices WHERE id = ?", (row,))[0][0]) == notice.record()
    out = export(ledger, None, tmp_path / "m.jsonl", "jsonl", "suzuki")
    assert out.batch_ids == ("M20261126",)


def test_same_clerk_allowed_only_by_setting(ledger: Ledger, clerks) -> None:
    tanaka, _ = clerks
    notice = NOTICES[0]
    row = new_manual_notice(ledger, tanaka, "2026-11-26")
    submit_entry(ledger, row, raw(notice), None, tanaka)
    ledger.set_setting(SAME_CLERK_SETTING, "1", "admin")
    assert submit_entry(ledger, row, raw(notice), None, tanaka).state == "done"
    done = next(e for e in ledger.audit_entries() if e.action == "entry.done")
    assert done.detail["same_clerk"] is True


def test_processing_report_lists_every_notice(ledger: Ledger, clerks, printed) -> None:
    tanaka, _suzuki = clerks
    register(ledger, printed)
    scan_text(ledger, printed.sheets[0].qr_texts[0])
    confirm(ledger, row_of(ledger, 1), tanaka)
    pdf = processing_report(ledger, [printed.batch_id])
    import io

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "".join(p.extract_text() for p in doc.pages).replace(" ", "")
    assert "処理結果一覧" in text and printed.batch_id in text
    assert all(n.notice_id in text for n in NOTICES)
    assert "確認済" in text and "未着" in text and "QR" in text and "tanaka" in text


def test_status_reflects_the_workflow(ledger: Ledger, clerks, printed) -> None:
    register(ledger, printed)
    scan_text(ledger, printed.sheets[0].qr_texts[0])
    confirm(ledger, row_of(ledger, 1), clerks[0])
    state = batch_status(ledger, printed.batch_id)
    assert state.states.get("confirmed") == 1 and state.received == 1


def test_both_entries_wrong_is_settled_by_the_same_rekey_twice(ledger: Ledger, clerks) -> None:
    """GIVEN two entries that both mistype an item WHEN the right value is re-keyed twice THEN it is done."""
    tanaka, suzuki = clerks
    notice = NOTICES[1]
    row = new_manual_notice(ledger, tanaka, "2026-11-26")
    submit_entry(ledger, row, raw(notice, card_number="AA11111111AA"), None, tanaka)
    assert submit_entry(ledger, row, raw(notice, card_number="BB22222222BB"), None, suzuki).state == "mismatch"
    once = resolve(ledger, row, {"card_number": notice.card_number}, suzuki)
    assert once.state == "mismatch" and once.errors[0].code == "entry_rekey_differs"
    other = resolve(ledger, row, {"card_number": "CC33333333CC"}, suzuki)
    assert other.state == "mismatch"  # a different third value is not a confirmation
    alone = resolve(ledger, row, {"card_number": "CC33333333CC"}, suzuki)
    assert alone.state == "mismatch"  # nor is the same clerk keying it again
    assert resolve(ledger, row, {"card_number": "CC33333333CC"}, tanaka).state == "done"
    assert [e.action for e in ledger.audit_entries()].count("entry.rekey_candidate") == 3
    stored = json.loads(ledger.query("SELECT record_json FROM notices WHERE id = ?", (row,))[0][0])
    assert stored["card_number"] == "CC33333333CC"


def test_deactivated_clerks_cannot_log_in_and_passwords_can_be_reset(ledger: Ledger, clerks, runner, home) -> None:
    from paperlink.users import set_active, set_password

    set_active(ledger, "tanaka", False, "admin")
    assert authenticate(ledger, "tanaka", "correct horse 1") is None
    set_active(ledger, "tanaka", True, "admin")
    set_password(ledger, "tanaka", "a brand new pass", "admin")
    assert authenticate(ledger, "tanaka", "correct horse 1") is None
    assert authenticate(ledger, "tanaka", "a brand new pass").login == "tanaka"
    actions = [e.action for e in ledger.audit_entries()]
    assert {"user.deactivated", "user.activated", "user.password_set"} <= set(actions)
    with pytest.raises(UserError, match="at least 8"):
        set_password(ledger, "tanaka", "short", "admin")
    listed = runner("users", "list").stdout
    assert "tanaka" in listed and "suzuki" in listed
    assert "deactivated" in runner("users", "deactivate", "suzuki").stdout
    assert runner("users", "deactivate", "nobody").exit_code == 1
