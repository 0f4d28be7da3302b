"""The answer links, tried in order: adapter (+ sources), base + sources, base alone, extractive.

A link is data (which adapter, whether sources go in the prompt); :func:`link_call` turns it into
the engine call (messages fitted to the context, generation parameters). Both modes use these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from serving.answer.prepare import Prepared
from serving.budget import SUMMARY_TOKENS, WRAPPERS, BudgetResult, Summarize, fit_context, wrapper_language
from serving.domains import DomainRuntime
from serving.engines.base import GenerationParams
from vertical.core.spec import DEFAULT_GENERATOR

MAX_SOURCES = 3  # a 135M model answers better from a short prompt
CHUNK_CHARS = 600
REPETITION_PENALTY = 1.1
CAPABLE_ENGINES = ("openai", "vllm")  # engines whose model may be asked to summarize dropped history


@dataclass(frozen=True)
class Link:
    path: str  # the Answer.path it produces
    adapter: str | None = None
    with_sources: bool = False

    @property
    def extractive(self) -> bool:
        return self.path == "extractive"


EXTRACTIVE = Link("extractive", None, True)


@dataclass
class LinkCall:
    messages: list[dict[str, str]]
    params: GenerationParams
    hits: list[Any]  # the sources in the prompt, numbered [1]..[n]
    budget: BudgetResult
    notes: list[str] = field(default_factory=list)


def plan_links(state: Prepared) -> tuple[list[Link], list[str]]:
    """The links for this request, and a trace line for each one left out and why."""
    rt, req = state.runtime, state.request
    links: list[Link] = []
    notes: list[str] = []
    if req.use_adapter and rt.adapter:
        sources = rt.uses_rag and state.confident
        links.append(Link("adapter+rag" if sources else "adapter", rt.adapter, sources))
    if rt.uses_rag and state.confident:
        links.append(Link("base+rag", None, True))
    elif rt.uses_rag:
        notes.append("base+rag skipped: retrieval confidence is low; the model answers without sources")
    links += [Link("base"), EXTRACTIVE]
    return links, notes


def source_dict(n: int, hit: Any) -> dict[str, Any]:
    return {
        "n": n,
        "chunk_id": hit.chunk_id,
        "source": hit.source,
        "title": hit.title,
        "heading": hit.heading,
        "text": hit.text,
        "score": hit.score,
        "dense_score": hit.dense_score,
        "bm25_score": getattr(hit, "bm25_score", None),
    }


def build_messages(
    runtime: DomainRuntime,
    question: str,
    history: list[dict],
    hits: Sequence[Any],
    max_new_tokens: int,
    client_system: Sequence[str] = (),
    summarize: Summarize | None = None,
) -> BudgetResult:
    """System prompt (+ client system messages) + few-shot + history + sources + question, fitted."""
    examples: list[dict[str, str]] = []
    if runtime.few_shot:
        from serving.few_shot import few_shot_messages, select_few_shot
        from vertical.core.text import count_tokens

        chosen = select_few_shot(
            question,
            runtime.few_shot,
            runtime.spec.embedder,
            token_budget=200,
            max_examples=2,
            count_tokens=lambda text: count_tokens(text, runtime.tokenizer),
        )
        examples = few_shot_messages(chosen)
    system = "\n\n".join([runtime.system_prompt, *[s.strip() for s in client_system if s.strip()]])
    chunks = [h.text.strip()[:CHUNK_CHARS] for h in hits[:MAX_SOURCES]]
    return fit_context(
        runtime.tokenizer,
        system,
        question,
        chunks,
        examples + list(history),
        runtime.spec.serving.max_model_len,
        max_new_tokens,
        summarize=summarize,
    )


def summarizer_for(state: Prepared) -> Summarize | None:
    """A summarizer of dropped history, only for a capable model: an OpenAI-compatible or vLLM engine
    serving a model other than the embedded 135M default (which paraphrases history badly); None
    otherwise, and the budget keeps a short note instead. Summaries are cached per request."""
    engine = state.runtime.engine
    if engine.kind not in CAPABLE_ENGINES or DEFAULT_GENERATOR in (engine.model, state.runtime.spec.base_model):
        return None
    lang = wrapper_language(state.question)

    def summarize(dropped: list[dict[str, str]]) -> str:
        if len(dropped) not in state.summary_cache:
            conversation = "\n".join(f"{m['role']}: {m['content']}" for m in dropped)
            prompt = WRAPPERS[lang]["summarize"].format(conversation=conversation)
            reply = engine.generate(
                [{"role": "user", "content": prompt}], GenerationParams(max_new_tokens=SUMMARY_TOKENS, temperature=0.0)
            )
            state.summary_cache[len(dropped)] = reply.text
        return state.summary_cache[len(dropped)]

    return summarize


def link_call(state: Prepared, link: Link) -> LinkCall:
    """The engine call for a model link (blocking: few-shot selection and exact token counts)."""
    req = state.request
    hits = state.hits[:MAX_SOURCES] if link.with_sources else []
    budget = build_messages(
        state.runtime,
        state.question,
        state.history,
        hits,
        state.max_new_tokens,
        req.client_system,
        summarizer_for(state),
    )
    params = GenerationParams(
        max_new_tokens=budget.max_new_tokens,
        temperature=state.temperature,
        repetition_penalty=REPETITION_PENALTY,
        adapter=link.adapter,
        top_p=req.top_p,
        seed=req.seed,
        stop=tuple(req.stop),
        extra=tuple(sorted(req.engine_extra.items())),
    )
    return LinkCall(budget.messages, params, hits[: budget.chunks_kept], budget, list(budget.notes))


def describe_call(state: Prepared, link: Link, call: LinkCall) -> str:
    engine = state.runtime.engine
    return (
        f"answered by: {link.path} ({engine.kind} engine, {engine.model}"
        + (f", adapter {link.adapter}" if link.adapter else "")
        + f"), prompt {call.budget.prompt_tokens} tokens"
    )
