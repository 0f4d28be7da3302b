"""Retrieval quality (dense vs BM25 vs hybrid) on the counseling eval set, and query latency at 10k chunks.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/retrieval.py [--chunks 10000]

Quality: each eval question names its source document; a run ranks documents by their best chunk
(first occurrence in the chunk ranking) and scores nDCG@10 / recall@5 with that one relevant doc.
The three arms are the same KnowledgeBase with weights (1,0), (0,1) and the domain's (1,1).
Latency: a second KB with ``--chunks`` passages cut from gensim's ``head500.noblanks.cor`` (from the
gensim wheel). Their vectors are random unit vectors written through the normal commit path,
because embedding 10k chunks takes longer than this bench should on 2 shared cores; query time
(real query embedding + Chroma HNSW + BM25 + fusion) does not depend on the stored vectors' values.
Writes bench/out/knowledge_retrieval.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
COUNSELING = REPO / "examples" / "counseling"


def ranked_sources(hits: list) -> list[str]:
    seen: list[str] = []
    for h in hits:
        if h.source not in seen:
            seen.append(h.source)
    return seen


def ndcg_at(ranked: list[str], relevant: str, k: int) -> float:
    for i, source in enumerate(ranked[:k]):
        if source == relevant:
            return 1.0 / math.log2(i + 2)
    return 0.0


def quality(spec, questions: list[dict]) -> dict:
    from knowledge.store import KnowledgeBase

    arms = {
        "dense": (1.0, 0.0),
        "bm25": (0.0, 1.0),
        "hybrid": (spec.knowledge.retrieval.dense_weight, spec.knowledge.retrieval.bm25_weight),
    }
    results = {}
    for name, (dw, bw) in arms.items():
        arm_spec = spec.model_copy(deep=True)
        arm_spec.root = spec.root
        arm_spec.knowledge.retrieval.dense_weight, arm_spec.knowledge.retrieval.bm25_weight = dw, bw
        kb = KnowledgeBase.for_domain(arm_spec)
        ndcg, recall = [], []
        for q in questions:
            ranked = ranked_sources(kb.search(q["question"], k=40))
            ndcg.append(ndcg_at(ranked, q["source"], 10))
            recall.append(1.0 if q["source"] in ranked[:5] else 0.0)
        results[name] = {"ndcg@10": statistics.mean(ndcg), "recall@5": statistics.mean(recall)}
    kb.knowledge = spec.knowledge
    return results


def passages(n: int, words: int = 45) -> list[str]:
    from ingest import gensim_file

    tokens = gensim_file("head500.noblanks.cor").split()
    step = max(1, min(words, (len(tokens) - words) // n))
    return [" ".join(tokens[i * step : i * step + words]) for i in range(n)]


def latency(n_chunks: int, embedder: str) -> dict:
    import numpy as np

    from knowledge.chunking import Chunk, chunk_id, content_hash
    from knowledge.embedding import embed_query
    from knowledge.store import KnowledgeBase
    from knowledge.sync import FileUpdate, commit_files
    from vertical.core.spec import DomainSpec

    spec = DomainSpec(name="bench10k", embedder=embedder)
    kb = KnowledgeBase.for_domain(spec)
    texts = passages(n_chunks)
    rng = np.random.default_rng(0)
    per_file = 100
    for f in range(0, len(texts), per_file):
        source = f"wiki-{f // per_file:03d}.txt"
        chunks = [
            Chunk(chunk_id(source, t), t, source, source, "", i, content_hash(t))
            for i, t in enumerate(texts[f : f + per_file])
        ]
        vecs = rng.normal(size=(len(chunks), 384)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        commit_files(
            kb, [FileUpdate(source, source, source, "bench", source, chunks)], {c.id: v for c, v in zip(chunks, vecs)}
        )
    started = time.perf_counter()
    kb.rebuild_bm25()
    bm25_build_s = time.perf_counter() - started
    queries = [" ".join(t.split()[3:9]) for t in texts[:: max(1, len(texts) // 60)]][:60]
    kb.search(queries[0])  # warm: loads nothing else afterwards
    total, embed_only = [], []
    for q in queries:
        started = time.perf_counter()
        kb.search(q, k=5)
        total.append(time.perf_counter() - started)
        started = time.perf_counter()
        embed_query(embedder, q)
        embed_only.append(time.perf_counter() - started)
    p50 = statistics.median
    return {
        "chunks": kb.count(),
        "bm25_build_s": bm25_build_s,
        "queries": len(queries),
        "search_p50_ms": p50(total) * 1000,
        "embed_query_p50_ms": p50(embed_only) * 1000,
        "search_minus_embed_p50_ms": p50([t - e for t, e in zip(total, embed_only)]) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave torch's default)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from knowledge.jobs import IngestJob
    from vertical.core.settings import reset_settings
    from vertical.core.spec import load_domain

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VERTICAL_WORKSPACE"] = tmp
        reset_settings()
        spec = load_domain(COUNSELING)
        IngestJob(spec).run()
        questions = [
            json.loads(line)
            for line in (COUNSELING / "eval" / "questions.jsonl").read_text().splitlines()
            if line.strip()
        ]
        questions = [q for q in questions if q.get("source")]
        result = {
            "questions": len(questions),
            "quality": quality(spec, questions),
            "latency": latency(args.chunks, spec.embedder),
        }
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "knowledge_retrieval.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
