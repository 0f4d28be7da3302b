"""Merge a LoRA adapter into its base model and write a plain transformers model folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from vertical.core.errors import TrainingError

ADAPTER_CONFIG = "adapter_config.json"


def latest_adapter(adapters_dir: Path) -> Path:
    """The most recently finished adapter under ``<domain_dir>/adapters``."""
    candidates = [p for p in Path(adapters_dir).glob("*/") if (p / ADAPTER_CONFIG).is_file()]
    if not candidates:
        raise TrainingError(
            f"no trained adapter under {adapters_dir}",
            hint="run `vertical train <domain>` first, or pass --adapter PATH",
        )
    return max(candidates, key=lambda p: (p / ADAPTER_CONFIG).stat().st_mtime)


def merge_adapter(adapter_dir: Path, out_dir: Path, base_model: str | None = None) -> Path:
    """peft ``merge_and_unload`` + tokenizer → ``out_dir`` (written to a temp folder, then renamed)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from vertical.core.loaders import _quiet_transformers
    from vertical.core.provisioning import resolve_model

    _quiet_transformers()
    adapter_dir, out_dir = Path(adapter_dir), Path(out_dir)
    config_path = adapter_dir / ADAPTER_CONFIG
    if not config_path.is_file():
        raise TrainingError(
            f"{adapter_dir} is not a LoRA adapter folder (no {ADAPTER_CONFIG})",
            hint="point at an adapter written by `vertical train` (…/adapters/<run>)",
        )
    base = resolve_model(base_model) if base_model else json.loads(config_path.read_text())["base_model_name_or_path"]
    if not Path(base).exists():
        base = resolve_model(base)
    # Merge in fp32 so the merged weights are not rounded twice; save in the base model's dtype.
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    tokenizer_src = adapter_dir if (adapter_dir / "tokenizer_config.json").is_file() else Path(base)
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_src))

    staging = out_dir.with_name(f".{out_dir.name}.merging")
    if staging.exists():
        shutil.rmtree(staging)
    merged.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    record = adapter_dir / "vertical_train.json"
    if record.is_file():
        shutil.copy2(record, staging / "vertical_train.json")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(out_dir)
    return out_dir
