"""The build manifest: everything ``serve`` and the UI need, written atomically by ``build``.

``.vertical/<domain>/manifest.json`` is replaced only after every step of a build succeeded, so a
failed build leaves the previous manifest (and the assistant it describes) intact.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from vertical.core.errors import ManifestError
from vertical.core.fsutil import atomic_write_json, read_json
from vertical.core.settings import get_settings

MANIFEST_NAME = "manifest.json"


class StepRecord(BaseModel):
    name: str
    input_hash: str
    outputs: dict[str, Any] = Field(default_factory=dict)
    seconds: float = 0.0
    skipped: bool = False


class KBRecord(BaseModel):
    collection: str
    content_hash: str
    chunks: int
    documents: int


class Manifest(BaseModel):
    domain: str
    domain_root: str
    strategy: str
    base_model: str
    embedder: str
    adapter_path: str | None = None
    kb: KBRecord | None = None
    system_prompt: str = ""
    few_shot: list[dict[str, str]] = Field(default_factory=list)
    eval: dict[str, Any] = Field(default_factory=dict)
    candidates: list[dict[str, Any]] = Field(
        default_factory=list, description="auto: every candidate with its composite and 95% interval"
    )
    verdict: dict[str, Any] = Field(
        default_factory=dict, description="auto: chosen, best, verdict, reason and the paired differences"
    )
    safety_report: dict[str, Any] | None = Field(None, description="the crisis detector on the shipped safety set")
    reasons: list[str] = Field(default_factory=list)
    steps: list[StepRecord] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def uses_rag(self) -> bool:
        return "rag" in self.strategy.split("+")

    def step(self, name: str) -> StepRecord | None:
        return next((s for s in self.steps if s.name == name), None)


def manifest_path(domain: str) -> Path:
    return get_settings().domain_dir(domain) / MANIFEST_NAME


def save_manifest(manifest: Manifest) -> Path:
    return atomic_write_json(manifest_path(manifest.domain), manifest.model_dump(mode="json"))


def load_manifest(domain: str) -> Manifest:
    path = manifest_path(domain)
    if not path.is_file():
        raise ManifestError(
            f"domain {domain!r} has not been built yet (no {path})",
            hint=f"run `vertical build <domain folder> --strategy auto` first (workspace: {get_settings().workspace})",
        )
    try:
        return Manifest.model_validate(read_json(path))
    except Exception as exc:  # noqa: BLE001
        raise ManifestError(f"{path} is unreadable: {exc}", hint="rebuild the domain with `vertical build`") from exc


def try_load_manifest(domain: str) -> Manifest | None:
    try:
        return load_manifest(domain)
    except ManifestError:
        return None
