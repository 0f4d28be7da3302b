"""One interface for every generation engine: generate, stream, batch (sync and async).

Engines take chat messages, not prompts: the transformers engine applies the model's chat template
itself, the vLLM and OpenAI engines send messages to a server that applies its own.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

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


@dataclass(frozen=True)
class GenerationParams:
    max_new_tokens: int = 160
    temperature: float = 0.0
    repetition_penalty: float = 1.1
    adapter: str | None = None  # a named LoRA adapter the engine was started with; None = base model


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"  # "stop" | "length"


class Engine(ABC):
    """Base class; subclasses implement :meth:`generate` and :meth:`stream`."""

    kind: str = "base"
    model: str = ""

    @abstractmethod
    def generate(self, messages: Messages, params: GenerationParams | None = None) -> Completion: ...

    @abstractmethod
    def stream(self, messages: Messages, params: GenerationParams | None = None) -> Iterator[str]:
        """Yield text deltas as they are generated."""

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
        """Bridge the blocking :meth:`stream` to asyncio through a thread and a queue."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        done = object()
        cancel = threading.Event()

        def pump() -> None:
            try:
                with cancel_scope(cancel):
                    for delta in self.stream(messages, params):
                        loop.call_soon_threadsafe(queue.put_nowait, delta)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            loop.call_soon_threadsafe(queue.put_nowait, done)

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

    def close(self) -> None:
        """Release workers, subprocesses and clients."""
