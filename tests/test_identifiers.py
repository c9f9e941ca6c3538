"""Single-item rules: municipality codes, card numbers, names, sex, table look-ups."""

from __future__ import annotations

import pytest

from paperlink.errors import NoticeInvalid
from paperlink.fields import (
    FieldProblem,
    municipality_check_digit,
    norm_card_number,
    norm_kanji_name,
    norm_municipality,
    norm_nationality,
    norm_roman_name,
    norm_sex,
    norm_status,
)
from paperlink.notice import parse_notice

REAL_CODES = {"131016": "千代田区", "011011": "札幌市中央区", "271276": "大阪市北区", "141011": "横浜市鶴見区"}


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_real_municipality_codes_pass(code: str) -> None:
    assert norm_municipality(code) == code
    assert municipality_check_digit(code[:5]) == int(code[5])


@pytest.mark.parametrize(("code", "digit"), [(c, d) for c in sorted(REAL_CODES) for d in range(10) if d != int(c[5])])
def test_real_municipality_codes_with_any_other_check_digit_fail(code: str, digit: int) -> None:
    with pytest.raises(FieldProblem) as exc:
        norm_municipality(code[:5] + str(digit))
    assert exc.value.code == "municipality_check_digit"
    assert exc.value.params["expected"] == int(code[5])


@pytest.mark.parametrize("text", ["13101", "1310160", "13101a", ""])
def test_municipality_code_must_be_six_digits(text: str) -> None:
    with pytest.raises(FieldProblem, match="municipality_format"):
        norm_municipality(text)


def test_full_width_municipality_code_is_accepted() -> None:
    assert norm_municipality("１３１０１６") == "131016"


@pytest.mark.parametrize("typed", ["AB12345678CD", "ab12345678cd", "ＡＢ１２３４５６７８ＣＤ", " ab12345678CD "])
def test_card_number_normalised_to_half_width_upper_case(typed: str) -> None:
    assert norm_card_number(typed) == "AB12345678CD"


@pytest.mark.parametrize("number", ["AB1234567CD", "A123456789CD", "AB12345678C1", "1B12345678CD"])
def test_card_number_pattern_checked_against_its_kind(record, number: str) -> None:
    with pytest.raises(NoticeInvalid) as exc:
        parse_notice(record(card_number=number))
    assert [(e.field, e.code) for e in exc.value.errors] == [("card_number", "card_format")]


def test_card_number_with_separator_is_rejected_naming_the_character() -> None:
    with pytest.raises(FieldProblem) as exc:
        norm_card_number("AB-12345678-CD")
    assert exc.value.code == "bad_char" and "'-'" in str(exc.value.params["char"])


@pytest.mark.parametrize(("typed", "expected"), [
    ("nguyen van an", "NGUYEN VAN AN"),
    ("ＮＧＵＹＥＮ　ＶＡＮ　ＡＮ", "NGUYEN VAN AN"),
    ("  dela  cruz,\tmaria ", "DELA CRUZ, MARIA"),
    ("O-CONNOR, EMILY", "O-CONNOR, EMILY"),
])
def test_roman_names_normalised(typed: str, expected: str) -> None:
    assert norm_roman_name(typed) == expected


@pytest.mark.parametrize("typed", ["STRAßE", "JOSÉ", "KİM", "ıSMAIL", "O'BRIEN", "李"])
def test_roman_names_never_lose_a_character_silently(typed: str) -> None:
    with pytest.raises(FieldProblem) as exc:
        norm_roman_name(typed)
    assert exc.value.code in ("bad_char", "roman_apostrophe", "roman_diacritic")


def test_kanji_name_keeps_compatibility_ideographs_and_joins_spaces() -> None:
    # U+FA11 﨑 and U+FA19 神 would be replaced by plain NFC; names keep their 正字
    assert norm_kanji_name("山\uFA11  \uFA19子") == "山\uFA11\u3000\uFA19子"
    assert norm_kanji_name("ﾔﾏﾀﾞ 花子") == "ヤマダ\u3000花子"


def test_kanji_name_rejects_latin_letters() -> None:
    with pytest.raises(FieldProblem, match="bad_char"):
        norm_kanji_name("王 Wei")


@pytest.mark.parametrize(("typed", "expected"), [("M", "M"), ("f", "F"), ("男", "M"), ("女", "F"), ("２", "F")])
def test_sex_accepts_codes_and_kanji(typed: str, expected: str) -> None:
    assert norm_sex(typed) == expected


def test_nationality_from_icao_code_is_stored_as_japanese_name() -> None:
    assert norm_nationality("VNM") == "ベトナム"
    assert norm_nationality("vnm") == "ベトナム"
    assert norm_nationality("ベトナム") == "ベトナム"
    assert norm_nationality("XXA") == "無国籍"


@pytest.mark.parametrize(("typed", "code"), [("難民(その他)", "nationality_refugee"), ("難民（その他）", "nationality_refugee"),
                                           ("XXB", "nationality_refugee"), ("香港", "nationality_hong_kong"),
                                           ("hkg", "nationality_hong_kong"), ("マカオ", "nationality_macao"),
                                           ("国籍不明", "nationality_unknown")])
def test_what_is_not_a_nationality_or_region_is_refused_with_its_reason(typed: str, code: str) -> None:
    with pytest.raises(FieldProblem) as exc:
        norm_nationality(typed)
    assert exc.value.code == code


@pytest.mark.parametrize(("typed", "expected"), [("DEU", "ドイツ"), ("D", "ドイツ"), ("TWN", "台湾"), ("PSE", "パレスチナ"),
                                               ("XKX", "コソボ"), ("XCK", "朝鮮"), ("SWZ", "エスワティニ"),
                                               ("スワジランド", "スワジランド")])
def test_nationality_by_iso_code_icao_code_or_any_name_it_had(typed: str, expected: str) -> None:
    assert norm_nationality(typed) == expected


def test_status_by_code_or_name() -> None:
    assert norm_status("student") == "留学"
    assert norm_status("技術・人文知識・国際業務") == "技術・人文知識・国際業務"
    assert norm_status("高度専門職１号イ") == "高度専門職1号イ"
    with pytest.raises(FieldProblem, match="unknown_status"):
        norm_status("観光")
