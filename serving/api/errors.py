"""Errors → JSON ({"error": {"type", "message", "hint"}}) and the request body size limit."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from vertical.core.errors import ServerBusyError, VerticalError

from serving.api.state import RETRY_AFTER_S


def error_body(kind: str, message: str, hint: str | None = None) -> dict:
    return {"error": {"type": kind, "message": message, "hint": hint}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VerticalError)
    async def _vertical(_request: Request, exc: VerticalError) -> JSONResponse:
        headers = {"Retry-After": str(RETRY_AFTER_S)} if isinstance(exc, ServerBusyError) else None
        return JSONResponse(error_body(type(exc).__name__, exc.message, exc.hint), exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = ["{}: {}".format(".".join(str(x) for x in e["loc"]), e["msg"]) for e in exc.errors()]
        return JSONResponse(error_body("ValidationError", "; ".join(problems) or "invalid request",
                                       "fix the fields named above"), 422)


class BodySizeLimit:
    """ASGI middleware: 413 when a body is larger than ``max_bytes`` (declared or actually sent)."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._reject(send)
        seen = 0

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counted_receive, send)
        except _TooLarge:
            await self._reject(send)

    async def _reject(self, send) -> None:
        response = JSONResponse(error_body("PayloadTooLarge", f"request body over {self.max_bytes} bytes",
                                           "send a smaller body or raise VERTICAL_MAX_BODY_BYTES"), 413)
        await response({"type": "http"}, None, send)


class _TooLarge(Exception):
    pass
