"""Turn eval reports and trainer logs from the API into flat tables the pages can chart.

Accepted shapes: an eval report as ``vertical.strategy.evaluation`` writes it
(``{"strategy", "scores": {metric: value}}``),
optionally with the auto build's ``candidates`` (``[{"strategy", "composite", "scores": {...}}]``), or any
``{strategy: {metric: value}}`` table. A training log is finetune's ``log.json`` (``loss_curve`` or
``log_history``).
"""

from __future__ import annotations

from typing import Any


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _row(name: str, item: dict) -> dict:
    """``{"strategy", metric: number}`` from an entry whose numbers sit at top level or under scores/metrics."""
    metrics: dict[str, float] = {}
    for holder in (item, item.get("scores"), item.get("metrics")):
        if isinstance(holder, dict):
            metrics.update({k: v for k, v in holder.items() if _is_number(v)})
    return {"strategy": name, **metrics}


def eval_rows(report: dict) -> list[dict]:
    """One row per strategy (non-numeric fields dropped); a single-strategy report gives one row."""
    for key in ("candidates", "table", "rows", "strategies", "results"):
        raw = report.get(key)
        if isinstance(raw, list) and raw:
            return [_row(str(i.get("strategy") or i.get("name") or "?"), i) for i in raw if isinstance(i, dict)]
        if isinstance(raw, dict) and raw and all(isinstance(v, dict) for v in raw.values()):
            return [_row(str(name), v) for name, v in raw.items()]
    scores = report.get("scores")
    if isinstance(scores, dict) and scores:
        if all(isinstance(v, dict) for v in scores.values()):
            return [_row(str(name), v) for name, v in scores.items()]
        return [_row(str(report.get("strategy") or "built"), {"scores": scores})]
    return []


def metric_names(rows: list[dict]) -> list[str]:
    names: list[str] = []
    for row in rows:
        names += [k for k in row if k != "strategy" and k not in names]
    return names


def loss_points(log: dict) -> list[dict]:
    """``[{"step", "loss"?, "eval_loss"?}]`` sorted by step, from finetune's ``loss_curve``
    (``{"train": [[step, loss]], "eval": [[step, loss]]}``) or else the Trainer's ``log_history``."""
    curve = log.get("loss_curve")
    if isinstance(curve, dict) and (curve.get("train") or curve.get("eval")):
        points = [
            {"step": p[0], name: p[1]}
            for key, name in (("train", "loss"), ("eval", "eval_loss"))
            for p in curve.get(key) or []
            if len(p) == 2 and _is_number(p[0]) and _is_number(p[1])
        ]
        return sorted(points, key=lambda p: p["step"])
    points = []
    for entry in log.get("log_history") or []:
        if not isinstance(entry, dict) or not _is_number(entry.get("step")):
            continue
        point = {"step": entry["step"]}
        point.update({k: entry[k] for k in ("loss", "eval_loss") if _is_number(entry.get(k))})
        if len(point) > 1:
            points.append(point)
    return sorted(points, key=lambda p: p["step"])
