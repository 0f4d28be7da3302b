"""A real API server for the UI tests: examples/counseling's domain.yaml copied into tmp, the API
(serving.api.create_app under uvicorn) on a free 127.0.0.1 port in a subprocess, and a 3-document KB
ingested through its upload endpoint (one server per test session). ``flag_api``: a second one whose
grounding policy flags every answer below 0.95 grounding. ``auto_build``: a real `vertical build
--strategy auto --tiny --limit 4` of the same small domain (prompt and rag candidates, ~1.5 min)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ui.client import ApiClient
from ui.launch import start_api, stop
from vertical.core.net import free_port

REPO = Path(__file__).resolve().parents[2]
COUNSELING = REPO / "examples" / "counseling"
DOCS = ["sleep-hygiene.md", "breathing-exercises.md", "grief-and-loss.md"]


def _small_domain(root: Path, replace: dict[str, str] | None = None, docs: bool = False) -> Path:
    domain = root / "counseling"
    (domain / "docs").mkdir(parents=True)  # empty: the fixture uploads the documents through the API
    if docs:
        for name in DOCS:
            shutil.copy(COUNSELING / "docs" / name, domain / "docs" / name)
    if (COUNSELING / "eval").is_dir():
        shutil.copytree(COUNSELING / "eval", domain / "eval")
    yaml = (COUNSELING / "domain.yaml").read_text(encoding="utf-8")
    # short answers keep generation on 2 CPU cores to a few seconds
    for old, new in {"max_new_tokens: 160": "max_new_tokens: 32", **(replace or {})}.items():
        assert old in yaml, f"examples/counseling/domain.yaml no longer has {old!r}"
        yaml = yaml.replace(old, new)
    (domain / "domain.yaml").write_text(yaml, encoding="utf-8")
    return domain


def _env(workspace: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "VERTICAL_WORKSPACE": str(workspace),
        "HF_HUB_OFFLINE": "1",
        "VERTICAL_API_KEYS": "",
        "ANONYMIZED_TELEMETRY": "False",
    }
    env.pop("VERTICAL_API_URL", None)
    return env


def _serve(root: Path, domain: Path) -> Iterator[dict]:
    """Start the API on ``domain``, upload the 3 documents through it, yield its details, stop it."""
    port = free_port()
    log = root / "api.log"
    proc = start_api([domain], port, wait_s=240, env=_env(root / "workspace"), log=log)
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


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory):
    """``{"url", "domain_dir", "workspace", "log"}`` of a running API whose KB holds 3 uploaded documents."""
    root = tmp_path_factory.mktemp("ui-api")
    yield from _serve(root, _small_domain(root))


@pytest.fixture(scope="session")
def flag_api(tmp_path_factory: pytest.TempPathFactory):
    """Like ``api_server``, but answers grounded below 0.95 are flagged (shown with a warning), not replaced."""
    root = tmp_path_factory.mktemp("ui-flag-api")
    domain = _small_domain(
        root, {"min_grounding: 0.3": "min_grounding: 0.95", "below_grounding: extractive": "below_grounding: flag"}
    )
    yield from _serve(root, domain)


@pytest.fixture(scope="session")
def auto_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The manifest.json of a real auto build (the CLI, in its own workspace): the candidates prompt and rag, each
    evaluated on 4 questions with 95% intervals, the verdict, the report and the crisis detector's report."""
    root = tmp_path_factory.mktemp("ui-auto-build")
    domain = _small_domain(root, docs=True)
    cmd = [sys.executable, "-m", "vertical.cli", "build", str(domain), "--strategy", "auto", "--tiny", "--limit", "4"]
    done = subprocess.run(cmd, env=_env(root / "workspace"), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    manifest = root / "workspace" / "counseling" / "manifest.json"
    assert manifest.is_file(), done.stdout[-3000:]
    return manifest


@pytest.fixture
def built_api(api_server: dict, auto_build: Path) -> Iterator[dict]:
    """The session API with the auto build's manifest in its workspace (its report stays where it was written);
    removed afterwards, so the other tests see an unbuilt domain."""
    target = api_server["workspace"] / "counseling" / "manifest.json"
    shutil.copy(auto_build, target)
    try:
        yield {**api_server, "manifest": json.loads(auto_build.read_text(encoding="utf-8"))}
    finally:
        target.unlink(missing_ok=True)


@pytest.fixture
def ui_api(api_server: dict, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Point this test's settings (and so the Streamlit pages run by AppTest) at the session API."""
    from vertical.core.settings import reset_settings

    monkeypatch.setenv("VERTICAL_API_URL", api_server["url"])
    reset_settings()
    return api_server
