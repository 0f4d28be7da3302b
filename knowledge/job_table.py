"""Ingest job state in the shared database (``vertical.core.database``), readable from every process.

One row per job: id, domain, files, status (pending → running → done | failed | cancelled), progress,
report, error, timestamps, and what a worker needs (domain folder, file paths, owner, heartbeat). The
task queue carries only job ids; this table is the truth, so API replicas on PostgreSQL see the same jobs.

Concurrency: every change of a row's files or status is one conditional UPDATE on ``version`` (optimistic
locking). Two uploads joining one pending job, or an upload racing the worker that claims it, cannot
lose a file: the loser re-reads and retries, or opens a new job.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from vertical.core.database import database_engine
from vertical.core.errors import JobNotFoundError
from vertical.core.settings import get_settings

ACTIVE = ("pending", "running")
_JSON_COLUMNS = ("files", "paths", "progress", "report")


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


FINAL = ("done", "failed", "cancelled")


@dataclass
class JobRow:
    id: str
    domain: str
    domain_dir: str
    files: list[str]  # KB source names, e.g. "uploads/a.md"
    paths: list[str]  # absolute paths on the worker's file system (never sent to clients)
    status: str = "pending"
    progress: dict = field(default_factory=dict)
    report: dict | None = None
    error: str | None = None
    cancel_requested: bool = False
    owner: str | None = None
    heartbeat: float = 0.0
    created: float = 0.0
    updated: float = 0.0
    version: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The API's job object (no server paths)."""
        return {
            "id": self.id,
            "domain": self.domain,
            "status": self.status,
            "files": self.files,
            "progress": {**self.progress, "status": self.status},
            "report": self.report,
            "error": self.error,
            "created": self.created,
            "updated": self.updated,
        }


