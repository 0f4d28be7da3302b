"""Every error in OpenAI's shape, over real HTTP: malformed requests are 4xx (never 5xx), routes 404/405,
bodies over the limit 413 (with and without Content-Length), and the server stays healthy."""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = pytest.mark.slow


def assert_openai_error(r: httpx.Response, status: int, param: str | None = "any") -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    error = r.json()["error"]
    assert set(error) >= {"message", "type", "param", "code"} and error["message"] and error["type"]
    if param != "any":
        assert error["param"] == param, error
    return error


def malformed(model: str) -> list[tuple[str, dict | str, dict, str | None]]:
    """(name, body, headers, the param the error should name)."""
    user = [{"role": "user", "content": "hi"}]
    js = {"content-type": "application/json"}
    return [
        ("messages missing", {"model": model}, js, "messages"),
        ("model missing", {"messages": user}, js, "model"),
        ("messages empty", {"model": model, "messages": []}, js, "messages"),
        ("messages not a list", {"model": model, "messages": "hi"}, js, "messages"),
        ("bad role", {"model": model, "messages": [{"role": "wizard", "content": "hi"}]}, js, "messages[0]"),
        ("content wrong type", {"model": model, "messages": [{"role": "user", "content": 42}]}, js, None),
        (
            "image part",
            {
                "model": model,
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}
                ],
            },
            js,
            "messages[0].content",
        ),
        ("max_tokens a string", {"model": model, "messages": user, "max_tokens": "many"}, js, "max_tokens"),
        ("temperature too high", {"model": model, "messages": user, "temperature": 9}, js, "temperature"),
        ("huge n", {"model": model, "messages": user, "n": 100000}, js, "n"),
        ("unknown field", {"model": model, "messages": user, "frobnicate": 1}, js, "frobnicate"),
        (
            "tools on transformers",
            {
                "model": model,
                "messages": user,
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            },
            js,
            "tools",
        ),
        ("bad JSON", '{"model": "x", "messages": [', js, None),
        ("not an object", "[1, 2, 3]", js, None),
        ("wrong content-type", "model=x&messages=hi", {"content-type": "application/x-www-form-urlencoded"}, None),
        ("empty body", "", js, None),
    ]


def test_malformed_requests_are_4xx_in_openai_shape(live_server, runtime):
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        for name, body, headers, param in malformed(runtime.name):
            content = body if isinstance(body, str) else json.dumps(body)
            r = client.post("/v1/chat/completions", content=content, headers=headers)
            assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
            error = assert_openai_error(r, r.status_code)
            if param is not None:
                assert error["param"] == param, (name, error)
        unknown = client.post(
            "/v1/chat/completions", json={"model": "nope", "messages": [{"role": "user", "content": "hi"}]}
        )
        assert assert_openai_error(unknown, 404, "model")["code"] == "model_not_served"
        assert client.get("/healthz").json()["status"] == "ok"
        ok = client.post(
            "/v1/chat/completions",
            json={"model": runtime.name, "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]},
        )
        assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"]


def test_routes_404_405_and_models_by_id(live_server, runtime):
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        assert assert_openai_error(client.get("/v1/nothing-here"), 404)["code"] == "unknown_route"
        assert assert_openai_error(client.get("/v1/chat/completions"), 405)["code"] == "method_not_allowed"
        card = client.get(f"/v1/models/{runtime.name}")
        assert card.status_code == 200 and card.json() | {"id": runtime.name, "object": "model"} == card.json()
        assert_openai_error(client.get("/v1/models/no-such-domain"), 404, "model")


def test_413_for_declared_and_chunked_bodies_and_for_too_many_characters(runtime):
    from serving_live_server import LiveServer

    from serving.api import create_app
    from serving.api.config import ServeSettings

    app = create_app(
        [], ServeSettings(max_body_bytes=20_000, max_request_chars=5_000), runtimes={runtime.name: runtime}
    )
    body = json.dumps({"model": runtime.name, "messages": [{"role": "user", "content": "x" * 30_000}]}).encode()
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        declared = client.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
        assert "20000 bytes" in assert_openai_error(declared, 413)["message"]

        def chunks():  # a generator body: httpx sends it chunked, without Content-Length
            for i in range(0, len(body), 4096):
                yield body[i : i + 4096]

        chunked = client.post("/v1/chat/completions", content=chunks(), headers={"content-type": "application/json"})
        assert chunked.request.headers.get("transfer-encoding") == "chunked"
        assert_openai_error(chunked, 413)
        chars = client.post(
            "/v1/chat/completions",
            json={
                "model": runtime.name,
                "messages": [
                    {"role": "user", "content": "y" * 3000},
                    {"role": "assistant", "content": "z" * 3000},
                    {"role": "user", "content": "and?"},
                ],
            },
        )
        assert "over this server's limit of 5000" in assert_openai_error(chars, 413, "messages")["message"]
        assert client.get("/healthz").status_code == 200
