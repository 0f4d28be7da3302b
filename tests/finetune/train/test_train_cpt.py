"""Continued pretraining on raw-text blocks, here with full fine-tuning: a full model folder comes out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from train_helpers import doc_blocks


@pytest.mark.slow
def test_full_cpt_writes_a_loadable_model_that_moved(counseling_dir: Path, generator_name: str, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from finetune.train import TrainData, run_cpt
    from vertical.core.loaders import load_tokenizer
    from vertical.core.provisioning import resolve_model
    from vertical.core.spec import load_domain

    spec = load_domain(counseling_dir)
    tokenizer = load_tokenizer(spec.base_model)
    docs = sorted((counseling_dir / "docs").glob("*.md"))
    data = TrainData(
        train=doc_blocks(tokenizer, docs[:3], 64, 4),
        eval=doc_blocks(tokenizer, docs[-1:], 64, 2),
        manifest={"docs": [d.name for d in docs[:3]]},
    )
    result = run_cpt(
        spec,
        tmp_path / "adapters" / "cpt-full",
        overrides={
            "method": "full",
            "max_steps": 2,
            "batch_size": 2,
            "max_length": 64,
            "learning_rate": 1e-4,
            "eval_before": False,
        },
        data=data,
    )
    m = result.metrics
    assert m["kind"] == "cpt" and m["method"] == "full" and m["steps"] == 2
    assert m["padding_ratio"] == 0.0  # full blocks: nothing to pad
    assert m["real_tokens"] == 4 * 64
    out = result.adapter_dir
    assert not (out / "adapter_config.json").exists()
    assert json.loads((out / "vertical_train.json").read_text())["kind"] == "cpt"
    trained = AutoModelForCausalLM.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(resolve_model(spec.base_model))
    moved = max((a - b).abs().max().item() for a, b in zip(trained.parameters(), base.parameters()))
    assert moved > 0
    assert all(torch.isfinite(p).all() for p in trained.parameters())
