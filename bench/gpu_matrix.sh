#!/usr/bin/env bash
# The GPU matrix in one call (≤ 8 minutes on one GPU): bf16 LoRA SFT, QLoRA 4-bit SFT, DPO, a DeepSpeed
# ZeRO-2 launch and the GPU vllm wheel serving the adapter through our API, each with tokens/s and peak
# memory; a table at the end (bench/gpu_matrix.py). Runs under the machine's python3; Python packages it
# lacks travel as wheels in .whl/ (bench/gpu_wheels.sh fetches them on a machine with PyPI).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || { echo "gpu_matrix: no GPU here"; exit 2; }
if ls .whl/* >/dev/null 2>&1; then  # wheels, and sdists (jieba ships none) built without an index
  "$PY" -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/* \
    || { echo "gpu_matrix: the carried wheels did not install"; exit 2; }
  export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false VERTICAL_WORKSPACE=${VERTICAL_WORKSPACE:-/tmp/vertical-gpu}
exec "$PY" bench/gpu_matrix.py "$@"
