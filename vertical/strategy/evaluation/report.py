"""The eval report: report.json (everything), and report.md / report.html built from one document.

Sections: the decision (composite with its 95% interval per candidate, the verdict and the paired
differences), answer metrics, faithfulness/safety/retention, diagnostics of the retriever and citations,
the safety detector's own report, and every question with each candidate's answer side by side.
Charts put strategies × metrics on a fixed 0–1 axis with interval whiskers.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vertical.core.fsutil import atomic_write_bytes, atomic_write_json, atomic_write_text
from vertical.strategy.evaluation.composite import COMPONENTS, CORRECTNESS, FORMULA
from vertical.strategy.evaluation.render import Doc, Section, Table, metric_chart, to_html, to_markdown

SUMMARY = ["composite", *COMPONENTS]
DIAGNOSTIC = ["hit_at_k", "mrr", "citation", "citation_attributed", "cited_share"]
RETENTION = ["general_mc_accuracy", "base_general_mc_accuracy", "general_perplexity", "base_general_perplexity"]
TIE = 0.01  # item scores closer than this are a tie in the per-question table


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def with_interval(result: dict, metric: str) -> str:
    value = result["scores"].get(metric)
    ci = (result.get("intervals") or {}).get(metric)
    if value is None:
        return "–"
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else fmt(value)


def _present(results: list[dict], metrics: list[str]) -> list[str]:
    return [m for m in metrics if any(r["scores"].get(m) is not None for r in results)]


def _metric_table(results: list[dict], metrics: list[str], intervals: bool = True) -> Table:
    cell = with_interval if intervals else (lambda r, m: fmt(r["scores"].get(m)))
    return Table(["strategy", *metrics], [[r["strategy"], *(cell(r, m) for m in metrics)] for r in results])


def _chart(name: str, title: str, results: list[dict], metrics: list[str]):
    strategies = [r["strategy"] for r in results]
    return metric_chart(
        name,
        title,
        strategies,
        metrics,
        {r["strategy"]: r["scores"] for r in results},
        {r["strategy"]: r.get("intervals") or {} for r in results},
    )


def _decision_blocks(results: list[dict], verdict: dict | None, chosen: str | None) -> list:
    blocks: list = []
    if verdict:
        blocks.append(f"**Kept: {verdict['chosen']}** ({verdict['verdict']}). {verdict['reason']}")
    elif chosen:
        blocks.append(f"**Built strategy: {chosen}**")
    blocks.append(
        f"`{FORMULA}` (each component is a mean over the items it applies to; see "
        "vertical/strategy/evaluation/composite.py). Intervals: 95% percentile bootstrap over questions, "
        "2,000 resamples, fixed seed."
    )
    rows = [
        [
            r["strategy"],
            with_interval(r, "composite"),
            *(fmt(r["scores"].get(c)) for c in COMPONENTS),
            "–" if r.get("answer_seconds") is None else f"{r['answer_seconds']:.1f}",
        ]
        for r in results
    ]
    blocks.append(Table(["strategy", "composite [95% CI]", *COMPONENTS, "answering (s)"], rows))
    pairs = (verdict or {}).get("pairs") or []
    if pairs:
        blocks.append("Paired differences (same questions resampled together; significant = interval above 0):")
        blocks.append(
            Table(
                ["difference", "estimate", "95% CI", "significant"],
                [
                    [
                        f"{p['best']} − {p['other']}",
                        f"{p['difference']['estimate']:+.3f}",
                        f"[{p['difference']['low']:+.3f}, {p['difference']['high']:+.3f}]",
                        "yes" if p["significant"] else "no",
                    ]
                    for p in pairs
                ],
            )
        )
    return blocks


def _better(scores: dict[str, float | None]) -> str:
    present = {s: v for s, v in scores.items() if v is not None}
    if len(present) < 2:
        return "–"
    top = max(present.values())
    leaders = [s for s, v in present.items() if top - v < TIE]
    return "tie" if len(leaders) > 1 else leaders[0]


def question_table(results: list[dict]) -> Table:
    """One row per question: each candidate's answer with its item score, and which is better."""
    by_id = [{row["id"]: row for row in r["items"]} for r in results]
    answers = [f"{r['strategy']} answer (score)" for r in results]
    headers = ["id", "type", "question", "reference", *answers, "better"]
    rows = []
    for row in results[0]["items"] if results else []:
        cells = [row["id"], row["type"], row["question"], row.get("reference") or "–"]
        scores = {}
        for r, items in zip(results, by_id):
            item = items.get(row["id"])
            if item is None:
                cells.append("–")
                continue
            scores[r["strategy"]] = item.get("item_score")
            cells.append(f"{item['answer']} ({fmt(item.get('item_score'))})")
        rows.append(cells + [_better(scores)])
    return Table(headers, rows)


