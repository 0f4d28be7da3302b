"""Strategy endpoints: plan, build as a job, eval report, training log; auth and unknown domains."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

DOCS = ("sleep-hygiene.md", "panic-attacks.md", "grief-and-loss.md")
KEYS = "k-admin=*;k-counsel=counseling;k-other=other"


@pytest.fixture
def own_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _shared_workspace) -> Path:
    """Builds write a manifest and a KB: keep them out of the session KB other serving tests share."""
    from vertical.core.settings import reset_settings

    workspace = tmp_path / "strategy-ws"
    monkeypatch.setenv("VERTICAL_WORKSPACE", str(workspace))
    reset_settings()
    return workspace


def _small_counseling(root: Path, counseling_dir: Path) -> Path:
    """domain.yaml, 3 documents and the eval set: a rag build in seconds."""
    (root / "docs").mkdir(parents=True)
    for name in DOCS:
        shutil.copy(counseling_dir / "docs" / name, root / "docs" / name)
    shutil.copy(counseling_dir / "domain.yaml", root / "domain.yaml")
    shutil.copytree(counseling_dir / "eval", root / "eval")
    return root


def _client(folder: Path, engine, key: str | None = "k-counsel"):
    from fastapi.testclient import TestClient

    from serving.api import create_app
    from serving.api.config import ServeSettings
    from serving.domains import load_runtime

    runtime = load_runtime(folder, engine)
    client = TestClient(create_app([], ServeSettings(api_keys=KEYS), runtimes={runtime.name: runtime}))
    if key:
        client.headers["Authorization"] = f"Bearer {key}"
    return client


def _wait(client, job_id: str, timeout_s: float = 75.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] not in ("pending", "running") or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


def test_plan_explains_its_recommendation(own_workspace, tmp_path, counseling_dir, engine):
    folder = shutil.copytree(counseling_dir, tmp_path / "counseling")
    client = _client(folder, engine)
    body = client.get("/v1/domains/counseling/plan").json()
    assert body["strategy"] in body["candidates"] or body["strategy"] == body["candidates"][0]
    assert body["reasons"] and all(isinstance(r, str) and r for r in body["reasons"])
    assert isinstance(body["profile"], dict) and body["profile"]


@pytest.mark.slow
def test_rag_build_job_then_manifest_and_eval(own_workspace, tmp_path, counseling_dir, engine):
    client = _client(_small_counseling(tmp_path / "dom", counseling_dir), engine)
    assert client.get("/v1/domains/counseling/eval").status_code == 404  # not built yet
    assert client.get("/v1/domains/counseling/manifest").status_code == 409

    started = client.post("/v1/domains/counseling/build", json={"strategy": "rag", "tiny": True, "eval_limit": 2})
    assert started.status_code == 200, started.text
    job_id = started.json()["job_id"]
    again = client.post("/v1/domains/counseling/build", json={"strategy": "prompt"})
    assert again.status_code == 409 and job_id in again.json()["error"]["message"]
    cancel = client.post(f"/v1/jobs/{job_id}/cancel")
    assert cancel.status_code == 409 and "cannot be cancelled" in cancel.json()["error"]["message"]

    job = _wait(client, job_id)
    assert job["status"] == "done", job
    assert job["error"] is None and job["progress"]["steps"] == 3  # ingest, prompt, eval
    assert job["progress"]["step"] == 3 and job["report"]["strategy"] == "rag"

    manifest = client.get("/v1/domains/counseling/manifest").json()
    assert manifest["strategy"] == "rag" and manifest["kb"]["chunks"] > 0
    report = client.get("/v1/domains/counseling/eval").json()
    assert report["strategy"] == "rag" and report["n_items"] == 2
    assert "composite" in report["scores"] and all(isinstance(v, (int, float)) for v in report["scores"].values())
    assert report["candidates"][0]["strategy"] == "rag"
    assert client.get("/v1/domains/counseling/chunks", params={"q": "sleep"}).json()["hits"]  # served KB sees it

    training = client.get("/v1/domains/counseling/training")
    assert training.status_code == 404 and "no training run" in training.json()["error"]["message"]


def test_training_log_is_the_newest_run(own_workspace, tmp_path, counseling_dir, engine):
    from vertical.core.fsutil import atomic_write_json

    client = _client(_small_counseling(tmp_path / "dom", counseling_dir), engine)
    assert client.get("/v1/domains/counseling/training").status_code == 404
    runs = own_workspace / "counseling" / "runs"
    atomic_write_json(runs / "old" / "log.json", {"loss_curve": {"train": [[1, 3.0]], "eval": []}})
    time.sleep(0.05)
    atomic_write_json(runs / "new" / "log.json", {"loss_curve": {"train": [[1, 2.0], [2, 1.5]], "eval": [[2, 1.7]]}})
    response = client.get("/v1/domains/counseling/training")
    log = response.json()
    assert log["run"] == "new" and log["loss_curve"]["train"][-1] == [2, 1.5]
    assert str(own_workspace) not in response.text and log["log_path"] == "<workspace>/counseling/runs/new/log.json"


def test_bad_strategy_unknown_domain_and_foreign_key(own_workspace, tmp_path, counseling_dir, engine):
    folder = _small_counseling(tmp_path / "dom", counseling_dir)
    client = _client(folder, engine)
    bad = client.post("/v1/domains/counseling/build", json={"strategy": "magic"})
    assert bad.status_code == 422 and bad.json()["error"]["hint"]
    admin = _client(folder, engine, key="k-admin")
    for path in ("plan", "eval", "training"):
        assert admin.get(f"/v1/domains/nope/{path}").status_code == 404
    assert admin.post("/v1/domains/nope/build", json={}).status_code == 404
    other = _client(folder, engine, key="k-other")
    for path in ("plan", "eval", "training"):
        assert other.get(f"/v1/domains/counseling/{path}").status_code == 403
    assert other.post("/v1/domains/counseling/build", json={"strategy": "rag"}).status_code == 403
    assert not (own_workspace / "counseling" / "manifest.json").exists()  # nothing was built
