"""Measure what a run really did: non-padding tokens/s, padding ratio, peak memory, progress."""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transformers import Trainer, TrainerCallback


@dataclass
class TokenStats:
    real_tokens: int = 0  # tokens of actual data the model trained on
    slots: int = 0  # tokens in the batches including padding

    def add(self, real: int, slots: int) -> None:
        self.real_tokens += real
        self.slots += slots

    @property
    def padding_ratio(self) -> float:
        return 1.0 - self.real_tokens / self.slots if self.slots else 0.0


class MeasuredTrainer(Trainer):
    """The stock Trainer; it reads the collator's ``real_tokens`` count before the forward pass and,
    with ``sparse_loss``, computes the training loss only at labelled positions (sparse_loss.py)."""

    def __init__(self, *args: Any, token_stats: TokenStats, sparse_loss: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token_stats = token_stats
        self.sparse_loss = sparse_loss

    def compute_loss(
        self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
    ) -> Any:
        real = inputs.pop("real_tokens", None)
        if real is None and "attention_mask" in inputs:  # stock collators: count the unmasked tokens
            real = inputs["attention_mask"].sum()
        if model.training and real is not None:
            self.token_stats.add(int(real), int(inputs["input_ids"].numel()))
        if self._use_sparse_loss(model, inputs, return_outputs):
            from finetune.train.sparse_loss import sparse_causal_lm_loss

            return sparse_causal_lm_loss(model, inputs, num_items_in_batch)
        return super().compute_loss(model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch)

    def _use_sparse_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool) -> bool:
        from finetune.train.sparse_loss import supports_sparse_loss

        # a DDP/DeepSpeed wrapper must see the forward call itself, so wrapped models keep the stock path
        return (
            self.sparse_loss
            and not return_outputs
            and "labels" in inputs
            and self.label_smoother is None
            and model is self.accelerator.unwrap_model(model)
            and supports_sparse_loss(model)
        )


class ResourceMonitor(TrainerCallback):
    """Peak memory during training: sampled RSS on CPU, allocator peak on GPU; plus step wall time."""

    def __init__(self, interval_s: float = 0.1) -> None:
        self.interval_s = interval_s
        self.peak_rss = 0
        self.started = 0.0
        self.seconds = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        import psutil

        proc = psutil.Process()
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, proc.memory_info().rss)
            self._stop.wait(self.interval_s)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self.started = time.perf_counter()

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.seconds = time.perf_counter() - self.started
        self._stop.set()
        if self._thread:
            self._thread.join()

    def summary(self) -> dict[str, Any]:
        import torch

        out = {
            "peak_rss_mb": round(self.peak_rss / 2**20, 1),
            "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        if torch.cuda.is_available():
            out["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
            out["peak_mem_mb"] = out["peak_cuda_mb"]
        else:
            out["peak_mem_mb"] = out["peak_rss_mb"]
        return out


class ProgressReporter(TrainerCallback):
    """Turns Trainer events into ``on_progress`` dicts (step, loss, tokens/s) for CLIs and jobs."""

    def __init__(self, stats: TokenStats, on_progress: Callable[[dict[str, Any]], None]) -> None:
        self.stats = stats
        self.on_progress = on_progress
        self.started = 0.0
        self.first_tokens = 0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.started = time.perf_counter()
        self.first_tokens = self.stats.real_tokens
        self.on_progress({"event": "begin", "step": state.global_step, "max_steps": state.max_steps})

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
        if not logs or "loss" not in logs:  # eval logs carry eval_loss only
            return
        elapsed = time.perf_counter() - self.started
        tokens = self.stats.real_tokens - self.first_tokens
        self.on_progress(
            {
                "event": "step",
                "step": state.global_step,
                "max_steps": state.max_steps,
                "loss": float(logs["loss"]),
                "tokens_per_s": tokens / elapsed if elapsed > 0 else 0.0,
            }
        )

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.on_progress({"event": "checkpoint", "step": state.global_step, "max_steps": state.max_steps})
