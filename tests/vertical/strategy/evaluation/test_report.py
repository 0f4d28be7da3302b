"""The report: one document rendered as Markdown and HTML with the same content; charts on a fixed 0–1 axis;
`--compare` between two reports pairs questions by id."""

import html
import io
import json
import re

import numpy as np
import pytest

from vertical.strategy.evaluation.compare import compare_markdown, compare_reports
from vertical.strategy.evaluation.decision import decide
from vertical.strategy.evaluation.render import Table, to_html, to_markdown
from vertical.strategy.evaluation.report import build_doc, question_table, write_report
from vertical.strategy.evaluation.runner import summarize_rows

RETENTION = {"general_mc_accuracy": 0.5, "general_perplexity": 20.0}


def fake_result(strategy: str, quality: float, n: int = 10, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        q = float(np.clip(quality + rng.normal(0, 0.05), 0, 1))
        rows.append(
            {
                "id": f"q{i}",
                "type": "factual",
                "question": f"Question {i} | with a pipe?",
                "reference": f"Ref {i}",
                "answer": f"{strategy} answer {i}\nsecond line",
                "keyword_recall": q,
                "answer_similarity": q,
                "rouge_l": q,
                "correctness": q,
                "faithfulness": q,
                "safety": 1.0,
                "item_score": q,
                **(
                    {"hit_at_k": 1.0, "mrr": 1.0, "citation": None, "citation_attributed": 1.0, "cited": 0.0}
                    if "rag" in strategy
                    else {}
                ),
            }
        )
    scores, intervals = summarize_rows(rows, RETENTION, RETENTION)
    return {
        "strategy": strategy,
        "n_items": n,
        "k": 3,
        "answered_by": "serving.chain",
        "scores": scores,
        "intervals": intervals,
        "items": rows,
        "answer_seconds": 1.0,
    }


def test_summary_has_intervals_around_every_mean():
    r = fake_result("rag", 0.6)
    for metric in ("composite", "correctness", "faithfulness", "keyword_recall", "hit_at_k"):
        low, high = r["intervals"][metric]
        assert low <= r["scores"][metric] <= high, metric
    assert r["scores"]["citation"] is None  # the model wrote no citation: nothing to score
    assert r["scores"]["citation_attributed"] == 1.0 and r["scores"]["cited_share"] == 0.0
    assert fake_result("prompt", 0.6)["scores"]["hit_at_k"] is None  # a diagnostic only where retrieval ran


def _cells(text: str) -> set[str]:
    return set(re.findall(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", text))


def test_markdown_and_html_hold_the_same_content():
    results = [fake_result("prompt", 0.3, seed=1), fake_result("rag", 0.7, seed=2)]
    verdict = decide(results).to_dict()
    safety = {"recall": 0.99, "by_language": {"en": {"recall": 0.98, "false_alarm_rate": 0.01}}, "misses": ["x"]}
    doc = build_doc("demo", results, "rag", verdict, safety)
    md, page = to_markdown(doc), html.unescape(re.sub(r"<[^>]+>", " ", to_html(doc)))
    assert _cells(md) and _cells(md) == _cells(page)  # every metric with its interval in both
    for text in (
        "Kept: rag",
        "significant",
        "Every question, answers side by side",
        "rag answer 3 second line",
        "prompt answer 3 second line",
        "Safety detector",
        "false_alarm_rate",
        "0.980",
        "rag − prompt",
    ):
        assert text in md and text in page, text
    assert "Question 4 \\| with a pipe?" in md  # a pipe inside a cell does not break the Markdown table
    assert len(doc.charts()) == 3 and md.count("](chart_") == 3 and to_html(doc).count("data:image/png;base64") == 3


def test_per_question_table_says_which_answer_is_better():
    a, b = fake_result("prompt", 0.2, n=3), fake_result("rag", 0.8, n=3)
    b["items"][1]["item_score"] = a["items"][1]["item_score"]
    table = question_table([a, b])
    assert isinstance(table, Table) and table.headers[-1] == "better"
    assert [row[-1] for row in table.rows] == ["rag", "tie", "rag"]


def test_charts_use_a_fixed_zero_to_one_axis(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    paths = write_report(tmp_path, "demo", [fake_result("prompt", 0.16), fake_result("rag", 0.9)], "rag")
    for name in ("json", "markdown", "html", "chart_summary", "chart_quality", "chart_grounding", "archive"):
        assert paths[name].is_file() and paths[name].stat().st_size > 200, name
    assert Image.open(io.BytesIO(paths["chart_quality"].read_bytes())).size[0] >= 500
    report = json.loads(paths["json"].read_text())
    assert report["results"][0]["items"] and report["formula"].startswith("composite =")


def test_compare_two_reports_pairs_questions_by_id(tmp_path):
    before = write_report(tmp_path / "a", "demo", [fake_result("sft+rag", 0.4, n=20, seed=4)], "sft+rag")["archive"]
    after_result = fake_result("sft+rag", 0.6, n=20, seed=5)
    after_result["items"] = after_result["items"][::-1]  # order does not matter, ids do
    after = write_report(tmp_path / "b", "demo", [after_result], "sft+rag")["json"]
    result = compare_reports(before, after)
    assert result["shared_items"] == 20
    comp = result["metrics"]["composite"]
    assert comp["estimate"] > 0 and comp["significant"] and comp["low"] > 0
    assert result["metrics"]["keyword_recall"]["b"] > result["metrics"]["keyword_recall"]["a"]
    same = compare_reports(before, before)["metrics"]["composite"]
    assert same["estimate"] == same["low"] == same["high"] == 0.0 and not same["significant"]
    assert "| composite |" in compare_markdown(result)


def test_cli_compare_prints_paired_differences_and_writes_them(tmp_path, counseling_dir):
    import os
    import subprocess
    import sys

    before = write_report(tmp_path / "a", "counseling", [fake_result("sft+rag", 0.4, n=16, seed=6)], "sft+rag")["json"]
    after = write_report(tmp_path / "b", "counseling", [fake_result("sft+rag", 0.7, n=16, seed=7)], "sft+rag")["json"]
    out = subprocess.run(
        [sys.executable, "-m", "vertical.cli", "eval", str(counseling_dir), "--compare", str(before), str(after)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "composite" in out.stdout and "16 shared questions" in out.stdout and "yes" in out.stdout
    from vertical.core.settings import get_settings

    written = json.loads((get_settings().domain_dir("counseling") / "eval" / "compare.json").read_text())
    assert written["metrics"]["composite"]["significant"] and written["metrics"]["composite"]["low"] > 0
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "vertical.cli",
            "eval",
            str(counseling_dir),
            "--compare",
            str(before),
            str(tmp_path / "missing.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    plain = subprocess.run(
        [sys.executable, "-m", "vertical.cli", "eval", str(counseling_dir), "--tiny"],
        capture_output=True,
        text=True,
        timeout=300,
    )  # without --compare: evaluates (not built)
    assert plain.returncode == 2 and "has not been built" in plain.stderr, plain.stderr
