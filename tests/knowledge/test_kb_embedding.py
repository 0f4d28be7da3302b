"""Embedding precision: bf16 only where the CPU has native bf16 (or when asked), fp32 otherwise."""

from __future__ import annotations

import pytest

from vertical.core.settings import reset_settings


@pytest.mark.parametrize(
    ("wanted", "native", "expect_bf16"),
    [("auto", True, True), ("auto", False, False), ("fp32", True, False), ("bf16", False, True)],
)
def test_embedding_precision_choice(
    monkeypatch: pytest.MonkeyPatch, wanted: str, native: bool, expect_bf16: bool
) -> None:
    import torch

    import knowledge.embedding as embedding

    monkeypatch.setenv("VERTICAL_EMBED_PRECISION", wanted)
    reset_settings()
    monkeypatch.setattr(embedding, "cpu_has_native_bf16", lambda: native)
    cpu_model = type("Model", (), {"device": torch.device("cpu")})()
    with embedding._precision(cpu_model):
        assert torch.is_autocast_enabled("cpu") is expect_bf16
    reset_settings()


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_query_vector_equals_the_document_path(
    monkeypatch: pytest.MonkeyPatch, embedder_name: str, precision: str
) -> None:
    """A query is embedded by a shorter path than documents (and, under bf16, by a twin whose Linear
    weights are pre-cast); a query must still land exactly where the same text as a chunk would."""
    import numpy as np

    import knowledge.embedding as embedding

    monkeypatch.setenv("VERTICAL_EMBED_PRECISION", precision)
    reset_settings()
    texts = ["how do I sleep better when I am anxious at night", "我最近总是失眠，怎么办？", "ls"]
    as_documents = embedding.embed_texts(embedder_name, texts)
    as_queries = np.stack([embedding.embed_query(embedder_name, t) for t in texts])
    assert as_queries.dtype == np.float32
    assert np.allclose(np.linalg.norm(as_queries, axis=1), 1.0, atol=1e-6)
    assert np.abs(as_documents - as_queries).max() < 1e-6
    reset_settings()


def test_bf16_query_twin_shares_everything_but_linear_weights(embedder_name: str) -> None:
    import torch

    import knowledge.embedding as embedding
    from vertical.core.loaders import load_embedder

    model, twin = load_embedder(embedder_name), embedding._bf16_linear_twin(embedder_name)
    original = dict(model.named_parameters())
    for name, param in twin.named_parameters():
        if param.dtype == torch.bfloat16:
            assert original[name].dtype == torch.float32  # the original keeps fp32 for documents
        else:
            assert param.data_ptr() == original[name].data_ptr(), name  # shared, not copied
    linear = sum(isinstance(m, torch.nn.Linear) for m in twin.modules())
    assert linear and all(m.weight.dtype == torch.bfloat16 for m in twin.modules() if isinstance(m, torch.nn.Linear))
