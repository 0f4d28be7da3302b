"""POST /v1/domains/{d}/feedback: the API stores ratings durably; bad input gets a 4xx and stores nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from finetune.data.feedback import store_for

pytestmark = pytest.mark.slow  # the session runtime loads the model and ingests a KB


def _client(runtime, **settings) -> TestClient:
    from serving.api import create_app
    from serving.api.config import ServeSettings

    return TestClient(create_app([], ServeSettings(**settings), runtimes={runtime.name: runtime}))


def test_feedback_is_stored_and_counted(runtime):
    client = _client(runtime)
    before = store_for().counts(runtime.name)["total"]
    body = {
        "question": "How can I sleep better?",
        "answer": "Drink coffee at night.",
        "rating": -1,
        "correction": "Keep a regular wake time and stop caffeine by early afternoon [1].",
        "history": [{"role": "user", "content": "I can't sleep."}, {"role": "assistant", "content": "I hear you."}],
        "sources": ["sleep-hygiene.md"],
    }
    resp = client.post(f"/v1/domains/{runtime.name}/feedback", json=body)
    assert resp.status_code == 201, resp.text
    assert resp.json()["counts"]["corrected"] >= 1
    row = [r for r in store_for().list(runtime.name) if r.id == resp.json()["id"]][0]
    assert row.correction.startswith("Keep a regular") and row.history[1]["content"] == "I hear you."
    assert client.get(f"/v1/domains/{runtime.name}/feedback/counts").json()["total"] == before + 1


def test_bad_feedback_is_refused_and_nothing_is_stored(runtime):
    client = _client(runtime)
    before = store_for().counts(runtime.name)["total"]
    for bad in (
        {"question": "q", "answer": "a", "rating": 5},
        {"question": "q", "answer": "a", "rating": 0},  # a correction-only rating without a correction
        {"question": "", "answer": "a", "rating": 1},
    ):
        resp = client.post(f"/v1/domains/{runtime.name}/feedback", json=bad)
        assert 400 <= resp.status_code < 500, resp.text
        assert "error" in resp.json()
    assert (
        client.post("/v1/domains/nosuch/feedback", json={"question": "q", "answer": "a", "rating": 1}).status_code
        == 404
    )
    assert store_for().counts(runtime.name)["total"] == before


def test_feedback_needs_a_key_scoped_to_the_domain(runtime, monkeypatch):
    monkeypatch.setenv("VERTICAL_API_KEYS", f"k1={runtime.name};k2=other")
    client = _client(runtime)
    body = {"question": "q", "answer": "a", "rating": 1}
    assert client.post(f"/v1/domains/{runtime.name}/feedback", json=body).status_code == 401
    denied = client.post(f"/v1/domains/{runtime.name}/feedback", json=body, headers={"Authorization": "Bearer k2"})
    assert denied.status_code == 403
    ok = client.post(f"/v1/domains/{runtime.name}/feedback", json=body, headers={"Authorization": "Bearer k1"})
    assert ok.status_code == 201
