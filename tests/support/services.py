"""Run services in-process against a real database and a real nats-server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

import httpx
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy import select

from kernel.app import PlatformState, ServiceDefinition, create_service_app
from kernel.events import CloudEvent
from kernel.identity import Identity, IdentitySigner
from kernel.outbox import OutboxMessage

T = TypeVar("T")


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient
    signer: IdentitySigner

    @property
    def state(self) -> PlatformState:
        return self.app.state.platform

    def headers(self, *, roles: set[str] | None = None, organisation_id: str | None = None,
                subject: str = "test-user") -> dict[str, str]:
        identity = Identity(subject=subject, kind="staff" if organisation_id is None else "organisation-key",
                            organisation_id=organisation_id, roles=frozenset(roles or ()))
        from kernel.identity import IDENTITY_HEADER

        return {IDENTITY_HEADER: self.signer.sign(identity)}


@asynccontextmanager
async def running(app: FastAPI, signer: IdentitySigner, name: str) -> AsyncIterator[RunningService]:
    # Shutdown is bounded inside the app (10 s a step); leave room for all its steps on a loaded machine.
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as client:
            yield RunningService(app=app, client=client, signer=signer)


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 20.0, interval: float = 0.05,
                     what: str = "condition") -> T:
    """Poll ``check`` until it returns a truthy value, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


TEST_SETTINGS: dict[str, Any] = {
    "environment": "test",
    "gc_freeze_after_start": False,  # many services start and stop in one test process
    "log_json": False,
    "log_level": "WARNING",
    "relay_poll_seconds": 0.1,
    "relay_publish_timeout_seconds": 2.0,
    "consumer_max_deliver": 3,
    "consumer_backoff_seconds": (0.3, 0.3),
}


# Made afresh for each test run, never a key kept in the repository: the notifications service
# encrypts webhook signing secrets at rest with it and refuses to start without one.
WEBHOOK_SECRET_KEY = Fernet.generate_key().decode()


def settings_for(settings_class: type[T], *, database_url: str, nats_url: str, public_key: str, **overrides: Any) -> T:
    keys = {"webhook_secret_keys": WEBHOOK_SECRET_KEY} if "webhook_secret_keys" in getattr(
        settings_class, "model_fields", {}) else {}
    return settings_class(database_url=database_url, nats_url=nats_url, identity_public_key=public_key,
                          **{**TEST_SETTINGS, **keys, **overrides})


class Clock:
    """The deadline sweeper's "now", moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def with_clock(definition: ServiceDefinition, clock: Callable[[], datetime]) -> FastAPI:
    """The service's app, its deadline sweeper reading ``clock`` instead of the wall clock."""
    assert definition.deadlines is not None, f"{definition.name} keeps no deadlines"
    return create_service_app(replace(definition, deadlines=replace(definition.deadlines, clock=clock)))


async def outbox_events(service: RunningService, event_type: str) -> list[CloudEvent]:
    """Every event of a type the service recorded in its outbox, oldest first."""
    async with service.state.sessionmaker() as session:
        rows = (await session.execute(select(OutboxMessage.envelope).where(OutboxMessage.type == event_type)
                                      .order_by(OutboxMessage.created_at))).all()
    return [CloudEvent.model_validate_json(r[0]) for r in rows]
