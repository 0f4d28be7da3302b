"""Serving benchmark: sequential vs 8 concurrent users on the transformers engine (dynamic batching),
and the REST API's overhead over calling the engine directly.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/serve.py --requests 16 --max-tokens 32
    HF_HUB_OFFLINE=1 .venv/bin/python bench/serve.py --vllm     # vs vLLM's own server (bench/serve_vllm.py)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "serving"))
QUESTIONS = [
    "How can I sleep better?",
    "What helps with panic attacks?",
    "How do I cope with grief?",
    "What is a thought record?",
    "How can I set boundaries?",
    "What is burnout?",
    "How do I calm down quickly?",
    "How do I find a therapist?",
]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run(call, n: int, users: int) -> dict:
    latencies, tokens = [], []

    def one(i: int) -> None:
        t = time.perf_counter()
        tokens.append(call(i))
        latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    with ThreadPoolExecutor(users) as pool:
        list(pool.map(one, range(n)))
    wall = time.perf_counter() - start
    return {
        "users": users,
        "requests": n,
        "tokens": sum(tokens),
        "wall_s": round(wall, 2),
        "tokens_per_s": round(sum(tokens) / wall, 1),
        "p50_s": round(pct(latencies, 0.5), 2),
        "p95_s": round(pct(latencies, 0.95), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--vllm", action="store_true", help="our API on the vLLM engine vs vLLM's own server (issue 12)")
    ap.add_argument("--rounds", type=int, default=3, help="--vllm: interleaved rounds; medians are reported")
    args = ap.parse_args()
    if args.vllm:
        from serve_vllm import compare

        results = compare(args.requests, args.max_tokens, args.rounds)
        print(json.dumps(results, indent=2))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return

    import httpx
    from serving_live_server import LiveServer

    from serving.answer import build_messages
    from serving.api import create_app
    from serving.api.config import ServeSettings
    from serving.domains import load_runtime
    from serving.engines.base import GenerationParams
    from serving.engines.transformers_engine import TransformersEngine

    engine = TransformersEngine("smollm2-135m-instruct")
    params = GenerationParams(max_new_tokens=args.max_tokens)
    runtime = load_runtime(REPO / "examples" / "counseling", engine)
    plain = dataclasses.replace(runtime, _kb=None, _kb_checked=True, manifest=None)  # no retrieval: engine vs API
    messages = [build_messages(plain, q, [], [], args.max_tokens).messages for q in QUESTIONS]
    direct = lambda i: engine.generate(messages[i % len(messages)], params).completion_tokens  # noqa: E731
    engine.generate(messages[0], params)  # warm up
    results = {"engine_sequential": run(direct, args.requests, 1)}
    print(results, flush=True)
    results["engine_8_concurrent"] = run(direct, args.requests, 8)
    print(results, flush=True)
    app = create_app([], ServeSettings(), runtimes={plain.name: plain})
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=300) as client:

        def api(i: int) -> int:
            r = client.post(
                "/v1/chat/completions",
                json={
                    "model": plain.name,
                    "max_tokens": args.max_tokens,
                    "messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}],
                },
            )
            r.raise_for_status()
            return r.json()["usage"]["completion_tokens"]

        results["api_sequential"] = run(api, args.requests, 1)
        results["api_8_concurrent"] = run(api, args.requests, 8)
    engine.close()
    speedup = results["engine_8_concurrent"]["tokens_per_s"] / results["engine_sequential"]["tokens_per_s"]
    results["concurrency_speedup"] = round(speedup, 2)
    for arm in ("sequential", "8_concurrent"):  # how much throughput the API costs over the bare engine
        overhead = results[f"engine_{arm}"]["tokens_per_s"] / results[f"api_{arm}"]["tokens_per_s"] - 1
        results[f"api_overhead_{arm}_pct"] = round(100 * overhead, 1)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
