"""Two sweepers that share no connection and take no row lock - two processes over one SQLite file (a restart
overlapping the old process), or sweepers built without skip_locked on PostgreSQL - still emit each deadline
event exactly once: the mark is claimed on the version the sweeper read."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from kernel.db import create_engine, create_sessionmaker
from kernel.deadlines import DeadlineSpec, DeadlineSweeper, schedule_deadline
from kernel.outbox import OutboxMessage
from tests.kernel.test_deadlines import (  # noqa: F401 (the database fixture)
    ORGANISATION,
    Clock,
    D,
    SampleApproaching,
    SampleMissed,
    counts,
    database,
)


async def test_two_processes_emit_each_event_exactly_once(database):  # noqa: F811
    url, engine, sessionmaker = database
    other_engine = create_engine(url)  # another process: a connection of its own
    other_sessionmaker = create_sessionmaker(other_engine)
    hooked: list[str] = []

    async def on_missed(session, deadline) -> None:
        hooked.append(deadline.key)
        await asyncio.sleep(0)

    clock = Clock(D)
    # No row locks: what each process does alone (SQLite), or a sweeper built without skip_locked (PostgreSQL).
    spec = DeadlineSpec(approaching=SampleApproaching, missed=SampleMissed, clock=clock, on_missed=on_missed)
    sweepers = [DeadlineSweeper(spec, service="sample", batch_size=batch) for batch in (200, 17)]
    async with sessionmaker() as session:
        for i in range(200):
            await schedule_deadline(session, key=f"k{i:03d}", kind="sample_obligation", subject_id=f"s{i}",
                                    due_on=D + timedelta(days=3), approaching_on=D + timedelta(days=1),
                                    audience=[ORGANISATION])
        await session.commit()
    try:
        for day, emission in ((1, "approaching"), (4, "missed")):
            clock.set_day(D + timedelta(days=day))
            results = []
            for _ in range(3):  # a pass that lost a race leaves the deadline to the next one
                results += await asyncio.gather(sweepers[0].sweep(sessionmaker),
                                                sweepers[1].sweep(other_sessionmaker))
            assert sum(getattr(r, emission) for r in results) == 200
        seen = await counts(sessionmaker)
        assert len(seen) == 400 and set(seen.values()) == {1}
        assert sorted(hooked) == sorted(f"k{i:03d}" for i in range(200))
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 400
    finally:
        await other_engine.dispose()
