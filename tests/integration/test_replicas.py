"""Several replicas of one service share the work without doing anything twice (PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contracts.registry import OrganisationKind, OrganisationRegistered
from kernel.bus import Bus, StreamSpec, declare_stream
from kernel.consumer import ConsumerLoop, InboxRecord
from kernel.db import create_engine, create_sessionmaker, is_postgres, utcnow
from kernel.events import envelope, stream_name, stream_subjects
from kernel.migrations import upgrade
from kernel.outbox import OutboxMessage, Relay, record_event
from services.bargaining.consumers.registry import subscription as bargaining_subscription
from services.bargaining.parties.models import Party
from tests.support.services import eventually

ROOT = Path(__file__).resolve().parents[2]


def registered(n: int) -> OrganisationRegistered:
    organisation_id = uuid.uuid4()
    return OrganisationRegistered(audience=[organisation_id], organisation_id=organisation_id,
                                  kind=OrganisationKind.local_union, name_kk=f"Кәсіподақ {n}",
                                  name_ru=f"Профсоюз {n}", status="registered", registered_at=utcnow())


@pytest.fixture
async def registry_database(make_database, backend):
    if backend != "postgres":
        pytest.skip("several replicas share one database on PostgreSQL; SQLite serves one process")
    url = await make_database("registry")
    engine = create_engine(url)
    await upgrade(engine, ROOT / "services/registry/migrations")
    yield engine
    await engine.dispose()


async def test_two_relays_never_publish_the_same_row(registry_database, nats_server):
    engine = registry_database
    assert is_postgres(engine.url.render_as_string())
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        for n in range(300):
            record_event(session, registered(n), source="/registry")
        await session.commit()

    stream = StreamSpec(name=stream_name("registry"), subjects=stream_subjects("registry"))
    buses = [Bus(nats_server.url, name=f"replica-{i}") for i in range(2)]
    for bus in buses:
        await bus.connect()
    relays = [Relay(sessionmaker, bus, service="registry", batch_size=20, skip_locked=True, stream=stream)
              for bus in buses]
    await relays[0].publish_pending()  # declares the stream; publishes a first batch

    async def drain(relay: Relay) -> int:
        total = 0
        while (published := await relay.publish_pending()) > 0:
            total += published
        return total

    first, second = await asyncio.gather(drain(relays[0]), drain(relays[1]))
    # Every row was claimed and marked by exactly one replica.
    assert 20 + first + second == 300
    assert first > 0 and second > 0, "both replicas should have taken a share"
    info = await buses[0].jetstream().stream_info("REGISTRY_EVENTS")
    assert info.state.messages == 300
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.published_at.is_(None))) == 0
    for bus in buses:
        await bus.close()


async def test_two_consumer_replicas_split_the_work_and_apply_each_event_once(make_database, backend, nats_server):
    if backend != "postgres":
        pytest.skip("several replicas share one database on PostgreSQL")
    engine = create_engine(await make_database("bargaining"))
    await upgrade(engine, ROOT / "services/bargaining/migrations")
    sessionmaker = create_sessionmaker(engine)

    publisher = Bus(nats_server.url, name="publisher")
    await publisher.connect()
    await declare_stream(publisher.jetstream(), StreamSpec(name="REGISTRY_EVENTS", subjects=["kz.ntc.registry.>"]))
    buses = [Bus(nats_server.url, name=f"bargaining-{i}") for i in range(2)]
    for bus in buses:
        await bus.connect()
    loops = [ConsumerLoop(bus, sessionmaker, bargaining_subscription, batch_size=10, max_deliver=5,
                          backoff_seconds=(0.3,)) for bus in buses]
    tasks = [asyncio.create_task(loop.run()) for loop in loops]
    try:
        for n in range(200):
            event = envelope(registered(n), source="/registry")
            await publisher.jetstream().publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})
        await eventually(lambda: _applied(sessionmaker, 200), timeout=60, what="all events applied")
        await asyncio.sleep(1.0)  # room for any duplicate to show
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Party)) == 200
            assert await session.scalar(select(func.count()).select_from(InboxRecord)) == 200
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for bus in [*buses, publisher]:
            await bus.close()
        await engine.dispose()


async def _applied(sessionmaker, n: int) -> bool:
    async with sessionmaker() as session:
        return (await session.scalar(select(func.count()).select_from(InboxRecord))) >= n
