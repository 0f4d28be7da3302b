"""Continued pretraining on packed raw-text blocks (LoRA or full), loss on every token.

Blocks come from the data package's ``prepare_cpt``, which enforces the domain-share guard
(``data.cpt_max_domain_share``, 15% by default) by mixing general text in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune.train.config import check_hardware, resolve_config
from finetune.train.data_source import cpt_data
from finetune.train.engine import ProgressFn, run_training
from finetune.train.result import TrainData, TrainResult
from vertical.spec import DomainSpec


def run_cpt(
    spec: DomainSpec,
    out_dir: Path,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
    data: TrainData | None = None,
    on_progress: ProgressFn | None = None,
) -> TrainResult:
    cfg = resolve_config(spec, overrides)
    check_hardware(cfg.training.method)
    if data is None:
        data = cpt_data(spec, cfg.max_length, seed=cfg.training.seed)
    return run_training(spec, data, Path(out_dir), cfg, kind="cpt", resume=resume, on_progress=on_progress)
