"""The office's own municipality: part of setting up, and what every way in checks a notice's addressee against.

The 全国地方公共団体コード of the office is an office setting (`office.municipality_code`), set by
`paperlink setup --municipality CODE` or on the entry screen's first run, audited like every setting. Line and
media imports refuse to run without it (`OfficeUnset`), and hold – never drop – each notice addressed to
another municipality (`foreign_hold`).
"""

from __future__ import annotations

from paperlink.errors import NoticeInvalid, PaperlinkError, field_error
from paperlink.fields import FieldProblem, norm_municipality
from paperlink.holding import Held
from paperlink.intake import OFFICE_MUNICIPALITY_SETTING
from paperlink.ledger import Ledger
from paperlink.notice import Notice


class OfficeUnset(PaperlinkError):
    """The office's municipality code is not set, so no notice can be checked against it."""


def office_code(ledger: Ledger) -> str | None:
    """The office's municipality code, or None while it is not set up."""
    return ledger.setting(OFFICE_MUNICIPALITY_SETTING) or None


def require_office(ledger: Ledger) -> str:
    """The office's municipality code; OfficeUnset while it is not set up."""
    code = office_code(ledger)
    if code is None:
        raise OfficeUnset("office_unset")
    return code


def set_office(ledger: Ledger, code: str, actor: str) -> str:
    """Set the office's municipality code (validated like a notice's, audited); returns it normalised."""
    try:
        value = norm_municipality(code)
    except FieldProblem as exc:
        raise NoticeInvalid([field_error("municipality_code", exc.code, **exc.params)]) from None
    ledger.set_setting(OFFICE_MUNICIPALITY_SETTING, value, actor)
    return value


def foreign_hold(notice: Notice, office: str) -> Held | None:
    """The hold of a notice addressed to another municipality than `office`, or None if it is for this office."""
    if notice.municipality_code == office:
        return None
    return Held(notice.notice_id, None, "hold_foreign_municipality",
                {"other": notice.municipality_code, "office": office})
