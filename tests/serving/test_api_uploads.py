"""Uploads through the REST API: queued ingestion that never drops a file, safe Unicode names, 409/413/415."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from serving_live_server import LiveServer

COUNSELING = Path(__file__).resolve().parents[2] / "examples" / "counseling"
FINAL = ("done", "failed", "cancelled")


@pytest.fixture(scope="module")
def upload_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("upload-ws")


@pytest.fixture(autouse=True)
def _own_workspace(upload_workspace: Path, monkeypatch: pytest.MonkeyPatch):
    """This module's uploads must not reach the KB the other serving tests share."""
    from vertical.core.settings import reset_settings

    monkeypatch.setenv("VERTICAL_WORKSPACE", str(upload_workspace))
    reset_settings()
    yield
    reset_settings()


@pytest.fixture(scope="module")
def up_runtime(tmp_path_factory: pytest.TempPathFactory, upload_workspace: Path, embedder_name: str):
    import os

    from serving.domains import load_runtime
    from serving.engines.openai_engine import OpenAIEngine
    from vertical.core.settings import reset_settings

    root = tmp_path_factory.mktemp("updomain")
    (root / "docs").mkdir()
    shutil.copy(COUNSELING / "docs" / "sleep-hygiene.md", root / "docs" / "sleep-hygiene.md")
    shutil.copy(COUNSELING / "domain.yaml", root / "domain.yaml")
    os.environ["VERTICAL_WORKSPACE"] = str(upload_workspace)
    reset_settings()
    # nothing here generates: an engine for a closed port costs no model load and is never called
    return load_runtime(root, OpenAIEngine("http://127.0.0.1:9/v1", "unused"))


def _server(runtime, **settings) -> LiveServer:
    from serving.api import create_app
    from serving.api.config import ServeSettings

    return LiveServer(create_app([], ServeSettings(**settings), runtimes={runtime.name: runtime}))


def _no_server_paths(response: httpx.Response, runtime) -> None:
    from vertical.core.settings import get_settings

    for path in (get_settings().workspace.resolve(), runtime.spec.root.resolve(), Path("/tmp")):
        assert str(path) not in response.text, response.text


def _post(server: LiveServer, runtime, files: list[tuple[str, bytes]], **params) -> httpx.Response:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    r = httpx.post(f"{server.url}/v1/domains/{runtime.name}/documents", files=parts, params=params, timeout=60)
    _no_server_paths(r, runtime)
    return r


def _wait(server: LiveServer, runtime, job_id: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = httpx.get(f"{server.url}/v1/jobs/{job_id}", timeout=30)
        _no_server_paths(r, runtime)
        if r.json()["status"] in FINAL:
            return r.json()
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def _uploads(runtime) -> Path:
    from knowledge.sources import uploads_dir

    return uploads_dir(runtime.spec)


def _top_source(server: LiveServer, runtime, query: str) -> str:
    hits = httpx.get(f"{server.url}/v1/domains/{runtime.name}/chunks", params={"q": query}, timeout=30).json()["hits"]
    return hits[0]["source"] if hits else ""


@pytest.mark.slow  # ~20-40 s here, most of it the first ingest loading the embedder
def test_twenty_concurrent_uploads_all_reach_the_kb(up_runtime) -> None:
    def upload(i: int) -> httpx.Response:
        text = f"# Note {i}\n\nTip {i}: the {i}th concurrent upload describes habit number {i * 13}.".encode()
        return _post(server, up_runtime, [(f"concurrent-{i:02d}.md", text)])

    with _server(up_runtime) as server, ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(upload, range(20)))
        assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses if r.status_code != 200]
        jobs = {r.json()["job_id"] for r in responses}
        ends = [_wait(server, up_runtime, job_id) for job_id in jobs]
        docs = httpx.get(f"{server.url}/v1/domains/{up_runtime.name}/documents").json()["documents"]
        listed = httpx.get(f"{server.url}/v1/domains/{up_runtime.name}/jobs").json()["jobs"]
    assert [e["status"] for e in ends] == ["done"] * len(jobs), ends
    assert {f"uploads/concurrent-{i:02d}.md" for i in range(20)} <= {d["source"] for d in docs}
    assert jobs <= {j["id"] for j in listed} and [j["created"] for j in listed] == sorted(
        (j["created"] for j in listed), reverse=True
    )


def test_unicode_and_long_names_are_kept_and_searchable(up_runtime) -> None:
    long_name = "睡眠笔记" * 50 + "x" * 100 + ".md"  # 300 characters, 700 bytes in UTF-8
    with _server(up_runtime) as server:
        first = _post(server, up_runtime, [("失眠.md", "# 失眠\n\n睡前一小时关掉手机屏幕，有助于缓解失眠。".encode())])
        second = _post(server, up_runtime, [("焦虑.md", "# 焦虑\n\n深呼吸练习可以帮助缓解焦虑情绪。".encode())])
        third = _post(server, up_runtime, [(long_name, b"# Long\n\nA lavender pillow spray is a bedtime cue.")])
        assert [r.status_code for r in (first, second, third)] == [200] * 3, third.text
        assert first.json()["files"] == ["uploads/失眠.md"] and second.json()["files"] == ["uploads/焦虑.md"]
        (stored,) = third.json()["files"]
        for r in (first, second, third):
            assert _wait(server, up_runtime, r.json()["job_id"])["status"] == "done"
        assert _top_source(server, up_runtime, "失眠 手机屏幕") == "uploads/失眠.md"
        assert _top_source(server, up_runtime, "深呼吸 焦虑") == "uploads/焦虑.md"
        assert _top_source(server, up_runtime, "lavender pillow spray") == stored
    name = stored.removeprefix("uploads/")
    assert name.endswith(".md") and len(name) <= 120 and name.startswith("睡眠笔记")
    assert (_uploads(up_runtime) / "失眠.md").is_file() and (_uploads(up_runtime) / "焦虑.md").is_file()


