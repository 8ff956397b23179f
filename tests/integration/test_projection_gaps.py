"""A registry change that overtakes the organisation's registration (the registration failed once and is being
redelivered, so later events of the stream came first) is not acked with its effect lost: the parties
projections (bargaining and disputes; SQLite and PostgreSQL) refuse it as not yet applicable, so it is
redelivered, and applied after the registration. An update of an organisation the registry has not registered
(an applicant) has no registration to wait for and changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contracts.registry import (
    OrganisationKind,
    OrganisationLiquidated,
    OrganisationRegistered,
    OrganisationUpdated,
    StatusLapsed,
)
from kernel.consumer import PoisonEvent
from kernel.db import create_engine, create_sessionmaker
from kernel.events import envelope
from kernel.migrations import upgrade
from services.bargaining.consumers.registry import on_registry_event as bargaining_handler
from services.bargaining.parties.models import Party as BargainingParty
from services.bargaining.parties.service import PartyNotYetKnown as BargainingNotYetKnown
from services.disputes.consumers.registry import on_registry_event as disputes_handler
from services.disputes.parties.models import Party as DisputesParty
from services.disputes.parties.service import PartyNotYetKnown as DisputesNotYetKnown

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
SERVICES = {"bargaining": (bargaining_handler, BargainingParty, BargainingNotYetKnown),
            "disputes": (disputes_handler, DisputesParty, DisputesNotYetKnown)}


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_a_change_before_its_registration_waits_for_it(service: str, make_database) -> None:
    handler, party_table, not_yet_known = SERVICES[service]
    assert not issubclass(not_yet_known, PoisonEvent)  # retried, never terminated
    engine = create_engine(await make_database(service))
    await upgrade(engine, ROOT / f"services/{service}/migrations")
    sessionmaker = create_sessionmaker(engine)
    organisation = uuid.uuid4()

    def at(minutes: int, data):
        return envelope(data, source="/registry", time=T0 + timedelta(minutes=minutes))

    registered = at(0, OrganisationRegistered(
        audience=[organisation], organisation_id=organisation, kind=OrganisationKind.local_union,
        name_kk="Кәсіподақ", name_ru="Профсоюз", bin="123456789012", status="registered", registered_at=T0))
    renamed = at(10, OrganisationUpdated(audience=[organisation], organisation_id=organisation, status="registered",
                                         kind=OrganisationKind.local_union, name_kk="Жаңа атау",
                                         name_ru="Новое название", changed=["name_ru", "name_kk"]))
    lapsed = at(20, StatusLapsed(audience=[organisation], organisation_id=organisation, status="lapsed",
                                 lapsed_on=date(2026, 5, 4), reason="deadline_missed"))
    liquidated = at(30, OrganisationLiquidated(audience=[organisation], organisation_id=organisation,
                                               status="liquidated", liquidated_on=date(2026, 5, 4),
                                               reason="court decision"))

    async def apply(event) -> None:
        async with sessionmaker() as session:
            await handler(session, event)
            await session.commit()

    async def state() -> tuple[str, str, str | None] | None:
        async with sessionmaker() as session:
            party = await session.get(party_table, organisation)
            return None if party is None else (party.registry_status, party.name_ru, party.bin)

    # The later events arrive first: each fails (and would be redelivered), leaving nothing behind.
    for early in (renamed, lapsed, liquidated):
        with pytest.raises(not_yet_known, match=str(organisation)):
            await apply(early)
        assert await state() is None
    # The registration comes, then the redelivered changes, each applied.
    await apply(registered)
    await apply(renamed)
    assert await state() == ("registered", "Новое название", "123456789012")
    await apply(lapsed)
    await apply(liquidated)
    assert await state() == ("liquidated", "Новое название", "123456789012")
    # Redelivered once more, now older than what the row holds: nothing changes and nothing fails.
    for late in (renamed, lapsed, registered):
        await apply(late)
    assert await state() == ("liquidated", "Новое название", "123456789012")

    # An applicant's details changed: no registration precedes it, nothing to wait for, nothing written.
    applicant = uuid.uuid4()
    await apply(at(40, OrganisationUpdated(audience=[applicant], organisation_id=applicant, status="applicant",
                                           kind=OrganisationKind.local_union, name_kk="Өтініш беруші",
                                           name_ru="Заявитель", changed=["name_ru"])))
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(party_table)) == 1
    await engine.dispose()
