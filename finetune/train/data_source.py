"""Get encoded windows from the data package (``prepare_sft`` / ``prepare_cpt``) as TrainData.

This module only adapts the data package's results; splitting, cleaning and mixing live there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from finetune.train.packing import as_windows
from finetune.train.result import TrainData
from vertical.core.errors import TrainingError
from vertical.core.spec import DomainSpec


def _pipeline() -> Any:
    import importlib

    try:
        return importlib.import_module("finetune.data.pipeline")
    except ModuleNotFoundError as exc:
        if exc.name not in ("finetune.data.pipeline", "finetune.data", "finetune"):
            raise  # the pipeline exists but one of its own imports is missing: show that error
        raise TrainingError(
            "the training data pipeline (finetune.data.pipeline) is not installed",
            hint="pass prepared data to run_sft(data=TrainData(...)) or install the finetune data package",
        ) from exc


def _first(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value is not None:
            return value
    return default


def _manifest(prepared: Any) -> dict[str, Any]:
    manifest = _first(prepared, "manifest", default={})
    report = _first(prepared, "report", default={})
    to_dict = getattr(report, "to_dict", None)
    report = to_dict() if callable(to_dict) else dict(report)
    counts = report.get("counts") if isinstance(report, dict) else None
    return {**dict(manifest), "report_counts": counts} if counts else dict(manifest)


def to_train_data(prepared: Any) -> TrainData:
    """Adapt the data package's SFTData / CPTData (train + eval windows and a report)."""
    train = _first(prepared, "train", "train_windows", "blocks", default=[])
    held_out = _first(prepared, "eval", "eval_windows", "eval_blocks", default=[])
    return TrainData(train=as_windows(train), eval=as_windows(held_out), manifest=_manifest(prepared))


def _call(fn: Any, spec: DomainSpec, max_length: int, seed: int) -> Any:
    """prepare_sft/prepare_cpt on the run's max_length (via a spec copy) with the base model's tokenizer."""
    import inspect

    from vertical.core.loaders import load_tokenizer

    if max_length != spec.data.max_length:
        spec = spec.model_copy(update={"data": spec.data.model_copy(update={"max_length": max_length})})
    kwargs = {"seed": seed} if "seed" in inspect.signature(fn).parameters else {}
    return fn(spec, load_tokenizer(spec.base_model), **kwargs)


@contextmanager
def main_process_first() -> Iterator[None]:
    """Under a multi-process launch, rank 0 prepares the data (and its caches, e.g. the self-replay
    answers) while the other ranks wait, then they read its results instead of redoing the work."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        yield
        return
    from accelerate import PartialState

    with PartialState().main_process_first():
        yield


def sft_data(spec: DomainSpec, max_length: int, seed: int = 42) -> TrainData:
    with main_process_first():
        return to_train_data(_call(_pipeline().prepare_sft, spec, max_length, seed))


def cpt_data(spec: DomainSpec, max_length: int, seed: int = 42) -> TrainData:
    with main_process_first():
        return to_train_data(_call(_pipeline().prepare_cpt, spec, max_length, seed))
