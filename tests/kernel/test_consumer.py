"""The idempotent consumer loop and the dead-letter path, against a real nats-server and SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import ClassVar

import pytest
from nats.aio.msg import Msg
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from kernel.bus import Bus, StreamSpec, declare_stream, nats_servers
from kernel.consumer import (
    EVENTS_SKIPPED,
    ConsumerLoop,
    DeadLetter,
    DeadLetterLoop,
    InboxRecord,
    PoisonEvent,
    Subscription,
    apply_once,
    replay_dead_letter,
)
from kernel.db import create_engine, create_sessionmaker, table_base
from kernel.events import CloudEvent, EventData, envelope
from tests.support.services import eventually

SampleTable = table_base("sample")


class Effect(SampleTable, table=True):
    """What the handler does: one row per application of an event."""

    __tablename__ = "effect"
    id: int | None = Field(default=None, primary_key=True)
    event_id: str
    label: str


class ThingHappened(EventData):
    event_type: ClassVar[str] = "kz.ntc.sample.thing.happened.v1"
    label: str


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the loop catches it."""


@pytest.fixture
async def harness(tmp_path, nats_server):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'consumer.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all,
                                  tables=[InboxRecord.__table__, DeadLetter.__table__])  # type: ignore[attr-defined]
        await connection.run_sync(SampleTable.metadata.create_all)
    sessionmaker = create_sessionmaker(engine)
    bus = Bus(nats_server.url, name="sample-consumer")
    await bus.connect()
    await declare_stream(bus.jetstream(), StreamSpec(name="SAMPLE_EVENTS", subjects=["kz.ntc.sample.>"]))
    yield bus, sessionmaker
    await bus.close()
    await engine.dispose()


class Behaviour:
    """A handler whose failures the test controls."""

    def __init__(self) -> None:
        self.failing_labels: set[str] = set()

    async def __call__(self, session: AsyncSession, event: CloudEvent) -> None:
        data = ThingHappened.model_validate(event.data)
        if data.label in self.failing_labels:
            raise RuntimeError(f"cannot apply {data.label} yet")
        if data.label == "poison":
            raise PoisonEvent("this event can never be applied")
        session.add(Effect(event_id=event.id, label=data.label))


async def publish(bus: Bus, label: str) -> CloudEvent:
    event = envelope(ThingHappened(audience=[uuid.uuid4()], label=label), source="/sample")
    await bus.jetstream().publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})
    return event


async def effects(sessionmaker, label: str | None = None) -> int:
    async with sessionmaker() as session:
        query = select(func.count()).select_from(Effect)
        if label is not None:
            query = query.where(Effect.label == label)
        return int(await session.scalar(query) or 0)


def make_loop(bus, sessionmaker, behaviour, **kwargs) -> ConsumerLoop:
    subscription = Subscription(consumer="tests", producer="sample", handler=behaviour)
    return ConsumerLoop(bus, sessionmaker, subscription, batch_size=8,
                        **{"max_deliver": 3, "backoff_seconds": (0.3, 0.3), **kwargs})


@contextlib.asynccontextmanager
async def started(*loops):
    tasks = [asyncio.create_task(loop.run()) for loop in loops]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Killed):
                await task


async def test_consumer_killed_before_its_ack_gets_the_event_again_and_applies_it_once(harness, monkeypatch):
    bus, sessionmaker = harness
    behaviour = Behaviour()
    original_ack = Msg.ack

    async def die_instead_of_ack(self: Msg) -> None:
        raise Killed()

    monkeypatch.setattr(Msg, "ack", die_instead_of_ack)
    first = make_loop(bus, sessionmaker, behaviour)
    event = await publish(bus, "once")
    task = asyncio.create_task(first.run())
    with pytest.raises(Killed):
        await asyncio.wait_for(task, timeout=20)
    # The effect was committed, the ack never sent.
    assert await effects(sessionmaker, "once") == 1

    monkeypatch.setattr(Msg, "ack", original_ack)
    skipped_before = EVENTS_SKIPPED.labels("tests-sample")._value.get()
    second = make_loop(bus, sessionmaker, behaviour)
    async with started(second):
        await eventually(lambda: _skipped_since(skipped_before), what="redelivery skipped by the inbox")
        info = await eventually(lambda: _acked(bus), what="redelivered event acked")
        assert info.num_redelivered >= 1 or info.delivered.consumer_seq >= 2
    assert await effects(sessionmaker, "once") == 1
    async with sessionmaker() as session:
        assert await session.get(InboxRecord, ("tests-sample", event.id)) is not None


async def _skipped_since(before: float) -> bool:
    return EVENTS_SKIPPED.labels("tests-sample")._value.get() > before


async def _acked(bus: Bus):
    info = await bus.jetstream().consumer_info("SAMPLE_EVENTS", "tests-sample")
    return info if info.num_ack_pending == 0 and info.num_pending == 0 else None


