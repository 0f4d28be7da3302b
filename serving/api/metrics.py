"""Prometheus metrics; one registry per app so tests and several apps in a process do not clash."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("vertical_requests_total", "HTTP requests", ["route", "status"], registry=self.registry)
        self.latency = Histogram(
            "vertical_request_seconds",
            "Request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
        )
        self.queue_depth = Gauge("vertical_queue_depth", "Generations in flight or queued", registry=self.registry)
        self.tokens = Counter(
            "vertical_tokens_generated_total", "Completion tokens generated", ["domain"], registry=self.registry
        )
        self.rejected = Counter(
            "vertical_rejected_total", "Requests rejected by limits", ["reason"], registry=self.registry
        )


class RecordMetrics:
    """ASGI middleware: request count and latency per route. Plain ASGI (not BaseHTTPMiddleware), so a
    handler still sees its client's disconnect and streams pass through untouched."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [500]

        async def record_status(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")  # set by the router on the shared scope
            self.metrics.requests.labels(route, str(status[0])).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
