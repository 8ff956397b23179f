"""A registry event redelivered late cannot take a projection back (bargaining and disputes parties).

JetStream redelivers a message that was nak'd or not acked in time, possibly after newer
messages for the same organisation were applied, and two consumer replicas may apply two
events of one organisation in either order. Each party row keeps the registry's time of the
status last applied and of the particulars last applied; an older change of the same kind finds
it and changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from contracts.registry import (
    OrganisationKind,
    OrganisationRegistered,
    OrganisationUpdated,
    RuleSetReference,
    StatusConfirmed,
    StatusLapsed,
)
from kernel.db import create_engine, create_sessionmaker
from kernel.events import envelope
from kernel.migrations import upgrade
from services.bargaining.consumers.registry import on_registry_event as bargaining_handler
from services.bargaining.parties.models import Party as BargainingParty
from services.disputes.consumers.registry import on_registry_event as disputes_handler
from services.disputes.parties.models import Party as DisputesParty

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
RULES = RuleSetReference(code="trade-unions-2020", revision=1, title="Law on Trade Unions as amended in 2020")
SERVICES = {"bargaining": (bargaining_handler, BargainingParty), "disputes": (disputes_handler, DisputesParty)}


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_older_registry_events_applied_late_change_nothing(service: str, make_database) -> None:
    handler, party_table = SERVICES[service]
    engine = create_engine(await make_database(service))
    await upgrade(engine, ROOT / f"services/{service}/migrations")
    sessionmaker = create_sessionmaker(engine)
    organisation = uuid.uuid4()

    def at(minutes: int, data):
        return envelope(data, source="/registry", time=T0 + timedelta(minutes=minutes))

    registered = at(0, OrganisationRegistered(
        audience=[organisation], organisation_id=organisation, kind=OrganisationKind.local_union,
        name_kk="Кәсіподақ", name_ru="Профсоюз", status="registered", registered_at=T0))
    confirmed = at(10, StatusConfirmed(audience=[organisation], organisation_id=organisation, status="confirmed",
                                       confirmed_on=date(2026, 5, 4), rule_set=RULES))
    renamed = at(20, OrganisationUpdated(audience=[organisation], organisation_id=organisation, status="confirmed",
                                         kind=OrganisationKind.local_union, name_kk="Жаңа атау",
                                         name_ru="Новое название", changed=["name_ru", "name_kk"]))
    lapsed = at(30, StatusLapsed(audience=[organisation], organisation_id=organisation, status="lapsed",
                                 lapsed_on=date(2026, 5, 4), reason="confirmation_refused"))

    async def apply(*events) -> tuple[str, str]:
        async with sessionmaker() as session:
            for event in events:
                await handler(session, event)
            await session.commit()
        async with sessionmaker() as session:
            party = await session.get(party_table, organisation)
            return party.registry_status, party.name_ru

    assert await apply(registered, lapsed) == ("lapsed", "Профсоюз")
    # Redelivered late, in any order: the confirmation, the rename and the registration are all older than the
    # lapse, so the status stays; the rename is the latest change of the particulars, so the new name arrives.
    assert await apply(confirmed, renamed, registered) == ("lapsed", "Новое название")
    # In order, each applies.
    other = uuid.uuid4()
    for event in (registered, confirmed, renamed, lapsed):
        event.data["organisation_id"] = str(other)
    organisation = other
    assert await apply(registered) == ("registered", "Профсоюз")
    assert await apply(confirmed, renamed) == ("confirmed", "Новое название")
    await engine.dispose()
