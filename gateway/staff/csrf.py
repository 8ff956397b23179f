"""CSRF protection for API calls the portal makes with its session cookie.

A browser attaches cookies to cross-site requests too, so a cookie alone must never
authorise a write. An unsafe request (POST, PUT, PATCH, DELETE) to ``/api/v1/...`` that
would be authenticated by the session cookie - it carries no Authorization or X-API-Key -
must send the session's CSRF token in ``X-CSRF-Token`` (the portal renders it into its
pages as ``<meta name="csrf-token">``); otherwise it is refused with 403 and not forwarded.
The header is removed before forwarding: services never see it.

Plain ASGI, outside the forwarder; the check is a keyed hash, no database read.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.authentication import SESSION_COOKIE, cookie_value
from gateway.proxy.forwarder import _service_of
from gateway.staff.service import csrf_matches
from kernel.problems import Problem, problem_response

CSRF_HEADER = "X-CSRF-Token"
_CSRF_HEADER = CSRF_HEADER.lower().encode()
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfRefused(Problem):
    def __init__(self) -> None:
        super().__init__(403, "csrf", "Forbidden",
                         f"A request authenticated by the portal session must carry its {CSRF_HEADER} header.")


class SessionCsrfGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Exactly the requests the forwarder sends on (under a root path too): none of them escapes the check.
        if scope["type"] != "http" or _service_of(scope) is None:
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        presented: str | None = None
        cookie: str | None = None
        explicit = False
        for name, value in headers:
            lower = name.lower()
            if lower == _CSRF_HEADER:
                presented = value.decode("latin-1").strip()
            elif lower == b"cookie":
                cookie = value.decode("latin-1") if cookie is None else f"{cookie}; {value.decode('latin-1')}"
            elif lower in (b"authorization", b"x-api-key"):
                explicit = True
        if presented is not None:
            scope = {**scope, "headers": [(n, v) for n, v in headers if n.lower() != _CSRF_HEADER]}
        if not explicit and scope["method"] not in SAFE_METHODS and cookie is not None:
            token = cookie_value(cookie, SESSION_COOKIE)
            if token is not None and not csrf_matches(token, presented):
                await problem_response(CsrfRefused(), Request(scope))(scope, receive, send)
                return
        await self.app(scope, receive, send)
