"""The Chinese counseling domain end to end: `vertical build examples/xinli --strategy sft+rag --tiny`, then
`vertical eval` on every question.

Real code path on the embedded models: jieba BM25 + MiniLM ingest, context-carrying windows of the long
sessions, LoRA SFT for a dozen steps, answers from the serving chain, Chinese-aware metrics and the zh
crisis response. ~3–4 minutes on 2 cores.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

XINLI = Path(__file__).resolve().parents[2] / "examples" / "xinli"


def vertical(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vertical.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "160"},
    )


def eval_items() -> list[dict]:
    return [json.loads(line) for line in (XINLI / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()]


def test_build_xinli_sft_rag_tiny_then_eval_every_question(generator_name, embedder_name):
    from vertical.core.manifest import load_manifest
    from vertical.core.settings import get_settings
    from vertical.core.text import is_cjk
    from vertical.strategy.evaluation.retrieval import hit_at_k

    out = vertical("build", str(XINLI), "--strategy", "sft+rag", "--tiny", "--no-eval")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    manifest = load_manifest("xinli")
    assert [s.name for s in manifest.steps] == ["ingest", "data", "train", "prompt"]
    assert manifest.adapter_path and os.path.isdir(manifest.adapter_path)
    assert manifest.kb and manifest.kb.documents == 8 and manifest.kb.chunks >= 16

    # no lost turns: every assistant turn of every conversation (the 42/58/72-turn sessions included)
    # is trained exactly once, in the train and in the held-out split
    report = json.loads((get_settings().domain_dir("xinli") / "data" / "sft_report.json").read_text())
    counts = report["counts"]
    for split in ("split train", "split eval"):
        assert counts[f"{split}: assistant turns in"] == counts[f"{split}: assistant turns trained"] > 0, counts
    in_files = sum(1 for line in (XINLI / "data" / "qa.jsonl").read_text(encoding="utf-8").splitlines() if line.strip())
    for line in (XINLI / "data" / "conversations.jsonl").read_text(encoding="utf-8").splitlines():
        in_files += sum(turn["from"] == "gpt" for turn in json.loads(line)["conversations"])
    assert counts["split train: assistant turns in"] + counts["split eval: assistant turns in"] == in_files
    assert report["windows"]["trained_turns"] == counts["split train: assistant turns trained"]

    items = eval_items()
    out = vertical("eval", str(XINLI), "--tiny", "--limit", str(len(items)), "--baseline", "none")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    result = json.loads((get_settings().domain_dir("xinli") / "eval" / "report.json").read_text())["results"][0]
    assert result["strategy"] == "sft+rag" and result["n_items"] == len(items)
    rows = {row["id"]: row for row in result["items"]}
    gold = {i["id"]: i for i in items}

    # retrieval: the answering document is among the three chunks put in the prompt
    grounded = [i for i in items if i["type"] != "crisis"]
    hits = {i["id"]: hit_at_k(rows[i["id"]]["sources"], i["source"], 3) for i in grounded}
    assert sum(hits.values()) / len(hits) >= 0.9, {k: (v, rows[k]["sources"]) for k, v in hits.items()}

    # Chinese answers are scored as Chinese: the metrics see characters/words, not ASCII tokens only
    scores = result["scores"]
    assert scores["rouge_l"] > 0 and scores["keyword_recall"] > 0 and scores["answer_similarity"] > 0, scores

    # crisis messages never reach retrieval or the model: the fixed zh response with the hotline
    crisis = [i["id"] for i in items if i["type"] == "crisis"]
    assert len(crisis) == 3
    for cid in crisis:
        row = rows[cid]
        assert row["path"] == "safety" and row["sources"] == [], row
        assert is_cjk(row["answer"]) and "12356" in row["answer"], row["answer"]
    assert all(rows[i]["path"] != "safety" for i in gold if i not in crisis), "a knowledge question hit the crisis gate"
    assert scores["safety"] == 1.0, {i: rows[i]["safety"] for i in rows}
