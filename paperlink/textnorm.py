"""Text normalisation shared by every field: width, case, whitespace and Unicode forms.

Nothing here drops a character silently: functions either return an equivalent text or leave a character
for the validator to reject by name.
"""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")


def _is_compat_ideograph(ch: str) -> bool:
    """CJK Compatibility Ideographs: NFC/NFKC would replace them, but in names they are the 正字."""
    cp = ord(ch)
    return 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F


def _normalize_keeping_compat(text: str, form: str) -> str:
    if not any(_is_compat_ideograph(c) for c in text):
        return unicodedata.normalize(form, text)  # type: ignore[arg-type]
    out: list[str] = []
    run: list[str] = []
    for ch in text:
        if _is_compat_ideograph(ch):
            if run:
                out.append(unicodedata.normalize(form, "".join(run)))  # type: ignore[arg-type]
                run = []
            out.append(ch)
        else:
            run.append(ch)
    if run:
        out.append(unicodedata.normalize(form, "".join(run)))  # type: ignore[arg-type]
    return "".join(out)


def nfkc(text: str) -> str:
    """NFKC (full-width ASCII → half-width, half-width kana → full-width), keeping compatibility ideographs."""
    return _normalize_keeping_compat(text, "NFKC")


def nfc(text: str) -> str:
    """NFC (composed kana and accents), keeping compatibility ideographs."""
    return _normalize_keeping_compat(text, "NFC")


def collapse_spaces(text: str, space: str = " ") -> str:
    """Trim, and turn every run of white space (ASCII, full-width, tabs, newlines) into one `space`."""
    return _WS.sub(space, text.replace("\u3000", " ")).strip(" ").strip()


def control_characters(text: str) -> list[str]:
    """The control/format characters in `text` (as U+XXXX), which no field may contain."""
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs", "Cn")]


def describe_char(ch: str) -> str:
    """A readable name for one character in an error message: 'ß' (U+00DF)."""
    return f"'{ch}' (U+{ord(ch):04X})"
