"""Run every metric for one manifest on the held-out eval set and aggregate the scores."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from statistics import mean
from typing import Any

from vertical.strategy.evaluation.answer_similarity import answer_similarity
from vertical.strategy.evaluation.answers import answer_all
from vertical.strategy.evaluation.citation import citation_correctness
from vertical.strategy.evaluation.composite import components, composite_score
from vertical.strategy.evaluation.dataset import EvalItem, load_eval_set
from vertical.strategy.evaluation.judge import JudgeConfig, judge_scores
from vertical.strategy.evaluation.keyword_recall import keyword_recall
from vertical.strategy.evaluation.retrieval import hit_at_k, reciprocal_rank
from vertical.strategy.evaluation.rouge_l import rouge_l
from vertical.strategy.evaluation.safety import safety_score
from vertical.core.manifest import Manifest
from vertical.core.spec import DomainSpec

TINY_LIMIT = 12
TINY_MAX_NEW_TOKENS = 48


@lru_cache(maxsize=8)
def _retention(model: str, adapter: str | None, tiny: bool) -> dict[str, float]:
    from vertical.strategy.evaluation.retention import retention

    return retention(model, adapter, tiny)


def _avg(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(mean(present), 4) if present else None


def evaluate(
    spec: DomainSpec,
    manifest: Manifest,
    limit: int | None = None,
    tiny: bool = False,
    max_new_tokens: int | None = None,
    judge: JudgeConfig | None = None,
    on_stage: Callable[[str], None] | None = None,
    items: list[EvalItem] | None = None,
) -> dict[str, Any]:
    """Scores (means over items), per-item rows and timings for ``manifest`` (contract entry point)."""
    stage = on_stage or (lambda _s: None)
    if items is None:
        items = load_eval_set(spec, limit if limit is not None else (TINY_LIMIT if tiny else None))
    max_new = max_new_tokens or (TINY_MAX_NEW_TOKENS if tiny else None)
    k = spec.eval.k
    started = time.perf_counter()
    stage(f"answering {len(items)} questions ({manifest.strategy})")
    records, answered_by = answer_all(spec, manifest, [i.question for i in items], max_new)
    answer_seconds = time.perf_counter() - started

    stage("scoring")
    scored = [i for i in items if i.type != "crisis" and i.reference]
    sims = dict(zip((i.id for i in scored), answer_similarity(
        [records[items.index(i)].answer for i in scored], [i.reference for i in scored], spec.embedder)))
    rows = []
    for item, rec in zip(items, records):
        row: dict[str, Any] = {"id": item.id, "type": item.type, "question": item.question, "answer": rec.answer,
                               "sources": rec.sources, "path": rec.path,
                               "safety": safety_score(rec.answer, spec.safety.response, item.type == "crisis")
                               if spec.safety.response else None}
        if item.id in sims:
            row.update(answer_similarity=round(sims[item.id], 4), rouge_l=round(rouge_l(rec.answer, item.reference), 4),
                       keyword_recall=keyword_recall(rec.answer, item.keywords))
        if item.grounded:
            row.update(hit_at_k=hit_at_k(rec.sources, item.source, k), mrr=round(reciprocal_rank(rec.sources, item.source, k), 4),
                       citation=round(citation_correctness(rec.answer, rec.sources, item.source), 4))
        rows.append(row)
    if judge is not None:
        stage("LLM judge")
        ratings = judge_scores(judge, [i.question for i in items], [i.reference or "" for i in items], [r.answer for r in records])
        for row, rating in zip(rows, ratings):
            row["judge"] = rating

    stage("general-ability retention")
    retention = _retention(manifest.base_model, manifest.adapter_path, tiny)
    base = _retention(manifest.base_model, None, tiny) if manifest.adapter_path else retention
    metrics = ("answer_similarity", "rouge_l", "keyword_recall", "hit_at_k", "mrr", "citation", "safety", "judge")
    scores: dict[str, Any] = {m: _avg([r.get(m) for r in rows]) for m in metrics}
    scores = {m: v for m, v in scores.items() if v is not None or m != "judge"}
    scores.update(retention)
    scores["base_general_mc_accuracy"] = base["general_mc_accuracy"]
    scores["base_general_perplexity"] = base["general_perplexity"]
    scores.update({f"{name}_component": v and round(v, 4) for name, v in components(scores, base["general_mc_accuracy"]).items()})
    scores["composite"] = composite_score(scores, base["general_mc_accuracy"])
    return {
        "strategy": manifest.strategy,
        "adapter": manifest.adapter_path,
        "answered_by": answered_by,
        "n_items": len(items),
        "k": k,
        "scores": scores,
        "items": rows,
        "seconds": round(time.perf_counter() - started, 1),
        "answer_seconds": round(answer_seconds, 1),
    }
