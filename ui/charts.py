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


def interval_rows(results: list[dict], metrics: list[str]) -> list[dict]:
    """``[{"strategy", "metric", "value", "low", "high"}]`` for metrics on a 0–1 scale; without an interval
    the whisker collapses onto the value (shown, not invented)."""
    rows = []
    for result in results:
        scores, intervals = result.get("scores") or {}, result.get("intervals") or {}
        for metric in metrics:
            value = scores.get(metric)
            if not _is_number(value) or not 0.0 <= value <= 1.0:
                continue
            ci = intervals.get(metric)
            low, high = (ci[0], ci[1]) if isinstance(ci, (list, tuple)) and len(ci) == 2 else (value, value)
            rows.append(
                {"strategy": str(result.get("strategy")), "metric": metric, "value": value, "low": low, "high": high}
            )
    return rows


def comparison_chart(rows: list[dict], title: str = "") -> Any:
    """Grouped bars (one group per metric, one bar per strategy) with 95% whiskers on a FIXED 0–1 y axis,
    so a 0.16 looks like 0.16 whatever the other numbers are."""
    import altair as alt

    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("metric:N", sort=None, title=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("strategy:N", sort=None),
        color=alt.Color("strategy:N", sort=None, title=None),
    )
    y = alt.Y("value:Q", scale=alt.Scale(domain=[0, 1], clamp=True), title=None)
    bars = base.mark_bar().encode(y=y, tooltip=["strategy:N", "metric:N", "value:Q", "low:Q", "high:Q"])
    whiskers = base.mark_errorbar(ticks=True, color="black").encode(
        y=alt.Y("low:Q", scale=alt.Scale(domain=[0, 1], clamp=True), title=None), y2="high:Q"
    )
    return (bars + whiskers).properties(title=title, height=260)


def loss_chart(points: list[dict], train_label: str = "train loss", eval_label: str = "eval loss") -> Any:
    """Train and eval loss over steps: two colours, eval as a line with a marker at each (sparse) point."""
    import altair as alt

    long = [
        {"step": p["step"], "series": label, "loss": p[key]}
        for p in points
        for key, label in (("loss", train_label), ("eval_loss", eval_label))
        if _is_number(p.get(key))
    ]
    colour = alt.Color(
        "series:N", scale=alt.Scale(domain=[train_label, eval_label], range=["#1f77b4", "#ff7f0e"]), title=None
    )
    base = alt.Chart(alt.Data(values=long)).encode(
        x=alt.X("step:Q"),
        y=alt.Y("loss:Q", scale=alt.Scale(zero=False)),
        color=colour,
        tooltip=["series:N", "step:Q", "loss:Q"],
    )
    train = base.mark_line().transform_filter(alt.datum.series == train_label)
    evals = base.mark_line(point=alt.OverlayMarkDef(size=60, filled=True)).transform_filter(
        alt.datum.series == eval_label
    )
    return (train + evals).properties(height=280)


def candidate_results(report: dict) -> list[dict]:
    """``[{"strategy", "scores", "intervals"}]`` per evaluated candidate: the report's own ``results`` when the
    server sends them, else the manifest's ``candidates`` (composite interval only), else the single build."""
    results = report.get("results")
    if isinstance(results, list) and results:
        return [r for r in results if isinstance(r, dict)]
    candidates = [c for c in report.get("candidates") or [] if isinstance(c, dict)]
    if candidates:
        return [
            {
                "strategy": c.get("strategy"),
                "scores": {
                    **(c.get("scores") or {}),
                    **({"composite": c["composite"]} if _is_number(c.get("composite")) else {}),
                },
                "intervals": {"composite": c["interval"]} if c.get("interval") else {},
            }
            for c in candidates
        ]
    if isinstance(report.get("scores"), dict) and report["scores"]:
        return [
            {"strategy": report.get("strategy"), "scores": report["scores"], "intervals": report.get("intervals") or {}}
        ]
    return []
