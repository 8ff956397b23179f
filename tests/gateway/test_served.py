"""The gateway served by uvicorn on a real socket: streaming and raw request lines."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import GatewaySettings
from tests.gateway.support import RunningServer, TrickleGate, serve_in_thread


@pytest.fixture
def served_gateway(gateway_settings: Callable[..., GatewaySettings]) -> Iterator[RunningServer]:
    running = serve_in_thread(create_app(gateway_settings()))
    yield running
    running.stop()


async def test_response_is_streamed_not_buffered(served_gateway: RunningServer, trickle_gate: TrickleGate) -> None:
    # The service sends a first chunk and then waits for the test to release the second.
    # A gateway that buffered the whole response would deliver nothing until released.
    async with (httpx.AsyncClient(timeout=10) as client,
                client.stream("GET", f"{served_gateway.url}/api/v1/registry/trickle") as response):
        assert response.status_code == 200
        chunks = response.aiter_raw()
        received = b""
        while len(received) < len(b"first chunk;"):
            received += await asyncio.wait_for(anext(chunks), timeout=5)
        assert received == b"first chunk;"
        trickle_gate.release.set()
        async for chunk in chunks:
            received += chunk

    assert received == b"first chunk;second chunk"


async def _raw_request(url: str, request_line: str) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"{request_line}\r\nHost: gateway.test\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    await writer.wait_closed()
    return answer


@pytest.mark.parametrize("path", ["/api/v1/registry/a/../admin", "/api/v1/registry/a/%2e%2e/admin"])
async def test_dot_segments_are_not_forwarded(served_gateway: RunningServer, path: str) -> None:
    answer = await _raw_request(served_gateway.url, f"GET {path} HTTP/1.1")

    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"application/problem+json" in rest and b"dot-segment" in rest
