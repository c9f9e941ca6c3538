"""What a handheld 2D scanner types (keyboard-wedge mode), turned back into the exact QR text.

A wedge scanner types the code as key presses into the focused field. On an office PC three things go
wrong, and each is repaired or explained here:

* **Case and width.** Caps Lock, or a Japanese IME in full-width mode, types `ｐｌ１：…` or `pl1:…`. The
  payload alphabet (base45) is upper-case ASCII only, so full-width is folded (NFKC) and letters upper-cased.
  IME punctuation (`。`, `・`, `ー`, `　`) is mapped back to `.`, `/`, `-`, space.
* **Keyboard layout.** A scanner set to a US layout, plugged into a PC with a Japanese (JIS) keyboard
  layout, presses the US key positions and the PC reads them as JIS: `:` arrives as `+`, `*` as `(`, `+`
  as `~`. The reverse set-up (JIS scanner, US PC) turns `:` into `'`, `*` into `"`, `+` into `:`. The
  prefix `PL1:` / `PM1:` tells which happened, and the whole text is mapped back.
* **IME conversion.** With the IME on in かな mode, letters become kana (`PL` → `ｐｌ` or `ぷ`): that cannot
  be undone, so the clerk is told to switch the IME off (半角/全角 key) and scan again.
"""

from __future__ import annotations

import unicodedata

from paperlink.base45 import ALPHABET
from paperlink.errors import PaperlinkError

PREFIXES = ("PL", "PM")
_IME_PUNCTUATION = str.maketrans({"。": ".", "・": "/", "ー": "-", "\u3000": " ", "、": ",", "＋": "+", "＊": "*"})
_US_ON_JIS = str.maketrans({"+": ":", "(": "*", "~": "+"})
_JIS_ON_US = str.maketrans({"'": ":", '"': "*", ":": "+"})


class WedgeInputError(PaperlinkError, ValueError):
    """Typed scanner input that cannot be turned back into a QR text; the message says what to do."""


def _has_kana(text: str) -> bool:
    return any("HIRAGANA" in unicodedata.name(ch, "") or "KATAKANA" in unicodedata.name(ch, "") for ch in text)


def normalise_wedge(typed: str) -> str:
    """The exact QR text from what a keyboard-wedge scanner typed (see the module docstring)."""
    text = typed.strip("\r\n\t")  # not spaces: a space is a base45 character
    if _has_kana(text.replace("ー", "").replace("・", "")):
        raise WedgeInputError("wedge_ime")
    text = unicodedata.normalize("NFKC", text.translate(_IME_PUNCTUATION)).upper()
    head = text[:4]
    if len(head) == 4 and head[:2] in PREFIXES and head[2].isdigit():
        if head[3] == "+":
            text = text.translate(_US_ON_JIS)
        elif head[3] == "'":
            text = text.translate(_JIS_ON_US)
    bad = sorted({ch for ch in text if ch not in ALPHABET})
    if bad:
        shown = " ".join(repr(ch) for ch in bad[:5])
        raise WedgeInputError("wedge_bad_chars", chars=shown)
    return text