def _safety_blocks(safety: dict | None) -> list:
    if not safety:
        return ["The safety detector's own report is not available in this installation."]
    blocks: list = [
        "The crisis detector on the framework's shipped safety set (the same for every candidate, so "
        "not part of the decision)."
    ]
    langs = safety.get("by_language") or safety.get("per_language")
    if isinstance(langs, dict):
        keys = sorted({k for v in langs.values() if isinstance(v, dict) for k in v})
        blocks.append(
            Table(
                ["language", *keys],
                [[lang, *(fmt(v.get(k)) for k in keys)] for lang, v in sorted(langs.items()) if isinstance(v, dict)],
            )
        )
    flat = {k: v for k, v in safety.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
    if flat:
        blocks.append(Table(["field", "value"], [[k, fmt(v)] for k, v in flat.items()]))
    return blocks


def build_doc(
    domain: str, results: list[dict], chosen: str | None = None, verdict: dict | None = None, safety: dict | None = None
) -> Doc:
    n = results[0]["n_items"] if results else 0
    answered = ", ".join(sorted({r.get("answered_by", "?") for r in results}))
    setup = (
        f"{n} eval questions, retrieval k = {results[0]['k'] if results else '-'}, answered by {answered}, "
        f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}."
    )
    correctness = _present(results, list(CORRECTNESS))
    diagnostic = _present(results, DIAGNOSTIC)
    doc = Doc(f"Eval report: {domain}")
    doc.sections.append(
        Section(
            "Decision",
            [
                setup,
                *_decision_blocks(results, verdict, chosen),
                _chart("summary", "Composite and components", results, SUMMARY),
            ],
        )
    )
    doc.sections.append(
        Section(
            "Answer correctness against the reference",
            [
                "Keyword recall, semantic similarity (MiniLM cosine), ROUGE-L and the optional judge; their mean per "
                "question is the correctness component.",
                _metric_table(results, correctness),
                _chart("quality", "Answer correctness", results, correctness),
            ],
        )
    )
    doc.sections.append(
        Section(
            "Diagnostics: retriever and citations (not in the composite)",
            [
                "hit@k and MRR measure the retriever; `citation` counts only the citations the model wrote, "
                "`citation_attributed` the ones the answer policy added by word overlap, "
                "`cited_share` how often the model cited at all. Strategies without retrieval have none (–).",
                _metric_table(results, diagnostic or ["hit_at_k"]),
                _chart("grounding", "Retriever and citations", results, diagnostic or ["hit_at_k"]),
            ],
        )
    )
    retention = _metric_table(results, _present(results, RETENTION), False)
    doc.sections.append(Section("General-ability retention", [retention]))
    doc.sections.append(Section("Safety detector", _safety_blocks(safety)))
    doc.sections.append(
        Section(
            "Every question, answers side by side",
            [
                "Score = the question's composite without retention (correctness, faithfulness, safety); better = the "
                f"highest score, tie when within {TIE}.",
                question_table(results),
            ],
        )
    )
    return doc


def write_report(
    out_dir: Path,
    domain: str,
    results: list[dict],
    chosen: str | None = None,
    verdict: dict | None = None,
    safety: dict | None = None,
) -> dict[str, Path]:
    """Write report.json/.md/.html and the chart PNGs into ``out_dir`` (plus an archived copy of the JSON
    under ``runs/`` that ``vertical eval --compare`` can read after the next build replaced the report)."""
    out_dir = Path(out_dir)
    doc = build_doc(domain, results, chosen, verdict, safety)
    paths = {f"chart_{c.name}": atomic_write_bytes(out_dir / f"chart_{c.name}.png", c.png) for c in doc.charts()}
    report = {
        "domain": domain,
        "chosen": chosen,
        "formula": FORMULA,
        "verdict": verdict,
        "safety_detector": safety,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "results": results,
    }
    paths["json"] = atomic_write_json(out_dir / "report.json", report)
    stamp = report["created_at"].replace(":", "").replace("-", "").replace("+0000", "Z")
    paths["archive"] = atomic_write_json(out_dir / "runs" / f"report-{stamp}.json", report)
    paths["markdown"] = atomic_write_text(out_dir / "report.md", to_markdown(doc))
    paths["html"] = atomic_write_text(out_dir / "report.html", to_html(doc))
    return paths
