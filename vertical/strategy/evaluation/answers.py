"""Get the assistant's answers to the eval questions for one manifest, through the serving chain.

Evaluation measures exactly what users get: ``serving.chain.run_chain`` on a runtime built from the
manifest being evaluated (which may be an unsaved ``auto`` candidate or a baseline, so the saved
manifest is not consulted). Questions go in concurrently so the transformers engine's dynamic
batching answers them in left-padded batches (several times faster than one by one on CPU).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from vertical.core.manifest import Manifest
from vertical.core.spec import DomainSpec

CONCURRENCY = 8
_engines: dict[tuple, Any] = {}
_lock = threading.Lock()


@dataclass
class AnswerRecord:
    answer: str
    sources: list[str] = field(default_factory=list)  # source document of each numbered chunk, in order
    path: str = ""


def _source_of(hit: Any) -> str:
    if isinstance(hit, dict):
        return str(hit.get("source") or "")
    return str(getattr(hit, "source", "") or "")


def runtime_for(spec: DomainSpec, manifest: Manifest) -> Any:
    """A serving runtime for ``manifest``; engines are shared per (engine, model, adapters) in this process."""
    from serving.domains import DomainRuntime, adapter_for, describe
    from serving.engines import make_engine

    adapter = adapter_for(spec, manifest)
    adapters = dict([adapter]) if adapter else {}
    key = (spec.serving.engine, manifest.base_model, tuple(sorted(adapters.items())))
    with _lock:
        if key not in _engines:
            _engines[key] = make_engine(spec.serving.engine, spec, adapters)
    runtime = DomainRuntime(spec=spec, engine=_engines[key], manifest=manifest, adapter=adapter[0] if adapter else None)
    runtime.notes = describe(spec, manifest, manifest.uses_rag)
    if manifest.uses_rag:
        runtime.kb()  # open the KB before the worker threads: DomainRuntime.kb() is not safe to race
    return runtime


def answer_all(spec: DomainSpec, manifest: Manifest, questions: list[str],
               max_new_tokens: int | None = None) -> tuple[list[AnswerRecord], str]:
    """Answers in question order, and the name of the path that produced them."""
    from serving.chain import run_chain

    runtime = runtime_for(spec, manifest)

    def one(question: str) -> AnswerRecord:
        result = run_chain(runtime, question, max_new_tokens=max_new_tokens)
        return AnswerRecord(result.answer, [_source_of(h) for h in result.sources], result.path)

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        records = list(pool.map(one, questions))
    return records, "serving.chain"
