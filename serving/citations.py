"""Citations [n] → source chunks, a word-overlap grounding check, and the extractive fallback.

Words come from the shared text module (jieba for Chinese, a Unicode word regex otherwise), so a
Chinese answer is checked against its Chinese sources like an English one against English sources.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from vertical.core.text import content_words as _content_words
from vertical.core.text import sentences, to_simplified, words

_CITE = re.compile(r"\[(\d{1,2})\]")
# Sentence-final punctuation and closing quotes/brackets: a citation goes before them ("… [1]." / "……[1]。”").
_SENTENCE_TAIL = re.compile(r"[.!?。！？；…\"'”’」』）)】》]+$")
_CJK_END = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]$")
GROUNDED_MIN = 0.5  # share of the answer's content words that must appear in the cited sources
EXTRACTIVE_MIN_WORDS = 4  # shorter "sentences" (headings, list stubs) are not worth quoting


def content_words(text: str) -> set[str]:
    """Content words of ``text`` in any language (shared text module), citation markers ignored.

    Traditional Chinese is folded onto simplified: an answer in one script is checked against sources in the other.
    """
    return _content_words(to_simplified(_CITE.sub(" ", text)))


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


def grounding(
    answer: str, sources: Sequence[str], cited: Sequence[int], minimum: float = GROUNDED_MIN
) -> tuple[float, str]:
    """Share of the answer's content words found in the cited chunks (all chunks if none cited).

    ``minimum`` is the domain's ``serving.min_grounding`` when the answer policy asks, so the trace's
    ok/LOW says what the policy decided."""
    answer_words = content_words(answer)
    if not answer_words or not sources:
        return 0.0, "grounding: nothing to check"
    pool_ids = list(cited) or list(range(1, len(sources) + 1))
    pool: set[str] = set()
    for n in pool_ids:
        pool |= content_words(sources[n - 1])
    score = len(answer_words & pool) / len(answer_words)
    which = f"cited sources {list(cited)}" if cited else "all retrieved sources (no citations in answer)"
    flag = "ok" if score >= minimum else f"LOW (< {minimum:.2f}): answer may not be supported by its sources"
    return score, f"grounding: {score:.2f} of answer words appear in {which} ({flag})"


def _with_citation(sentence: str, n: int) -> str:
    """``sentence`` with ``[n]`` before its final punctuation; no space before it after CJK text."""
    stripped = sentence.rstrip()
    tail = _SENTENCE_TAIL.search(stripped)
    body, end = (stripped[: tail.start()], tail.group()) if tail else (stripped, "")
    space = "" if _CJK_END.search(body) else " "
    return f"{body}{space}[{n}]{end}{sentence[len(stripped) :]}"


def _join(parts: Sequence[str]) -> str:
    """Join sentences: no space after a CJK sentence, one after a latin one."""
    out = ""
    for part in parts:
        out += ("" if not out or _CJK_END.search(out) else " ") + part
    return out


def extractive_answer(question: str, hits: Sequence[Any], max_sources: int = 2) -> str:
    """Best-matching sentence of each top chunk, cited; used when no model is reachable."""
    terms = content_words(question)
    parts = []
    for i, hit in enumerate(hits[:max_sources], 1):
        candidates = [s for s in sentences(hit.text) if len(words(s)) >= EXTRACTIVE_MIN_WORDS]
        if not candidates:
            continue
        best = max(candidates, key=lambda s: len(terms & content_words(s)))
        parts.append(_with_citation(best, i))
    return _join(parts)


ATTRIBUTE_MIN_SHARE = 0.3  # share of a sentence's content words that one source must contain to be cited
ATTRIBUTE_MIN_WORDS = 3


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in ``text``, found in order, so the text between them is kept as is."""
    spans, pos = [], 0
    for sentence in sentences(text):
        start = text.find(sentence, pos)
        if start < 0:  # re-joined across a line break: not locatable verbatim, left uncited
            continue
        spans.append((start, start + len(sentence)))
        pos = start + len(sentence)
    return spans


def attribute_citations(answer: str, sources: Sequence[str]) -> tuple[str, list[int]]:
    """Append ``[n]`` to each answer sentence that one retrieved source clearly supports.

    Small models rarely write citation markers themselves; this post-hoc attribution maps each
    sentence to the source sharing most of its content words, and leaves unsupported sentences
    uncited (so the grounding check still flags them). Answers that already cite are untouched.
    Everything between sentences (spaces, line breaks, list markers) is kept as written.
    """
    if not sources or _CITE.search(answer):
        return answer, []
    pools = [content_words(s) for s in sources]
    out, used, pos = [], [], 0
    for start, end in _sentence_spans(answer):
        sentence = answer[start:end]
        sentence_words = content_words(sentence)
        best_n, best_overlap = 0, 0
        for n, pool in enumerate(pools, 1):
            overlap = len(sentence_words & pool)
            if overlap > best_overlap:
                best_n, best_overlap = n, overlap
        out.append(answer[pos:start])
        if best_overlap >= ATTRIBUTE_MIN_WORDS and best_overlap / len(sentence_words) >= ATTRIBUTE_MIN_SHARE:
            sentence = _with_citation(sentence, best_n)
            if best_n not in used:
                used.append(best_n)
        out.append(sentence)
        pos = end
    out.append(answer[pos:])
    return "".join(out), used
