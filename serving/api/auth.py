"""API keys: ``Authorization: Bearer <key>`` (what the openai client sends) or ``X-API-Key``.

With no keys configured the API is open, but only to loopback clients; `vertical serve` also
refuses to bind a non-loopback host without keys.
"""

from __future__ import annotations

from fastapi import Request

from vertical.core.errors import AuthError, ForbiddenError

LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


def request_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


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
    if not key or key not in keys:
        raise AuthError("missing or unknown API key", hint="send Authorization: Bearer <key>")
    return keys[key]


def check_domain(request: Request, domain: str) -> None:
    allowed = allowed_domains(request)
    if "*" not in allowed and domain not in allowed:
        raise ForbiddenError(
            f"this API key may not use domain {domain!r}", hint=f"allowed: {', '.join(sorted(allowed)) or 'none'}"
        )
