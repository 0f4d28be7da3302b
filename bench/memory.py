"""Server memory over a long session of mixed requests (issue 16.6): is the API's RSS flat?

Starts the real API (`vertical serve`) on a free loopback port on a copy of examples/counseling with
the embedded default models and a small ingested KB, sends N mixed requests (OpenAI chat plain and
streamed, domain chat with a growing history, KB search, documents, feedback, models, health, metrics
and the usual client mistakes: unknown models, unknown routes, bad bodies), and samples the server
process's RSS after the warm-up and then every ``--every`` requests.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/memory.py --requests 1000 --max-tokens 8
    MALLOC_ARENA_MAX=2 HF_HUB_OFFLINE=1 .venv/bin/python bench/memory.py ...   # env reaches the server

Target: RSS at the end within 10 % of RSS after warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
COUNSELING = REPO / "examples" / "counseling"
DOCS = ("sleep-hygiene.md", "panic-attacks.md", "grief-and-loss.md", "burnout.md")
QUESTIONS = (
    "How can I sleep better?",
    "What helps with panic attacks?",
    "How do I cope with grief?",
    "What is burnout?",
    "How do I calm down quickly?",
)


def make_domain(root: Path, max_tokens: int) -> Path:
    domain = root / "counseling"
    (domain / "docs").mkdir(parents=True)
    for name in DOCS:
        shutil.copy(COUNSELING / "docs" / name, domain / "docs" / name)
    yaml = (COUNSELING / "domain.yaml").read_text(encoding="utf-8")
    (domain / "domain.yaml").write_text(
        yaml.replace("max_new_tokens: 160", f"max_new_tokens: {max_tokens}"), encoding="utf-8"
    )
    return domain


def ingest(domain: Path, env: dict[str, str]) -> None:
    # in a child process, so the bench process stays small and the workspace env applies
    code = "import sys; from knowledge.jobs import IngestJob; from vertical.core.spec import load_domain; "
    code += "print(IngestJob(load_domain(sys.argv[1])).run().to_dict()['added'])"
    subprocess.run([sys.executable, "-c", code, str(domain)], env=env, check=True, stdout=subprocess.DEVNULL)


def start_server(domain: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    code = "import sys; from vertical.cli import main; sys.argv = ['vertical', 'serve', *sys.argv[1:]]; main()"
    cmd = [sys.executable, "-c", code, str(domain), "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited early; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"the server did not come up in 300 s; see {log}")


def request(client: httpx.Client, i: int, *, domain: str, max_tokens: int, history: list[dict]) -> int:
    """Request number ``i`` of the mix (13 kinds, in turn); returns the HTTP status."""
    q = f"{QUESTIONS[i % len(QUESTIONS)]} (request {i})"  # unique texts: text-keyed caches see new keys
    chat = {"model": domain, "max_tokens": max_tokens, "messages": [*history[-8:], {"role": "user", "content": q}]}
    kind = i % 13
    if kind == 0:
        r = client.post("/v1/chat/completions", json=chat)
        if r.status_code == 200:
            history += [{"role": "user", "content": q}, r.json()["choices"][0]["message"]]
            history[-1] = {"role": "assistant", "content": history[-1]["content"] or "ok"}
        return r.status_code
    if kind == 1:
        with client.stream("POST", "/v1/chat/completions", json={**chat, "stream": True}) as r:
            for _ in r.iter_lines():
                pass
            return r.status_code
    if kind == 2:
        body = {"question": q, "max_tokens": max_tokens, "history": history[-8:]}
        return client.post(f"/v1/domains/{domain}/chat", json=body).status_code
    if kind == 3:
        return client.get(f"/v1/domains/{domain}/chunks", params={"q": q, "k": 4}).status_code
    if kind == 4:
        return client.get(f"/v1/domains/{domain}/documents").status_code
    if kind == 5:
        body = {"question": q, "answer": f"answer {i}", "rating": 1 if i % 2 else -1, "model": f"client-model-{i}"}
        return client.post(f"/v1/domains/{domain}/feedback", json=body).status_code
    if kind == 6:
        return client.get("/v1/models").status_code
    if kind == 7:  # a model id nobody serves, different every time (label-cardinality trap)
        return client.post("/v1/chat/completions", json={**chat, "model": f"nope-{i}"}).status_code
    if kind == 8:
        return client.get(f"/v1/no/such/route/{i}").status_code
    if kind == 9:
        return client.post("/v1/chat/completions", json={"model": domain, "messages": [], "bogus": i}).status_code
    if kind == 10:
        return client.get(f"/v1/models/{domain}-{i}").status_code
    if kind == 11:
        return client.get("/metrics" if i % 2 else "/healthz").status_code
    # a long pasted text, new every time (text-keyed caches must not keep it): 30k chars, half CJK
    long = f"{i} " + "I keep worrying about everything. 我最近睡不好，心里很烦。" * 600
    pasted = {**chat, "messages": [{"role": "user", "content": long}]}
    return client.post("/v1/chat/completions", json=pasted).status_code


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--max-tokens", type=int, default=8)
    ap.add_argument("--concurrency", type=int, default=4, help="users sending requests at the same time")
    ap.add_argument("--json", type=Path, help="write the samples and summary here")
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="vertical-memory-"))
    env = {**os.environ, "VERTICAL_WORKSPACE": str(root / "ws"), "HF_HUB_OFFLINE": "1", "VERTICAL_API_KEYS": ""}
    env.pop("VERTICAL_API_KEYS_FILE", None)
    domain = make_domain(root, args.max_tokens)
    ingest(domain, env)
    from vertical.core.net import free_port

    port, log = free_port(), root / "server.log"
    proc = start_server(domain, port, env, log)
    samples: list[dict] = []
    statuses: dict[int, int] = {}
    histories: list[list[dict]] = [[] for _ in range(args.concurrency)]  # one conversation per user
    started = time.perf_counter()
    try:
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client,
            ThreadPoolExecutor(args.concurrency) as pool,
        ):
            samples.append({"requests": 0, "rss_mb": round(rss_mb(proc.pid), 1)})
            run = partial(request, client, domain="counseling", max_tokens=args.max_tokens)

            def one(i: int) -> int:
                return run(i, history=histories[i % args.concurrency])

            done = 0
            while done < args.requests:
                # run up to the next sample point (warm-up, then every --every), then read RSS
                stop = min(args.warmup if done < args.warmup else done + args.every, args.requests)
                for status in pool.map(one, range(done, stop)):
                    statuses[status] = statuses.get(status, 0) + 1
                done = stop
                samples.append({"requests": done, "rss_mb": round(rss_mb(proc.pid), 1)})
                print(f"{done:5d} requests  RSS {samples[-1]['rss_mb']:8.1f} MB", flush=True)
    finally:
        proc.terminate()
        proc.wait(30)
    warm = next(s for s in samples if s["requests"] >= min(args.warmup, args.requests))
    end = samples[-1]
    summary = {
        "requests": args.requests,
        "max_tokens": args.max_tokens,
        "concurrency": args.concurrency,
        "rss_start_mb": samples[0]["rss_mb"],
        "rss_warm_mb": warm["rss_mb"],
        "rss_end_mb": end["rss_mb"],
        "growth_pct": round(100 * (end["rss_mb"] - warm["rss_mb"]) / warm["rss_mb"], 1),
        "statuses": dict(sorted(statuses.items())),
        "wall_s": round(time.perf_counter() - started, 1),
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "samples": samples}, indent=2), encoding="utf-8")
    shutil.rmtree(root, ignore_errors=True)
    sys.exit(0 if summary["growth_pct"] <= 10 else 1)


if __name__ == "__main__":
    main()
