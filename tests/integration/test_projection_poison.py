"""A registry event whose data does not match its contract can never be applied: the bargaining and disputes
consumers terminate it at once as poison (dead-lettered with the reason, for a person to look at), instead of
redelivering it until the deliveries run out; the events after it are applied. A real nats-server, SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from contracts.bargaining import DisagreementProtocolSigned
from contracts.registry import OrganisationKind, OrganisationRegistered
from kernel.bus import Bus, StreamSpec, declare_stream
from kernel.consumer import DeadLetter, PoisonEvent
from kernel.events import CloudEvent, envelope, stream_name, stream_subjects
from services.bargaining.app import create_app as bargaining_app
from services.bargaining.parties.models import Party
from services.bargaining.settings import BargainingSettings
from services.disputes.consumers.bargaining import on_bargaining_event
from services.disputes.consumers.registry import on_registry_event as disputes_registry_handler
from tests.support.services import RunningService, eventually, running, settings_for


@pytest.fixture
async def registry_publisher(nats_server) -> AsyncIterator[Bus]:
    bus = Bus(nats_server.url, name="registry-publisher")
    await bus.connect()
    await declare_stream(bus.jetstream(), StreamSpec(name=stream_name("registry"),
                                                     subjects=stream_subjects("registry")))
    yield bus
    await bus.close()


@pytest.fixture
async def bargaining(make_database, nats_server, public_key, signer,
                     registry_publisher) -> AsyncIterator[RunningService]:
    # Many deliveries, far apart: without termination the bad event would not reach the dead letters in the test.
    settings = settings_for(BargainingSettings, database_url=await make_database("bargaining"),
                            nats_url=nats_server.url, public_key=public_key, consumer_max_deliver=10,
                            consumer_backoff_seconds=(5.0,))
    async with running(bargaining_app(settings), signer, "bargaining") as service:
        yield service


def registered(organisation: uuid.UUID) -> CloudEvent:
    return envelope(OrganisationRegistered(
        audience=[organisation], organisation_id=organisation, kind=OrganisationKind.employer, name_kk="Зауыт",
        name_ru="Завод", bin="123456789012", status="registered", registered_at=datetime.now(UTC)),
        source="/registry")


async def publish(bus: Bus, event: CloudEvent) -> None:
    await bus.jetstream().publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})


async def test_a_registry_event_against_its_contract_is_terminated_at_once(bargaining: RunningService,
                                                                           registry_publisher: Bus) -> None:
    service = bargaining
    bad = registered(uuid.uuid4())
    bad.data["kind"] = "guild"  # no such kind of organisation
    good_id = uuid.uuid4()
    await publish(registry_publisher, bad)
    await publish(registry_publisher, registered(good_id))

    async def dead_letters() -> list[DeadLetter]:
        async with service.state.sessionmaker() as session:
            return list((await session.execute(select(DeadLetter))).scalars())

    [dead] = await eventually(dead_letters, timeout=4, what="the bad event among the dead letters")
    assert (dead.consumer, dead.reason, dead.event_id, dead.deliveries) == (
        "bargaining-registry", "terminated", bad.id, 1)
    assert "does not match the contract" in (dead.last_error or "")

    async def good_applied() -> Party | None:
        async with service.state.sessionmaker() as session:
            return await session.get(Party, good_id)
    assert (await eventually(good_applied, what="the next event applied")).name_ru == "Завод"


async def test_the_disputes_handlers_take_data_against_the_contract_for_poison() -> None:
    """No database needed: the data is refused before anything is read or written."""
    bad = registered(uuid.uuid4())
    del bad.data["name_ru"]
    with pytest.raises(PoisonEvent, match="does not match the contract"):
        await disputes_registry_handler(None, bad)  # type: ignore[arg-type]
    protocol = CloudEvent.model_validate({**bad.model_dump(mode="json"), "id": str(uuid.uuid4()),
                                          "type": DisagreementProtocolSigned.event_type, "source": "/bargaining"})
    with pytest.raises(PoisonEvent, match="does not match the contract"):
        await on_bargaining_event(None, protocol)  # type: ignore[arg-type]
