"""REST API: OpenAI client (plain + streaming), domain chat, KB endpoints, auth and limits."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow


def _client(runtime, **settings) -> TestClient:
    from serving.api import create_app
    from serving.api.config import ServeSettings

    return TestClient(create_app([], ServeSettings(**settings), runtimes={runtime.name: runtime}))


def test_openai_client_plain_and_streaming(live_server, runtime):
    from openai import OpenAI

    client = OpenAI(base_url=live_server.url + "/v1", api_key="unused")
    assert runtime.name in [m.id for m in client.models.list().data]
    # a question without sources: counseling's grounding policy (extractive) sends sourced answers in one delta
    question = [{"role": "user", "content": "What is the capital of France?"}]
    resp = client.chat.completions.create(model=runtime.name, max_tokens=16, messages=question)
    assert resp.choices[0].message.content and resp.usage.completion_tokens <= 16
    parts = [
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(model=runtime.name, max_tokens=16, stream=True, messages=question)
        if c.choices
    ]
    assert len([p for p in parts if p]) > 1
    assert "".join(parts).strip() == resp.choices[0].message.content  # greedy: same answer


def test_openai_engine_talks_to_our_api(live_server, runtime):
    from serving.engines.base import GenerationParams
    from serving.engines.openai_engine import OpenAIEngine

    eng = OpenAIEngine(live_server.url + "/v1", runtime.name + ":base")
    out = eng.generate([{"role": "user", "content": "What helps with panic attacks?"}], GenerationParams(8))
    assert out.text and 0 < out.completion_tokens <= 8
    assert "".join(eng.stream([{"role": "user", "content": "Hi"}], GenerationParams(6)))


def test_domain_chat_returns_answer_sources_and_trace(runtime):
    client = _client(runtime)
    r = client.post(f"/v1/domains/{runtime.name}/chat", json={"question": "How can I sleep better?", "max_tokens": 24})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["answer"] and body["sources"][0]["source"] == "sleep-hygiene.md" and body["trace"]
    assert client.get("/healthz").json()["status"] == "ok"
    metrics = client.get("/metrics").text
    assert "vertical_requests_total" in metrics and "vertical_tokens_generated_total" in metrics


def test_api_keys_scope_domains(runtime, monkeypatch):
    client = _client(runtime, api_keys=f"k-a={runtime.name};k-b=other")
    q = {"question": "hi", "max_tokens": 2}
    assert client.post(f"/v1/domains/{runtime.name}/chat", json=q).status_code == 401
    assert (
        client.post(f"/v1/domains/{runtime.name}/chat", json=q, headers={"Authorization": "Bearer k-b"}).status_code
        == 403
    )
    assert client.get("/v1/models", headers={"Authorization": "Bearer k-b"}).json()["data"] == []
    ok = client.post(f"/v1/domains/{runtime.name}/chat", json=q, headers={"X-API-Key": "k-a"})
    assert ok.status_code == 200


def test_limits_413_400_429_504(runtime):
    client = _client(runtime, max_body_bytes=2000)
    big = {"model": runtime.name, "messages": [{"role": "user", "content": "x" * 5000}]}
    assert client.post("/v1/chat/completions", json=big).status_code == 413
    bad = client.post(
        "/v1/chat/completions", json={"model": runtime.name, "messages": [{"role": "assistant", "content": "hi"}]}
    )
    assert bad.status_code == 400 and "last message must be a non-empty user" in bad.json()["error"]["message"]
    assert bad.json()["error"]["param"] == "messages"
    busy = _client(runtime)
    busy.app.state.vertical.settings.queue_limit = 0
    r = busy.post(f"/v1/domains/{runtime.name}/chat", json={"question": "hi"})
    assert r.status_code == 429 and r.headers["retry-after"]
    slow = _client(runtime, request_timeout_s=0.01)
    assert slow.post(f"/v1/domains/{runtime.name}/chat", json={"question": "hi", "max_tokens": 30}).status_code == 504
    assert (
        client.post(
            "/v1/chat/completions", json={"model": "nope", "messages": [{"role": "user", "content": "hi"}]}
        ).status_code
        == 404
    )