async def test_poison_event_reaches_dead_letters_while_later_events_flow(harness):
    bus, sessionmaker = harness
    behaviour = Behaviour()
    behaviour.failing_labels.add("stuck")
    loop = make_loop(bus, sessionmaker, behaviour)
    dead_letters = DeadLetterLoop(bus, sessionmaker, "tests", [loop.subscription], [loop])
    async with started(loop, dead_letters):
        await eventually(lambda: _is_set(dead_letters.bound), what="dead-letter consumer bound")
        stuck = await publish(bus, "stuck")
        later = [await publish(bus, f"later-{i}") for i in range(3)]
        # The later events are applied while the stuck one is still being retried.
        await eventually(lambda: _effects_at_least(sessionmaker, 3), what="later events applied")
        dead = await eventually(lambda: _dead_letters(sessionmaker), timeout=30, what="dead letter recorded")
    assert len(later) == 3
    assert len(dead) == 1
    assert dead[0].event_id == stuck.id
    assert dead[0].reason == "max_deliveries"
    assert dead[0].deliveries == 3
    assert "cannot apply stuck yet" in (dead[0].last_error or "")
    assert CloudEvent.model_validate_json(dead[0].payload).id == stuck.id
    assert await effects(sessionmaker, "stuck") == 0

    # A person fixes the cause and replays: applied once, however often replay is pressed.
    behaviour.failing_labels.clear()
    handlers = {loop.subscription.durable: behaviour}
    replayed = await replay_dead_letter(sessionmaker, dead[0].id, handlers)
    assert replayed is not None and replayed.replayed_at is not None
    await replay_dead_letter(sessionmaker, dead[0].id, handlers)
    assert await effects(sessionmaker, "stuck") == 1


async def test_message_that_is_not_an_event_is_terminated_and_dead_lettered(harness):
    bus, sessionmaker = harness
    loop = make_loop(bus, sessionmaker, Behaviour())
    dead_letters = DeadLetterLoop(bus, sessionmaker, "tests", [loop.subscription], [loop])
    async with started(loop, dead_letters):
        await eventually(lambda: _is_set(dead_letters.bound), what="dead-letter consumer bound")
        await bus.jetstream().publish("kz.ntc.sample.thing.happened.v1", b"{not json",
                                      headers={"Nats-Msg-Id": "junk-1"})
        poison = await publish(bus, "poison")
        after = await publish(bus, "fine")
        dead = await eventually(lambda: _dead_letters(sessionmaker, 2), timeout=30, what="two dead letters")
        await eventually(lambda: _effects_at_least(sessionmaker, 1), what="the good event applied")
    assert {d.reason for d in dead} == {"terminated"}
    assert {d.event_id for d in dead} == {None, poison.id}
    assert await effects(sessionmaker, "fine") == 1
    assert after.id != poison.id


async def test_dead_letters_survive_the_consumer_being_down_when_the_advisory_fires(harness, nats_server):
    """The advisory is captured by a stream, so a dead-letter loop started later still records it."""
    bus, sessionmaker = harness
    behaviour = Behaviour()
    behaviour.failing_labels.add("stuck")
    loop = make_loop(bus, sessionmaker, behaviour)
    dead_letters = DeadLetterLoop(bus, sessionmaker, "tests", [loop.subscription], [loop])
    # Declare the dead-letter stream (as a service start would), but run no dead-letter loop yet.
    await declare_stream(bus.jetstream(), dead_letters.stream)
    async with started(loop):
        stuck = await publish(bus, "stuck")
        await eventually(lambda: _max_delivered(bus), timeout=30, what="max deliveries reached")
    async with started(dead_letters):
        dead = await eventually(lambda: _dead_letters(sessionmaker), timeout=30, what="dead letter recorded later")
    assert dead[0].event_id == stuck.id


async def _max_delivered(bus: Bus) -> bool:
    info = await bus.jetstream().stream_info("TESTS_DEADLETTERS")
    return info.state.messages >= 1


async def _is_set(event: asyncio.Event) -> bool:
    return event.is_set()


async def _effects_at_least(sessionmaker, n: int) -> bool:
    return await effects(sessionmaker) >= n


async def _dead_letters(sessionmaker, n: int = 1):
    async with sessionmaker() as session:
        rows = (await session.execute(select(DeadLetter).order_by(DeadLetter.id))).scalars().all()
    return list(rows) if len(rows) >= n else None


async def test_consumer_declaration_is_idempotent(harness):
    bus, sessionmaker = harness
    loop = make_loop(bus, sessionmaker, Behaviour())
    from kernel.bus import declare_consumer

    await declare_consumer(bus.jetstream(), loop.spec)
    await declare_consumer(bus.jetstream(), loop.spec)
    info = await bus.jetstream().consumer_info("SAMPLE_EVENTS", "tests-sample")
    assert info.config.max_deliver == 3
    assert str(info.config.ack_policy).endswith("explicit")
    assert info.config.backoff == [0.3, 0.3]

    spec = StreamSpec(name="SAMPLE_EVENTS", subjects=["kz.ntc.sample.>"], duplicate_window_seconds=60)
    await declare_stream(bus.jetstream(), spec)
    await declare_stream(bus.jetstream(), spec)
    stream = await bus.jetstream().stream_info("SAMPLE_EVENTS")
    assert stream.config.duplicate_window == 60
    assert stream.config.subjects == ["kz.ntc.sample.>"]


