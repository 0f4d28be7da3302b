"""LoRA SFT on the counseling conversations: held-out loss drops, artifacts are usable, export merges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from train_helpers import counseling_data

OVERRIDES = {"max_steps": 8, "batch_size": 2, "max_length": 128, "learning_rate": 1e-3, "save_steps": 100}


COUNSELING = Path(__file__).resolve().parents[3] / "examples" / "counseling"


@pytest.fixture(scope="module")
def trained(generator_name: str, tmp_path_factory: pytest.TempPathFactory):
    """Train once for the module, in a workspace of its own (module fixtures run before per-test ones)."""
    from finetune.train import run_sft
    from vertical.core.loaders import load_tokenizer
    from vertical.core.settings import get_settings, reset_settings
    from vertical.core.spec import load_domain

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERTICAL_WORKSPACE", str(tmp_path_factory.mktemp("workspace")))
        reset_settings()
        spec = load_domain(COUNSELING)
        data = counseling_data(spec, load_tokenizer(spec.base_model), 128, n_train=16, n_eval=6)
        out = get_settings().domain_dir(spec.name) / "adapters" / "sft-test"
        result = run_sft(spec, out, overrides=OVERRIDES, data=data)
    reset_settings()
    return spec, data, result, tmp_path_factory.mktemp("export")


@pytest.mark.slow
def test_lora_sft_lowers_held_out_loss(trained) -> None:
    _, _, result, _ = trained
    m = result.metrics
    assert m["steps"] == 8 and m["method"] == "lora"
    assert m["eval_loss"] < m["eval_loss_before"] - 0.05, m
    assert m["tokens_per_s"] > 0 and m["real_tokens"] > 0
    assert 0 <= m["padding_ratio"] < 0.25  # packed rows: little padding
    assert m["peak_mem_mb"] > 100


@pytest.mark.slow
def test_adapter_folder_records_config_and_data(trained) -> None:
    spec, data, result, _ = trained
    adapter = result.adapter_dir
    assert (adapter / "adapter_config.json").is_file() and (adapter / "adapter_model.safetensors").is_file()
    record = json.loads((adapter / "vertical_train.json").read_text())
    assert record["domain"] == spec.name and record["base_model"] == spec.base_model
    assert record["training"]["max_steps"] == 8 and record["training"]["lora_r"] == spec.training.lora_r
    assert record["data"] == data.manifest
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert set(config["target_modules"]) == {
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    }
    log = json.loads(result.log_path.read_text())
    assert {"tokens_per_s", "padding_ratio", "peak_mem_mb"} <= set(log["metrics"])
    assert len(log["loss_curve"]["train"]) == 8
    assert result.plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.run_dir.parent.name == "runs" and not list(result.run_dir.glob("checkpoints/checkpoint-*"))


@pytest.mark.slow
def test_merged_export_loads_and_matches_the_adapter(trained) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from finetune.export import merge_adapter
    from vertical.core.provisioning import resolve_model

    spec, _, result, tmp = trained
    merged_dir = merge_adapter(result.adapter_dir, tmp / "merged", base_model=spec.base_model)
    assert not (merged_dir / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(merged_dir)
    ids = tokenizer.apply_chat_template(
        [{"role": "user", "content": "I can't sleep before exams."}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    base = AutoModelForCausalLM.from_pretrained(resolve_model(spec.base_model))
    adapted = PeftModel.from_pretrained(base, str(result.adapter_dir)).eval()
    with torch.no_grad():
        diff = (merged(**ids).logits - adapted(**ids).logits).abs().max().item()
        out = merged.generate(**ids, max_new_tokens=12, do_sample=False)
    assert diff < 1e-3
    text = tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
    assert text.strip()


@pytest.mark.slow
def test_gradient_checkpointing_still_trains_the_adapter(
    counseling_dir: Path, generator_name: str, tmp_path: Path
) -> None:
    from safetensors.torch import load_file

    from finetune.train import run_sft
    from vertical.core.loaders import load_tokenizer
    from vertical.core.spec import load_domain

    spec = load_domain(counseling_dir)
    data = counseling_data(spec, load_tokenizer(spec.base_model), 128, n_train=2, n_eval=0)
    result = run_sft(
        spec,
        tmp_path / "adapters" / "gc",
        data=data,
        overrides={"max_steps": 1, "batch_size": 2, "gradient_checkpointing": True, "max_length": 128},
    )
    weights = load_file(str(result.adapter_dir / "adapter_model.safetensors"))
    assert max(float(v.abs().max()) for k, v in weights.items() if "lora_B" in k) > 0  # gradients reached LoRA
    assert not (result.adapter_dir / "training_args.bin").exists()
