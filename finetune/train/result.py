"""What a training run consumes (TrainData) and returns (TrainResult)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune.data.types import Window


@dataclass
class TrainData:
    """Encoded windows for training and held-out evaluation, plus where they came from."""

    train: list[Window]
    eval: list[Window] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)  # files, hashes, stats: saved with the adapter


@dataclass
class TrainResult:
    adapter_dir: Path  # a plain peft folder (or a full model folder for method=full)
    run_dir: Path  # log.json, loss.png, checkpoints/
    metrics: dict[str, Any]  # eval_loss, eval_loss_before, tokens_per_s, peak_mem_mb, padding_ratio, ...
    resumed_from: str | None = None

    @property
    def log_path(self) -> Path:
        return self.run_dir / "log.json"

    @property
    def plot_path(self) -> Path:
        return self.run_dir / "loss.png"
