"""Run every metric for one manifest on the held-out eval set: per-item rows, means and bootstrap intervals.

Every candidate is scored on the same things (composite.py): correctness against the reference, faithfulness
to the domain's documents (evidence retrieved after the fact for every strategy), safety and retention.
Retrieval (hit@k, MRR) and citations are diagnostics, computed only where the strategy retrieved.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from statistics import mean
from typing import Any

from vertical.core.manifest import Manifest
from vertical.core.spec import DomainSpec
from vertical.strategy.evaluation.answers import AnswerRecord, Progress, answer_all
from vertical.strategy.evaluation.citation import citation_precision
from vertical.strategy.evaluation.composite import (
    COMPONENTS,
    CORRECTNESS,
    FORMULA,
    component_intervals,
    composite_interval,
    correctness,
    item_score,
    retention_of,
)
from vertical.strategy.evaluation.dataset import EvalItem, load_eval_set
from vertical.strategy.evaluation.judge import JudgeConfig
from vertical.strategy.evaluation.stats import bootstrap_ci

TINY_LIMIT = 12
TINY_MAX_NEW_TOKENS = 48
ITEM_METRICS = (
    *CORRECTNESS,
    "correctness",
    "faithfulness",
    "safety",
    "hit_at_k",
    "mrr",
    "citation",
    "citation_attributed",
    "cited",
)


@lru_cache(maxsize=8)
def _retention(model: str, adapter: str | None, tiny: bool) -> dict[str, float]:
    from vertical.strategy.evaluation.retention import retention

    return retention(model, adapter, tiny)


def _avg(values: list[Any]) -> float | None:
    present = [float(v) for v in values if isinstance(v, (int, float))]
    return round(mean(present), 4) if present else None


def _progress_text(stage: Callable[[str], None], strategy: str) -> Progress:
    def report(done: int, total: int, left: float | None) -> None:
        eta = "" if left is None or done == 0 else f", about {left:.0f}s left"
        stage(f"answering ({strategy}): {done}/{total}{eta}")

    return report


def score_items(
    spec: DomainSpec,
    items: list[EvalItem],
    records: list[AnswerRecord],
    uses_rag: bool,
    judge: JudgeConfig | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> list[dict]:
    """One row per item: the answer, every item metric (None where it does not apply) and the item score."""
    from vertical.strategy.evaluation.answer_similarity import answer_similarity
    from vertical.strategy.evaluation.faithfulness import evidence_kb, faithfulness, retrieve_evidence
    from vertical.strategy.evaluation.keyword_recall import keyword_recall
    from vertical.strategy.evaluation.retrieval import hit_at_k, reciprocal_rank
    from vertical.strategy.evaluation.rouge_l import rouge_l
    from vertical.strategy.evaluation.safety import safety_score

    stage = on_stage or (lambda _s: None)
    k = spec.eval.k
    scored = [n for n, i in enumerate(items) if i.type != "crisis" and i.reference]
    sims = dict(
        zip(
            scored,
            answer_similarity([records[n].answer for n in scored], [items[n].reference for n in scored], spec.embedder),
        )
    )
    kb = evidence_kb(spec, stage)
    rows = []
    for n, (item, rec) in enumerate(zip(items, records)):
        row: dict[str, Any] = {
            "id": item.id,
            "type": item.type,
            "question": item.question,
            "reference": item.reference,
            "answer": rec.answer,
            "sources": rec.sources,
            "path": rec.path,
            "written_citations": rec.written,
            "attributed_citations": rec.attributed,
            "safety": safety_score(rec.answer, spec, item.type == "crisis", item.question),
        }
        if n in sims:
            row.update(
                answer_similarity=round(sims[n], 4),
                rouge_l=round(rouge_l(rec.answer, item.reference), 4),
                keyword_recall=keyword_recall(rec.answer, item.keywords),
            )
        if item.type != "crisis":
            evidence = retrieve_evidence(kb, item.question, rec.answer, k)
            row["evidence"] = [h.source for h in evidence]
            support = faithfulness(rec.answer, [h.text for h in evidence])
            row["faithfulness"] = None if support is None else round(support, 4)
        if item.grounded and uses_rag:  # diagnostics of the retriever and the prompt: only where retrieval ran
            row.update(
                hit_at_k=hit_at_k(rec.sources, item.source, k),
                mrr=round(reciprocal_rank(rec.sources, item.source, k), 4),
                citation=citation_precision(rec.written, rec.sources, item.source),
                citation_attributed=citation_precision(rec.attributed, rec.sources, item.source),
                cited=1.0 if rec.written else 0.0,
            )
        rows.append(row)
    if judge is not None:
        from vertical.strategy.evaluation.judge import judge_scores

        stage("LLM judge")
        ratings = judge_scores(
            judge, [i.question for i in items], [i.reference or "" for i in items], [r.answer for r in records]
        )
        for row, item, rating in zip(rows, items, ratings):
            if item.type != "crisis" and item.reference:
                row["judge"] = rating
    for row in rows:
        row["correctness"] = correctness(row)
        row["correctness"] = None if row["correctness"] is None else round(row["correctness"], 4)
        score = item_score(row)
        row["item_score"] = None if score is None else round(score, 4)
    return rows


def summarize_rows(rows: list[dict], retention: dict[str, float], base: dict[str, float]) -> tuple[dict, dict]:
    """(scores, intervals): the means of every metric plus the composite, and 95% bootstrap intervals."""
    scores: dict[str, Any] = {m: _avg([r.get(m) for r in rows]) for m in ITEM_METRICS}
    scores["cited_share"] = scores.pop("cited")
    scores = {m: v for m, v in scores.items() if v is not None or m not in ("judge", "citation_attributed")}
    scores.update(retention)
    scores["base_general_mc_accuracy"] = base["general_mc_accuracy"]
    scores["base_general_perplexity"] = base["general_perplexity"]
    scores["retention"] = retention_of(retention.get("general_mc_accuracy"), base.get("general_mc_accuracy"))
    ci = composite_interval(rows, scores["retention"])
    scores["composite"] = round(ci.estimate, 4)
    intervals = {"composite": ci.to_list()}
    intervals.update({c: v.to_list() for c, v in component_intervals(rows, scores["retention"]).items()})
    for metric in CORRECTNESS + ("hit_at_k", "mrr", "citation"):
        values = [r[metric] for r in rows if isinstance(r.get(metric), (int, float))]
        if values:
            intervals[metric] = bootstrap_ci(values).to_list()
    return scores, intervals


def save_items(domain: str, key: str, rows: list[dict]) -> Path:
    """Per-item rows of one evaluation, kept beside the report: ``auto`` needs them for the paired bootstrap
    when a later build skips the unchanged eval step (its recorded outputs hold only the means)."""
    from vertical.core.fsutil import atomic_write_json
    from vertical.core.settings import get_settings

    return atomic_write_json(get_settings().domain_dir(domain) / "eval" / "items" / f"{key[:16]}.json", rows)


def load_result(recorded: dict[str, Any]) -> dict[str, Any]:
    """An eval step's recorded outputs with their per-item rows read back (``items`` empty when unreadable)."""
    from vertical.core.fsutil import read_json

    path = Path(recorded.get("items_file") or "")
    try:
        items = read_json(path) if path.is_file() else []
    except (OSError, ValueError):
        items = []
    return {**recorded, "items": items}


