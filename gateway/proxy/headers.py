"""Which headers cross the gateway, each way.

Dropped on the way in:
- hop-by-hop headers (RFC 9110 §7.6.1) and every header the Connection header names;
- ``Host`` (the upstream's comes from its URL) and the caller's own ``X-Forwarded-*``,
  ``Forwarded`` and ``X-Real-IP`` (the gateway writes these itself);
- anything that looks like an identity or a credential: a service must only ever
  learn who is calling from the token the gateway signs.

Dropped on the way out: hop-by-hop headers, the ones Connection names, and the
upstream's ``Date``, ``Server`` and ``X-Request-ID`` (the gateway's server and its
request middleware write their own).

Header names are classified once and remembered: the same few dozen names recur on
every request, and this runs on every request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.authentication import Credentials

RawHeaders = list[tuple[bytes, bytes]]

HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"te", b"trailer", b"transfer-encoding", b"upgrade"}
)  # and every "proxy-*" header (Proxy-Authorization, Proxy-Connection, ...)
IDENTITY_LIKE_PREFIXES = (
    b"x-ntc-", b"x-identity", b"x-user", b"x-auth", b"x-organisation", b"x-organization", b"x-roles",
)
IDENTITY_LIKE_NAMES = frozenset(
    {b"x-remote-user", b"remote-user", b"x-forwarded-user", b"authorization", b"x-api-key", b"cookie"}
)
WRITTEN_BY_GATEWAY = frozenset({b"host", b"x-request-id", b"forwarded", b"x-real-ip"})  # and "x-forwarded-*"
NOT_RETURNED = frozenset({b"date", b"server", b"x-request-id"})

# Request header classes
(_FORWARD, _DROP, _AUTHORIZATION, _API_KEY, _COOKIE, _CONNECTION, _CONTENT_LENGTH, _TRANSFER_ENCODING, _HOST,
 _CONTENT_TYPE, _IDEMPOTENCY_KEY) = range(11)
_MAX_REMEMBERED = 2_000
_request_classes: dict[bytes, int] = {}
_response_drops: dict[bytes, bool] = {}


def _is_hop_by_hop(name: bytes) -> bool:
    return name in HOP_BY_HOP or name.startswith(b"proxy-")


def is_identity_like(name: bytes) -> bool:
    name = name.lower()
    return name in IDENTITY_LIKE_NAMES or name.startswith(IDENTITY_LIKE_PREFIXES)


def _classify_request(name: bytes) -> int:
    lower = name.lower()
    special = {b"authorization": _AUTHORIZATION, b"x-api-key": _API_KEY, b"cookie": _COOKIE,
               b"connection": _CONNECTION, b"content-length": _CONTENT_LENGTH,
               b"transfer-encoding": _TRANSFER_ENCODING, b"host": _HOST, b"content-type": _CONTENT_TYPE,
               b"idempotency-key": _IDEMPOTENCY_KEY}.get(lower)
    if special is not None:
        return special
    if (_is_hop_by_hop(lower) or is_identity_like(lower) or lower in WRITTEN_BY_GATEWAY
            or lower.startswith(b"x-forwarded-")):
        return _DROP
    return _FORWARD


def connection_tokens(value: bytes) -> set[bytes]:
    return {token.strip().lower() for token in value.split(b",") if token.strip()}


@dataclass(slots=True)
class InboundRequest:
    """A request's headers sorted: what goes on, the credentials, and what frames the body."""

    forward: RawHeaders = field(default_factory=list)
    credentials: Credentials = field(default_factory=Credentials)
    host: bytes | None = None
    content_length: int | None = None
    content_type: bytes | None = None  # as sent; forwarded unchanged
    chunked: bool = False
    invalid_content_length: bool = False
    idempotency_key: str | None = None  # the gateway answers retries itself (gateway/idempotency)

    @property
    def media_type(self) -> str | None:
        """The Content-Type without its parameters, lower-cased (``application/json``), or None."""
        if self.content_type is None:
            return None
        return self.content_type.partition(b";")[0].strip().lower().decode("latin-1") or None

    @property
    def has_body(self) -> bool:
        # RFC 9112 §6.3: a request with neither Content-Length nor Transfer-Encoding has no body.
        return self.chunked or bool(self.content_length)


