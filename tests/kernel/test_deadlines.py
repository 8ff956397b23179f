"""Deadlines: the date rules without I/O, then the store and the sweeper on real databases
(SQLite and PostgreSQL), and the sweeper wired into a service with a real nats-server."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from kernel.app import ServiceDefinition, create_service_app
from kernel.bus import Bus
from kernel.db import create_engine, create_sessionmaker, table_base
from kernel.deadlines import (
    KAZAKHSTAN,
    Deadline,
    DeadlineAlreadyMissed,
    DeadlineEventData,
    DeadlineSpec,
    DeadlineSweeper,
    Emission,
    Reschedule,
    cancel_deadline,
    check_dates,
    deadlines_for,
    due_emission,
    local_day,
    meet_deadline,
    reschedule_rule,
    schedule_deadline,
)
from kernel.migrations import create_deadline_table_v1, drop_deadline_table_v1
from kernel.outbox import OutboxMessage
from tests.support.services import TEST_SETTINGS, eventually, running

SampleTable = table_base("deadlinesample")


class Lapse(SampleTable, table=True):
    """What the sample producer's on_missed hook does: one row per missed deadline."""

    __tablename__ = "lapse"
    id: int | None = Field(default=None, primary_key=True)
    subject_id: str


class SampleApproaching(DeadlineEventData):
    event_type: ClassVar[str] = "kz.ntc.sample.deadline.approaching.v1"


class SampleMissed(DeadlineEventData):
    event_type: ClassVar[str] = "kz.ntc.sample.deadline.missed.v1"


class Clock:
    """A clock the test moves: the sweeper's "now"."""

    def __init__(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 9, 0, tzinfo=KAZAKHSTAN)

    def __call__(self) -> datetime:
        return self.now

    def set_day(self, day: date, hour: int = 9) -> None:
        self.now = datetime(day.year, day.month, day.day, hour, 0, tzinfo=KAZAKHSTAN)


D = date(2026, 3, 2)  # a Monday; the tests' "today" starts here
ORGANISATION = uuid.UUID("6a1d2c1e-0c7b-4a8e-9a51-0d7f3c2b1a10")


# --- the rules, without I/O --------------------------------------------------------------

def owed(today: date, *, approaching_emitted=False, missed_emitted=False, closed=False) -> Emission | None:
    return due_emission(approaching_on=D + timedelta(days=7), due_on=D + timedelta(days=10), today=today,
                        approaching_emitted=approaching_emitted, missed_emitted=missed_emitted, closed=closed)


def test_nothing_is_owed_before_the_approaching_day():
    assert owed(D) is None
    assert owed(D + timedelta(days=6)) is None


def test_approaching_is_owed_from_its_day_until_sent():
    assert owed(D + timedelta(days=7)) is Emission.approaching
    assert owed(D + timedelta(days=10)) is Emission.approaching  # the last day still counts as approaching
    assert owed(D + timedelta(days=8), approaching_emitted=True) is None


def test_missed_is_owed_from_the_day_after_the_last_day():
    assert owed(D + timedelta(days=10), approaching_emitted=True) is None  # the last day is not missed yet
    assert owed(D + timedelta(days=11), approaching_emitted=True) is Emission.missed
    assert owed(D + timedelta(days=400), approaching_emitted=True) is Emission.missed
    assert owed(D + timedelta(days=11), approaching_emitted=True, missed_emitted=True) is None


def test_a_deadline_found_missed_owes_only_the_missed_event():
    assert owed(D + timedelta(days=11), approaching_emitted=False) is Emission.missed


def test_a_met_or_cancelled_deadline_owes_nothing():
    assert owed(D + timedelta(days=7), closed=True) is None
    assert owed(D + timedelta(days=11), closed=True) is None


def rule(new_due: int, new_approaching: int, *, closed=False, approaching_emitted=False, missed_emitted=False):
    return reschedule_rule(old_due_on=D + timedelta(days=10), old_approaching_on=D + timedelta(days=7),
                           new_due_on=D + timedelta(days=new_due),
                           new_approaching_on=D + timedelta(days=new_approaching),
                           closed=closed, approaching_emitted=approaching_emitted, missed_emitted=missed_emitted)


