#!/usr/bin/env bash
# Fetch, on a machine with PyPI, the wheels the GPU image lacks for bench/gpu_matrix.sh (Python 3.12,
# manylinux x86-64) into .whl/ (git-ignored). The image has torch, transformers, peft, accelerate,
# typer and rich; our code also needs pydantic, pydantic-settings, trl, datasets and their small deps.
# bitsandbytes, deepspeed and vllm are large: fetch them only when the carry limit allows (64 MiB a call).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
# the versions the project was tested with (pydantic and pydantic-core must match each other)
for pkg in pydantic==2.14.4 pydantic-core==2.50.5 pydantic-settings==2.16.3 annotated-types typing-inspection python-dotenv \
           trl==1.16.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 datasketch py3langid \
           opencc-python-reimplemented jieba ${EXTRA_WHEELS:-}; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" -d .whl "$pkg" || python3 -m pip download -q --no-deps -d .whl "$pkg"
done
du -sh .whl
