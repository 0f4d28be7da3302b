"""Embeddings computed by us with the domain's sentence-transformers model (batched, unit-length)."""

from __future__ import annotations

import numpy as np

from vertical.runtime import load_embedder

EMBED_BATCH = 64


def embed_texts(embedder_name: str, texts: list[str], batch_size: int = EMBED_BATCH) -> np.ndarray:
    """Unit vectors for ``texts`` (cosine = dot product). Identical texts are embedded once."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    unique = list(dict.fromkeys(texts))
    model = load_embedder(embedder_name)
    vectors = model.encode(
        unique, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    ).astype(np.float32)
    row = {text: i for i, text in enumerate(unique)}
    return vectors[[row[t] for t in texts]]


def embed_query(embedder_name: str, query: str) -> np.ndarray:
    return embed_texts(embedder_name, [query])[0]
