"""``KnowledgeBase``: the per-domain store every strategy reads (Chroma + BM25 + the record file).

Search = dense (Chroma, our embeddings) + BM25 (bm25s), fused by distribution-based score fusion,
with Chroma ``where`` filters applied to both sides, an optional fused-score threshold and MMR.
The record file (records.sqlite) is the committed truth: its content hash tags the BM25 index, which
is reloaded or rebuilt lazily whenever the two differ, and the retrieval stats rebuilt with it
(embedder [UNK] rate → effective dense weight; word frequencies and the calibrated threshold →
:meth:`KnowledgeBase.confidence`, the one confidence decision).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge import retrieval_stats
from knowledge.bm25_index import BM25Index
from knowledge.chunking import index_text
from knowledge.confidence import (
    DEFAULT_LEXICAL_THRESHOLD,
    Confidence,
    coverage_score,
    decide,
    lexical_score,
    query_terms,
)
from knowledge.coverage import UNK_OK, EmbedderCoverage, text_unk_rate
from knowledge.curation import disabled_counts, disabled_ids, enabled_filter
from knowledge.fusion import mmr, score_fusion, weighted_rrf
from knowledge.record_manager import RecordStore
from knowledge.retrieval_stats import RetrievalStats
from knowledge.vector_store import ChromaStore, collection_name
from vertical.core.errors import DocumentNotFoundError, KnowledgeError
from vertical.core.settings import get_settings
from vertical.core.spec import DomainSpec, KnowledgeSpec

_CANDIDATES_PER_HIT = 5
_MIN_CANDIDATES = 20
_CALIBRATION_HITS = 4  # hits per calibration query (the default top_k)


@dataclass
class Hit:
    chunk_id: str
    text: str
    source: str
    title: str = ""
    heading: str = ""
    position: int = 0
    score: float = 0.0  # fused (distribution-based score fusion, ~0..2 with both arms on)
    dense_score: float | None = None  # cosine similarity, None when only BM25 found it
    bm25_score: float | None = None
    lexical_score: float | None = None  # IDF-weighted share of the query's topical words in this chunk
    query_coverage: float | None = None  # the same share over all hits of the search together (confidence)
    dense_trusted: bool = True  # False when the embedder cannot read the query or the KB (unknown tokens)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


LowConfidence = Confidence  # the old name; ``kb.confidence(hits)`` is the decision


def _hit(chunk_id: str, document: str, meta: dict | None) -> Hit:
    meta = dict(meta or {})
    return Hit(
        chunk_id=chunk_id,
        text=document or "",
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        heading=str(meta.get("heading", "")),
        position=int(meta.get("position", 0)),
        metadata=meta,
    )


class KnowledgeBase:
    _instances: dict[tuple, KnowledgeBase] = {}
    _instances_lock = threading.Lock()

    def __init__(
        self, domain: str, embedder: str, knowledge: KnowledgeSpec, folder: Path, chroma_url: str | None = None
    ) -> None:
        self.domain, self.embedder, self.knowledge, self.folder = domain, embedder, knowledge, folder
        self.records = RecordStore(folder / "records.sqlite")
        self.vectors = ChromaStore(domain, folder / "chroma", chroma_url)
        self.bm25 = BM25Index(folder / "bm25")
        self.collection_name = collection_name(domain)
        self._bm25_lock = threading.RLock()  # rebuild may run inside ensure_bm25
        self._stats: RetrievalStats | None = None
        self._count: tuple[str, int] | None = None  # (content hash, chunk count)

    @classmethod
    def for_domain(cls, spec: DomainSpec) -> KnowledgeBase:
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
    def count(self, tag: str | None = None) -> int:
        """Chunks committed. Counting parses every file's id list (9 ms at 3.6k chunks, on every
        search), so the count is kept per content hash, which changes with every commit."""
        wanted = tag or self.content_hash()
        cached = self._count
        if cached is not None and cached[0] == wanted:
            return cached[1]
        total = self.records.chunk_count()
        if self.content_hash() == wanted:  # no commit in between: the pair is consistent
            self._count = (wanted, total)
        return total

    def content_hash(self) -> str:
        return self.records.content_hash()

    def list_documents(self) -> list[dict]:
        off = disabled_counts(self)
        return [
            {
                "source": r.source,
                "title": r.title,
                "chunks": len(r.chunk_ids),
                "disabled": off.get(r.source, 0),
                "ingested_at": r.ingested_at,
                "file_hash": r.file_hash,
            }
            for r in sorted(self.records.files().values(), key=lambda r: r.source)
        ]

    def get_chunks(self, ids: list[str]) -> list[Hit]:
        if not ids:
            return []
        got = self.vectors.get(ids=list(ids))
        by_id = {i: _hit(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}
        return [by_id[i] for i in ids if i in by_id]

    def all_chunks(self, limit: int | None = None, include_disabled: bool = False) -> list[Hit]:
        """Every chunk in document order; chunks a reviewer disabled are left out (they feed training data
        synthesis too, and a chunk judged wrong for answers is wrong to train on) unless asked for."""
        got = self.vectors.get()
        off = frozenset() if include_disabled else disabled_ids(self)
        hits = sorted(
            (_hit(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"]) if i not in off),
            key=lambda h: (h.source, h.position),
        )
        return hits[:limit] if limit is not None else hits

    # ---- confidence, embedder coverage, effective weights -----------------------------------
    def confidence(self, hits: list[Hit]) -> Confidence:
        """THE "is retrieval confident" decision (see :mod:`knowledge.confidence`); ``hits`` from :meth:`search`."""
        params = self.knowledge.retrieval
        if params.min_lexical_confidence is not None:
            threshold, source = params.min_lexical_confidence, "retrieval.min_lexical_confidence"
        else:
            stats = self.stats()
            calibration = stats.calibration if stats else None
            threshold = calibration.threshold if calibration else DEFAULT_LEXICAL_THRESHOLD
            source = "calibrated on this KB" if calibration else "default, KB not calibrated"
        return decide(hits, threshold, params.min_confidence, source)

    def coverage(self, tag: str | None = None) -> EmbedderCoverage | None:
        """The embedder's unknown-token rate on this KB (measured when the KB last changed)."""
        stats = self.stats(tag)
        return stats.coverage if stats else None

    def dense_weight(self, tag: str | None = None) -> tuple[float, str | None]:
        """The dense weight search uses, and a note when it differs from retrieval.dense_weight."""
        params = self.knowledge.retrieval
        adapt = params.adapt_dense_weight and params.dense_weight > 0 and params.bm25_weight > 0  # BM25 must be on
        coverage = self.coverage(tag) if adapt else None
        if coverage is None or not coverage.poor:
            return params.dense_weight, None
        weight = params.dense_weight * coverage.dense_factor()
        return weight, (
            f"dense weight {params.dense_weight:.2f} -> {weight:.2f}: embedder {self.embedder!r} turns "
            f"{coverage.unk_rate:.0%} of the KB's tokens into [UNK] (retrieval.adapt_dense_weight)"
        )

    def retrieval_notes(self) -> list[str]:
        """Trace lines about how search runs on this KB (e.g. the dense arm lowered for poor coverage)."""
        note = self.dense_weight()[1]
        return [note] if note else []

    def stats(self, tag: str | None = None) -> RetrievalStats | None:
        """Coverage, word frequencies and calibration for the committed chunk set (recomputed when stale)."""
        wanted = (tag or self.content_hash(), self.embedder)  # ``tag``: a content hash the caller just read
        cached = self._stats
        if cached is not None and cached.tag() == wanted:
            return cached
        with self._bm25_lock:
            stored = retrieval_stats.load(self.folder)
            if stored is None or stored.tag() != wanted:
                if self.count() == 0:
                    return None
                self.ensure_bm25()  # rebuilding BM25 refreshes the stats too
                stored = self._stats if self._stats is not None and self._stats.tag() == wanted else None
                if stored is None:
                    stored = self._build_stats(self.get_chunks(self._chunk_ids()))
            self._stats = stored
        return stored

    def _build_stats(self, hits: list[Hit]) -> RetrievalStats:
        def top_texts(query: str) -> list[str]:
            ids = [i for i, _ in self.bm25.search(query, _CALIBRATION_HITS)]
            return [texts[i] for i in ids if i in texts]

        texts = {h.chunk_id: index_text(h.title, h.heading, h.text) for h in hits}
        self._stats = retrieval_stats.build(
            self.folder, self.embedder, self.content_hash(), list(texts.values()), top_texts
        )
        return self._stats

    # ---- search -----------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, where: dict | None = None) -> list[Hit]:
        """Hybrid search: top ``k`` (default retrieval.top_k) hits in fused order, best first.

        Callers keep this order (the answer step must not re-sort by dense score). Each hit carries its
        lexical score and whether its cosine can be trusted, which is what :meth:`confidence` reads.
        """
        from knowledge.embedding import embed_query

        if not query or not query.strip():
            raise KnowledgeError("empty search query", hint="pass the question text to search for")
        params = self.knowledge.retrieval
        k = k or params.top_k
        tag = self.content_hash()  # read once: each read opens the record file
        total = self.count(tag)
        if total == 0:
            return []
        n = min(total, max(k * _CANDIDATES_PER_HIT, _MIN_CANDIDATES))
        dense_weight, _ = self.dense_weight(tag)
        use_dense = dense_weight > 0
        qvec = embed_query(self.embedder, query) if use_dense or params.mmr else None
        enabled = enabled_filter(self, where, n)  # curation: disabled chunks leave both arms
        try:
            dense = (  # ids and distances only: texts (and MMR's vectors) are read for the fused hits alone
                enabled.dense(self.vectors.query(qvec, enabled.dense_n, where=enabled.where))
                if qvec is not None and use_dense
                else {"ids": [], "distances": []}
            )
            allowed = set(self.vectors.ids(where=where)) if where else None
        except KnowledgeError:
            raise
        except Exception as exc:  # chroma rejects malformed filters with its own error types
            raise KnowledgeError(
                f"search failed for filter {where!r}: {exc}",
                hint="use Chroma where syntax, e.g. {'source': 'sleep-hygiene.md'}",
            ) from exc
        sparse = enabled.sparse(self._bm25_search(query, enabled.sparse_n, allowed, tag))
        dense_cos = {i: 1.0 - float(d) for i, d in zip(dense["ids"], dense["distances"])}
        fused = self._fuse(dense_cos, sparse, {"dense": dense_weight, "bm25": params.bm25_weight})
        if params.score_threshold is not None:
            fused = [(i, s) for i, s in fused if s >= params.score_threshold]
        bm25_scores = dict(sparse)
        if params.mmr and len(fused) > k and qvec is not None:
            fused = self._mmr(qvec, fused, k, params.mmr_lambda)
        fused = fused[:k]
        known = {h.chunk_id: h for h in self.get_chunks([i for i, _ in fused])}  # texts of the final hits only
        stats = self.stats(tag)
        terms = query_terms(query)
        coverage = stats.coverage if stats else None
        trusted = (coverage is None or not coverage.poor) and text_unk_rate(self.embedder, query) <= UNK_OK
        hits = []
        for chunk_id, score in fused:
            if chunk_id in known:
                hit = known[chunk_id]
                hit.score, hit.dense_score, hit.bm25_score = score, dense_cos.get(chunk_id), bm25_scores.get(chunk_id)
                hit.dense_trusted = trusted
                hits.append(hit)
        if stats is not None:
            texts = [index_text(h.title, h.heading, h.text) for h in hits]
            together = round(coverage_score(terms, texts, stats.lexical), 4)
            for hit, text in zip(hits, texts):
                hit.lexical_score, hit.query_coverage = round(lexical_score(terms, text, stats.lexical), 4), together
        return hits

    def _fuse(
        self, dense_cos: dict[str, float], sparse: list[tuple[str, float]], weights: dict[str, float]
    ) -> list[tuple[str, float]]:
        """Distribution-based score fusion (see knowledge.fusion); ``retrieval.fusion: rrf`` is weighted RRF."""
        params = self.knowledge.retrieval
        if params.fusion == "rrf":
            return weighted_rrf({"dense": list(dense_cos), "bm25": [i for i, _ in sparse]}, weights, params.rrf_k)
        return score_fusion({"dense": list(dense_cos.items()), "bm25": sparse}, weights)

    def _mmr(self, qvec: np.ndarray, fused: list[tuple[str, float]], k: int, lam: float) -> list[tuple[str, float]]:
        ids = [i for i, _ in fused]
        got = self.vectors.get(ids=ids, embeddings=True)
        vec = {i: e for i, e in zip(got["ids"], got["embeddings"])}
        ids = [i for i in ids if i in vec]
        order = mmr(qvec, np.asarray([vec[i] for i in ids], dtype=np.float32), k, lam)
        score = dict(fused)
        return [(ids[j], score[ids[j]]) for j in order]

    # ---- BM25 side --------------------------------------------------------------------------
    def _bm25_search(self, query: str, n: int, allowed: set[str] | None, tag: str) -> list[tuple[str, float]]:
        self.ensure_bm25(tag)
        return self.bm25.search(query, n, allowed)

    def ensure_bm25(self, tag: str | None = None) -> None:
        """Make the in-process BM25 match the committed chunk set (load, or rebuild if stale)."""
        wanted = tag or self.content_hash()
        if self.bm25.loaded_tag == wanted:
            return
        with self._bm25_lock:
            if self.bm25.loaded_tag == wanted:
                return
            if self.bm25.stored_tag() == wanted and self.bm25.load() and self.bm25.loaded_tag == wanted:
                return
            self.rebuild_bm25()

    def _chunk_ids(self) -> list[str]:
        return sorted(i for r in self.records.files().values() for i in r.chunk_ids)

    def rebuild_bm25(self) -> None:
        """Rebuild the BM25 index and the retrieval stats from the committed chunks (after every change)."""
        with self._bm25_lock:
            wanted = self.content_hash()
            hits = self.get_chunks(self._chunk_ids())
            self.bm25.build([h.chunk_id for h in hits], [index_text(h.title, h.heading, h.text) for h in hits], wanted)
            if hits:
                self._build_stats(hits)

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
