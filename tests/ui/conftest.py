"""A real API server for the UI tests: examples/counseling's domain.yaml copied into tmp, the API
(serving.api.create_app under uvicorn) on a free 127.0.0.1 port in a subprocess, and a 3-document KB
ingested through its upload endpoint (one server per test session)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from ui.client import ApiClient
from ui.launch import start_api, stop
from vertical.core.net import free_port

REPO = Path(__file__).resolve().parents[2]
COUNSELING = REPO / "examples" / "counseling"
DOCS = ["sleep-hygiene.md", "breathing-exercises.md", "grief-and-loss.md"]


def _small_domain(root: Path) -> Path:
    domain = root / "counseling"
    (domain / "docs").mkdir(parents=True)  # empty: the fixture uploads the documents through the API
    if (COUNSELING / "eval").is_dir():
        shutil.copytree(COUNSELING / "eval", domain / "eval")
    yaml = (COUNSELING / "domain.yaml").read_text(encoding="utf-8")
    # short answers keep generation on 2 CPU cores to a few seconds
    (domain / "domain.yaml").write_text(yaml.replace("max_new_tokens: 160", "max_new_tokens: 32"), encoding="utf-8")
    return domain


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory):
    """``{"url", "domain_dir", "workspace", "log"}`` of a running API whose KB holds 3 uploaded documents."""
    root = tmp_path_factory.mktemp("ui-api")
    domain = _small_domain(root)
    env = {
        **os.environ,
        "VERTICAL_WORKSPACE": str(root / "workspace"),
        "HF_HUB_OFFLINE": "1",
        "VERTICAL_API_KEYS": "",
        "ANONYMIZED_TELEMETRY": "False",
    }
    env.pop("VERTICAL_API_URL", None)
    port = free_port()
    log = root / "api.log"
    proc = start_api([domain], port, wait_s=240, env=env, log=log)
    try:
        url = f"http://127.0.0.1:{port}"
        client = ApiClient(url)
        job_id = client.upload_documents("counseling", [(n, (COUNSELING / "docs" / n).read_bytes()) for n in DOCS])
        deadline = time.monotonic() + 240
        while client.job(job_id)["status"] in ("pending", "running") and time.monotonic() < deadline:
            time.sleep(0.3)
        job = client.job(job_id)
        assert job["status"] == "done" and job["report"]["added"] == len(DOCS), job
        yield {"url": url, "domain_dir": domain, "workspace": root / "workspace", "log": log}
    finally:
        stop(proc)


@pytest.fixture
def ui_api(api_server: dict, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Point this test's settings (and so the Streamlit pages run by AppTest) at the session API."""
    from vertical.core.settings import reset_settings

    monkeypatch.setenv("VERTICAL_API_URL", api_server["url"])
    reset_settings()
    return api_server
