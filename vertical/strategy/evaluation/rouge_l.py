"""ROUGE-L F1 between answer and reference (rouge-score, stemmed)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(answer: str, reference: str) -> float:
    if not answer.strip() or not reference.strip():
        return 0.0
    return float(_scorer().score(reference, answer)["rougeL"].fmeasure)