def test_reschedule_rule():
    assert rule(10, 7) is Reschedule.unchanged
    assert rule(10, 7, approaching_emitted=True, missed_emitted=True) is Reschedule.unchanged
    assert rule(12, 9) is Reschedule.move
    assert rule(12, 9, approaching_emitted=True) is Reschedule.move_and_warn_again
    assert rule(9, 6, approaching_emitted=True) is Reschedule.move  # shortened: no second warning
    assert rule(10, 5, approaching_emitted=True) is Reschedule.move
    assert rule(20, 17, missed_emitted=True) is Reschedule.refuse
    assert rule(20, 17, closed=True, approaching_emitted=True, missed_emitted=True) is Reschedule.new_cycle


def test_the_day_is_kazakhstan_s():
    # 19:30 UTC is 00:30 the next day in Almaty (UTC+5).
    assert local_day(datetime(2026, 3, 1, 19, 30, tzinfo=UTC)) == date(2026, 3, 2)
    assert local_day(datetime(2026, 3, 1, 18, 59, tzinfo=UTC)) == date(2026, 3, 1)
    with pytest.raises(ValueError):
        local_day(datetime(2026, 3, 1, 12, 0))


def test_dates_are_checked():
    check_dates(approaching_on=D, due_on=D)
    with pytest.raises(ValueError):
        check_dates(approaching_on=D + timedelta(days=1), due_on=D)
    with pytest.raises(TypeError):
        check_dates(approaching_on=D, due_on=datetime(2026, 3, 5, tzinfo=UTC))


def test_an_event_carries_the_deadline():
    deadline = Deadline(key="status-confirmation:x", kind="status_confirmation", subject_id=str(ORGANISATION),
                        due_on=D, approaching_on=D, article="Law on Trade Unions, art. 10",
                        audience=[str(ORGANISATION)], details={"year": 2026})
    data = SampleMissed.from_deadline(deadline)
    assert data.deadline_id == deadline.id and data.key == deadline.key and data.due_on == D
    assert data.audience == [ORGANISATION] and data.details == {"year": 2026} and data.subject() == str(ORGANISATION)
    assert data.model_dump(mode="json")["due_on"] == "2026-03-02"


def test_a_service_must_declare_its_deadline_events():
    spec = DeadlineSpec(approaching=SampleApproaching, missed=SampleMissed)
    common = dict(name="sample", title="Sample", description="", settings=None, migrations_dir=Path("."))
    with pytest.raises(ValueError, match="not in sends"):
        ServiceDefinition(**common, sends=[SampleApproaching], deadlines=spec)
    ServiceDefinition(**common, sends=[SampleApproaching, SampleMissed], deadlines=spec)


# --- the store and the sweeper on a real database ----------------------------------------

def _create_tables(connection) -> None:
    with Operations.context(MigrationContext.configure(connection)):
        create_deadline_table_v1()  # the frozen migration itself, as services will run it
    SQLModel.metadata.create_all(connection, tables=[OutboxMessage.__table__])  # type: ignore[attr-defined]
    SampleTable.metadata.create_all(connection)


@pytest.fixture
async def database(make_database):
    url = await make_database("deadlines")
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_create_tables)
    yield url, engine, create_sessionmaker(engine)
    await engine.dispose()


def sweeper_for(url: str, clock: Clock, **kwargs) -> DeadlineSweeper:
    spec = DeadlineSpec(approaching=SampleApproaching, missed=SampleMissed, clock=clock,
                        on_missed=kwargs.pop("on_missed", None))
    return DeadlineSweeper(spec, service="sample", skip_locked=url.startswith("postgresql"), **kwargs)


async def schedule(sessionmaker, key: str, *, due: int, approaching: int, subject: str | None = None, **kwargs):
    async with sessionmaker() as session:
        deadline = await schedule_deadline(session, key=key, kind="sample_obligation",
                                           subject_id=subject or key, due_on=D + timedelta(days=due),
                                           approaching_on=D + timedelta(days=approaching),
                                           audience=[ORGANISATION], **kwargs)
        await session.commit()
        return deadline


