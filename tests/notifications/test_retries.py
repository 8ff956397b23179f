"""Retries on a clock the test moves: a receiver down for an hour gets every event once after it
recovers; Retry-After is honoured; 410 disables the endpoint; an endpoint failing for days is
disabled and its owner e-mailed; a person can redeliver."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.notifications.email.models import MailMessage
from services.notifications.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.notifications.support import (
    OffsetClock,
    Publisher,
    Receiver,
    cloud_event,
    notifications_service,
    notifications_settings,
    organisation_headers,
    register_endpoint,
)
from tests.support.services import RunningService, eventually

EVENTS = 20


async def _deliveries(service: RunningService) -> list[WebhookDelivery]:
    async with service.state.sessionmaker() as session:
        return list((await session.execute(select(WebhookDelivery))).scalars())


async def _all_attempted(service: RunningService, attempts: int, n: int = EVENTS):
    rows = await _deliveries(service)
    return len(rows) == n and all(d.attempts >= attempts and d.lease_owner is None for d in rows)


@contextlib.asynccontextmanager
async def _one_endpoint(make_database, nats_server, signer, public_key, receiver: Receiver, clock: OffsetClock,
                        **overrides: Any) -> AsyncIterator[tuple[RunningService, Publisher, dict, uuid.UUID]]:
    """A running service, a bus to publish on and one organisation's endpoint at ``receiver`` (its secret
    given to the receiver); the receiver is stopped afterwards."""
    await receiver.start()
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key,
                                      **overrides)
    union = uuid.uuid4()
    try:
        async with notifications_service(settings, signer, clock=clock) as service, \
                Publisher(nats_server.url) as bus:
            endpoint = await register_endpoint(service, union, receiver.url)
            receiver.secrets = [endpoint["secret"]]
            yield service, bus, endpoint, union
    finally:
        await receiver.stop()


async def test_a_receiver_down_for_an_hour_gets_every_event_exactly_once_after_recovery(
        make_database, nats_server, signer, public_key):
    receiver, clock = Receiver(), OffsetClock()
    async with _one_endpoint(make_database, nats_server, signer, public_key, receiver,
                             clock) as (service, bus, endpoint, union):
        await receiver.stop()  # down: connections refused
        events = [cloud_event("kz.ntc.bargaining.negotiation.proposed.v1", [union]) for _ in range(EVENTS)]
        for event in events:
            await bus.publish(event)
        await eventually(lambda: _all_attempted(service, 1), what="first attempts failed")
        # The retry schedule within the hour: +5 s, +5 min, +30 min (jitter off in tests).
        for minutes, attempts in ((0.1, 2), (5.1, 3), (30.1, 4)):
            clock.advance(minutes=minutes)
            await eventually(lambda a=attempts: _all_attempted(service, a), what=f"attempt {attempts}")
        clock.advance(minutes=24)  # an hour since the outage began; the next try is 2 h after the last
        assert receiver.received == []
        rows = await _deliveries(service)
        assert {d.status for d in rows} == {"pending"} and {d.attempts for d in rows} == {4}
        refused = "ClientConnectorError: Cannot connect to host 127.0.0.1"
        assert all(d.last_status_code is None and refused in (d.last_error or "") for d in rows)

        await receiver.start()  # recovered
        clock.advance(hours=2)
        await eventually(lambda: _received(receiver, EVENTS), what="every event after recovery")
        await eventually(lambda: _all_delivered(service), what="deliveries marked delivered")
        clock.advance(hours=48)  # nothing more is owed, however long we wait
        await _settle()
        assert receiver.ids() == {e.id: 1 for e in events}
        assert all(r.verified for r in receiver.received)
        log = await service.client.get(f"/webhook-endpoints/{endpoint['id']}/deliveries",
                                       headers=organisation_headers(service, union))
        for delivery in log.json()["items"]:
            assert [a["status_code"] for a in delivery["log"]] == [None, None, None, None, 204]
        # The endpoint failed for an hour, not for days: still enabled, and healthy again.
        view = (await service.client.get(f"/webhook-endpoints/{endpoint['id']}",
                                         headers=organisation_headers(service, union))).json()
        assert view["enabled"] is True and view["failing_since"] is None

        # A person asks for one again: it is sent again, with the same webhook-id.
        first = log.json()["items"][0]
        again = await service.client.post(
            f"/webhook-endpoints/{endpoint['id']}/deliveries/{first['id']}/redeliver",
            headers=organisation_headers(service, union))
        assert again.status_code == 200 and again.json()["status"] == "pending"
        await eventually(lambda: _received(receiver, EVENTS + 1), what="the redelivery")
        assert receiver.ids()[first["event_id"]] == 2


async def test_retry_after_is_honoured_and_410_disables_the_endpoint(make_database, nats_server, signer,
                                                                     public_key):
    receiver = Receiver(status=503, retry_after="600")
    await receiver.start()
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    union = uuid.uuid4()
    try:
        async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
            busy = await register_endpoint(service, union, receiver.url)
            await bus.publish(cloud_event("kz.ntc.registry.organisation.registered.v1", [union]))
            await eventually(lambda: _all_attempted(service, 1, 1), what="a refused attempt")
            [delivery] = await _deliveries(service)
            wait = (delivery.next_attempt_at - await _attempted_at(service, delivery)).total_seconds()
            assert 590 <= wait <= 610, wait  # asked for 10 minutes; the schedule alone says 5 s
            assert delivery.last_status_code == 503

            gone = await register_endpoint(service, union, receiver.url.replace("/hooks", "/gone"))
            await service.client.patch(f"/webhook-endpoints/{busy['id']}", json={"enabled": False},
                                       headers=organisation_headers(service, union))
            await bus.publish(cloud_event("kz.ntc.registry.organisation.registered.v1", [union]))
            await eventually(lambda: _endpoint(service, union, gone["id"], enabled=False), what="410 disables")
            view = await _endpoint(service, union, gone["id"], enabled=False)
            assert "410" in view["disabled_reason"]
            log = await service.client.get(f"/webhook-endpoints/{gone['id']}/deliveries",
                                           headers=organisation_headers(service, union))
            assert [(d["status"], d["attempts"]) for d in log.json()["items"]] == [("failed", 1)]
            # No more deliveries are made for a disabled endpoint.
            await bus.publish(cloud_event("kz.ntc.registry.organisation.registered.v1", [union]))
            await _settle()
            log = await service.client.get(f"/webhook-endpoints/{gone['id']}/deliveries",
                                           headers=organisation_headers(service, union))
            assert log.json()["total"] == 1
    finally:
        await receiver.stop()


async def test_an_endpoint_failing_for_days_is_disabled_and_its_owner_emailed(make_database, nats_server, signer,
                                                                               public_key):
    receiver = Receiver(status=500)
    await receiver.start()
    clock = OffsetClock()
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    union = uuid.uuid4()
    try:
        async with notifications_service(settings, signer, clock=clock) as service, \
                Publisher(nats_server.url) as bus:
            headers = organisation_headers(service, union)
            contact = await service.client.post("/contacts", headers=headers, json={
                "email": "secretary@union.kz", "language": "ru", "name": "Secretary"})
            assert contact.status_code == 201, contact.text
            endpoint = await register_endpoint(service, union, receiver.url)
            receiver.secrets = [endpoint["secret"]]
            await bus.publish(cloud_event("kz.ntc.registry.organisation.registered.v1", [union]))
            attempts = 1
            await eventually(lambda: _all_attempted(service, 1, 1), what="first attempt")
            while (await _endpoint(service, union, endpoint["id"]))["enabled"]:
                assert attempts < 12, "never disabled"
                [delivery] = await _deliveries(service)
                clock.offset += delivery.next_attempt_at - clock() + timedelta(seconds=1)  # jump to the next try
                attempts += 1
                await eventually(lambda a=attempts: _all_attempted(service, a, 1), what=f"attempt {attempts}")
            view = await _endpoint(service, union, endpoint["id"])
            assert view["enabled"] is False and "failing" in view["disabled_reason"]
            # Disabled after two days of failures, not before; the delivery waits for it, not lost.
            failed_for = datetime.fromisoformat(view["disabled_at"]) - datetime.fromisoformat(view["failing_since"])
            assert failed_for.total_seconds() >= settings.webhook_disable_after_hours * 3600
            assert [d.status for d in await _deliveries(service)] == ["pending"]
            async with service.state.sessionmaker() as session:
                mails = list((await session.execute(select(MailMessage))).scalars())
            notices = [m for m in mails if m.kind == "endpoint_disabled"]
            assert len(notices) == 1 and notices[0].to_address == "secretary@union.kz"
            assert notices[0].subject.startswith("НТК: webhook отключён") and receiver.url in notices[0].body

            # Re-enabled: what waited goes out again at once.
            receiver.status = 204
            enabled = await service.client.patch(f"/webhook-endpoints/{endpoint['id']}", json={"enabled": True},
                                                 headers=headers)
            assert enabled.status_code == 200 and enabled.json()["enabled"] is True
            await eventually(lambda: _all_delivered(service), what="delivered after re-enabling")
            assert len(receiver.received) == attempts + 1 and receiver.received[-1].verified
    finally:
        await receiver.stop()


async def _attempted_at(service: RunningService, delivery: WebhookDelivery) -> datetime:
    async with service.state.sessionmaker() as session:
        return (await session.execute(select(WebhookAttempt.attempted_at).where(
            WebhookAttempt.delivery_id == delivery.id).order_by(WebhookAttempt.number.desc()))).scalars().first()


async def _endpoint(service: RunningService, organisation: uuid.UUID, endpoint_id: str, enabled: bool | None = None):
    view = (await service.client.get(f"/webhook-endpoints/{endpoint_id}",
                                     headers=organisation_headers(service, organisation))).json()
    if enabled is not None and view["enabled"] is not enabled:
        return None
    return view


async def _received(receiver: Receiver, n: int):
    return len(receiver.received) >= n


async def _all_delivered(service: RunningService):
    return all(d.status == "delivered" for d in await _deliveries(service))


async def _settle() -> None:
    await asyncio.sleep(1.0)


async def test_a_retry_that_comes_due_goes_out_while_fresh_events_keep_arriving(
        make_database, nats_server, signer, public_key):
    """Fresh deliveries reach the dispatcher without a look at the table; the table is still looked at
    every poll, so a retry that has come due goes out even when a new event arrives every few
    milliseconds and the dispatcher never waits out a whole poll."""
    receiver, clock = Receiver(status=503), OffsetClock()
    async with _one_endpoint(make_database, nats_server, signer, public_key, receiver, clock,
                             dispatch_poll_seconds=0.5) as (service, bus, _, union):
        first = cloud_event("kz.ntc.bargaining.negotiation.proposed.v1", [union])
        await bus.publish(first)
        await eventually(lambda: _all_attempted(service, 1, n=1), what="the first attempt failed")
        receiver.status = 204
        loop = asyncio.get_running_loop()
        ends = loop.time() + 5
        stream, due_at = 0, None
        while loop.time() < ends and receiver.ids()[first.id] < 2:
            await bus.publish(cloud_event("kz.ntc.bargaining.negotiation.proposed.v1", [union]))
            stream += 1
            if stream == 10:  # the fresh events arrive already, faster than the poll: now the retry comes due
                clock.advance(seconds=6)  # its retry (+5 s) is due
                due_at = stream
            await asyncio.sleep(0.03)
        assert due_at is not None and receiver.ids()[first.id] == 2, (
            f"the retry did not go out during {stream} fresh events")


async def test_a_redelivery_is_due_at_once_by_the_services_clock(make_database, nats_server, signer, public_key):
    """A person's redelivery is stamped due by the service's clock (the one the dispatcher goes by), so it
    leaves at once even when that clock is behind the wall clock."""
    receiver, clock = Receiver(), OffsetClock()
    clock.offset = -timedelta(days=1)
    async with _one_endpoint(make_database, nats_server, signer, public_key, receiver,
                             clock) as (service, bus, endpoint, union):
        await bus.publish(cloud_event("kz.ntc.bargaining.negotiation.proposed.v1", [union]))
        await eventually(lambda: _received(receiver, 1), what="the first delivery")
        (delivery,) = await _deliveries(service)
        again = await service.client.post(
            f"/webhook-endpoints/{endpoint['id']}/deliveries/{delivery.id}/redeliver",
            headers=organisation_headers(service, union))
        assert again.status_code == 200, again.text
        await eventually(lambda: _received(receiver, 2), what="the redelivery")
