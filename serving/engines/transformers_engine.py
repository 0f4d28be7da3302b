"""Local transformers engine with dynamic batching.

Requests from any thread (or the asyncio loop) go into one pending list. A single worker thread
takes the oldest request and keeps gathering compatible ones (same adapter and sampling settings)
while they keep arriving: it closes the batch once no request came for ``window_s``, after
``max_wait_s`` in all, or at ``max_batch``. Requests that pass through an API arrive a few ms
apart (parsing, retrieval, chat template); a fixed window from the first arrival split them into
a small batch and a long wait for the rest. Then it runs one left-padded ``generate`` for the batch.
Each row stops at its own ``max_new_tokens`` or when its request is cancelled (a per-row stopping
criterion) and streams its own tokens through a batch-aware streamer, so one slow request never
holds the others' output back and an abandoned one stops costing compute.

Stop sequences are checked per row on the decoded text: the row ends at the first stop string, which
is cut from its output, and a streamed row holds back a tail that could still become a stop string.
``top_p`` applies when sampling (temperature > 0). A seeded sampling request runs in a batch of its
own, with the global torch seed set just before it: the sampled tokens of a row depend on the RNG
draws of the whole batch, so only a batch of one is reproducible (unseeded requests still batch).
"""

from __future__ import annotations

import asyncio
import atexit
import queue
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from functools import cached_property
from typing import Any

from serving.engines.base import Completion, Engine, GenerationParams, Messages, current_cancel, post_to_loop
from serving.engines.transformers_rows import DeltaCallback, RowRequest, RowStreamer
from vertical.core.errors import EngineUnavailableError, GenerationCancelledError


def _close_at_exit(ref: weakref.ReferenceType[TransformersEngine]) -> None:
    engine = ref()
    if engine is not None:
        engine.close()


def _similar_lengths(compatible: list[RowRequest], max_batch: int) -> list[RowRequest]:
    """The oldest request and the ones closest to its prompt length: every row is padded to the longest,
    so a batch of similar lengths wastes less compute (an eval queues many requests of mixed lengths).
    The oldest always goes first, so no request waits behind newer ones for ever."""
    if len(compatible) <= max_batch:
        return compatible
    first, rest = compatible[0], compatible[1:]
    rest = sorted(rest, key=lambda r: abs(len(r.prompt_ids) - len(first.prompt_ids)))  # stable: ties stay FIFO
    return [first, *rest[: max_batch - 1]]


