"""What chat and text completions share: resolve the model, check parameters against the engine, run the
answer policy n times (or stream it once) inside a queue slot. Formatting is the endpoint classes' job.

``n``: with sampling (temperature > 0) the policy runs n times, concurrently, with seeds ``seed + i``
when a seed is given. With greedy decoding (temperature 0) n runs would give n identical answers, so
the policy runs once and the choice is repeated; the trace says so and usage counts the one run.
``n > 1`` with ``stream=true`` is refused (400). The bound is ``VERTICAL_MAX_N`` (default 8).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request

from serving.answer import Answer, AnswerRequest, Final, TokenDelta, answer, astream
from serving.api.errors import vertical_error_response
from serving.api.parameters import Request as OpenAIRequest
from serving.api.parameters import check_parameters, sampling_fields
from serving.api.protocol import ErrorInfo, ErrorResponse, UsageInfo, VerticalInfo
from serving.api.serving_models import OpenAIServingModels
from serving.api.state import AppState
from serving.domains import DomainRuntime
from vertical.core.errors import VerticalError


def vertical_info(result: Answer) -> VerticalInfo:
    return VerticalInfo(
        path=result.path,
        sources=result.sources,
        trace=result.trace,
        grounding=result.grounding,
        citations=result.citations,
    )


def usage_of(results: list[Answer]) -> UsageInfo:
    """Tokens of the runs made: a choice repeated for greedy n>1 counts once."""
    runs = list({id(r): r for r in results}.values())
    prompt = runs[0].usage.get("prompt_tokens", 0) if runs else 0
    return UsageInfo.of(prompt, sum(r.usage.get("completion_tokens", 0) for r in runs))


def error_event(exc: Exception) -> str:
    """An error after the stream has started (status 200 already sent): one SSE event in OpenAI's shape."""
    if isinstance(exc, VerticalError):
        body = vertical_error_response(exc).body.decode()
    else:
        body = ErrorResponse(
            error=ErrorInfo(message=f"internal error: {type(exc).__name__}", type="server_error", code="internal_error")
        ).model_dump_json()
    return f"data: {body}\n\n"


async def gather_or_cancel(coros: list) -> list:
    """asyncio.gather that cancels the siblings of the first failure (their generations stop too)."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()  # a no-op for finished ones


class OpenAIServing:
    def __init__(self, state: AppState, models: OpenAIServingModels) -> None:
        self.state, self.models = state, models

    def answer_request(
        self, request: Request, body: OpenAIRequest, messages: list[dict[str, Any]], client_system: list[str]
    ) -> tuple[DomainRuntime, AnswerRequest]:
        runtime, use_adapter = self.models.resolve(request, body.model)
        extra = check_parameters(body, runtime.engine, self.state.settings.max_n)
        return runtime, AnswerRequest(
            messages, use_adapter=use_adapter, client_system=client_system, engine_extra=extra, **sampling_fields(body)
        )

    async def answer_n(self, request: Request, runtime: DomainRuntime, req: AnswerRequest, n: int) -> list[Answer]:
        """n choices (see the module docstring), in one queue slot, stopped when the client goes away."""
        temperature = runtime.spec.serving.temperature if req.temperature is None else req.temperature
        runs = n if temperature > 0 else 1
        requests = [dataclasses.replace(req, seed=None if req.seed is None else req.seed + i) for i in range(runs)]
        async with self.state.admit():
            results = await gather_or_cancel(
                [self.state.run_blocking(answer, runtime, r, client=request) for r in requests]
            )
        self.state.metrics.tokens.labels(runtime.name).inc(usage_of(results).completion_tokens)
        if runs < n:
            results[0].trace.append(f"n={n} with greedy decoding: one generation, repeated in {n} choices")
            results = results * n
        return results

    async def stream_events(self, runtime: DomainRuntime, req: AnswerRequest) -> AsyncIterator[TokenDelta | Final]:
        """The policy's events inside a queue slot. The first event is awaited before this returns, so
        429 and errors before the first token are ordinary error responses, not a broken stream."""
        slot = self.state.admit()
        await slot.__aenter__()
        events = astream(runtime, req)
        try:
            first = await anext(events)
        except BaseException:
            await slot.__aexit__(None, None, None)
            await events.aclose()
            raise

        async def held() -> AsyncIterator[TokenDelta | Final]:
            completion_tokens = 0
            try:
                event: TokenDelta | Final | None = first
                while event is not None:
                    if isinstance(event, Final):
                        completion_tokens = event.answer.usage.get("completion_tokens", 0)
                    yield event
                    event = await anext(events, None)
            finally:
                self.state.metrics.tokens.labels(runtime.name).inc(completion_tokens)
                await events.aclose()  # client gone mid-stream: stop the generation
                await slot.__aexit__(None, None, None)

        return held()
