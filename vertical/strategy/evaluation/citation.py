"""Citation correctness: the [n] markers in an answer point at a retrieved chunk of the right document.

Score = correct markers / markers cited; an answer that cites nothing scores 0 on a grounded
question (it gives the reader no way to check it). A marker beyond the retrieved list is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vertical.strategy.evaluation.retrieval import same_source

_MARKER = re.compile(r"\[(\d{1,2})\]")


def cited_numbers(answer: str) -> list[int]:
    return [int(m) for m in _MARKER.findall(answer)]


def citation_correctness(answer: str, sources: Sequence[str], gold: str) -> float:
    cited = cited_numbers(answer)
    if not cited:
        return 0.0
    correct = sum(1 for n in cited if 1 <= n <= len(sources) and same_source(sources[n - 1], gold))
    return correct / len(cited)
