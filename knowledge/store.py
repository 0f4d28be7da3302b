"""``KnowledgeBase``: the per-domain store every strategy reads (Chroma + BM25 + the record file).

Search = dense (Chroma, our embeddings) + BM25 (bm25s), fused by weighted reciprocal rank fusion,
with Chroma ``where`` filters applied to both sides, an optional fused-score threshold and MMR.
The record file (records.sqlite) is the committed truth: its content hash tags the BM25 index, which
is reloaded or rebuilt lazily whenever the two differ.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.bm25_index import BM25Index
from knowledge.chunking import index_text
from knowledge.fusion import mmr, weighted_rrf
from knowledge.records import RecordStore
from knowledge.vector_store import ChromaStore, collection_name
from vertical.core.errors import DocumentNotFoundError, KnowledgeError, LowConfidenceError
from vertical.core.settings import get_settings
from vertical.core.spec import DomainSpec, KnowledgeSpec

_CANDIDATES_PER_HIT = 5
_MIN_CANDIDATES = 20


@dataclass
class Hit:
    chunk_id: str
    text: str
    source: str
    title: str = ""
    heading: str = ""
    position: int = 0
    score: float = 0.0  # fused (weighted RRF)
    dense_score: float | None = None  # cosine similarity, None when only BM25 found it
    bm25_score: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LowConfidence:
    """The decision "retrieval found nothing good enough": best dense cosine below the threshold."""

    best_dense: float | None
    threshold: float

    @classmethod
    def of(cls, hits: list[Hit], threshold: float) -> "LowConfidence":
        scores = [h.dense_score for h in hits if h.dense_score is not None]
        return cls(max(scores) if scores else None, threshold)

    @property
    def low(self) -> bool:
        return self.best_dense is None or self.best_dense < self.threshold

    def __bool__(self) -> bool:
        return self.low

    def raise_if_low(self, query: str = "") -> None:
        if self.low:
            best = "no match" if self.best_dense is None else f"best cosine {self.best_dense:.2f}"
            raise LowConfidenceError(
                f"no knowledge-base passage is relevant enough{f' to {query!r}' if query else ''} "
                f"({best} < min_confidence {self.threshold:.2f})",
                hint="add documents on this topic or lower knowledge.retrieval.min_confidence",
            )


def _hit(chunk_id: str, document: str, meta: dict | None) -> Hit:
    meta = dict(meta or {})
    return Hit(
        chunk_id=chunk_id, text=document or "", source=str(meta.get("source", "")),
        title=str(meta.get("title", "")), heading=str(meta.get("heading", "")),
        position=int(meta.get("position", 0)), metadata=meta,
    )


class KnowledgeBase:
    _instances: dict[tuple, "KnowledgeBase"] = {}
    _instances_lock = threading.Lock()

    def __init__(self, domain: str, embedder: str, knowledge: KnowledgeSpec, folder: Path,
                 chroma_url: str | None = None) -> None:
        self.domain, self.embedder, self.knowledge, self.folder = domain, embedder, knowledge, folder
        self.records = RecordStore(folder / "records.sqlite")
        self.vectors = ChromaStore(domain, folder / "chroma", chroma_url)
        self.bm25 = BM25Index(folder / "bm25")
        self.collection_name = collection_name(domain)
        self._bm25_lock = threading.RLock()  # rebuild may run inside ensure_bm25

    @classmethod
    def for_domain(cls, spec: DomainSpec) -> "KnowledgeBase":
        """The domain's KB; one instance per (workspace folder, Chroma URL) per process, so the
        BM25 index and Chroma client are loaded once."""
        settings = get_settings()
        folder = settings.domain_dir(spec.name).resolve()
        key = (str(folder), settings.chroma_url, spec.embedder)
        with cls._instances_lock:
            kb = cls._instances.get(key)
            if kb is None:
                kb = cls._instances[key] = cls(spec.name, spec.embedder, spec.knowledge, folder, settings.chroma_url)
            kb.knowledge = spec.knowledge  # retrieval settings may change between calls
        return kb

    # ---- reads ------------------------------------------------------------------------------
    def count(self) -> int:
        return self.records.chunk_count()

    def content_hash(self) -> str:
        return self.records.content_hash()

    def list_documents(self) -> list[dict]:
        return [
            {"source": r.source, "title": r.title, "chunks": len(r.chunk_ids), "ingested_at": r.ingested_at,
             "file_hash": r.file_hash}
            for r in sorted(self.records.files().values(), key=lambda r: r.source)
        ]

    def get_chunks(self, ids: list[str]) -> list[Hit]:
        if not ids:
            return []
        got = self.vectors.get(ids=list(ids))
        by_id = {i: _hit(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}
        return [by_id[i] for i in ids if i in by_id]

    def all_chunks(self, limit: int | None = None) -> list[Hit]:
        got = self.vectors.get()
        hits = sorted((_hit(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])),
                      key=lambda h: (h.source, h.position))
        return hits[:limit] if limit is not None else hits

    def confidence(self, hits: list[Hit]) -> LowConfidence:
        return LowConfidence.of(hits, self.knowledge.retrieval.min_confidence)

    # ---- search -----------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, where: dict | None = None) -> list[Hit]:
        """Hybrid search: top ``k`` (default retrieval.top_k) hits, best first."""
        from knowledge.embedding import embed_query

        if not query or not query.strip():
            raise KnowledgeError("empty search query", hint="pass the question text to search for")
        params = self.knowledge.retrieval
        k = k or params.top_k
        total = self.count()
        if total == 0:
            return []
        n = min(total, max(k * _CANDIDATES_PER_HIT, _MIN_CANDIDATES))
        qvec = embed_query(self.embedder, query)
        try:
            dense = self.vectors.query(qvec, n, where=where, embeddings=params.mmr)
            allowed = set(self.vectors.ids(where=where)) if where else None
        except KnowledgeError:
            raise
        except Exception as exc:  # chroma rejects malformed filters with its own error types
            raise KnowledgeError(f"search failed for filter {where!r}: {exc}",
                                 hint="use Chroma where syntax, e.g. {'source': 'sleep-hygiene.md'}") from exc
        sparse = self._bm25_search(query, n, allowed)
        fused = weighted_rrf(
            {"dense": dense["ids"], "bm25": [i for i, _ in sparse]},
            {"dense": params.dense_weight, "bm25": params.bm25_weight}, params.rrf_k,
        )
        if params.score_threshold is not None:
            fused = [(i, s) for i, s in fused if s >= params.score_threshold]
        dense_cos = {i: 1.0 - float(d) for i, d in zip(dense["ids"], dense["distances"])}
        bm25_scores = dict(sparse)
        if params.mmr and len(fused) > k:
            fused = self._mmr(qvec, fused, k, params.mmr_lambda)
        fused = fused[:k]
        known = {i: _hit(i, d, m) for i, d, m in zip(dense["ids"], dense["documents"], dense["metadatas"])}
        missing = [i for i, _ in fused if i not in known]
        known.update({h.chunk_id: h for h in self.get_chunks(missing)})
        hits = []
        for chunk_id, score in fused:
            if chunk_id in known:
                hit = known[chunk_id]
                hit.score, hit.dense_score, hit.bm25_score = score, dense_cos.get(chunk_id), bm25_scores.get(chunk_id)
                hits.append(hit)
        return hits

    def _mmr(self, qvec: np.ndarray, fused: list[tuple[str, float]], k: int, lam: float) -> list[tuple[str, float]]:
        ids = [i for i, _ in fused]
        got = self.vectors.get(ids=ids, embeddings=True)
        vec = {i: e for i, e in zip(got["ids"], got["embeddings"])}
        ids = [i for i in ids if i in vec]
        order = mmr(qvec, np.asarray([vec[i] for i in ids], dtype=np.float32), k, lam)
        score = dict(fused)
        return [(ids[j], score[ids[j]]) for j in order]

    # ---- BM25 side --------------------------------------------------------------------------
    def _bm25_search(self, query: str, n: int, allowed: set[str] | None) -> list[tuple[str, float]]:
        self.ensure_bm25()
        return self.bm25.search(query, n, allowed)

    def ensure_bm25(self) -> None:
        """Make the in-process BM25 match the committed chunk set (load, or rebuild if stale)."""
        wanted = self.content_hash()
        if self.bm25.loaded_tag == wanted:
            return
        with self._bm25_lock:
            if self.bm25.loaded_tag == wanted:
                return
            if self.bm25.stored_tag() == wanted and self.bm25.load() and self.bm25.loaded_tag == wanted:
                return
            self.rebuild_bm25()

    def rebuild_bm25(self) -> None:
        """Rebuild the BM25 index from the committed chunks (called after every change)."""
        with self._bm25_lock:
            wanted = self.content_hash()
            ids = sorted(i for r in self.records.files().values() for i in r.chunk_ids)
            hits = self.get_chunks(ids)
            self.bm25.build([h.chunk_id for h in hits], [index_text(h.title, h.heading, h.text) for h in hits], wanted)

    # ---- writes -----------------------------------------------------------------------------
    def delete_document(self, source: str) -> int:
        """Remove one document's chunks (vectors, BM25, record); returns the number removed."""
        record = self.records.get(source)
        if record is None:
            raise DocumentNotFoundError(
                f"no document {source!r} in the {self.domain!r} knowledge base",
                hint="list documents with `vertical kb docs <domain>`",
            )
        from knowledge.sync import remove_source

        removed = remove_source(self, source)
        self.rebuild_bm25()
        return removed
