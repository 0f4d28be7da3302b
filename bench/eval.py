"""Eval answering benchmark: the old sequential path (one request at a time through the chain) against the
batched path the evaluation uses (all questions submitted at once, so the transformers engine batches them).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/eval.py --questions 16 --max-new-tokens 160 --strategy rag

Both arms answer the same questions on the same engine after one warm-up answer. The batched arm (every question
submitted at once, as the evaluation does) runs between the two halves of the sequential arm, so other jobs on a
shared machine slow both arms alike. The machine's load average is recorded before and after, and how many
answers are the same text in both arms (the eval must score what a user asking alone would get).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=160)
    ap.add_argument("--strategy", default="rag", choices=["prompt", "rag"])
    ap.add_argument("--domain", type=Path, default=REPO / "examples" / "counseling")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("VERTICAL_WORKSPACE", tempfile.mkdtemp(prefix="bench-eval-"))

    from serving.answer import AnswerRequest, answer

    def run_chain(runtime, question, max_new_tokens=None):  # the answer policy, one question
        return answer(runtime, AnswerRequest.ask(question, max_new_tokens=max_new_tokens))

    from vertical.core.spec import load_domain
    from vertical.strategy.build import build
    from vertical.strategy.evaluation.answers import answer_all, runtime_for
    from vertical.strategy.evaluation.dataset import load_eval_set

    spec = load_domain(args.domain)
    manifest = build(spec, args.strategy, evaluate=False)
    items = [i for i in load_eval_set(spec) if i.type != "crisis"][: args.questions]
    questions = [i.question for i in items]
    runtime = runtime_for(spec, manifest)
    answer(runtime, AnswerRequest.ask("warm up: what is this assistant for?", max_new_tokens=8))

    load_before = os.getloadavg()
    arms = {"sequential": 0.0, "batched": 0.0}
    tokens = {"sequential": 0, "batched": 0}
    half = len(questions) // 2

    alone: list[str] = []  # answers one at a time, in question order

    def sequential(chunk: list[str]) -> None:  # the old path: one request at a time
        t = time.perf_counter()
        for q in chunk:
            reply = answer(runtime, AnswerRequest.ask(q, max_new_tokens=args.max_new_tokens))
            tokens["sequential"] += reply.usage.get("completion_tokens", 0)
            alone.append(reply.answer)
        arms["sequential"] += time.perf_counter() - t

    # sandwich: the batched run (all questions at once, as an eval submits them) sits between the two halves of
    # the sequential run, so a load change on the shared machine falls on both arms alike
    sequential(questions[:half])
    print(f"sequential, first half: {arms['sequential']:.1f}s", flush=True)
    t = time.perf_counter()
    records, _ = answer_all(spec, manifest, questions, args.max_new_tokens)
    arms["batched"] = time.perf_counter() - t
    tokens["batched"] = sum(r.completion_tokens for r in records)
    print(f"batched, all {len(questions)}: {arms['batched']:.1f}s", flush=True)
    sequential(questions[half:])
    load_after = os.getloadavg()
    result = {
        "strategy": args.strategy,
        "questions": len(questions),
        "max_new_tokens": args.max_new_tokens,
        "sequential_s": round(arms["sequential"], 1),
        "batched_s": round(arms["batched"], 1),
        "ratio_batched_over_sequential": round(arms["batched"] / arms["sequential"], 3),
        "sequential_completion_tokens": tokens["sequential"],
        "batched_completion_tokens": tokens["batched"],
        # batching pads rows, which may move fp32 logits by rounding; greedy answers should still match
        "identical_answers": sum(a == r.answer for a, r in zip(alone, records)),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