def sort_request_headers(raw: RawHeaders) -> InboundRequest:
    inbound = InboundRequest()
    forward = inbound.forward
    credentials = inbound.credentials
    named_by_connection: set[bytes] | None = None
    classes = _request_classes
    for name, value in raw:
        kind = classes.get(name)
        if kind is None:
            kind = _classify_request(name)
            if len(classes) < _MAX_REMEMBERED:
                classes[name] = kind
        if kind == _FORWARD:
            forward.append((name, value))
        elif kind == _DROP:
            continue
        elif kind == _CONTENT_LENGTH:
            forward.append((name, value))
            if value.isdigit() and (inbound.content_length is None or inbound.content_length == int(value)):
                inbound.content_length = int(value)
            else:
                inbound.invalid_content_length = True
        elif kind == _CONTENT_TYPE:
            forward.append((name, value))
            inbound.content_type = value
        elif kind == _AUTHORIZATION:
            credentials.authorization = value.decode("latin-1")
        elif kind == _API_KEY:
            credentials.api_key = value.decode("latin-1").strip()
        elif kind == _COOKIE:
            credentials.cookie = value.decode("latin-1") if credentials.cookie is None \
                else f"{credentials.cookie}; {value.decode('latin-1')}"
        elif kind == _HOST:
            inbound.host = value
        elif kind == _IDEMPOTENCY_KEY:
            forward.append((name, value))  # the service may use it as well; the gateway keeps the answers
            inbound.idempotency_key = value.decode("latin-1").strip()
        elif kind == _TRANSFER_ENCODING:
            inbound.chunked = True
        elif kind == _CONNECTION:
            # keep-alive and close are options, not names; Content-Length frames the body
            # the server has already read, so a Connection header cannot remove it.
            tokens = connection_tokens(value) - {b"keep-alive", b"close", b"content-length"}
            if tokens:
                named_by_connection = tokens if named_by_connection is None else named_by_connection | tokens
    if named_by_connection:
        inbound.forward = [(n, v) for n, v in forward if n.lower() not in named_by_connection]
    if inbound.chunked:
        # Transfer-Encoding wins over Content-Length (RFC 9112 §6.3); the body is re-framed upstream.
        inbound.content_length = None
        inbound.forward = [(n, v) for n, v in inbound.forward if n.lower() != b"content-length"]
    return inbound


def returned_response_headers(raw: RawHeaders | tuple[tuple[bytes, bytes], ...]) -> tuple[RawHeaders, int | None]:
    """The upstream response's headers the caller gets (names lower-cased, as ASGI wants),
    and the body's length when the service declared one."""
    returned: RawHeaders = []
    named_by_connection: set[bytes] | None = None
    content_length: int | None = None
    drops = _response_drops
    for name, value in raw:
        lower = name.lower()
        drop = drops.get(lower)
        if drop is None:
            drop = _is_hop_by_hop(lower) or lower in NOT_RETURNED
            if len(drops) < _MAX_REMEMBERED:
                drops[lower] = drop
        if drop:
            if lower == b"connection":
                tokens = connection_tokens(value) - {b"keep-alive", b"close"}
                if tokens:
                    named_by_connection = tokens if named_by_connection is None else named_by_connection | tokens
            continue
        if lower == b"content-length" and value.isdigit():
            content_length = int(value)
        returned.append((lower, value))
    if named_by_connection:
        returned = [(n, v) for n, v in returned if n not in named_by_connection]
        if b"content-length" in named_by_connection:
            content_length = None
    return returned, content_length
