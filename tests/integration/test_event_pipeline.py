"""The event pipeline end to end, with a real nats-server and real databases.

A write in the registry reaches consumers in other services exactly once — also when
nats-server is SIGKILLed between the write and the relay, when a consumer dies before
its ack, and across a server restart that the services do not notice.
"""

from __future__ import annotations

import uuid

import nats
import pytest
from sqlalchemy import func, select, update

from kernel.calendar import kazakhstan_today
from kernel.consumer import InboxRecord
from kernel.outbox import OutboxMessage
from services.bargaining.app import create_app as create_bargaining
from services.bargaining.parties.models import Party
from services.bargaining.settings import BargainingSettings
from services.notifications.app import create_app as create_notifications
from services.notifications.inbox.models import InboxMessage
from services.notifications.settings import NotificationsSettings
from services.registry.app import create_app as create_registry
from services.registry.organisations.rules import make_bin
from services.registry.settings import RegistrySettings
from tests.support.services import RunningService, eventually, running, settings_for

REGISTRAR = {"registrar"}


def union_application(name: str = "Құрылысшылар кәсіподағы") -> dict[str, str]:
    return {"kind": "sectoral_union", "name_kk": name, "name_ru": f"Профсоюз {uuid.uuid4().hex[:6]}",
            "name_en": "Builders' union", "region_code": "750000000"}


async def register(registry: RunningService, body: dict[str, str] | None = None) -> dict:
    response = await registry.client.post("/organisations", json=body or union_application(),
                                          headers=registry.headers(roles=REGISTRAR))
    assert response.status_code == 201, response.text
    return response.json()


