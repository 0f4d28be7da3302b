"""Every error in OpenAI's shape: ``{"error": {"message", "type", "param", "code", "hint"}}``.

Covers our VerticalError classes, request validation (400 with ``param`` naming the field, as OpenAI
answers, not FastAPI's 422), bodies that are not JSON, unknown routes (404), wrong methods (405),
bodies over the size limit (413, with or without Content-Length) and anything unexpected (500).
"""

from __future__ import annotations

import logging
import re
import sys
import tempfile
from pathlib import Path
from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.api.protocol import ErrorInfo, ErrorResponse
from serving.api.state import RETRY_AFTER_S
from vertical.core.errors import ServerBusyError, VerticalError

T = TypeVar("T")

log = logging.getLogger(__name__)

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}
# union branch labels pydantic puts into an error's location; not part of the field path
_UNION_TAGS = {"system", "developer", "user", "assistant", "tool", "str", "int", "float", "bool", "dict", "list"}


REPO = Path(__file__).resolve().parents[2]


def _path_roots() -> list[tuple[str, str]]:
    from vertical.core.settings import get_settings

    settings = get_settings()
    named = [
        (settings.workspace, "<workspace>"),
        (settings.home, "<home>"),
        (REPO, "<repo>"),
        (Path(sys.prefix), "<python>"),
        (Path(sys.base_prefix), "<python>"),
        (Path(tempfile.gettempdir()), "<tmp>"),
        (Path.home(), "~"),
    ]
    roots = {}
    for path, label in named:
        for form in {str(path), str(path.resolve())}:
            if Path(form).is_absolute() and len(Path(form).parts) > 1:
                roots.setdefault(form, label)
    return sorted(roots.items(), key=lambda item: -len(item[0]))  # longest first: the workspace may sit in ~


def scrub_paths(text: str | None) -> str | None:
    """Server paths in an error text → ``<workspace>/…``-style names. A last line of defence: messages
    should not carry paths, but texts of file errors (OSError, parsers) often do."""
    if not text:
        return text
    for root, label in _path_roots():
        text = text.replace(root, label)
    return text


def scrub_json(value: T) -> T:
    """``scrub_paths`` over every string of a JSON-like value: manifests, reports and job rows hold
    adapter, report and log paths that a client must not see (names like ``<workspace>/…`` stay useful)."""
    if isinstance(value, str):
        return scrub_paths(value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {k: scrub_json(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [scrub_json(v) for v in value]  # type: ignore[return-value]
    return value


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def snake_code(exc: VerticalError) -> str:
    """``DomainNotFoundError`` → ``domain_not_found``."""
    name = type(exc).__name__.removesuffix("Error") or "vertical"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def error_response(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    hint: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=ErrorInfo(message=message, type=error_type(status), param=param, code=code, hint=hint))
    return JSONResponse(body.model_dump(), status, headers=headers)


def vertical_error_response(exc: VerticalError) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_S)} if isinstance(exc, ServerBusyError) else None
    return error_response(
        exc.http_status,
        scrub_paths(exc.message) or "",
        param=getattr(exc, "param", None),
        code=snake_code(exc),
        hint=scrub_paths(exc.hint),
        headers=headers,
    )


def field_path(loc: tuple) -> str | None:
    """``("body", "messages", 0, "user", "content")`` → ``messages[0].content``."""
    path = ""
    for part in loc:
        if part == "body" and not path:
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _UNION_TAGS or "[" in str(part):
            continue
        else:
            path += ("." if path else "") + str(part)
    return path or None


def validation_response(exc: RequestValidationError, content_type: str = "application/json") -> JSONResponse:
    errors = exc.errors()
    whole_body = any(tuple(e.get("loc", ())) == ("body",) for e in errors)  # not a field of a form upload
    if whole_body and "json" not in content_type.lower():
        return error_response(
            400,
            f"the request body must be JSON, not {content_type or 'untyped'}",
            code="unsupported_content_type",
            hint="send Content-Type: application/json",
        )
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = next(e for e in errors if e.get("type") == "json_invalid")
        return error_response(
            400,
            f"the request body is not valid JSON: {detail.get('ctx', {}).get('error', '')}",
            code="invalid_json",
            hint="send a JSON object with Content-Type: application/json",
        )
    first = errors[0] if errors else {}
    param = field_path(tuple(first.get("loc", ())))
    problems = []
    for e in errors[:5]:
        where = field_path(tuple(e.get("loc", ()))) or "body"
        msg = e.get("msg", "invalid").removeprefix("Value error, ")
        if e.get("type") == "extra_forbidden":
            msg = "unrecognized request argument"
        elif where == "body" and e.get("type") in ("missing", "model_attributes_type", "dict_type"):
            msg = "the request body must be a JSON object"
        problems.append(f"{where}: {msg}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return error_response(
        400,
        "; ".join(problems) + more or "invalid request",
        param=param,
        code="invalid_value",
        hint="fix the field named in param",
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VerticalError)
    async def _vertical(_request: Request, exc: VerticalError) -> JSONResponse:
        return vertical_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_response(exc, request.headers.get("content-type", ""))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(
                404,
                f"no route {request.method} {request.url.path}",
                code="unknown_route",
                hint="see /docs for the routes this server has",
            )
        if exc.status_code == 405:
            return error_response(
                405,
                f"method {request.method} is not allowed on {request.url.path}",
                code="method_not_allowed",
                headers=exc.headers,
            )
        message = scrub_paths(exc.detail) if isinstance(exc.detail, str) else "request failed"
        return error_response(exc.status_code, message, code=f"http_{exc.status_code}", headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(
            500,
            f"internal error: {type(exc).__name__}",
            code="internal_error",
            hint="this is a bug; the server log has the traceback",
        )


class BodySizeLimit:
    """ASGI middleware: 413 when a body is larger than ``max_bytes``, declared or actually sent.

    The body is read here, counted as it arrives, and handed on in one piece; a chunked body
    (no Content-Length) is cut off at the limit, not read to its end or turned into a 400 by the
    framework's body parser. Later ``receive`` calls go to the server (disconnect detection)."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._reject(scope, receive, send)
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client gone before the body was complete
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.max_bytes:
                return await self._reject(scope, receive, send)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope, receive, send) -> None:
        response = error_response(
            413,
            f"request body over the limit of {self.max_bytes} bytes",
            code="request_too_large",
            hint="send a smaller body or raise VERTICAL_MAX_BODY_BYTES",
        )
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)
