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


def test_stop_sequences_end_each_row_and_are_cut_from_generate_and_stream(engine):
    from serving.engines.base import GenerationParams

    plain = engine.generate(Q, GenerationParams(max_new_tokens=16))
    assert "Paris" in plain.text
    params = GenerationParams(max_new_tokens=16, stop=("Paris",))
    with ThreadPoolExecutor(2) as pool:  # one row with a stop, one without, in the same batch
        stopped, other = pool.map(lambda p: engine.generate(Q, p), [params, GenerationParams(max_new_tokens=16)])
    assert stopped.text == plain.text[: plain.text.index("Paris")].strip() and stopped.finish_reason == "stop"
    assert "Paris" in other.text
    streamed = "".join(engine.stream(Q, params))
    assert "Paris" not in streamed and streamed.strip() == stopped.text


def test_finish_reason_is_length_only_when_the_limit_ended_it(engine):
    from serving.engines.base import Completion, GenerationParams

    assert engine.generate(Q, GenerationParams(max_new_tokens=2)).finish_reason == "length"
    assert engine.generate(Q, GenerationParams(max_new_tokens=64)).finish_reason == "stop"
    items = list(engine.stream_completion(Q, GenerationParams(max_new_tokens=2)))
    assert isinstance(items[-1], Completion) and items[-1].finish_reason == "length"
    assert items[-1].completion_tokens == 2 and "".join(items[:-1]).strip() == items[-1].text


def test_seed_makes_sampling_reproducible_and_top_p_is_used(engine):
    from serving.engines.base import GenerationParams

    def sample(seed: int) -> str:
        return engine.generate(Q, GenerationParams(max_new_tokens=12, temperature=1.5, top_p=0.95, seed=seed)).text

    with ThreadPoolExecutor(3) as pool:  # seeded rows run alone, so concurrency does not change them
        first, again, other = pool.map(sample, [7, 7, 8])
    assert first == again
    assert len({first, other, sample(9), sample(10)}) > 1
    assert engine.capabilities == frozenset({"stop", "seed", "top_p"})


def test_stop_helpers():
    from serving.engines.base import first_stop, held_back

    assert first_stop("a b STOP c END", ("END", "STOP")) == 4 and first_stop("abc", ("x",)) is None
    assert held_back("hello ST", ("STOP",)) == 2 and held_back("hello", ("STOP",)) == 0
    assert held_back("xx</", ("</s>", "<|im_end|>")) == 2
