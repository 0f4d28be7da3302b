"""POST /v1/completions: each prompt goes through the same answer policy as a single user message.

A list of prompts gives ``len(prompts) * n`` choices, indexed prompt-major as OpenAI does. Without
``max_tokens`` the domain's ``serving.max_new_tokens`` applies (OpenAI's default of 16 tokens would cut
every answer short). ``echo``, ``suffix``, ``best_of > 1`` and token-id prompts are refused (400).
Streaming takes one prompt.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import StreamingResponse

from serving.answer import Final, TokenDelta
from serving.api.messages import check_size, prompt_conversation
from serving.api.protocol import (
    SSE_DONE,
    CompletionChoice,
    CompletionChunk,
    CompletionRequest,
    CompletionResponse,
    completion_id,
    sse,
)
from serving.api.serving_base import OpenAIServing, error_event, gather_or_cancel, usage_of, vertical_info
from vertical.core.errors import UnsupportedParameterError


class OpenAIServingCompletion(OpenAIServing):
    async def create(self, body: CompletionRequest, request: Request) -> CompletionResponse | StreamingResponse:
        limit = self.state.settings.max_request_chars
        check_size(body.prompts, limit)
        prepared = [
            self.answer_request(request, body, prompt_conversation(p, limit).messages, []) for p in body.prompts
        ]
        if body.stream:
            if len(prepared) > 1:
                raise UnsupportedParameterError(
                    "stream=true takes a single prompt", param="prompt", hint="send one prompt per streamed request"
                )
            events = await self.stream_events(*prepared[0])
            return StreamingResponse(self.chunks(body, events), media_type="text/event-stream")
        per_prompt = await gather_or_cancel([self.answer_n(request, rt, req, body.n) for rt, req in prepared])
        results = [r for choices in per_prompt for r in choices]
        return CompletionResponse(
            model=body.model,
            usage=usage_of(results),
            vertical=vertical_info(results[0]),
            choices=[
                CompletionChoice(index=i, text=r.answer, finish_reason=r.finish_reason) for i, r in enumerate(results)
            ],
        )

    async def chunks(self, body: CompletionRequest, events: AsyncIterator[TokenDelta | Final]) -> AsyncIterator[str]:
        cid = completion_id("cmpl")
        try:
            async for event in events:
                if isinstance(event, TokenDelta):
                    if event.text:
                        yield sse(
                            CompletionChunk(
                                id=cid, model=body.model, choices=[CompletionChoice(index=0, text=event.text)]
                            )
                        )
                    continue
                result = event.answer
                yield sse(
                    CompletionChunk(
                        id=cid,
                        model=body.model,
                        vertical=vertical_info(result),
                        choices=[CompletionChoice(index=0, text="", finish_reason=result.finish_reason)],
                    )
                )
                if body.stream_options and body.stream_options.include_usage:
                    yield sse(CompletionChunk(id=cid, model=body.model, choices=[], usage=usage_of([result])))
        except Exception as exc:  # noqa: BLE001 - the status line is gone; tell the client in the stream
            yield error_event(exc)
        yield SSE_DONE