async def outbox(sessionmaker) -> list[tuple[str, dict]]:
    """(type, data) of every outbox row."""
    async with sessionmaker() as session:
        rows = (await session.execute(select(OutboxMessage.type, OutboxMessage.envelope)
                                      .order_by(OutboxMessage.created_at))).all()
    return [(row.type, json.loads(row.envelope)["data"]) for row in rows]


async def counts(sessionmaker) -> dict[tuple[str, str], int]:
    """How many events of each kind were recorded for each deadline key."""
    result: dict[tuple[str, str], int] = {}
    for event_type, data in await outbox(sessionmaker):
        kind = event_type.split(".")[-2]
        result[(data["key"], kind)] = result.get((data["key"], kind), 0) + 1
    return result


async def row(sessionmaker, key: str) -> Deadline:
    async with sessionmaker() as session:
        return (await session.execute(select(Deadline).where(Deadline.key == key))).scalar_one()


async def test_the_migration_builds_the_table_the_model_describes(database):
    _, engine, _ = database

    def only_deadline(item, name, type_, reflected, compare_to) -> bool:  # other kernel tables are tested elsewhere
        table = item if type_ == "table" else getattr(item, "table", None)
        return table is None or table.name == "deadline"

    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": False, "include_object": only_deadline}),
                SQLModel.metadata))
    assert differences == []
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: _run_op(sync, drop_deadline_table_v1))
        await connection.run_sync(lambda sync: _run_op(sync, create_deadline_table_v1))


def _run_op(connection, migration) -> None:
    with Operations.context(MigrationContext.configure(connection)):
        migration()


async def test_scheduling_is_idempotent_by_key(database):
    _, _, sessionmaker = database
    first = await schedule(sessionmaker, "k1", due=10, approaching=7, article="art. 1")
    again = await schedule(sessionmaker, "k1", due=10, approaching=7, article="art. 1")
    assert again.id == first.id and again.version == 1
    async with sessionmaker() as session:
        assert [d.key for d in await deadlines_for(session, "k1")] == ["k1"]
        assert await session.scalar(select(func.count()).select_from(Deadline)) == 1
    stored = await row(sessionmaker, "k1")
    assert stored.audience == [str(ORGANISATION)] and stored.due_on == D + timedelta(days=10)
    with pytest.raises(ValueError, match="is a sample_obligation"):
        async with sessionmaker() as session:
            await schedule_deadline(session, key="k1", kind="other", subject_id="k1", due_on=D, approaching_on=D,
                                    audience=[])


async def test_deadlines_for_lists_one_subject_soonest_first(database):
    _, _, sessionmaker = database
    await schedule(sessionmaker, "b", subject="case-1", due=20, approaching=15)
    await schedule(sessionmaker, "a", subject="case-1", due=5, approaching=3)
    await schedule(sessionmaker, "c", subject="case-2", due=1, approaching=1)
    async with sessionmaker() as session:
        assert [d.key for d in await deadlines_for(session, "case-1")] == ["a", "b"]


async def test_approaching_then_missed_each_once_as_time_moves(database):
    url, _, sessionmaker = database
    clock = Clock(D)
    sweeper = sweeper_for(url, clock, batch_size=2)  # small batches: a pass pages through the rest
    await schedule(sessionmaker, "early", due=3, approaching=1, article="art. 5")
    await schedule(sessionmaker, "late", due=10, approaching=7, details={"round": 2})
    await schedule(sessionmaker, "same-day", due=5, approaching=5)
    for day in range(0, 15):
        for hour in (0, 9, 23):
            clock.set_day(D + timedelta(days=day), hour)
            for _ in range(3):
                await sweeper.sweep(sessionmaker)
        seen = await counts(sessionmaker)
        # What has been recorded by the end of each day, exactly as the dates say.
        for key, due, approaching in (("early", 3, 1), ("late", 10, 7), ("same-day", 5, 5)):
            assert seen.get((key, "approaching"), 0) == (1 if day >= approaching else 0), (key, day, seen)
            assert seen.get((key, "missed"), 0) == (1 if day > due else 0), (key, day, seen)
    events = await outbox(sessionmaker)
    assert len(events) == 6
    early_missed = next(data for event_type, data in events
                        if event_type == SampleMissed.event_type and data["key"] == "early")
    assert early_missed["due_on"] == str(D + timedelta(days=3)) and early_missed["article"] == "art. 5"
    assert early_missed["audience"] == [str(ORGANISATION)] and early_missed["kind"] == "sample_obligation"
    late = await row(sessionmaker, "late")
    assert late.approaching_emitted_at is not None and late.missed_emitted_at is not None
    assert late.approaching_emitted_at < late.missed_emitted_at and late.version == 3