def test_same_name_is_409_unless_overwrite_and_curated_docs_are_never_replaced(up_runtime) -> None:
    v1, v2 = b"# Tips\n\nCounting backwards from 300 by threes.", b"# Tips\n\nA paper journal next to the bed."
    curated = up_runtime.spec.source_paths[0] / "sleep-hygiene.md"
    before = curated.read_bytes()
    with _server(up_runtime) as server:
        first = _post(server, up_runtime, [("tips.md", v1)])
        assert _wait(server, up_runtime, first.json()["job_id"])["status"] == "done"
        again = _post(server, up_runtime, [("tips.md", v2)])
        assert again.status_code == 409 and again.json()["error"]["code"] == "upload_conflict", again.text
        assert (_uploads(up_runtime) / "tips.md").read_bytes() == v1  # the first is unchanged
        replaced = _post(server, up_runtime, [("tips.md", v2)], overwrite="true")
        assert replaced.status_code == 200, replaced.text
        assert _wait(server, up_runtime, replaced.json()["job_id"])["status"] == "done"
        assert _top_source(server, up_runtime, "paper journal next to the bed") == "uploads/tips.md"
        for params in ({}, {"overwrite": "true"}):
            clash = _post(server, up_runtime, [("sleep-hygiene.md", b"# Mine\n\nnot curated")], **params)
            assert clash.status_code == 409 and "curated" in clash.json()["error"]["message"], clash.text
    assert (_uploads(up_runtime) / "tips.md").read_bytes() == v2 and curated.read_bytes() == before
    assert not (_uploads(up_runtime) / "sleep-hygiene.md").exists()


def test_unsupported_type_is_415_and_nothing_of_the_batch_is_written(up_runtime) -> None:
    with _server(up_runtime) as server:
        r = _post(server, up_runtime, [("fine.md", b"# Fine\n\ntext"), ("archive.zip", b"PK\x03\x04zip")])
        empty = _post(server, up_runtime, [("blank.md", b"")])
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_file_type", r.text
    assert empty.status_code == 400 and "empty" in empty.json()["error"]["message"]
    assert not any((_uploads(up_runtime) / n).exists() for n in ("fine.md", "archive.zip", "blank.md"))


def test_chunked_upload_over_the_limit_is_413(up_runtime) -> None:
    boundary = "vertical-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="huge.md"\r\n'
        "Content-Type: text/markdown\r\n\r\n"
    ).encode()

    def body():  # a generator: httpx sends it chunked, with no Content-Length
        yield head
        for _ in range(64):
            yield b"x" * 1024
        yield f"\r\n--{boundary}--\r\n".encode()

    with _server(up_runtime, max_body_bytes=16 * 1024) as server:
        r = httpx.post(
            f"{server.url}/v1/domains/{up_runtime.name}/documents",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            timeout=30,
        )
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large", r.text
    assert not (_uploads(up_runtime) / "huge.md").exists()


def test_queued_upload_runs_after_a_restart_and_jobs_are_listed(up_runtime, monkeypatch) -> None:
    monkeypatch.setenv("VERTICAL_QUEUE_WORKERS", "0")  # an API replica without workers
    from vertical.core.settings import reset_settings

    reset_settings()
    with _server(up_runtime) as server:
        tea, broken = ("../../evil tea.md", b"# Tea\n\nA chamomile tea ritual before bed."), ("bad.pdf", b"%PDF-1.4 no")
        r = _post(server, up_runtime, [tea, broken])
        assert r.status_code == 200 and r.json()["files"] == ["uploads/evil tea.md", "uploads/bad.pdf"], r.text
        time.sleep(1.5)
        job = httpx.get(f"{server.url}/v1/jobs/{r.json()['job_id']}").json()
        missing = httpx.get(f"{server.url}/v1/jobs/nope")
    assert job["status"] == "pending" and job["files"] == ["uploads/evil tea.md", "uploads/bad.pdf"]
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "job_not_found"

    monkeypatch.setenv("VERTICAL_QUEUE_WORKERS", "1")  # restart with workers: the queued job runs
    reset_settings()
    with _server(up_runtime) as server:
        done = _wait(server, up_runtime, job["id"])  # _wait checks it for server paths too
        assert done["status"] == "done" and [s["path"] for s in done["report"]["skipped"]] == ["uploads/bad.pdf"]
        assert _top_source(server, up_runtime, "chamomile tea ritual") == "uploads/evil tea.md"
        gone = httpx.delete(f"{server.url}/v1/domains/{up_runtime.name}/documents/uploads/evil tea.md")
        assert gone.status_code == 200 and gone.json()["deleted_chunks"] >= 1
        again = httpx.delete(f"{server.url}/v1/domains/{up_runtime.name}/documents/uploads/evil tea.md")
        assert again.status_code == 404
    assert not (_uploads(up_runtime) / "evil tea.md").exists()  # its name is free again
