"""The one HTTP client the gateway uses to reach services, for the app's whole life.

httpx on top of an aiohttp connection pool (the ``httpx-aiohttp`` transport): httpx's
own pool was measured as the gateway's bottleneck (ARCHITECTURE.md §7). The aiohttp
session is built here rather than left to the transport's defaults because a shared
client must never keep cookies — one caller's Set-Cookie would ride along on the next
caller's request — and must send only the headers the caller sent.
"""

from __future__ import annotations

import http.cookiejar
from dataclasses import dataclass

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from gateway.settings import GatewaySettings


class _RefuseAllCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


@dataclass(frozen=True)
class Upstream:
    """The client, and its transport, which the forwarder drives directly.

    ``AsyncClient.send`` adds what a proxy must not do (follow redirects, keep cookies)
    or need not (auth flows, event hooks), and ``build_request`` re-parses the URL and
    merges defaults: together ~70 us a request, measured — a sizeable share of what a
    forwarded request may cost. The forwarder builds an ``httpx.Request`` itself and
    hands it to the client's transport, the same pool and the same timeouts.
    """

    client: httpx.AsyncClient
    transport: AiohttpTransport
    timeout: dict[str, float | None]

    async def aclose(self) -> None:
        await self.client.aclose()  # closes the transport and its aiohttp session


def create_upstream(settings: GatewaySettings) -> Upstream:
    """Call inside the running event loop (aiohttp binds its session to it)."""
    connector = aiohttp.TCPConnector(
        limit=settings.upstream_max_connections,
        limit_per_host=0,
        keepalive_timeout=settings.upstream_keepalive_seconds,
        ttl_dns_cache=60,
    )
    session = aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,  # bytes pass through as the service encoded them
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        trust_env=False,
        timeout=aiohttp.ClientTimeout(total=None),  # per-phase timeouts come with each request
    )
    transport = AiohttpTransport(client=session)
    client = httpx.AsyncClient(
        transport=transport,
        timeout=settings.upstream_timeout(),
        follow_redirects=False,  # a redirect is the caller's to follow
        trust_env=False,
        cookies=http.cookiejar.CookieJar(policy=_RefuseAllCookies()),
    )
    for name in list(client.headers.keys()):  # httpx's defaults (User-Agent, Accept, ...)
        del client.headers[name]
    return Upstream(client=client, transport=transport, timeout=settings.upstream_timeout().as_dict())


def is_timeout(exc: BaseException) -> bool:
    """Whether a failed upstream call timed out (rather than being refused or cut off).

    httpx-aiohttp files a refused connection under ``httpx.ConnectTimeout`` as well,
    so the underlying aiohttp error decides; aiohttp's timeouts are ``TimeoutError``s.
    """
    return isinstance(exc, TimeoutError) or isinstance(exc.__cause__, TimeoutError)


def never_sent(exc: BaseException) -> bool:
    """Whether a failed upstream call certainly never reached the service: the connection itself was refused
    (so a retry of the request cannot do anything twice). aiohttp's connector error is an OSError."""
    cause = exc.__cause__ or exc
    return isinstance(cause, ConnectionRefusedError) or (
        isinstance(cause, OSError) and isinstance(getattr(cause, "os_error", None), ConnectionRefusedError))
