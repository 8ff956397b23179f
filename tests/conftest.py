"""Shared fixtures: a real nats-server per test, real databases (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from kernel.identity import IdentitySigner, generate_keypair
from tests.support.nats import NatsServer

POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432
POSTGRES_ADMIN_DSN = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/postgres"


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection((POSTGRES_HOST, POSTGRES_PORT), timeout=0.5):
            return True
    except OSError:
        return False


POSTGRES_AVAILABLE = _postgres_reachable()


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_AVAILABLE:
        return f"databases: SQLite and PostgreSQL ({POSTGRES_HOST}:{POSTGRES_PORT})"
    return (f"databases: SQLite only — PostgreSQL does not answer at {POSTGRES_HOST}:{POSTGRES_PORT}, "
            "its runs are skipped")


@pytest.fixture(scope="session")
def keypair() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture(scope="session")
def signer(keypair: tuple[str, str]) -> IdentitySigner:
    return IdentitySigner(keypair[0])


@pytest.fixture
def public_key(keypair: tuple[str, str]) -> str:
    return keypair[1]


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


async def _create_pg_database(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_pg_database(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not POSTGRES_AVAILABLE:
        pytest.skip(f"PostgreSQL does not answer at {POSTGRES_HOST}:{POSTGRES_PORT}")
    return request.param


@pytest.fixture
async def make_database(backend: str, tmp_path: Path) -> AsyncIterator[Callable[[str], Awaitable[str]]]:
    """``await make_database("registry")`` gives that service an empty database of its own."""
    created: list[str] = []

    async def make(service: str) -> str:
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path / f'{service}.db'}"
        name = f"ntc_test_{service}_{uuid.uuid4().hex[:10]}"
        await _create_pg_database(name)
        created.append(name)
        return f"postgresql+asyncpg://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"

    yield make
    for name in created:
        await _drop_pg_database(name)
