"""A real upstream (an echo service under uvicorn, on a loopback port) and gateways in front of it.

The gateway runs in-process (ASGI transport + lifespan) against its own SQLite file;
the upstream is a real HTTP server, so forwarding crosses a real socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.settings import GatewaySettings
from kernel.identity import generate_keypair
from tests.gateway.support import (
    SERVICES,
    Gateway,
    GatewayFactory,
    PlatformFactory,
    TrickleGate,
    echo_app,
    free_port,
    serve_in_thread,
)
from tests.support.processes import ServiceProcess


@pytest.fixture(scope="session")
def trickle_gate() -> TrickleGate:
    return TrickleGate()


@pytest.fixture(scope="session")
def echo_url(trickle_gate: TrickleGate) -> Iterator[str]:
    running = serve_in_thread(echo_app(trickle_gate))
    yield running.url
    running.stop()


@pytest.fixture(scope="session")
def keypair() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture
def down_url() -> str:
    """A loopback address nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def gateway_settings(tmp_path: Path, keypair: tuple[str, str], echo_url: str) -> Callable[..., GatewaySettings]:
    def make(**overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "environment": "test",
            "gc_freeze_after_start": False,  # many gateways start and stop in one test process
            "identity_private_key": keypair[0],
            "database_url": f"sqlite+aiosqlite:///{tmp_path}/gateway.db",
            "service_urls": {name: echo_url for name in SERVICES},
            "log_json": False,
            "log_level": "WARNING",
            **overrides,
        }
        return GatewaySettings(**values)

    return make


@pytest.fixture
async def make_gateway(gateway_settings: Callable[..., GatewaySettings],
                       keypair: tuple[str, str]) -> AsyncIterator[GatewayFactory]:
    opened: list[tuple[LifespanManager, httpx.AsyncClient]] = []

    async def make(**overrides: Any) -> Gateway:
        settings = gateway_settings(**overrides)
        app = create_app(settings)
        manager = LifespanManager(app, startup_timeout=30, shutdown_timeout=30)
        await manager.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app, client=("203.0.113.7", 50000)),
                                   base_url="http://gateway.test", timeout=30)
        opened.append((manager, client))
        return Gateway(client=client, state=app.state.gateway, settings=settings, public_pem=keypair[1],
                       asgi_app=manager.app)

    yield make
    for manager, client in reversed(opened):
        await client.aclose()
        await manager.__aexit__(None, None, None)


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Gateway:
    return await make_gateway()


@pytest.fixture
async def start_platform(make_database, nats_server, public_key: str, make_gateway: GatewayFactory,
                         tmp_path: Path) -> AsyncIterator[PlatformFactory]:
    """Services as real processes (uvicorn, each its own database, one real nats-server) behind a gateway."""
    processes: list[ServiceProcess] = []

    async def start(*names: str, env: dict[str, str] | None = None) -> Gateway:
        for name in names:
            prefix = name.upper()
            process = ServiceProcess(name, {
                f"{prefix}_DATABASE_URL": await make_database(name),
                f"{prefix}_NATS_URL": nats_server.url,
                f"{prefix}_IDENTITY_PUBLIC_KEY": public_key,
                f"{prefix}_ENVIRONMENT": "test",
                f"{prefix}_RELAY_POLL_SECONDS": "0.1",
                f"{prefix}_LOG_LEVEL": "WARNING",
                **(env or {}),
            }, tmp_path)
            processes.append(process)
            await asyncio.to_thread(process.start)
        return await make_gateway(service_urls={p.name: p.url for p in processes}, rate_limit_enabled=False)

    yield start
    for process in reversed(processes):
        await asyncio.to_thread(process.stop)
