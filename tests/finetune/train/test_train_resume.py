"""Kill a training run after its first checkpoint, resume it, and get the same adapter."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from train_helpers import counseling_data

HERE = Path(__file__).resolve().parent
OVERRIDES = {
    "max_steps": 10,
    "save_steps": 4,
    "batch_size": 2,
    "max_length": 128,
    "learning_rate": 1e-3,
    "eval_before": False,
    "save_total_limit": 5,
}

TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {here!r})
    from train_helpers import counseling_data
    from finetune.train import run_sft
    from vertical.core.loaders import load_tokenizer
    from vertical.core.spec import load_domain
    spec = load_domain({domain!r})
    data = counseling_data(spec, load_tokenizer(spec.base_model), 128, 12, 0)
    run_sft(spec, {out!r}, resume={resume}, overrides={overrides!r}, data=data)
    """
)


def _lora_weights(adapter_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(adapter_dir / "adapter_model.safetensors"))


def _start(domain: Path, out: Path, resume: bool, log: Path) -> subprocess.Popen:
    code = TRAIN_SCRIPT.format(here=str(HERE), domain=str(domain), out=str(out), resume=resume, overrides=OVERRIDES)
    with log.open("wb") as stderr:  # a file, not a pipe: a full pipe would stall the child
        return subprocess.Popen(
            [sys.executable, "-c", code], env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=stderr
        )


@pytest.mark.slow
def test_sigkilled_run_resumes_to_the_same_adapter(counseling_dir: Path, generator_name: str, tmp_path: Path) -> None:
    from finetune.train import run_sft
    from finetune.train.checkpoints import last_complete_checkpoint
    from finetune.train.trainer import run_dir_for
    from vertical.core.loaders import load_tokenizer
    from vertical.core.spec import load_domain

    spec = load_domain(counseling_dir)
    interrupted = tmp_path / "adapters" / "interrupted"
    checkpoints = run_dir_for(spec, interrupted) / "checkpoints"

    log = tmp_path / "child-stderr.log"
    proc = _start(counseling_dir, interrupted, resume=False, log=log)
    try:
        deadline = time.time() + 600  # generous: CI machines may be shared
        while last_complete_checkpoint(checkpoints) is None:
            assert proc.poll() is None, f"training exited early: {log.read_text()[-2000:]}"
            assert time.time() < deadline, "no checkpoint within 600 s"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not interrupted.exists(), "a killed run must not leave a final adapter"
    # Leave a half-written checkpoint behind, as a kill during a save would: it must be skipped.
    (checkpoints / "checkpoint-9").mkdir(exist_ok=True)
    (checkpoints / "checkpoint-9" / "adapter_model.safetensors").write_bytes(b"partial")

    data = counseling_data(spec, load_tokenizer(spec.base_model), 128, 12, 0)
    resumed = run_sft(spec, interrupted, resume=True, overrides=OVERRIDES, data=data)
    assert resumed.resumed_from is not None and "checkpoint-9" not in resumed.resumed_from
    assert resumed.metrics["steps"] == 10
    again = run_sft(spec, interrupted, resume=True, overrides=OVERRIDES, data=data)
    assert again.metrics.get("already_complete") and again.metrics["steps"] == 10  # resuming a done run is a no-op

    reference = run_sft(spec, tmp_path / "adapters" / "reference", overrides=OVERRIDES, data=data)
    got, want = _lora_weights(resumed.adapter_dir), _lora_weights(reference.adapter_dir)
    assert got.keys() == want.keys() and got
    max_diff = max(float((got[k] - want[k]).abs().max()) for k in got)
    assert max_diff < 1e-4, f"resumed adapter differs from an uninterrupted run by {max_diff}"
    # and training moved the adapter at all (lora_B starts at zero)
    assert max(float(v.abs().max()) for k, v in got.items() if "lora_B" in k) > 0
