"""Everything the app holds: domain runtimes, engines, the ingest queue, build jobs, admission control."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import Request

from serving.api.config import ServeSettings
from serving.api.metrics import Metrics
from serving.domains import DomainRuntime
from serving.engines.base import cancel_scope
from vertical.core.errors import (
    DomainNotFoundError,
    GenerationCancelledError,
    GenerationTimeoutError,
    ServerBusyError,
)

if TYPE_CHECKING:
    from knowledge.job_table import JobRow
    from knowledge.queue import IngestQueue

T = TypeVar("T")
RETRY_AFTER_S = 1


@dataclass
class JobRecord:
    """An in-process build job (vertical.strategy.routes); ingest jobs live on the queue instead."""

    id: str
    domain: str
    job: Any
    files: list[str]
    created: float = field(default_factory=time.time)
    report: dict | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        progress = dict(self.job.progress)
        return {
            "id": self.id,
            "domain": self.domain,
            "status": self.job.status,
            "files": self.files,
            "progress": progress,
            "report": self.report,
            "error": self.error,
            "created": self.created,
        }


class AppState:
    def __init__(self, runtimes: dict[str, DomainRuntime], settings: ServeSettings) -> None:
        self.runtimes = runtimes
        self.settings = settings
        self.metrics = Metrics()
        self.keys = settings.keys(served=runtimes)  # a scope naming an unserved domain fails start-up
        self.jobs: dict[str, JobRecord] = {}  # builds, by id
        self._queue: IngestQueue | None = None
        self._queue_lock = threading.Lock()
        self._inflight = 0
        self._lock = threading.Lock()
        # chain calls block on the engine: give them their own pool, sized to the queue bound
        self.pool = ThreadPoolExecutor(max_workers=settings.queue_limit, thread_name_prefix="chain")

    def runtime(self, domain: str) -> DomainRuntime:
        if domain not in self.runtimes:
            raise DomainNotFoundError(
                f"domain {domain!r} is not served here",
                hint=f"served domains: {', '.join(sorted(self.runtimes)) or 'none'}",
            )
        return self.runtimes[domain]

    @property
    def inflight(self) -> int:
        return self._inflight

    @asynccontextmanager
    async def admit(self):
        """Hold one generation slot; 429 when ``queue_limit`` generations are already in flight."""
        with self._lock:
            if self._inflight >= self.settings.queue_limit:
                self.metrics.rejected.labels("queue_full").inc()
                raise ServerBusyError(
                    f"the generation queue is full ({self.settings.queue_limit} in flight)",
                    hint=f"retry after {RETRY_AFTER_S}s",
                )
            self._inflight += 1
            self.metrics.queue_depth.set(self._inflight)
        try:
            yield
        finally:
            with self._lock:
                self._inflight -= 1
                self.metrics.queue_depth.set(self._inflight)

    async def run_blocking(self, fn: Callable[..., T], *args: Any, client: Request | None = None, **kwargs: Any) -> T:
        """Run a blocking call in the chain pool under the per-request timeout (504).

        The call runs in a cancel scope: on timeout, when the request task is cancelled, or when
        ``client`` (the HTTP request) disconnects, the engines stop its generations instead of finishing
        work nobody will read, and the caller's queue slot is released at once (499)."""
        loop = asyncio.get_running_loop()
        cancel = threading.Event()

        def call() -> T:
            with cancel_scope(cancel):
                return fn(*args, **kwargs)

        future: asyncio.Future[T] = loop.run_in_executor(self.pool, call)  # type: ignore[assignment]
        watch = asyncio.ensure_future(self._until_disconnected(client)) if client is not None else None
        try:
            done, _ = await asyncio.wait(
                {future, watch} - {None}, timeout=self.settings.request_timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:
            cancel.set()
            raise
        finally:
            if watch is not None:
                watch.cancel()
        if future in done:
            return future.result()
        cancel.set()
        future.add_done_callback(lambda f: f.exception())  # its GenerationCancelledError is expected
        if watch is not None and watch in done:
            self.metrics.rejected.labels("client_gone").inc()
            raise GenerationCancelledError(
                "the client disconnected; its generation was stopped",
                hint="keep the connection open until the answer arrives",
            )
        self.metrics.rejected.labels("timeout").inc()
        raise GenerationTimeoutError(
            f"generation took longer than {self.settings.request_timeout_s:.0f}s",
            hint="lower max_tokens or retry later",
        )

    async def _until_disconnected(self, client: Request) -> None:
        while not await client.is_disconnected():
            await asyncio.sleep(self.settings.disconnect_poll_s)

    # ---- jobs: ingests on the queue (any process may run them), builds in this process -----------
    @property
    def queue(self) -> IngestQueue:
        """The ingest queue (created on first use, in the workspace the settings name then)."""
        from knowledge.queue import IngestQueue

        with self._queue_lock:
            if self._queue is None:
                self._queue = IngestQueue({name: r.spec.root for name, r in self.runtimes.items()})
            return self._queue

    def start_workers(self) -> None:
        """Run the queue's consumer threads here unless VERTICAL_QUEUE_WORKERS=0 (workers elsewhere)."""
        from vertical.core.settings import get_settings

        workers = get_settings().queue_workers
        if workers > 0:
            self.queue.start(workers)

    def stop_workers(self) -> None:
        if self._queue is not None:
            self._queue.stop()

    def job(self, job_id: str) -> JobRecord | JobRow:
        """A build by id, else an ingest job from the queue's table (JobNotFoundError if neither)."""
        if job_id in self.jobs:
            return self.jobs[job_id]
        return self.queue.job(job_id)

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        if job_id in self.jobs:
            record = self.jobs[job_id]
            record.job.cancel()  # builds refuse (409)
            return record.to_dict()
        return self.queue.cancel(job_id).to_dict()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        for engine in {id(r.engine): r.engine for r in self.runtimes.values()}.values():
            engine.close()
