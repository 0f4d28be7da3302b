"""Build orchestration: steps run in order, unchanged steps are skipped, a failed step keeps the old manifest."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from vertical.strategy.build import build
from vertical.core.errors import BuildError
from vertical.core.manifest import load_manifest, manifest_path
from vertical.core.spec import load_domain


def make_domain(tmp_path: Path, counseling_dir: Path, docs=("sleep-hygiene.md", "panic-attacks.md"), datasets=None) -> Path:
    root = tmp_path / "mini"
    (root / "docs").mkdir(parents=True)
    for name in docs:
        shutil.copy(counseling_dir / "docs" / name, root / "docs" / name)
    spec = yaml.safe_load((counseling_dir / "domain.yaml").read_text())
    spec["name"] = "mini"
    spec["data"]["datasets"] = datasets or []
    spec["eval"] = {"file": None, "k": 3}
    (root / "domain.yaml").write_text(yaml.safe_dump(spec))
    return root


def test_rag_build_writes_manifest_then_skips_unchanged_steps(tmp_path, counseling_dir, embedder_name):
    root = make_domain(tmp_path, counseling_dir)
    first = build(load_domain(root), "rag", evaluate=False)
    assert manifest_path("mini").is_file()
    assert [s.name for s in first.steps] == ["ingest", "prompt"]
    assert first.kb is not None and first.kb.documents == 2 and first.kb.chunks > 2
    assert first.strategy == "rag" and first.base_model == "smollm2-135m-instruct"
    assert not any(s.skipped for s in first.steps)

    second = build(load_domain(root), "rag", evaluate=False)
    assert all(s.skipped for s in second.steps)
    assert second.kb.content_hash == first.kb.content_hash

    # a changed document re-runs ingest (content, not the file name or mtime, decides)
    doc = root / "docs" / "sleep-hygiene.md"
    doc.write_text(doc.read_text() + "\n\nA new paragraph about keeping a regular morning walk for better sleep.\n")
    third = build(load_domain(root), "rag", evaluate=False)
    assert not third.step("ingest").skipped and third.step("prompt").skipped
    assert third.kb.content_hash != first.kb.content_hash
    assert load_manifest("mini").kb.content_hash == third.kb.content_hash


def test_failed_step_raises_build_error_and_keeps_previous_manifest(tmp_path, counseling_dir, embedder_name):
    root = make_domain(tmp_path, counseling_dir)
    good = build(load_domain(root), "rag", evaluate=False)
    before = manifest_path("mini").read_bytes()

    spec_file = root / "domain.yaml"
    spec = yaml.safe_load(spec_file.read_text())
    spec["data"]["datasets"] = [{"name": "missing", "file": "data/nowhere.jsonl", "format": "sharegpt"}]
    spec_file.write_text(yaml.safe_dump(spec))
    with pytest.raises(BuildError) as err:
        build(load_domain(root), "sft+rag", evaluate=False)
    assert "'data'" in err.value.message and "nowhere.jsonl" in err.value.message
    assert manifest_path("mini").read_bytes() == before
    assert load_manifest("mini").strategy == good.strategy == "rag"


def test_unknown_strategy_is_a_clear_error(tmp_path, counseling_dir):
    root = make_domain(tmp_path, counseling_dir)
    with pytest.raises(BuildError, match="unknown strategy"):
        build(load_domain(root), "finetune", evaluate=False)
    assert not manifest_path("mini").exists()


def test_prompt_build_selects_few_shot_examples_by_similarity(tmp_path, counseling_dir, embedder_name):
    from serving.few_shot import select_few_shot

    data = tmp_path / "mini" / "data"
    data.mkdir(parents=True)
    rows = [("How do I sleep better?", "Keep a fixed wake time."), ("What helps with panic?", "Slow breathing."),
            ("How can I deal with grief?", "Let yourself feel it."), ("Tips for insomnia at night?", "Get up after 20 minutes.")]
    (data / "qa.jsonl").write_text("".join(json.dumps({"instruction": q, "output": a}) + "\n" for q, a in rows))
    root = make_domain(tmp_path, counseling_dir, datasets=[{"name": "qa", "file": "data/qa.jsonl", "format": "alpaca"}])
    manifest = build(load_domain(root), "prompt", evaluate=False)
    assert [s.name for s in manifest.steps] == ["prompt"] and manifest.kb is None and manifest.adapter_path is None
    assert len(manifest.few_shot) == 4
    chosen = select_few_shot("I can't fall asleep at night", manifest.few_shot, embedder_name, token_budget=40, max_examples=2)
    assert {c["question"] for c in chosen} <= {"How do I sleep better?", "Tips for insomnia at night?"} and chosen
    assert select_few_shot("sleep", manifest.few_shot, embedder_name, token_budget=3) == []  # nothing fits
