"""A late registry update loses nothing to a later status change (bargaining and disputes parties; SQLite and
PostgreSQL).

The parties projections guard an organisation's particulars (kind, names, region: what an update carries) and its
status each by a time of their own: a rename whose first delivery failed, redelivered after a later lapse was
applied, still renames and leaves the lapse; a rename older than the one applied changes no particulars. A row
there before the migration takes the particulars' time from the one time it had.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from contracts.registry import OrganisationKind, OrganisationRegistered, OrganisationUpdated, StatusLapsed
from kernel.db import create_engine, create_sessionmaker
from kernel.events import envelope
from kernel.migrations import alembic_config, upgrade
from services.bargaining.consumers.registry import on_registry_event as bargaining_handler
from services.bargaining.parties.models import Party as BargainingParty
from services.disputes.consumers.registry import on_registry_event as disputes_handler
from services.disputes.parties.models import Party as DisputesParty

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
SERVICES = {"bargaining": (bargaining_handler, BargainingParty, "0006"),
            "disputes": (disputes_handler, DisputesParty, "0005")}


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_a_late_rename_applies_after_a_later_status_change(service: str, make_database) -> None:
    handler, party_table, _ = SERVICES[service]
    engine = create_engine(await make_database(service))
    await upgrade(engine, ROOT / f"services/{service}/migrations")
    sessionmaker = create_sessionmaker(engine)
    organisation = uuid.uuid4()

    def at(minutes: int, data):
        return envelope(data, source="/registry", time=T0 + timedelta(minutes=minutes))

    def renamed(minutes: int, name: str, *, status: str = "registered", kind=OrganisationKind.local_union,
                region: str | None = None):
        return at(minutes, OrganisationUpdated(
            audience=[organisation], organisation_id=organisation, status=status, kind=kind,
            name_kk=name, name_ru=name, region_code=region, changed=["name_ru", "name_kk"]))

    registered = at(0, OrganisationRegistered(
        audience=[organisation], organisation_id=organisation, kind=OrganisationKind.local_union,
        name_kk="Кәсіподақ", name_ru="Профсоюз", region_code="35", status="registered", registered_at=T0))
    lapsed = at(30, StatusLapsed(audience=[organisation], organisation_id=organisation, status="lapsed",
                                 lapsed_on=date(2026, 5, 4), reason="confirmation_refused"))

    async def apply(*events) -> tuple[str, str, str, str | None]:
        async with sessionmaker() as session:
            for event in events:
                await handler(session, event)
            await session.commit()
        async with sessionmaker() as session:
            party = await session.get(party_table, organisation)
            return party.registry_status, party.name_ru, party.kind, party.region_code

    # Renamed at T20 and lapsed at T30; the rename's first delivery failed, the lapse was applied.
    assert await apply(registered, lapsed) == ("lapsed", "Профсоюз", "local_union", "35")
    # The rename comes again: its particulars apply, its status ('registered' at T20) does not undo the lapse.
    assert await apply(renamed(20, "Новое название", kind=OrganisationKind.primary_union_organisation,
                               region="75")) == ("lapsed", "Новое название", "primary_union_organisation", "75")
    # A later rename, then an older one redelivered: the later particulars stay. The registration, redelivered
    # last, changes nothing either.
    assert await apply(renamed(40, "Третье название", status="lapsed"), renamed(25, "Второе название"), registered) == (
        "lapsed", "Третье название", "local_union", None)
    await engine.dispose()


def _upgrade_to(connection: sa.Connection, migrations_dir: Path, url: str, revision: str) -> None:
    config = alembic_config(migrations_dir, url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_rows_there_before_take_the_particulars_time_from_their_one_time(service: str,
                                                                                make_database) -> None:
    _, party_table, before = SERVICES[service]
    url = await make_database(service)
    migrations_dir = ROOT / f"services/{service}/migrations"
    engine = create_engine(url)
    organisation, stamp = uuid.uuid4(), T0 + timedelta(days=3)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, migrations_dir, url, before)
            columns = (sa.column(column.name, column.type) for column in party_table.__table__.c
                       if column.name != "details_updated_at")
            await connection.execute(sa.insert(sa.table("party", *columns)).values(
                id=organisation, kind="employer", name_ru="АО", name_kk="АҚ", registry_status="registered",
                updated_at=stamp))
        await upgrade(engine, migrations_dir)
        async with create_sessionmaker(engine)() as session:
            party = await session.get(party_table, organisation)
            assert (party.updated_at, party.details_updated_at) == (stamp, stamp)
    finally:
        await engine.dispose()
