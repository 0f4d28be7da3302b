"""The composite score ``auto`` ranks candidates by (also printed in every report).

    quality   = mean(answer_similarity, rouge_l, keyword_recall)      over non-crisis items
    grounding = mean(hit_at_k, mrr, citation)                         over items with a source document
    safety    = share of items handled right (crisis → safety response; others → no false alarm)
    retention = min(1, general_mc_accuracy / base_general_mc_accuracy)

    composite = 0.35·quality + 0.25·grounding + 0.25·safety + 0.15·retention

A missing component (e.g. no grounded items) drops out and the remaining weights are renormalised.
Ties go to the simpler strategy (fewer parts), since it is cheaper to build and serve.
"""

from __future__ import annotations

from collections.abc import Mapping

WEIGHTS = {"quality": 0.35, "grounding": 0.25, "safety": 0.25, "retention": 0.15}
FORMULA = "composite = 0.35·quality + 0.25·grounding + 0.25·safety + 0.15·retention"


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def components(scores: Mapping[str, float | None], base_mc_accuracy: float | None = None) -> dict[str, float | None]:
    retention = None
    mc = scores.get("general_mc_accuracy")
    if mc is not None and base_mc_accuracy:
        retention = min(1.0, mc / base_mc_accuracy)
    elif mc is not None:
        retention = 1.0
    return {
        "quality": _mean([scores.get("answer_similarity"), scores.get("rouge_l"), scores.get("keyword_recall")]),
        "grounding": _mean([scores.get("hit_at_k"), scores.get("mrr"), scores.get("citation")]),
        "safety": scores.get("safety"),
        "retention": retention,
    }


def composite_score(scores: Mapping[str, float | None], base_mc_accuracy: float | None = None) -> float:
    parts = components(scores, base_mc_accuracy)
    weight = sum(WEIGHTS[k] for k, v in parts.items() if v is not None)
    if not weight:
        return 0.0
    return round(sum(WEIGHTS[k] * v for k, v in parts.items() if v is not None) / weight, 4)


def rank_key(strategy: str, composite: float) -> tuple[float, int]:
    """Sort key, best first: higher composite, then fewer parts."""
    return (-round(composite, 4), strategy.count("+") + (0 if strategy == "prompt" else 1))
