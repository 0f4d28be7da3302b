"""Build the ``accelerate launch`` command for multi-GPU training (DDP or DeepSpeed ZeRO-2/3).

We never hand-roll distribution: accelerate starts one process per GPU, each runs
``python -m finetune.train.worker`` and the HF Trainer (with the DeepSpeed JSON when asked) does the rest.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from vertical.core.errors import HardwareError, TrainingError

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
DEEPSPEED_STAGES = ("zero2", "zero3")


def accelerate_config(deepspeed: str | None) -> Path:
    name = f"deepspeed_{deepspeed}.yaml" if deepspeed else "multi_gpu.yaml"
    return CONFIGS / "accelerate" / name


def deepspeed_config(stage: str) -> Path:
    if stage not in DEEPSPEED_STAGES:
        raise TrainingError(f"unknown DeepSpeed stage {stage!r}", hint=f"use one of {', '.join(DEEPSPEED_STAGES)}")
    return CONFIGS / "deepspeed" / f"{stage}.json"


def accelerate_executable() -> str:
    """The ``accelerate`` script of this environment (so the launched workers use the same venv)."""
    beside = Path(sys.executable).parent / "accelerate"
    return str(beside) if beside.is_file() else "accelerate"


def build_launch_command(
    domain: Path,
    gpus: int,
    deepspeed: str | None = None,
    method: str | None = None,
    cpt: bool = False,
    resume: bool = False,
    max_steps: int | None = None,
    name: str | None = None,
) -> list[str]:
    """argv for ``accelerate launch … -m finetune.train.worker <domain> …`` (one process per GPU)."""
    if gpus < 1:
        raise TrainingError(f"--gpus must be at least 1, got {gpus}", hint="pass the number of GPUs to use")
    if method == "qlora" and deepspeed == "zero3":
        raise TrainingError(
            "QLoRA does not combine with DeepSpeed ZeRO-3 here",
            hint="use --deepspeed zero2 or plain --gpus N (DDP) for QLoRA",
        )
    cmd = [
        accelerate_executable(),
        "launch",
        "--config_file",
        str(accelerate_config(deepspeed)),
        "--num_processes",
        str(gpus),
    ]
    worker_args = [str(Path(domain).resolve())]
    if deepspeed:
        ds_json = str(deepspeed_config(deepspeed))
        cmd += ["--use_deepspeed", "--deepspeed_config_file", ds_json]
        worker_args += ["--deepspeed", ds_json]
    elif gpus > 1:
        cmd += ["--multi_gpu"]
    cmd += ["-m", "finetune.train.worker"]
    if method:
        worker_args += ["--method", method]
    if cpt:
        worker_args.append("--cpt")
    if resume:
        worker_args.append("--resume")
    if max_steps is not None:
        worker_args += ["--max-steps", str(max_steps)]
    if name:
        worker_args += ["--name", name]
    return cmd + worker_args


def check_gpus(gpus: int) -> None:
    import torch

    found = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if found < gpus:
        raise HardwareError(
            f"--gpus {gpus} asked for {gpus} CUDA GPUs but this machine has {found}",
            hint="use --dry-run to print the command for a GPU machine, or train on CPU without --gpus",
        )


def format_command(cmd: list[str]) -> str:
    return shlex.join(cmd)
