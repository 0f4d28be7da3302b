"""Streaming answers: the chain's steps up to retrieval, then token deltas from the engine.

Picks the same path the chain would (adapter → base + sources → base alone); if the engine is
unreachable before the first token, it streams the extractive answer instead, so a stream never
fails silently. The trace and sources are known before the first token and sent with the stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from vertical.core.errors import EngineUnavailableError

from serving.chain import (MAX_SOURCES, REPETITION_PENALTY, Answer, build_messages, decompose_step, initial_state,
                           retrieve_step, safety_step, source_dict)
from serving.citations import extractive_answer
from serving.domains import DomainRuntime
from serving.engines.base import GenerationParams


@dataclass
class PreparedStream:
    runtime: DomainRuntime
    state: dict
    path: str = ""
    messages: list[dict] = field(default_factory=list)
    params: GenerationParams | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)
    direct: Answer | None = None  # safety answers need no model
    prompt_tokens: int = 0

    @property
    def trace(self) -> list[str]:
        return self.direct.trace if self.direct else self.state["trace"]


def prepare_stream(runtime: DomainRuntime, question: str, history: list[dict], use_adapter: bool = True,
                   **options: Any) -> PreparedStream:
    """Blocking part (safety, decomposition, retrieval, budget); run it off the event loop."""
    state = retrieve_step(decompose_step(safety_step(initial_state(runtime, question, history, **options))))
    prepared = PreparedStream(runtime, state)
    if state.get("answer") is not None:
        prepared.direct = state["answer"]
        return prepared
    adapter = runtime.adapter if use_adapter else None
    with_sources = runtime.uses_rag and state["confident"]
    if runtime.uses_rag and not state["confident"]:
        state["trace"].append("retrieval confidence below min_confidence: answering without sources")
    hits = state["hits"][:MAX_SOURCES] if with_sources else []
    budget = build_messages(runtime, state["question"], state["history"], hits, state["max_new_tokens"])
    hits = hits[: budget.chunks_kept]
    prepared.path = ("adapter" if adapter else "base") + ("+rag" if hits else "")
    prepared.messages = budget.messages
    prepared.prompt_tokens = budget.prompt_tokens
    prepared.params = GenerationParams(budget.max_new_tokens, state["temperature"], REPETITION_PENALTY, adapter)
    prepared.sources = [source_dict(i, h) for i, h in enumerate(hits, 1)]
    state["trace"] += budget.notes + [f"answered by: {prepared.path} ({runtime.engine.kind} engine, streamed)"]
    return prepared


async def stream_text(prepared: PreparedStream) -> AsyncIterator[str]:
    if prepared.direct is not None:
        yield prepared.direct.answer
        return
    started = False
    try:
        async for delta in prepared.runtime.engine.astream(prepared.messages, prepared.params):
            started = True
            yield delta
    except EngineUnavailableError as exc:
        if started:
            raise
        hits = prepared.state["hits"][:MAX_SOURCES]
        prepared.state["trace"].append(f"{prepared.path} failed: {exc.message}; streamed the extractive answer")
        prepared.path = "extractive"
        prepared.sources = [source_dict(i, h) for i, h in enumerate(hits, 1)]
        yield extractive_answer(prepared.state["question"], hits) or "No model is reachable right now."
