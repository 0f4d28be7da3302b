"""Find the LoRA target modules of any decoder by inspecting it, not by a per-model list."""

from __future__ import annotations

from typing import Any

from vertical.core.errors import TrainingError


def _linear_types() -> tuple[type, ...]:
    import torch.nn as nn

    types: list[type] = [nn.Linear]
    try:  # 4-bit / 8-bit layers of a QLoRA model are still the projections we want
        import bitsandbytes as bnb

        types += [bnb.nn.Linear4bit, bnb.nn.Linear8bitLt]
    except Exception:  # noqa: BLE001 - bitsandbytes is optional (GPU extra)
        pass
    try:  # GPT-2 style models use Conv1D for their projections
        from transformers.pytorch_utils import Conv1D

        types.append(Conv1D)
    except ImportError:  # pragma: no cover
        pass
    return tuple(types)


def _output_head_names(model: Any) -> set[str]:
    """The LM head (and anything tied to the embeddings) is never a LoRA target."""
    names = {"lm_head"}
    get_out = getattr(model, "get_output_embeddings", None)
    head = get_out() if callable(get_out) else None
    if head is not None:
        for name, module in model.named_modules():
            if module is head:
                names.add(name.rsplit(".", 1)[-1])
    return names


def detect_lora_targets(model: Any) -> list[str]:
    """Suffix names of every linear projection inside the decoder blocks (q/k/v/o, MLP…), sorted.

    peft matches these suffixes against full module names, so one list covers all layers.
    """
    linear_types = _linear_types()
    skip = _output_head_names(model)
    found: set[str] = set()
    for name, module in model.named_modules():
        if not isinstance(module, linear_types):
            continue
        suffix = name.rsplit(".", 1)[-1]
        if suffix in skip or "lora_" in name:
            continue
        found.add(suffix)
    if not found:
        raise TrainingError(
            f"no linear projection layers found in {type(model).__name__}",
            hint="set training.target_modules in domain.yaml to the module names to adapt",
        )
    return sorted(found)
