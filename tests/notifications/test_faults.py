"""5,000 events to one webhook while the notifications process and nats-server are each SIGKILLed
and restarted mid-stream. Counted at the receiver: none lost; and how many arrived twice.

A delivery is marked sent in a transaction after the receiver's 2xx. A process killed between
the two sends that delivery again once its lease runs out: a receiver can see it twice, with the
same webhook-id (Standard Webhooks' receivers de-duplicate on it). The window is one group
commit; the test measures the raw repeats and requires them to be no more than the sends that
were in flight at the kill, and the de-duplicated receipts to be exactly the events.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid

import httpx
import nats
import pytest
from nats.errors import Error as NatsError

from kernel.identity import IDENTITY_HEADER, Identity
from tests.notifications.support import Receiver, cloud_event
from tests.support.processes import ServiceProcess
from tests.support.services import WEBHOOK_SECRET_KEY, eventually

EVENTS = 5000
CONCURRENCY = 16


@pytest.fixture
def notifications(tmp_path, nats_server, public_key):
    process = ServiceProcess("notifications", {
        "NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'notifications'}.db",
        "NOTIFICATIONS_NATS_URL": nats_server.url,
        "NOTIFICATIONS_IDENTITY_PUBLIC_KEY": public_key,
        "NOTIFICATIONS_ENVIRONMENT": "test",
        "NOTIFICATIONS_WEBHOOK_SECRET_KEYS": WEBHOOK_SECRET_KEY,
        "NOTIFICATIONS_LOG_JSON": "true",
        "NOTIFICATIONS_LOG_LEVEL": "WARNING",
        "NOTIFICATIONS_CONSUMER_BACKOFF_SECONDS": "[2.0, 2.0]",
        "NOTIFICATIONS_WEBHOOK_ALLOWED_PRIVATE": '["127.0.0.1"]',
        "NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS": "2",
        "NOTIFICATIONS_WEBHOOK_RETRY_SECONDS": "[0.5, 1, 2, 2, 2, 2, 2, 2, 2, 2]",
        "NOTIFICATIONS_DISPATCH_LEASE_SECONDS": "5",
        "NOTIFICATIONS_DISPATCH_BATCH_SIZE": "32",  # with 16 at a time and 2 s timeouts: a lease of 11 s
        "NOTIFICATIONS_DISPATCH_CONCURRENCY": str(CONCURRENCY),
    }, tmp_path)
    yield process
    process.stop()


@pytest.mark.slow
async def test_nothing_lost_when_notifications_and_nats_are_killed_mid_stream(notifications, nats_server, signer,
                                                                              tmp_path):
    receiver = Receiver()
    await receiver.start()
    union = uuid.uuid4()
    try:
        await asyncio.to_thread(notifications.start)
        token = signer.sign(Identity(subject="fault-test", kind="api-client", organisation_id=str(union)))
        async with httpx.AsyncClient(base_url=notifications.url, headers={IDENTITY_HEADER: token}) as client:
            endpoint = (await client.post("/webhook-endpoints", json={"url": receiver.url})).json()
            receiver.secrets = [endpoint["secret"]]
            subscribed = await client.post("/subscriptions", json={"pattern": "kz.ntc.registry.>",
                                                                   "channel": "webhook",
                                                                   "endpoint_id": endpoint["id"]})
            assert subscribed.status_code == 201, subscribed.text
        events = [cloud_event("kz.ntc.registry.organisation.registered.v1", [union], name_ru=f"Профсоюз {n}")
                  for n in range(EVENTS)]
        published: list[str] = []
        publisher = asyncio.create_task(_publish_all(nats_server.url, events, published))

        await eventually(lambda: _at_least(receiver, 800), timeout=120, what="deliveries under way")
        notifications.kill()                                    # the service dies mid-send
        in_flight_at_kill = CONCURRENCY
        await eventually(lambda: _len_at_least(published, 2500), timeout=120, what="more events meanwhile")
        await asyncio.to_thread(notifications.start)            # back, with its backlog
        resumed = len(receiver.ids()) + 300
        await eventually(lambda: _at_least(receiver, resumed), timeout=120, what="deliveries resumed")
        nats_server.kill()                                       # the bus dies while events keep coming
        await asyncio.sleep(1.0)
        nats_server.start()
        await asyncio.wait_for(publisher, timeout=300)
        assert len(published) == EVENTS

        await eventually(lambda: _at_least(receiver, EVENTS), timeout=300, what="every event received")
        await asyncio.sleep(12)  # past the lease: a send the kill interrupted would have been repeated by now
        ids = receiver.ids()
        lost = {e.id for e in events} - set(ids)
        repeats = sum(count - 1 for count in ids.values())
        print(f"\nfault test: {EVENTS} events, {len(ids)} received, {len(lost)} lost, {repeats} received twice "
              f"(same webhook-id), {sum(not r.verified for r in receiver.received)} unverified")
        assert not lost
        assert len(ids) == EVENTS  # de-duplicated by webhook-id: exactly the events
        assert all(r.verified for r in receiver.received)
        assert repeats <= in_flight_at_kill, repeats
        database = str(tmp_path / "notifications.db")
        assert _count(database, "SELECT count(*) FROM webhook_delivery") == EVENTS  # one delivery per event
        assert _count(database, "SELECT count(*) FROM webhook_delivery WHERE status = 'delivered'") == EVENTS
        assert _count(database, "SELECT count(DISTINCT event_id) FROM inbox_record") == EVENTS
    finally:
        await receiver.stop()


async def _publish_all(url: str, events, published: list[str]) -> None:
    """Publish as the registry's relay does: a publish that got no ack is retried with the same id."""
    nc = await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    try:
        for event in events:
            while True:
                try:
                    await nc.jetstream(timeout=2).publish(event.type, event.to_json(),
                                                          headers={"Nats-Msg-Id": event.id})
                    break
                except (NatsError, TimeoutError, OSError):
                    await asyncio.sleep(0.2)
            published.append(event.id)
            if len(published) % 50 == 0:
                await asyncio.sleep(0.05)  # a steady stream (~1,000/s), not one burst
    finally:
        await nc.close()


def _count(database: str, statement: str) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute(statement).fetchone()[0]


async def _at_least(receiver: Receiver, n: int) -> bool:
    return len(receiver.ids()) >= n


async def _len_at_least(items: list, n: int) -> bool:
    return len(items) >= n


