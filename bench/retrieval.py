"""Retrieval quality (dense vs BM25 vs hybrid) on the counseling eval set, and query latency on real text.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/retrieval.py [--chunks 10000] [--part all|quality|latency]

Quality: each eval question names its source document; a run ranks documents by their best chunk
(first occurrence in the chunk ranking) and scores nDCG@10 / recall@5 with that one relevant doc.
The three arms are the same KnowledgeBase with weights (1,0), (0,1) and the domain's (1,1).
Latency: a KB of real long documents with their real vectors, ingested through IngestJob: gensim's
enwiki articles (markdown, up to 100 KB each) and then man pages (bench/known_item.py) up to about
``--chunks`` chunks. It lives in bench/out/latency-kb (gitignored) so a rerun does not embed again.
Queries are man-page descriptions and wiki section headings; k=5, p50 over 60 queries.
Writes bench/out/knowledge_retrieval.json (``_quality``/``_latency`` suffix with --part).
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


CHARS_PER_CHUNK = 900  # measured on these corpora at chunk_size 200: used only to pick how many docs to write


def long_documents(target_chunks: int) -> list[tuple[str, str]]:
    """(file name, text) of real long documents: gensim's enwiki articles (markdown, up to 100 KB each),
    then man pages (as bench/known_item.py cuts them) until about ``target_chunks`` chunks' worth of text."""
    from ingest import wiki_articles
    from known_item import man_pages

    docs = [(f"wiki-{i:03d}.md", text) for i, (_, text) in enumerate(wiki_articles(min_chars=2000))]
    budget = target_chunks * CHARS_PER_CHUNK - sum(len(t) for _, t in docs)
    if budget > 0:
        for page in man_pages(limit=100_000, doc_chars=6000):
            if budget <= 0:
                break
            docs.append((page["source"], page["text"]))
            budget -= len(page["text"])
    return docs


def latency(n_chunks: int, embedder: str) -> dict:
    """p50 of kb.search on a KB of real long documents with their real vectors (bench/out/latency-kb,
    kept between runs: a rerun does not embed again)."""
    from knowledge.embedding import embed_query
    from knowledge.jobs import IngestJob
    from knowledge.store import KnowledgeBase
    from vertical.core.settings import reset_settings
    from vertical.core.spec import load_domain

    folder = REPO / "bench" / "out" / "latency-kb"
    docs_dir = folder / "domain" / "docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    docs = long_documents(n_chunks)
    for old in set(docs_dir.iterdir()) - {docs_dir / name for name, _ in docs}:
        old.unlink()  # a smaller --chunks than last time: the sync ingest below drops them
    for name, text in docs:
        path = docs_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    (folder / "domain" / "domain.yaml").write_text(
        f"name: latency\nembedder: {embedder}\nstrategy: rag\n"
        "knowledge:\n  sources: [docs]\n  chunk_size: 200\n  chunk_overlap: 30\n",
        encoding="utf-8",
    )
    os.environ["VERTICAL_WORKSPACE"] = str(folder / "workspace")
    reset_settings()
    spec = load_domain(folder / "domain")
    started = time.perf_counter()
    IngestJob(spec, sync=True).run()
    ingest_s = time.perf_counter() - started
    kb = KnowledgeBase.for_domain(spec)
    started = time.perf_counter()
    kb.rebuild_bm25()
    bm25_build_s = time.perf_counter() - started
    # questions a reader would type: the known-item man page descriptions and wiki section headings
    from known_item import man_pages

    queries = [p["query"] for p in man_pages(60, 100)][:40]
    queries += [line.lstrip("# ") for _, t in docs[:40] for line in t.splitlines() if line.startswith("## ")][:20]
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
        "documents": len(docs),
        "document_kb_max": round(max(len(t) for _, t in docs) / 1000, 1),
        "chunks": kb.count(),
        "ingest_s_this_run": round(ingest_s, 1),
        "bm25_build_s": bm25_build_s,
        "queries": len(queries),
        "search_p50_ms": p50(total) * 1000,
        "search_p90_ms": sorted(total)[int(len(total) * 0.9)] * 1000,
        "embed_query_p50_ms": p50(embed_only) * 1000,
        "search_minus_embed_p50_ms": p50([t - e for t, e in zip(total, embed_only)]) * 1000,
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave torch's default)")
    parser.add_argument("--part", choices=("all", "quality", "latency"), default="all")
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
        result: dict = {"questions": len(questions), "load_average": os.getloadavg()}
        if args.part in ("all", "quality"):
            result["quality"] = quality(spec, questions)
        if args.part in ("all", "latency"):
            result["latency"] = latency(args.chunks, spec.embedder)
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"knowledge_retrieval{'' if args.part == 'all' else '_' + args.part}.json").write_text(
        json.dumps(result, indent=2)
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
