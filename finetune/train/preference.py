"""Preference alignment with TRL's trainers: DPO and KTO (against a frozen reference) and ORPO (none).

The losses are TRL's; this module wires our data, the LoRA model and the run's artifacts the way SFT
does (resumable checkpoints, progress events, adapter + vertical_train.json, log.json, loss.png).

On the base model, the policy is a fresh LoRA adapter and the reference is the same model with the
adapter disabled (no second copy). On top of the domain's SFT adapter, that adapter keeps training
and the reference is a frozen merged copy of base + SFT, so alignment is measured against the SFT
model it starts from and serving still loads one adapter.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune.train.artifacts import (
    TRAIN_RECORD,
    finalize_model_dir,
    loss_series,
    plot_loss,
    staging_dir,
    write_run_log,
)
from finetune.train.checkpoints import last_complete_checkpoint
from finetune.train.config import RunConfig, check_hardware, resolve_config
from finetune.train.result import TrainResult
from finetune.train.trainer import ProgressFn, common_arguments, run_dir_for, training_record
from vertical.core.errors import DataFormatError, TrainingError
from vertical.core.spec import DomainSpec

METHODS = ("dpo", "orpo", "kto")
# the held-out numbers each trainer logs that say whether the model now prefers the chosen answers
REWARD_KEYS = ("rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected", "kl")


@dataclass
class PreferenceData:
    train: list[dict]  # TRL conversational rows: prompt + chosen/rejected (DPO, ORPO) or completion + label (KTO)
    eval: list[dict]
    manifest: dict[str, Any] = field(default_factory=dict)


def preference_data(
    spec: DomainSpec,
    method: str,
    references: bool | None = None,
    feedback: bool | None = None,
    limit: int | None = None,
) -> PreferenceData:
    """The domain's preference rows for ``method`` with a held-out split (see finetune.data.preferences)."""
    from finetune.data.preferences import domain_preferences, split

    pref = spec.training.preference
    found = domain_preferences(
        spec,
        references=pref.references if references is None else references,
        feedback=pref.feedback if feedback is None else feedback,
        limit=limit,
    )
    rows = [j.to_trl() for j in found.unpaired()] if method == "kto" else [p.to_trl() for p in found.pairs]
    if method == "kto" and len({r["label"] for r in rows}) < 2:
        raise DataFormatError(
            f"KTO needs answers judged good and bad; found {len(rows)} of one kind",
            "collect thumbs up and down in the UI, or add reference answers (QA data)",
        )
    if method != "kto" and len(rows) < 2:
        raise DataFormatError(
            f"{method.upper()} needs preference pairs; found {len(rows)}",
            "add a ranking dataset (ranking: true), QA references, or corrections from feedback",
        )
    train, held_out = split(rows)
    digest = hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return PreferenceData(
        train,
        held_out,
        {
            "method": method,
            "rows": len(rows),
            "train": len(train),
            "eval": len(held_out),
            "counts": found.counts,
            "sha256": digest,
        },
    )


def _trainer_classes(method: str) -> tuple[Any, Any]:
    if method == "dpo":
        from trl import DPOConfig, DPOTrainer

        return DPOConfig, DPOTrainer
    if method == "kto":
        from trl import KTOConfig, KTOTrainer

        return KTOConfig, KTOTrainer
    from trl.experimental.orpo import ORPOConfig, ORPOTrainer  # TRL 1.x keeps ORPO under experimental

    return ORPOConfig, ORPOTrainer


def _arguments(
    method: str, cfg: RunConfig, spec: DomainSpec, checkpoints: Path, cuda: bool, max_steps: int | None
) -> Any:
    config_cls, _ = _trainer_classes(method)
    pref = spec.training.preference
    kwargs = common_arguments(cfg, checkpoints, cuda) | dict(
        learning_rate=pref.learning_rate,
        num_train_epochs=pref.epochs,
        max_steps=pref.max_steps if max_steps is None else max_steps,
        max_length=cfg.max_length,
    )
    kwargs["beta"] = pref.beta  # DPO/KTO: pull towards the reference; ORPO: weight of the odds-ratio term
    return config_cls(**kwargs)


def _models(spec: DomainSpec, cfg: RunConfig, method: str, sft_adapter: Path | None) -> tuple[Any, Any]:
    """(policy, reference or None): see the module docstring."""
    from finetune.train.modeling import load_training_model

    if sft_adapter is None:
        return load_training_model(spec.base_model, cfg), None
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from vertical.core.provisioning import resolve_model

    if not (Path(sft_adapter) / "adapter_config.json").is_file():
        raise TrainingError(f"{sft_adapter} holds no LoRA adapter", hint="train SFT first (`vertical train <domain>`)")
    path = resolve_model(spec.base_model)
    policy = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32), str(sft_adapter), is_trainable=True
    )
    if method == "orpo":
        return policy, None
    reference = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32), str(sft_adapter)
    ).merge_and_unload()
    reference.requires_grad_(False)
    return policy, reference


def _rewards(metrics: dict[str, Any]) -> dict[str, float]:
    return {
        key.removeprefix("eval_"): round(float(v), 4)
        for key, v in metrics.items()
        if key.removeprefix("eval_") in REWARD_KEYS
    }


