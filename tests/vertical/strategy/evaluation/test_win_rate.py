"""Preference win-rate of a +dpo candidate against the same candidate without it (paired by question)."""

from __future__ import annotations

import pytest

from vertical.strategy.evaluation.decision import cost_rank
from vertical.strategy.evaluation.win_rate import preference_win_rates, win_rate, without_part


def result(strategy: str, correctness: list[float]) -> dict:
    items = [{"id": f"q{i}", "correctness": c, "faithfulness": 0.5, "safety": 1.0} for i, c in enumerate(correctness)]
    return {"strategy": strategy, "items": items}


def test_wins_ties_and_losses_are_counted_per_question():
    rate = win_rate(result("sft+dpo+rag", [1.0, 0.5, 0.2, 0.9]), result("sft+rag", [0.0, 0.5, 0.4, 0.1]))
    assert (rate["wins"], rate["ties"], rate["losses"]) == (2, 1, 1)
    assert rate["win_rate"] == pytest.approx(2.5 / 4)
    assert rate["interval"]["low"] <= rate["win_rate"] <= rate["interval"]["high"]


def test_only_dpo_candidates_with_their_counterpart_get_a_rate():
    results = [result("prompt", [0.1] * 5), result("sft+rag", [0.2] * 5), result("sft+dpo+rag", [0.9] * 5)]
    rates = preference_win_rates(results)
    assert [(r["strategy"], r["versus"]) for r in rates] == [("sft+dpo+rag", "sft+rag")]
    assert rates[0]["win_rate"] == 1.0 and rates[0]["interval"]["low"] == 1.0
    assert preference_win_rates(results[:1] + results[2:]) == []  # no sft+rag evaluated: nothing to compare
    assert without_part("dpo") == "prompt"


def test_dpo_costs_more_than_the_same_candidate_without_it():
    assert cost_rank("sft+rag") < cost_rank("sft+dpo+rag") < cost_rank("cpt+sft+rag")
    assert cost_rank("rag") < cost_rank("dpo") < cost_rank("sft")
