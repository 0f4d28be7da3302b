"""Prometheus metrics; one registry per app so tests and several apps in a process do not clash."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("vertical_requests_total", "HTTP requests", ["route", "status"], registry=self.registry)
        self.latency = Histogram("vertical_request_seconds", "Request latency", ["route"], registry=self.registry,
                                 buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120))
        self.queue_depth = Gauge("vertical_queue_depth", "Generations in flight or queued", registry=self.registry)
        self.tokens = Counter("vertical_tokens_generated_total", "Completion tokens generated", ["domain"],
                              registry=self.registry)
        self.rejected = Counter("vertical_rejected_total", "Requests rejected by limits", ["reason"],
                                registry=self.registry)
