"""What one webhook attempt may cost the dispatcher: a receiver that never answers fails the
attempt after the per-attempt timeout (and the delivery waits for its retry); a receiver that
answers with a huge body gets its delivery marked delivered without the body being read whole,
and the next delivery goes out as usual."""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import web
from sqlalchemy import select

from services.notifications.webhooks.dispatcher import RESPONSE_BYTES_READ
from services.notifications.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.notifications.support import (
    Publisher,
    cloud_event,
    notifications_service,
    notifications_settings,
    register_endpoint,
)
from tests.support.nats import free_port
from tests.support.services import RunningService, eventually

HUGE_ANSWER = 64 * 1024 * 1024  # far more than loopback socket buffers hold


class OddReceiver:
    """A receiver on loopback that either holds every request or answers 200 with a huge body."""

    def __init__(self, *, hold: bool) -> None:
        self.hold = hold
        self.requests = 0
        self.answered_bytes = 0
        self.port = free_port()
        self.released = asyncio.Event()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.requests += 1
        if self.hold:
            await self.released.wait()
            return web.Response(status=204)
        response = web.StreamResponse(status=200, headers={"Content-Length": str(HUGE_ANSWER)})
        await response.prepare(request)
        chunk = b"x" * 65536
        try:
            for _ in range(HUGE_ANSWER // len(chunk)):
                await response.write(chunk)
                self.answered_bytes += len(chunk)
        except (ConnectionError, RuntimeError):
            pass  # the dispatcher hung up once it had read what it reads
        return response

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        self.released.set()
        if self._runner is not None:
            await self._runner.cleanup()


async def _deliveries(service: RunningService) -> list[WebhookDelivery]:
    async with service.state.sessionmaker() as session:
        return list((await session.execute(select(WebhookDelivery))).scalars())


async def _attempts(service: RunningService) -> list[WebhookAttempt]:
    async with service.state.sessionmaker() as session:
        return list((await session.execute(select(WebhookAttempt))).scalars())


async def test_a_receiver_that_never_answers_fails_the_attempt_after_the_timeout(
        make_database, nats_server, signer, public_key):
    receiver = OddReceiver(hold=True)
    await receiver.start()
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key,
                                      webhook_timeout_seconds=1.0)
    union = uuid.uuid4()
    try:
        async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
            await register_endpoint(service, union, receiver.url)
            await bus.publish(cloud_event("kz.ntc.bargaining.negotiation.proposed.v1", [union]))

            async def failed_once() -> bool:
                rows = await _deliveries(service)
                return len(rows) == 1 and rows[0].attempts == 1 and rows[0].lease_owner is None

            await eventually(failed_once, what="the held attempt recorded as failed")
            [delivery] = await _deliveries(service)
            assert delivery.status == "pending" and delivery.last_status_code is None
            assert "TimeoutError" in (delivery.last_error or "")
            assert delivery.next_attempt_at > delivery.created_at  # waits for its retry
            [attempt] = await _attempts(service)
            assert attempt.status_code is None and 900 <= attempt.latency_ms < 5000
            assert receiver.requests == 1
    finally:
        await receiver.stop()


async def test_a_huge_answer_is_not_read_whole_and_the_next_delivery_still_goes(
        make_database, nats_server, signer, public_key):
    receiver = OddReceiver(hold=False)
    await receiver.start()
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    union = uuid.uuid4()
    try:
        async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
            await register_endpoint(service, union, receiver.url)
            for n in range(2):
                await bus.publish(cloud_event("kz.ntc.bargaining.negotiation.proposed.v1", [union]))

                async def delivered(expected: int = n + 1) -> bool:
                    rows = await _deliveries(service)
                    return len(rows) == expected and all(d.status == "delivered" for d in rows)

                await eventually(delivered, what=f"delivery {n + 1} marked delivered")
            assert receiver.requests == 2
            assert {d.last_status_code for d in await _deliveries(service)} == {200}
            # The dispatcher stopped reading long before the end of either answer.
            assert receiver.answered_bytes < 2 * HUGE_ANSWER
            assert RESPONSE_BYTES_READ < HUGE_ANSWER
    finally:
        await receiver.stop()
