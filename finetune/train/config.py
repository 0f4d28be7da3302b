"""Resolve a run's settings: domain.yaml's ``training`` section plus per-run overrides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from vertical.core.errors import HardwareError, TrainingError
from vertical.core.spec import DomainSpec, TrainingSpec

# Overrides that are not TrainingSpec fields.
EXTRA_KEYS = {"max_length", "eval_before", "save_total_limit", "deepspeed"}


@dataclass
class RunConfig:
    training: TrainingSpec
    max_length: int
    eval_before: bool = True
    save_total_limit: int = 2
    deepspeed: str | None = None  # path of a DeepSpeed JSON (multi-GPU runs through accelerate launch)


def resolve_config(spec: DomainSpec, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Validate overrides against the same pydantic model as domain.yaml, so bad values fail alike."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = set(overrides) - set(TrainingSpec.model_fields) - EXTRA_KEYS
    if unknown:
        raise TrainingError(
            f"unknown training override(s): {', '.join(sorted(unknown))}",
            hint=f"use fields of the training section ({', '.join(TrainingSpec.model_fields)}) or {sorted(EXTRA_KEYS)}",
        )
    fields = {k: v for k, v in overrides.items() if k in TrainingSpec.model_fields}
    try:
        training = TrainingSpec.model_validate({**spec.training.model_dump(), **fields})
    except ValidationError as exc:
        raise TrainingError(
            f"invalid training override: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}",
            hint="fix the value passed on the command line or in overrides",
        ) from exc
    max_length = int(overrides.get("max_length", spec.data.max_length))
    if max_length < 16:
        raise TrainingError(f"max_length={max_length} is too small", hint="use at least 16 tokens")
    return RunConfig(
        training=training,
        max_length=max_length,
        eval_before=bool(overrides.get("eval_before", True)),
        save_total_limit=int(overrides.get("save_total_limit", 2)),
        deepspeed=overrides.get("deepspeed"),
    )


def check_hardware(method: str) -> None:
    """Fail before any model is loaded when the method needs hardware we do not have."""
    if method != "qlora":
        return
    import torch

    if not torch.cuda.is_available():
        raise HardwareError(
            "QLoRA needs a CUDA GPU: bitsandbytes 4-bit quantisation does not run on this CPU-only machine",
            hint="use --method lora (same adapter format, fp32 on CPU), or run on a machine with an NVIDIA GPU",
        )
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as exc:
        raise HardwareError(
            "QLoRA needs the bitsandbytes package, which is not installed",
            hint="pip install 'vertical[gpu]' (or pip install bitsandbytes) on the GPU machine",
        ) from exc
