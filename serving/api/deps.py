"""Shared route helpers: the app state and the domain a request may use."""

from __future__ import annotations

from fastapi import Request

from serving.api.auth import check_domain
from serving.api.state import AppState
from serving.domains import DomainRuntime


def app_state(request: Request) -> AppState:
    return request.app.state.vertical


def domain_runtime(request: Request, domain: str) -> DomainRuntime:
    """The runtime for ``domain`` after checking that the caller's key may use it (401/403/404)."""
    check_domain(request, domain)  # auth before existence: unknown keys learn nothing about domains
    return app_state(request).runtime(domain)
