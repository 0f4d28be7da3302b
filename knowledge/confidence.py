"""The one "is retrieval confident" decision, with evidence that works in every language.

Dense cosine alone fails when the embedder cannot read the language (MiniLM on Chinese: off-topic
questions score 0.56-0.67, in-domain ones 0.5-0.7). Lexical evidence does not: the IDF-weighted
share of the question's content words (``vertical.core.text.content_words``, jieba for Chinese) that
the best retrieved chunk contains. A word the KB has never seen weighs the most, so "今天股市怎么样"
scores low against a counseling KB even if 今天 appears in it.

Decision: confident iff lexical score >= the domain's calibrated threshold, OR (the embedder reads the
text AND best cosine >= ``retrieval.min_confidence``). The threshold is calibrated at ingest: pseudo
queries drawn from the KB's own chunks against off-domain questions in the KB's language
(:mod:`knowledge.offdomain`); see :func:`calibrate`.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from vertical.core.errors import LowConfidenceError
from vertical.core.text import content_words, detect_language, is_cjk, to_simplified, words

DEFAULT_LEXICAL_THRESHOLD = 0.4  # used until a KB has been calibrated
# Calibrated thresholds are clamped into this band: below 0.35 one everyday word shared with the KB
# (工作 in "量子计算机是怎么工作的") made an off-topic question confident on a 5-document KB.
MIN_THRESHOLD, MAX_THRESHOLD = 0.35, 0.6
MARGIN = 0.05  # above the off-domain 90th percentile
PSEUDO_QUERIES = 40
PSEUDO_QUERY_WORDS = (3, 6)


class _ScoredHit(Protocol):
    query_coverage: float | None
    dense_score: float | None
    dense_trusted: bool


@dataclass(frozen=True)
class LexicalStats:
    """Document frequencies of content words over the KB's chunks (for IDF weights)."""

    chunks: int
    df: dict[str, int]

    @classmethod
    def build(cls, texts: list[str]) -> LexicalStats:
        df: Counter[str] = Counter()
        for text in texts:
            df.update(content_words(to_simplified(text)))
        return cls(len(texts), dict(df))

    def idf(self, word: str) -> float:
        return math.log(1.0 + self.chunks / (1.0 + self.df.get(word, 0)))


# Question scaffolding: words that say "this is a question", not what it is about. Measured on xinli,
# dropping them moved the weakest in-domain question from 0.15 to 0.38 coverage and off-topic ones down.
QUESTION_WORDS = frozenset(
    "怎么样 怎么办 怎样 如何 为什么 什么样 哪些 哪个 哪儿 多少 几 我该 我能 能不能 可不可以 有没有 "
    "是不是 请问 具体 方法 "
    "办法 一点 一下 时候 的话 觉得 知道 应该 需要 可能 做些 通常 现在 今天 最近 一直 总是 经常 表现 不会 "
    "去 好 有 时 才 快 说 会 想 做 让 用 多 少 很 再 能 没 来 看 给 要 就 也 都 还 吗 呢 该 最 哪 别 "
    "please tell explain know want need way ways help thing things something anything really like get".split()
)


def query_terms(query: str) -> list[str]:
    """The query's topical words: content words minus question scaffolding."""
    return sorted(w for w in content_words(to_simplified(query)) if w not in QUESTION_WORDS)


def _covered(terms: list[str], text: str) -> set[str]:
    text = to_simplified(text)  # as BM25 does: a traditional-script question matches a simplified KB
    present = content_words(text)
    lowered = text.lower()
    return {t for t in terms if t in present or (is_cjk(t) and t in lowered)}


def lexical_score(terms: list[str], text: str, stats: LexicalStats) -> float:
    """IDF-weighted share of ``terms`` found in ``text`` (CJK terms as substrings, so a different jieba
    cut of the chunk still counts; latin terms as whole words)."""
    return coverage_score(terms, [text], stats)


def coverage_score(terms: list[str], texts: list[str], stats: LexicalStats) -> float:
    """IDF-weighted share of ``terms`` found in any of ``texts`` (the retrieved passages together)."""
    if not terms:
        return 0.0
    covered = set().union(*(_covered(terms, t) for t in texts)) if texts else set()
    total = sum(stats.idf(t) for t in terms)
    return sum(stats.idf(t) for t in covered) / total if total else 0.0


