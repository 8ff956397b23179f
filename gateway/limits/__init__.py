"""Rate limits at the door, and the CORS policy.

Two budgets, counted with the ``limits`` package's sliding-window-counter strategy:

- per credential (``GATEWAY_RATE_LIMIT_PER_CREDENTIAL``, default ``600/minute``): keyed
  by the *authenticated* identity (kind and subject), never by the raw header, so
  every request made with one API key or one staff session shares one budget;
- per client address (``GATEWAY_RATE_LIMIT_PER_ADDRESS``, default ``300/minute``) for
  anonymous callers, and for every request whose credential was refused: a flood of
  random bogus keys is held to the address's budget and then answered 429, not 401.

A third budget guards the portal's password form: ``POST /sign-in`` per client address
(``GATEWAY_STAFF_SIGN_IN_RATE_PER_ADDRESS``, default ``10/minute``), on top of the
per-account lock-out, so one address cannot try passwords across many accounts.

A caller over its budget gets ``429`` problem+json with ``Retry-After`` (seconds) and
``RateLimit-Limit`` / ``RateLimit-Remaining`` / ``RateLimit-Reset`` (seconds until the
window frees up); a forwarded answer carries the three ``RateLimit-*`` headers too.
``/healthz``, ``/readyz`` and ``/metrics`` are never counted (they are not forwarded and
the limiter is not called for them).

The counters live in memory, per gateway replica: with N replicas behind a balancer a
caller can get up to N times the configured rate. A shared storage (``limits`` supports
Redis and Memcached through the same strategies, via its ``limits.aio`` API so the event
loop is not blocked) is the path once the gateway runs several replicas.

The client address is the ASGI ``client`` of the connection; an IPv6 address is counted by its /64
network (a subscriber gets a whole /64 and could otherwise take a fresh address per request). Behind a reverse proxy,
run uvicorn with ``--proxy-headers --forwarded-allow-ips=<the proxy>`` so that it is the
caller's address rather than the proxy's (otherwise every anonymous caller shares one budget).
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from pydantic import AfterValidator
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Scope

from kernel.identity import Identity
from kernel.problems import Problem

if TYPE_CHECKING:
    from fastapi import FastAPI

    from gateway.settings import GatewaySettings

# Headers a browser client may send / read across origins, when CORS is opened.
CORS_ALLOWED_HEADERS = ("Authorization", "X-API-Key", "Content-Type", "Accept", "Accept-Language", "X-Request-ID")
CORS_EXPOSED_HEADERS = ("X-Request-ID", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
                        "Location", "ETag")


def _check_rate(value: str) -> str:
    """A rate in the ``limits`` notation, e.g. ``600/minute`` or ``10 per second``."""
    try:
        parse(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a rate such as '600/minute' or '10/second'") from exc
    return value


RateText = Annotated[str, AfterValidator(_check_rate)]


@dataclass(frozen=True, slots=True)
class Quota:
    """Where a caller stands after a request was counted."""

    limit: int
    remaining: int
    reset_seconds: int

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"ratelimit-limit", str(self.limit).encode()),
                (b"ratelimit-remaining", str(self.remaining).encode()),
                (b"ratelimit-reset", str(self.reset_seconds).encode())]

    def headers(self) -> dict[str, str]:
        return {name.decode(): value.decode() for name, value in self.raw_headers()}


class RateLimited(Problem):
    def __init__(self, quota: Quota, who: str) -> None:
        retry_after = max(1, quota.reset_seconds)
        super().__init__(429, "rate-limited", "Too many requests",
                         f"The rate limit of {quota.limit} requests per window for this {who} is used up; "
                         f"retry in {retry_after} s.",
                         headers={"Retry-After": str(retry_after), **quota.headers()})


class RateLimiter:
    """Counts requests per credential and per address; raises `RateLimited` past the budget.

    Cheap enough to sit on every forwarded request (~15 us: one counter update and one read
    of the window, both in memory). Disabled, it answers ``None`` and counts nothing.
    """

    def __init__(self, *, per_credential: str = "600/minute", per_address: str = "300/minute",
                 sign_in_per_address: str = "10/minute", enabled: bool = True) -> None:
        self.enabled = enabled
        self._per_credential: RateLimitItem = parse(per_credential)
        self._per_address: RateLimitItem = parse(per_address)
        self._sign_in_per_address: RateLimitItem = parse(sign_in_per_address)
        self._storage = MemoryStorage() if enabled else None  # (its expiry timer thread only when needed)
        self._strategy = SlidingWindowCounterRateLimiter(self._storage) if self._storage is not None else None

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> RateLimiter:
        return cls(per_credential=settings.rate_limit_per_credential, per_address=settings.rate_limit_per_address,
                   sign_in_per_address=settings.staff_sign_in_rate_per_address, enabled=settings.rate_limit_enabled)

    def admit(self, identity: Identity, scope: Scope) -> Quota | None:
        """Count one request by this caller; the caller's quota, or `RateLimited` when it is used up."""
        if not self.enabled:
            return None
        if identity.is_anonymous:
            return self._count(self._per_address, "address", budget_key_of(scope), "client address")
        return self._count(self._per_credential, identity.kind, identity.subject, "credential")

    def refused(self, scope: Scope) -> None:
        """A credential was refused: count it against the address; `RateLimited` once that budget is gone."""
        if self.enabled:
            self._count(self._per_address, "address", budget_key_of(scope), "client address")

    def admit_sign_in(self, scope: Scope) -> None:
        """Count one attempt at the portal's sign-in form from this address; `RateLimited` past its budget."""
        if self.enabled:
            self._count(self._sign_in_per_address, "sign-in", budget_key_of(scope), "client address's sign-in attempts")

    def _count(self, item: RateLimitItem, kind: str, key: str, who: str) -> Quota:
        assert self._strategy is not None
        allowed = self._strategy.hit(item, kind, key)
        reset_time, remaining = self._strategy.get_window_stats(item, kind, key)
        quota = Quota(item.amount, remaining, max(0, math.ceil(reset_time - time.time())))
        if not allowed:
            raise RateLimited(quota, who)
        return quota

    def reset(self) -> None:
        if self._storage is not None:
            self._storage.reset()


def address_of(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


# One IPv6 subscriber is handed a whole /64 (RFC 6177): counted per address, it could change address per request.
IPV6_BUDGET_PREFIX = 64


def budget_key_of(scope: Scope) -> str:
    """What an address budget is counted against: the IPv4 address, or the IPv6 address's /64 network."""
    address = address_of(scope)
    if ":" not in address:
        return address
    try:
        parsed = ipaddress.IPv6Address(address.partition("%")[0])
    except ValueError:
        return address
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.IPv6Network((parsed, IPV6_BUDGET_PREFIX), strict=False))


def install_cors(app: FastAPI, settings: GatewaySettings) -> None:
    """CORS is closed unless origins are configured: no middleware, so no Access-Control-Allow-Origin at all.

    Browsers on a configured origin may call the API with a bearer token or API key; cookies
    are not allowed across origins (the portal is same-origin), so a foreign page can never
    ride on a staff session.
    """
    origins: list[Any] = list(settings.cors_allowed_origins)
    if not origins:
        return
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["*"],
                       allow_headers=list(CORS_ALLOWED_HEADERS), expose_headers=list(CORS_EXPOSED_HEADERS),
                       allow_credentials=False, max_age=600)
