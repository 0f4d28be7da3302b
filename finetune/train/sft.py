"""Supervised fine-tuning (LoRA by default, QLoRA on CUDA, or full) with assistant-only loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune.train.data_source import sft_data
from finetune.train.result import TrainData, TrainResult
from finetune.train.trainer import ProgressFn, train_spec
from vertical.core.spec import DomainSpec


def run_sft(
    spec: DomainSpec,
    out_dir: Path,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
    data: TrainData | None = None,
    on_progress: ProgressFn | None = None,
) -> TrainResult:
    """Train an adapter on the domain's conversations; ``data`` defaults to ``prepare_sft``'s windows.

    ``overrides`` take fields of the ``training`` section (method, max_steps, batch_size…) and
    ``max_length``. With ``resume=True`` the run continues from its last complete checkpoint.
    """
    return train_spec(spec, out_dir, "sft", sft_data, resume, overrides, data, on_progress)
