"""Unicode script classes shared by every text function (Han, Kana, Hangul, latin letters)."""

from __future__ import annotations

import re

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
KANA = "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"
HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
CJK = HAN + KANA + HANGUL

CJK_CHAR = re.compile(f"[{CJK}]")
CJK_RUN = re.compile(f"[{CJK}]+")
HAN_CHAR = re.compile(f"[{HAN}]")
KANA_CHAR = re.compile(f"[{KANA}]")
HANGUL_CHAR = re.compile(f"[{HANGUL}]")
# A letter that is not CJK (latin, cyrillic, greek, arabic, ...); digits are no evidence of a language.
NON_CJK_LETTER = re.compile(f"(?![{CJK}])[^\\W\\d_]")


def is_cjk(text: str) -> bool:
    """True when the text holds any Han, Kana or Hangul character."""
    return CJK_CHAR.search(text) is not None


def script_counts(text: str) -> tuple[int, int, int, int]:
    """(han, kana, hangul, other letters) character counts."""
    return (
        len(HAN_CHAR.findall(text)),
        len(KANA_CHAR.findall(text)),
        len(HANGUL_CHAR.findall(text)),
        len(NON_CJK_LETTER.findall(text)),
    )