async def test_met_and_cancelled_deadlines_emit_nothing_further(database):
    url, _, sessionmaker = database
    clock = Clock(D + timedelta(days=7))
    sweeper = sweeper_for(url, clock)
    await schedule(sessionmaker, "met", due=10, approaching=7)
    await schedule(sessionmaker, "cancelled", due=10, approaching=8)
    assert (await sweeper.sweep(sessionmaker)).approaching == 1
    met_at = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    async with sessionmaker() as session:
        assert (await meet_deadline(session, "met", at=met_at)).met_at == met_at
        await cancel_deadline(session, "cancelled")
        assert await meet_deadline(session, "no-such-deadline") is None
        await session.commit()
    async with sessionmaker() as session:  # meeting again keeps the first date; cancelling a met one does nothing
        await meet_deadline(session, "met")
        await cancel_deadline(session, "met")
        await session.commit()
    for day in range(7, 30):
        clock.set_day(D + timedelta(days=day))
        await sweeper.sweep(sessionmaker)
    assert await counts(sessionmaker) == {("met", "approaching"): 1}
    met = await row(sessionmaker, "met")
    assert met.met_at == met_at and met.cancelled_at is None and met.missed_emitted_at is None
    assert (await row(sessionmaker, "cancelled")).cancelled_at is not None


async def test_a_deadline_scheduled_after_its_last_day_emits_only_missed(database):
    url, _, sessionmaker = database
    clock = Clock(D + timedelta(days=20))
    await schedule(sessionmaker, "too-late", due=10, approaching=7)
    result = await sweeper_for(url, clock).sweep(sessionmaker)
    assert (result.approaching, result.missed) == (0, 1)
    assert await counts(sessionmaker) == {("too-late", "missed"): 1}
    assert (await row(sessionmaker, "too-late")).approaching_emitted_at is None


async def test_rescheduling_moves_warns_again_refuses_and_reopens(database):
    url, _, sessionmaker = database
    clock = Clock(D + timedelta(days=7))
    sweeper = sweeper_for(url, clock)
    await schedule(sessionmaker, "k", due=10, approaching=7)
    await sweeper.sweep(sessionmaker)
    # Extended after the warning: warned again when the new approaching day comes, not before.
    moved = await schedule(sessionmaker, "k", due=20, approaching=17)
    assert moved.approaching_emitted_at is None and moved.version == 3
    clock.set_day(D + timedelta(days=16))
    await sweeper.sweep(sessionmaker)
    assert await counts(sessionmaker) == {("k", "approaching"): 1}
    clock.set_day(D + timedelta(days=17))
    await sweeper.sweep(sessionmaker)
    assert await counts(sessionmaker) == {("k", "approaching"): 2}
    clock.set_day(D + timedelta(days=21))
    await sweeper.sweep(sessionmaker)
    # Missed and still open: not moved silently.
    with pytest.raises(DeadlineAlreadyMissed):
        await schedule(sessionmaker, "k", due=40, approaching=37)
    assert (await row(sessionmaker, "k")).due_on == D + timedelta(days=20)
    # Scheduling the same dates again is harmless, even now.
    await schedule(sessionmaker, "k", due=20, approaching=17)
    # Met late, then the next cycle of the same obligation opens under the same key.
    async with sessionmaker() as session:
        await meet_deadline(session, "k")
        await session.commit()
    reopened = await schedule(sessionmaker, "k", due=40, approaching=37)
    assert reopened.met_at is None and reopened.missed_emitted_at is None and reopened.approaching_emitted_at is None
    clock.set_day(D + timedelta(days=41))
    await sweeper.sweep(sessionmaker)
    assert await counts(sessionmaker) == {("k", "approaching"): 2, ("k", "missed"): 2}


