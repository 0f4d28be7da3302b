"""Ingest jobs on a task queue (Huey): durable, coalesced per domain, run by any number of consumers.

``IngestQueue.submit(spec, files)`` records the files in the job table (:mod:`knowledge.job_table`) and
queues the one task, ``ingest(job_id)``, which runs :class:`knowledge.jobs.IngestJob` on the job's files.
Storage: Huey's SQLite file ``<workspace>/queue.sqlite`` by default (no broker process; tasks survive a
restart), Redis when ``VERTICAL_QUEUE_URL=redis://...`` so workers on several machines share one queue.

Coalescing: a domain has at most one pending job. An upload while one is pending joins it (its file
list grows, the caller gets that job's id); while one is running, the upload opens the pending job that
runs next. A task that finds its domain busy (running job, or the ingest flock held by a CLI ingest) is
retried a second later, so no upload ever fails for "already running" and every file is ingested.

Crashes: Huey removes a task when a worker takes it, so a job whose process died stays "running" in the
table. On start-up, and every minute, running jobs whose owner is gone (same host, dead pid) or silent
(no heartbeat for ``STALE_S``) go back to pending and are queued again; IngestJob is safe to rerun.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from knowledge.job_table import JobRow, JobTable
from vertical.core.errors import IngestBusyError, SpecError, VerticalError
from vertical.core.settings import get_settings
from vertical.core.spec import DomainSpec

log = logging.getLogger(__name__)
RETRY_S = 1.0  # a busy domain's next job is tried again this often
PROGRESS_EVERY_S = 0.5  # progress rows written at most this often per job
BEAT_S = 0.5  # how often a running job polls its cancel flag (and beats)
STALE_S = 60.0  # a running job silent this long belongs to a dead worker
_TOKEN = uuid.uuid4().hex[:8]  # tells this process from an earlier one that had the same pid
OWNER = f"{socket.gethostname()}:{os.getpid()}:{_TOKEN}"


def make_huey(url: str | None = None, **options: Any) -> Any:
    """SqliteHuey in the workspace, or RedisHuey for ``redis://`` URLs (``options`` go to the storage)."""
    from huey import RedisHuey, SqliteHuey

    url = url if url is not None else get_settings().queue_url
    if not url:
        path = (get_settings().workspace / "queue.sqlite").resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("vertical-ingest", filename=str(path), results=False, **options)
    if url.startswith(("redis://", "rediss://", "unix://")) or "connection_pool" in options:
        try:
            import redis  # noqa: F401 - RedisHuey needs the client
        except ImportError as exc:
            raise SpecError(
                "VERTICAL_QUEUE_URL is a Redis URL but the redis client is not installed",
                hint="pip install 'vertical[redis]' (or unset VERTICAL_QUEUE_URL)",
            ) from exc
        conn = options if "connection_pool" in options else {"url": url, **options}
        return RedisHuey("vertical-ingest", results=False, **conn)
    raise SpecError(
        f"VERTICAL_QUEUE_URL {url!r} is not a queue this version can use",
        hint="unset it (SQLite queue in the workspace) or use redis://host:6379/0",
    )


