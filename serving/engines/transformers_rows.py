"""Per-row state of one batched ``generate``: each request's future, its streamed text and its stops.

A row ends at its own ``max_new_tokens``, at a stop string (cut from its output) or when its request is
cancelled; a streamed row holds back a tail that could still become a stop string.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from serving.engines.base import Completion, GenerationParams, first_stop, held_back
from vertical.core.errors import EngineUnavailableError, GenerationCancelledError

DeltaCallback = Callable[[str], None]


@dataclass
class RowRequest:
    prompt_ids: list[int]
    params: GenerationParams
    on_delta: DeltaCallback | None = None
    cancel: threading.Event | None = None
    future: Future = field(default_factory=Future)
    aborted: bool = False  # the engine closed under it

    @property
    def cancelled(self) -> bool:
        return self.aborted or (self.cancel is not None and self.cancel.is_set())

    @property
    def batch_key(self) -> tuple:
        p = self.params
        sampling = p.temperature > 0
        alone = id(self) if sampling and p.seed is not None else None  # see the module docstring
        return (
            p.adapter,
            round(p.temperature, 4),
            round(p.repetition_penalty, 4),
            p.top_p if sampling else None,
            alone,
        )


class RowStreamer:
    """transformers streamer for a batch: splits each step's tokens per row, decodes deltas, and
    resolves a row's future as soon as that row is done, not when the whole batch is."""

    def __init__(self, tokenizer: Any, requests: list[RowRequest], eos_ids: set[int]) -> None:
        self.tokenizer = tokenizer
        self.requests = requests
        self.eos_ids = eos_ids
        self.tokens: list[list[int]] = [[] for _ in requests]
        self.sent: list[str] = ["" for _ in requests]
        self.finished = [False] * len(requests)
        self.stopped: list[str | None] = [None] * len(requests)  # text cut before a stop sequence
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        if not self._prompt_seen:  # generate() first hands over the prompt ids
            self._prompt_seen = True
            return
        column = value.reshape(len(self.requests), -1)[:, -1].tolist()
        for row, token in enumerate(column):
            req = self.requests[row]
            if self.finished[row]:
                continue
            if req.cancelled:
                self.finish(row)
                continue
            if token in self.eos_ids:
                self.finish(row)
                continue
            self.tokens[row].append(token)
            stops = req.params.stop
            if req.on_delta is not None or stops:
                text = self.tokenizer.decode(self.tokens[row], skip_special_tokens=True)
                cut = first_stop(text, stops) if stops else None
                if cut is not None:
                    self.stopped[row] = text[:cut]
                    self.finish(row)
                    continue
                safe = text[: len(text) - held_back(text, stops)] if stops else text
                if req.on_delta is not None and not safe.endswith("\ufffd") and len(safe) > len(self.sent[row]):
                    req.on_delta(safe[len(self.sent[row]) :])
                    self.sent[row] = safe
            if len(self.tokens[row]) >= req.params.max_new_tokens:
                self.finish(row)

    def finish(self, row: int) -> None:
        """Flush the row's last delta and hand its completion (or cancellation) to the caller."""
        self.finished[row] = True
        req = self.requests[row]
        if req.future.done():
            return
        if req.aborted:
            req.future.set_exception(
                EngineUnavailableError("the transformers engine was closed mid-generation", hint="restart the server")
            )
            return
        if req.cancelled:
            req.future.set_exception(GenerationCancelledError("cancelled while generating"))
            return
        tokens = self.tokens[row]
        stopped = self.stopped[row]
        text = stopped if stopped is not None else self.tokenizer.decode(tokens, skip_special_tokens=True)
        if stopped is None and req.params.stop:  # a stop string completed by the last token of a limit
            cut = first_stop(text, req.params.stop)
            text, stopped = (text[:cut], text[:cut]) if cut is not None else (text, None)
        if req.on_delta is not None and len(text) > len(self.sent[row]):
            req.on_delta(text[len(self.sent[row]) :])
            self.sent[row] = text
        reason = "length" if stopped is None and len(tokens) >= req.params.max_new_tokens else "stop"
        req.future.set_result(Completion(text.strip(), len(req.prompt_ids), len(tokens), reason))

    def end(self) -> None:
        for row in range(len(self.requests)):
            if not self.finished[row]:
                self.finish(row)