async def lapses(sessionmaker) -> list[str]:
    async with sessionmaker() as session:
        return list((await session.execute(select(Lapse.subject_id).order_by(Lapse.subject_id))).scalars())


async def test_the_missed_hook_commits_with_the_event(database):
    url, _, sessionmaker = database

    async def lapse_status(session: AsyncSession, deadline: Deadline) -> None:
        session.add(Lapse(subject_id=deadline.subject_id))

    sweeper = sweeper_for(url, Clock(D + timedelta(days=11)), on_missed=lapse_status)
    await schedule(sessionmaker, "org-1", due=10, approaching=7)
    await sweeper.sweep(sessionmaker)
    await sweeper.sweep(sessionmaker)
    assert await lapses(sessionmaker) == ["org-1"]
    assert await counts(sessionmaker) == {("org-1", "missed"): 1}


async def test_a_failing_missed_hook_leaves_neither_event_nor_mark(database):
    url, _, sessionmaker = database
    broken = {"org-bad"}

    async def lapse_status(session: AsyncSession, deadline: Deadline) -> None:
        session.add(Lapse(subject_id=deadline.subject_id))
        await session.flush()  # the effect reached the database before the failure
        if deadline.subject_id in broken:
            raise RuntimeError("cannot lapse this status now")

    clock = Clock(D + timedelta(days=11))
    sweeper = sweeper_for(url, clock, on_missed=lapse_status, batch_size=1)  # the failure must not block the rest
    await schedule(sessionmaker, "org-bad", due=9, approaching=7)
    await schedule(sessionmaker, "org-good", due=10, approaching=7)
    result = await sweeper.sweep(sessionmaker)
    assert (result.missed, result.failed) == (1, 1)
    assert await counts(sessionmaker) == {("org-good", "missed"): 1}
    assert await lapses(sessionmaker) == ["org-good"]
    bad = await row(sessionmaker, "org-bad")
    assert bad.missed_emitted_at is None and bad.version == 1
    # Mended: the next pass emits it, once.
    broken.clear()
    await sweeper.sweep(sessionmaker)
    await sweeper.sweep(sessionmaker)
    assert await counts(sessionmaker) == {("org-good", "missed"): 1, ("org-bad", "missed"): 1}
    assert await lapses(sessionmaker) == ["org-bad", "org-good"]


# Row locks are PostgreSQL's; SQLite has one connection, hence no concurrent writer to step around.
@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_deadline_being_changed_is_left_to_the_next_pass_not_waited_for(database):
    url, _, sessionmaker = database
    clock = Clock(D + timedelta(days=7))
    sweeper = sweeper_for(url, clock)
    await schedule(sessionmaker, "busy", due=10, approaching=7)
    await schedule(sessionmaker, "free", due=10, approaching=7)
    other_engine = create_engine(url)
    try:
        async with create_sessionmaker(other_engine)() as business:
            # A business transaction is re-scheduling "busy" (it holds the row lock) ...
            await schedule_deadline(business, key="busy", kind="sample_obligation", subject_id="busy",
                                    due_on=D + timedelta(days=12), approaching_on=D + timedelta(days=7),
                                    audience=[ORGANISATION])
            result = await asyncio.wait_for(sweeper.sweep(sessionmaker), timeout=10)
            assert (result.approaching, result.failed) == (1, 0)
            await business.commit()
    finally:
        await other_engine.dispose()
    # ... and once it committed, the next pass sees its new dates.
    await sweeper.sweep(sessionmaker)
    assert await counts(sessionmaker) == {("free", "approaching"): 1, ("busy", "approaching"): 1}
    busy = await row(sessionmaker, "busy")
    assert busy.due_on == D + timedelta(days=12) and busy.approaching_emitted_at is not None


