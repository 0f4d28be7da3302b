"""Get the assistant's answers to the eval questions for one manifest, through the serving answer policy.

Evaluation measures exactly what users get: ``serving.answer.answer_many`` on a runtime built from the manifest being
evaluated (which may be an unsaved ``auto`` candidate or a baseline, so the saved manifest is not
consulted). The engine comes from serving's single per-process cache (``serving.engines.shared_engine``),
the one ``vertical ask`` uses too, so candidates with the same base model and adapter share one loaded model.

Speed: ``answer_many`` keeps 2 × ``settings.eval_batch`` questions in flight, so the
transformers engine's dynamic batching answers them in left-padded batches of ``settings.eval_batch``, the
next batch is already queued when one ends, and the engine can pick rows of similar prompt length from that
queue (less padding); ``bench/eval.py`` measures it against one question at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from vertical.core.manifest import Manifest
from vertical.core.spec import DomainSpec

Progress = Callable[[int, int, float | None], None]  # (answered, total, seconds left or None)


@dataclass
class AnswerRecord:
    answer: str
    sources: list[str] = field(default_factory=list)  # source document of each numbered chunk, in order
    path: str = ""
    written: list[int] = field(default_factory=list)  # citation numbers the model wrote itself
    attributed: list[int] = field(default_factory=list)  # numbers the policy added by word overlap
    completion_tokens: int = 0


def _source_of(hit: Any) -> str:
    if isinstance(hit, dict):
        return str(hit.get("source") or "")
    return str(getattr(hit, "source", "") or "")


def split_citations(result: Any) -> tuple[list[int], list[int]]:
    """(written, attributed) citation numbers of an answer, as the answer policy marked them."""
    marks = getattr(result, "citations", None) or {}
    return [int(n) for n in marks.get("written") or []], [int(n) for n in marks.get("attributed") or []]


def runtime_for(spec: DomainSpec, manifest: Manifest) -> Any:
    """A serving runtime for ``manifest`` on serving's shared engine cache."""
    from serving.domains import DomainRuntime, adapter_for, describe
    from serving.engines import shared_engine

    adapter = adapter_for(spec, manifest)
    engine = shared_engine(spec, dict([adapter]) if adapter else {})
    runtime = DomainRuntime(spec=spec, engine=engine, manifest=manifest, adapter=adapter[0] if adapter else None)
    runtime.notes = describe(spec, manifest)
    if manifest.uses_rag:
        runtime.kb()  # open the KB before the worker threads
    return runtime


@contextmanager
def whole_batches(
    engine: Any, window_s: float = 0.3, max_wait_s: float = 2.0, max_batch: int | None = None
) -> Iterator[None]:
    """Let the transformers engine gather full, large batches while the eval runs, then restore its settings.

    Every question is submitted at once, but each thread first runs safety and retrieval, so requests reach the
    engine tens of ms apart; the engine's interactive window (20 ms after the last arrival) then starts a batch
    of 1–3 and queues the rest behind it: 3 batches instead of 2 for 16 questions, 84 s instead of 61 s
    (bench/RESULTS.md). Decoding a small model on a CPU is bound by reading its weights once per step, so a
    step for 32 rows costs little more than one for 8: the batch grows to ``max_batch`` (settings.eval_batch)
    for the eval. Engines without these settings (vLLM, OpenAI) batch on their own and are left alone.
    """
    from vertical.core.settings import get_settings

    names = ("window_s", "max_wait_s", "max_batch")
    old = tuple(getattr(engine, name, None) for name in names)
    if None in old:
        yield
        return
    wanted = max_batch or get_settings().eval_batch
    engine.window_s, engine.max_wait_s, engine.max_batch = max(old[0], window_s), max(old[1], max_wait_s), wanted
    try:
        yield
    finally:
        for name, value in zip(names, old):
            setattr(engine, name, value)


class _Eta:
    """done/total with a time-left estimate from the answering rate so far (None until one answer is in)."""

    def __init__(self, total: int, on_progress: Progress | None) -> None:
        self.total, self.done, self.started = total, 0, time.perf_counter()
        self.on_progress = on_progress
        self._lock = threading.Lock()

    def tick(self) -> None:
        with self._lock:
            self.done += 1
            elapsed = time.perf_counter() - self.started
            left = elapsed / self.done * (self.total - self.done)
            if self.on_progress:
                self.on_progress(self.done, self.total, round(left, 1))


def answer_all(
    spec: DomainSpec,
    manifest: Manifest,
    questions: list[str],
    max_new_tokens: int | None = None,
    on_progress: Progress | None = None,
) -> tuple[list[AnswerRecord], str]:
    """Answers in question order, and the name of the path that produced them."""
    from serving.answer import AnswerRequest, answer, answer_many
    from vertical.core.settings import get_settings

    runtime = runtime_for(spec, manifest)
    if on_progress:
        on_progress(0, len(questions), None)
    if questions:
        # Warm up first: the model, safety rules, tokenizer and retriever load lazily on the first request; while
        # the first threads load them, the engine starts batches of one and the rest queue behind them.
        answer(runtime, AnswerRequest.ask(questions[0], max_new_tokens=1))
    eta = _Eta(len(questions), on_progress)
    reqs = [AnswerRequest.ask(q, max_new_tokens=max_new_tokens) for q in questions]
    batch = get_settings().eval_batch
    with whole_batches(runtime.engine, max_batch=batch):
        results = answer_many(runtime, reqs, concurrency=2 * batch, on_answer=lambda _i, _a: eta.tick())
    records = []
    for result in results:
        written, attributed = split_citations(result)
        records.append(
            AnswerRecord(
                result.answer,
                [_source_of(h) for h in result.sources],
                result.path,
                written,
                attributed,
                int((result.usage or {}).get("completion_tokens") or 0),
            )
        )
    return records, "serving.answer"
