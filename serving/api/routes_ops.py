"""Operational endpoints: /healthz and /metrics (Prometheus text format)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.api.deps import app_state

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz(request: Request) -> dict:
    state = app_state(request)
    return {
        "status": "ok",
        "domains": sorted(state.runtimes),
        "inflight": state.inflight,
        "engines": sorted({f"{r.engine.kind}:{r.engine.model}" for r in state.runtimes.values()}),
    }


@router.get("/metrics")
def metrics(request: Request) -> Response:
    state = app_state(request)
    engine_queue = sum(r.engine.queue_depth() for r in {id(r.engine): r for r in state.runtimes.values()}.values())
    state.metrics.queue_depth.set(max(state.inflight, engine_queue))
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
