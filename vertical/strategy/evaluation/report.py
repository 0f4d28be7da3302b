"""Write the eval report: JSON (everything), Markdown and HTML (tables + bar charts comparing strategies)."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from vertical.strategy.evaluation.composite import FORMULA
from vertical.core.fsutil import atomic_write_bytes, atomic_write_json, atomic_write_text

QUALITY = ["answer_similarity", "rouge_l", "keyword_recall", "judge"]
GROUNDING = ["hit_at_k", "mrr", "citation", "safety"]
SUMMARY = ["composite", "quality_component", "grounding_component", "safety_component", "retention_component",
           "general_mc_accuracy", "general_perplexity"]


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _chart(results: list[dict], metrics: list[str], title: str) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in metrics if any(r["scores"].get(m) is not None for r in results)]
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(metrics) + 1), 3.2), dpi=100)
    width = 0.8 / max(1, len(results))
    for n, result in enumerate(results):
        values = [result["scores"].get(m) or 0.0 for m in metrics]
        xs = [i + n * width for i in range(len(metrics))]
        ax.bar(xs, values, width, label=result["strategy"])
    ax.set_xticks([i + width * (len(results) - 1) / 2 for i in range(len(metrics))], metrics, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _table_md(results: list[dict], metrics: list[str]) -> str:
    head = "| strategy | " + " | ".join(metrics) + " |\n|---|" + "---|" * len(metrics) + "\n"
    return head + "".join(
        f"| {r['strategy']} | " + " | ".join(_fmt(r["scores"].get(m)) for m in metrics) + " |\n" for r in results)


def _table_html(results: list[dict], metrics: list[str]) -> str:
    head = "".join(f"<th>{html.escape(m)}</th>" for m in metrics)
    body = "".join("<tr><td>" + html.escape(r["strategy"]) + "</td>" + "".join(
        f"<td>{_fmt(r['scores'].get(m))}</td>" for m in metrics) + "</tr>" for r in results)
    return f"<table><tr><th>strategy</th>{head}</tr>{body}</table>"


def write_report(out_dir: Path, domain: str, results: list[dict], chosen: str | None = None) -> dict[str, Path]:
    """Write report.json/.md/.html and the chart PNGs into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    charts = {
        "quality": _chart(results, QUALITY, "Answer quality"),
        "grounding": _chart(results, GROUNDING, "Retrieval, citation, safety"),
        "summary": _chart(results, SUMMARY[:5] + ["general_mc_accuracy"], "Composite and retention"),
    }
    paths = {f"chart_{name}": atomic_write_bytes(out_dir / f"chart_{name}.png", png) for name, png in charts.items()}
    report = {"domain": domain, "chosen": chosen, "formula": FORMULA, "results": results}
    paths["json"] = atomic_write_json(out_dir / "report.json", report)

    lines = [f"# Eval report: {domain}", ""]
    if chosen:
        lines += [f"Chosen strategy: **{chosen}**", ""]
    n = results[0]["n_items"] if results else 0
    answered = ", ".join(sorted({r["answered_by"] for r in results}))
    lines += [f"{n} eval questions, retrieval k = {results[0]['k'] if results else '-'}, answered by {answered}.", "",
              f"`{FORMULA}` (see vertical/evaluation/composite.py)", "",
              "## Summary", "", _table_md(results, SUMMARY), "![summary](chart_summary.png)", "",
              "## Answer quality", "", _table_md(results, QUALITY), "![quality](chart_quality.png)", "",
              "## Retrieval, citation and safety", "", _table_md(results, GROUNDING), "![grounding](chart_grounding.png)", ""]
    lines += ["## Example answers", ""]
    for r in results:
        lines.append(f"### {r['strategy']}")
        for row in r["items"][:4]:
            answer = " ".join(row["answer"].split())[:240]
            lines.append(f"- **{row['id']}** ({row['type']}) {row['question']}  \n  → {answer}")
        lines.append("")
    paths["markdown"] = atomic_write_text(out_dir / "report.md", "\n".join(lines))

    def img(name: str) -> str:
        return f'<img alt="{name}" src="data:image/png;base64,{base64.b64encode(charts[name]).decode()}">'

    body = [f"<h1>Eval report: {html.escape(domain)}</h1>"]
    if chosen:
        body.append(f"<p>Chosen strategy: <b>{html.escape(chosen)}</b></p>")
    body += [f"<p>{n} eval questions; answered by {html.escape(answered)}.</p><p><code>{html.escape(FORMULA)}</code></p>",
             "<h2>Summary</h2>", _table_html(results, SUMMARY), img("summary"),
             "<h2>Answer quality</h2>", _table_html(results, QUALITY), img("quality"),
             "<h2>Retrieval, citation and safety</h2>", _table_html(results, GROUNDING), img("grounding")]
    style = "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}</style>"
    paths["html"] = atomic_write_text(out_dir / "report.html", f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(domain)} eval</title>{style}</head><body>{''.join(body)}</body></html>")
    return paths
