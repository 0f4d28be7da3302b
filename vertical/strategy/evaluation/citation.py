"""Citation correctness: the [n] markers point at a retrieved chunk of the right (gold) document.

Only the citations the model wrote count (``citation``). The answer policy attributes citations by word
overlap when the model wrote none; those say how well the *policy* attributes, not whether the model
cites, so they are scored apart (``citation_attributed``). Score = correct markers / markers; None when
there are no markers of that kind (``cited_share`` says how often the model cited at all). A marker
beyond the retrieved list is wrong. A diagnostic, outside the composite: prompt-only cannot cite.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vertical.strategy.evaluation.retrieval import same_source

_MARKER = re.compile(r"\[(\d{1,2})\]")


def cited_numbers(answer: str) -> list[int]:
    return [int(m) for m in _MARKER.findall(answer)]


def citation_precision(cited: Sequence[int], sources: Sequence[str], gold: str | None) -> float | None:
    """Share of ``cited`` numbers whose chunk comes from ``gold``; None when nothing was cited."""
    if not cited:
        return None
    correct = sum(1 for n in cited if 1 <= n <= len(sources) and same_source(sources[n - 1], gold))
    return round(correct / len(cited), 4)


def citation_correctness(answer: str, sources: Sequence[str], gold: str) -> float:
    """Every marker in ``answer`` (whoever wrote it); an answer that cites nothing scores 0."""
    return citation_precision(cited_numbers(answer), sources, gold) or 0.0
