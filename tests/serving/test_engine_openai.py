"""OpenAI-compatible engine: top_p, seed, stop and extra parameters reach the server; finish reasons map.

The server here is a real HTTP endpoint (uvicorn) that records each request body and answers in the
OpenAI wire format, standing in for vLLM or a hosted API (external systems, not our own code).
"""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI, Request  # module level: FastAPI resolves the handler's annotations here
from fastapi.responses import StreamingResponse
from serving_live_server import LiveServer


@pytest.fixture(scope="module")
def recording_server():
    app, bodies = FastAPI(), []

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        bodies.append(body)
        if not body.get("stream"):
            return {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": " Hello there"}, "finish_reason": "length"}
                ],
                "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
            }

        def events():
            for delta, finish in (
                ({"role": "assistant", "content": ""}, None),
                ({"content": "Hel"}, None),
                ({"content": "lo"}, "stop"),
            ):
                chunk = {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                yield f"data: {json.dumps(chunk)}\n\n"
            usage = {
                "id": "x",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": [],
                "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
            }
            yield f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    with LiveServer(app) as server:
        yield server.url, bodies


def test_parameters_pass_through_and_finish_reason_maps(recording_server):
    from serving.engines.base import Completion, GenerationParams
    from serving.engines.openai_engine import OpenAIEngine

    url, bodies = recording_server
    engine = OpenAIEngine(url + "/v1", "m")
    params = GenerationParams(
        max_new_tokens=5,
        temperature=0.7,
        top_p=0.9,
        seed=3,
        stop=("\n\n",),
        extra={"presence_penalty": 0.5, "response_format": {"type": "json_object"}},
    )
    done = engine.generate([{"role": "user", "content": "hi"}], params)
    assert (done.text, done.finish_reason, done.completion_tokens) == ("Hello there", "length", 2)
    sent = bodies[-1]
    assert (sent["top_p"], sent["seed"], sent["stop"], sent["presence_penalty"]) == (0.9, 3, ["\n\n"], 0.5)
    assert sent["response_format"] == {"type": "json_object"} and sent["max_tokens"] == 5
    items = list(engine.stream_completion([{"role": "user", "content": "hi"}], params))
    assert items[:-1] == ["Hel", "lo"] and isinstance(items[-1], Completion)
    assert (items[-1].text, items[-1].finish_reason, items[-1].completion_tokens) == ("Hello", "stop", 2)
    assert bodies[-1]["stream"] is True and bodies[-1]["seed"] == 3
    assert {"stop", "seed", "top_p"} <= engine.capabilities and "tools" not in engine.capabilities
    engine.close()
