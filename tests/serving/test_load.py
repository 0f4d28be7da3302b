"""Load: 200 requests from 20 concurrent clients against the real server; fuzz: schemathesis."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plain_server(runtime):
    """The domain without retrieval: this test measures the server under load, not the KB."""
    import dataclasses

    from serving_live_server import LiveServer

    from serving.api import create_app
    from serving.api.config import ServeSettings

    plain = dataclasses.replace(runtime, _kb=None, _kb_checked=True, notes=[])
    app = create_app([], ServeSettings(queue_limit=16), runtimes={plain.name: plain})
    with LiveServer(app) as server:
        yield server


def test_200_requests_from_20_clients_all_answered(plain_server, runtime):
    live_server = plain_server
    body = {
        "model": runtime.name,
        "max_tokens": 8,
        "messages": [{"role": "user", "content": "How can I sleep better?"}],
    }
    statuses: list[int] = []

    def one(i: int) -> int:
        with httpx.Client(base_url=live_server.url, timeout=120) as client:
            for _ in range(50):
                r = client.post("/v1/chat/completions", json=body)
                statuses.append(r.status_code)
                if r.status_code != 429:
                    return r.status_code
                time.sleep(float(r.headers.get("retry-after", "1")))
        return 429

    started = time.perf_counter()
    with ThreadPoolExecutor(20) as pool:
        final = list(pool.map(one, range(200)))
    elapsed = time.perf_counter() - started
    assert final.count(200) == 200, f"final statuses: {sorted(set(final))}"
    assert not [s for s in statuses if s >= 500]
    assert elapsed < 180
    metrics = httpx.get(live_server.url + "/metrics").text
    assert 'vertical_requests_total{route="/v1/chat/completions",status="200"}' in metrics


def test_schemathesis_finds_no_server_errors(runtime):
    import schemathesis
    from hypothesis import HealthCheck, settings

    from serving.api import create_app
    from serving.api.config import ServeSettings

    app = create_app([], ServeSettings(), runtimes={runtime.name: runtime})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    fast = schema.exclude(path_regex="documents|jobs")  # uploads start ingestion threads: tested above
    failures = []
    from hypothesis import given

    def check(case) -> None:
        if isinstance(case.body, dict):
            case.body["max_tokens"] = 2  # keep model calls tiny
        response = case.call()
        if response.status_code >= 500 and response.status_code not in (503, 504):
            failures.append((case.method, case.path, response.status_code, response.text[:200]))

    for op in fast.get_all_operations():
        strategy = op.ok().as_strategy()
        settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)(
            given(case=strategy)(check)
        )()
    assert failures == []
