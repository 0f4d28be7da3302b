"""`vertical eval --compare A B`: two eval reports (or manifests) of one domain, e.g. before and after retraining.

Each side is a report JSON, or a manifest whose ``eval.report`` names one (its archived copy under
``eval/runs/`` first, since the next build replaces ``eval/report.json``). The kept/built strategy's result is
taken from each, items are paired by id, and every metric gets a paired bootstrap interval on B − A over the
questions both answered. The composite is recomputed per resample from the component matrix, like auto does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vertical.core.errors import SpecError
from vertical.core.fsutil import read_json
from vertical.strategy.evaluation.composite import COMPONENTS, CORRECTNESS
from vertical.strategy.evaluation.decision import paired_difference
from vertical.strategy.evaluation.stats import paired_bootstrap_ci

METRICS = [*COMPONENTS[:3], *CORRECTNESS, "hit_at_k", "mrr", "citation"]


def _report_of(path: Path) -> dict[str, Any]:
    try:
        data = read_json(path)
    except (OSError, ValueError) as exc:
        raise SpecError(f"cannot read {path}: {exc}", hint="pass an eval report.json or a build manifest.json") from exc
    if isinstance(data, dict) and "results" in data:
        return data
    report = (data.get("eval") or {}).get("report") or {} if isinstance(data, dict) else {}
    for key in ("archive", "json"):
        candidate = Path(report.get(key) or "")
        if candidate.is_file():
            return _report_of(candidate)
    raise SpecError(
        f"{path} is neither an eval report nor a manifest with one",
        hint="pass eval/report.json, eval/runs/report-*.json or a manifest.json built with evaluation",
    )


def chosen_result(report: dict[str, Any]) -> dict[str, Any]:
    results = [r for r in report.get("results") or [] if r.get("items")]
    if not results:
        raise SpecError("the eval report has no per-question rows", hint="re-run `vertical eval` to write a new report")
    chosen = report.get("chosen") or (report.get("verdict") or {}).get("chosen")
    return next((r for r in results if r["strategy"] == chosen), results[0])


def compare_reports(path_a: Path, path_b: Path) -> dict[str, Any]:
    """B − A per metric with paired 95% intervals over the questions both reports answered."""
    a, b = chosen_result(_report_of(Path(path_a))), chosen_result(_report_of(Path(path_b)))
    rows_b = {r["id"]: r for r in b["items"]}
    ids = [r["id"] for r in a["items"] if r["id"] in rows_b]
    if not ids:
        raise SpecError("the two reports share no eval questions (ids)", hint="compare reports of the same eval set")
    rows_a = {r["id"]: r for r in a["items"]}
    metrics: dict[str, Any] = {}
    comp = paired_difference({**b, "items": [rows_b[i] for i in ids]}, {**a, "items": [rows_a[i] for i in ids]})
    metrics["composite"] = {
        "a": a["scores"].get("composite"),
        "b": b["scores"].get("composite"),
        **comp.to_dict(),
        "significant": comp.excludes_zero(),
        "n": len(ids),
    }
    for m in METRICS:
        pairs = [(rows_a[i].get(m), rows_b[i].get(m)) for i in ids]
        pairs = [(x, y) for x, y in pairs if isinstance(x, (int, float)) and isinstance(y, (int, float))]
        if not pairs:
            continue
        ci = paired_bootstrap_ci([y for _, y in pairs], [x for x, _ in pairs])
        mean_a, mean_b = (round(sum(p[side] for p in pairs) / len(pairs), 4) for side in (0, 1))
        metrics[m] = {"a": mean_a, "b": mean_b, **ci.to_dict(), "significant": ci.excludes_zero(), "n": len(pairs)}
    return {
        "a": {"path": str(path_a), "strategy": a["strategy"], "n_items": len(a["items"])},
        "b": {"path": str(path_b), "strategy": b["strategy"], "n_items": len(b["items"])},
        "shared_items": len(ids),
        "metrics": metrics,
    }


def compare_markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# Eval comparison: B − A on {result['shared_items']} shared questions",
        "",
        f"A: `{result['a']['path']}` ({result['a']['strategy']})  ",
        f"B: `{result['b']['path']}` ({result['b']['strategy']})",
        "",
        "| metric | A | B | B − A | 95% CI | significant |",
        "|---|---|---|---|---|---|",
    ]
    for m, v in result["metrics"].items():
        lines.append(
            f"| {m} | {v['a']:.3f} | {v['b']:.3f} | {v['estimate']:+.3f} | "
            f"[{v['low']:+.3f}, {v['high']:+.3f}] | {'yes' if v['significant'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"
