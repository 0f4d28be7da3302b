"""Continued pretraining on packed raw-text blocks (LoRA or full), loss on every token.

Blocks come from the data package's ``prepare_cpt``, which enforces the domain-share guard
(``data.cpt_max_domain_share``, 15% by default) by mixing general text in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune.train.data_source import cpt_data
from finetune.train.result import TrainData, TrainResult
from finetune.train.trainer import ProgressFn, train_spec
from vertical.core.spec import DomainSpec


def run_cpt(
    spec: DomainSpec,
    out_dir: Path,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
    data: TrainData | None = None,
    on_progress: ProgressFn | None = None,
) -> TrainResult:
    return train_spec(spec, out_dir, "cpt", cpt_data, resume, overrides, data, on_progress)
