"""Train a domain by folder: pick SFT or CPT, name the run, place its outputs (CLI and worker entry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune.train.result import TrainResult
from finetune.train.trainer import ProgressFn
from vertical.core.settings import get_settings
from vertical.core.spec import DomainSpec

PREFERENCE_METHODS = ("dpo", "orpo", "kto")


def default_run_name(cpt: bool, method: str) -> str:
    """Stable per (kind, method) so ``--resume`` finds the run it continues."""
    return f"{'cpt' if cpt else 'sft'}-{method}"


def adapter_dir(domain_name: str, run_name: str) -> Path:
    return get_settings().domain_dir(domain_name) / "adapters" / run_name


def sft_adapter_of(spec: DomainSpec) -> Path | None:
    """The domain's SFT adapter (a finished ``sft-<method>`` run), which alignment builds on."""
    from finetune.train.artifacts import TRAIN_RECORD

    folder = adapter_dir(spec.name, default_run_name(False, spec.training.method))
    return folder if (folder / TRAIN_RECORD).is_file() and (folder / "adapter_config.json").is_file() else None


def align_domain(
    spec: DomainSpec,
    method: str,
    resume: bool = False,
    max_steps: int | None = None,
    name: str | None = None,
    on_base: bool = False,
    overrides: dict[str, Any] | None = None,
    on_progress: ProgressFn | None = None,
) -> TrainResult:
    """DPO/ORPO/KTO on top of the domain's SFT adapter when it has one (else on the base model)."""
    from finetune.train.preference import run_preference

    base = None if on_base else sft_adapter_of(spec)
    run_name = name or f"{method}-{spec.training.method}" + ("" if base else "-base")
    return run_preference(
        spec,
        method,
        adapter_dir(spec.name, run_name),
        sft_adapter=base,
        resume=resume,
        overrides={**(overrides or {}), "max_steps": max_steps},
        on_progress=on_progress,
    )


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
    on_base: bool = False,
) -> TrainResult:
    """SFT (lora/qlora/full), CPT (``cpt=True``) or preference alignment (method dpo/orpo/kto)."""
    from vertical.core.spec import load_domain

    spec = load_domain(domain)
    if method in PREFERENCE_METHODS:
        return align_domain(
            spec,
            method,
            resume=resume,
            max_steps=max_steps,
            name=name,
            on_base=on_base,
            overrides=overrides,
            on_progress=on_progress,
        )
    overrides = {**(overrides or {}), "method": method, "max_steps": max_steps, "deepspeed": deepspeed}
    run_name = name or default_run_name(cpt, method or spec.training.method)
    out = adapter_dir(spec.name, run_name)
    if cpt:
        from finetune.train.cpt import run_cpt

        return run_cpt(spec, out, resume=resume, overrides=overrides, on_progress=on_progress)
    from finetune.train.sft import run_sft

    return run_sft(spec, out, resume=resume, overrides=overrides, on_progress=on_progress)
