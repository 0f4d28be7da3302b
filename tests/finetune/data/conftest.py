"""Fixtures for the data pipeline tests: the real tokenizer and small domain folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def tokenizer(generator_name):
    from vertical.core.loaders import load_tokenizer

    return load_tokenizer(generator_name)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def make_domain(tmp_path: Path):
    """Write a domain folder with the given datasets/data options; returns the loaded spec."""
    from vertical.core.spec import load_domain

    def _make(datasets: list[dict], files: dict[str, object] | None = None, **data) -> object:
        root = tmp_path / "domain"
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "docs").mkdir(exist_ok=True)
        for rel, content in (files or {}).items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copy(content, target)
            elif isinstance(content, list):
                target.write_text("".join(json.dumps(r) + "\n" for r in content), encoding="utf-8")
            else:
                target.write_text(str(content), encoding="utf-8")
        spec = {
            "name": "testdomain",
            "system_prompt": "You are a supportive listener.",
            "data": {"datasets": datasets, "general": "none", **data},
        }
        (root / "domain.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
        return load_domain(root)

    return _make
