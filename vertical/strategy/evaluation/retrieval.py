"""Retrieval quality against the gold source document: hit@k and reciprocal rank.

Sources compare by file name (``docs/sleep-hygiene.md`` and ``sleep-hygiene.md`` are the same
document), since the eval set names files relative to the knowledge folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath


def same_source(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return PurePosixPath(a.replace("\\", "/")).name.lower() == PurePosixPath(b.replace("\\", "/")).name.lower()


def hit_at_k(retrieved: Sequence[str], gold: str, k: int) -> float:
    return 1.0 if any(same_source(s, gold) for s in list(retrieved)[:k]) else 0.0


def reciprocal_rank(retrieved: Sequence[str], gold: str, k: int | None = None) -> float:
    for rank, s in enumerate(list(retrieved)[:k] if k else retrieved, 1):
        if same_source(s, gold):
            return 1.0 / rank
    return 0.0
