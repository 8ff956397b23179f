"""Two replicas of a service, one database, one clock: each missed deadline is announced once.

Issues 5 and 6 ask for it in these words: a missed 10-day entry period (bargaining) and an
overdue employer answer (disputes) each produce exactly one missed-deadline event, also with two
replicas of the service running. Both replicas run their own deadline sweeper, relay and
consumers against one PostgreSQL database, as two pods of one Deployment would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date, datetime, timedelta

import pytest

from contracts.bargaining import DeadlineMissed as BargainingDeadlineMissed
from contracts.bargaining import NegotiationEvaded
from contracts.disputes import AnswerOverdue
from contracts.disputes import DeadlineMissed as DisputesDeadlineMissed
from kernel.app import ServiceDefinition
from kernel.calendar import KAZAKHSTAN
from services.bargaining.app import definition as bargaining_definition
from services.bargaining.settings import BargainingSettings
from services.disputes.app import definition as disputes_definition
from services.disputes.settings import DisputesSettings
from tests.bargaining import test_negotiation_api as bargaining_api
from tests.disputes import test_collective_api as disputes_api
from tests.support.services import Clock, RunningService, eventually, running, settings_for, with_clock
from tests.support.services import outbox_events as events_of


@pytest.fixture(autouse=True)
def postgres_only(backend: str) -> None:
    if backend != "postgres":
        pytest.skip("several replicas share one database on PostgreSQL; SQLite serves one process")


@asynccontextmanager
async def replicas(make: Callable[[], ServiceDefinition], clock: Clock, signer,
                   name: str) -> AsyncIterator[list[RunningService]]:
    async with AsyncExitStack() as stack:
        services = [await stack.enter_async_context(running(with_clock(make(), clock), signer, f"{name}-{n}"))
                    for n in (1, 2)]
        yield services


async def exactly_once(services: list[RunningService], event_type: str, subject_id: str,
                       settled: Callable[[], Awaitable[bool]]) -> None:
    """Wait until the replicas have acted, give every sweeper more rounds, then count the events."""
    await eventually(settled, timeout=30, what="the missed deadline to be acted on")
    await asyncio.sleep(1.0)  # ten more sweeps on each replica: nothing further may be written
    # Both replicas write to one outbox; reading it through either sees every row.
    missed = [e for e in await events_of(services[0], event_type) if e.data["subject_id"] == subject_id]
    assert len(missed) == 1, [e.id for e in missed]


async def test_bargaining_two_replicas_announce_a_missed_entry_period_once(make_database, nats_server, public_key,
                                                                          signer) -> None:
    url = await make_database("bargaining")
    clock = Clock(datetime.now(KAZAKHSTAN))

    def make() -> ServiceDefinition:
        return bargaining_definition(settings_for(BargainingSettings, database_url=url, nats_url=nats_server.url,
                                                  public_key=public_key, deadline_sweep_seconds=0.1))

    async with replicas(make, clock, signer, "bargaining") as (first, second):
        negotiation_id, union, _ = await bargaining_api.enterprise_negotiation(first)
        seen = await second.client.get(f"/negotiations/{negotiation_id}", headers=bargaining_api.org(second, union))
        due = date.fromisoformat(seen.json()["entry_due"])
        clock.now = datetime.combine(due + timedelta(days=1), datetime.min.time(), tzinfo=KAZAKHSTAN)

        async def evaded() -> bool:
            events = await events_of(first, NegotiationEvaded.event_type)
            return any(e.subject == negotiation_id for e in events)

        await exactly_once([first, second], BargainingDeadlineMissed.event_type, negotiation_id, evaded)
        assert [e.subject for e in await events_of(second, NegotiationEvaded.event_type)] == [negotiation_id]


async def test_disputes_two_replicas_announce_an_overdue_employer_answer_once(make_database, nats_server,
                                                                             public_key, signer) -> None:
    url = await make_database("disputes")
    clock = Clock(datetime(2026, 3, 20, 10, 0, tzinfo=KAZAKHSTAN))

    def make() -> ServiceDefinition:
        return disputes_definition(settings_for(DisputesSettings, database_url=url, nats_url=nats_server.url,
                                                public_key=public_key, deadline_sweep_seconds=0.1))

    async with replicas(make, clock, signer, "disputes") as (first, second):
        dispute_id, union, _ = await disputes_api.demands(first, submitted_on="2026-03-20")
        # The answer was due on Monday 30 March (Nauryz and its transferred days off came between).
        clock.now = datetime(2026, 3, 31, 0, 5, tzinfo=KAZAKHSTAN)

        async def overdue() -> bool:
            seen = await second.client.get(f"/collective-disputes/{dispute_id}",
                                           headers=disputes_api.org(second, union))
            return seen.json()["status"] == "answer_overdue"

        await exactly_once([first, second], DisputesDeadlineMissed.event_type, dispute_id, overdue)
        assert [e.subject for e in await events_of(first, AnswerOverdue.event_type)] == [dispute_id]
