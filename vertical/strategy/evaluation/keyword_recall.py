"""Keyword recall: share of the reference keywords the answer mentions (case-insensitive, word-bounded)."""

from __future__ import annotations

import re
from collections.abc import Sequence


def keyword_recall(answer: str, keywords: Sequence[str]) -> float | None:
    """None when the item has no keywords (it does not count towards the mean)."""
    if not keywords:
        return None
    text = " ".join(answer.lower().split())
    found = sum(1 for k in keywords if re.search(r"(?<!\w)" + re.escape(" ".join(k.lower().split())), text))
    return found / len(keywords)
