"""Engine factory: ``make_engine(kind, spec, adapters)`` and a per-process default runtime cache."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from serving.engines.base import Completion, Engine, GenerationParams, Messages
from vertical.core.errors import ServingError

if TYPE_CHECKING:  # pragma: no cover
    from serving.domains import DomainRuntime
    from vertical.core.spec import DomainSpec

__all__ = ["Completion", "Engine", "GenerationParams", "Messages", "make_engine", "shared_engine", "default_runtime"]
ENGINES = ("transformers", "vllm", "openai")
_lock = threading.Lock()
_engines: dict[tuple, Engine] = {}
_runtimes: dict[str, DomainRuntime] = {}


def make_engine(kind: str, spec: DomainSpec, adapters: dict[str, str] | None = None, **options) -> Engine:
    """A new engine of ``kind`` for the spec's base model with the given named LoRA adapters."""
    if kind == "transformers":
        from serving.engines.transformers_engine import TransformersEngine

        return TransformersEngine(spec.base_model, adapters, **options)
    if kind == "openai":
        from serving.engines.openai_engine import OpenAIEngine

        s = spec.serving
        if not s.openai_base_url:
            raise ServingError(
                "engine openai needs serving.openai_base_url in domain.yaml",
                hint="set serving.openai_base_url (and openai_model, openai_api_key_env)",
            )
        return OpenAIEngine(
            s.openai_base_url, s.openai_model or spec.base_model, s.openai_api_key_env, adapters, **options
        )
    if kind == "vllm":
        from serving.engines.vllm_engine import VLLMEngine
        from vertical.core.loaders import pick_device
        from vertical.core.provisioning import resolve_model

        return VLLMEngine(
            spec.base_model,
            str(resolve_model(spec.base_model)),
            adapters,
            max_model_len=spec.serving.max_model_len,
            device=pick_device(),
            **options,
        )
    raise ServingError(f"unknown engine {kind!r}", hint=f"use one of {', '.join(ENGINES)}")


def shared_engine(spec: DomainSpec, adapters: dict[str, str] | None = None) -> Engine:
    """The process-wide engine for (spec's engine kind, base model, adapters): one cache for every caller."""
    key = (spec.serving.engine, spec.base_model, tuple(sorted((adapters or {}).items())))
    with _lock:
        if key not in _engines:
            _engines[key] = make_engine(spec.serving.engine, spec, dict(adapters or {}))
        return _engines[key]


def default_runtime(folder: Path) -> DomainRuntime:
    """A cached runtime for a domain folder on the engine its spec names (used by `vertical ask`)."""
    from serving.domains import adapter_for, load_runtime
    from vertical.core.manifest import try_load_manifest
    from vertical.core.spec import load_domain

    key = str(Path(folder).resolve())
    with _lock:
        if key in _runtimes:
            return _runtimes[key]
        spec = load_domain(folder)
        adapter = adapter_for(spec, try_load_manifest(spec.name))
        adapters = dict([adapter]) if adapter else {}
    engine = shared_engine(spec, adapters)  # outside _lock: shared_engine takes it itself
    with _lock:
        if key not in _runtimes:
            _runtimes[key] = load_runtime(folder, engine, adapter[0] if adapter else None)
        return _runtimes[key]
