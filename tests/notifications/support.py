"""What the notifications tests share: a real webhook receiver on loopback that verifies every
signature, a clock the test moves, events published on the bus as their producers publish them,
and the service running in-process against a real database and nats-server."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
from aiohttp import web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from kernel.app import create_service_app
from kernel.events import CloudEvent
from kernel.identity import IdentitySigner
from services.notifications.app import definition
from services.notifications.settings import NotificationsSettings
from tests.support.nats import free_port
from tests.support.services import RunningService, eventually, running, settings_for


class OffsetClock:
    """The wall clock plus an offset the test moves: "an hour later" without waiting an hour."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    error: str | None
    at: float


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 standing in for an organisation's system."""

    secrets: list[str] = field(default_factory=list)
    status: int = 204
    retry_after: str | None = None
    received: list[Received] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified, error = self.verify(body, headers)
        loop = asyncio.get_running_loop()
        self.received.append(Received(headers=headers, body=body, verified=verified, error=error, at=loop.time()))
        extra = {"Retry-After": self.retry_after} if self.retry_after else {}
        return web.Response(status=self.status, headers=extra)

    def verify(self, body: bytes, headers: dict[str, str], secrets: list[str] | None = None) -> tuple[bool, str | None]:
        for secret in secrets or self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True, None
            except WebhookVerificationError as exc:
                error = str(exc)
        return False, error if (secrets or self.secrets) else "no secret"

    async def _gone(self, request: web.Request) -> web.Response:
        self.received.append(Received(headers=dict(request.headers), body=await request.read(), verified=False,
                                      error="gone", at=asyncio.get_running_loop().time()))
        return web.Response(status=410)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        app.router.add_post("/gone", self._gone)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def ids(self) -> Counter[str]:
        return Counter(r.headers["webhook-id"] for r in self.received)


def cloud_event(event_type: str, audience: list[uuid.UUID], *, subject: str | None = None,
                **data: Any) -> CloudEvent:
    producer = event_type.split(".")[2]
    return CloudEvent(id=str(uuid.uuid4()), source=f"/{producer}", type=event_type,
                      subject=subject or str(uuid.uuid4()), time=datetime.now(UTC),
                      data={"audience": [str(a) for a in audience], **data})


class Publisher:
    """Publishes events on the bus the way a producer's relay does (Nats-Msg-Id = event id)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.nc: Any = None

    async def __aenter__(self) -> Publisher:
        self.nc = await nats.connect(self.url)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.nc.close()

    async def publish(self, event: CloudEvent) -> None:
        await self.nc.jetstream().publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})


def notifications_settings(database_url: str, nats_url: str, public_key: str,
                           **overrides: Any) -> NotificationsSettings:
    base: dict[str, Any] = {"webhook_allowed_private": ("127.0.0.1",), "dispatch_poll_seconds": 0.2,
                            "webhook_retry_jitter": 0.0, "webhook_timeout_seconds": 2.0,
                            "public_base_url": "https://ntc.example.kz", "smtp_port": 1}
    return settings_for(NotificationsSettings, database_url=database_url, nats_url=nats_url, public_key=public_key,
                        **{**base, **overrides})


@asynccontextmanager
async def notifications_service(settings: NotificationsSettings, signer: IdentitySigner, *,
                                clock: OffsetClock | None = None, name: str = "notifications",
                                ) -> AsyncIterator[RunningService]:
    app = create_service_app(definition(settings, clock=clock or OffsetClock()))
    async with running(app, signer, name) as service:
        for loop in service.state.consumer_loops:
            await eventually(lambda lp=loop: _bound(lp), what=f"consumer {loop.subscription.durable} bound")
        yield service


async def _bound(loop: Any) -> bool:
    return loop.bound.is_set()


def organisation_headers(service: RunningService, organisation_id: uuid.UUID,
                         subject: str = "test-user") -> dict[str, str]:
    return service.headers(organisation_id=str(organisation_id), subject=subject)


async def register_endpoint(service: RunningService, organisation_id: uuid.UUID, url: str,
                            pattern: str = "kz.ntc.>") -> dict[str, Any]:
    headers = organisation_headers(service, organisation_id)
    response = await service.client.post("/webhook-endpoints", json={"url": url, "description": "ERP"},
                                         headers=headers)
    assert response.status_code == 201, response.text
    endpoint = response.json()
    response = await service.client.post("/subscriptions", headers=headers, json={
        "pattern": pattern, "channel": "webhook", "endpoint_id": endpoint["id"]})
    assert response.status_code == 201, response.text
    return endpoint


def payload(received: Received) -> dict[str, Any]:
    return json.loads(received.body)
