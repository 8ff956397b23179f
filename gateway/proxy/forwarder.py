"""Forwarding ``/api/v1/{service}/{path}`` to the service, in plain ASGI.

No body parsing, no dependency resolution and no response wrapper stand between the
two sockets, so bodies stream both ways and the per-request cost stays small
(ARCHITECTURE.md §7 sets the bar at 0.4x a direct call). Errors before the response
starts are answered as RFC 9457 problem+json.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

import httpx
import orjson
import structlog
from prometheus_client import Counter, Histogram
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.idempotency import rules as idempotency
from gateway.idempotency.rules import Outcome
from gateway.idempotency.service import Claim
from gateway.limits import Quota
from gateway.proxy.headers import returned_response_headers, sort_request_headers
from gateway.proxy.upstream import is_timeout, never_sent
from kernel.identity import IDENTITY_HEADER, Identity
from kernel.observability import BodyTooLarge, correlation_id, new_correlation_id
from kernel.problems import FieldError, Problem, problem_response

if TYPE_CHECKING:
    from gateway.app import GatewayState

log = structlog.get_logger(__name__)

API_PREFIX = "/api/v1"
_SERVICE_PATHS = API_PREFIX + "/"

UPSTREAM_LATENCY = Histogram(
    "ntc_gateway_upstream_seconds", "From forwarding a request to the service's response headers", ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UPSTREAM_FAILURES = Counter(
    "ntc_gateway_upstream_failures_total", "Forwarded requests the service did not answer", ["service", "reason"]
)

_IDENTITY_HEADER = IDENTITY_HEADER.encode()
# Served by each service for operators on the inside (Prometheus scrapes services directly), never forwarded.
INTERNAL_PATHS = frozenset({"/metrics"})
MAX_CACHED_URLS = 4_096
# Methods whose body the gateway checks before forwarding (its media type; JSON's syntax).
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_RESPONSE_START = "http.response.start"
_RESPONSE_BODY = "http.response.body"


class UnknownService(Problem):
    def __init__(self, service: str, known: list[str]) -> None:
        super().__init__(404, "unknown-service", "Unknown service",
                         f"There is no service named {service!r}. Services: {', '.join(sorted(known))}.")


class PayloadTooLarge(Problem):
    """A streamed body outgrew the limit; answered as the request middleware answers a declared one."""

    def __init__(self, exc: BodyTooLarge) -> None:
        super().__init__(413, "payload-too-large", "Payload too large", str(exc.detail))


class UnsupportedMediaType(Problem):
    def __init__(self, media_type: str | None, accepted: frozenset[str]) -> None:
        said = f"Content-Type {media_type!r}" if media_type else "A body without a Content-Type"
        detail = f"{said} is not accepted; send one of {', '.join(sorted(accepted))}."
        super().__init__(415, "unsupported-media-type", "Unsupported media type", detail,
                         errors=[FieldError(pointer="/headers/content-type", rule="media_type", detail=detail)],
                         headers={"Accept-Post": ", ".join(sorted(accepted))})


class MalformedJson(Problem):
    def __init__(self, reason: str) -> None:
        detail = f"The body is declared as JSON but is not valid JSON: {reason}."
        super().__init__(400, "malformed-json", "Malformed JSON", detail,
                         errors=[FieldError(pointer="", rule="malformed_json", detail=detail)])


def is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def check_json(body: bytes) -> None:
    """Raises `MalformedJson` unless ``body`` is one JSON document (UTF-8, RFC 8259)."""
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedJson(exc.msg) from None


class BadGateway(Problem):
    def __init__(self, service: str) -> None:
        super().__init__(502, "bad-gateway", "Bad gateway",
                         f"The {service} service could not be reached or broke off its answer.", service=service)


class GatewayTimeout(Problem):
    def __init__(self, service: str) -> None:
        super().__init__(504, "gateway-timeout", "Gateway timeout",
                         f"The {service} service did not answer in time.", service=service)


class Replayed:
    """The stored answer to an earlier request with the same Idempotency-Key, given again."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def _idempotency_problem(outcome: Outcome, key_header: str, retry_after: float) -> Problem:
    if outcome is Outcome.mismatch:
        detail = "This Idempotency-Key was used for a different request (method, path or body); use a new key."
        return Problem(422, "idempotency-key-reused", "Idempotency-Key reused", detail,
                       errors=[FieldError(pointer="/headers/idempotency-key", rule="same_request", detail=detail)])
    return Problem(409, "idempotency-key-in-use", "Request in progress",
                   f"A request with Idempotency-Key {key_header!r} is still being answered; try again shortly.",
                   headers={"Retry-After": str(max(1, int(retry_after)))})


