"""What a run leaves behind: the adapter folder (+ vertical_train.json), log.json and loss.png."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from vertical.core.fsutil import atomic_write_bytes, atomic_write_json

TRAIN_RECORD = "vertical_train.json"


def staging_dir(out_dir: Path) -> Path:
    return Path(out_dir).with_name(f".{Path(out_dir).name}.saving")


def finalize_model_dir(staging: Path, tokenizer: Any, out_dir: Path, record: dict[str, Any]) -> Path:
    """Complete the staged save (tokenizer + record), then swap it in: a crash never leaves half a folder."""
    out_dir = Path(out_dir)
    tokenizer.save_pretrained(staging)  # serving engines (vLLM --lora-modules, merge) find it beside the adapter
    (staging / "training_args.bin").unlink(missing_ok=True)  # Trainer internals, not part of the artifact
    atomic_write_json(staging / TRAIN_RECORD, record)
    old = out_dir.with_name(f".{out_dir.name}.old")
    if out_dir.exists():
        if old.exists():
            shutil.rmtree(old)
        out_dir.rename(old)
    staging.rename(out_dir)
    if old.exists():
        shutil.rmtree(old)
    return out_dir


def loss_series(log_history: list[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    train = [(int(e["step"]), float(e["loss"])) for e in log_history if "loss" in e and "step" in e]
    evals = [(int(e["step"]), float(e["eval_loss"])) for e in log_history if "eval_loss" in e and "step" in e]
    return {"train": train, "eval": evals}


def plot_loss(series: dict[str, list[tuple[int, float]]], path: Path, title: str) -> Path:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    if series["train"]:
        ax.plot(*zip(*series["train"]), label="train loss")
    if series["eval"]:
        ax.plot(*zip(*series["eval"]), "o--", label="eval loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def write_run_log(run_dir: Path, log: dict[str, Any]) -> Path:
    return atomic_write_json(Path(run_dir) / "log.json", log)
