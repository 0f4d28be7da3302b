"""Curation: a team reads a document's chunks and switches single chunks (or whole documents) off.

A disabled chunk keeps its text and vector but search never returns it. The flag is Chroma metadata
(``disabled: true``, set with ``collection.update``, which merges into the chunk's metadata), so it is
durable and shared by every process on the store. What a re-ingest does with it:

- unchanged file: skipped, flags untouched;
- changed file: chunk ids hash (source, text), so a chunk whose text is unchanged keeps its id and its
  flag (sync's upsert of a moved chunk merges metadata, it does not replace it); a chunk whose text
  changed is a new chunk and starts enabled, the old disabled one is deleted as stale;
- deleted and uploaded again: the chunks are new, so enabled.

Search reads the disabled set through :func:`enabled_filter`. Few disabled chunks: both arms over-fetch
and drop them (a Chroma ``$ne`` filter measured 15x slower than a plain query at 10k chunks); many: the
dense arm filters in Chroma instead. The set is cached per KB instance, keyed on the content hash, for
``_CACHE_S`` (writes here clear it at once; another process's toggle shows within that time).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vertical.core.errors import ChunkNotFoundError, DocumentNotFoundError

if TYPE_CHECKING:  # store imports this module: no import cycle at run time
    from knowledge.store import KnowledgeBase

FLAG = "disabled"
_CACHE_S = 2.0
_OVERFETCH_MAX = 500  # up to this many disabled chunks, over-fetching beats a Chroma filter
_WRITE_BATCH = 1000
_cache: weakref.WeakKeyDictionary[Any, tuple[str, float, frozenset[str]]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


# ---- reads ------------------------------------------------------------------------------------
def disabled_ids(kb: KnowledgeBase) -> frozenset[str]:
    """Ids of the KB's disabled chunks (cached briefly: search calls this every time)."""
    tag, now = kb.content_hash(), time.monotonic()
    with _cache_lock:
        held = _cache.get(kb)
    if held is not None and held[0] == tag and now - held[1] < _CACHE_S:
        return held[2]
    ids = frozenset(kb.vectors.ids(where={FLAG: True}))
    with _cache_lock:
        _cache[kb] = (tag, now, ids)
    return ids


def disabled_counts(kb: KnowledgeBase) -> dict[str, int]:
    """Disabled chunks per document source."""
    if not disabled_ids(kb):
        return {}
    got = kb.vectors.get(where={FLAG: True})
    return dict(Counter(str((m or {}).get("source", "")) for m in got["metadatas"]))


def document_chunks(kb: KnowledgeBase, source: str) -> dict[str, Any]:
    """``{source, title, chunks: [{id, text, heading, position, tokens, disabled}]}`` in document order.

    ``tokens`` is counted with the embedder's tokenizer, the one chunking sizes chunks with."""
    from vertical.core.loaders import load_tokenizer
    from vertical.core.text import count_tokens

    record = _record(kb, source)
    tokenizer = load_tokenizer(kb.embedder)
    hits = sorted(kb.get_chunks(list(record.chunk_ids)), key=lambda h: h.position)
    chunks = [
        {
            "id": h.chunk_id,
            "text": h.text,
            "heading": h.heading,
            "position": h.position,
            "tokens": count_tokens(h.text, tokenizer),
            "disabled": bool(h.metadata.get(FLAG)),
        }
        for h in hits
    ]
    return {"source": source, "title": record.title, "chunks": chunks}


# ---- writes -----------------------------------------------------------------------------------
def set_chunk_disabled(kb: KnowledgeBase, chunk_id: str, disabled: bool) -> dict[str, Any]:
    """Switch one chunk off (or on again); ``{"chunk_id", "source", "disabled": 0|1, "changed"}``."""
    got = kb.vectors.get(ids=[chunk_id])
    if not got["ids"]:
        raise ChunkNotFoundError(
            f"no chunk {chunk_id!r} in the {kb.domain!r} knowledge base",
            hint="take ids from GET /v1/domains/{domain}/documents/{source}/chunks (a re-ingest may have replaced it)",
        )
    meta = got["metadatas"][0] or {}
    changed = _write(kb, [chunk_id], disabled) if bool(meta.get(FLAG)) != disabled else 0
    return {"chunk_id": chunk_id, "source": meta.get("source", ""), "disabled": int(disabled), "changed": changed}


def set_document_disabled(kb: KnowledgeBase, source: str, disabled: bool) -> dict[str, Any]:
    """Switch every chunk of one document off (or on); ``{"source", "disabled": n now off, "changed"}``."""
    ids = list(_record(kb, source).chunk_ids)
    changed = _write(kb, ids, disabled)
    return {"source": source, "disabled": len(ids) if disabled else 0, "changed": changed}


def _write(kb: KnowledgeBase, ids: list[str], disabled: bool) -> int:
    """Set the flag on ``ids`` (update merges into the metadata: text, vector and the rest stay)."""
    for start in range(0, len(ids), _WRITE_BATCH):
        batch = ids[start : start + _WRITE_BATCH]
        kb.vectors.collection.update(ids=batch, metadatas=[{FLAG: disabled}] * len(batch))
    with _cache_lock:
        _cache.clear()  # every instance re-reads: this process must see its own write at once
    return len(ids)


def _record(kb: KnowledgeBase, source: str) -> Any:
    record = kb.records.get(source)
    if record is None:
        raise DocumentNotFoundError(
            f"no document {source!r} in the {kb.domain!r} knowledge base",
            hint="list documents with GET /v1/domains/{domain}/documents or `vertical kb docs <domain>`",
        )
    return record


# ---- search -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnabledFilter:
    """How one search leaves disabled chunks out of both arms."""

    off: frozenset[str]
    where: dict | None  # the dense arm's Chroma filter
    dense_n: int  # candidates to ask each arm for (over-fetched by the disabled count)
    sparse_n: int
    n: int

    def dense(self, result: dict) -> dict:
        """Drop disabled chunks from a Chroma query result (parallel lists), keep the best ``n``."""
        if not self.off or not result.get("ids"):
            return result
        ids = result["ids"]
        keep = [j for j, i in enumerate(ids) if i not in self.off][: self.n]
        # every per-hit column (ids, distances, documents, metadatas, embeddings as a list or an array)
        return {
            key: [value[j] for j in keep] if value is not None and len(value) == len(ids) else value
            for key, value in result.items()
        }

    def sparse(self, hits: list[tuple[str, float]]) -> list[tuple[str, float]]:
        return [(i, s) for i, s in hits if i not in self.off][: self.n] if self.off else hits


def enabled_filter(kb: KnowledgeBase, where: dict | None, n: int) -> EnabledFilter:
    """The filter :meth:`KnowledgeBase.search` applies for ``n`` candidates per arm."""
    off = disabled_ids(kb)
    if not off:
        return EnabledFilter(off, where, n, n, n)
    total = kb.count()
    sparse_n = min(total, n + len(off))  # BM25 top-k is cheap at any k
    if len(off) <= _OVERFETCH_MAX:
        return EnabledFilter(off, where, sparse_n, sparse_n, n)
    clause = {FLAG: {"$ne": True}}  # missing flag counts as enabled ($ne matches absent keys)
    return EnabledFilter(off, {"$and": [where, clause]} if where else clause, n, sparse_n, n)
