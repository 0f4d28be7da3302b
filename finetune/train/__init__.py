"""LoRA/QLoRA/full SFT and continued pretraining on the Hugging Face Trainer + peft.

Imports are lazy so ``finetune.train.cli`` (and ``vertical --help``) never pull in torch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_sft", "run_cpt", "TrainResult", "TrainData"]


def __getattr__(name: str) -> Any:
    if name == "run_sft":
        from finetune.train.sft import run_sft

        return run_sft
    if name == "run_cpt":
        from finetune.train.cpt import run_cpt

        return run_cpt
    if name in ("TrainResult", "TrainData"):
        from finetune.train import result

        return getattr(result, name)
    raise AttributeError(name)
