"""Local transformers engine with dynamic batching.

Requests from any thread (or the asyncio loop) go into one pending list. A single worker thread
takes the oldest request, waits up to ``window_s`` for more compatible ones (same adapter and
sampling settings) up to ``max_batch``, and runs one left-padded ``generate`` for all of them.
Each row stops at its own ``max_new_tokens`` (a per-row stopping criterion) and streams its own
tokens through a batch-aware streamer, so one slow request never holds the others' output back.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from vertical.errors import EngineUnavailableError

from serving.engines.base import Completion, Engine, GenerationParams, Messages

DeltaCallback = Callable[[str], None]


@dataclass
class _Request:
    prompt_ids: list[int]
    params: GenerationParams
    on_delta: DeltaCallback | None = None
    future: Future = field(default_factory=Future)

    @property
    def batch_key(self) -> tuple:
        p = self.params
        return (p.adapter, round(p.temperature, 4), round(p.repetition_penalty, 4))


class _RowStreamer:
    """transformers streamer for a batch: splits each step's tokens per row and decodes deltas."""

    def __init__(self, tokenizer: Any, requests: list[_Request], eos_ids: set[int]) -> None:
        self.tokenizer = tokenizer
        self.requests = requests
        self.eos_ids = eos_ids
        self.tokens: list[list[int]] = [[] for _ in requests]
        self.sent: list[str] = ["" for _ in requests]
        self.finished = [False] * len(requests)
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
            if token in self.eos_ids:
                self.finished[row] = True
                continue
            self.tokens[row].append(token)
            if len(self.tokens[row]) >= req.params.max_new_tokens:
                self.finished[row] = True
            if req.on_delta is not None:
                text = self.tokenizer.decode(self.tokens[row], skip_special_tokens=True)
                if not text.endswith("\ufffd") and len(text) > len(self.sent[row]):
                    req.on_delta(text[len(self.sent[row]) :])
                    self.sent[row] = text

    def end(self) -> None:
        for row, req in enumerate(self.requests):
            if req.on_delta is None:
                continue
            text = self.tokenizer.decode(self.tokens[row], skip_special_tokens=True)
            if len(text) > len(self.sent[row]):
                req.on_delta(text[len(self.sent[row]) :])
                self.sent[row] = text


class TransformersEngine(Engine):
    kind = "transformers"

    def __init__(
        self,
        model: str,
        adapters: dict[str, str] | None = None,
        max_batch: int = 8,
        window_s: float = 0.02,
    ) -> None:
        from vertical.runtime import load_tokenizer

        self.model = model
        self._adapters = dict(adapters or {})
        self.max_batch = max_batch
        self.window_s = window_s
        self.tokenizer = load_tokenizer(model)
        self._pending: list[_Request] = []
        self._cond = threading.Condition()
        self._closed = False
        self._busy = 0
        self.batches_run = 0  # for tests and metrics: how many generate() calls were made
        self.max_batch_seen = 0
        self._worker = threading.Thread(target=self._loop, name="transformers-engine", daemon=True)
        self._worker.start()

    # ---- public API -------------------------------------------------------------------------
    @property
    def adapters(self) -> list[str]:
        return sorted(self._adapters)

    def queue_depth(self) -> int:
        with self._cond:
            return len(self._pending) + self._busy

    def encode(self, messages: Messages) -> list[int]:
        return list(self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                       return_dict=True)["input_ids"])

    def submit(self, messages: Messages, params: GenerationParams | None = None,
               on_delta: DeltaCallback | None = None) -> Future:
        params = params or GenerationParams()
        if params.adapter and params.adapter not in self._adapters:
            raise EngineUnavailableError(
                f"adapter {params.adapter!r} is not loaded in the transformers engine",
                hint=f"known adapters: {', '.join(self._adapters) or 'none'}",
            )
        req = _Request(self.encode(messages), params, on_delta)
        with self._cond:
            if self._closed:
                raise EngineUnavailableError("the transformers engine is closed", hint="restart the server")
            self._pending.append(req)
            self._cond.notify()
        return req.future

    def generate(self, messages: Messages, params: GenerationParams | None = None) -> Completion:
        return self.submit(messages, params).result()

    def batch(self, conversations: Sequence[Messages], params: GenerationParams | None = None) -> list[Completion]:
        futures = [self.submit(m, params) for m in conversations]
        return [f.result() for f in futures]

    def stream(self, messages: Messages, params: GenerationParams | None = None) -> Iterator[str]:
        deltas: queue.Queue = queue.Queue()
        future = self.submit(messages, params, on_delta=deltas.put)
        future.add_done_callback(lambda _f: deltas.put(None))
        while (item := deltas.get()) is not None:
            yield item
        future.result()  # re-raise a generation error after the partial output

    async def agenerate(self, messages: Messages, params: GenerationParams | None = None) -> Completion:
        return await asyncio.wrap_future(self.submit(messages, params))

    async def astream(self, messages: Messages, params: GenerationParams | None = None):
        loop = asyncio.get_running_loop()
        deltas: asyncio.Queue = asyncio.Queue()
        future = self.submit(messages, params, on_delta=lambda d: loop.call_soon_threadsafe(deltas.put_nowait, d))
        future.add_done_callback(lambda _f: loop.call_soon_threadsafe(deltas.put_nowait, None))
        while (item := await deltas.get()) is not None:
            yield item
        future.result()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # ---- worker -----------------------------------------------------------------------------
    def _take_batch(self) -> list[_Request] | None:
        with self._cond:
            while not self._pending and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            first = self._pending[0]
            deadline = time.monotonic() + self.window_s
            # gather compatible requests that arrive within the window
            while True:
                same = [r for r in self._pending if r.batch_key == first.batch_key]
                remaining = deadline - time.monotonic()
                if len(same) >= self.max_batch or remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch = same[: self.max_batch]
            for r in batch:
                self._pending.remove(r)
            self._busy = len(batch)
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

    def _run(self, batch: list[_Request]) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        from vertical.runtime import load_generator

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

        class _PerRowLimit(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return (input_ids.shape[1] - width) >= limits.to(input_ids.device)

        eos = self.tokenizer.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos])
        streamer = _RowStreamer(self.tokenizer, batch, eos_ids)
        kwargs: dict[str, Any] = {"do_sample": params.temperature > 0, "repetition_penalty": params.repetition_penalty}
        if params.temperature > 0:
            kwargs["temperature"] = params.temperature
        with torch.inference_mode():
            model.generate(
                input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
                max_new_tokens=int(limits.max()), pad_token_id=pad_id, streamer=streamer,
                stopping_criteria=StoppingCriteriaList([_PerRowLimit()]), **kwargs,
            )
        self.batches_run += 1
        self.max_batch_seen = max(self.max_batch_seen, len(batch))
        for row, r in enumerate(batch):
            tokens = streamer.tokens[row]
            text = self.tokenizer.decode(tokens, skip_special_tokens=True).strip()
            reason = "length" if len(tokens) >= r.params.max_new_tokens else "stop"
            r.future.set_result(Completion(text, len(r.prompt_ids), len(tokens), reason))
