"""Bad requests fail before anything heavy is loaded, with an error that says what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vertical.core.errors import HardwareError, TrainingError


def _spec(counseling_dir: Path, **changes):
    from vertical.core.spec import load_domain

    spec = load_domain(counseling_dir)
    return spec.model_copy(update=changes) if changes else spec


def test_qlora_on_cpu_raises_hardware_error_before_loading(counseling_dir: Path, tmp_path: Path) -> None:
    import torch

    from finetune.train import run_sft

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; QLoRA is allowed here")
    # A base model that does not exist proves the check runs before any model or data loading.
    spec = _spec(counseling_dir, base_model=str(tmp_path / "no-such-model"))
    with pytest.raises(HardwareError, match="QLoRA needs a CUDA GPU") as exc:
        run_sft(spec, tmp_path / "adapter", overrides={"method": "qlora"})
    assert "--method lora" in exc.value.hint
    assert not (tmp_path / "adapter").exists()


def test_qlora_from_the_cli_is_one_line_and_exit_code_2(counseling_dir: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = subprocess.run(
        [sys.executable, "-m", "vertical.cli", "train", str(counseling_dir), "--method", "qlora"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "QLoRA needs a CUDA GPU" in out.stderr and "Traceback" not in out.stderr


def test_unknown_or_invalid_overrides_are_rejected(counseling_dir: Path) -> None:
    from finetune.train.config import resolve_config

    spec = _spec(counseling_dir)
    with pytest.raises(TrainingError, match="unknown training override"):
        resolve_config(spec, {"learning_rat": 1e-3})
    with pytest.raises(TrainingError, match="invalid training override"):
        resolve_config(spec, {"batch_size": 0})
    cfg = resolve_config(spec, {"max_steps": 3, "max_length": 64, "method": None})
    assert (cfg.training.max_steps, cfg.max_length, cfg.training.method) == (3, 64, spec.training.method)
    assert cfg.training.lora_r == spec.training.lora_r  # untouched fields keep domain.yaml's values
