"""`vertical train --gpus N [--deepspeed zero2|zero3]` builds a valid `accelerate launch` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from finetune.train.launch import CONFIGS, build_launch_command
from vertical.core.errors import TrainingError


def _parse(cmd: list[str]):
    """Parse with accelerate's own launcher parser, so a wrong flag fails here, not on a GPU box."""
    from accelerate.commands.launch import launch_command_parser

    assert Path(cmd[0]).name == "accelerate" and cmd[1] == "launch"
    return launch_command_parser().parse_args(cmd[2:])


def test_ddp_command(counseling_dir: Path) -> None:
    cmd = build_launch_command(counseling_dir, 4, method="lora", max_steps=50, resume=True)
    args = _parse(cmd)
    assert args.num_processes == 4 and args.multi_gpu and not args.use_deepspeed
    assert Path(args.config_file) == CONFIGS / "accelerate" / "multi_gpu.yaml"
    assert args.module and args.training_script == "finetune.train.worker"
    assert args.training_script_args == [
        str(counseling_dir.resolve()),
        "--method",
        "lora",
        "--resume",
        "--max-steps",
        "50",
    ]


@pytest.mark.parametrize("stage", ["zero2", "zero3"])
def test_deepspeed_command_points_trainer_and_accelerate_at_the_same_json(counseling_dir: Path, stage: str) -> None:
    cmd = build_launch_command(counseling_dir, 8, deepspeed=stage, cpt=True)
    args = _parse(cmd)
    ds_json = CONFIGS / "deepspeed" / f"{stage}.json"
    assert args.use_deepspeed and Path(args.deepspeed_config_file) == ds_json
    assert Path(args.config_file) == CONFIGS / "accelerate" / f"deepspeed_{stage}.yaml"
    assert args.training_script_args[args.training_script_args.index("--deepspeed") + 1] == str(ds_json)
    assert "--cpt" in args.training_script_args
    config = json.loads(ds_json.read_text())
    assert config["zero_optimization"]["stage"] == int(stage[-1])
    # the worker's own parser accepts exactly what the launcher passes it
    from finetune.train.worker import build_parser

    worker_args = build_parser().parse_args(args.training_script_args)
    assert worker_args.cpt and worker_args.deepspeed == str(ds_json)


def test_accelerate_configs_are_valid() -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    for name in ("multi_gpu", "deepspeed_zero2", "deepspeed_zero3"):
        path = CONFIGS / "accelerate" / f"{name}.yaml"
        config = load_config_from_file(str(path))
        assert config.num_machines == 1
        if name.startswith("deepspeed"):
            ds_file = yaml.safe_load(path.read_text())["deepspeed_config"]["deepspeed_config_file"]
            assert (CONFIGS.parents[1] / ds_file).is_file()


def test_bad_requests(counseling_dir: Path) -> None:
    with pytest.raises(TrainingError, match="unknown DeepSpeed stage"):
        build_launch_command(counseling_dir, 2, deepspeed="zero4")
    with pytest.raises(TrainingError, match="at least 1"):
        build_launch_command(counseling_dir, 0)


def test_cli_dry_run_prints_only_and_gpus_without_cuda_is_a_clear_error(counseling_dir: Path) -> None:
    import torch

    vertical = [sys.executable, "-m", "vertical.cli", "train", str(counseling_dir)]
    dry = subprocess.run(
        [*vertical, "--gpus", "2", "--deepspeed", "zero2", "--dry-run"], capture_output=True, text=True, timeout=120
    )
    assert dry.returncode == 0, dry.stderr
    assert "accelerate launch" in dry.stdout and "--num_processes 2" in dry.stdout and "zero2.json" in dry.stdout
    if not torch.cuda.is_available():
        real = subprocess.run([*vertical, "--gpus", "2"], capture_output=True, text=True, timeout=120)
        assert real.returncode == 2 and "asked for 2 CUDA GPUs" in real.stderr
