"""The steps before any answer link: safety → decompose → retrieve. Blocking; shared by both modes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from serving.answer.types import AnswerRequest
from serving.domains import DomainRuntime
from vertical.core.errors import EngineUnavailableError, LowConfidenceError, ModelNotFoundError

# A link that raises one of these hands over to the next link (empty output raises EngineUnavailableError).
FALLBACK_ERRORS = (EngineUnavailableError, LowConfidenceError, ModelNotFoundError)


@dataclass
class Prepared:
    """Everything the answer links need, decided once per request."""

    runtime: DomainRuntime
    request: AnswerRequest
    question: str
    history: list[dict[str, str]]
    trace: list[str]
    safety: Any  # vertical.core.safety.SafetyVerdict
    queries: list[str] = field(default_factory=list)
    hits: list[Any] = field(default_factory=list)  # knowledge.store.Hit, fused order
    confident: bool = False
    max_new_tokens: int = 160
    temperature: float = 0.0
    summary_cache: dict[int, str] = field(default_factory=dict)  # dropped-message count → summary

    @property
    def fixed_response(self) -> bool:
        return self.safety.action == "fixed_response"


def prepare(runtime: DomainRuntime, req: AnswerRequest) -> Prepared:
    from vertical.core.safety import assess

    req.validate()
    serving = runtime.spec.serving
    verdict = assess(req.messages, runtime.spec)
    state = Prepared(
        runtime=runtime,
        request=req,
        question=req.question,
        history=req.history,
        trace=list(runtime.notes) + [verdict.reason],
        safety=verdict,
        max_new_tokens=req.max_new_tokens or serving.max_new_tokens,
        temperature=serving.temperature if req.temperature is None else req.temperature,
    )
    if state.fixed_response:  # no model call of any kind, retrieval included
        return state
    if req.client_system:
        state.trace.append(
            f"system: {len(req.client_system)} client system message(s) added after the domain's system prompt"
        )
    state.queries = decompose_step(runtime, state)
    retrieve_step(runtime, state)
    return state


def decompose_step(runtime: DomainRuntime, state: Prepared) -> list[str]:
    if not runtime.spec.serving.decompose:
        return [state.question]
    from serving.decompose import decompose

    try:
        queries, line = decompose(runtime.engine, state.question)
    except FALLBACK_ERRORS as exc:
        why = getattr(exc, "message", exc)
        queries, line = [state.question], f"decompose: skipped ({why}); using the whole question"
    state.trace.append(line)
    return queries


def merge_hits(result_lists: list[list[Any]]) -> list[Any]:
    """One query: its fused order as is. Several: each chunk once with its best fused score, best first
    (a stable sort, so equal scores keep the order they were found in)."""
    if len(result_lists) == 1:
        return list(result_lists[0])
    best: dict[str, Any] = {}
    for hits in result_lists:
        for hit in hits:
            if hit.chunk_id not in best or hit.score > best[hit.chunk_id].score:
                best[hit.chunk_id] = hit
    return sorted(best.values(), key=lambda h: -h.score)


def retrieve_step(runtime: DomainRuntime, state: Prepared) -> None:
    if not runtime.uses_rag:
        state.trace.append("retrieval: off (strategy without rag)")
        return
    kb = runtime.kb()
    state.hits = merge_hits([kb.search(q, k=state.request.k) for q in state.queries])
    confidence = kb.confidence(state.hits)  # the knowledge package decides; we only read it
    state.confident = bool(state.hits) and not confidence.low
    reason = getattr(confidence, "reason", None) or _describe(confidence)
    state.trace.append(
        f"retrieval: {len(state.hits)} chunks for {len(state.queries)} query(ies), fused order; "
        f"confidence {'low' if confidence.low else 'ok'}: {reason}"
    )


def _describe(confidence: Any) -> str:
    best = getattr(confidence, "best_dense", None)
    threshold = getattr(confidence, "threshold", None)
    if best is None or threshold is None:
        return "no evidence" if best is None else str(confidence)
    return f"best cosine {best:.2f} vs min_confidence {threshold:.2f}"
