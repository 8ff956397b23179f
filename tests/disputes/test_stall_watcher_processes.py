"""The stall watcher announces each stalled stage exactly once (SQLite and PostgreSQL).

Two watchers with connections of their own - two processes over one SQLite file (a restart overlapping the old
process) take no row lock - each claim the mark only if the stage is still unmarked, and emit only then. A pass
goes through every stalled stage, page by page, and a stage that fails does not keep the others back.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from contracts.disputes import DisputeStalled
from kernel.db import create_engine, create_sessionmaker
from kernel.migrations import upgrade
from kernel.outbox import OutboxMessage
from services.disputes.collective import service as collective
from services.disputes.collective.models import CollectiveDispute, DisputeStage
from services.disputes.collective.service import StallWatcher

ROOT = Path(__file__).resolve().parents[2]
STARTED = date(2026, 3, 2)
TODAY = datetime(2026, 4, 20, 9, 0, tzinfo=UTC)  # weeks past every stage's limit


async def _stalled_disputes(sessionmaker, count: int) -> list[uuid.UUID]:
    """``count`` disputes whose demands were rejected on ``STARTED`` (or a few days later) and taken no further."""
    stages = []
    async with sessionmaker() as session:
        for i in range(count):
            dispute = CollectiveDispute(status="rejected", union_id=uuid.uuid4(), workers_name="Профсоюз",
                                        employer_id=uuid.uuid4(), employer_name="ТОО Завод", workers_concerned=80,
                                        submitted_on=STARTED, answer_due=STARTED + timedelta(days=3),
                                        rules_code="labour-code-2015")
            session.add(dispute)
            stage = DisputeStage(dispute_id=dispute.id, number=1, stage="rejected",
                                 started_on=STARTED + timedelta(days=i % 5), recorded_by="test")
            session.add(stage)
            stages.append(stage.id)
            await session.flush()
        await session.commit()
    return stages


async def _announced(sessionmaker) -> list[str]:
    async with sessionmaker() as session:
        return list((await session.execute(select(OutboxMessage.subject).where(
            OutboxMessage.type == DisputeStalled.event_type))).scalars())


def _state(sessionmaker) -> SimpleNamespace:
    """What a watcher reads of the service's state: its sessions and the deadline clock."""
    return SimpleNamespace(sessionmaker=sessionmaker,
                           definition=SimpleNamespace(deadlines=SimpleNamespace(clock=lambda: TODAY)))


@pytest.fixture
async def database(make_database):
    url = await make_database("disputes")
    engine = create_engine(url)
    await upgrade(engine, ROOT / "services/disputes/migrations")
    yield url, engine, create_sessionmaker(engine)
    await engine.dispose()


async def test_two_watchers_announce_each_stalled_stage_once(database) -> None:
    url, _, sessionmaker = database
    other_engine = create_engine(url)  # another process: a connection of its own
    other_sessionmaker = create_sessionmaker(other_engine)
    await _stalled_disputes(sessionmaker, 250)
    try:
        watchers = [StallWatcher(), StallWatcher(page_size=17)]
        announced = 0
        for _ in range(3):  # what a pass that lost a race leaves is looked at on the next one
            # No row locks: what each process does alone on SQLite, or watchers taking no lock on PostgreSQL.
            announced += sum(await asyncio.gather(watchers[0].sweep(_state(sessionmaker), skip_locked=False),
                                                  watchers[1].sweep(_state(other_sessionmaker), skip_locked=False)))
        subjects = await _announced(sessionmaker)
        assert announced == len(subjects) == 250
        assert len(set(subjects)) == 250  # one event per dispute
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(DisputeStage).where(
                DisputeStage.stalled_event_at.is_(None))) == 0  # type: ignore[union-attr]
    finally:
        await other_engine.dispose()


async def test_one_pass_announces_every_stage_past_the_first_page_and_past_a_failing_one(
        database, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, sessionmaker = database
    stages = await _stalled_disputes(sessionmaker, 230)
    async with sessionmaker() as session:  # the oldest stage, first in the first page, fails to be announced
        failing = await session.scalar(select(DisputeStage.id).order_by(DisputeStage.started_on, DisputeStage.id))
    announce = collective.announce_stalled

    async def announce_or_fail(session, stage_id, today, *, skip_locked):
        if stage_id == failing:
            raise RuntimeError("a stage that cannot be announced")
        return await announce(session, stage_id, today, skip_locked=skip_locked)

    monkeypatch.setattr(collective, "announce_stalled", announce_or_fail)
    watcher = StallWatcher()
    assert await watcher.sweep(_state(sessionmaker), skip_locked=False) == 229
    assert len(await _announced(sessionmaker)) == 229
    monkeypatch.setattr(collective, "announce_stalled", announce)
    # The next pass retries the one that failed, and finds nothing else to announce.
    assert await watcher.sweep(_state(sessionmaker), skip_locked=False) == 1
    assert await watcher.sweep(_state(sessionmaker), skip_locked=False) == 0
    assert len(set(await _announced(sessionmaker))) == len(stages) == 230
