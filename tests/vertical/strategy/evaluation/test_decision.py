"""The auto decision rule and the composite on synthetic per-item rows (no models): cheapest not significantly below."""

import numpy as np
import pytest

from vertical.strategy.evaluation.composite import (
    FORMULA,
    WEIGHTS,
    composite_interval,
    composite_statistic,
    correctness,
    item_matrix,
    item_score,
)
from vertical.strategy.evaluation.decision import cost_rank, decide, versus_baseline


def result(strategy: str, correct: list[float], faithful: list[float] | None = None, retention: float = 1.0) -> dict:
    faithful = faithful if faithful is not None else correct
    rows = [
        {"id": f"q{i}", "correctness": c, "faithfulness": f, "safety": 1.0}
        for i, (c, f) in enumerate(zip(correct, faithful))
    ]
    ci = composite_interval(rows, retention)
    return {"strategy": strategy, "items": rows, "scores": {"composite": round(ci.estimate, 4), "retention": retention}}


def test_cost_order_is_prompt_rag_sft_sftrag_cpt():
    order = ["cpt+sft+rag", "sft", "rag", "prompt", "sft+rag", "cpt+sft"]
    assert sorted(order, key=cost_rank) == ["prompt", "rag", "sft", "sft+rag", "cpt+sft", "cpt+sft+rag"]


def test_composite_formula_weights_and_missing_components():
    assert sum(WEIGHTS.values()) == pytest.approx(1.0) and "0.40·correctness" in FORMULA
    rows = [
        {"correctness": 1.0, "faithfulness": 0.0, "safety": 1.0},
        {"correctness": 0.0, "faithfulness": None, "safety": 1.0},
    ]
    m = item_matrix(rows, 0.5)
    assert np.isnan(m[1, 1]) and (m[:, 3] == 0.5).all()
    expected = (0.40 * 0.5 + 0.25 * 0.0 + 0.20 * 1.0 + 0.15 * 0.5) / 1.0
    assert composite_statistic(m[None])[0] == pytest.approx(expected)
    no_faith = item_matrix([{"correctness": 1.0, "safety": 1.0}], None)  # no docs, no retention: renormalised
    assert composite_statistic(no_faith[None])[0] == pytest.approx(1.0)


def test_correctness_clips_similarity_and_skips_missing_metrics():
    assert correctness({"keyword_recall": 1.0, "answer_similarity": -0.3, "rouge_l": 0.5}) == pytest.approx(0.5)
    assert correctness({"keyword_recall": None}) is None
    assert item_score({"correctness": 1.0, "faithfulness": 0.0, "safety": None}) == pytest.approx(0.40 / 0.65)


def test_clearly_better_dearer_candidate_is_kept_as_significant():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.1, 0.4, 16)
    verdict = decide([result("prompt", list(base)), result("rag", list(base + 0.4))])
    assert verdict.chosen == "rag" and verdict.verdict == "significant"
    assert "significant: rag beats every cheaper candidate on 16 questions" in verdict.reason
    assert verdict.pairs[0]["difference"]["low"] > 0


def test_noise_sized_gap_keeps_the_cheaper_and_says_inconclusive():
    rng = np.random.default_rng(1)
    prompt = rng.uniform(0.2, 0.6, 12)
    rag = np.clip(prompt + rng.normal(0.004, 0.05, 12), 0, 1)
    results = [result("rag", list(rag)), result("prompt", list(prompt))]
    assert results[0]["scores"]["composite"] > results[1]["scores"]["composite"]  # rag nominally ahead
    verdict = decide(results, tiny=True)
    assert verdict.chosen == "prompt" and verdict.best == "rag" and verdict.verdict == "inconclusive"
    assert verdict.reason.startswith("inconclusive: 12 questions cannot separate rag from prompt")
    assert verdict.reason.endswith("add questions or drop --tiny")


def test_cheapest_candidate_not_below_the_best_wins_among_three():
    rng = np.random.default_rng(2)
    weak = rng.uniform(0.0, 0.2, 30)
    strong = np.clip(weak + 0.5, 0, 1)
    tied = np.clip(strong + rng.normal(0.0, 0.01, 30), 0, 1)
    verdict = decide([result("prompt", list(weak)), result("rag", list(strong)), result("sft+rag", list(tied))])
    assert verdict.chosen == "rag"  # prompt is significantly below; sft+rag cannot beat rag
    assert {p["other"] for p in verdict.pairs} == {"prompt", "rag", "sft+rag"} - {verdict.best}


def test_single_candidate_and_best_is_cheapest():
    only = decide([result("rag", [0.5] * 5)])
    assert only.chosen == "rag" and only.verdict == "single candidate"
    cheap = decide([result("prompt", [0.9] * 8), result("rag", [0.2] * 8)])
    assert cheap.chosen == "prompt" and cheap.verdict == "best is cheapest"


def test_versus_baseline_reports_without_choosing():
    rng = np.random.default_rng(3)
    base = rng.uniform(0.1, 0.3, 20)
    v = versus_baseline(result("sft+rag", list(base + 0.3)), result("prompt", list(base)))
    assert v.chosen == "sft+rag" and v.verdict == "significant" and v.pairs[0]["other"] == "prompt"
