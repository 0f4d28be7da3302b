"""The per-file commit protocol and crash recovery (the only code that writes chunks).

Order for one file: mark it pending → upsert its new chunks → delete its stale chunks → record the
new chunk ids and clear the mark (one SQLite transaction). A job killed anywhere in between leaves
a pending mark; :func:`reconcile` then removes chunks no record owns, and forgets a record whose
chunks are no longer all present so the file is ingested again. Ids are deterministic, so redoing
any step never duplicates a chunk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from knowledge.chunking import Chunk
from knowledge.record_manager import FileRecord, now_iso
from knowledge.store import KnowledgeBase


@dataclass(frozen=True)
class FileChange:
    written: int  # chunks embedded and written
    removed: int  # stale chunks deleted
    total: int  # chunks the file has now


def _metadata(chunk: Chunk, ingested_at: str) -> dict:
    return {
        "source": chunk.source,
        "title": chunk.title,
        "heading": chunk.heading,
        "position": chunk.position,
        "hash": chunk.hash,
        "ingested_at": ingested_at,
    }


def new_chunks(kb: KnowledgeBase, source: str, chunks: list[Chunk]) -> list[Chunk]:
    """Chunks of ``source`` not stored yet: only these need embeddings."""
    record = kb.records.get(source)
    old = set(record.chunk_ids) if record else set()
    return [c for c in chunks if c.id not in old]


@dataclass
class FileUpdate:
    """One file's new chunk set, ready to commit (``embeddings`` holds a vector per new chunk id)."""

    source: str
    origin: str
    file_hash: str
    config: str
    title: str
    chunks: list[Chunk]


def commit_files(kb: KnowledgeBase, updates: list[FileUpdate], embeddings: dict[str, np.ndarray]) -> list[FileChange]:
    """Replace each file's chunks, for a group of files at once: one pending mark transaction, one
    vector upsert, one delete, one record transaction (per-file round trips cost a quarter of a
    first ingest). The crash protocol is the per-file one applied to the whole group."""
    ingested_at = now_iso()
    to_write: list[Chunk] = []
    vectors: dict[str, np.ndarray] = dict(embeddings)
    stale: list[str] = []
    changes: list[FileChange] = []
    for u in updates:
        record = kb.records.get(u.source)
        old_ids = set(record.chunk_ids) if record else set()
        fresh = [c for c in u.chunks if c.id not in old_ids]
        # Kept chunks may have moved (position/heading): rewrite their metadata with their stored vectors.
        kept = [c for c in u.chunks if c.id in old_ids]
        moved: list[Chunk] = []
        if kept:
            got = kb.vectors.get(ids=[c.id for c in kept], embeddings=True)
            meta = dict(zip(got["ids"], got["metadatas"]))
            vectors.update({i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], got["embeddings"])})
            for c in kept:
                m = meta.get(c.id) or {}
                if c.id not in meta:
                    fresh.append(c)  # lost from the vector store: needs writing again
                elif (m.get("position"), m.get("heading"), m.get("title")) != (c.position, c.heading, c.title):
                    moved.append(c)
        missing = [c.id for c in fresh if c.id not in vectors]
        if missing:
            raise ValueError(f"no embedding for {len(missing)} new chunk(s) of {u.source}")
        to_write += fresh + moved
        file_stale = sorted(old_ids - {c.id for c in u.chunks})
        stale += file_stale
        changes.append(FileChange(written=len(fresh), removed=len(file_stale), total=len(u.chunks)))
    kb.records.mark_pending([u.source for u in updates])
    unique = list({c.id: c for c in to_write}.values())  # Chroma rejects an id twice in one upsert
    if unique:
        kb.vectors.upsert(
            [c.id for c in unique],
            np.stack([vectors[c.id] for c in unique]),
            [c.text for c in unique],
            [_metadata(c, ingested_at) for c in unique],
        )
    if stale:
        kb.vectors.delete(sorted(set(stale)))
    kb.records.commit_files(
        [
            FileRecord(u.source, u.origin, u.file_hash, u.config, u.title, tuple(c.id for c in u.chunks), ingested_at)
            for u in updates
        ]
    )
    return changes


def remove_source(kb: KnowledgeBase, source: str) -> int:
    """Delete every chunk of ``source`` and its record; returns how many chunks it had."""
    record = kb.records.get(source)
    ids = set(record.chunk_ids) if record else set()
    kb.records.mark_pending(source)
    ids |= set(kb.vectors.ids(where={"source": source}))
    if ids:
        kb.vectors.delete(sorted(ids))
    kb.records.remove_file(source)
    return len(record.chunk_ids) if record else 0


def stored_embedders(kb: KnowledgeBase) -> set[str]:
    """The embedders the stored vectors were made with (from each file's recorded chunk config)."""
    names = set()
    for record in kb.records.files().values():
        try:
            names.add(str(json.loads(record.config).get("embedder", "")))
        except ValueError:
            names.add("")
    return names


def reset_vectors(kb: KnowledgeBase) -> list[str]:
    """Drop every vector because the embedder changed; returns the sources that must be embedded again.

    Chunk ids do not depend on the embedder, so without this a changed ``embedder:`` would keep the
    old vectors. Order: mark every file pending → drop the collection → :func:`reconcile` forgets
    each file (its chunks are gone). A crash after the drop leaves the marks, and the next run's
    reconcile does the same; the scan then ingests the files as new.
    """
    sources = sorted(kb.records.files())
    if sources:
        kb.records.mark_pending(sources)
    kb.vectors.drop()
    return reconcile(kb)


def reconcile(kb: KnowledgeBase) -> list[str]:
    """Repair what an interrupted job left; returns the sources that must be ingested again."""
    redo = []
    for source in kb.records.pending():
        record = kb.records.get(source)
        recorded = set(record.chunk_ids) if record else set()
        present = set(kb.vectors.ids(where={"source": source}))
        if recorded <= present:
            orphans = sorted(present - recorded)
            if orphans:
                kb.vectors.delete(orphans)
            kb.records.clear_pending(source)
        else:  # some recorded chunks are gone: forget the file entirely, the next scan re-adds it
            if present:
                kb.vectors.delete(sorted(present))
            kb.records.remove_file(source)
            redo.append(source)
    return redo
