"""The answer policy, streamed: the same steps and links as :func:`serving.answer.policy.answer`.

- A link that fails (or ends with empty text) before any token was sent hands over to the next link,
  exactly as unstreamed. Leading whitespace is held until visible text arrives, so "empty" is known
  before anything is sent. Once a token was sent, a failure is raised to the caller (the client has
  part of an answer; we cannot take it back).
- The last event is :class:`Final` with the same Answer an unstreamed request gets: citations
  attributed over the full text, the grounding verdict and action, the trace, usage, finish_reason.
- Grounding policy ``flag`` streams tokens as they come and flags in the final event. ``extractive`` and
  ``refuse`` must know the grounding before showing the answer, so a link with sources holds its
  tokens back and sends the checked text in one delta (time to first token = the whole generation).
- Safety: the fixed response is one delta (no model call); crisis resources due for an earlier risky
  message follow the answer as a last delta.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from serving.answer.grounding_policy import add_resources, finish_extractive, finish_model, holds_tokens, safety_answer
from serving.answer.links import Link, LinkCall, link_call, plan_links
from serving.answer.policy import empty_output, failed, no_answer
from serving.answer.prepare import FALLBACK_ERRORS, Prepared, prepare
from serving.answer.types import Answer, AnswerRequest, Final, StreamEvent, TokenDelta
from serving.domains import DomainRuntime
from serving.engines.base import Completion


async def astream(runtime: DomainRuntime, req: AnswerRequest) -> AsyncIterator[StreamEvent]:
    """TokenDelta(text) ... then Final(answer)."""
    state = await asyncio.to_thread(prepare, runtime, req)
    if state.fixed_response:
        result = safety_answer(state)
        yield TokenDelta(result.answer)
        yield Final(result, result.answer)
        return
    links, notes = plan_links(state)
    state.trace += notes
    for link in links:
        if link.extractive:
            quoted: Answer | None = await asyncio.to_thread(finish_extractive, state)
            if quoted is None:
                raise no_answer()
            add_resources(state, quoted)
            yield TokenDelta(quoted.answer)
            yield Final(quoted, quoted.answer)
            return
        try:
            call = await asyncio.to_thread(link_call, state, link)
        except FALLBACK_ERRORS as exc:
            failed(state, link, exc)
            continue
        sent: list[str] = []
        outcome: list[tuple[str, Completion | None]] = []
        async with aclosing(_run_link(state, link, call, sent, outcome)) as deltas:  # closed at once if the client goes
            async for delta in deltas:
                yield TokenDelta(delta)
        if not outcome:  # the link failed or was empty before any token: next link
            continue
        text, completion = outcome[0]
        result = await asyncio.to_thread(finish_model, state, link, call, text, completion)
        if holds_tokens(state, link):
            sent.append(result.answer)
            yield TokenDelta(result.answer)
        suffix = add_resources(state, result)
        if suffix:
            sent.append(suffix)
            yield TokenDelta(suffix)
        yield Final(result, "".join(sent))
        return
    raise no_answer()  # pragma: no cover


async def _run_link(
    state: Prepared, link: Link, call: LinkCall, sent: list[str], outcome: list[tuple[str, Completion | None]]
) -> AsyncGenerator[str, None]:
    """Yield the deltas to send for one link; on success put (full text, completion) in ``outcome``."""
    hold = holds_tokens(state, link)
    parts: list[str] = []
    completion: Completion | None = None
    try:
        async with aclosing(state.runtime.engine.astream_completion(call.messages, call.params)) as events:
            async for item in events:
                if isinstance(item, Completion):
                    completion = item
                    continue
                parts.append(item)
                if hold:
                    continue
                if not sent:  # nothing visible sent yet: wait for non-blank text, without its leading blanks
                    visible = "".join(parts).lstrip()
                    if not visible:
                        continue
                    sent.append(visible)
                    yield visible
                else:
                    sent.append(item)
                    yield item
        text = completion.text if completion is not None and completion.text else "".join(parts).strip()
        if not text.strip():
            raise empty_output()
    except FALLBACK_ERRORS as exc:
        if sent:
            raise
        failed(state, link, exc)
        return
    outcome.append((text, completion))
