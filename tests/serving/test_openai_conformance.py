"""Our API under the real clients: openai (sync, async, streaming), LangChain ChatOpenAI, LlamaIndex
OpenAILike; parameters honoured or refused with a clear 400; a gone client stops its generation."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

pytestmark = pytest.mark.slow
Q = [{"role": "user", "content": "How can I sleep better?"}]


@pytest.fixture(scope="module")
def client(live_server):
    from openai import OpenAI

    return OpenAI(base_url=live_server.url + "/v1", api_key="unused", max_retries=0)


def test_finish_reason_usage_stop_and_n(client, runtime):
    short = client.chat.completions.create(model=runtime.name, messages=Q, max_tokens=3)
    assert short.choices[0].finish_reason == "length" and short.usage.completion_tokens == 3
    stopped = client.chat.completions.create(model=runtime.name, messages=Q, max_tokens=60, stop=["."])
    assert "." not in stopped.choices[0].message.content and stopped.choices[0].finish_reason == "stop"
    assert stopped.usage.completion_tokens < 60
    greedy = client.chat.completions.create(model=runtime.name, messages=Q, max_tokens=4, n=2)
    assert [c.index for c in greedy.choices] == [0, 1]
    assert greedy.choices[0].message.content == greedy.choices[1].message.content
    assert any("greedy decoding" in line for line in greedy.model_extra["vertical"]["trace"])
    sampled = client.chat.completions.create(model=runtime.name, messages=Q, max_tokens=4, n=2, temperature=1.0, seed=1)
    assert len(sampled.choices) == 2 and sampled.usage.completion_tokens == 8  # two runs, both counted


def test_client_system_message_is_added_and_traced(client, runtime):
    resp = client.chat.completions.create(
        model=runtime.name,
        max_tokens=4,
        messages=[{"role": "developer", "content": "Answer in one short sentence."}, *Q],
    )
    assert any("client system message" in line for line in resp.model_extra["vertical"]["trace"])


def test_streaming_ends_with_vertical_and_usage(client, runtime):
    chunks = list(
        client.chat.completions.create(
            model=runtime.name, messages=Q, max_tokens=6, stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    final = [c for c in chunks if c.choices and c.choices[0].finish_reason][-1]
    assert final.choices[0].finish_reason == "length"
    vertical = final.model_extra["vertical"]
    assert vertical["path"] and vertical["sources"] and vertical["trace"] and "grounding" in vertical
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 6
    plain = client.chat.completions.create(model=runtime.name, messages=Q, max_tokens=6)
    assert text.strip() == plain.choices[0].message.content.strip()  # greedy: both modes answer alike


def test_async_client(live_server, runtime):
    from openai import AsyncOpenAI

    async def run() -> tuple[str, str]:
        aclient = AsyncOpenAI(base_url=live_server.url + "/v1", api_key="unused", max_retries=0)
        one, streamed = await asyncio.gather(
            aclient.chat.completions.create(model=runtime.name, messages=Q, max_tokens=5),
            aclient.chat.completions.create(model=runtime.name, messages=Q, max_tokens=5, stream=True),
        )
        parts = [c.choices[0].delta.content or "" async for c in streamed if c.choices]
        await aclient.close()
        return one.choices[0].message.content, "".join(parts)

    text, streamed = asyncio.run(run())
    assert text and streamed


def test_refusals_are_400s_naming_parameter_and_engine(client, runtime):
    import openai

    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model=runtime.name, messages=Q, response_format=schema)
    expected = "response_format json_schema is not supported by the transformers engine; use --engine vllm"
    assert expected in str(err.value)
    assert err.value.body["param"] == "response_format"
    with pytest.raises(openai.BadRequestError, match="content part type 'image_url'"):
        client.chat.completions.create(
            model=runtime.name,
            messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}],
        )
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-domain")
    assert client.models.retrieve(runtime.name).id == runtime.name


def test_completions(client, runtime):
    resp = client.completions.create(model=runtime.name, prompt=["How can I sleep better?", "Hi"], max_tokens=3)
    assert [c.index for c in resp.choices] == [0, 1] and all(c.finish_reason == "length" for c in resp.choices)
    streamed = list(
        client.completions.create(model=runtime.name, prompt="How can I sleep better?", max_tokens=3, stream=True)
    )
    assert "".join(c.choices[0].text for c in streamed if c.choices).strip() == resp.choices[0].text.strip()
    import openai

    with pytest.raises(openai.BadRequestError, match="echo"):
        client.completions.create(model=runtime.name, prompt="Hi", echo=True)


def test_langchain_chat_openai(live_server, runtime):
    import openai
    from langchain_openai import ChatOpenAI
    from pydantic import BaseModel

    llm = ChatOpenAI(
        model=runtime.name, base_url=live_server.url + "/v1", api_key="unused", max_tokens=5, max_retries=0
    )
    assert llm.invoke("How can I sleep better?").content
    assert "".join(chunk.content for chunk in llm.stream("How can I sleep better?"))

    class Tip(BaseModel):
        tip: str

    def breathe(seconds: int) -> str:
        """Breathe slowly for a number of seconds."""
        return "ok"

    with pytest.raises(openai.BadRequestError, match="tools is not supported by the transformers engine"):
        llm.bind_tools([breathe]).invoke("Help me calm down")
    with pytest.raises(openai.BadRequestError, match="response_format json_schema is not supported"):
        llm.with_structured_output(Tip).invoke("One sleep tip")


def test_llamaindex_openai_like_defaults(live_server, runtime):
    from llama_index.llms.openai_like import OpenAILike

    # defaults (is_chat_model=False → /v1/completions, no max_tokens) except a short answer to stay fast
    llm = OpenAILike(model=runtime.name, api_base=live_server.url + "/v1", api_key="unused", max_tokens=8)
    assert llm.complete("How can I sleep better?").text.strip()
    assert "".join(r.delta for r in llm.stream_complete("How can I sleep better?")).strip()


def test_gone_client_stops_generation_and_frees_its_slot(live_server, runtime):
    """A non-streamed client that gives up: its slot and the engine's queue are free within 2 s."""
    state = live_server.server.config.app.state.vertical
    before = state.metrics.rejected.labels("client_gone")._value.get()
    body = {
        "model": runtime.name,
        "max_tokens": 1500,
        "temperature": 1.0,
        "seed": 7,
        "messages": [{"role": "user", "content": "Write a very long story about sleep, chapter by chapter."}],
    }

    def impatient() -> None:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(live_server.url + "/v1/chat/completions", json=body, timeout=httpx.Timeout(30, read=2.0))

    caller = threading.Thread(target=impatient)
    caller.start()
    deadline = time.monotonic() + 10
    while state.inflight == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.inflight == 1, "the request never started"
    caller.join()
    gone = time.monotonic()
    while (state.inflight or runtime.engine.queue_depth()) and time.monotonic() - gone < 5:
        time.sleep(0.05)
    assert state.inflight == 0 and runtime.engine.queue_depth() == 0
    assert time.monotonic() - gone < 2.0
    assert state.metrics.rejected.labels("client_gone")._value.get() == before + 1
