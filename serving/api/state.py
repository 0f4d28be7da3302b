"""Everything the app holds: domain runtimes, engines, ingestion jobs, admission control."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from starlette.requests import Request

from serving.api.config import ServeSettings
from serving.api.metrics import Metrics
from serving.domains import DomainRuntime
from serving.engines.base import cancel_scope
from vertical.core.errors import (
    DomainNotFoundError,
    GenerationCancelledError,
    GenerationTimeoutError,
    JobNotFoundError,
    ServerBusyError,
    VerticalError,
)

T = TypeVar("T")
RETRY_AFTER_S = 1


@dataclass
class JobRecord:
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
        self.keys = settings.keys()
        self.jobs: dict[str, JobRecord] = {}
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

    # ---- ingestion jobs ---------------------------------------------------------------------
    def start_ingest(self, runtime: DomainRuntime, paths: list[Path]) -> JobRecord:
        from knowledge.jobs import IngestJob

        record = JobRecord(
            uuid.uuid4().hex[:12], runtime.name, IngestJob(runtime.spec, paths=paths), [p.name for p in paths]
        )

        def work() -> None:
            try:
                record.report = record.job.run().to_dict()
            except VerticalError as exc:
                record.error = str(exc)
            except Exception as exc:  # noqa: BLE001 - reported through the job status
                record.error = f"{type(exc).__name__}: {exc}"

        self.jobs[record.id] = record
        threading.Thread(target=work, name=f"ingest-{record.id}", daemon=True).start()
        return record

    def job(self, job_id: str) -> JobRecord:
        if job_id not in self.jobs:
            raise JobNotFoundError(f"no job {job_id!r}", hint="use the job_id returned by the upload")
        return self.jobs[job_id]

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        for engine in {id(r.engine): r.engine for r in self.runtimes.values()}.values():
            engine.close()
