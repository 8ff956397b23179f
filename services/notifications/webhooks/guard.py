"""The SSRF guard: a webhook URL must lead to a public address, at registration and again at
every send (a name can be re-pointed after it was registered). Loopback, private, link-local
and cloud-metadata addresses are refused unless explicitly allow-listed (development, tests).

What remains: between our resolution and the HTTP client's own, a name could change (DNS
rebinding within the TTL). Pinning the connection to the checked address would close it.
"""

from __future__ import annotations

import asyncio
import socket

from services.notifications.webhooks.rules import (
    AllowList,
    IPAddress,
    addresses_problem,
    host_of,
    literal_address,
    url_problem,
)


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
        address = literal_address(str(info[4][0]).split("%", 1)[0])
        if address is not None and address not in found:
            found.append(address)
    return found


async def url_refusal(url: str, allow: AllowList) -> tuple[str, str] | None:
    """(rule, detail) when ``url`` may not be sent to now; None when it may."""
    if (problem := url_problem(url)) is not None:
        return problem
    host, port = host_of(url)
    if allow.allows(host):
        return None
    return addresses_problem(host, await resolve(host, port), allow)