def evaluate(
    spec: DomainSpec,
    manifest: Manifest,
    limit: int | None = None,
    tiny: bool = False,
    max_new_tokens: int | None = None,
    judge: JudgeConfig | None = None,
    on_stage: Callable[[str], None] | None = None,
    items: list[EvalItem] | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Scores (means over items), intervals, per-item rows and timings for ``manifest`` (contract entry point).

    ``on_progress(done, total, seconds_left)`` is called as answers come in; without it the count and the
    time left go to ``on_stage`` as text.
    """
    stage = on_stage or (lambda _s: None)
    if items is None:
        items = load_eval_set(spec, limit if limit is not None else (TINY_LIMIT if tiny else None))
    max_new = max_new_tokens or (TINY_MAX_NEW_TOKENS if tiny else None)
    started = time.perf_counter()
    stage(f"answering {len(items)} questions ({manifest.strategy})")
    records, answered_by = answer_all(
        spec, manifest, [i.question for i in items], max_new, on_progress or _progress_text(stage, manifest.strategy)
    )
    answer_seconds = time.perf_counter() - started

    stage("scoring")
    rows = score_items(spec, items, records, manifest.uses_rag, judge, stage)
    stage("general-ability retention")
    retention = _retention(manifest.base_model, manifest.adapter_path, tiny)
    base = _retention(manifest.base_model, None, tiny) if manifest.adapter_path else retention
    scores, intervals = summarize_rows(rows, retention, base)
    return {
        "strategy": manifest.strategy,
        "adapter": manifest.adapter_path,
        "answered_by": answered_by,
        "n_items": len(items),
        "k": spec.eval.k,
        "formula": FORMULA,
        "components": list(COMPONENTS),
        "scores": scores,
        "intervals": intervals,
        "items": rows,
        "seconds": round(time.perf_counter() - started, 1),
        "answer_seconds": round(answer_seconds, 1),
        "completion_tokens": sum(r.completion_tokens for r in records),
    }
