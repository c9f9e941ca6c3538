"""`paperlink samples` makes realistic notices: real transitions, 特別永住者 as they are, sex and age that fit."""

from __future__ import annotations

import datetime as dt

import pytest

from paperlink.samples import _AGES, _CHANGES, _PEOPLE, _PERMANENT_FROM, _SPECIAL_PERMANENT, SampleOptions, generate

NOTICES = generate(SampleOptions(count=1500, seed=5, notice_date=dt.date(2026, 11, 26)))
SEX_OF = {roman: sex for _, people in _PEOPLE + _SPECIAL_PERMANENT for roman, _, sex in people}


def age(notice) -> int:
    born, on = notice.birth_date, notice.event_date
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_permanent_residence_only_from_statuses_that_lead_to_it() -> None:
    before = [n.before_dict().get("status") for n in NOTICES if n.event == "permanent"]
    assert before and set(before) <= set(_PERMANENT_FROM)
    assert not any(str(s).startswith(("技能実習", "特定技能1号", "留学", "研修")) for s in before)


def test_status_changes_are_transitions_that_happen() -> None:
    pairs = {(n.before_dict()["status"], n.status) for n in NOTICES if n.event == "status_change"}
    assert pairs and pairs <= set(_CHANGES)


def test_special_permanent_residents_have_the_names_and_nationalities_of_that_category() -> None:
    spr = [n for n in NOTICES if n.category == "special_permanent"]
    assert len(spr) >= 20
    names = {roman for _, people in _SPECIAL_PERMANENT for roman, _, _ in people}
    assert all(n.nationality in ("韓国", "朝鮮", "台湾") for n in spr)
    assert all(n.name in names or n.before_dict().get("name") in names for n in spr)
    assert all(0 <= age(n) <= 90 for n in spr)


def test_sex_fits_the_name() -> None:
    for n in NOTICES:
        if n.name in SEX_OF:
            assert n.sex == SEX_OF[n.name], n.notice_id


def test_ages_fit_the_status() -> None:
    checked = 0
    for n in NOTICES:
        if n.category == "mid_long_term" and n.status in _AGES and n.event not in ("acquisition",):
            low, high = _AGES[n.status]
            assert low <= age(n) <= high, (n.notice_id, n.status, age(n))
            checked += 1
    assert checked > 500


@pytest.mark.parametrize("status", ["留学", "技能実習1号イ", "特定技能1号"])
def test_no_infants_with_working_or_student_statuses(status: str) -> None:
    assert all(age(n) >= 18 for n in NOTICES if n.status == status)


def test_a_birth_stay_ends_after_sixty_days() -> None:
    ends = [n for n in NOTICES if n.event == "transit_end" and n.category == "transit_birth"]
    assert ends and all((n.event_date - n.birth_date).days >= 60 for n in ends)


def test_every_new_event_appears() -> None:
    events = {n.event for n in NOTICES}
    assert {"leaving_mid_long_term", "card_first_issue", "period_extension", "special_permanent_grant",
            "reentry_permit_lapsed", "deemed_reentry_lapsed", "revocation_departure_period", "transit_end"} <= events
    kanji_added = [n for n in NOTICES if n.event == "identity_change" and n.before_dict().get("name_kanji", 1) is None]
    kanji_removed = [n for n in NOTICES if n.event == "identity_change" and n.before_dict().get("name_kanji")]
    assert kanji_added and kanji_removed