class TransformersEngine(Engine):
    kind = "transformers"
    capabilities = frozenset({"stop", "seed", "top_p"})

    def __init__(
        self,
        model: str,
        adapters: dict[str, str] | None = None,
        max_batch: int = 8,
        window_s: float = 0.02,
        max_wait_s: float = 0.2,
    ) -> None:
        self.model = model
        self._adapters = dict(adapters or {})
        self.max_batch = max_batch
        self.window_s = window_s
        self.max_wait_s = max(max_wait_s, window_s)
        self._last_arrival = 0.0
        self._running: list[RowRequest] = []
        self._pending: list[RowRequest] = []
        self._cond = threading.Condition()
        self._closed = False
        self._busy = 0
        self.batches_run = 0  # for tests and metrics: how many generate() calls were made
        self.max_batch_seen = 0
        self.padding_tokens = 0  # left-padding positions computed for nothing (prefill and every decode step)
        self._worker = threading.Thread(target=self._loop, name="transformers-engine", daemon=True)
        self._worker.start()
        # A daemon thread still inside torch when the interpreter finalizes aborts the process
        # ("terminate called without an active exception"): stop and join it at exit instead.
        atexit.register(_close_at_exit, weakref.ref(self))

    @cached_property
    def tokenizer(self) -> Any:
        """Loaded on first use: a crisis reply or an unbuilt-domain error never needs torch or transformers."""
        from vertical.core.loaders import load_tokenizer

        return load_tokenizer(self.model)

    # ---- public API -------------------------------------------------------------------------
    @property
    def adapters(self) -> list[str]:
        return sorted(self._adapters)

    def queue_depth(self) -> int:
        with self._cond:
            return len(self._pending) + self._busy

    def encode(self, messages: Messages) -> list[int]:
        return list(
            self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True)[
                "input_ids"
            ]
        )

    def submit(
        self,
        messages: Messages,
        params: GenerationParams | None = None,
        on_delta: DeltaCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Future:
        """Queue one generation; it stops early once ``cancel`` (default: the caller's cancel scope) is set."""
        params = params or GenerationParams()
        if params.adapter and params.adapter not in self._adapters:
            raise EngineUnavailableError(
                f"adapter {params.adapter!r} is not loaded in the transformers engine",
                hint=f"known adapters: {', '.join(self._adapters) or 'none'}",
            )
        req = RowRequest(self.encode(messages), params, on_delta, cancel or current_cancel())
        with self._cond:
            if self._closed:
                raise EngineUnavailableError("the transformers engine is closed", hint="restart the server")
            self._pending.append(req)
            self._last_arrival = time.monotonic()
            self._cond.notify()
        return req.future

    def generate(self, messages: Messages, params: GenerationParams | None = None) -> Completion:
        return self.submit(messages, params).result()

    def batch(self, conversations: Sequence[Messages], params: GenerationParams | None = None) -> list[Completion]:
        futures = [self.submit(m, params) for m in conversations]
        return [f.result() for f in futures]

    def stream(self, messages: Messages, params: GenerationParams | None = None) -> Iterator[str]:
        deltas: queue.Queue = queue.Queue()
        cancel = current_cancel() or threading.Event()
        future = self.submit(messages, params, on_delta=deltas.put, cancel=cancel)
        future.add_done_callback(lambda _f: deltas.put(None))
        try:
            while (item := deltas.get()) is not None:
                yield item
            future.result()  # re-raise a generation error after the partial output
        finally:
            if not future.done():  # the reader stopped early: stop generating for it
                cancel.set()

    def stream_completion(
        self, messages: Messages, params: GenerationParams | None = None
    ) -> Iterator[str | Completion]:
        deltas: queue.Queue = queue.Queue()
        cancel = current_cancel() or threading.Event()
        future = self.submit(messages, params, on_delta=deltas.put, cancel=cancel)
        future.add_done_callback(lambda _f: deltas.put(None))
        try:
            while (item := deltas.get()) is not None:
                yield item
            yield future.result()
        finally:
            if not future.done():
                cancel.set()

    async def astream_completion(self, messages: Messages, params: GenerationParams | None = None):
        loop = asyncio.get_running_loop()
        deltas: asyncio.Queue = asyncio.Queue()
        cancel = threading.Event()
        future = self.submit(messages, params, on_delta=lambda d: post_to_loop(loop, deltas, d), cancel=cancel)
        future.add_done_callback(lambda _f: post_to_loop(loop, deltas, None))
        try:
            while (item := await deltas.get()) is not None:
                yield item
            yield future.result()
        finally:
            if not future.done():  # the client went away mid-stream: free its batch row
                cancel.set()

    async def agenerate(self, messages: Messages, params: GenerationParams | None = None) -> Completion:
        return await asyncio.wrap_future(self.submit(messages, params))

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop the worker: queued requests fail, a running batch stops at its next token."""
        with self._cond:
            self._closed = True
            for r in self._pending:
                if not r.future.done():
                    r.future.set_exception(
                        EngineUnavailableError("the transformers engine was closed", hint="restart the server")
                    )
            self._pending.clear()
            for r in self._running:
                r.aborted = True
            self._cond.notify_all()
        if threading.current_thread() is not self._worker:
            self._worker.join(timeout_s)

    # ---- worker -----------------------------------------------------------------------------
    def _take_batch(self) -> list[RowRequest] | None:
        with self._cond:
            while not self._pending and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            for r in [r for r in self._pending if r.cancelled]:  # given up on while queued
                self._pending.remove(r)
                r.future.set_exception(GenerationCancelledError("cancelled before it started"))
            if not self._pending:
                return []
            first = self._pending[0]
            hard_deadline = time.monotonic() + self.max_wait_s
            # gather compatible requests while they keep arriving (see the module docstring)
            while True:
                same = [r for r in self._pending if r.batch_key == first.batch_key]
                now = time.monotonic()
                remaining = min(self._last_arrival + self.window_s, hard_deadline) - now
                if len(same) >= self.max_batch or remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch = _similar_lengths(same, self.max_batch)
            for r in batch:
                self._pending.remove(r)
            self._busy = len(batch)
            self._running = batch
            return batch

    def _loop(self) -> None:
        while (batch := self._take_batch()) is not None:
            live = [r for r in batch if r.future.set_running_or_notify_cancel()]
            try:
                if live:
                    self._run(live)
            except BaseException as exc:  # noqa: BLE001 - delivered to every waiting caller
                err = EngineUnavailableError(f"local generation failed: {exc}", hint="see the server log")
                for r in live:
                    if not r.future.done():
                        r.future.set_exception(err)
            finally:
                with self._cond:
                    self._busy = 0
                    self._running = []

    def _run(self, batch: list[RowRequest]) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        from vertical.core.loaders import load_generator

        params = batch[0].params
        model = load_generator(self.model, self._adapters.get(params.adapter) if params.adapter else None)
        pad_id = self.tokenizer.pad_token_id
        width = max(len(r.prompt_ids) for r in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, r in enumerate(batch):  # left padding: the last prompt token lines up for every row
            ids[row, width - len(r.prompt_ids) :] = torch.tensor(r.prompt_ids)
            mask[row, width - len(r.prompt_ids) :] = 1
        limits = torch.tensor([r.params.max_new_tokens for r in batch])
        eos = self.tokenizer.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos])
        streamer = RowStreamer(self.tokenizer, batch, eos_ids)

        class _PerRowLimit(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                # the streamer sees each token first: it finishes rows that hit a stop string
                ended = torch.tensor([r.cancelled or done for r, done in zip(batch, streamer.finished)])
                return (((input_ids.shape[1] - width) >= limits) | ended).to(input_ids.device)

        kwargs: dict[str, Any] = {"do_sample": params.temperature > 0, "repetition_penalty": params.repetition_penalty}
        if params.temperature > 0:
            kwargs["temperature"] = params.temperature
            if params.top_p is not None:
                kwargs["top_p"] = params.top_p
            if params.seed is not None:  # a batch of one (batch_key): reproducible
                torch.manual_seed(params.seed)
        self.batches_run += 1
        self.max_batch_seen = max(self.max_batch_seen, len(batch))
        self.padding_tokens += sum(width - len(r.prompt_ids) for r in batch)
        with torch.inference_mode():
            model.generate(
                input_ids=ids.to(model.device),
                attention_mask=mask.to(model.device),
                max_new_tokens=int(limits.max()),
                pad_token_id=pad_id,
                streamer=streamer,
                stopping_criteria=StoppingCriteriaList([_PerRowLimit()]),
                **kwargs,
            )
        streamer.end()  # rows still open (generate stopped for all of them at once)
