"""One interface for every generation engine: generate, stream, batch (sync and async).

Engines take chat messages, not prompts: the transformers engine applies the model's chat template
itself, the vLLM and OpenAI engines send messages to a server that applies its own.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from contextlib import aclosing, contextmanager
from dataclasses import dataclass
from typing import Any

Messages = list[dict[str, str]]

# Set by whoever may give up on a generation (the API on timeout or client disconnect); engines
# read it when a request is submitted and stop that request's work once it is set.
_CANCEL: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("vertical_cancel", default=None)


def current_cancel() -> threading.Event | None:
    """The cancel event of the calling context, if any."""
    return _CANCEL.get()


@contextmanager
def cancel_scope(event: threading.Event) -> Iterator[threading.Event]:
    """Generations submitted inside this block stop when ``event`` is set."""
    token = _CANCEL.set(event)
    try:
        yield event
    finally:
        _CANCEL.reset(token)


def post_to_loop(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue, item: object) -> None:
    """Hand an item from a worker thread to the loop's queue; dropped once the loop is closed (reader gone)."""
    try:
        loop.call_soon_threadsafe(queue.put_nowait, item)
    except RuntimeError:  # "Event loop is closed": nobody is left to read it
        pass


@dataclass(frozen=True)
class GenerationParams:
    max_new_tokens: int = 160
    temperature: float = 0.0
    repetition_penalty: float = 1.1
    adapter: str | None = None  # a named LoRA adapter the engine was started with; None = base model
    top_p: float | None = None  # nucleus sampling; used only when temperature > 0
    seed: int | None = None
    stop: tuple[str, ...] = ()  # generation ends before the first of these; the stop text is not returned
    # further OpenAI parameters (presence_penalty, response_format, ...) passed verbatim by the
    # OpenAI-compatible engines; only those in the engine's ``capabilities``
    extra: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "stop", tuple(s for s in self.stop if s))
        if isinstance(self.extra, dict):
            object.__setattr__(self, "extra", tuple(sorted(self.extra.items())))


def first_stop(text: str, stops: tuple[str, ...]) -> int | None:
    """Index where the earliest stop string starts in ``text``, or None."""
    found = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(found) if found else None


def held_back(text: str, stops: tuple[str, ...]) -> int:
    """Length of the longest tail of ``text`` that is a proper prefix of a stop string (not yet sendable)."""
    longest = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:n]):
                longest = n
                break
    return longest


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"  # "stop" | "length"


class Engine(ABC):
    """Base class; subclasses implement :meth:`generate` and :meth:`stream` (or :meth:`stream_completion`).

    ``capabilities``: the optional OpenAI request parameters this engine honours (besides
    max_tokens/temperature); the API refuses any other with a 400 naming the parameter and engine.
    """

    kind: str = "base"
    model: str = ""
    capabilities: frozenset[str] = frozenset()

    @abstractmethod
    def generate(self, messages: Messages, params: GenerationParams | None = None) -> Completion: ...

    @abstractmethod
    def stream(self, messages: Messages, params: GenerationParams | None = None) -> Iterator[str]:
        """Yield text deltas as they are generated."""

    def stream_completion(
        self, messages: Messages, params: GenerationParams | None = None
    ) -> Iterator[str | Completion]:
        """Text deltas, then one :class:`Completion` (full text, token counts, finish_reason).

        Engines that know the real counts and finish reason override this; the default counts nothing."""
        parts: list[str] = []
        for delta in self.stream(messages, params):
            parts.append(delta)
            yield delta
        yield Completion("".join(parts).strip())

    async def astream_completion(
        self, messages: Messages, params: GenerationParams | None = None
    ) -> AsyncGenerator[str | Completion, None]:
        """Async :meth:`stream_completion`, bridged through a thread and a queue."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        done = object()
        cancel = threading.Event()

        def pump() -> None:
            try:
                with cancel_scope(cancel):
                    for item in self.stream_completion(messages, params):
                        post_to_loop(loop, queue, item)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
                post_to_loop(loop, queue, exc)
            post_to_loop(loop, queue, done)

        threading.Thread(target=pump, daemon=True).start()
        try:
            while True:
                item = await queue.get()
                if item is done:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancel.set()  # the consumer stopped early (client gone): stop the generation too

    def batch(self, conversations: Sequence[Messages], params: GenerationParams | None = None) -> list[Completion]:
        """Answer many conversations; engines that batch natively override this."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(8, max(1, len(conversations)))) as pool:
            return list(pool.map(lambda m: self.generate(m, params), conversations))

    @property
    def adapters(self) -> list[str]:
        return []

    def queue_depth(self) -> int:
        return 0

    async def agenerate(self, messages: Messages, params: GenerationParams | None = None) -> Completion:
        return await asyncio.to_thread(self.generate, messages, params)

    async def astream(self, messages: Messages, params: GenerationParams | None = None) -> AsyncIterator[str]:
        """Text deltas only: :meth:`astream_completion` without its final Completion (one bridge to keep).

        ``aclosing``: a consumer that stops early closes the inner stream at once, which cancels the generation."""
        async with aclosing(self.astream_completion(messages, params)) as items:
            async for item in items:
                if isinstance(item, str):
                    yield item

    def close(self) -> None:  # noqa: B027 - engines without workers have nothing to release
        """Release workers, subprocesses and clients."""
