"""The answer chain (langchain-core runnables):

    safety → decompose (optional) → retrieve → answer links with fallbacks → citations + grounding

Answer links, first that succeeds wins (``with_fallbacks``):
  adapter model (+ sources) → base model + sources → base model alone → extractive from top chunks.
Low retrieval confidence raises LowConfidenceError in the "+ sources" links and an unreachable
engine raises EngineUnavailableError; either hands over to the next link. Each link that gives up
writes why into the trace, so every answer says which path answered and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vertical.core.errors import EngineUnavailableError, LowConfidenceError, ModelNotFoundError, ServingError

from serving.budget import BudgetResult, fit_context
from serving.citations import attribute_citations, cited_numbers, extractive_answer, grounding
from serving.decompose import decompose
from serving.domains import DomainRuntime
from serving.engines.base import GenerationParams

FALLBACK_ERRORS = (EngineUnavailableError, LowConfidenceError, ModelNotFoundError)
MAX_SOURCES = 3  # a 135M model answers better from a short prompt
CHUNK_CHARS = 600
REPETITION_PENALTY = 1.1


@dataclass
class Answer:
    answer: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    path: str = ""
    usage: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "sources": self.sources, "trace": self.trace, "path": self.path,
                "usage": self.usage}


def source_dict(n: int, hit: Any) -> dict[str, Any]:
    return {"n": n, "chunk_id": hit.chunk_id, "source": hit.source, "title": hit.title, "heading": hit.heading,
            "text": hit.text, "score": hit.score, "dense_score": hit.dense_score}


# ---- steps ------------------------------------------------------------------------------------
def safety_step(state: dict) -> dict:
    spec = state["runtime"].spec
    for pattern in spec.safety.crisis_patterns:
        if re.search(pattern, state["question"], flags=re.IGNORECASE):
            state["trace"].append(f"safety: matched crisis pattern {pattern!r}; fixed response, no model call")
            state["answer"] = Answer(spec.safety.response.strip(), [], state["trace"], "safety")
            break
    return state


def decompose_step(state: dict) -> dict:
    runtime: DomainRuntime = state["runtime"]
    state["queries"] = [state["question"]]
    if state.get("answer") or not runtime.spec.serving.decompose:
        return state
    try:
        state["queries"], line = decompose(runtime.engine, state["question"])
    except FALLBACK_ERRORS as exc:
        line = f"decompose: skipped ({exc}); using the whole question"
    state["trace"].append(line)
    return state


def retrieve_step(state: dict) -> dict:
    runtime: DomainRuntime = state["runtime"]
    state.setdefault("hits", [])
    state["confident"] = False
    if state.get("answer") or not runtime.uses_rag:
        if not state.get("answer"):
            state["trace"].append("retrieval: off (strategy without rag)")
        return state
    kb = runtime.kb()
    merged: dict[str, Any] = {}
    for query in state["queries"]:
        for hit in kb.search(query, k=state.get("k")):
            if hit.chunk_id not in merged or hit.score > merged[hit.chunk_id].score:
                merged[hit.chunk_id] = hit
    hits = sorted(merged.values(), key=lambda h: -(h.dense_score if h.dense_score is not None else -1.0))
    state["hits"] = hits
    threshold = runtime.spec.knowledge.retrieval.min_confidence
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    best = max(dense) if dense else None
    state["confident"] = best is not None and best >= threshold
    best_s = "none" if best is None else f"{best:.2f}"
    state["trace"].append(f"retrieval: {len(hits)} chunks for {len(state['queries'])} query(ies), "
                          f"best cosine {best_s} (min_confidence {threshold:.2f})")
    return state


def build_messages(runtime: DomainRuntime, question: str, history: list[dict], hits: list[Any],
                   max_new_tokens: int) -> BudgetResult:
    examples: list[dict[str, str]] = []
    if runtime.few_shot:
        from serving.few_shot import select_few_shot

        for ex in select_few_shot(question, runtime.few_shot, runtime.spec.embedder, token_budget=200, max_examples=2):
            examples += [{"role": "user", "content": ex["question"]}, {"role": "assistant", "content": ex["answer"]}]
    chunks = [h.text.strip()[:CHUNK_CHARS] for h in hits[:MAX_SOURCES]]
    return fit_context(runtime.tokenizer, runtime.system_prompt, question, chunks, examples + list(history),
                       runtime.spec.serving.max_model_len, max_new_tokens)


def _generate(state: dict, adapter: str | None, with_sources: bool, path: str) -> Answer:
    runtime: DomainRuntime = state["runtime"]
    hits = state["hits"][:MAX_SOURCES] if with_sources else []
    budget = build_messages(runtime, state["question"], state["history"], hits, state["max_new_tokens"])
    hits = hits[: budget.chunks_kept]
    params = GenerationParams(budget.max_new_tokens, state["temperature"], REPETITION_PENALTY, adapter)
    completion = runtime.engine.generate(budget.messages, params)
    if not completion.text.strip():
        raise EngineUnavailableError("the model returned an empty answer", hint="try the next link")
    trace = list(state["trace"]) + budget.notes
    trace.append(f"answered by: {path} ({runtime.engine.kind} engine, {runtime.engine.model}"
                 + (f", adapter {adapter}" if adapter else "") + f"), prompt {budget.prompt_tokens} tokens")
    sources = [source_dict(i, h) for i, h in enumerate(hits, 1)]
    text = completion.text
    if hits:
        text, attributed = attribute_citations(text, [h.text for h in hits])
        if attributed:
            trace.append(f"citations: model wrote none; attributed {attributed} by word overlap per sentence")
        cited, bad = cited_numbers(text, len(hits))
        trace.append(grounding(text, [h.text for h in hits], cited)[1])
        if bad:
            trace.append(f"citations: {bad} do not match any source")
    usage = {"prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens}
    return Answer(text, sources, trace, path, usage)


def _link(name: str, fn: Any) -> Any:
    from langchain_core.runnables import RunnableLambda

    def run(state: dict) -> Answer:
        try:
            return fn(state)
        except FALLBACK_ERRORS as exc:
            state["trace"].append(f"{name} failed: {getattr(exc, 'message', exc)}")
            raise

    return RunnableLambda(run, name=name)


def _require_confident(state: dict) -> None:
    if not state["confident"]:
        raise LowConfidenceError("retrieval confidence below min_confidence", hint="answering without sources")


def _adapter_link(state: dict) -> Answer:
    rt: DomainRuntime = state["runtime"]
    use_sources = rt.uses_rag and state["confident"]
    return _generate(state, rt.adapter, use_sources, "adapter+rag" if use_sources else "adapter")


def _base_rag_link(state: dict) -> Answer:
    _require_confident(state)
    return _generate(state, None, True, "base+rag")


def _base_link(state: dict) -> Answer:
    return _generate(state, None, False, "base")


def _extractive_link(state: dict) -> Answer:
    hits = state["hits"][:MAX_SOURCES]
    text = extractive_answer(state["question"], hits)
    if not text:
        raise ServingError("no model is reachable and retrieval found no passages to quote",
                           hint="start the engine or ingest documents for this domain")
    trace = state["trace"] + ["answered by: extractive (top retrieved sentences, no model)"]
    if not state["confident"]:
        trace.append("warning: retrieval confidence is low; these passages may not answer the question")
    return Answer(text, [source_dict(i, h) for i, h in enumerate(hits, 1)], trace, "extractive")


def answer_links(runtime: DomainRuntime, use_adapter: bool = True) -> Any:
    links = []
    if use_adapter and runtime.adapter:
        links.append(_link("adapter", _adapter_link))
    if runtime.uses_rag:
        links.append(_link("base+rag", _base_rag_link))
    links.append(_link("base", _base_link))
    links.append(_link("extractive", _extractive_link))
    return links[0].with_fallbacks(links[1:], exceptions_to_handle=FALLBACK_ERRORS)


def build_chain(runtime: DomainRuntime, use_adapter: bool = True) -> Any:
    from langchain_core.runnables import RunnableBranch, RunnableLambda

    answered = RunnableLambda(lambda s: s["answer"], name="safety-answer")
    return (
        RunnableLambda(safety_step, name="safety")
        | RunnableLambda(decompose_step, name="decompose")
        | RunnableLambda(retrieve_step, name="retrieve")
        | RunnableBranch((lambda s: s.get("answer") is not None, answered), answer_links(runtime, use_adapter))
    )


def initial_state(runtime: DomainRuntime, question: str, history: list[dict] | None = None,
                  max_new_tokens: int | None = None, temperature: float | None = None, k: int | None = None) -> dict:
    if not question or not question.strip():
        raise ServingError("the question is empty", hint="send the question text")
    serving = runtime.spec.serving
    return {
        "runtime": runtime, "question": question.strip(), "history": list(history or []), "k": k,
        "max_new_tokens": max_new_tokens or serving.max_new_tokens,
        "temperature": serving.temperature if temperature is None else temperature,
        "trace": list(runtime.notes), "answer": None,
    }


def run_chain(runtime: DomainRuntime, question: str, history: list[dict] | None = None, use_adapter: bool = True,
              **options: Any) -> Answer:
    state = initial_state(runtime, question, history, **options)
    return build_chain(runtime, use_adapter).invoke(state)


def answer(domain: Any, question: str, history: list[dict] | None = None, **options: Any) -> Answer:
    """Contract entry point: a DomainRuntime, DomainSpec, Manifest or domain folder → Answer."""
    from serving.engines import default_runtime

    if isinstance(domain, DomainRuntime):
        runtime = domain
    elif isinstance(domain, (str, Path)):  # check first: Path itself has a `.root` attribute ("/")
        runtime = default_runtime(Path(domain))
    else:
        folder = getattr(domain, "domain_root", None) or getattr(domain, "root", None) or domain
        runtime = default_runtime(Path(folder))
    return run_chain(runtime, question, history, **options)
