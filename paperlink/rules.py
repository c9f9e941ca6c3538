"""Rules across items: what a category requires, what an event changes, and how the dates relate.

Each rule runs only when the items it reads were valid on their own, so one typo gives one message.
The rules read the code tables (tables/*.json); the tables say *which* items, this module says *how*.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from paperlink.codetables import duration_days, tables
from paperlink.errors import FieldError, field_error
from paperlink.fields import Value

_THREE_MONTHS = duration_days("3月") or 90
NEW_GRANT_EVENTS = ("status_change", "acquisition")
"""Events that grant a status anew (not an extension of a grant already held)."""


def check_rules(values: Mapping[str, Value | None], before: Mapping[str, Value | None],
                failed: set[str]) -> list[FieldError]:
    """Every cross-item problem of a notice whose single items are `values` (None: empty or invalid)."""
    errors: list[FieldError] = []
    errors += _category_rules(values, failed)
    errors += _status_rules(values, failed)
    errors += _date_rules(values)
    errors += _municipality_rules(values)
    errors += _nationality_rules(values)
    errors += _before_rules(values, before, failed)
    errors += _event_rules(values, before)
    return errors


def _category_rules(values: Mapping[str, Value | None], failed: set[str]) -> list[FieldError]:
    t = tables()
    errors: list[FieldError] = []
    category = t.categories.get(str(values["category"])) if values["category"] else None
    event = t.events.get(str(values["event"])) if values["event"] else None
    if category is None:
        return errors
    if event is not None and category.code not in event.categories:
        errors.append(field_error("event", "event_category", event=event.label, category=category.label))
    for key in category.requires:
        if values[key] is None and key not in failed:
            errors.append(field_error(key, "required_for_category", category=category.label))
    for key in category.forbids:
        if values[key] is not None:
            errors.append(field_error(key, "forbidden_for_category", category=category.label))
    kind_code = values["card_kind"]
    if kind_code is not None and category.card_kinds:
        kind = t.card_kinds[str(kind_code)]
        if kind.code not in category.card_kinds:
            errors.append(field_error("card_kind", "card_kind_for_category", kind=kind.label, category=category.label))
        elif isinstance(values["event_date"], dt.date) and not kind.valid_on(values["event_date"]):
            errors.append(field_error("card_kind", "card_kind_not_valid", kind=kind.label,
                                      date=values["event_date"].isoformat()))
        number = values["card_number"]
        if number is not None and not kind.pattern.match(str(number)):
            errors.append(field_error("card_number", "card_format", value=number, kind=kind.label))
    return errors


def _status_rules(values: Mapping[str, Value | None], failed: set[str]) -> list[FieldError]:
    t = tables()
    errors: list[FieldError] = []
    if values["event"] == "permanent" and values["status"] is not None and values["status"] != "永住者":
        errors.append(field_error("status", "permanent_status"))
    if values["status"] is None or values["category"] != "mid_long_term":
        return errors
    status = t.statuses[str(values["status"])]
    leaving = values["event"] == "leaving_mid_long_term"
    if not status.mid_long_term and not leaving:
        errors.append(field_error("status", "status_not_resident", status=status.name))
    event_date = values["event_date"]
    if isinstance(event_date, dt.date) and not status.valid_on(event_date):
        span = f"{status.valid_from or '…'} – {status.valid_to or '…'}"
        errors.append(field_error("status", "status_not_valid", status=status.name, date=event_date.isoformat(),
                                  period=span))
    if (status.new_grants_until is not None and isinstance(event_date, dt.date) and event_date > status.new_grants_until
            and values["event"] in NEW_GRANT_EVENTS):
        errors.append(field_error("status", "status_no_new_grants", status=status.name,
                                  date=status.new_grants_until.isoformat()))
    period = values["period_of_stay"]
    if status.indefinite:
        for key in ("period_of_stay", "expiry_date"):
            if values[key] is not None:
                errors.append(field_error(key, "status_indefinite", status=status.name))
        return errors
    for key in ("period_of_stay", "expiry_date"):
        if values[key] is None and key not in failed:
            errors.append(field_error(key, "required_for_category", category=t.categories["mid_long_term"].label))
    if period is None:
        return errors
    rule = t.period_rule(status.code, event_date if isinstance(event_date, dt.date) else None)
    if not rule.allows(str(period)):
        allowed = "、".join(list(rule.periods) + ([f"{rule.designated_max}以内の指定期間"] if rule.designated_max else []))
        errors.append(field_error("period_of_stay", "period_not_allowed", value=period, status=status.name,
                                  allowed=allowed))
    elif (duration_days(str(period)) or 0) <= _THREE_MONTHS and not leaving:
        errors.append(field_error("period_of_stay", "period_too_short", value=period))
    elif leaving and status.mid_long_term and (duration_days(str(period)) or 0) > _THREE_MONTHS:
        errors.append(field_error("period_of_stay", "not_leaving_mid_long_term", status=status.name, value=period))
    return errors


def _municipality_rules(values: Mapping[str, Value | None]) -> list[FieldError]:
    """A municipality code must be in use on the notice date (a ward abolished by a reorganisation is not)."""
    code, notice_date = values["municipality_code"], values["notice_date"]
    entry = tables().municipalities.get(str(code)) if code is not None else None
    if entry is None or not isinstance(notice_date, dt.date) or entry.valid_on(notice_date):
        return []
    span = f"{entry.valid_from or '…'} – {entry.valid_to or '…'}"
    return [field_error("municipality_code", "municipality_not_in_use", code=entry.code, name=entry.name,
                        date=notice_date.isoformat(), period=span)]


def _nationality_rules(values: Mapping[str, Value | None]) -> list[FieldError]:
    """The nationality after the event is written by the name in use on the event date (old names only in `before`)."""
    t = tables()
    name, event_date = values["nationality"], values["event_date"]
    entry = t.nationalities.get(str(name)) if name is not None else None
    if entry is None or not isinstance(event_date, dt.date) or entry.valid_on(event_date):
        return []
    return [field_error("nationality", "nationality_renamed", value=entry.name, current=t.current_name(entry),
                        date=event_date.isoformat())]


def _date_rules(values: Mapping[str, Value | None]) -> list[FieldError]:
    errors: list[FieldError] = []
    notice_date, event_date = values["notice_date"], values["event_date"]
    birth_date, expiry_date = values["birth_date"], values["expiry_date"]
    if isinstance(notice_date, dt.date) and isinstance(event_date, dt.date) and event_date > notice_date:
        errors.append(field_error("event_date", "event_after_notice", event_date=event_date.isoformat(),
                                  notice_date=notice_date.isoformat()))
    if isinstance(birth_date, dt.date) and isinstance(event_date, dt.date) and birth_date > event_date:
        errors.append(field_error("birth_date", "birth_after_event", birth_date=birth_date.isoformat(),
                                  event_date=event_date.isoformat()))
    event = tables().events.get(str(values["event"]))
    ends = event is not None and event.ends_residence
    if isinstance(expiry_date, dt.date) and isinstance(event_date, dt.date) and not ends and expiry_date <= event_date:
        errors.append(field_error("expiry_date", "expiry_not_after_event", expiry_date=expiry_date.isoformat(),
                                  event_date=event_date.isoformat()))
    return errors


def _before_rules(values: Mapping[str, Value | None], before: Mapping[str, Value | None],
                  failed: set[str]) -> list[FieldError]:
    t = tables()
    errors: list[FieldError] = []
    event = t.events.get(str(values["event"])) if values["event"] else None
    if event is None:
        return errors
    if event.ends_residence and not event.before_allowed and before:
        return [field_error("before", "ends_residence_before", event=event.label)]
    for key, value in before.items():
        if key not in event.before_allowed:
            errors.append(field_error(f"before.{key}", "before_not_allowed", item=key, event=event.label))
        elif value == values.get(key):
            shown = value.isoformat() if isinstance(value, dt.date) else value if value is not None else "(empty)"
            errors.append(field_error(f"before.{key}", "before_equals_after", value=shown))
    if key_card := before.get("card_number"):
        kind = t.card_kinds.get(str(before.get("card_kind") or values["card_kind"] or ""))
        if kind is not None and not kind.pattern.match(str(key_card)):
            errors.append(field_error("before.card_number", "card_format", value=key_card, kind=kind.label))
    any_failed = any(f"before.{k}" in failed for k in event.before_any_of) or "before" in failed
    if event.before_any_of and not any(k in before for k in event.before_any_of) and not any_failed:
        errors.append(field_error("before", "before_missing", event=event.label, items=", ".join(event.before_any_of)))
    return errors


_EXIT_PERIOD_DAYS = 30
"""The longest 出国期間 a revocation may designate (入管法 第22条の4 第7項)."""
_TRANSIT_DAYS = 60
"""How long a 経過滞在者 may stay without a status (入管法 第22条の2 第1項)."""
SPECIAL_PERMANENT_FROM = ("mid_long_term", "transit_birth", "transit_nationality_loss")
"""The categories a 特別永住許可 is granted from (入管特例法 第4条: birth; 第5条: a holder of another status)."""


def _event_rules(values: Mapping[str, Value | None], before: Mapping[str, Value | None]) -> list[FieldError]:
    """Rules of single events: what their dates and before values must say (docs/format.md, section 5.3)."""
    event, event_date = values["event"], values["event_date"]
    errors: list[FieldError] = []
    expiry, birth = values["expiry_date"], values["birth_date"]
    if event == "card_first_issue" and "card_number" in before and before["card_number"] is not None:
        errors.append(field_error("before.card_number", "first_card_had_number", value=before["card_number"]))
    if event == "special_permanent_grant" and before.get("category") not in (None, *SPECIAL_PERMANENT_FROM):
        errors.append(field_error("before.category", "special_permanent_grant_from", value=before["category"]))
    if not isinstance(event_date, dt.date):
        return errors
    if event == "revocation_departure_period" and isinstance(expiry, dt.date) \
            and expiry > event_date + dt.timedelta(days=_EXIT_PERIOD_DAYS):
        errors.append(field_error("expiry_date", "exit_period_too_long", expiry_date=expiry.isoformat(),
                                  event_date=event_date.isoformat(), days=_EXIT_PERIOD_DAYS))
    if event == "transit_end" and values["category"] == "transit_birth" and isinstance(birth, dt.date) \
            and event_date < birth + dt.timedelta(days=_TRANSIT_DAYS):
        errors.append(field_error("event_date", "transit_end_too_early", event_date=event_date.isoformat(),
                                  birth_date=birth.isoformat(), days=_TRANSIT_DAYS,
                                  earliest=(birth + dt.timedelta(days=_TRANSIT_DAYS)).isoformat()))
    if event == "expiry" and isinstance(expiry, dt.date) and expiry >= event_date:
        errors.append(field_error("expiry_date", "expiry_not_before_end", expiry_date=expiry.isoformat(),
                                  event_date=event_date.isoformat()))
    return errors
