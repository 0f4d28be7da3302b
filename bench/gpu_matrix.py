"""GPU matrix: one row per GPU-only path, each in its own process with a time limit, a table at the end.

    bf16 LoRA SFT · QLoRA 4-bit SFT · DPO · DeepSpeed ZeRO-2 launch · vLLM (GPU wheel) serving the adapter via our API

Every row runs our own code (run_sft, run_preference, the `vertical train --gpus 1 --deepspeed zero2`
command, `vertical serve --engine vllm`) on the SmolLM2-135M architecture (bench/assets: config and
tokenizer; random weights unless --model names a real folder). A row whose library is missing prints
"not run: <why>" instead of a number. Run through bench/gpu_matrix.sh; total budget ≈ 8 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "bench" / "assets" / "smollm2-135m"
WORK = Path(os.environ.get("VERTICAL_WORKSPACE", "/tmp/vertical-gpu"))
ROWS = ("sft-bf16-lora", "sft-qlora-4bit", "dpo-lora", "deepspeed-zero2", "vllm-serve-adapter")
NEEDS = {
    "sft-qlora-4bit": "bitsandbytes",
    "dpo-lora": "trl",
    "deepspeed-zero2": "deepspeed",
    "vllm-serve-adapter": "vllm",
}


def model_folder(real: str | None) -> Path:
    """A model folder: the one given, or the 135M architecture with random weights (same speed and memory)."""
    if real:
        return Path(real)
    out = WORK / "smollm2-135m-random"
    if not (out / "model.safetensors").is_file():
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM

        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(ASSETS))
        model.save_pretrained(out)
        for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"):
            shutil.copy(ASSETS / name, out / name)
    return out


def domain_folder(model: Path) -> Path:
    """The counseling example with its base model pointed at ``model`` and GPU-sized training settings."""
    import yaml

    out = WORK / "counseling"
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(REPO / "examples" / "counseling", out)
    spec = yaml.safe_load((out / "domain.yaml").read_text(encoding="utf-8"))
    spec["base_model"] = str(model)
    spec["data"]["general"] = "none"  # self-replay would generate first; the matrix measures training
    spec["training"].update(max_steps=60, batch_size=8, save_steps=1000)
    pairs = REPO / "tests" / "finetune" / "train" / "fixtures" / "preference_pairs.jsonl"
    shutil.copy(pairs, out / "data" / "prefs.jsonl")
    spec["data"]["datasets"].append({"name": "prefs", "file": "data/prefs.jsonl", "format": "alpaca", "ranking": True})
    spec["training"]["preference"] = {"max_steps": 40, "references": False, "feedback": False}
    (out / "domain.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return out


ROW_CODE = {
    "sft-bf16-lora": "r = run_sft(spec, work / 'adapters' / 'gpu-lora', overrides={'method': 'lora'})",
    "sft-qlora-4bit": "r = run_sft(spec, work / 'adapters' / 'gpu-qlora', overrides={'method': 'qlora'})",
    "dpo-lora": "r = run_preference(spec, 'dpo', work / 'adapters' / 'gpu-dpo')",
}
ROW_SCRIPT = """
import json, sys, time
from pathlib import Path
from finetune.train import run_sft
from finetune.train.preference import run_preference
from vertical.core.spec import load_domain
spec, work = load_domain(sys.argv[1]), Path(sys.argv[2])
started = time.perf_counter()
{code}
m = r.metrics
tokens = m.get("real_tokens") or 0
print("ROW " + json.dumps({{"tokens_per_s": m.get("tokens_per_s") or None, "peak_mem_mb": m.get("peak_mem_mb"),
                          "steps": m.get("steps"), "seconds": round(time.perf_counter() - started, 1),
                          "rewards": m.get("eval_rewards")}}))
"""


def run_row(name: str, domain: Path, limit_s: int) -> dict:
    import importlib.util

    lib = NEEDS.get(name)
    if lib and importlib.util.find_spec(lib) is None:
        return {"status": f"not run: {lib} is not installed here (carry its wheel, bench/gpu_wheels.sh)"}
    env = {**os.environ, "VERTICAL_WORKSPACE": str(WORK), "PYTHONPATH": f"{REPO}:{os.environ.get('PYTHONPATH', '')}"}
    if name in ROW_CODE:
        cmd = [sys.executable, "-c", ROW_SCRIPT.format(code=ROW_CODE[name]), str(domain), str(WORK)]
    elif name == "deepspeed-zero2":
        cmd = [
            sys.executable,
            "-m",
            "vertical.cli",
            "train",
            str(domain),
            "--gpus",
            "1",
            "--deepspeed",
            "zero2",
            "--max-steps",
            "30",
            "--name",
            "gpu-zero2",
        ]
    else:
        cmd = [
            sys.executable,
            str(REPO / "bench" / "serve.py"),
            "--engine",
            "vllm",
            "--domain",
            str(domain),
            "--requests",
            "32",
            "--concurrency",
            "8",
            "--json",
        ]
    started = time.perf_counter()
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=limit_s)
    except subprocess.TimeoutExpired:
        return {"status": f"not run: over its {limit_s} s budget"}
    rows = [line[4:] for line in out.stdout.splitlines() if line.startswith("ROW ")]
    if out.returncode != 0 or (name in ROW_CODE and not rows):
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"status": f"failed (exit {out.returncode}): {tail[0][:160]}"}
    row = json.loads(rows[-1]) if rows else {"seconds": round(time.perf_counter() - started, 1)}
    if name == "deepspeed-zero2":
        log = WORK / "counseling" / "runs" / "gpu-zero2" / "log.json"
        if log.is_file():
            metrics = json.loads(log.read_text())["metrics"]
            row.update(tokens_per_s=metrics.get("tokens_per_s"), peak_mem_mb=metrics.get("peak_mem_mb"))
    return {"status": "ok", **row}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="a real model folder (default: random weights, same architecture)")
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--limit-s", type=int, default=90, help="time limit per row")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    domain = domain_folder(model_folder(args.model))
    results = {name: run_row(name, domain, args.limit_s) for name in args.rows.split(",")}
    (WORK / "gpu_matrix.json").write_text(json.dumps(results, indent=2))
    print(f"\n{'row':<22} {'status':<8} {'tokens/s':>10} {'peak MB':>9} {'seconds':>8}")
    for name, r in results.items():
        ok = r["status"] == "ok"
        print(
            f"{name:<22} {'ok' if ok else '-':<8} {r.get('tokens_per_s') or '-':>10} {r.get('peak_mem_mb') or '-':>9} "
            f"{r.get('seconds', '-'):>8}" + ("" if ok else f"  {r['status']}")
        )


if __name__ == "__main__":
    main()
