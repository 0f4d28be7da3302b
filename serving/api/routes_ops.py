"""Operational endpoints: /healthz and /metrics (Prometheus text format).

``/healthz`` answers every caller, but only ``{"status": "ok"}``: probes need no key. A valid key (or,
on a server without keys, a loopback client) also gets the detail, limited to the domains that key
may use. ``/metrics`` needs a valid key when keys are configured (Prometheus: ``authorization`` with
``credentials``); without keys it is open to loopback clients only, like every other route.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.api.auth import allowed_domains, optional_domains, visible
from serving.api.deps import app_state

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz(request: Request) -> dict:
    state = app_state(request)
    allowed = optional_domains(request)
    if allowed is None:
        return {"status": "ok"}
    domains = visible(allowed, state.runtimes)
    return {
        "status": "ok",
        "domains": domains,
        "inflight": state.inflight,
        "engines": sorted({f"{state.runtimes[d].engine.kind}:{state.runtimes[d].engine.model}" for d in domains}),
    }


@router.get("/metrics")
def metrics(request: Request) -> Response:
    allowed_domains(request)  # 401 without a valid key, 403 for a remote client of a keyless server
    state = app_state(request)
    engine_queue = sum(r.engine.queue_depth() for r in {id(r.engine): r for r in state.runtimes.values()}.values())
    state.metrics.queue_depth.set(max(state.inflight, engine_queue))
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
