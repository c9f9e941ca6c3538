"""Names as the 在留カード writes them: 正字 for 漢字氏名, A–Z for the roman-letter name."""

from __future__ import annotations

import pytest

from paperlink.fields import FieldProblem, norm_kanji_name, norm_roman_name
from paperlink.names import in_jis, simplified_form
from paperlink.samples import _PEOPLE, _SPECIAL_PERMANENT


@pytest.mark.parametrize(("name", "char", "seiji"), [("张\u3000伟", "张", "張"), ("王\u3000丽", "丽", "麗"),
                                                      ("陈\u3000建国", "陈", "陳")])
def test_a_simplified_form_is_not_seiji_and_the_message_names_the_seiji(name: str, char: str, seiji: str) -> None:
    with pytest.raises(FieldProblem) as exc:
        norm_kanji_name(name)
    assert exc.value.code == "kanji_not_seiji"
    assert char in str(exc.value.params["char"]) and seiji in str(exc.value.params["seiji"])


@pytest.mark.parametrize("name", ["張\u3000偉", "芸\u3000沈", "叶\u3000明", "𠮷田\u3000太郎", "葛\U000E0100西\u3000花子",
                                  "山\uFA11\u3000花子", "髙橋\u3000一郎"])
def test_seiji_and_characters_outside_jis_are_carried_as_written(name: str) -> None:
    """GIVEN a 正字, a 同形異字 of JIS, 𠮷 (outside JIS X 0208/0213), an IVS or a compatibility ideograph THEN kept."""
    assert norm_kanji_name(name) == name


def test_outside_jis_is_not_the_same_as_simplified() -> None:
    assert not in_jis("𠮷") and not simplified_form("𠮷")
    assert not in_jis("张") and simplified_form("张")


def test_a_variation_selector_needs_an_ideograph_before_it() -> None:
    with pytest.raises(FieldProblem, match="kanji_selector_alone"):
        norm_kanji_name("\U000E0100葛")


@pytest.mark.parametrize(("typed", "code", "hint"), [("O'CONNOR, EMILY ROSE", "roman_apostrophe", "OCONNOR, EMILY ROSE"),
                                                     ("O\u2019CONNOR", "roman_apostrophe", "OCONNOR"),
                                                     ("MÜLLER, HANS", "roman_diacritic", "UE"),
                                                     ("JOSÉ GARCIA", "roman_diacritic", "E"),
                                                     ("STRAßE", "roman_diacritic", "SS"),
                                                     ("J. SMITH", "roman_period", None)])
def test_roman_names_follow_the_card(typed: str, code: str, hint: str | None) -> None:
    with pytest.raises(FieldProblem) as exc:
        norm_roman_name(typed)
    assert exc.value.code == code
    if hint:
        assert hint in str(exc.value.params.get("value", exc.value.params.get("letters")))


def test_hyphens_and_commas_are_part_of_a_name() -> None:
    assert norm_roman_name("muhammad al-faruqi, abdul") == "MUHAMMAD AL-FARUQI, ABDUL"


def test_every_sample_kanji_name_is_seiji() -> None:
    for _, people in _PEOPLE + _SPECIAL_PERMANENT:
        for _, kanji, _ in people:
            if kanji:
                assert norm_kanji_name(kanji) == kanji
