"""Persistent BM25 (bm25s) over the domain's chunks, tagged with the KB content hash it was built from.

Tokenisation: lower-cased word tokens minus English stopwords; text containing CJK characters is cut
with jieba (which also passes latin words through), so Chinese queries match Chinese chunks.
The index is rebuilt from the store whenever the content hash it was built from is not the KB's.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from vertical.core.fsutil import atomic_write_json

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_WORD = re.compile(r"\w+", re.UNICODE)
_META = "meta.json"


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def tokenize(text: str) -> list[str]:
    text = text.lower()
    if has_cjk(text):
        pieces = _jieba().lcut_for_search(text)
        words = [w for p in pieces for w in _WORD.findall(p)]
    else:
        words = _WORD.findall(text)
    stop = _stopwords()
    return [w for w in words if w not in stop and not (len(w) == 1 and w.isascii())]


class BM25Index:
    """One folder: bm25s arrays + ``meta.json`` (chunk ids in index order, content hash)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._retriever = None
        self._ids: list[str] = []
        self.loaded_tag: str | None = None  # content hash of the index held in memory

    def stored_tag(self) -> str | None:
        """Content hash the index on disk was built from (None when there is none)."""
        meta = self.folder / _META
        return json.loads(meta.read_text())["content_hash"] if meta.exists() else None

    def build(self, ids: list[str], texts: list[str], content_hash: str) -> None:
        """Index the texts and persist: write a new folder, then swap it in."""
        import bm25s

        retriever = None
        if ids:
            retriever = bm25s.BM25()
            retriever.index([tokenize(t) for t in texts], show_progress=False)
        tmp = self.folder.with_name(self.folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if retriever is not None:
            retriever.save(str(tmp), show_progress=False)
        atomic_write_json(tmp / _META, {"content_hash": content_hash, "ids": ids})
        with self._lock:
            old = self.folder.with_name(self.folder.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if self.folder.exists():
                self.folder.rename(old)
            tmp.rename(self.folder)
            shutil.rmtree(old, ignore_errors=True)
            self._retriever, self._ids, self.loaded_tag = retriever, ids, content_hash

    def load(self) -> bool:
        """Load from disk; False when there is no index yet."""
        import bm25s

        meta_path = self.folder / _META
        if not meta_path.exists():
            return False
        meta = json.loads(meta_path.read_text())
        ids = meta["ids"]
        retriever = bm25s.BM25.load(str(self.folder)) if ids else None
        with self._lock:
            self._retriever, self._ids, self.loaded_tag = retriever, ids, meta["content_hash"]
        return True

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Top ``k`` (chunk id, score) with score > 0; ``allowed`` restricts to those ids."""
        with self._lock:
            retriever, ids = self._retriever, self._ids
        tokens = tokenize(query)
        if retriever is None or not ids or not tokens:
            return []
        mask = None
        if allowed is not None:
            mask = np.fromiter((1.0 if i in allowed else 0.0 for i in ids), dtype=np.float32, count=len(ids))
            if not mask.any():
                return []
        docs, scores = retriever.retrieve(
            [tokens], k=min(k, len(ids)), show_progress=False, weight_mask=mask, n_threads=0
        )
        return [(ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
