"""Structured JSON logs, the correlation id, request metrics and body-size limits.

The correlation id comes from the caller's ``X-Request-ID`` (the gateway always sets
one), is bound to every log line of the request, is written into each event the
request causes, and is bound again by the consumer that applies the event.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar

import structlog
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

HTTP_REQUESTS = Counter("ntc_http_requests_total", "HTTP requests", ["service", "method", "status"])
HTTP_LATENCY = Histogram(
    "ntc_http_request_seconds", "HTTP request latency", ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def configure_logging(*, level: str = "INFO", json: bool = True) -> None:
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def accept_correlation_id(value: str | None) -> str:
    """Keep a caller's request id when it is well formed, otherwise make one."""
    if value and _SAFE_ID.match(value):
        return value
    return new_correlation_id()


class RequestContextMiddleware:
    """Binds the correlation id, enforces the body-size limit, counts and times requests.

    Written as plain ASGI (not BaseHTTPMiddleware) so streaming bodies stay streaming.
    """

    def __init__(self, app: ASGIApp, *, service: str, max_body_bytes: int) -> None:
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = accept_correlation_id(headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1") or None)
        token = correlation_id.set(request_id)
        structlog.contextvars.bind_contextvars(correlation_id=request_id)
        started = time.perf_counter()
        status_holder = {"status": 500}

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _too_large(send, self.max_body_bytes, request_id)
            self._observe(scope, 413, started)
            correlation_id.reset(token)
            structlog.contextvars.unbind_contextvars("correlation_id")
            return

        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    too_large = True
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except BodyTooLarge:
            await _too_large(send, self.max_body_bytes, request_id)
            status_holder["status"] = 413
        finally:
            self._observe(scope, status_holder["status"] if not too_large else 413, started)
            correlation_id.reset(token)
            structlog.contextvars.unbind_contextvars("correlation_id")

    def _observe(self, scope: Scope, status: int, started: float) -> None:
        HTTP_REQUESTS.labels(self.service, scope.get("method", ""), str(status)).inc()
        HTTP_LATENCY.labels(self.service).observe(time.perf_counter() - started)


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body is read; an HTTPException so FastAPI's body parsing passes it on."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")


async def _too_large(send: Send, limit: int, request_id: str) -> None:
    import json

    body = json.dumps(
        {
            "type": "https://ntc.kz/problems/payload-too-large",
            "title": "Payload too large",
            "status": 413,
            "detail": f"The request body is larger than the limit of {limit} bytes.",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