async def test_the_correlation_id_of_the_request_is_bound_while_the_consumer_applies_the_event(harness):
    from kernel.observability import correlation_id

    bus, sessionmaker = harness
    seen: dict[str, str | None] = {}

    async def remember(session: AsyncSession, event: CloudEvent) -> None:
        seen[event.id] = correlation_id.get()

    token = correlation_id.set("request-7")
    try:
        event = envelope(ThingHappened(audience=[uuid.uuid4()], label="traced"), source="/sample",
                         correlation_id=correlation_id.get())
    finally:
        correlation_id.reset(token)
    await bus.jetstream().publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})
    loop = make_loop(bus, sessionmaker, remember)
    async with started(loop):
        await eventually(lambda: _has(seen, event.id), what="event applied")
    assert seen[event.id] == "request-7"


async def _has(mapping: dict, key: str) -> bool:
    return key in mapping


def test_a_nats_url_setting_may_name_several_seed_servers() -> None:
    assert nats_servers("nats://a:4222") == ["nats://a:4222"]
    assert nats_servers(" nats://a:4222, nats://b:4222 ,") == ["nats://a:4222", "nats://b:4222"]
    with pytest.raises(ValueError):
        nats_servers(" , ")


async def test_the_bus_connects_through_whichever_seed_server_answers(nats_server) -> None:
    # The first seed is a closed port (a node that is down): the client goes on to the next one.
    bus = Bus(f"nats://127.0.0.1:1,{nats_server.url}", name="seeds")
    await bus.connect()
    try:
        assert bus.is_connected
        assert await bus.jetstream().account_info() is not None
    finally:
        await bus.close()


async def test_a_conflict_among_the_handlers_own_writes_is_a_failure_not_a_repeat(harness):
    """A unique violation in what the handler writes must not be taken for "another replica applied it":
    that answer acks the event, and its effect would be lost without a trace."""
    _, sessionmaker = harness
    async with sessionmaker() as session:
        session.add(Effect(id=1, event_id="earlier", label="taken"))
        await session.commit()
    event = envelope(ThingHappened(audience=[uuid.uuid4()], label="clash"), source="/sample")

    async def clashing(session: AsyncSession, event: CloudEvent) -> None:
        session.add(Effect(id=1, event_id=event.id, label="clash"))  # the same key as the row above

    with pytest.raises(IntegrityError):
        await apply_once(sessionmaker, "tests", event, clashing)
    async with sessionmaker() as session:
        assert await session.get(InboxRecord, ("tests", event.id)) is None  # not recorded as applied
    assert await effects(sessionmaker, "clash") == 0


async def test_a_repeat_is_refused_by_the_inbox_row_before_its_handler_runs(harness):
    """The inbox row is written first: an event applied already (here, or by another replica) is
    refused by its key, and the handler never runs a second time."""
    _, sessionmaker = harness
    event = envelope(ThingHappened(audience=[uuid.uuid4()], label="once"), source="/sample")
    calls: list[str] = []

    async def counting(session: AsyncSession, event: CloudEvent) -> None:
        calls.append(event.id)
        session.add(Effect(event_id=event.id, label="once"))

    assert await apply_once(sessionmaker, "tests", event, counting) is True
    assert await apply_once(sessionmaker, "tests", event, counting) is False
    assert calls == [event.id] and await effects(sessionmaker, "once") == 1
    # Another consumer keeps its own record of what it applied.
    assert await apply_once(sessionmaker, "other-tests", event, counting) is True
    assert await effects(sessionmaker, "once") == 2


class Slow(Behaviour):
    """A handler that takes longer than the consumer's ack window for each event."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.calls = 0

    async def __call__(self, session: AsyncSession, event: CloudEvent) -> None:
        self.calls += 1
        await asyncio.sleep(self.seconds)
        await super().__call__(session, event)


async def test_a_batch_that_outlasts_the_ack_window_is_not_delivered_again_while_it_is_applied(harness):
    """Two replicas share the durable consumer: while one applies a slow batch, the other fetches. Past the
    ack window JetStream would hand the batch's events to the idle one (which the inbox then refuses, each
    time counting towards max_deliver), unless the busy one says the batch is in hand."""
    bus, sessionmaker = harness
    behaviour = Slow(0.4)
    busy, idle = (make_loop(bus, sessionmaker, behaviour) for _ in range(2))  # ack window 0.3 s
    assert busy.ack_window == pytest.approx(0.3)
    async with started(busy, idle):
        await asyncio.wait_for(asyncio.gather(busy.bound.wait(), idle.bound.wait()), timeout=10)
        for n in range(3):
            await publish(bus, f"slow {n}")  # ~1.2 s of work, four ack windows
        await eventually(lambda: _acked(bus), what="the slow events acked", timeout=20)
        await asyncio.sleep(0.6)  # two more windows: anything delivered again would show now
        info = await bus.jetstream().consumer_info("SAMPLE_EVENTS", "tests-sample")
    assert info.delivered.consumer_seq == 3  # three deliveries in all: none of the events came again
    assert await effects(sessionmaker) == 3