def _service_of(scope: Scope) -> str | None:
    """The service a request is for, when its path is under /api/v1/<service>."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path") or ""
    if root_path and path.startswith(root_path):
        path = path[len(root_path):]
    if not path.startswith(_SERVICE_PATHS):
        return None
    return path[len(_SERVICE_PATHS):].partition("/")[0] or None


def upstream_path(scope: Scope) -> str:
    """The path to ask the service for: the caller's raw (still percent-encoded) path after /api/v1/<service>."""
    raw: bytes | None = scope.get("raw_path")
    # Some clients put the query in raw_path; a literal "?" cannot be part of a path.
    path = raw.partition(b"?")[0].decode("latin-1") if raw else quote(scope["path"])
    root_path = scope.get("root_path") or ""
    if root_path and path.startswith(root_path):
        path = path[len(root_path):]
    parts = path.split("/", 4)  # ["", "api", "v1", service, rest]
    rest = "/" + parts[4] if len(parts) == 5 else "/"
    # Judged as the service will see it: its server decodes the path once (an encoded "/" included),
    # so "%6Detrics" is /metrics there and "x%2F..%2Fmetrics" has a ".." segment.
    decoded = unquote(rest) if "%" in rest else rest
    segments = decoded.split("/")
    if "." in decoded and any(segment in {".", ".."} for segment in segments):
        raise Problem(400, "dot-segment", "Bad path", "A path with '.' or '..' segments is not forwarded.")
    if "/" + "/".join(segment for segment in segments if segment) in INTERNAL_PATHS:
        raise Problem(404, "not-found", "Not Found")
    return rest


