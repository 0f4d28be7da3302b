"""Keyword recall: share of the reference keywords the answer mentions (case-, width- and script-insensitive).

Latin keywords match at a word start ("screen" matches "screens", not "unscreened"), also right
after a Chinese character ("使用CBT"); CJK keywords match as substrings, since Chinese has no word
boundaries to anchor on (regex ``\\b`` and ``(?<!\\w)`` never fire between two Han characters).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vertical.core.text import is_cjk, normalize, to_simplified
from vertical.core.text.scripts import CJK

_SPACES = re.compile(r"\s+")
_LATIN_BEFORE = f"(?<!(?![{CJK}])\\w)"  # not preceded by a letter/digit other than a CJK character


def _canonical(text: str) -> str:
    return _SPACES.sub(" ", to_simplified(normalize(text)).lower())


def _mentions(text: str, keyword: str) -> bool:
    key = _canonical(keyword)
    if not key:
        return False
    if is_cjk(key):
        return _SPACES.sub("", key) in _SPACES.sub("", text)
    return re.search(_LATIN_BEFORE + re.escape(key), text) is not None


def keyword_recall(answer: str, keywords: Sequence[str]) -> float | None:
    """None when the item has no keywords (it does not count towards the mean)."""
    if not keywords:
        return None
    text = _canonical(answer)
    return sum(1 for k in keywords if _mentions(text, k)) / len(keywords)
