"""Train a domain by folder: pick SFT or CPT, name the run, place its outputs (CLI and worker entry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune.train.engine import ProgressFn
from finetune.train.result import TrainResult
from vertical.core.settings import get_settings


def default_run_name(cpt: bool, method: str) -> str:
    """Stable per (kind, method) so ``--resume`` finds the run it continues."""
    return f"{'cpt' if cpt else 'sft'}-{method}"


def adapter_dir(domain_name: str, run_name: str) -> Path:
    return get_settings().domain_dir(domain_name) / "adapters" / run_name


def train_domain(
    domain: Path,
    method: str | None = None,
    cpt: bool = False,
    resume: bool = False,
    max_steps: int | None = None,
    name: str | None = None,
    deepspeed: str | None = None,
    overrides: dict[str, Any] | None = None,
    on_progress: ProgressFn | None = None,
) -> TrainResult:
    from vertical.core.spec import load_domain

    spec = load_domain(domain)
    overrides = {**(overrides or {}), "method": method, "max_steps": max_steps, "deepspeed": deepspeed}
    run_name = name or default_run_name(cpt, method or spec.training.method)
    out = adapter_dir(spec.name, run_name)
    if cpt:
        from finetune.train.cpt import run_cpt

        return run_cpt(spec, out, resume=resume, overrides=overrides, on_progress=on_progress)
    from finetune.train.sft import run_sft

    return run_sft(spec, out, resume=resume, overrides=overrides, on_progress=on_progress)
