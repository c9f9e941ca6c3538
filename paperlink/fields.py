"""The items of a notice: their keys, Japanese labels, and how each one is normalised and checked on its own.

Rules that involve more than one item (category, event, dates, before values) live in `rules.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from paperlink.codetables import duration_days, tables
from paperlink.dates import DateParseError, parse_date
from paperlink.names import SEIJI_FOR, icao_transliteration, simplified_form
from paperlink.textnorm import collapse_spaces, control_characters, describe_char, nfc, nfkc

Value = str | dt.date


class FieldProblem(Exception):
    """Raised by a normaliser: a message code and its parameters (turned into a FieldError by the caller)."""

    def __init__(self, code: str, /, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class FieldSpec:
    """One item of the notice format."""

    key: str
    label: str
    normalise: Callable[[str], Value]
    always_required: bool = False
    is_date: bool = False


# -- single-field normalisers --------------------------------------------------------------------

_NOTICE_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
_ROMAN_ALLOWED = "A–Z, space, comma, hyphen"
_KANJI_EXTRA = set("々〆〇ヶヵ・ー\u3000")


def _clean(text: str, max_len: int) -> str:
    bad = control_characters(text.replace("\t", " ").replace("\n", " ").replace("\r", " "))
    if bad:
        raise FieldProblem("control_char", chars=", ".join(bad))
    if len(text) > max_len:
        raise FieldProblem("too_long", length=len(text), max=max_len)
    return text


def norm_notice_id(text: str) -> str:
    """Notice ids: half-width upper case, e.g. N20251126-0001."""
    value = _clean(nfkc(text).strip().upper(), 32)
    if not _NOTICE_ID.match(value):
        raise FieldProblem("notice_id_format")
    return value


def municipality_check_digit(first_five: str) -> int:
    """The check digit of a 全国地方公共団体コード: weights 6,5,4,3,2; cd = (11 - sum % 11) % 10."""
    total = sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


def norm_municipality(text: str) -> str:
    """A 6-digit municipality code whose last digit is the check digit."""
    value = nfkc(text).strip()
    if not re.fullmatch(r"[0-9]{6}", value):
        raise FieldProblem("municipality_format")
    expected = municipality_check_digit(value[:5])
    if int(value[5]) != expected:
        raise FieldProblem("municipality_check_digit", code=value, expected=expected)
    t = tables()
    entry = t.municipalities.get(value)
    if entry is None:
        raise FieldProblem("municipality_unknown", code=value, version=t.version("municipalities"))
    if entry.kind == "prefecture":
        raise FieldProblem("municipality_prefecture", code=value, name=entry.name)
    if entry.kind == "designated_city":
        wards = "、".join(f"{w.name.removeprefix(entry.name)} {w.code}" for w in t.wards(value) if w.valid_to is None)
        raise FieldProblem("municipality_designated_city", code=value, name=entry.name, wards=wards)
    if not entry.addressable:
        raise FieldProblem("municipality_special_ward_area", code=value, name=f"{entry.prefecture}{entry.name}")
    return value


_EARLIEST = dt.date(1880, 1, 1)
_LATEST = dt.date(2199, 12, 31)


def norm_date(text: str) -> dt.date:
    """Any accepted date spelling → a date within a plausible range."""
    try:
        value = parse_date(text)
    except DateParseError as exc:
        raise FieldProblem(exc.args[0], value=text) from None
    if not _EARLIEST <= value <= _LATEST:
        raise FieldProblem("date_range", value=value.isoformat(), low=_EARLIEST, high=_LATEST)
    return value


def norm_roman_name(text: str) -> str:
    """Roman-letter names: half-width upper case, single spaces; only A–Z, space, comma and hyphen."""
    value = _clean(collapse_spaces(nfkc(text)), 120)
    for ch in value:
        # checked before upper-casing: 'ß'.upper() is 'SS' and 'ı'.upper() is 'I', which must not pass unnoticed
        if not (ch.isascii() and (ch.isalpha() or ch in " ,-")):
            if ch in "'\u2019\u02bc`":
                raise FieldProblem("roman_apostrophe", char=describe_char(ch), value=value.replace(ch, "").upper())
            if ch == ".":
                raise FieldProblem("roman_period", char=describe_char(ch))
            if (as_passport := icao_transliteration(ch)):
                raise FieldProblem("roman_diacritic", char=describe_char(ch), letters=as_passport)
            raise FieldProblem("bad_char", char=describe_char(ch), allowed=_ROMAN_ALLOWED)
    value = value.upper()
    if not value:
        raise FieldProblem("missing")
    return value


def _is_kanji_name_char(ch: str) -> bool:
    cp = ord(ch)
    return (0x3400 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x3FFFF
            or 0x3041 <= cp <= 0x30FA or ch in _KANJI_EXTRA
            or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF)  # variation selectors (IVS) of 正字


def norm_kanji_name(text: str) -> str:
    """漢字 names: NFC (compatibility ideographs kept as written), single ideographic spaces."""
    value = _clean(collapse_spaces(nfc(text), "\u3000"), 60)
    # half-width katakana only: widen them without touching anything else
    value = "".join(nfkc(ch) if 0xFF61 <= ord(ch) <= 0xFF9F else ch for ch in value)
    value = nfc(value)
    if not value:
        raise FieldProblem("missing")
    previous = ""
    for ch in value:
        if not _is_kanji_name_char(ch):
            raise FieldProblem("bad_char", char=describe_char(ch), allowed="漢字・かな・々・ー")
        if _is_selector(ch) and not _is_ideograph(previous):
            raise FieldProblem("kanji_selector_alone", char=describe_char(ch))
        if _is_ideograph(ch) and simplified_form(ch):
            seiji = SEIJI_FOR.get(ch)
            raise FieldProblem("kanji_not_seiji", char=describe_char(ch),
                               seiji=f"{seiji} (U+{ord(seiji):04X})" if seiji else "?")
        previous = ch
    return value


def _is_selector(ch: str) -> bool:
    return 0xFE00 <= ord(ch) <= 0xFE0F or 0xE0100 <= ord(ch) <= 0xE01EF


def _is_ideograph(ch: str) -> bool:
    if not ch:
        return False
    cp = ord(ch)
    return 0x3400 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x3FFFF or ch in "々〆〇"


_SEX = {"M": "M", "F": "F", "男": "M", "女": "F", "1": "M", "2": "F", "MALE": "M", "FEMALE": "F"}


def norm_sex(text: str) -> str:
    """Sex as M or F (男, 女, 1, 2 accepted)."""
    value = _SEX.get(nfkc(text).strip().upper())
    if value is None:
        raise FieldProblem("sex_value", value=text)
    return value


def _coded(table: str, problem: str) -> Callable[[str], str]:
    """A normaliser for a code-table item: its code (or Japanese label) → the code."""

    def normalise(text: str) -> str:
        entry = getattr(tables(), table)(text)
        if entry is None:
            raise FieldProblem(problem, value=text)
        return str(entry.code)

    normalise.__doc__ = f"A {table.replace('_', ' ')} code (a Japanese label is accepted and converted)."
    return normalise


norm_event = _coded("event", "unknown_event")
norm_category = _coded("category", "unknown_category")
norm_card_kind = _coded("card_kind", "unknown_card_kind")


def norm_card_number(text: str) -> str:
    """A card number: half-width upper case, e.g. AB12345678CD (its pattern is checked against its kind)."""
    value = _clean(nfkc(text).strip().upper(), 20)
    if not value:
        raise FieldProblem("missing")
    if not re.fullmatch(r"[A-Z0-9]+", value):
        bad = next((c for c in value if not c.isalnum() or not c.isascii()), value[:1])
        raise FieldProblem("bad_char", char=describe_char(bad), allowed="A–Z, 0–9")
    return value


def norm_status(text: str) -> str:
    """A 在留資格 by its Japanese name (its code is accepted and converted)."""
    status = tables().status(text)
    if status is None:
        raise FieldProblem("unknown_status", value=text)
    return status.name


def norm_period(text: str) -> str:
    """A period such as 5年, 1年6月, 90日 (half-width digits)."""
    value = _clean(nfkc(text).strip().replace(" ", ""), 40)
    if duration_days(value) is None:
        raise FieldProblem("period_format", value=text)
    return value


def norm_nationality(text: str) -> str:
    """A 国籍・地域 by its Japanese name (an ICAO code is accepted and converted)."""
    nationality = tables().nationality(text)
    if nationality is None:
        reason = tables().nationalities_refused.get(nfkc(text).strip().upper()) or tables().nationalities_refused.get(
            nfkc(text).strip())
        if reason is not None:
            raise FieldProblem(f"nationality_{reason}", value=text)
        raise FieldProblem("unknown_nationality", value=text)
    return nationality.name


def norm_address(text: str) -> str:
    """An address, optional: kept as written (NFC, single spaces) – never NFKC-folded, no dash rewritten.

    The address is the municipality's own item (住所): the register keeps what its clerk wrote. A notice
    carries one only as information, and paperlink never changes its characters (全角 digits stay 全角)."""
    value = _clean(collapse_spaces(nfc(text)), 200)
    if not value:
        raise FieldProblem("missing")
    return value


def norm_remarks(text: str) -> str:
    """Free remarks: NFC, single spaces, at most 200 characters."""
    value = _clean(collapse_spaces(nfc(text)), 200)
    if not value:
        raise FieldProblem("missing")
    return value


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("notice_id", "通知番号", norm_notice_id, always_required=True),
    FieldSpec("notice_date", "通知日", norm_date, always_required=True, is_date=True),
    FieldSpec("event_date", "事由発生日", norm_date, always_required=True, is_date=True),
    FieldSpec("municipality_code", "市区町村コード", norm_municipality, always_required=True),
    FieldSpec("event", "事由", norm_event, always_required=True),
    FieldSpec("category", "区分", norm_category, always_required=True),
    FieldSpec("name", "氏名（ローマ字）", norm_roman_name, always_required=True),
    FieldSpec("name_kanji", "氏名（漢字）", norm_kanji_name),
    FieldSpec("birth_date", "生年月日", norm_date, always_required=True, is_date=True),
    FieldSpec("sex", "男女の別", norm_sex, always_required=True),
    FieldSpec("nationality", "国籍・地域", norm_nationality, always_required=True),
    FieldSpec("card_kind", "カードの種類", norm_card_kind),
    FieldSpec("card_number", "カード番号", norm_card_number),
    FieldSpec("status", "在留資格", norm_status),
    FieldSpec("period_of_stay", "在留期間", norm_period),
    FieldSpec("expiry_date", "在留期間の満了の日", norm_date, is_date=True),
    FieldSpec("address", "住所", norm_address),
    FieldSpec("remarks", "備考", norm_remarks),
)
"""Every item except `before`, in canonical order (`before` comes last, see notice.KEYS)."""

FIELD_BY_KEY: dict[str, FieldSpec] = {f.key: f for f in FIELDS}

BEFORE_KEYS: tuple[str, ...] = ("category", "name", "name_kanji", "birth_date", "sex", "nationality",
                                "card_kind", "card_number", "status", "period_of_stay", "expiry_date")
"""Items that may carry a value before the event, in canonical order."""
