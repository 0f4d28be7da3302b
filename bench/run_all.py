"""Run every benchmark with the settings bench/RESULTS.md reports, one after the other (`make bench`).

Each bench runs in its own process (so one bench's memory and threads never colour the next) and
writes its JSON under bench/out/. Takes ~10 minutes on an idle 2-core CPU; run it on an idle
machine, since the comparisons inside each bench are only fair when nothing else competes.

    .venv/bin/python bench/run_all.py [--only ingest,retrieval,train,serve]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
RUNS = {
    "ingest": ["ingest.py", "--public-docs", "100"],
    "retrieval": ["retrieval.py"],
    "train": [
        "train.py",
        "--steps",
        "10",
        "--batch-size",
        "2",
        "--max-length",
        "512",
        "--data",
        "prepare_sft",
        "--arms",
        "naive,grouped,packed",
    ],
    "serve": ["serve.py", "--requests", "16", "--max-tokens", "32", "--json", str(OUT / "serve.json")],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(RUNS), help=f"comma-separated subset of {', '.join(RUNS)}")
    args = parser.parse_args()
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(RUNS))
    if unknown:
        parser.error(f"unknown bench(es) {', '.join(unknown)}; choose from {', '.join(RUNS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in wanted:
        started = time.perf_counter()
        print(f"== {name}: {' '.join(RUNS[name])}", flush=True)
        code = subprocess.call([sys.executable, str(BENCH / RUNS[name][0]), *RUNS[name][1:]])
        print(f"== {name}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
