"""The notice model: one MOJ → municipality notice, its validation, and its canonical record.

`parse_notice()` is the only way in: it normalises every item, checks every rule and either returns a
`Notice` or raises `NoticeInvalid` listing all problems. `Notice.record()` is the canonical record; its JSON
(`canonical_json`) is what hashes, signatures, check codes and equality go through.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from paperlink.codetables import tables
from paperlink.errors import FieldError, NoticeInvalid, field_error
from paperlink.fields import BEFORE_KEYS, FIELD_BY_KEY, FIELDS, FieldProblem, Value
from paperlink.rules import check_rules
from paperlink.textnorm import control_characters

KEYS: tuple[str, ...] = (*(f.key for f in FIELDS), "before")
"""Every key of a canonical record, in canonical order."""

WAS_EMPTY_TEXT = "-"
"""How a text form (a CSV cell, a typed before value) writes "the item was empty before the event" (JSON null)."""


def before_from_text(text: str) -> str | None:
    """A before value as typed or read from CSV: `-` alone means "was empty" (None), anything else is itself."""
    return None if text.strip() == WAS_EMPTY_TEXT else text


@dataclass(frozen=True)
class Notice:
    """A validated, normalised notice. Build it with `parse_notice()`, never directly."""

    notice_id: str
    notice_date: dt.date
    event_date: dt.date
    municipality_code: str
    event: str
    category: str
    name: str
    name_kanji: str | None
    birth_date: dt.date
    sex: str
    nationality: str
    card_kind: str | None
    card_number: str | None
    status: str | None
    period_of_stay: str | None
    expiry_date: dt.date | None
    address: str | None
    remarks: str | None
    before: tuple[tuple[str, Value | None], ...] = field(default=())
    """The values before the event; None: the item was empty before it (only for an event's before_may_be_empty)."""

    def get(self, key: str) -> Value | None:
        """The value of an item by key (None when empty)."""
        return getattr(self, key)  # type: ignore[no-any-return]

    def before_dict(self) -> dict[str, Value | None]:
        """The values before the event, in canonical order."""
        return dict(self.before)

    def record(self) -> dict[str, Any]:
        """The canonical record: every key in canonical order, ISO dates, None for an empty item."""
        out: dict[str, Any] = {key: _plain(getattr(self, key)) for key in KEYS if key != "before"}
        out["before"] = {key: _plain(value) for key, value in self.before}
        return out

    def canonical_json(self) -> str:
        """The canonical record as compact JSON text (UTF-8 characters kept, no spaces)."""
        return canonical_json(self.record())

    def digest(self) -> bytes:
        """SHA-256 of the canonical JSON's UTF-8 bytes."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).digest()


def _plain(value: Value | None) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else value


def canonical_json(record: Mapping[str, Any]) -> str:
    """Compact JSON of a record as the data format writes it (key order as given, non-ASCII kept)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _type_name(value: object) -> str:
    return {dict: "object", list: "array", bool: "boolean", int: "number", float: "number"}.get(type(value), "value")


def _normalise(key: str, raw: object, errors: list[FieldError], label: str) -> Value | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        errors.append(field_error(label, "not_string", type=_type_name(raw)))
        return None
    if raw.strip() == "":
        return None
    bad = control_characters(raw.replace("\t", " ").replace("\n", " ").replace("\r", " "))
    if bad:
        errors.append(field_error(label, "control_char", chars=", ".join(bad)))
        return None
    try:
        return FIELD_BY_KEY[key].normalise(raw)
    except FieldProblem as problem:
        errors.append(field_error(label, problem.code, **problem.params))
        return None


def parse_notice(raw: Mapping[str, Any] | object) -> Notice:
    """Normalise and validate a raw record (as read from JSON or CSV, or typed); raise NoticeInvalid listing all problems."""
    if not isinstance(raw, Mapping):
        raise NoticeInvalid([field_error("(record)", "not_object", type=_type_name(raw))])
    errors: list[FieldError] = []
    for key in raw:
        if key not in KEYS:
            errors.append(field_error(str(key), "unknown_field"))

    values: dict[str, Value | None] = {}
    failed: set[str] = set()
    for spec in FIELDS:
        before_count = len(errors)
        values[spec.key] = _normalise(spec.key, raw.get(spec.key), errors, spec.key)
        if len(errors) > before_count:
            failed.add(spec.key)
        elif values[spec.key] is None and spec.always_required:
            errors.append(field_error(spec.key, "missing"))
            failed.add(spec.key)

    before: dict[str, Value | None] = {}
    raw_before = raw.get("before")
    if raw_before is not None and not isinstance(raw_before, Mapping):
        errors.append(field_error("before", "before_not_object", type=_type_name(raw_before)))
        failed.add("before")
    elif raw_before:
        for key, value in raw_before.items():
            label = f"before.{key}"
            if key not in BEFORE_KEYS:
                event = tables().events.get(str(values.get("event")))
                errors.append(field_error(label, "unknown_field" if key not in KEYS else "before_not_allowed",
                                          item=key, event=event.label if event else "?"))
                failed.add(label)
                continue
            event = tables().events.get(str(values.get("event")))
            if value is None and event is not None and key in event.before_may_be_empty:
                before[key] = None   # "was empty": the item had no value before the event
                continue
            if value is None or (isinstance(value, str) and value.strip() == ""):
                errors.append(field_error(label, "before_empty_value"))
                failed.add(label)
                continue
            before_count = len(errors)
            normalised = _normalise(key, value, errors, label)
            if normalised is None or len(errors) > before_count:
                failed.add(label)
            else:
                before[key] = normalised

    errors.extend(check_rules(values, before, failed))
    if errors:
        raise NoticeInvalid(errors)
    ordered_before = tuple((key, before[key]) for key in BEFORE_KEYS if key in before)
    return Notice(**values, before=ordered_before)  # type: ignore[arg-type]


def canonical(raw: Mapping[str, Any] | Notice) -> dict[str, Any]:
    """The canonical record of a notice or of a raw record (validating it). canonical(canonical(x)) == canonical(x)."""
    notice = raw if isinstance(raw, Notice) else parse_notice(raw)
    return notice.record()
