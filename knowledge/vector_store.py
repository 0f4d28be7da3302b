"""The Chroma side of the store: one cosine collection per domain, embeddings always supplied by us.

Local: ``PersistentClient`` at ``<domain_dir>/chroma``; ``VERTICAL_CHROMA_URL`` switches to
``HttpClient``. Telemetry is off, and the collection has no embedding function: every write and
query passes vectors, so Chroma never tries to download its default ONNX model.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from vertical.core.errors import KnowledgeError

_WRITE_BATCH = 1000
_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def collection_name(domain: str) -> str:
    return f"vertical-{domain}".rstrip("-_")


def _client(folder: Path, url: str | None) -> Any:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    key = url or str(folder.resolve())
    with _clients_lock:
        if key not in _clients:
            if url:
                parsed = urlparse(url if "://" in url else f"http://{url}")
                _clients[key] = chromadb.HttpClient(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=settings,
                )
            else:
                folder.mkdir(parents=True, exist_ok=True)
                _clients[key] = chromadb.PersistentClient(path=str(folder), settings=settings)
        return _clients[key]


class ChromaStore:
    def __init__(self, domain: str, folder: Path, url: str | None = None) -> None:
        self.domain, self.folder, self.url = domain, folder, url
        self._collection = None

    @property
    def collection(self) -> Any:
        if self._collection is None:
            try:
                client = _client(self.folder, self.url)
                self._collection = client.get_or_create_collection(
                    collection_name(self.domain), embedding_function=None, metadata={"hnsw:space": "cosine"}
                )
            except Exception as exc:  # connection refused, bad URL, corrupt folder
                where = self.url or self.folder
                raise KnowledgeError(
                    f"cannot open the Chroma collection for domain {self.domain!r} at {where}: {exc}",
                    hint="check VERTICAL_CHROMA_URL / that the Chroma server is running"
                    if self.url
                    else "delete the domain's chroma/ folder and re-run `vertical ingest`",
                ) from exc
        return self._collection

    def exists(self) -> bool:
        """True when there may be data (avoids creating an empty store just to read it)."""
        return bool(self.url) or (self.folder / "chroma.sqlite3").exists()

    def upsert(self, ids: list[str], embeddings: np.ndarray, documents: list[str], metadatas: list[dict]) -> None:
        for start in range(0, len(ids), _WRITE_BATCH):
            end = start + _WRITE_BATCH
            self.collection.upsert(
                ids=ids[start:end],
                embeddings=embeddings[start:end],
                documents=documents[start:end],
                metadatas=metadatas[start:end],
            )

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), _WRITE_BATCH):
            self.collection.delete(ids=ids[start : start + _WRITE_BATCH])

    def ids(self, where: dict | None = None) -> list[str]:
        if not self.exists():
            return []
        return list(self.collection.get(where=where, include=[])["ids"])

    def get(
        self,
        ids: list[str] | None = None,
        where: dict | None = None,
        limit: int | None = None,
        embeddings: bool = False,
    ) -> dict:
        include = ["documents", "metadatas"] + (["embeddings"] if embeddings else [])
        if not self.exists():
            return {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        return self.collection.get(ids=ids, where=where, limit=limit, include=include)

    def query(self, embedding: np.ndarray, n: int, where: dict | None = None) -> dict:
        """Nearest ``n`` chunks: ids and distances (cosine distance = 1 - cos). No texts: reading them is
        half the query's time, and search reads them (with :meth:`get`) for the final hits only."""
        if not self.exists():
            return {"ids": [], "distances": []}
        result = self.collection.query(query_embeddings=[embedding], n_results=n, where=where, include=["distances"])
        return {"ids": result["ids"][0], "distances": result["distances"][0]}

    def drop(self) -> None:
        """Delete the whole collection (vectors of another embedder: other dimensions, other space)."""
        if not self.exists():
            return
        try:
            _client(self.folder, self.url).delete_collection(collection_name(self.domain))
        except (ValueError, KeyError):  # already gone (chromadb's NotFoundError subclasses ValueError)
            pass
        self._collection = None

    def count(self) -> int:
        return self.collection.count() if self.exists() else 0
