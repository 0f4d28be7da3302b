"""The ingest queue: durable across restarts, coalesced per domain, never failing for a busy domain."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from knowledge.job_table import FINAL
from knowledge.queue import IngestQueue, make_huey
from knowledge.sources import uploads_dir
from knowledge.store import KnowledgeBase
from vertical.core.errors import JobNotFoundError
from vertical.core.spec import DomainSpec

CURATED = {"sleep.md": "# Sleep\n\nA regular wake time anchors the body clock better than an early bedtime."}


def _upload(spec: DomainSpec, name: str, text: str) -> dict[str, Path]:
    path = uploads_dir(spec) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return {f"uploads/{name}": path}


def _wait(queue: IngestQueue, job_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = queue.job(job_id).to_dict()
        if job["status"] in FINAL:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {queue.job(job_id).to_dict()}")


def _sources(spec: DomainSpec) -> set[str]:
    return {d["source"] for d in KnowledgeBase.for_domain(spec).list_documents()}


def test_queued_job_runs_after_a_restart(make_domain) -> None:
    spec = make_domain("qrestart", CURATED)
    first = IngestQueue({spec.name: spec.root})  # the API process, no consumer (VERTICAL_QUEUE_WORKERS=0)
    job = first.submit(spec, _upload(spec, "tea.md", "# Tea\n\nChamomile tea before bed helps some people unwind."))
    assert job.status == "pending" and job.files == ["uploads/tea.md"]
    assert first.huey.pending_count() == 1  # the task itself is in Huey's SQLite file, not only in our table
    del first  # "restart": a new process opens the same workspace

    second = IngestQueue({spec.name: spec.root})
    second.start(workers=1)
    try:
        done = _wait(second, job.id)
    finally:
        second.stop()
    assert done["status"] == "done", done
    assert done["report"]["added"] == 1 and done["progress"]["files_done"] == 1
    assert "uploads/tea.md" in _sources(spec)
    assert [j.id for j in second.jobs(spec.name)] == [job.id]


def test_uploads_join_the_pending_job_and_a_dead_workers_job_is_rerun(make_domain) -> None:
    spec = make_domain("qcoalesce", CURATED)
    queue = IngestQueue({spec.name: spec.root})
    a = queue.submit(spec, _upload(spec, "a.md", "# A\n\nBreathing slowly for a minute calms a racing heart."))
    b = queue.submit(spec, _upload(spec, "b.md", "# B\n\nWriting worries down before bed clears the mind."))
    assert b.id == a.id and b.files == ["uploads/a.md", "uploads/b.md"]  # joined, one job

    # a worker takes the job and is killed (its pid no longer exists): the job is left "running"
    assert queue.table.claim(a.id, owner=f"{__import__('socket').gethostname()}:999999999:dead") is not None
    c = queue.submit(spec, _upload(spec, "c.md", "# C\n\nA short walk outside lifts a low mood."))
    assert c.id != a.id and c.status == "pending"  # a follow-up, not an error

    queue.start(workers=1)  # start-up re-queues the dead worker's job
    try:
        first, follow_up = _wait(queue, a.id), _wait(queue, c.id)
    finally:
        queue.stop()
    assert first["status"] == "done" and follow_up["status"] == "done", (first, follow_up)
    assert {"uploads/a.md", "uploads/b.md", "uploads/c.md"} <= _sources(spec)
    assert [j.id for j in queue.jobs(spec.name)] == [c.id, a.id]  # newest first


def test_busy_domain_lock_delays_the_job_instead_of_failing_it(make_domain) -> None:
    from knowledge.jobs import _DomainLock
    from vertical.core.settings import get_settings

    spec = make_domain("qbusy", CURATED)
    queue = IngestQueue({spec.name: spec.root})
    job = queue.submit(spec, _upload(spec, "d.md", "# D\n\nNaming a feeling out loud makes it smaller."))
    with _DomainLock(get_settings().domain_dir(spec.name)):  # e.g. `vertical ingest` running in a terminal
        queue.start(workers=1)
        time.sleep(2.5)
        assert queue.job(job.id).status == "pending"  # retried, not failed
    try:
        done = _wait(queue, job.id)
    finally:
        queue.stop()
    assert done["status"] == "done" and done["error"] is None, done


def test_cancel_a_pending_job_and_unknown_ids(make_domain) -> None:
    spec = make_domain("qcancel", CURATED)
    queue = IngestQueue({spec.name: spec.root})
    job = queue.submit(spec, _upload(spec, "e.md", "# E\n\nRest days matter as much as training days."))
    assert queue.cancel(job.id).status == "cancelled"
    queue.start(workers=1)
    try:
        time.sleep(1.5)  # the consumer takes the task and must leave the cancelled job alone
    finally:
        queue.stop()
    assert queue.job(job.id).status == "cancelled" and "uploads/e.md" not in _sources(spec)
    with pytest.raises(JobNotFoundError):
        queue.job("nope")


def test_cancel_from_another_process_stops_a_running_job(make_domain, monkeypatch) -> None:
    import knowledge.jobs

    monkeypatch.setattr(knowledge.jobs, "EMBED_GROUP_CHUNKS", 1)  # one file per embed+commit: a long job
    spec = make_domain("qstop", CURATED)
    worker = IngestQueue({spec.name: spec.root})
    files: dict[str, Path] = {}
    for i in range(200):
        files.update(_upload(spec, f"n{i:03d}.md", f"# N{i}\n\nNote {i} on habit {i * 7} and rest day {i}."))
    job = worker.submit(spec, files)
    worker.start(workers=1)
    try:
        deadline = time.monotonic() + 60
        while worker.job(job.id).progress.get("files_done", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        api = IngestQueue({spec.name: spec.root})  # another process: reaches the job only through the table
        assert api.cancel(job.id).cancel_requested
        done = _wait(api, job.id)
    finally:
        worker.stop()
    assert done["status"] == "cancelled" and done["report"]["cancelled"], done
    assert 1 <= done["report"]["added"] < 200  # committed files stay, the rest is not ingested


def test_redis_backend_runs_a_job(make_domain) -> None:
    fakeredis = pytest.importorskip("fakeredis")
    import redis

    spec = make_domain("qredis", CURATED)
    pool = redis.ConnectionPool(connection_class=fakeredis.FakeConnection, server=fakeredis.FakeServer())
    queue = IngestQueue({spec.name: spec.root}, huey=make_huey("redis://", connection_pool=pool))
    job = queue.submit(spec, _upload(spec, "f.md", "# F\n\nA warm shower an hour before bed helps sleep."))
    assert queue.huey.pending_count() == 1
    queue.start(workers=1)
    try:
        done = _wait(queue, job.id)
    finally:
        queue.stop()
    assert done["status"] == "done" and "uploads/f.md" in _sources(spec), done


@pytest.mark.slow  # a subprocess that loads the embedder (~15 s on 2 busy cores)
def test_cli_worker_runs_queued_jobs_and_stops_on_sigterm(make_domain) -> None:
    import os
    import signal
    import subprocess
    import sys

    from vertical.core.settings import get_settings

    spec = make_domain("qworker", CURATED)
    queue = IngestQueue({spec.name: spec.root})  # producer only, like an API with VERTICAL_QUEUE_WORKERS=0
    job = queue.submit(spec, _upload(spec, "g.md", "# G\n\nA fixed wind-down routine tells the body it is night."))
    env = {**os.environ, "VERTICAL_WORKSPACE": str(get_settings().workspace)}
    cli = Path(sys.executable).with_name("vertical")
    proc = subprocess.Popen([str(cli), "kb", "worker", str(spec.root)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        done = _wait(queue, job.id, timeout=240)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert done["status"] == "done" and "uploads/g.md" in _sources(spec), done
    assert proc.returncode == 0 and "ingest worker for qworker" in out, out
