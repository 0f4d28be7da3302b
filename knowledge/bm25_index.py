"""Persistent BM25 (bm25s) over the domain's chunks, tagged with the KB content hash it was built from.

Tokenisation: the shared text module's ``words(search=True)`` (jieba's search mode for Chinese, so
焦虑症 also indexes 焦虑; a Unicode word regex for latin text), contractions split (can't → can),
traditional Chinese folded onto simplified (a 焦慮 query finds a 焦虑 chunk), minus bm25s' short
English stopword list, the shared Chinese one, and single latin letters. On the counseling eval set
(60 questions, BM25 alone) this scores as the previous tokenizer did (hit@1 51, hit@3 56, MRR@5
0.897); the shared module's longer English list scored hit@3 55, because IDF already discounts
common words. On the xinli set (11 questions) it ranks one more answer first than before.
The index is rebuilt from the store whenever the content hash it was built from is not the KB's.
"""

from __future__ import annotations

import json
import shutil
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from vertical.core.fsutil import atomic_write_json
from vertical.core.text import to_simplified, words
from vertical.core.text.stopwords import ZH as CHINESE_STOPWORDS

_META = "meta.json"
# Recorded in meta.json: an index built by another tokenizer reads as stale and is rebuilt.
TOKENIZER_VERSION = "text.words-search-v1"


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | CHINESE_STOPWORDS


def tokenize(text: str) -> list[str]:
    stop = _stopwords()
    tokens = (part for word in words(to_simplified(text), search=True) for part in word.split("'"))
    return [t for t in tokens if t not in stop and not (len(t) == 1 and t.isascii())]


def _bm25s() -> Any:
    """bm25s, with its logger back under the application's logging config (it forces DEBUG at import,
    which printed 'Building index from tokens' in every build; `vertical -v` still shows it)."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


class BM25Index:
    """One folder: bm25s arrays + ``meta.json`` (chunk ids in index order, content hash)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._retriever = None
        self._ids: list[str] = []
        self.loaded_tag: str | None = None  # content hash of the index held in memory

    def stored_tag(self) -> str | None:
        """Content hash the index on disk was built from (None when there is none, or another tokenizer built it)."""
        meta_path = self.folder / _META
        if not meta_path.exists():
            return None
        meta = json.loads(meta_path.read_text())
        return meta["content_hash"] if meta.get("tokenizer") == TOKENIZER_VERSION else None

    def build(self, ids: list[str], texts: list[str], content_hash: str) -> None:
        """Index the texts and persist: write a new folder, then swap it in."""
        bm25s = _bm25s()

        retriever = None
        if ids:
            retriever = bm25s.BM25()
            retriever.index([tokenize(t) for t in texts], show_progress=False)
        tmp = self.folder.with_name(self.folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if retriever is not None:
            retriever.save(str(tmp), show_progress=False)
        atomic_write_json(tmp / _META, {"content_hash": content_hash, "ids": ids, "tokenizer": TOKENIZER_VERSION})
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
        bm25s = _bm25s()

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
