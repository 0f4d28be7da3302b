"""POST /v1/chat/completions: one JSON response or an SSE stream, through the answer policy.

A stream is: a role chunk, content chunks, a final chunk with ``finish_reason`` and ``vertical``
(path, sources, trace, grounding, citations: what an unstreamed answer carries), a usage chunk when
``stream_options.include_usage`` is set, then ``[DONE]``. An error after the first byte is one SSE
event in OpenAI's error shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import StreamingResponse

from serving.answer import Final, TokenDelta
from serving.api.messages import to_conversation
from serving.api.protocol import (
    SSE_DONE,
    ChatChunkChoice,
    ChatCompletionChoice,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    DeltaMessage,
    ResponseMessage,
    completion_id,
    sse,
)
from serving.api.serving_base import OpenAIServing, error_event, usage_of, vertical_info


class OpenAIServingChat(OpenAIServing):
    async def create(self, body: ChatCompletionRequest, request: Request) -> ChatCompletionResponse | StreamingResponse:
        conv = to_conversation(body.messages, self.state.settings.max_request_chars)
        runtime, req = self.answer_request(request, body, conv.messages, conv.client_system)
        if body.stream:
            events = await self.stream_events(runtime, req)
            return StreamingResponse(self.chunks(body, events), media_type="text/event-stream")
        results = await self.answer_n(request, runtime, req, body.n)
        return ChatCompletionResponse(
            model=body.model,
            usage=usage_of(results),
            choices=[
                ChatCompletionChoice(index=i, message=ResponseMessage(content=r.answer), finish_reason=r.finish_reason)
                for i, r in enumerate(results)
            ],
            vertical=vertical_info(results[0]),
        )

    async def chunks(
        self, body: ChatCompletionRequest, events: AsyncIterator[TokenDelta | Final]
    ) -> AsyncIterator[str]:
        cid = completion_id()

        def chunk(delta: DeltaMessage, finish: str | None = None, **extra) -> str:
            return sse(
                ChatCompletionChunk(
                    id=cid,
                    model=body.model,
                    choices=[ChatChunkChoice(index=0, delta=delta, finish_reason=finish)],
                    **extra,
                )
            )

        yield chunk(DeltaMessage(role="assistant", content=""))
        try:
            async for event in events:
                if isinstance(event, TokenDelta):
                    if event.text:
                        yield chunk(DeltaMessage(content=event.text))
                    continue
                result = event.answer
                yield chunk(DeltaMessage(), result.finish_reason, vertical=vertical_info(result))
                if body.stream_options and body.stream_options.include_usage:
                    yield sse(ChatCompletionChunk(id=cid, model=body.model, choices=[], usage=usage_of([result])))
        except Exception as exc:  # noqa: BLE001 - the status line is gone; tell the client in the stream
            yield error_event(exc)
        yield SSE_DONE
