"""Two replicas share the dispatching: every delivery is sent by one of them, once.

The service runs with its own dispatcher; a second dispatcher with its own engine (as another
replica would have) works the same database at the same time. On PostgreSQL the claims use
FOR UPDATE SKIP LOCKED; on both backends a claim only takes rows whose lease is free.
"""

from __future__ import annotations

import asyncio
import uuid

from kernel.db import create_engine, create_sessionmaker, is_postgres
from services.notifications.webhooks.dispatcher import WebhookDispatcher
from tests.notifications.support import (
    Publisher,
    Receiver,
    cloud_event,
    notifications_service,
    notifications_settings,
    register_endpoint,
)
from tests.support.services import eventually

EVENTS = 400


def counting(dispatcher: WebhookDispatcher, sent: list[str]) -> None:
    send = dispatcher.send

    async def counted(delivery, endpoint):
        sent.append(delivery.event_id)
        await asyncio.sleep(0.002)  # a receiver that takes a moment: the replicas' passes overlap
        return await send(delivery, endpoint)

    dispatcher.send = counted  # type: ignore[method-assign]


async def test_two_dispatchers_never_send_one_delivery_twice(make_database, nats_server, signer, public_key):
    receiver = Receiver()
    await receiver.start()
    database_url = await make_database("notifications")
    # Every delivery through a claim (no hand-over from the consumer): the claims are what is shared.
    settings = notifications_settings(database_url, nats_server.url, public_key, dispatch_batch_size=20,
                                      dispatch_concurrency=8, dispatch_hand_over=False)
    union = uuid.uuid4()
    engine = create_engine(database_url)
    other = WebhookDispatcher(settings, skip_locked=is_postgres(database_url))
    first_sent: list[str] = []
    second_sent: list[str] = []
    counting(other, second_sent)
    task = None
    try:
        async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
            [own] = [t for t in service.state.definition.background if isinstance(t, WebhookDispatcher)]
            counting(own, first_sent)
            task = asyncio.create_task(other.run(create_sessionmaker(engine)))
            endpoint = await register_endpoint(service, union, receiver.url)
            receiver.secrets = [endpoint["secret"]]
            events = [cloud_event("kz.ntc.registry.organisation.registered.v1", [union]) for _ in range(EVENTS)]
            await asyncio.gather(*(bus.publish(e) for e in events))
            await eventually(lambda: _received(receiver, EVENTS), timeout=60, what="every event")
            await asyncio.sleep(1.5)
            assert receiver.ids() == {e.id: 1 for e in events}  # none lost, none twice
            assert all(r.verified for r in receiver.received)
            assert len(first_sent) + len(second_sent) == EVENTS  # no attempt made twice either
            assert first_sent and second_sent, (len(first_sent), len(second_sent))  # both replicas did work
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()
        await receiver.stop()


async def _received(receiver: Receiver, n: int) -> bool:
    return len(receiver.received) >= n
