"""A protocol of disagreements that arrives before the registry projection knows its parties (the two come
from different streams through different durable consumers, with nothing ordering them: a replay into an
empty database, or the registry consumer running behind) is not acked as 'opens nothing': it is redelivered
and opens its draft once the parties are known. A real nats-server, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import func, select

from kernel.consumer import InboxRecord
from kernel.events import envelope
from services.disputes.app import create_app
from services.disputes.collective.models import CollectiveDispute
from services.disputes.consumers.bargaining import PartiesNotYetKnown, on_bargaining_event
from services.disputes.parties.models import Party
from services.disputes.settings import DisputesSettings
from tests.disputes.test_from_bargaining_api import drafts, protocol, publish, publisher  # noqa: F401 (fixture)
from tests.support.services import RunningService, eventually, running, settings_for


@pytest.fixture
async def disputes(make_database, nats_server, public_key, signer, publisher) -> AsyncIterator[RunningService]:  # noqa: F811
    # Room for the registry projection to catch up: redelivered every 0.3 s, up to 30 times.
    settings = settings_for(DisputesSettings, database_url=await make_database("disputes"),
                            nats_url=nats_server.url, public_key=public_key, consumer_max_deliver=30)
    async with running(create_app(settings), signer, "disputes") as service:
        yield service


async def add_party(service: RunningService, party_id: str, kind: str, name: str) -> None:
    async with service.state.sessionmaker() as session:
        session.add(Party(id=uuid.UUID(party_id), kind=kind, name_kk=name, name_ru=name, region_code="35",
                          registry_status="registered"))
        await session.commit()


async def test_a_protocol_before_its_parties_is_applied_once_they_are_known(disputes: RunningService,
                                                                          publisher) -> None:  # noqa: F811
    service = disputes
    union, employer = str(uuid.uuid4()), str(uuid.uuid4())
    signed = protocol(union, employer)
    sent = await publish(publisher, signed)

    async def delivered() -> bool:
        try:
            info = await publisher.jetstream().consumer_info("BARGAINING_EVENTS", "disputes-bargaining")
        except NotFoundError:  # not declared yet
            return False
        return info.delivered.consumer_seq >= 1
    await eventually(delivered, what="the protocol's first delivery")
    await asyncio.sleep(0.5)  # the first attempt has run, against a projection without the parties
    async with service.state.sessionmaker() as session:
        assert await session.get(InboxRecord, ("disputes-bargaining", sent.id)) is None  # not taken as applied

    # The registry projection catches up: the protocol, redelivered, now opens its draft.
    await add_party(service, union, "primary_union_organisation", "Профсоюз горняков")
    await add_party(service, employer, "employer", "АО Рудник")
    [opened] = await eventually(lambda: drafts(service), timeout=10, what="the draft dispute")
    assert opened.data["union_id"] == union and opened.data["employer_id"] == employer
    await asyncio.sleep(0.5)
    assert len(await drafts(service)) == 1


async def test_the_handler_refuses_a_protocol_whose_parties_are_unknown(disputes: RunningService) -> None:
    """The handler itself, on the database: nothing is written, and the failure is not a poison (retried)."""
    service = disputes
    union, employer = str(uuid.uuid4()), str(uuid.uuid4())
    await add_party(service, union, "primary_union_organisation", "Профсоюз")
    event = envelope(protocol(union, employer), source="/bargaining")
    async with service.state.sessionmaker() as session:
        with pytest.raises(PartiesNotYetKnown, match=employer):
            await on_bargaining_event(session, event)
        await session.rollback()
    await add_party(service, employer, "employer", "ТОО Завод")
    async with service.state.sessionmaker() as session:
        await on_bargaining_event(session, event)
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(CollectiveDispute)) == 1