def _owner_alive(owner: str | None) -> bool | None:
    """True/False when it can be known from here (same host), None otherwise (heartbeat decides)."""
    host, _, rest = (owner or "").partition(":")
    pid, _, token = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    if token == _TOKEN:
        return True  # this process: it is running the job now
    if int(pid) == os.getpid():
        return False  # an earlier process with our pid (containers reuse pids)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class IngestQueue:
    """The queue, its one task and the job table; ``start()`` runs consumer threads in this process."""

    def __init__(
        self,
        domains: dict[str, Path] | None = None,
        url: str | None = None,
        database_url: str | None = None,
        huey: Any = None,
    ) -> None:
        from huey import crontab

        self.table = JobTable(database_url)
        self.huey = huey if huey is not None else make_huey(url)
        self.domains = {name: Path(folder).resolve() for name, folder in (domains or {}).items()}
        self._task = self.huey.task(name="ingest")(self._run)
        self.huey.periodic_task(crontab(minute="*"), name="recover")(self._recover_stale)
        self._running: dict[str, Any] = {}  # job id → IngestJob running in this process
        self._submit_lock = threading.Lock()
        self._consumer: Any = None
        self._stopping = False

    # ---- producer side (the API) -------------------------------------------------------------
    def submit(self, spec: DomainSpec, files: dict[str, Path]) -> JobRow:
        """Queue ``files`` ({source name: path}) for ingestion; returns the job they are in."""
        if not files:
            raise ValueError("submit needs at least one file")
        names, paths = list(files), [str(Path(p).resolve()) for p in files.values()]
        with self._submit_lock:  # one process never opens two pending jobs for a domain
            joined = self.table.join_pending(spec.name, names, paths)
            if joined is not None:
                return joined
            row = JobRow(uuid.uuid4().hex[:12], spec.name, str(spec.root.resolve()), names, paths)
            self.table.insert(row)
        self._task(row.id)
        return self.table.get(row.id)

    def job(self, job_id: str) -> JobRow:
        return self.table.get(job_id)

    def jobs(self, domain: str, limit: int = 50) -> list[JobRow]:
        return self.table.for_domain(domain, limit)

    def cancel(self, job_id: str) -> JobRow:
        row = self.table.request_cancel(job_id)
        job = self._running.get(job_id)
        if job is not None and row.cancel_requested:
            job.cancel()  # running here: no need to wait for the next poll
        return row

    # ---- consumer side -------------------------------------------------------------------------
    def start(self, workers: int = 1) -> None:
        """Consumer threads in this process (no signal handlers: the host process owns them)."""
        from huey.consumer import Consumer

        class _InProcess(Consumer):
            def _set_signal_handlers(self) -> None:
                pass

        if self._consumer is not None or workers < 1:
            return
        self.recover()
        self._stopping = False
        self._consumer = _InProcess(self.huey, workers=workers, worker_type="thread", max_delay=1.0)
        self._consumer.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the consumer: running jobs stop after their current file and go back to pending."""
        if self._consumer is None:
            return
        self._stopping = True
        for job in list(self._running.values()):
            job.cancel()
        consumer, self._consumer = self._consumer, None
        consumer.stop_flag.set()
        deadline = time.monotonic() + timeout
        for _, thread in [*consumer.worker_threads, (None, consumer.scheduler)]:
            thread.join(max(deadline - time.monotonic(), 0))

    def recover(self) -> list[str]:
        """At start-up: queue again the jobs a dead worker left running, and every pending job (in case
        its task was lost; a duplicate is harmless: a task whose job is no longer pending does nothing)."""
        requeued = self._recover_stale()
        for row in self.table.with_status("pending"):
            if row.id not in requeued:
                self._task(row.id)
        return requeued

    def _recover_stale(self) -> list[str]:
        """Running jobs whose worker is gone → pending and queued again (or cancelled, if asked)."""
        now, requeued = time.time(), []
        for row in self.table.with_status("running"):
            alive = _owner_alive(row.owner)
            if alive is False or (alive is None and now - row.heartbeat > STALE_S):
                if row.cancel_requested:
                    self.table.finish(row.id, "cancelled", error="cancelled (its worker stopped)")
                elif self.table.release(row.id) is not None:
                    self._task(row.id)
                    requeued.append(row.id)
        if requeued:
            log.warning("re-queued ingest jobs left running by a stopped worker: %s", ", ".join(requeued))
        return requeued

    def _folder(self, row: JobRow) -> Path | None:
        """The domain folder on this machine: the one this consumer was given, else the producer's."""
        if row.domain in self.domains:
            return self.domains[row.domain]
        folder = Path(row.domain_dir)
        return folder if (folder / "domain.yaml").is_file() else None

    def _run(self, job_id: str) -> None:
        """The task: claim the job, run IngestJob on its files, record how it ended."""
        from huey.exceptions import RetryTask

        row = self.table.find(job_id)
        if row is None or row.status != "pending":
            return  # done, cancelled, or taken by another worker
        folder = self._folder(row)
        claimed = self.table.claim(job_id, OWNER) if folder is not None else None
        if claimed is None or folder is None:
            if (self.table.find(job_id) or row).status == "pending":  # domain busy, or no folder for it here
                raise RetryTask(delay=RETRY_S if folder is not None else 5 * RETRY_S)
            return
        try:
            self._ingest(claimed, folder)
        except IngestBusyError as exc:  # a CLI ingest holds the domain lock: run after it
            self.table.release(job_id)
            raise RetryTask(delay=RETRY_S) from exc

    def _ingest(self, row: JobRow, folder: Path) -> None:
        from knowledge.jobs import IngestJob
        from vertical.core.spec import load_domain

        try:
            spec = load_domain(folder)
        except VerticalError as exc:
            self.table.finish(row.id, "failed", error=str(exc))
            return
        present = [Path(p) for p in row.paths if Path(p).is_file()]
        gone = [
            {"path": s, "reason": "file removed before ingestion"}
            for s, p in zip(row.files, row.paths)
            if not Path(p).is_file()
        ]
        if not present:
            self.table.finish(row.id, "done", report={"skipped": gone})
            return
        job = IngestJob(spec, paths=present)
        self._running[row.id] = job
        stop_watch = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(row.id, job, stop_watch), daemon=True)
        watcher.start()
        last = [0.0]

        def on_progress(progress: dict) -> None:
            if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
                last[0] = time.monotonic()
                self.table.progress(row.id, progress)

        try:
            report = job.run(on_progress=on_progress).to_dict()
        except IngestBusyError:
            raise
        except VerticalError as exc:
            self.table.finish(row.id, "failed", error=str(exc), progress=job.progress)
            return
        except Exception as exc:  # noqa: BLE001 - recorded on the job, the worker lives on
            self.table.finish(row.id, "failed", error=f"{type(exc).__name__}: {exc}", progress=job.progress)
            return
        finally:
            stop_watch.set()
            self._running.pop(row.id, None)
        report["skipped"] = [*report.get("skipped", []), *gone]
        current = self.table.get(row.id)
        if job.cancelled and self._stopping and not current.cancel_requested:
            self.table.release(row.id)  # shut down, not cancelled: it goes on after the restart
            self._task(row.id)
            return
        self.table.finish(row.id, "cancelled" if job.cancelled else "done", report=report, progress=job.progress)

    def _watch(self, job_id: str, job: Any, stop: threading.Event) -> None:
        """Beat for the running job and pass on a cancel requested from any process."""
        while not stop.wait(BEAT_S):
            try:
                if self.table.beat(job_id):
                    job.cancel()
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the job; next beat retries
                log.exception("heartbeat of ingest job %s failed", job_id)
