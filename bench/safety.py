"""Safety check cost: p50/p99 per message and per 20-turn conversation, plus the cold start.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/safety.py --rounds 5

Messages are the shipped safety eval set (en, zh incl. traditional/full-width, de, es, fr), each
matched with the per-message cache cleared. Conversations are 20 turns (10 user messages drawn
from it, assistant turns in between), assessed whole as the answer policy does on every request:
first seen (cache cleared), and the follow-up request (history cached, one new message). Wall and
CPU time (the CPU column excludes time the process waited for a core). Rules only (no classifier).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5, help="Passes over the eval set.")
    parser.add_argument("--conversations", type=int, default=200)
    args = parser.parse_args()

    t0 = time.perf_counter()
    from vertical.core.safety import assess
    from vertical.core.safety.evaluate import load_evalset

    items = load_evalset()
    assess(["warm-up"])
    cold_ms = (time.perf_counter() - t0) * 1000
    texts = [i["text"] for i in items if i.get("text")]

    from vertical.core.safety.assess import _match

    def timed(turns: list[dict], fresh: bool) -> tuple[float, float]:
        if fresh:
            _match.cache_clear()  # measure matching itself, not the per-message cache
        wall, cpu = time.perf_counter(), time.process_time()
        assess(turns)
        return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000

    per_message = [timed([{"role": "user", "content": t}], True) for _ in range(args.rounds) for t in texts]
    rng = random.Random(0)
    fresh, follow_up = [], []
    for _ in range(args.conversations):
        turns = []
        for text in rng.sample(texts, 10):
            turns += [{"role": "user", "content": text}, {"role": "assistant", "content": "I hear you. " * 20}]
        fresh.append(timed(turns, True))  # a 20-turn conversation seen for the first time
        follow_up.append(timed(turns + [{"role": "user", "content": rng.choice(texts)}], False))  # next request

    def stats(name: str, rows: list[tuple[float, float]]) -> dict:
        wall, cpu = [r[0] for r in rows], [r[1] for r in rows]
        return {
            f"{name}_p50_ms": round(statistics.median(wall), 3),
            f"{name}_p99_ms": round(pct(wall, 0.99), 3),
            f"{name}_cpu_p50_ms": round(statistics.median(cpu), 3),
            f"{name}_cpu_p99_ms": round(pct(cpu, 0.99), 3),
        }

    result = {
        "messages": len(per_message),
        "conversations": len(fresh),
        "cold_start_ms": round(cold_ms, 1),
        **stats("message", per_message),
        **stats("conversation20", fresh),
        **stats("conversation20_follow_up", follow_up),
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
