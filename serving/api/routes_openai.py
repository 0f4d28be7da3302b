"""OpenAI-compatible endpoints: POST /v1/chat/completions (JSON or SSE), GET /v1/models.

``model`` is ``<domain>`` (the domain's built assistant: its adapter when it has one),
``<domain>:<adapter>`` (that adapter) or ``<domain>:base`` (the base model, no adapter).
"""

from __future__ import annotations

import json
import time
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from vertical.core.errors import DomainNotFoundError

from serving.api.auth import allowed_domains
from serving.api.deps import app_state, domain_runtime
from serving.api.schemas import ChatCompletionRequest
from serving.chain import run_chain
from serving.domains import DomainRuntime, adapter_label
from serving.streaming import prepare_stream, stream_text

router = APIRouter(prefix="/v1", tags=["openai"])


def resolve_model(request: Request, model: str) -> tuple[DomainRuntime, bool]:
    """(runtime, use_adapter) for an OpenAI ``model`` string."""
    domain, _, variant = model.partition(":")
    runtime = domain_runtime(request, domain)
    if not variant:
        return runtime, True
    if variant == "base":
        return runtime, False
    if runtime.adapter and variant == adapter_label(runtime.adapter):
        return runtime, True
    raise DomainNotFoundError(f"model {model!r} is not served", hint=f"served models: {', '.join(runtime.model_ids)}")


@router.get("/models")
def list_models(request: Request) -> dict:
    allowed = allowed_domains(request)
    data = []
    for name, runtime in sorted(app_state(request).runtimes.items()):
        if "*" in allowed or name in allowed:
            ids = runtime.model_ids + [f"{name}:base"] * bool(runtime.adapter)
            data += [{"id": i, "object": "model", "created": 0, "owned_by": "vertical"} for i in ids]
    return {"object": "list", "data": data}


@router.post("/chat/completions")
async def chat_completions(body: ChatCompletionRequest, request: Request):
    state = app_state(request)
    runtime, use_adapter = resolve_model(request, body.model)
    messages = [m.model_dump() for m in body.messages if m.role != "system"]
    question, history = messages[-1]["content"], messages[:-1]
    options = {"max_new_tokens": body.max_completion_tokens or body.max_tokens, "temperature": body.temperature}
    completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
    if not body.stream:
        async with state.admit():
            answer = await state.run_blocking(run_chain, runtime, question, history, use_adapter, **options)
        state.metrics.tokens.labels(runtime.name).inc(answer.usage.get("completion_tokens", 0))
        usage = {"prompt_tokens": answer.usage.get("prompt_tokens", 0),
                 "completion_tokens": answer.usage.get("completion_tokens", 0)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return {
            "id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer},
                         "finish_reason": "stop"}],
            "usage": usage, "vertical": {"path": answer.path, "sources": answer.sources, "trace": answer.trace},
        }
    slot = state.admit()
    await slot.__aenter__()  # held until the stream ends (429 here, before any byte is sent)
    try:
        prepared = await state.run_blocking(prepare_stream, runtime, question, history, use_adapter, **options)
    except BaseException:
        await slot.__aexit__(None, None, None)
        raise

    def chunk(delta: dict, finish: str | None = None, extra: dict | None = None) -> str:
        payload = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                   "model": body.model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if extra:
            payload["vertical"] = extra
        return f"data: {json.dumps(payload)}\n\n"

    async def events():
        text, counted = "", None
        try:
            yield chunk({"role": "assistant", "content": ""})
            async for delta in stream_text(prepared):
                text += delta
                yield chunk({"content": delta})
            yield chunk({}, "stop", {"path": prepared.path or "safety", "sources": prepared.sources,
                                     "trace": prepared.trace})
            counted = completion_tokens(text)
            if body.stream_options and body.stream_options.include_usage:
                yield usage_chunk(counted)
            yield "data: [DONE]\n\n"
        finally:
            state.metrics.tokens.labels(runtime.name).inc(completion_tokens(text) if counted is None else counted)
            await slot.__aexit__(None, None, None)

    def completion_tokens(text: str) -> int:
        # the streamed text re-encoded with the model's tokenizer (the engines stream text, not ids)
        return len(runtime.tokenizer.encode(text, add_special_tokens=False)) if text else 0

    def usage_chunk(n: int) -> str:
        payload = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                   "model": body.model, "choices": [],
                   "usage": {"prompt_tokens": prepared.prompt_tokens, "completion_tokens": n,
                             "total_tokens": prepared.prompt_tokens + n}}
        return f"data: {json.dumps(payload)}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
