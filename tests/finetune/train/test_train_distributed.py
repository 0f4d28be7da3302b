"""The multi-process path for real, on CPU: the exact `accelerate launch` command `vertical train
--gpus 2` builds, run with 2 processes (DDP over gloo where a GPU machine would use NCCL). Rank 0
prepares the data first, both ranks train, only rank 0 writes the adapter and the run log."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from finetune.train.launch import build_launch_command

pytestmark = pytest.mark.slow
COUNSELING = Path(__file__).resolve().parents[3] / "examples" / "counseling"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _small_domain(root: Path) -> Path:
    """The counseling domain with 24 conversations, no general replay, short windows and few steps."""
    import yaml

    root.mkdir(parents=True)
    (root / "data").mkdir()
    lines = (COUNSELING / "data" / "conversations.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (root / "data" / "conversations.jsonl").write_text("".join(lines[:24]), encoding="utf-8")
    spec = yaml.safe_load((COUNSELING / "domain.yaml").read_text(encoding="utf-8"))
    spec["data"]["datasets"] = [d for d in spec["data"]["datasets"] if d["name"] == "conversations"]
    spec["data"].update({"general": "none", "max_length": 128})
    spec["training"].update({"batch_size": 2, "save_steps": 100})
    (root / "domain.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return root


def test_two_process_launch_trains_one_adapter(tmp_path: Path) -> None:
    from vertical.core.settings import get_settings

    domain = _small_domain(tmp_path / "ddp-domain")
    cmd = build_launch_command(domain, 2, max_steps=2)
    # CPU stand-in for the GPU box: the same launcher, config and worker; no bf16 on CPU
    cmd[cmd.index("--num_processes") : cmd.index("--num_processes")] = [
        "--main_process_port",
        str(_free_port()),
        "--mixed_precision",
        "no",
    ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "",
        "VERTICAL_WORKSPACE": str(get_settings().workspace),
    }
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]

    adapter = get_settings().workspace / "counseling" / "adapters" / "sft-lora"
    assert (adapter / "adapter_model.safetensors").is_file() and (adapter / "adapter_config.json").is_file()
    logs = list(get_settings().workspace.rglob("log.json"))
    assert len(logs) == 1
    metrics = json.loads(logs[0].read_text())["metrics"]
    assert metrics["steps"] == 2 and metrics["processes"] == 2
    assert not list(adapter.parent.glob(".*.saving"))  # the staged save was swapped in, nothing half-written
