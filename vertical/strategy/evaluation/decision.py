"""The ``auto`` decision: keep the cheapest candidate whose composite is not significantly below the best.

    best    = the candidate with the highest composite (point estimate)
    keep    = the first candidate in cost order (prompt < rag < sft < sft+rag < cpt+…) whose paired 95%
              bootstrap interval on composite(best) − composite(candidate) includes 0

A cheaper candidate that the eval set cannot tell apart from the best is kept: it is faster to build and
serve and has fewer parts to fail. When that happens the verdict says so ("inconclusive: …") and how to
make the comparison decisive (more questions, or the full set instead of --tiny's subset). A candidate is
only worth its extra parts when the paired interval lies entirely above 0 ("significant").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vertical.strategy.evaluation.composite import paired_composite_difference
from vertical.strategy.evaluation.stats import Interval

_COST_PARTS = ("cpt", "sft", "dpo", "rag")  # dearest first: a dpo run costs a training step


def cost_rank(strategy: str) -> tuple[int, ...]:
    """Sort key, cheapest first: prompt < rag < sft < sft+rag < sft+dpo+rag < cpt < … < cpt+sft+rag."""
    parts = set(strategy.split("+"))
    return tuple(int(p in parts) for p in _COST_PARTS) + (len(parts),)


@dataclass
class Verdict:
    chosen: str
    best: str
    verdict: str  # "significant" | "inconclusive" | "best is cheapest" | "single candidate"
    reason: str
    n_items: int
    pairs: list[dict[str, Any]] = field(default_factory=list)  # best − other, paired interval, per other candidate

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "best": self.best,
            "verdict": self.verdict,
            "reason": self.reason,
            "n_items": self.n_items,
            "pairs": self.pairs,
        }


def _retention(result: dict) -> float | None:
    return (result.get("scores") or {}).get("retention")


def _aligned(a: dict, b: dict) -> tuple[list[dict], list[dict]]:
    """The rows of both results for the items both answered, in the same order (paired by item id)."""
    by_id = {r["id"]: r for r in b["items"]}
    ids = [r["id"] for r in a["items"] if r["id"] in by_id]
    rows_a = {r["id"]: r for r in a["items"]}
    return [rows_a[i] for i in ids], [by_id[i] for i in ids]


def paired_difference(a: dict, b: dict) -> Interval:
    rows_a, rows_b = _aligned(a, b)
    return paired_composite_difference(rows_a, _retention(a), rows_b, _retention(b))


def _fmt(ci: Interval) -> str:
    return f"{ci.estimate:+.3f}, 95% CI [{ci.low:+.3f}, {ci.high:+.3f}]"


def decide(results: list[dict], tiny: bool = False) -> Verdict:
    """Apply the rule to eval results (each with ``strategy``, ``scores.composite`` and per-item ``items``)."""
    if not results:
        raise ValueError("decide() needs at least one evaluated candidate")
    n = min(len(r["items"]) for r in results)
    if len(results) == 1:
        only = results[0]["strategy"]
        return Verdict(only, only, "single candidate", f"only {only} was evaluated", n)
    best = max(results, key=lambda r: (r["scores"]["composite"], [-x for x in cost_rank(r["strategy"])]))
    pairs, chosen = [], None
    for other in sorted(results, key=lambda r: cost_rank(r["strategy"])):
        if other is best:
            chosen = chosen or best
            continue
        ci = paired_difference(best, other)
        significant = ci.low > 0
        pairs.append(
            {
                "best": best["strategy"],
                "other": other["strategy"],
                "difference": ci.to_dict(),
                "significant": significant,
            }
        )
        if chosen is None and not significant and cost_rank(other["strategy"]) < cost_rank(best["strategy"]):
            chosen = other
    assert chosen is not None
    b, c = best["strategy"], chosen["strategy"]
    if chosen is not best:
        ci = next(p for p in pairs if p["other"] == c)["difference"]
        hint = "add questions" + (" or drop --tiny" if tiny else "")
        reason = (
            f"inconclusive: {n} questions cannot separate {b} from {c} ({b} − {c} = "
            f"{_fmt(Interval(ci['estimate'], ci['low'], ci['high']))}); kept the cheaper {c}; {hint}"
        )
        return Verdict(c, b, "inconclusive", reason, n, pairs)
    cheaper = [p for p in pairs if cost_rank(p["other"]) < cost_rank(b)]
    if not cheaper:
        reason = f"{b} scored highest and is the cheapest candidate"
        if pairs:  # how close the dearer ones came
            closest = min(pairs, key=lambda p: p["difference"]["estimate"])
            d = closest["difference"]
            reason += (
                f" ({b} − {closest['other']} = {_fmt(Interval(d['estimate'], d['low'], d['high']))} on {n} questions)"
            )
        return Verdict(b, b, "best is cheapest", reason, n, pairs)
    closest = min(cheaper, key=lambda p: p["difference"]["low"])
    d = closest["difference"]
    reason = (
        f"significant: {b} beats every cheaper candidate on {n} questions (closest: {b} − {closest['other']} = "
        f"{_fmt(Interval(d['estimate'], d['low'], d['high']))})"
    )
    return Verdict(b, b, "significant", reason, n, pairs)


def versus_baseline(built: dict, baseline: dict, tiny: bool = False) -> Verdict:
    """`vertical eval`: the built strategy against its baseline on the same questions (no choice is made)."""
    ci = paired_difference(built, baseline)
    b, o, n = built["strategy"], baseline["strategy"], min(len(built["items"]), len(baseline["items"]))
    pair = {"best": b, "other": o, "difference": ci.to_dict(), "significant": ci.low > 0}
    if ci.low > 0:
        verdict, reason = "significant", f"significant: {b} beats {o} on {n} questions ({b} − {o} = {_fmt(ci)})"
    elif ci.high < 0:
        verdict, reason = "significantly worse", f"{b} scores significantly below {o} ({b} − {o} = {_fmt(ci)})"
    else:
        hint = "add questions" + (" or drop --tiny" if tiny else "")
        verdict = "inconclusive"
        reason = f"inconclusive: {n} questions cannot separate {b} from {o} ({b} − {o} = {_fmt(ci)}); {hint}"
    return Verdict(b, b, verdict, reason, n, [pair])
