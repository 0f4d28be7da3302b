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
