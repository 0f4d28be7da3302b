"""Content hashes of a step's inputs: file bytes (not names or mtimes) plus the settings that shape the output."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def hash_files(paths: Iterable[Path], root: Path | None = None) -> str:
    """sha256 over (relative path, file bytes) of every file under the given files/folders, sorted."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        elif p.is_file():
            files.append(p)
        else:
            digest.update(f"missing:{p}".encode())
    for f in sorted(set(files)):
        name = str(f.relative_to(root)) if root and f.is_relative_to(root) else f.name
        digest.update(name.encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()


def hash_values(*values: Any) -> str:
    """sha256 of JSON-serialised settings (pydantic models via model_dump)."""
    plain = [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in values]
    return hashlib.sha256(json.dumps(plain, sort_keys=True, default=str).encode()).hexdigest()
