"""Shared fixtures. Tests run offline on the embedded default models (provisioned by `make setup`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
COUNSELING = REPO / "examples" / "counseling"


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Every test builds into its own workspace; provisioned models stay shared."""
    from vertical.core.settings import reset_settings

    monkeypatch.setenv("VERTICAL_WORKSPACE", str(tmp_path / "workspace"))
    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def counseling_dir() -> Path:
    return COUNSELING


def _require_model(name: str) -> None:
    from vertical.core.provisioning import is_provisioned

    if not is_provisioned(name):
        pytest.fail(f"model {name} is not provisioned: run `make setup` (vertical models pull) first")


@pytest.fixture(scope="session")
def generator_name() -> str:
    _require_model("smollm2-135m-instruct")
    return "smollm2-135m-instruct"


@pytest.fixture(scope="session")
def embedder_name() -> str:
    _require_model("all-minilm-l6-v2")
    return "all-minilm-l6-v2"
