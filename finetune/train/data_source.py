"""Encoded windows from the data package (``prepare_sft`` / ``prepare_cpt``) as TrainData.

This module only adapts the data package's results; splitting, cleaning and mixing live there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from finetune.data.pipeline import CPTData, SFTData, prepare_cpt, prepare_sft
from finetune.train.packing import as_windows
from finetune.train.result import TrainData
from vertical.core.loaders import load_tokenizer
from vertical.core.spec import DomainSpec


def _manifest(manifest: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    counts = report.get("counts")
    return {**manifest, "report_counts": counts} if counts else dict(manifest)


def from_sft(prepared: SFTData) -> TrainData:
    return TrainData(
        as_windows(prepared.train), as_windows(prepared.eval), _manifest(prepared.manifest, prepared.report)
    )


def from_cpt(prepared: CPTData) -> TrainData:
    return TrainData(
        as_windows(prepared.train), as_windows(prepared.eval), _manifest(prepared.manifest, prepared.report)
    )


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
    """SFT windows at the run's max_length, encoded with the base model's tokenizer."""
    with main_process_first():
        return from_sft(prepare_sft(spec, load_tokenizer(spec.base_model), max_length=max_length, seed=seed))


def cpt_data(spec: DomainSpec, max_length: int, seed: int = 42) -> TrainData:
    """CPT blocks of max_length tokens, domain share guarded by the data package."""
    with main_process_first():
        return from_cpt(prepare_cpt(spec, load_tokenizer(spec.base_model), block_size=max_length, seed=seed))
