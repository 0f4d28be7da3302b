"""One training run on the Hugging Face Trainer, shared by SFT and continued pretraining.

The Trainer owns the loop, checkpointing, RNG/dataloader restore on resume and distribution
(through accelerate / DeepSpeed when launched with ``accelerate launch``); this module only wires
data, model and arguments together and writes the run's artifacts.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
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
from finetune.train.packing import PackedCollator, pack_windows, unpacked_rows
from finetune.train.result import TrainData, TrainResult
from vertical.core.errors import TrainingError
from vertical.core.fsutil import atomic_write_json
from vertical.core.settings import get_settings
from vertical.core.spec import DomainSpec

ProgressFn = Callable[[dict[str, Any]], None]


def run_dir_for(spec: DomainSpec, out_dir: Path) -> Path:
    return get_settings().domain_dir(spec.name) / "runs" / Path(out_dir).name


def build_rows(data: TrainData, cfg: RunConfig) -> tuple[list[dict], list[dict]]:
    if not data.train:
        raise TrainingError(
            "no training windows: every example was empty or had no assistant turn",
            hint="check the domain's data files with `vertical data inspect`",
        )
    if cfg.training.packing:
        train = pack_windows(data.train, cfg.max_length)
    else:
        pack_windows(data.train, cfg.max_length)  # same length check
        train = unpacked_rows(data.train)
    return train, unpacked_rows(data.eval)  # eval stays one window per row: loss per conversation as usual


def common_arguments(cfg: RunConfig, checkpoints: Path, cuda: bool) -> dict[str, Any]:
    """The arguments every run shares (SFT/CPT here, DPO/KTO/ORPO in ``preference``): one place for them."""
    t = cfg.training
    return dict(
        output_dir=str(checkpoints),
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        learning_rate=t.learning_rate,
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=cfg.save_total_limit,
        logging_steps=1,
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=t.seed,
        data_seed=t.seed,
        bf16=cuda,
        use_cpu=not cuda,
        dataloader_num_workers=0,
    )


def training_record(
    spec: DomainSpec,
    cfg: RunConfig,
    kind: str,
    data_manifest: dict,
    metrics: dict,
    resumed_from: str | None,
    **extra: Any,
) -> dict[str, Any]:
    """What every adapter folder records about its run (SFT/CPT here, DPO/KTO/ORPO in ``preference``)."""
    return {
        "domain": spec.name,
        "kind": kind,
        "base_model": spec.base_model,
        "method": cfg.training.method,
        "training": cfg.training.model_dump(mode="json"),
        "max_length": cfg.max_length,
        "data": data_manifest,
        "metrics": metrics,
        "resumed_from": resumed_from,
        **extra,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def training_arguments(cfg: RunConfig, checkpoints: Path, cuda: bool) -> Any:
    from transformers import TrainingArguments

    fields = TrainingArguments.__dataclass_fields__
    # batches of rows (packed or not) of similar length: little padding to the batch's longest row
    if "train_sampling_strategy" in fields:
        extra: dict[str, Any] = {"train_sampling_strategy": "group_by_length"}
    else:  # transformers 4.x
        extra = {"group_by_length": True}
    # v5 renamed gradient_checkpointing (a warning each run)
    checkpointing = "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
    extra[checkpointing] = cfg.training.gradient_checkpointing
    return TrainingArguments(
        **common_arguments(cfg, checkpoints, cuda),
        **extra,
        remove_unused_columns=False,
        deepspeed=cfg.deepspeed,
        ddp_find_unused_parameters=False,
    )


def _eval_before(trainer: Any, run_dir: Path, resume_from: Path | None, enabled: bool) -> float | None:
    """Base-model eval loss, measured once per run and kept across resumes."""
    path = run_dir / "eval_before.json"
    if resume_from is not None and path.is_file():
        return json.loads(path.read_text())["eval_loss"]
    if not enabled or trainer.eval_dataset is None or resume_from is not None:
        return None
    loss = float(trainer.evaluate()["eval_loss"])
    if trainer.is_world_process_zero():
        atomic_write_json(path, {"eval_loss": loss})
    return loss


def _finished(out_dir: Path, run_dir: Path) -> TrainResult:
    record = json.loads((out_dir / TRAIN_RECORD).read_text(encoding="utf-8"))
    return TrainResult(
        adapter_dir=out_dir,
        run_dir=run_dir,
        metrics={**record["metrics"], "already_complete": True},
        resumed_from=record.get("resumed_from"),
    )


def _write_outputs(
    spec: DomainSpec,
    data: TrainData,
    cfg: RunConfig,
    kind: str,
    trainer: Any,
    tokenizer: Any,
    staging: Path,
    result: TrainResult,
    started: float,
    eval_before: float | None,
    eval_after: float | None,
) -> None:
    """Adapter folder with its training record, then loss.png and log.json under the run folder."""
    out_dir, metrics = result.adapter_dir, result.metrics
    record = training_record(spec, cfg, kind, data.manifest, metrics, result.resumed_from)
    finalize_model_dir(staging, tokenizer, out_dir, record)
    series = loss_series(trainer.state.log_history)
    if eval_before is not None:
        series["eval"].insert(0, (0, eval_before))
    if eval_after is not None:
        series["eval"].append((trainer.state.global_step, eval_after))
    plot_loss(series, result.plot_path, f"{spec.name} {kind} ({cfg.training.method})")
    write_run_log(
        result.run_dir,
        {
            **record,
            "adapter_dir": str(out_dir),
            "started_at": started,
            "loss_curve": series,
            "log_history": trainer.state.log_history,
        },
    )


def run_training(
    spec: DomainSpec,
    data: TrainData,
    out_dir: Path,
    cfg: RunConfig,
    kind: str,
    resume: bool = False,
    on_progress: ProgressFn | None = None,
) -> TrainResult:
    from transformers.trainer_callback import PrinterCallback

    from finetune.train.modeling import load_training_model, use_cuda
    from finetune.train.monitor import MeasuredTrainer, ProgressReporter, ResourceMonitor, TokenStats
    from vertical.core.loaders import load_tokenizer

    out_dir = Path(out_dir)
    run_dir = run_dir_for(spec, out_dir)
    checkpoints = run_dir / "checkpoints"
    resume_from = last_complete_checkpoint(checkpoints) if resume else None
    if resume and resume_from is None and (out_dir / TRAIN_RECORD).is_file():
        return _finished(out_dir, run_dir)  # nothing left to resume: the run already completed
    if not resume:  # a fresh run must not mix with an older run's checkpoints or baseline
        shutil.rmtree(checkpoints, ignore_errors=True)
        (run_dir / "eval_before.json").unlink(missing_ok=True)
    run_dir.mkdir(parents=True, exist_ok=True)

    tokenizer = load_tokenizer(spec.base_model)
    train_rows, eval_rows = build_rows(data, cfg)
    model = load_training_model(spec.base_model, cfg)
    stats = TokenStats()
    monitor = ResourceMonitor()
    callbacks: list[Any] = [monitor]
    if on_progress:
        callbacks.append(ProgressReporter(stats, on_progress))
    cuda = use_cuda()
    trainer = MeasuredTrainer(
        model=model,
        args=training_arguments(cfg, checkpoints, cuda),
        train_dataset=train_rows,
        eval_dataset=eval_rows or None,
        data_collator=PackedCollator(tokenizer.pad_token_id),
        callbacks=callbacks,
        token_stats=stats,
        sparse_loss=cfg.training.sparse_loss,
    )
    trainer.remove_callback(PrinterCallback)  # we report through on_progress / the run log instead
    eval_before = _eval_before(trainer, run_dir, resume_from, cfg.eval_before)
    started = time.time()
    try:
        output = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    except MemoryError as exc:  # torch.OutOfMemoryError (CUDA) and host OOM both derive from it
        raise TrainingError(
            f"out of memory while training ({cfg.training.batch_size} × {cfg.max_length} tokens per step)",
            hint="lower training.batch_size (raise gradient_accumulation_steps to keep the effective batch), "
            "set training.gradient_checkpointing: true, or use --method qlora on a GPU; then rerun with --resume",
        ) from exc
    eval_after = float(trainer.evaluate()["eval_loss"]) if eval_rows else None

    runtime = monitor.seconds or output.metrics.get("train_runtime", 0.0)
    metrics: dict[str, Any] = {
        "kind": kind,
        "method": cfg.training.method,
        "steps": trainer.state.global_step,
        "train_loss": round(float(output.training_loss), 4),
        "eval_loss": eval_after,
        "eval_loss_before": eval_before,
        "tokens_per_s": round(stats.real_tokens / runtime, 1) if runtime else 0.0,
        "real_tokens": stats.real_tokens,
        "padding_ratio": round(stats.padding_ratio, 4),
        "train_runtime_s": round(runtime, 2),
        "train_rows": len(train_rows),
        "train_windows": len(data.train),
        "eval_windows": len(data.eval),
        "packing": cfg.training.packing,
        "device": "cuda" if cuda else "cpu",
        "processes": trainer.args.world_size,
        **monitor.summary(),
    }
    result = TrainResult(
        adapter_dir=out_dir, run_dir=run_dir, metrics=metrics, resumed_from=str(resume_from) if resume_from else None
    )
    staging = staging_dir(out_dir)
    if trainer.is_world_process_zero() and staging.exists():
        shutil.rmtree(staging)
    trainer.save_model(str(staging))  # on every rank: ZeRO-3 gathers the sharded weights here
    if not trainer.is_world_process_zero():
        return result
    _write_outputs(spec, data, cfg, kind, trainer, tokenizer, staging, result, started, eval_before, eval_after)
    shutil.rmtree(checkpoints, ignore_errors=True)  # the final adapter is saved; optimizer states are dead weight
    return result


def train_spec(
    spec: DomainSpec,
    out_dir: Path,
    kind: str,
    load_data: Callable[[DomainSpec, int, int], TrainData],
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
    data: TrainData | None = None,
    on_progress: ProgressFn | None = None,
) -> TrainResult:
    """Shared body of run_sft / run_cpt: resolve the config, check hardware before loading anything,
    prepare the data unless given (``load_data(spec, max_length, seed)``), then train."""
    cfg = resolve_config(spec, overrides)
    check_hardware(cfg.training.method)
    if data is None:
        data = load_data(spec, cfg.max_length, cfg.training.seed)
    return run_training(spec, data, Path(out_dir), cfg, kind=kind, resume=resume, on_progress=on_progress)
