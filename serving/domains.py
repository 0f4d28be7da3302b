"""What serving knows about one domain: spec, manifest (if built), engine, adapter, knowledge base.

``serve`` prefers the manifest (adapter, strategy, few-shot pool, system prompt). A domain that was
never built is served from its spec, with RAG when its knowledge base already holds chunks; the
``notes`` say which, and every answer's trace starts with them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serving.engines.base import Engine
from vertical.core.manifest import Manifest, try_load_manifest
from vertical.core.spec import DomainSpec, load_domain


@dataclass
class DomainRuntime:
    spec: DomainSpec
    engine: Engine
    manifest: Manifest | None = None
    adapter: str | None = None  # the engine's name for this domain's LoRA adapter
    notes: list[str] = field(default_factory=list)
    _kb: Any = None
    _kb_checked: bool = False
    _kb_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def system_prompt(self) -> str:
        return (
            self.manifest.system_prompt if self.manifest and self.manifest.system_prompt else self.spec.system_prompt
        ).strip()

    @property
    def few_shot(self) -> list[dict[str, str]]:
        return list(self.manifest.few_shot) if self.manifest else []

    @property
    def tokenizer(self) -> Any:
        tok = getattr(self.engine, "tokenizer", None)
        if tok is None:
            from vertical.core.loaders import load_tokenizer

            tok = load_tokenizer(self.spec.base_model)  # budget with the served model's tokenizer
            self.engine.tokenizer = tok  # type: ignore[attr-defined]
        return tok

    def kb(self) -> Any:
        """The domain's KnowledgeBase, or None when the knowledge package is not installed."""
        if self._kb_checked:  # fast path once initialised; the flag is set only after _kb is
            return self._kb
        with self._kb_lock:  # concurrent first calls (eval threads, API pool) must not see a half-made KB
            if not self._kb_checked:
                try:
                    from knowledge.store import KnowledgeBase
                except ImportError:
                    self.notes.append("knowledge package unavailable: answering without retrieval")
                else:
                    self._kb = KnowledgeBase.for_domain(self.spec)
                self._kb_checked = True
        return self._kb

    @property
    def uses_rag(self) -> bool:
        if self.manifest is not None:
            return self.manifest.uses_rag
        kb = self.kb()
        return kb is not None and kb.count() > 0

    @property
    def model_ids(self) -> list[str]:
        ids = [self.name]
        if self.adapter:
            ids.append(f"{self.name}:{adapter_label(self.adapter)}")
        return ids


def adapter_label(engine_adapter_name: str) -> str:
    return engine_adapter_name.split("--", 1)[-1]


def adapter_for(spec: DomainSpec, manifest: Manifest | None) -> tuple[str, str] | None:
    """(engine adapter name, path) for a built domain with an adapter that exists on disk."""
    if manifest is None or not manifest.adapter_path:
        return None
    path = Path(manifest.adapter_path)
    if not path.exists():
        return None
    return f"{spec.name}--{path.name}", str(path)


def describe(spec: DomainSpec, manifest: Manifest | None) -> list[str]:
    if manifest is not None:
        return [
            f"manifest: strategy {manifest.strategy}, built {manifest.created_at}"
            + (f", adapter {manifest.adapter_path}" if manifest.adapter_path else "")
        ]
    # an unbuilt domain retrieves whenever its KB has chunks (uploads arrive while it is served): a note
    # fixed at start-up ("knowledge base empty") would contradict the retrieval step of later answers
    return [f"no build manifest for {spec.name}: serving from domain.yaml (retrieval while its KB has chunks)"]


def load_runtime(folder: Path | str, engine: Engine, adapter: str | None = None) -> DomainRuntime:
    spec = load_domain(folder)
    manifest = try_load_manifest(spec.name)
    runtime = DomainRuntime(spec=spec, engine=engine, manifest=manifest, adapter=adapter)
    runtime.notes = describe(spec, manifest) + runtime.notes
    return runtime
