"""Work nobody will read is stopped (timeouts, cancelled callers, closed streams), and requests that
arrive a few ms apart still share one batch."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from vertical.core.errors import GenerationCancelledError

pytestmark = pytest.mark.slow
Q = [{"role": "user", "content": "Tell me a long story about a lighthouse keeper."}]


def _wait_idle(engine, timeout_s: float) -> float:
    start = time.monotonic()
    while engine.queue_depth() and time.monotonic() - start < timeout_s:
        time.sleep(0.05)
    return time.monotonic() - start


def test_cancelled_row_stops_while_its_batch_mates_finish(engine):
    from serving.engines.base import GenerationParams

    cancel = threading.Event()
    long = engine.submit(Q, GenerationParams(max_new_tokens=400, repetition_penalty=1.0), cancel=cancel)
    short = engine.submit(Q, GenerationParams(max_new_tokens=6, repetition_penalty=1.0))
    # a finished row is answered at once, while its batch mate is still generating
    assert short.result(timeout=60).completion_tokens == 6
    assert not long.done()
    started = time.monotonic()
    cancel.set()
    with pytest.raises(GenerationCancelledError):
        long.result(timeout=60)
    assert time.monotonic() - started < 5  # 400 tokens would take far longer on 2 cores
    assert _wait_idle(engine, 5) < 5


def test_a_request_cancelled_while_queued_never_runs(engine):
    from serving.engines.base import GenerationParams

    cancel = threading.Event()
    cancel.set()
    before = engine.batches_run
    future = engine.submit(Q, GenerationParams(max_new_tokens=50), cancel=cancel)
    with pytest.raises(GenerationCancelledError):
        future.result(timeout=30)
    assert engine.batches_run == before


def test_closing_a_stream_early_stops_its_generation(engine):
    from serving.engines.base import GenerationParams

    stream = engine.stream(Q, GenerationParams(max_new_tokens=400, repetition_penalty=1.0))
    first = next(stream)
    assert first
    stream.close()  # the reader went away after one delta
    assert _wait_idle(engine, 10) < 10


def test_staggered_arrivals_are_gathered_into_one_batch(generator_name):
    """8 requests arriving 40 ms apart (280 ms in all): a batch that stays open while requests keep
    coming (100 ms quiet gap) takes them all, where a fixed 100 ms window from the first would not."""
    from serving.engines.base import GenerationParams
    from serving.engines.transformers_engine import TransformersEngine

    engine = TransformersEngine(generator_name, window_s=0.1, max_wait_s=2.0)
    try:
        engine.generate(Q, GenerationParams(max_new_tokens=1))  # warm up outside the measurement
        before = engine.batches_run

        def one(i: int):
            time.sleep(0.04 * i)
            return engine.generate(Q, GenerationParams(max_new_tokens=4))

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, range(8)))
        assert all(r.completion_tokens == 4 for r in results)
        assert engine.batches_run - before == 1 and engine.max_batch_seen == 8
    finally:
        engine.close()


def test_queued_requests_are_batched_with_others_of_similar_length(generator_name):
    """16 requests queued behind a running one, short and long prompts interleaved, max batch 8: the
    oldest (short) goes first with the other shorts, so no batch pads a short prompt to a long one."""
    from serving.engines.base import GenerationParams
    from serving.engines.transformers_engine import TransformersEngine

    short = [{"role": "user", "content": "Hi."}]
    long = [{"role": "user", "content": "Tell me about sleep. " * 40}]
    one = GenerationParams(max_new_tokens=1)
    engine = TransformersEngine(generator_name, window_s=0.05, max_wait_s=0.2)
    try:
        engine.generate(short, one)  # warm up
        gap = len(engine.encode(long)) - len(engine.encode(short))
        busy = engine.submit(short, GenerationParams(max_new_tokens=48))  # the queue fills behind this one
        while engine.batches_run < 2:
            time.sleep(0.01)
        futures = [engine.submit(short if i % 2 == 0 else long, one) for i in range(16)]
        engine.padding_tokens = 0
        assert all(f.result(timeout=120).completion_tokens == 1 for f in futures) and busy.result(timeout=120)
        assert engine.padding_tokens < gap  # first-come batches would pad 4 short rows by the gap, twice
    finally:
        engine.close()


def test_api_timeout_returns_504_and_frees_the_engine(runtime, engine):
    from fastapi.testclient import TestClient

    from serving.api import create_app
    from serving.api.config import ServeSettings

    client = TestClient(create_app([], ServeSettings(request_timeout_s=2), runtimes={runtime.name: runtime}))
    body = {
        "model": f"{runtime.name}:base",
        "max_tokens": 400,
        "messages": [{"role": "user", "content": "Tell me a long story about a lighthouse keeper."}],
    }
    started = time.monotonic()
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 504 and "longer than 2s" in r.json()["error"]["message"]
    # the generation stopped with the 504 instead of running on for ~400 tokens
    assert _wait_idle(engine, 10) < 5, time.monotonic() - started


def test_stream_usage_is_reported_when_asked(live_server, runtime):
    from openai import OpenAI

    client = OpenAI(base_url=live_server.url + "/v1", api_key="unused")
    chunks = list(
        client.chat.completions.create(
            model=runtime.name,
            max_tokens=8,
            stream=True,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "How can I sleep better?"}],
        )
    )
    usage = chunks[-1].usage
    assert usage is not None and 0 < usage.completion_tokens <= 9 and usage.prompt_tokens > 20
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_openai_engine_cancel_closes_the_server_request(live_server, runtime, engine):
    from serving.engines.base import GenerationParams, cancel_scope
    from serving.engines.openai_engine import OpenAIEngine

    client = OpenAIEngine(live_server.url + "/v1", runtime.name + ":base")
    cancel = threading.Event()
    threading.Timer(1.5, cancel.set).start()
    with cancel_scope(cancel), pytest.raises(GenerationCancelledError):
        client.generate(Q, GenerationParams(max_new_tokens=400))
    # our server saw its client leave mid-stream and stopped the generation
    assert _wait_idle(engine, 10) < 5
    client.close()


def test_close_stops_the_running_batch_and_fails_what_waits(generator_name):
    """What atexit does too: a daemon worker left inside torch at interpreter exit aborts the process."""
    from serving.engines.base import GenerationParams
    from serving.engines.transformers_engine import TransformersEngine
    from vertical.core.errors import EngineUnavailableError

    engine = TransformersEngine(generator_name)
    running = engine.submit(Q, GenerationParams(max_new_tokens=400, repetition_penalty=1.0))
    while engine.batches_run == 0:  # the long request is generating
        time.sleep(0.02)
    started = time.monotonic()
    engine.close()
    assert time.monotonic() - started < 5 and not engine._worker.is_alive()
    with pytest.raises(EngineUnavailableError, match="closed"):
        running.result(timeout=1)
    with pytest.raises(EngineUnavailableError, match="closed"):
        engine.submit(Q, GenerationParams(max_new_tokens=4))
