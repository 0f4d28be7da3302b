"""Training throughput: our trainer (sequence packing) vs a naive HF Trainer that pads to max_length.

Arms: naive (stock Trainer, pad to max_length), grouped (ours, length-grouped batches, no packing),
packed (ours, default). Same model, same LoRA config, same batch size and steps, on the counseling conversations with
their real length mix. Each arm runs in its own subprocess so its peak RSS is its own.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train.py [--steps 10] [--batch-size 2] [--max-length 512]
        [--data prepare_sft|conversations] [--arms naive,grouped,packed]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOMAIN = REPO / "examples" / "counseling"


def load_windows(max_length: int, source: str):
    """``prepare_sft``'s windows (domain data mixed 1:1 with general self-replay, split to max_length),
    or the domain's conversations file alone (``conversations``) encoded with the chat template."""
    from finetune.train.packing import as_windows
    from vertical.core.loaders import load_tokenizer
    from vertical.core.spec import load_domain

    spec = load_domain(DOMAIN)
    tokenizer = load_tokenizer(spec.base_model)
    if source == "prepare_sft":
        from finetune.train.data_source import sft_data

        return spec, sft_data(spec, max_length).train, "prepare_sft"
    from finetune.data.formats import read_dataset
    from finetune.data.templates import encode_conversation

    dataset = next(d for d in spec.data.datasets if d.format == "sharegpt")
    if os.environ.get("BENCH_CONVERSATIONS"):  # a sharegpt file to use instead of the domain's
        dataset = dataset.model_copy(update={"file": Path(os.environ["BENCH_CONVERSATIONS"])})
    conversations, _ = read_dataset(spec, dataset)
    encoded = [encode_conversation(tokenizer, c) for c in conversations]
    return spec, as_windows([e for e in encoded if len(e) <= max_length]), str(dataset.file)


def run_arm(arm: str, steps: int, batch_size: int, max_length: int, source: str) -> dict:
    from finetune.train.result import TrainData

    spec, windows, source = load_windows(max_length, source)
    overrides = {
        "max_steps": steps,
        "batch_size": batch_size,
        "max_length": max_length,
        "save_steps": 10_000,
        "eval_before": False,
        "method": "lora",
    }
    lengths = [len(w) for w in windows]
    info = {
        "arm": arm,
        "windows": len(windows),
        "data": source,
        "mean_window_tokens": round(sum(lengths) / len(lengths), 1),
        "max_window_tokens": max(lengths),
    }
    if arm in ("packed", "grouped"):  # ours, with packing (default) or with length grouping only
        from finetune.train import run_sft

        out = Path(tempfile.mkdtemp()) / "adapters" / "bench"
        overrides["packing"] = arm == "packed"
        metrics = run_sft(spec, out, overrides=overrides, data=TrainData(train=windows)).metrics
        return {
            **info,
            **{
                k: metrics[k]
                for k in (
                    "tokens_per_s",
                    "real_tokens",
                    "padding_ratio",
                    "peak_mem_mb",
                    "train_runtime_s",
                    "steps",
                    "train_rows",
                )
            },
        }
    return {**info, **run_naive(spec, windows, overrides)}


def run_naive(spec, windows, overrides: dict) -> dict:
    """The baseline most scripts start from: stock HF Trainer, every batch padded to max_length."""
    from transformers import DataCollatorForSeq2Seq

    from finetune.train.config import resolve_config
    from finetune.train.modeling import load_training_model, use_cuda
    from finetune.train.monitor import MeasuredTrainer, ResourceMonitor, TokenStats
    from finetune.train.trainer import training_arguments
    from vertical.core.loaders import load_tokenizer

    cfg = resolve_config(spec, overrides)
    tokenizer = load_tokenizer(spec.base_model)
    rows = [{"input_ids": w.input_ids, "labels": w.labels} for w in windows]
    stats, monitor = TokenStats(), ResourceMonitor()
    with tempfile.TemporaryDirectory() as tmp:
        args = training_arguments(cfg, Path(tmp), use_cuda())
        args.train_sampling_strategy = "random"  # the stock default: no length grouping
        trainer = MeasuredTrainer(
            model=load_training_model(spec.base_model, cfg),
            args=args,
            train_dataset=rows,
            data_collator=DataCollatorForSeq2Seq(tokenizer, padding="max_length", max_length=cfg.max_length),
            callbacks=[monitor],
            token_stats=stats,
        )
        trainer.train()
    return {
        "tokens_per_s": round(stats.real_tokens / monitor.seconds, 1),
        "real_tokens": stats.real_tokens,
        "padding_ratio": round(stats.padding_ratio, 4),
        "peak_mem_mb": monitor.summary()["peak_mem_mb"],
        "train_runtime_s": round(monitor.seconds, 2),
        "steps": trainer.state.global_step,
        "train_rows": len(rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--arm", choices=["packed", "grouped", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--arms", default="naive,grouped,packed", help="comma-separated arms to run")
    parser.add_argument(
        "--data",
        choices=["prepare_sft", "conversations"],
        default="prepare_sft",
        help="prepare_sft's mixed windows (first run generates self-replay data) or conversations only",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.arm:  # child process: one arm, JSON on the last stdout line
        print(json.dumps(run_arm(args.arm, args.steps, args.batch_size, args.max_length, args.data)))
        return

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VERTICAL_WORKSPACE": tempfile.mkdtemp()}
    results = {}
    for arm in args.arms.split(","):
        started = time.time()
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--arm",
                arm,
                "--steps",
                str(args.steps),
                "--batch-size",
                str(args.batch_size),
                "--max-length",
                str(args.max_length),
                "--data",
                args.data,
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
        )
        if proc.returncode != 0:
            sys.exit(f"{arm} arm failed:\n{proc.stderr[-3000:]}")
        results[arm] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{arm}: {results[arm]} ({time.time() - started:.0f} s wall)", flush=True)

    import torch

    base = results.get("naive", {}).get("tokens_per_s")
    speedup = {arm: round(r["tokens_per_s"] / base, 2) for arm, r in results.items()} if base else {}
    summary = {
        "data": args.data,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "device": "cuda" if torch.cuda.is_available() else f"cpu ({os.cpu_count()} cores)",
        "torch_threads": torch.get_num_threads(),
        "speedup_vs_naive": speedup,
        "arms": results,
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
