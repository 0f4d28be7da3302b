"""Tiny throwaway domains for knowledge tests (real embedder, real Chroma, real BM25)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vertical.core.spec import DomainSpec, load_domain


def write_domain(root: Path, name: str, files: dict[str, str | bytes], extra_yaml: str = "") -> DomainSpec:
    root.mkdir(parents=True, exist_ok=True)
    (root / "domain.yaml").write_text(f"name: {name}\nknowledge:\n  sources: [docs]\n{extra_yaml}", encoding="utf-8")
    docs = root / "docs"
    docs.mkdir(exist_ok=True)
    for rel, content in files.items():
        path = docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return load_domain(root)


@pytest.fixture
def make_domain(tmp_path: Path, embedder_name: str) -> Callable[..., DomainSpec]:
    def make(name: str, files: dict[str, str | bytes], extra_yaml: str = "") -> DomainSpec:
        return write_domain(tmp_path / name, name, files, extra_yaml)

    return make
