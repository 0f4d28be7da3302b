"""FastAPI app: ``create_app(domains, settings)``. One router per file; add a router to ROUTER_MODULES to extend.

Layers above serving (the strategy layer's plan/build/eval routes) plug their routers in through the
``vertical.api_routers`` entry-point group, so serving never imports upward.
"""

from __future__ import annotations

from pathlib import Path

from serving.api.config import ServeSettings

ROUTER_MODULES = (
    "routes_ops",
    "routes_openai",
    "routes_domains",
    "routes_kb",
    "routes_kb_chunks",
    "routes_feedback",
    "routes_conversations",
)
PLUGIN_GROUP = "vertical.api_routers"


def build_runtimes(domains: list[Path], settings: ServeSettings) -> dict:
    """One runtime per domain folder; domains with the same engine, model and adapters share an engine."""
    from serving.domains import adapter_for, load_runtime
    from serving.engines import make_engine
    from vertical.core.errors import SpecError
    from vertical.core.manifest import try_load_manifest
    from vertical.core.spec import load_domain

    specs = [load_domain(d) for d in domains]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise SpecError(f"two domain folders share a name: {names}", hint="give each domain.yaml a unique name")
    groups: dict[tuple, dict[str, str]] = {}
    adapters: dict[str, tuple[str, str] | None] = {}
    for spec in specs:
        adapters[spec.name] = adapter_for(spec, try_load_manifest(spec.name))
        key = (settings.engine or spec.serving.engine, spec.base_model)
        groups.setdefault(key, {})
        if adapters[spec.name]:
            groups[key][adapters[spec.name][0]] = adapters[spec.name][1]
    engines = {}
    runtimes = {}
    for folder, spec in zip(domains, specs):
        key = (settings.engine or spec.serving.engine, spec.base_model)
        if key not in engines:
            options = (
                {"max_batch": settings.max_batch, "window_s": settings.batch_window_ms / 1000}
                if key[0] == "transformers"
                else {}
            )
            engines[key] = make_engine(key[0], spec, groups[key], **options)
        adapter = adapters[spec.name]
        runtimes[spec.name] = load_runtime(folder, engines[key], adapter[0] if adapter else None)
    return runtimes


def create_app(domains: list[Path], settings: ServeSettings | None = None, runtimes: dict | None = None):
    """The API for the given domain folders (or ready runtimes, e.g. sharing an engine in tests)."""
    import importlib
    from contextlib import asynccontextmanager
    from importlib.metadata import entry_points

    from fastapi import FastAPI

    from serving.api.errors import BodySizeLimit, install_error_handlers
    from serving.api.metrics import RecordMetrics
    from serving.api.state import AppState

    settings = settings or ServeSettings()
    state = AppState(runtimes if runtimes is not None else build_runtimes(list(domains), settings), settings)

    @asynccontextmanager
    async def lifespan(_app):
        state.start_workers()  # ingest consumer threads (unless VERTICAL_QUEUE_WORKERS=0)
        try:
            yield
        finally:
            state.stop_workers()
            if runtimes is None:  # engines we created are ours to close
                state.close()

    app = FastAPI(title="vertical", version="0.1", lifespan=lifespan)
    app.state.vertical = state
    install_error_handlers(app)
    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(f"serving.api.{name}").router)
    for plugin in sorted(entry_points(group=PLUGIN_GROUP), key=lambda ep: ep.name):
        app.include_router(plugin.load())

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RecordMetrics, metrics=state.metrics)  # outermost: 413s are counted too
    return app
