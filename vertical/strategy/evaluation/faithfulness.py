"""Faithfulness: is the answer supported by the domain's documents? Measured the same way for every strategy.

Evidence is retrieved *after the fact* from the domain's knowledge base with the question and the answer
as the query (top ``k`` chunks), whatever the strategy did while answering. A prompt-only or sft answer
is therefore checked against the documents too: one that invents or contradicts what the documents say
shares few content words with them and scores low. Support is the shared grounding check of serving
(``serving.citations.grounding``: share of the answer's content words, from ``vertical.core.text``, found
in the evidence), so evaluation and the serving trace agree on what "grounded" means, in any language.

The knowledge base is the domain's own (``KnowledgeBase.for_domain``). A candidate without rag has not
ingested anything, so :func:`evidence_kb` ingests the domain's sources once when the store is empty (the
same content-hash sync the rag build step runs; a later rag step then finds nothing to do). A domain
without documents has no evidence: faithfulness is None for every candidate and drops out of the composite.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from vertical.core.spec import DomainSpec

_ingest_lock = threading.Lock()


def evidence_kb(spec: DomainSpec, on_stage: Callable[[str], None] | None = None) -> Any | None:
    """The domain's KnowledgeBase, ingested once if empty; None when the domain has no documents."""
    try:
        from knowledge.sources import document_roots
        from knowledge.store import KnowledgeBase
    except ImportError:
        return None
    if not any(p.exists() for p in document_roots(spec)):
        return None
    with _ingest_lock:
        kb = KnowledgeBase.for_domain(spec)
        if kb.count() == 0:
            from knowledge.jobs import IngestJob

            if on_stage:
                on_stage("ingesting the documents once, as evidence for faithfulness")
            IngestJob(spec, sync=True).run()
            kb = KnowledgeBase.for_domain(spec)
    return kb if kb.count() > 0 else None


def retrieve_evidence(kb: Any, question: str, answer: str, k: int) -> list[Any]:
    """Top-``k`` chunks for question + answer (what the answer claims decides which documents are relevant)."""
    if kb is None or not answer.strip():
        return []
    return list(kb.search(f"{question}\n{answer}", k=k))


def faithfulness(answer: str, evidence: list[str]) -> float | None:
    """Share of the answer's content words found in the evidence; None when there is nothing to check."""
    from serving.citations import content_words, grounding

    if not evidence or not content_words(answer):
        return None
    return float(grounding(answer, evidence, [])[0])
