"""The SSRF guard: a webhook URL must lead to a public address, at registration and again at
every send (a name can be re-pointed after it was registered). Loopback, private, link-local
and cloud-metadata addresses are refused unless explicitly allow-listed (development, tests).

At registration the name is resolved here and the answer checked (a 422 names the rule). At
send time there is no lookup of our own: the HTTP client's resolver is
``GuardedResolver``, which checks its answer before handing it on, so the connection is only
ever made to an address that passed the rules, and the client's DNS cache holds only checked
answers. A name re-pointed between a check and the connection (DNS rebinding) gets nowhere:
the check and the connection use one and the same lookup. The client never asks a resolver
about a literal address, so ``send_refusal`` checks those before the send, reading the host as
the client reads it.

What remains: a host allow-listed by name is not checked at all (development and tests only);
and a kept-alive connection is reused without a new lookup, which is safe, since its address
was checked when it was opened.
"""

from __future__ import annotations

import asyncio
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from services.notifications.webhooks.rules import (
    AllowList,
    IPAddress,
    addresses_problem,
    host_of,
    literal_address,
    url_problem,
)


class AddressRefused(OSError):
    """A name resolved to an address a webhook may not be sent to. An OSError, because the HTTP
    client hands its resolver's OSErrors back as the connection's error (the connector DNS error)."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


def _address_of(text: str) -> IPAddress | None:
    # An IPv6 scope ("fe80::1%eth0") says which interface, not which address.
    return literal_address(text.split("%", 1)[0])


async def resolve(host: str, port: int) -> list[IPAddress]:
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=5)
    except (OSError, TimeoutError):
        return []
    found: list[IPAddress] = []
    for info in infos:
        address = _address_of(str(info[4][0]))
        if address is not None and address not in found:
            found.append(address)
    return found


async def url_refusal(url: str, allow: AllowList) -> tuple[str, str] | None:
    """(rule, detail) when ``url`` may not be sent to now; None when it may. Resolves the host
    (registration's check; a send is checked by ``send_refusal`` and ``GuardedResolver``)."""
    if (problem := url_problem(url)) is not None:
        return problem
    host, port = host_of(url)
    if allow.allows(host):
        return None
    return addresses_problem(host, await resolve(host, port), allow)


def send_refusal(url: str, allow: AllowList) -> tuple[str, str] | None:
    """(rule, detail) found before a send without any DNS: the URL's own problems and a literal
    address, which the HTTP client connects to without asking its resolver. A named host is
    checked by ``GuardedResolver`` when the connection is made."""
    if (problem := url_problem(url)) is not None:
        return problem
    try:
        # The host as the HTTP client reads it: yarl folds some spellings (full-width digits)
        # into a plain address that the standard library's parser leaves as a name.
        host = URL(url).raw_host
    except ValueError:
        return "url", "not a valid URL"
    if not host:
        return "host", "a webhook URL names a host"
    if allow.allows(host):
        return None
    address = _address_of(host)
    if address is not None:
        return addresses_problem(host, [address], allow)
    if ":" in host or host.replace(".", "").isdigit():
        # The client takes such a host for an address and would not ask the resolver: refuse
        # what cannot be read as one rather than let it through unchecked.
        return "address", f"{host} is not an address the guard can check"
    return None


class GuardedResolver(AbstractResolver):
    """The HTTP client's resolver for webhook sends: resolves with ``resolver`` (the system's
    getaddrinfo by default; tests inject their own) and hands the answer on only if every address
    passes the rules registration applies; otherwise raises ``AddressRefused``. The connection
    is made to one of the addresses returned here, so the address checked is the address used."""

    def __init__(self, allow: AllowList, resolver: AbstractResolver | None = None) -> None:
        self.allow = allow
        # Made in the running loop (the threaded resolver binds to it); closing it is a no-op.
        self.resolver = resolver if resolver is not None else ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answer = await self.resolver.resolve(host, port, family)
        if self.allow.allows(host):
            return answer
        addresses: list[IPAddress] = []
        for result in answer:
            address = _address_of(result["host"])
            if address is None:
                raise AddressRefused("address", f"{host} resolves to {result['host']!r}, not an address")
            addresses.append(address)
        refusal = addresses_problem(host, addresses, self.allow)
        if refusal is not None:
            raise AddressRefused(*refusal)
        return answer

    async def close(self) -> None:
        await self.resolver.close()


def refusal_of(error: BaseException) -> AddressRefused | None:
    """The guard's refusal behind an HTTP client error (the client wraps its resolver's error)."""
    seen: BaseException | None = error
    for _ in range(4):  # the client wraps once; a few levels is plenty, and no cycle can trap us
        if seen is None or isinstance(seen, AddressRefused):
            return seen
        inner = getattr(seen, "os_error", None)
        seen = inner if isinstance(inner, BaseException) else seen.__cause__
    return None