async def test_two_sweepers_at_once_emit_each_event_exactly_once(database):
    """Two replicas: on PostgreSQL each with its own engine (FOR UPDATE SKIP LOCKED decides);
    on SQLite both in one process over its single connection."""
    url, engine, sessionmaker = database
    other_engine = create_engine(url) if url.startswith("postgresql") else engine
    other_sessionmaker = create_sessionmaker(other_engine)
    hooked: list[str] = []

    async def on_missed(session: AsyncSession, deadline: Deadline) -> None:
        hooked.append(deadline.key)
        await asyncio.sleep(0)  # let the other sweeper run while this transaction is open

    clock = Clock(D)
    sweepers = [sweeper_for(url, clock, on_missed=on_missed, batch_size=batch) for batch in (200, 17)]
    async with sessionmaker() as session:
        for i in range(200):
            await schedule_deadline(session, key=f"k{i:03d}", kind="sample_obligation", subject_id=f"s{i}",
                                    due_on=D + timedelta(days=3), approaching_on=D + timedelta(days=1),
                                    audience=[ORGANISATION])
        await session.commit()
    try:
        for day, emission in ((1, "approaching"), (2, None), (4, "missed"), (5, None)):
            clock.set_day(D + timedelta(days=day))
            results = []
            for _ in range(3):
                results += await asyncio.gather(sweepers[0].sweep(sessionmaker),
                                                sweepers[1].sweep(other_sessionmaker))
            if emission is not None:
                assert sum(getattr(r, emission) for r in results) == 200
            assert sum(r.failed for r in results) == 0
        seen = await counts(sessionmaker)
        assert len(seen) == 400 and set(seen.values()) == {1}
        assert sorted(hooked) == sorted(f"k{i:03d}" for i in range(200))
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 400
    finally:
        if other_engine is not engine:
            await other_engine.dispose()


# --- wired into a service: the lifespan sweeps, the relay publishes ----------------------

ENV_PY = "from kernel.migrations import run_env\n\nrun_env()\n"
VERSION_PY = '''"""Kernel tables and deadlines."""
from kernel.migrations import create_deadline_table_v1, create_kernel_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kernel_tables_v1()
    create_deadline_table_v1()
'''


async def test_a_service_with_deadlines_sweeps_and_publishes(tmp_path, make_database, nats_server, signer,
                                                             public_key):
    from kernel.settings import ServiceSettings

    migrations = tmp_path / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text(ENV_PY)
    (migrations / "versions" / "0001_initial.py").write_text(VERSION_PY)
    clock = Clock(D + timedelta(days=20))
    settings = ServiceSettings(**{**TEST_SETTINGS, "database_url": await make_database("sample"),
                                  "nats_url": nats_server.url, "identity_public_key": public_key,
                                  "deadline_sweep_seconds": 0.2})
    definition = ServiceDefinition(name="sample", title="Sample", description="A service with deadlines",
                                   settings=settings, migrations_dir=migrations,
                                   sends=[SampleApproaching, SampleMissed],
                                   deadlines=DeadlineSpec(approaching=SampleApproaching, missed=SampleMissed,
                                                          clock=clock))
    bus = Bus(nats_server.url, name="deadline-listener")
    async with running(create_service_app(definition), signer, "sample") as service:
        state = service.state
        assert state.deadline_sweeper is not None
        await schedule(state.sessionmaker, "status-confirmation:x", due=10, approaching=7)

        async def published() -> bool:
            async with state.sessionmaker() as session:
                return bool(await session.scalar(select(func.count()).select_from(OutboxMessage)
                                                 .where(OutboxMessage.published_at.is_not(None))))

        await eventually(published, what="the missed event published by the relay")
        await bus.connect()
        try:
            js = bus.jetstream()
            subscription = await js.pull_subscribe("kz.ntc.sample.>", durable="deadline-listener",
                                                   stream="SAMPLE_EVENTS")
            messages = await subscription.fetch(10, timeout=5)
            assert [m.subject for m in messages] == [SampleMissed.event_type]
            assert json.loads(messages[0].data)["data"]["key"] == "status-confirmation:x"
        finally:
            await bus.close()