async def count(service: RunningService, model, *where) -> int:
    async with service.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def stream_messages(nats_url: str, stream: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info(stream)
        return info.state.messages
    finally:
        await nc.close()


@pytest.fixture
async def services(make_database, nats_server, signer, public_key):
    """Registry, bargaining and notifications, in-process, each with its own database."""
    made = {}
    registry_settings = settings_for(RegistrySettings, database_url=await make_database("registry"),
                                     nats_url=nats_server.url, public_key=public_key)
    bargaining_settings = settings_for(BargainingSettings, database_url=await make_database("bargaining"),
                                       nats_url=nats_server.url, public_key=public_key)
    notifications_settings = settings_for(NotificationsSettings, database_url=await make_database("notifications"),
                                          nats_url=nats_server.url, public_key=public_key)
    async with running(create_registry(registry_settings), signer, "registry") as registry, \
            running(create_bargaining(bargaining_settings), signer, "bargaining") as bargaining, \
            running(create_notifications(notifications_settings), signer, "notifications") as notifications:
        made.update(registry=registry, bargaining=bargaining, notifications=notifications)
        for service in made.values():
            await eventually(lambda s=service: _ready(s), what="service ready")
        for service in (bargaining, notifications):
            for loop in service.state.consumer_loops:
                await eventually(lambda lp=loop: _bound(lp), what="consumer bound")
        yield made


async def _ready(service: RunningService) -> bool:
    return (await service.client.get("/readyz")).status_code == 200


async def _bound(loop) -> bool:
    return loop.bound.is_set()


async def test_a_write_is_applied_exactly_once_by_consumers_in_other_services(services, nats_server):
    registry, bargaining, notifications = services["registry"], services["bargaining"], services["notifications"]
    organisation = await register(registry)
    org_id = uuid.UUID(organisation["id"])

    party = await eventually(lambda: _get_party(bargaining, org_id), what="party projected in bargaining")
    assert party["name_ru"] == organisation["name_ru"] and party["may_bargain"] is True
    await eventually(lambda: count(notifications, InboxMessage, InboxMessage.organisation_id == org_id),
                     what="inbox message")

    # Give a duplicate every chance to arrive, then count: once each, everywhere.
    async with registry.state.sessionmaker() as session:
        event_id = (await session.execute(select(OutboxMessage.id))).scalar_one()
    await eventually(lambda: _published(registry), what="outbox row marked published")
    assert await count(bargaining, Party) == 1
    assert await count(bargaining, InboxRecord, InboxRecord.event_id == event_id) == 1
    assert await count(notifications, InboxMessage, InboxMessage.organisation_id == org_id) == 1
    assert await stream_messages(nats_server.url, "REGISTRY_EVENTS") == 1

    # The organisation sees its inbox message; another organisation sees nothing of it.
    own = await notifications.client.get("/inbox", headers=notifications.headers(organisation_id=str(org_id)))
    assert own.status_code == 200 and own.json()["unread"] == 1
    message_id = own.json()["items"][0]["id"]
    stranger = notifications.headers(organisation_id=str(uuid.uuid4()))
    assert (await notifications.client.get("/inbox", headers=stranger)).json()["items"] == []
    forbidden = await notifications.client.post(f"/inbox/{message_id}/read", headers=stranger)
    missing = await notifications.client.post(f"/inbox/{uuid.uuid4()}/read", headers=stranger)
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() | {"instance": None} == missing.json() | {"instance": None}


async def _get_party(bargaining: RunningService, org_id: uuid.UUID):
    response = await bargaining.client.get(f"/parties/{org_id}", headers=bargaining.headers())
    return response.json() if response.status_code == 200 else None


async def _published(service: RunningService) -> bool:
    return await count(service, OutboxMessage, OutboxMessage.published_at.is_(None)) == 0


async def test_nats_killed_between_write_and_relay_loses_nothing(services, nats_server):
    registry, bargaining = services["registry"], services["bargaining"]
    nats_server.kill()
    await eventually(lambda: _nats_down(registry), what="registry notices NATS is gone")

    organisations = [await register(registry) for _ in range(5)]
    # The writes committed; their events wait in the outbox.
    assert await count(registry, OutboxMessage, OutboxMessage.published_at.is_(None)) == 5

    nats_server.start()
    await eventually(lambda: _published(registry), timeout=30, what="outbox drained after restart")
    for organisation in organisations:
        await eventually(lambda o=organisation: _get_party(bargaining, uuid.UUID(o["id"])), timeout=30,
                         what="party applied after restart")
    assert await count(bargaining, Party) == 5
    assert await count(bargaining, InboxRecord) == 5
    assert await stream_messages(nats_server.url, "REGISTRY_EVENTS") == 5


async def _nats_down(service: RunningService) -> bool:
    return not service.state.bus.is_connected


async def test_relay_that_republishes_everything_adds_nothing_to_the_stream(services, nats_server):
    registry, bargaining = services["registry"], services["bargaining"]
    for _ in range(4):
        await register(registry)
    await eventually(lambda: _published(registry), what="outbox drained")
    assert await stream_messages(nats_server.url, "REGISTRY_EVENTS") == 4

    # A crash after the acks but before the rows were marked: every row looks unsent again.
    async with registry.state.sessionmaker() as session:
        await session.execute(update(OutboxMessage).values(published_at=None))
        await session.commit()
    assert registry.state.relay is not None
    assert await registry.state.relay.publish_pending() == 4

    assert await stream_messages(nats_server.url, "REGISTRY_EVENTS") == 4
    await eventually(lambda: _count_is(bargaining, InboxRecord, 4), what="four events applied")
    assert await count(bargaining, Party) == 4


async def _count_is(service, model, expected) -> bool:
    return await count(service, model) == expected


async def test_consumer_keeps_consuming_after_server_restart(services, nats_server):
    registry, bargaining = services["registry"], services["bargaining"]
    first = await register(registry)
    await eventually(lambda: _get_party(bargaining, uuid.UUID(first["id"])), what="first party")

    nats_server.restart()  # SIGKILL and start again on the same port and data folder
    second = await register(registry)
    await eventually(lambda: _get_party(bargaining, uuid.UUID(second["id"])), timeout=40,
                     what="party applied after the server restart, without restarting the service")
    assert await count(bargaining, InboxRecord) == 2


async def test_employer_registration_carries_the_bin_to_consumers(services):
    registry, bargaining = services["registry"], services["bargaining"]
    employer = await register(registry, {"kind": "employer", "name_kk": "Қарағанды көмір", "name_ru": "Карагандауголь",
                                         "bin": make_bin("99014000123")})
    party = await eventually(lambda: _get_party(bargaining, uuid.UUID(employer["id"])), what="employer projected")
    assert party["bin"] == employer["bin"]


async def test_bargaining_follows_the_registry_status_and_name_changes(services):
    registry, bargaining = services["registry"], services["bargaining"]
    organisation = await register(registry)
    party_id = organisation["id"]
    staff = registry.headers(roles=REGISTRAR)

    async def party() -> dict:
        response = await bargaining.client.get(f"/parties/{party_id}", headers=bargaining.headers(roles={"analyst"}))
        return response.json() if response.status_code == 200 else {}

    assert (await eventually(party, what="the party in bargaining"))["may_bargain"] is True
    renamed = await registry.client.patch(f"/organisations/{party_id}", json={"name_ru": "Новое имя профсоюза"},
                                          headers={**staff, "If-Match": '"1"'})
    assert renamed.status_code == 200, renamed.text
    liquidated = await registry.client.post(f"/organisations/{party_id}/liquidation", headers=staff,
                                            json={"liquidated_on": kazakhstan_today().isoformat(),
                                                  "reason": "congress"})
    assert liquidated.status_code == 200, liquidated.text

    async def liquidated_in_bargaining() -> dict:
        body = await party()
        return body if body.get("registry_status") == "liquidated" else {}

    seen = await eventually(liquidated_in_bargaining, what="the liquidation reaching bargaining")
    assert seen["may_bargain"] is False
    assert seen["name_ru"] == "Новое имя профсоюза"
