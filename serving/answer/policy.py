"""The answer policy, unstreamed: safety → decompose → retrieve → links in order → citations + grounding.

A plain loop over :func:`plan_links`: a link that raises one of ``FALLBACK_ERRORS`` (engine
unreachable, unknown model/adapter, low confidence) or returns empty text hands over to the next,
and says why in the trace. :mod:`serving.answer.stream` walks the same links.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from serving.answer.grounding_policy import add_resources, finish_extractive, finish_model, safety_answer
from serving.answer.links import Link, link_call, plan_links
from serving.answer.prepare import FALLBACK_ERRORS, Prepared, prepare
from serving.answer.types import Answer, AnswerRequest
from serving.domains import DomainRuntime
from vertical.core.errors import EngineUnavailableError, ServingError

BATCH_CONCURRENCY = 16  # 2 × the transformers engine's max batch


def empty_output() -> EngineUnavailableError:
    return EngineUnavailableError("the model returned an empty answer", hint="the next link answers instead")


def failed(state: Prepared, link: Link, exc: Exception) -> None:
    state.trace.append(f"{link.path} failed: {getattr(exc, 'message', exc)}")


def no_answer() -> ServingError:
    return ServingError(
        "no model is reachable and retrieval found no passages to quote",
        hint="start the engine or ingest documents for this domain",
    )


def answer(runtime: DomainRuntime, req: AnswerRequest) -> Answer:
    """One answer, through the first link that gives a non-empty one."""
    state = prepare(runtime, req)
    if state.fixed_response:
        return safety_answer(state)
    links, notes = plan_links(state)
    state.trace += notes
    for link in links:
        if link.extractive:
            result = finish_extractive(state)
            if result is None:
                raise no_answer()
            add_resources(state, result)
            return result
        try:
            call = link_call(state, link)
            completion = runtime.engine.generate(call.messages, call.params)
            if not completion.text.strip():
                raise empty_output()
        except FALLBACK_ERRORS as exc:
            failed(state, link, exc)
            continue
        result = finish_model(state, link, call, completion.text, completion)
        add_resources(state, result)
        return result
    raise no_answer()  # pragma: no cover - the extractive link always ends the loop


def answer_many(
    runtime: DomainRuntime,
    reqs: list[AnswerRequest],
    concurrency: int = BATCH_CONCURRENCY,
    on_answer: Callable[[int, Answer], None] | None = None,
) -> list[Answer]:
    """Answers in request order. Requests are in flight concurrently so the transformers engine's dynamic
    batching runs them in left-padded batches (``concurrency`` ≥ 2 × the engine's batch keeps the next
    batch queued while one runs). ``on_answer(index, answer)`` is called as each one is done (progress).
    The first failure is raised."""
    if not reqs:
        return []
    if runtime.uses_rag:
        runtime.kb()  # open the knowledge base once, before the threads

    def one(index: int) -> Answer:
        result = answer(runtime, reqs[index])
        if on_answer is not None:
            on_answer(index, result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(reqs)))) as pool:
        return list(pool.map(one, range(len(reqs))))