def _table(metadata: Any) -> Any:
    from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

    return Table(
        "ingest_jobs",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("domain", String(64), nullable=False),
        Column("domain_dir", Text, nullable=False),
        Column("files", Text, nullable=False),
        Column("paths", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("progress", Text, nullable=False, default="{}"),
        Column("report", Text),
        Column("error", Text),
        Column("cancel_requested", Boolean, nullable=False, default=False),
        Column("owner", String(200)),
        Column("heartbeat", Float, nullable=False, default=0.0),
        Column("created", Float, nullable=False),
        Column("updated", Float, nullable=False),
        Column("version", Integer, nullable=False, default=0),
        Index("ingest_jobs_domain_status", "domain", "status"),
    )


class JobTable:
    def __init__(self, url: str | None = None) -> None:
        from sqlalchemy import MetaData

        self.engine = database_engine(url or get_settings().database)
        metadata = MetaData()
        self.t = _table(metadata)
        metadata.create_all(self.engine)

    # ---- reads ------------------------------------------------------------------------------
    def _row(self, r: Any) -> JobRow:
        return JobRow(
            id=r["id"],
            domain=r["domain"],
            domain_dir=r["domain_dir"],
            files=json.loads(r["files"]),
            paths=json.loads(r["paths"]),
            status=r["status"],
            progress=json.loads(r["progress"] or "{}"),
            report=json.loads(r["report"]) if r["report"] else None,
            error=r["error"],
            cancel_requested=bool(r["cancel_requested"]),
            owner=r["owner"],
            heartbeat=r["heartbeat"],
            created=r["created"],
            updated=r["updated"],
            version=r["version"],
        )

    def _select(self, *where: Any, newest_first: bool = False, limit: int | None = None) -> list[JobRow]:
        from sqlalchemy import select

        order = self.t.c.created.desc() if newest_first else self.t.c.created
        query = select(self.t).where(*where).order_by(order, self.t.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [self._row(r) for r in conn.execute(query).mappings().all()]

    def find(self, job_id: str) -> JobRow | None:
        rows = self._select(self.t.c.id == job_id)
        return rows[0] if rows else None

    def get(self, job_id: str) -> JobRow:
        row = self.find(job_id)
        if row is None:
            raise JobNotFoundError(f"no job {job_id!r}", hint="use the job_id returned by the upload")
        return row

    def for_domain(self, domain: str, limit: int = 50) -> list[JobRow]:
        return self._select(self.t.c.domain == domain, newest_first=True, limit=limit)

    def with_status(self, *statuses: str) -> list[JobRow]:
        return self._select(self.t.c.status.in_(statuses))

    # ---- writes (each one conditional UPDATE or INSERT, its own transaction) -------------------
    def _update(self, row: JobRow, expect: str, **values: Any) -> bool:
        """Apply ``values`` iff the row is still at ``row.version`` with status ``expect``."""
        from sqlalchemy import update

        cond = [self.t.c.id == row.id, self.t.c.version == row.version, self.t.c.status == expect]
        encoded = {k: _json(v) if k in _JSON_COLUMNS else v for k, v in values.items()}
        with self.engine.begin() as conn:
            result = conn.execute(
                update(self.t).where(*cond).values(**encoded, updated=time.time(), version=row.version + 1)
            )
        return result.rowcount == 1

    def insert(self, row: JobRow) -> None:
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                self.t.insert().values(
                    id=row.id,
                    domain=row.domain,
                    domain_dir=row.domain_dir,
                    files=json.dumps(row.files, ensure_ascii=False),
                    paths=json.dumps(row.paths, ensure_ascii=False),
                    status="pending",
                    progress=json.dumps(row.progress),
                    cancel_requested=False,
                    heartbeat=0.0,
                    created=now,
                    updated=now,
                    version=0,
                )
            )

    def join_pending(self, domain: str, files: list[str], paths: list[str]) -> JobRow | None:
        """Add files to the domain's oldest pending job; None when there is none to join."""
        for _ in range(50):  # a lost race re-reads; 50 losses in a row would mean a livelock
            pending = self._select(self.t.c.domain == domain, self.t.c.status == "pending", limit=1)
            if not pending:
                return None
            row = pending[0]
            merged = dict(zip(row.files, row.paths))
            merged.update(zip(files, paths))  # the same name again: one entry (its file was replaced on disk)
            if self._update(row, "pending", files=list(merged), paths=list(merged.values())):
                return self.get(row.id)
        return None

    def claim(self, job_id: str, owner: str) -> JobRow | None:
        """pending → running for ``owner`` if no other job of its domain runs; None if not claimed."""
        row = self.find(job_id)
        if row is None or row.status != "pending":
            return None
        if self._select(self.t.c.domain == row.domain, self.t.c.status == "running", limit=1):
            return None
        now = time.time()
        if not self._update(row, "pending", status="running", owner=owner, heartbeat=now, cancel_requested=False):
            return None
        return self.get(job_id)

    def progress(self, job_id: str, progress: dict) -> None:
        """Progress is advisory: written without the version check, never changing status."""
        from sqlalchemy import update

        with self.engine.begin() as conn:
            conn.execute(
                update(self.t)
                .where(self.t.c.id == job_id)
                .values(progress=json.dumps(progress, ensure_ascii=False), heartbeat=time.time(), updated=time.time())
            )

    def beat(self, job_id: str) -> bool:
        """Heartbeat of a running job; returns whether a cancel was requested."""
        from sqlalchemy import update

        with self.engine.begin() as conn:
            conn.execute(update(self.t).where(self.t.c.id == job_id).values(heartbeat=time.time()))
        row = self.find(job_id)
        return bool(row and row.cancel_requested)

    def finish(
        self,
        job_id: str,
        status: str,
        report: dict | None = None,
        error: str | None = None,
        progress: dict | None = None,
    ) -> None:
        """Record a job's end (once: a job already final stays as it is)."""
        for _ in range(50):
            row = self.get(job_id)
            values: dict[str, Any] = {"report": report, "error": error, "owner": None}
            if progress is not None:
                values["progress"] = progress
            if row.status in FINAL or self._update(row, row.status, status=status, **values):
                return

    def release(self, job_id: str) -> JobRow | None:
        """running → pending (shutdown, or the domain lock was busy): it runs again later."""
        for _ in range(50):
            row = self.find(job_id)
            if row is None or row.status != "running":
                return None
            if self._update(row, "running", status="pending", owner=None):
                return self.get(job_id)
        return None

    def request_cancel(self, job_id: str) -> JobRow:
        """A pending job is cancelled at once; a running one gets the flag its worker polls."""
        for _ in range(50):
            row = self.get(job_id)
            if row.status == "pending":
                if self._update(row, "pending", status="cancelled"):
                    return self.get(job_id)
            elif row.status == "running":
                if self._update(row, "running", cancel_requested=True):
                    return self.get(job_id)
            else:
                return row
        return self.get(job_id)
