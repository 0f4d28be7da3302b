"""Answer similarity: cosine between the answer's and the reference's sentence embeddings."""

from __future__ import annotations

from collections.abc import Sequence


def answer_similarity(answers: Sequence[str], references: Sequence[str], embedder: str) -> list[float]:
    """One cosine per pair, in [-1, 1] (MiniLM cosines of related sentences sit around 0.4–0.9)."""
    if not answers:
        return []
    from vertical.core.loaders import load_embedder

    model = load_embedder(embedder)
    a = model.encode(list(answers), normalize_embeddings=True)
    r = model.encode(list(references), normalize_embeddings=True)
    return [float(x) for x in (a * r).sum(axis=1)]
