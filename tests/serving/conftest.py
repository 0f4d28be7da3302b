"""One tiny domain (3 documents), one engine and one ingested KB per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from serving_live_server import LiveServer

COUNSELING = Path(__file__).resolve().parents[2] / "examples" / "counseling"

DOCS = ("sleep-hygiene.md", "panic-attacks.md", "grief-and-loss.md")


@pytest.fixture(scope="session")
def pg_server():
    """One throw-away PostgreSQL (Debian's binaries) for the session's database tests; skipped without them."""
    from postgres import PostgresServer, unavailable

    reason = unavailable()
    if reason:
        pytest.skip(reason)
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def serve_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve-ws")


@pytest.fixture(autouse=True)
def _shared_workspace(serve_workspace: Path, monkeypatch: pytest.MonkeyPatch):
    """Serving tests share the session KB (ingesting once keeps the suite fast)."""
    from vertical.core.settings import reset_settings

    monkeypatch.setenv("VERTICAL_WORKSPACE", str(serve_workspace))
    reset_settings()
    yield
    reset_settings()


@pytest.fixture(scope="session")
def tiny_domain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tinydomain")
    (root / "docs").mkdir()
    for name in DOCS:
        shutil.copy(COUNSELING / "docs" / name, root / "docs" / name)
    shutil.copy(COUNSELING / "domain.yaml", root / "domain.yaml")
    return root


@pytest.fixture(scope="session")
def engine(generator_name: str):
    from serving.engines.transformers_engine import TransformersEngine

    eng = TransformersEngine(generator_name)
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def runtime(tiny_domain: Path, engine, serve_workspace: Path, embedder_name: str):
    import os

    from vertical.core.settings import reset_settings

    os.environ["VERTICAL_WORKSPACE"] = str(serve_workspace)
    reset_settings()
    from knowledge.jobs import IngestJob
    from serving.domains import load_runtime
    from vertical.core.spec import load_domain

    IngestJob(load_domain(tiny_domain)).run()
    rt = load_runtime(tiny_domain, engine)
    assert rt.uses_rag and rt.kb().count() > 0
    return rt


@pytest.fixture(scope="session")
def live_server(runtime):
    from serving.api import create_app
    from serving.api.config import ServeSettings

    app = create_app([], ServeSettings(queue_limit=64), runtimes={runtime.name: runtime})
    with LiveServer(app) as server:
        yield server
