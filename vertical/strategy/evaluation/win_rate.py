"""Preference win-rate: how often a candidate with ``dpo`` answers better than the same candidate without it.

Per question (paired by item id), the answer with the higher per-item score (``composite.item_score``:
correctness, faithfulness, safety) wins; a tie counts half. The rate comes with a 95% bootstrap interval
over questions, so "dpo helps" is only read off an interval that lies above 0.5.
"""

from __future__ import annotations

from typing import Any

from vertical.strategy.evaluation.composite import item_score
from vertical.strategy.evaluation.stats import bootstrap_ci


def without_part(strategy: str, part: str = "dpo") -> str:
    rest = [p for p in strategy.split("+") if p != part]
    return "+".join(rest) or "prompt"


def win_rate(aligned: dict, baseline: dict) -> dict[str, Any] | None:
    """``{"strategy", "versus", "n", "win_rate", "interval", "wins", "ties", "losses"}`` or None if nothing pairs."""
    theirs = {r["id"]: item_score(r) for r in baseline["items"]}
    outcomes: list[float] = []
    for row in aligned["items"]:
        a, b = item_score(row), theirs.get(row["id"])
        if a is None or b is None:
            continue
        outcomes.append(1.0 if a > b else 0.5 if a == b else 0.0)
    if not outcomes:
        return None
    ci = bootstrap_ci(outcomes)
    return {
        "strategy": aligned["strategy"],
        "versus": baseline["strategy"],
        "n": len(outcomes),
        "win_rate": round(ci.estimate, 4),
        "interval": ci.to_dict(),
        "wins": outcomes.count(1.0),
        "ties": outcomes.count(0.5),
        "losses": outcomes.count(0.0),
    }


def preference_win_rates(results: list[dict]) -> list[dict[str, Any]]:
    """Every ``…+dpo…`` candidate against the same candidate without dpo, when both were evaluated."""
    by_strategy = {r["strategy"]: r for r in results}
    rates = []
    for strategy, result in by_strategy.items():
        if "dpo" in strategy.split("+") and without_part(strategy) in by_strategy:
            rate = win_rate(result, by_strategy[without_part(strategy)])
            if rate is not None:
                rates.append(rate)
    return rates
