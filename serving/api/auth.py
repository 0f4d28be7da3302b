"""API keys: ``Authorization: Bearer <key>`` (what the openai client sends) or ``X-API-Key``.

With no keys configured the API is open, but only to loopback clients; `vertical serve` also
refuses to bind a non-loopback host without keys. Key tables are validated at start-up
(``ServeSettings.keys``), so a typo cannot open a domain to everyone.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from fastapi import Request

from vertical.core.errors import AuthError, ForbiddenError

LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


def request_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def _scope_of(keys: dict[str, set[str]], key: str) -> set[str] | None:
    # constant-time comparison: response timing must not reveal how much of a key was right
    given = key.encode("utf-8", "surrogateescape")
    found = None
    for known, scope in keys.items():
        if hmac.compare_digest(known.encode("utf-8", "surrogateescape"), given):
            found = scope
    return found


def allowed_domains(request: Request) -> set[str]:
    """Domains this request may use ({"*"} = all); raises 401 for a missing or unknown key."""
    keys = request.app.state.vertical.keys
    if not keys:
        host = request.client.host if request.client else ""
        if host not in LOOPBACK:
            raise ForbiddenError(
                "this server has no API keys and only answers loopback clients",
                hint="configure VERTICAL_API_KEYS to allow remote clients",
            )
        return {"*"}
    key = request_key(request)
    scope = _scope_of(keys, key) if key else None
    if scope is None:
        raise AuthError("missing or unknown API key", hint="send Authorization: Bearer <key>")
    return scope


def optional_domains(request: Request) -> set[str] | None:
    """Like :func:`allowed_domains`, but ``None`` instead of an error (for endpoints open to all)."""
    try:
        return allowed_domains(request)
    except (AuthError, ForbiddenError):
        return None


def visible(allowed: set[str], domains: Iterable[str]) -> list[str]:
    """The names in ``domains`` a caller with ``allowed`` may see, sorted."""
    return sorted(d for d in domains if "*" in allowed or d in allowed)


def check_domain(request: Request, domain: str) -> None:
    allowed = allowed_domains(request)
    if "*" not in allowed and domain not in allowed:
        raise ForbiddenError(
            f"this API key may not use domain {domain!r}", hint=f"allowed: {', '.join(sorted(allowed)) or 'none'}"
        )