@dataclass(frozen=True)
class Confidence:
    """``low`` (and ``bool(conf)``) is True when no hit is relevant enough; ``reason`` is one trace line."""

    low: bool
    score: float  # lexical evidence: share of the query's topical words found in the retrieved passages
    threshold: float
    best_dense: float | None
    dense_threshold: float
    dense_used: bool
    reason: str

    def __bool__(self) -> bool:
        return self.low

    def raise_if_low(self, query: str = "") -> None:
        if self.low:
            about = f" for {query!r}" if query else ""
            raise LowConfidenceError(
                f"no knowledge-base passage is relevant enough{about}: {self.reason}",
                hint="add documents on this topic, or lower knowledge.retrieval.min_lexical_confidence "
                "(lexical) / min_confidence (dense cosine)",
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(hits: Sequence[_ScoredHit], threshold: float, dense_threshold: float, threshold_source: str) -> Confidence:
    score = max((h.query_coverage or 0.0 for h in hits), default=0.0)
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    trusted = [h.dense_score for h in hits if h.dense_score is not None and h.dense_trusted]
    best_dense = max(dense) if dense else None
    lexical_ok = score >= threshold
    dense_ok = bool(trusted) and max(trusted) >= dense_threshold
    low = not (lexical_ok or dense_ok)
    if not hits:
        return Confidence(True, 0.0, threshold, None, dense_threshold, False, "retrieval low confidence: no hits")
    parts = [f"query-term coverage {score:.2f} {'>=' if lexical_ok else '<'} {threshold:.2f} ({threshold_source})"]
    if trusted:
        parts.append(f"best cosine {max(trusted):.2f} {'>=' if dense_ok else '<'} min_confidence {dense_threshold:.2f}")
    elif dense:
        parts.append(f"cosine {best_dense:.2f} ignored: the embedder cannot read this text (unknown tokens)")
    verdict = "low confidence" if low else "confident"
    return Confidence(
        low, score, threshold, best_dense, dense_threshold, bool(trusted), f"retrieval {verdict}: " + "; ".join(parts)
    )


# ---- calibration ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Calibration:
    threshold: float
    language: str
    in_domain: list[float]  # 10th, 50th, 90th percentile of pseudo-query scores
    off_domain: list[float]  # 50th, 90th, 95th percentile of off-domain scores
    queries: int
    off_queries: int
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(**data)


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def pseudo_queries(texts: list[str], n: int = PSEUDO_QUERIES, seed: int = 0) -> list[str]:
    """Short queries made of a run of 3-6 content words from random chunks (deterministic)."""
    rng = random.Random(seed)
    picks = rng.sample(range(len(texts)), min(n, len(texts)))
    out = []
    for i in picks:
        topical = set(query_terms(texts[i]))
        terms = [w for w in words(texts[i]) if w in topical]
        if not terms:
            continue
        size = min(len(terms), rng.randint(*PSEUDO_QUERY_WORDS))
        start = rng.randrange(0, len(terms) - size + 1)
        run = terms[start : start + size]
        out.append(("" if is_cjk("".join(run)) else " ").join(run))
    return out


def calibrate(
    texts: list[str],
    stats: LexicalStats,
    top_texts: Callable[[str], list[str]],
    off_domain: Callable[[str], tuple[str, ...]],
) -> Calibration:
    """Pick the lexical threshold for this KB.

    ``top_texts(query)`` returns the texts of the retrieved chunks. Threshold: the off-domain 90th
    percentile plus a margin, clamped to [0.2, 0.6]; if that would reject more than 10% of the
    pseudo queries, the midpoint between the two distributions instead. (The 95th percentile was
    measured too strict on xinli: two everyday questions share generic words such as 规则 with the KB.)
    """
    language = detect_language(" ".join(texts[:50])[:4000]) if texts else "und"

    def best(query: str) -> float:
        return coverage_score(query_terms(query), top_texts(query), stats)

    inside = [best(q) for q in pseudo_queries(texts)]
    outside = [best(q) for q in off_domain(language)]
    off90, in10 = _quantile(outside, 0.90), _quantile(inside, 0.10)
    threshold = min(MAX_THRESHOLD, max(MIN_THRESHOLD, off90 + MARGIN))
    note = "off-domain 90th percentile + margin"
    if inside and in10 < threshold and in10 > off90:
        threshold, note = (in10 + off90) / 2, "midpoint of in-domain 10th and off-domain 90th percentile"
    elif inside and in10 <= off90:
        note = "in-domain and off-domain questions overlap: confidence is weak on this KB"
    return Calibration(
        round(threshold, 4),
        language,
        [round(_quantile(inside, q), 3) for q in (0.1, 0.5, 0.9)],
        [round(_quantile(outside, q), 3) for q in (0.5, 0.9, 0.95)],
        len(inside),
        len(outside),
        note,
    )
