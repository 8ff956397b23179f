"""A batch of registry events applied in one go leaves the parties projections exactly as the
events applied one by one would (bargaining and disputes; SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from contracts.registry import OrganisationKind, OrganisationRegistered, OrganisationUpdated, StatusLapsed
from kernel.db import create_engine, create_sessionmaker, utcnow
from kernel.events import CloudEvent, EventData, envelope
from kernel.migrations import upgrade
from services.bargaining.consumers.registry import subscription as bargaining_subscription
from services.bargaining.parties.models import Party as BargainingParty
from services.disputes.consumers.registry import subscription as disputes_subscription
from services.disputes.parties.models import Party as DisputesParty

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "bargaining": (bargaining_subscription, BargainingParty),
    "disputes": (disputes_subscription, DisputesParty),
}


def _history() -> list[CloudEvent]:
    """Registrations mixed with changes to the same organisations, and an old registration redelivered late."""
    start = utcnow() - timedelta(hours=1)
    ids = [uuid.uuid4() for _ in range(6)]

    def at(minutes: int, data: EventData) -> CloudEvent:
        return envelope(data, source="/registry", time=start + timedelta(minutes=minutes))

    def registered(n: int) -> OrganisationRegistered:
        return OrganisationRegistered(audience=[ids[n]], organisation_id=ids[n], kind=OrganisationKind.local_union,
                                      name_kk=f"Кәсіподақ {n}", name_ru=f"Профсоюз {n}", status="registered",
                                      registered_at=start)

    first = at(0, registered(0))
    return [
        first,
        at(0, registered(1)),
        # Lapsed right after registering, in the same batch: must not be undone by the registration.
        at(5, StatusLapsed(audience=[ids[0]], organisation_id=ids[0], status="lapsed", lapsed_on=date(2026, 1, 5),
                           reason="deadline_missed")),
        at(1, registered(2)),
        at(6, OrganisationUpdated(audience=[ids[1]], organisation_id=ids[1], status="registered",
                                  kind=OrganisationKind.local_union, name_kk="Жаңа атау", name_ru="Новое имя",
                                  changed=["name_kk", "name_ru"])),
        at(2, registered(3)),
        # The first registration again, as a redelivery would bring it: older than the lapse, changes nothing.
        first,
        *[at(3, registered(n)) for n in (4, 5)],
    ]


async def _projection(make_database, service: str, events: list[CloudEvent], *, batch: bool) -> list[tuple]:
    subscription, party = SERVICES[service]
    engine = create_engine(await make_database(service))
    try:
        await upgrade(engine, ROOT / f"services/{service}/migrations")
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            if batch:
                assert subscription.batch_handler is not None
                await subscription.batch_handler(session, events)
            else:
                for event in events:
                    await subscription.handler(session, event)
            await session.commit()
        async with sessionmaker() as session:
            rows = (await session.execute(select(party).order_by(party.name_ru))).scalars().all()
            return [(str(p.id), p.name_kk, p.name_ru, p.registry_status, p.updated_at) for p in rows]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_a_batch_leaves_what_one_by_one_leaves(make_database, service):
    events = _history()
    one_by_one = await _projection(make_database, service, events, batch=False)
    in_one_batch = await _projection(make_database, service, events, batch=True)
    assert in_one_batch == one_by_one
    assert len(one_by_one) == 6
    statuses = {name_ru: status for _, _, name_ru, status, _ in one_by_one}
    assert statuses["Профсоюз 0"] == "lapsed"
    assert "Новое имя" in statuses and "Профсоюз 1" not in statuses
