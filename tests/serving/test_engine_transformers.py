"""Transformers engine: dynamic batching, per-request limits, streaming, async."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from vertical.core.errors import EngineUnavailableError

pytestmark = pytest.mark.slow
Q = [{"role": "user", "content": "What is the capital of France?"}]


def test_concurrent_requests_share_a_batch_with_their_own_limits(engine):
    from serving.engines.base import GenerationParams

    before = engine.batches_run
    limits = [3, 12, 5, 8]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda n: engine.generate(Q, GenerationParams(max_new_tokens=n)), limits))
    assert engine.batches_run - before < len(limits)  # gathered into fewer generate() calls
    assert engine.max_batch_seen >= 2
    for n, completion in zip(limits, results):
        assert 0 < completion.completion_tokens <= n
    assert "Paris" in results[1].text


def test_stream_yields_the_same_text_as_generate(engine):
    from serving.engines.base import GenerationParams

    params = GenerationParams(max_new_tokens=12)
    assert "".join(engine.stream(Q, params)).strip() == engine.generate(Q, params).text


def test_async_generate_and_stream(engine):
    from serving.engines.base import GenerationParams

    async def both():
        params = GenerationParams(max_new_tokens=6)
        full = await engine.agenerate(Q, params)
        parts = [d async for d in engine.astream(Q, params)]
        return full, parts

    full, parts = asyncio.run(both())
    assert len(parts) > 1 and "".join(parts).strip() == full.text


def test_unknown_adapter_is_rejected_with_the_known_list(engine):
    from serving.engines.base import GenerationParams

    with pytest.raises(EngineUnavailableError, match="adapter 'nope'"):
        engine.generate(Q, GenerationParams(adapter="nope"))
