"""Citations [n] → source chunks, a token-overlap grounding check, and the extractive fallback."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_CITE = re.compile(r"\[(\d{1,2})\]")
_WORD = re.compile(r"[a-z0-9']+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_STOP = set(
    "a an the and or but of to in on for is are was were be been am i me my you your it its this that these those "
    "with as at by from can could do does did not no so if then than they them their we our he she his her "
    "will would should may might also just very more most some any all what when how why which who".split()
)
GROUNDED_MIN = 0.5  # share of the answer's content words that must appear in the cited sources


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


def cited_numbers(answer: str, n_sources: int) -> tuple[list[int], list[int]]:
    """(valid citation numbers in order of first use, out-of-range numbers)."""
    seen: list[int] = []
    bad: list[int] = []
    for m in _CITE.finditer(answer):
        n = int(m.group(1))
        target = seen if 1 <= n <= n_sources else bad
        if n not in target:
            target.append(n)
    return seen, bad


def grounding(answer: str, sources: Sequence[str], cited: Sequence[int]) -> tuple[float, str]:
    """Share of the answer's content words found in the cited chunks (all chunks if none cited)."""
    words = content_words(_CITE.sub(" ", answer))
    if not words or not sources:
        return 0.0, "grounding: nothing to check"
    pool_ids = list(cited) or list(range(1, len(sources) + 1))
    pool: set[str] = set()
    for n in pool_ids:
        pool |= content_words(sources[n - 1])
    score = len(words & pool) / len(words)
    which = f"cited sources {list(cited)}" if cited else "all retrieved sources (no citations in answer)"
    flag = "ok" if score >= GROUNDED_MIN else "LOW: answer may not be supported by its sources"
    return score, f"grounding: {score:.2f} of answer words appear in {which} ({flag})"


def extractive_answer(question: str, hits: Sequence[Any], max_sources: int = 2) -> str:
    """Best-matching sentence of each top chunk, cited; used when no model is reachable."""
    terms = content_words(question)
    parts = []
    for i, hit in enumerate(hits[:max_sources], 1):
        sentences = [s.strip() for s in _SENTENCE.split(hit.text.replace("\n", " ")) if len(s.strip()) > 20]
        if not sentences:
            continue
        best = max(sentences, key=lambda s: len(terms & content_words(s)))
        parts.append(f"{best} [{i}]")
    return " ".join(parts)


ATTRIBUTE_MIN_SHARE = 0.3  # share of a sentence's content words that one source must contain to be cited
ATTRIBUTE_MIN_WORDS = 3


def attribute_citations(answer: str, sources: Sequence[str]) -> tuple[str, list[int]]:
    """Append ``[n]`` to each answer sentence that one retrieved source clearly supports.

    Small models rarely write citation markers themselves; this post-hoc attribution maps each
    sentence to the source sharing most of its content words, and leaves unsupported sentences
    uncited (so the grounding check still flags them). Answers that already cite are untouched.
    """
    if not sources or _CITE.search(answer):
        return answer, []
    pools = [content_words(s) for s in sources]
    out, used = [], []
    for sentence in _SENTENCE.split(answer.strip()):
        words = content_words(sentence)
        best_n, best_overlap = 0, 0
        for n, pool in enumerate(pools, 1):
            overlap = len(words & pool)
            if overlap > best_overlap:
                best_n, best_overlap = n, overlap
        if words and best_overlap >= ATTRIBUTE_MIN_WORDS and best_overlap / len(words) >= ATTRIBUTE_MIN_SHARE:
            stripped = sentence.rstrip()
            end = len(stripped) - 1 if stripped[-1:] in ".!?" else len(stripped)
            sentence = f"{stripped[:end]} [{best_n}]{stripped[end:]}"
            if best_n not in used:
                used.append(best_n)
        out.append(sentence)
    return " ".join(out), used