def _progress_callback(on_progress: ProgressFn) -> Any:
    """TRL trainers log like the HF Trainer; turn the logs into the same events SFT reports."""
    from transformers import TrainerCallback

    class Reporter(TrainerCallback):
        started = 0.0

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.started = time.perf_counter()
            on_progress({"event": "begin", "step": state.global_step, "max_steps": state.max_steps})

        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kw: Any) -> None:
            if logs and "loss" in logs:
                elapsed = time.perf_counter() - self.started
                tokens = float(logs.get("num_tokens", 0.0))
                on_progress(
                    {
                        "event": "step",
                        "step": state.global_step,
                        "max_steps": state.max_steps,
                        "loss": float(logs["loss"]),
                        "tokens_per_s": tokens / elapsed if elapsed else 0.0,
                    }
                )

        def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            on_progress({"event": "checkpoint", "step": state.global_step, "max_steps": state.max_steps})

    return Reporter()


def run_preference(
    spec: DomainSpec,
    method: str,
    out_dir: Path,
    data: PreferenceData | None = None,
    sft_adapter: Path | None = None,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
    on_progress: ProgressFn | None = None,
) -> TrainResult:
    """Align the model to the domain's preferences with TRL; returns the adapter and held-out rewards."""
    if method not in METHODS:
        raise TrainingError(f"unknown preference method {method!r}", hint=f"use one of {', '.join(METHODS)}")
    overrides = dict(overrides or {})
    max_steps = overrides.pop("max_steps", None)
    cfg = resolve_config(spec, overrides)  # max_steps given for the run beats training.preference.max_steps
    check_hardware(cfg.training.method)
    data = data or preference_data(spec, method)
    out_dir = Path(out_dir)
    run_dir = run_dir_for(spec, out_dir)
    checkpoints = run_dir / "checkpoints"
    resume_from = last_complete_checkpoint(checkpoints) if resume else None
    if resume and resume_from is None and (out_dir / TRAIN_RECORD).is_file():
        record = json.loads((out_dir / TRAIN_RECORD).read_text(encoding="utf-8"))
        return TrainResult(
            out_dir, run_dir, {**record["metrics"], "already_complete": True}, record.get("resumed_from")
        )
    if not resume:
        shutil.rmtree(checkpoints, ignore_errors=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    return _train(
        spec, method, data, cfg, max_steps, out_dir, run_dir, checkpoints, resume_from, sft_adapter, on_progress
    )


def _train(
    spec: DomainSpec,
    method: str,
    data: PreferenceData,
    cfg: RunConfig,
    max_steps: int | None,
    out_dir: Path,
    run_dir: Path,
    checkpoints: Path,
    resume_from: Path | None,
    sft_adapter: Path | None,
    on_progress: ProgressFn | None,
) -> TrainResult:
    from datasets import Dataset

    from finetune.train.modeling import use_cuda
    from finetune.train.monitor import ResourceMonitor
    from vertical.core.loaders import load_tokenizer

    tokenizer = load_tokenizer(spec.base_model)
    policy, reference = _models(spec, cfg, method, sft_adapter)
    monitor = ResourceMonitor()
    callbacks: list[Any] = [monitor] + ([_progress_callback(on_progress)] if on_progress else [])
    cuda = use_cuda()
    _, trainer_cls = _trainer_classes(method)
    extra = {"ref_model": reference} if reference is not None else {}
    trainer = trainer_cls(
        model=policy,
        args=_arguments(method, cfg, spec, checkpoints, cuda, max_steps),
        train_dataset=Dataset.from_list(data.train),
        eval_dataset=Dataset.from_list(data.eval) if data.eval else None,
        processing_class=tokenizer,
        callbacks=callbacks,
        **extra,
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    before_path = run_dir / "rewards_before.json"
    if resume_from is not None and before_path.is_file():
        before = json.loads(before_path.read_text())
    else:
        before = _rewards(trainer.evaluate()) if data.eval else {}
        before_path.write_text(json.dumps(before))
    output = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    after = _rewards(trainer.evaluate()) if data.eval else {}
    runtime = monitor.seconds or output.metrics.get("train_runtime", 0.0)
    metrics: dict[str, Any] = {
        "kind": method,
        "method": cfg.training.method,
        "steps": trainer.state.global_step,
        "train_loss": round(float(output.training_loss), 4),
        "eval_rewards_before": before,
        "eval_rewards": after,
        "train_rows": len(data.train),
        "eval_rows": len(data.eval),
        "on_sft_adapter": str(sft_adapter or ""),
        "train_runtime_s": round(runtime, 2),
        "device": "cuda" if cuda else "cpu",
        **monitor.summary(),
    }
    result = TrainResult(out_dir, run_dir, metrics, str(resume_from) if resume_from else None)
    staging = staging_dir(out_dir)
    shutil.rmtree(staging, ignore_errors=True)
    trainer.save_model(str(staging))
    record = training_record(
        spec, cfg, method, data.manifest, metrics, result.resumed_from, sft_adapter=str(sft_adapter or "")
    )
    finalize_model_dir(staging, tokenizer, out_dir, record)
    plot_loss(loss_series(trainer.state.log_history), result.plot_path, f"{spec.name} {method} ({cfg.training.method})")
    write_run_log(run_dir, {**record, "adapter_dir": str(out_dir), "log_history": trainer.state.log_history})
    shutil.rmtree(checkpoints, ignore_errors=True)
    return result