class _StreamedBody:
    """The caller's body, read from ASGI ``receive`` only as fast as the service takes it."""

    __slots__ = ("_receive", "too_large", "disconnected")

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.too_large: BodyTooLarge | None = None
        self.disconnected = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            try:
                message = await self._receive()
            except BodyTooLarge as exc:  # raised by the request middleware past the size limit
                self.too_large = exc
                raise
            if message["type"] == "http.disconnect":
                self.disconnected = True
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class Forwarder:
    """ASGI middleware: a request under ``/api/v1/<service>/`` is forwarded; any other goes on to the app.

    It sits inside the request middleware (request id, body limit, metrics) and in front
    of the router: forwarding is nearly all of the gateway's traffic, and the layers a
    routed endpoint passes through (exception middleware, route matching, a Request
    object) were a measurable share of its cost. Problems raised before the response
    starts are answered as problem+json here, as the app's handlers would.
    """

    def __init__(self, app: ASGIApp, *, service_urls: dict[str, str], buffer_request_body_bytes: int,
                 accepted_media_types: frozenset[str] | None = None) -> None:
        self.app = app
        self._service_urls = dict(service_urls)
        self._buffer_limit = buffer_request_body_bytes
        # None: any media type goes through unchecked (the settings always name a list).
        self._media_types = accepted_media_types
        self._latency = {name: UPSTREAM_LATENCY.labels(name) for name in service_urls}
        self._urls: dict[str, httpx.URL] = {}

    def _parsed(self, url: str) -> httpx.URL:
        # Parsing a URL costs ~15 us and most traffic repeats a modest set of them.
        parsed = self._urls.get(url)
        if parsed is None:
            parsed = httpx.URL(url)
            if len(self._urls) >= MAX_CACHED_URLS:
                self._urls.clear()
            self._urls[url] = parsed
        return parsed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = _service_of(scope) if scope["type"] == "http" else None
        if service is None:
            await self.app(scope, receive, send)
            return
        try:
            opened = await self._open(scope, receive, service)
        except Problem as problem:
            await problem_response(problem, Request(scope))(scope, receive, send)
            return
        if isinstance(opened, Replayed):
            headers = [*opened.headers, (b"content-length", str(len(opened.body)).encode()),
                       (b"idempotent-replayed", b"true")]
            await send({"type": _RESPONSE_START, "status": opened.status, "headers": headers})
            await send({"type": _RESPONSE_BODY, "body": opened.body, "more_body": False})
        elif opened is not None:
            await self._relay(*opened, send, service, state=scope["app"].state.gateway)

    async def _open(self, scope: Scope, receive: Receive, service: str
                    ) -> tuple[httpx.Response, Quota | None, Claim | None] | Replayed | None:
        """Authenticate, count against the rate limit, send the request on, and return the service's
        response (headers read, body not) with the caller's quota and the Idempotency-Key claimed for it;
        or the stored answer of an earlier request with the same key."""
        state: GatewayState = scope["app"].state.gateway
        base_url = self._service_urls.get(service)
        if base_url is None:
            raise UnknownService(service, list(self._service_urls))
        url = base_url + upstream_path(scope)
        query: bytes = scope.get("query_string", b"")
        if query:
            url = f"{url}?{query.decode('latin-1')}"

        inbound = sort_request_headers(scope["headers"])
        if inbound.invalid_content_length:
            raise Problem(400, "bad-content-length", "Bad request", "Content-Length is not a single number.")
        try:
            identity = await state.authentication.identify(inbound.credentials)
        except Problem:
            state.rate_limiter.refused(scope)  # refused credentials count against the address
            raise
        quota = state.rate_limiter.admit(identity, scope)

        headers = inbound.forward
        headers.append((b"x-request-id", (correlation_id.get() or new_correlation_id()).encode()))
        client = scope.get("client")
        if client:
            headers.append((b"x-forwarded-for", client[0].encode()))
        headers.append((b"x-forwarded-proto", scope.get("scheme", "http").encode()))
        if inbound.host is not None:
            headers.append((b"x-forwarded-host", inbound.host))
        if not identity.is_anonymous:
            headers.append((_IDENTITY_HEADER, state.identity_tokens.token_for(identity).encode()))

        streamed: _StreamedBody | None = None
        body = b""
        if inbound.has_body:
            # JSON is checked whole before anything is sent, so it is always read first; the
            # request middleware's size limit bounds what that can cost (past it: 413, unread).
            parse_json = self._check_media_type(scope["method"], inbound.media_type)
            if parse_json or (inbound.content_length is not None and inbound.content_length <= self._buffer_limit):
                try:
                    body = await _read_body(receive)
                except ClientDisconnect:
                    return None  # the caller went away; nobody to answer
                if parse_json:
                    check_json(body)
                if inbound.chunked:  # re-framed: the service gets the body in one piece, with its length
                    headers.append((b"content-length", str(len(body)).encode()))
            else:
                streamed = _StreamedBody(receive)

        claim: Claim | None = None
        if inbound.idempotency_key is not None and scope["method"] in idempotency.METHODS \
                and not identity.is_anonymous and state.idempotency is not None:
            claimed = await self._claim(state, scope, identity, inbound.idempotency_key, streamed is not None, body)
            if isinstance(claimed, Replayed):
                return claimed
            claim = claimed

        upstream = state.upstream
        # stream=, not content=: the headers are already exactly what goes upstream
        # (Content-Length as the caller framed it, Host from the URL), so httpx must add none.
        request = httpx.Request(scope["method"], self._parsed(url), headers=headers,
                                stream=streamed if streamed is not None else httpx.ByteStream(body),  # type: ignore[arg-type]
                                extensions={"timeout": upstream.timeout})
        if streamed is None:
            request.read()  # a body in hand is sent as bytes, in one write
        started = time.perf_counter()
        try:
            response = await upstream.transport.handle_async_request(request)
        except (httpx.TransportError, TimeoutError, OSError) as exc:
            if claim is not None and never_sent(exc) and state.idempotency is not None:
                await state.idempotency.release(claim)  # nothing reached the service: the retry may run it
            if streamed is not None and streamed.too_large is not None:
                raise PayloadTooLarge(streamed.too_large) from None
            if streamed is not None and streamed.disconnected:
                return None  # the caller went away; nobody to answer
            raise self._failure(service, exc) from None
        self._latency[service].observe(time.perf_counter() - started)
        return response, quota, claim

    @staticmethod
    async def _claim(state: GatewayState, scope: Scope, identity: Identity, key: str, streamed: bool,
                     body: bytes) -> Claim | Replayed:
        """Claim the caller's Idempotency-Key for this request, or the stored answer to give again."""
        store = state.idempotency
        assert store is not None
        problem = idempotency.key_problem(key)
        if problem is None and streamed:
            problem = "an Idempotency-Key is accepted with JSON bodies and small others, not with a streamed upload"
        if problem is not None:
            raise Problem(400, "bad-idempotency-key", "Bad Idempotency-Key", problem,
                          errors=[FieldError(pointer="/headers/idempotency-key", rule="idempotency_key",
                                             detail=problem)])
        scope_key = idempotency.scope_key(f"{identity.kind}:{identity.subject}", key)
        fingerprint = idempotency.fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body)
        outcome, stored = await store.begin(scope_key, fingerprint)
        if isinstance(stored, Claim):
            return stored
        if outcome is Outcome.replay and stored is not None and stored.response_status is not None:
            headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in stored.response_headers or []]
            return Replayed(stored.response_status, headers, stored.response_body or b"")
        raise _idempotency_problem(outcome, key, store.claim_timeout.total_seconds())

    def _check_media_type(self, method: str, media_type: str | None) -> bool:
        """Whether a body of this type, sent with this method, is to be checked as JSON;
        `UnsupportedMediaType` when the type is not on the accepted list."""
        if self._media_types is None or method not in BODY_METHODS:
            return False
        if media_type not in self._media_types:
            raise UnsupportedMediaType(media_type, self._media_types)
        return is_json(media_type)

    async def _relay(self, response: httpx.Response, quota: Quota | None, claim: Claim | None, send: Send,
                     service: str, *, state: GatewayState) -> None:
        """Pass the service's response on, streaming its body (kept whole first when it answers an
        Idempotency-Key, so that a retry can get it again)."""
        try:
            returned, length = returned_response_headers(response.headers.raw)
            if claim is not None and state.idempotency is not None:
                await self._keep_answer(state, claim, response, returned, quota, send)
                return
            if quota is not None:
                returned += quota.raw_headers()
            await send({"type": _RESPONSE_START, "status": response.status_code, "headers": returned})
            # Each chunk goes out as it comes (a trickling stream must not wait for the next
            # one). With a Content-Length the last chunk is known and marked as such, which
            # saves the empty closing message on most API answers.
            expected = -1 if length is None else length
            sent, finished = 0, False
            async for chunk in response.stream:  # type: ignore[union-attr]  (the transport's raw byte stream)
                sent += len(chunk)
                finished = sent == expected
                await send({"type": _RESPONSE_BODY, "body": chunk, "more_body": not finished})
            if not finished:
                await send({"type": _RESPONSE_BODY, "body": b"", "more_body": False})
        except httpx.TransportError as exc:
            # Headers are gone already: all that is left is to cut the response short.
            UPSTREAM_FAILURES.labels(service, "broken-response").inc()
            log.warning("service broke off its response", service=service, error=repr(exc))
        finally:
            await response.aclose()

    @staticmethod
    async def _keep_answer(state: GatewayState, claim: Claim, response: httpx.Response,
                           returned: list[tuple[bytes, bytes]], quota: Quota | None, send: Send) -> None:
        store = state.idempotency
        assert store is not None
        try:
            body = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
        except httpx.TransportError:
            # Nothing was sent to the caller yet. The service may or may not have acted, so the key stays
            # claimed until it lapses (settings: idempotency_claim_seconds) and a retry meanwhile gets 409.
            problem = orjson.dumps({"type": "https://ntc.kz/problems/bad-gateway", "title": "Bad gateway",
                                    "status": 502, "detail": "The service broke off its answer."})
            await send({"type": _RESPONSE_START, "status": 502,
                        "headers": [(b"content-type", b"application/problem+json"),
                                    (b"content-length", str(len(problem)).encode())]})
            await send({"type": _RESPONSE_BODY, "body": problem, "more_body": False})
            return
        if response.status_code < idempotency.REPLAYED_BELOW:
            await store.finish(claim, response.status_code, returned, body)
        else:
            await store.release(claim)
        headers = [(n, v) for n, v in returned if n != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        if quota is not None:
            headers += quota.raw_headers()
        await send({"type": _RESPONSE_START, "status": response.status_code, "headers": headers})
        await send({"type": _RESPONSE_BODY, "body": body, "more_body": False})

    @staticmethod
    def _failure(service: str, exc: BaseException) -> Problem:
        cause = exc.__cause__ or exc
        if is_timeout(exc):
            UPSTREAM_FAILURES.labels(service, "timeout").inc()
            log.warning("service timed out", service=service, error=repr(cause))
            return GatewayTimeout(service)
        UPSTREAM_FAILURES.labels(service, "unreachable").inc()
        log.warning("service unreachable", service=service, error=repr(cause))
        return BadGateway(service)
