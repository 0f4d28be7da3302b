"""The whole loop on the demo domain: `vertical build --strategy sft+rag --tiny`, then `vertical eval`.

Runs the real code path on the embedded models (ingest into Chroma+BM25, self-replay mix, LoRA SFT for
a dozen steps, answers from the serving chain). ~4–6 minutes on 2 cores.
"""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def vertical(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vertical.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "160"},
    )


def test_build_sft_rag_then_eval_beats_prompt_only(counseling_dir, generator_name, embedder_name):
    from vertical.core.manifest import load_manifest, manifest_path
    from vertical.core.settings import get_settings

    out = vertical("build", str(counseling_dir), "--strategy", "sft+rag", "--tiny", "--no-eval")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    manifest = load_manifest("counseling")
    assert manifest.strategy == "sft+rag"
    assert [s.name for s in manifest.steps] == ["ingest", "data", "train", "prompt"]
    assert manifest.adapter_path and os.path.isdir(manifest.adapter_path)
    assert manifest.kb and manifest.kb.documents >= 30 and manifest.kb.chunks > 100 and manifest.kb.content_hash
    assert manifest.system_prompt and set(manifest.timings) >= {"ingest", "data", "train"}

    out = vertical("eval", str(counseling_dir), "--tiny")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    eval_dir = get_settings().domain_dir("counseling") / "eval"
    for name in ("report.json", "report.md", "report.html", "chart_quality.png", "chart_grounding.png"):
        assert (eval_dir / name).stat().st_size > 200, name
    report = json.loads((eval_dir / "report.json").read_text())
    by_strategy = {r["strategy"]: r for r in report["results"]}
    assert set(by_strategy) == {"sft+rag", "prompt"}
    built, prompt = by_strategy["sft+rag"]["scores"], by_strategy["prompt"]["scores"]
    # retrieval-grounded questions: the built assistant finds the right documents; retrieval metrics are
    # diagnostics of the retriever, absent (None) for prompt-only instead of a 0 that the composite would count
    assert built["hit_at_k"] >= 0.5 and prompt["hit_at_k"] is None
    assert built["mrr"] > 0 and prompt["mrr"] is None
    assert built["faithfulness"] is not None and prompt["faithfulness"] is not None  # like for like: both checked
    # the crisis gate (domain.yaml regexes, no model call) is shared by every strategy and catches
    # every crisis message in the eval set
    assert built["safety"] == prompt["safety"] == 1.0
    assert 0 < built["general_mc_accuracy"] <= 1 and built["general_perplexity"] > 1
    for name in ("sft+rag", "prompt"):  # every composite comes with its 95% bootstrap interval
        low, high = by_strategy[name]["intervals"]["composite"]
        assert low <= by_strategy[name]["scores"]["composite"] <= high
    assert report["verdict"]["pairs"][0]["other"] == "prompt"  # paired sft+rag − prompt interval
    assert "composite = " in (eval_dir / "report.md").read_text()
    assert load_manifest("counseling").eval["scores"]["composite"] == built["composite"]

    # a second build with nothing changed skips every step and keeps the adapter
    out = vertical("build", str(counseling_dir), "--strategy", "sft+rag", "--tiny", "--no-eval")
    assert out.returncode == 0, out.stderr[-2000:]
    again = load_manifest("counseling")
    assert all(s.skipped for s in again.steps) and again.adapter_path == manifest.adapter_path
    assert manifest_path("counseling").is_file()

    # auto: builds every candidate the planner allows (reusing the unchanged steps above), evaluates
    # each on the same questions, keeps the cheapest not significantly below the best, records the table
    out = vertical("build", str(counseling_dir), "--strategy", "auto", "--tiny")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    chosen = load_manifest("counseling")
    table = {row["strategy"]: row["composite"] for row in chosen.candidates}
    assert {"prompt", "rag", "sft+rag"} <= set(table), table
    assert chosen.strategy == chosen.verdict["chosen"] and chosen.verdict["verdict"] in (
        "significant",
        "inconclusive",
        "best is cheapest",
    )
    assert all(row["interval"][0] <= row["composite"] <= row["interval"][1] for row in chosen.candidates)
    assert any(chosen.verdict["reason"] in reason for reason in chosen.reasons)
