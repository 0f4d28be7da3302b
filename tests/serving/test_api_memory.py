"""Server memory stays flat over a session of mixed requests (issue 16.6): what a request leaves behind
is bounded. The whole-process RSS check is bench/memory.py; here the specific bounds are asserted."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(tiny_domain: Path, engine):
    from serving.api import create_app
    from serving.api.config import ServeSettings
    from serving.domains import load_runtime

    rt = load_runtime(tiny_domain, engine)
    with TestClient(create_app([], ServeSettings(), runtimes={rt.name: rt})) as c:
        yield c


def _series(client: TestClient) -> set[tuple[str, tuple]]:
    from prometheus_client.parser import text_string_to_metric_families

    text = client.get("/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items())))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _mixed(client: TestClient, i: int, domain: str) -> int:
    """One request of a 10-kind mix; every kind carries values that differ per request."""
    q = f"How can I sleep better? (request {i})"
    chat = {"model": domain, "max_tokens": 2, "messages": [{"role": "user", "content": q}]}
    kind = i % 10
    if kind == 0 and i % 40 == 0:  # a few real generations (each one costs seconds on 2 cores)
        return client.post("/v1/chat/completions", json=chat).status_code
    if kind in (0, 1):
        return client.post("/v1/chat/completions", json={**chat, "model": f"client-model-{i}"}).status_code
    if kind == 2:
        return client.get(f"/v1/models/{domain}:adapter-{i}").status_code
    if kind == 3:
        return client.get(f"/v1/unknown/route/{i}").status_code
    if kind == 4:
        return client.post("/v1/chat/completions", json={**chat, f"field_{i}": 1}).status_code
    if kind == 5:
        return client.get(f"/v1/domains/{domain}-{i}/documents").status_code
    if kind == 6:
        return client.get(f"/v1/domains/{domain}/chunks", params={"q": q}).status_code
    if kind == 7:
        body = {"question": q, "answer": "a", "rating": 1, "model": f"client-model-{i}"}
        return client.post(f"/v1/domains/{domain}/feedback", json=body).status_code
    if kind == 8:
        return client.delete(f"/v1/jobs/{i}").status_code
    return client.get("/v1/models").status_code


def test_metric_series_do_not_grow_with_request_values(client):
    domain = next(iter(client.app.state.vertical.runtimes))
    _series(client)  # the scrape itself is a route: count it before comparing
    statuses = [_mixed(client, i, domain) for i in range(100)]
    after_warmup = _series(client)
    statuses += [_mixed(client, i, domain) for i in range(100, 200)]
    after = _series(client)
    assert {200, 201, 400, 404, 405} <= set(statuses)  # the mix really hit successes and each error kind
    assert after == after_warmup, sorted(after - after_warmup)[:5]  # no label per model, path or field
    domains = {dict(labels)["domain"] for name, labels in after if name.startswith("vertical_tokens_generated")}
    assert domains <= {domain}
    routes = {dict(labels)["route"] for name, labels in after if name == "vertical_requests_total"}
    assert "unmatched" in routes and "/v1/models/{model_id:path}" in routes  # templates, not request paths
    assert not [r for r in routes if any(ch.isdigit() for ch in r.replace("/v1/", "/"))]


def test_long_pasted_messages_are_not_kept_by_the_safety_cache(client):
    from vertical.core.safety.assess import CACHE_MAX_CHARS, _match

    domain = next(iter(client.app.state.vertical.runtimes))
    before = _match.cache_info().currsize
    for i in range(5):  # each one new: a cache keyed by the text would keep all of them (GBs over a day)
        long = f"{i} " + "I keep worrying. 我最近睡不好。" * 500  # 11.5k characters
        assert len(long) > CACHE_MAX_CHARS
        body = {"model": domain, "max_tokens": 2, "messages": [{"role": "user", "content": long}]}
        assert client.post("/v1/chat/completions", json=body).status_code in (200, 413)
    assert _match.cache_info().currsize == before
    short = {"model": domain, "max_tokens": 2, "messages": [{"role": "user", "content": "I feel sad today."}]}
    assert client.post("/v1/chat/completions", json=short).status_code == 200
    assert _match.cache_info().currsize <= before + 1  # short turns (re-sent with every request) stay cached
