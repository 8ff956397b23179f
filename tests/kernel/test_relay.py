"""The outbox relay's hand-over: a commit's rows go to JetStream from memory (real nats-server, SQLite)."""

from __future__ import annotations

from typing import ClassVar

import pytest
from sqlalchemy import event, func, select
from sqlmodel import SQLModel

from kernel.bus import Bus, StreamSpec
from kernel.db import create_engine, create_sessionmaker
from kernel.events import EventData
from kernel.outbox import OutboxMessage, Relay, record_event, record_events
from tests.support.services import eventually

STREAM = StreamSpec(name="SAMPLE_EVENTS", subjects=["kz.ntc.sample.>"])


class NoticeSent(EventData):
    event_type: ClassVar[str] = "kz.ntc.sample.notice.sent.v1"
    label: str


@pytest.fixture
async def relay_harness(tmp_path, nats_server):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all,
                                  tables=[OutboxMessage.__table__])  # type: ignore[attr-defined]
    table_reads: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _watch(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "outbox_message.envelope" in statement:
            table_reads.append(statement)

    bus = Bus(nats_server.url, name="sample-relay")
    await bus.connect()
    relay: Relay | None = None
    sessionmaker = create_sessionmaker(engine, on_commit=lambda rows: relay.committed(rows) if relay else None)
    # A poll far longer than the test: whatever is published after the start comes from the hand-over.
    relay = Relay(sessionmaker, bus, service="sample", poll_seconds=600, stream=STREAM)
    relay.start()
    await eventually(lambda: _stream_exists(bus), what="the relay's first pass declared the stream")
    table_reads.clear()
    yield relay, sessionmaker, bus, table_reads
    await relay.stop()
    await bus.close()
    await engine.dispose()


async def _stream_exists(bus: Bus) -> bool:
    try:
        await bus.jetstream().stream_info(STREAM.name)
    except Exception:
        return False
    return True


async def _messages(bus: Bus) -> list[str]:
    js = bus.jetstream()
    info = await js.stream_info(STREAM.name)
    ids = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1) if info.state.messages else ():
        message = await js.get_msg(STREAM.name, sequence)
        ids.append((message.headers or {})["Nats-Msg-Id"])
    return ids


async def _unmarked(sessionmaker) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.published_at.is_(None)))


async def test_a_commits_rows_are_published_and_marked_without_reading_the_table(relay_harness):
    relay, sessionmaker, bus, table_reads = relay_harness
    async with sessionmaker() as session:
        ids = [record_event(session, NoticeSent(audience=[], label=f"one {n}"), source="/sample").id
               for n in range(5)]
        await session.commit()
    async with sessionmaker() as session:
        await record_events(session, [NoticeSent(audience=[], label=f"bulk {n}") for n in range(300)],
                            source="/sample")
        await session.commit()

    await eventually(lambda: _count_is(bus, 305), what="every committed event in the stream")
    assert set(ids) <= set(await _messages(bus))
    await eventually(lambda: _none_unmarked(sessionmaker), what="every published row marked")
    assert table_reads == [], "the relay read rows back instead of taking them from the commit"


async def test_a_rolled_back_write_hands_nothing_over(relay_harness):
    relay, sessionmaker, bus, _ = relay_harness
    async with sessionmaker() as session:
        abandoned = record_event(session, NoticeSent(audience=[], label="abandoned"), source="/sample").id
        await session.rollback()
    async with sessionmaker() as session:
        kept = record_event(session, NoticeSent(audience=[], label="kept"), source="/sample").id
        await session.commit()
    await eventually(lambda: _count_is(bus, 1), what="the committed event in the stream")
    assert await _messages(bus) == [kept]
    assert abandoned != kept


async def test_stopping_marks_what_was_published(relay_harness):
    relay, sessionmaker, bus, _ = relay_harness
    async with sessionmaker() as session:
        await record_events(session, [NoticeSent(audience=[], label=f"n {n}") for n in range(500)],
                            source="/sample")
        await session.commit()
    await eventually(lambda: _count_is(bus, 500), what="published")
    await relay.stop()
    # A restart would otherwise publish them again (the stream would drop them, but only within its window).
    assert await _unmarked(sessionmaker) == 0


async def _count_is(bus: Bus, expected: int) -> bool:
    return (await bus.jetstream().stream_info(STREAM.name)).state.messages == expected


async def _none_unmarked(sessionmaker) -> bool:
    return await _unmarked(sessionmaker) == 0


async def test_rows_of_a_rolled_back_savepoint_are_not_handed_over(relay_harness):
    relay, sessionmaker, bus, _ = relay_harness
    async with sessionmaker() as session:
        kept = record_event(session, NoticeSent(audience=[], label="kept"), source="/sample").id
        savepoint = await session.begin_nested()
        record_event(session, NoticeSent(audience=[], label="undone"), source="/sample")
        await savepoint.rollback()
        savepoint = await session.begin_nested()
        also_kept = record_event(session, NoticeSent(audience=[], label="also kept"), source="/sample").id
        await savepoint.commit()
        await session.commit()
    await eventually(lambda: _none_unmarked(sessionmaker), what="the committed rows marked")
    assert sorted(await _messages(bus)) == sorted([kept, also_kept])
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
