"""Staff desks in the portal inbox: an event that asks for the ministry's work lands on the desk of the staff
roles it concerns (rule data), whoever its audience is, once; everyone holding the role sees it, and read and
unread stay per person. Real database (SQLite and PostgreSQL) and a real nats-server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from kernel.db import create_engine
from kernel.identity import IDENTITY_HEADER, Identity
from kernel.migrations import alembic_config, upgrade
from services.notifications.app import definition
from services.notifications.routing.service import route_event
from tests.notifications.support import (
    Publisher,
    cloud_event,
    notifications_service,
    notifications_settings,
    organisation_headers,
)
from tests.support.services import RunningService, eventually

REGISTRY_APPLICATION = "kz.ntc.registry.application.submitted.v1"
NEGOTIATION_EVADED = "kz.ntc.bargaining.negotiation.evaded.v1"
DEMANDS_SUBMITTED = "kz.ntc.disputes.demands.submitted.v1"
COMPLAINT_RECEIVED = "kz.ntc.disputes.complaint.received.v1"
CLAUSE_PROPOSED = "kz.ntc.bargaining.clause.proposed.v1"  # no desk's business


def staff(service: RunningService, subject: str, *roles: str) -> dict[str, str]:
    return service.headers(roles=set(roles), subject=subject)


async def inbox(service: RunningService, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await service.client.get("/inbox", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def unread(service: RunningService, headers: dict[str, str]) -> int:
    response = await service.client.get("/inbox/unread-count", headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["unread"])


async def test_each_desk_hears_its_events_and_read_marks_stay_per_person(make_database, nats_server, signer,
                                                                         public_key):
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    union, employer = uuid.uuid4(), uuid.uuid4()
    async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
        events = {
            "registrar": cloud_event(REGISTRY_APPLICATION, [union], name_ru="Профсоюз горняков"),
            "bargaining_officer": cloud_event(NEGOTIATION_EVADED, [union, employer]),
            # An empty audience reaches no organisation, and still the desk.
            "dispute_officer": cloud_event(DEMANDS_SUBMITTED, []),
            "labour_inspector": cloud_event(COMPLAINT_RECEIVED, [union], name_ru="Профсоюз горняков",
                                            title="Давление на членов профсоюза", category="interference",
                                            employer_id=str(employer)),
        }
        await bus.publish(cloud_event(CLAUSE_PROPOSED, [union, employer]))
        for event in events.values():
            await bus.publish(event)

        dana = staff(service, "dana", "registrar")
        yerlan = staff(service, "yerlan", "registrar")
        readers = {"registrar": dana, "bargaining_officer": staff(service, "bota", "bargaining_officer"),
                   "dispute_officer": staff(service, "daulet", "dispute_officer"),
                   "labour_inspector": staff(service, "inkar", "labour_inspector")}
        await eventually(lambda: _has(service, readers["labour_inspector"], 1), what="the complaint on the desk")
        await eventually(lambda: _has(service, readers["registrar"], 1), what="the application on the desk")
        await eventually(lambda: _has(service, readers["dispute_officer"], 1), what="the demands on the desk")
        await eventually(lambda: _has(service, readers["bargaining_officer"], 1), what="the evasion on the desk")
        # The union's inbox has everything routed to it: proof that everything published was routed.
        await eventually(lambda: _has(service, organisation_headers(service, union), 4), what="the union's inbox")

        for role, headers in readers.items():
            page = await inbox(service, headers)
            assert [(item["event_id"], item["staff_role"]) for item in page["items"]] == [(events[role].id, role)]
            assert page["unread"] == 1
        # Someone holding two roles reads both desks.
        both = await inbox(service, staff(service, "aigerim", "registrar", "dispute_officer"))
        assert {item["event_type"] for item in both["items"]} == {REGISTRY_APPLICATION, DEMANDS_SUBMITTED}

        # A complaint's line on the desk names nothing from its record.
        [complaint] = (await inbox(service, readers["labour_inspector"]))["items"]
        assert complaint["title"] == "disputes complaint received"
        assert "горняков" not in str(complaint) and "Давление" not in str(complaint)
        [application] = (await inbox(service, dana))["items"]
        assert application["title"] == "registry application submitted: Профсоюз горняков"

        # The employer hears of the evasion (its audience) and never of the complaint about it.
        employer_inbox = await inbox(service, organisation_headers(service, employer))
        assert {item["event_type"] for item in employer_inbox["items"]} == {CLAUSE_PROPOSED, NEGOTIATION_EVADED}
        assert all(item["staff_role"] is None for item in employer_inbox["items"])

        # Read by one registrar, still unread for the other.
        marked = await service.client.post(f"/inbox/{application['id']}/read", headers=dana)
        assert marked.status_code == 200 and marked.json()["read_at"] is not None
        assert await unread(service, dana) == 0 and await unread(service, yerlan) == 1
        assert (await inbox(service, dana, unread_only=True))["items"] == []
        assert [i["id"] for i in (await inbox(service, yerlan, unread_only=True))["items"]] == [application["id"]]

        # Another desk's message, or an organisation reaching for a desk's, answers as a missing one does.
        for headers in (readers["dispute_officer"], organisation_headers(service, union)):
            foreign = await service.client.post(f"/inbox/{application['id']}/read", headers=headers)
            missing = await service.client.post(f"/inbox/{uuid.uuid4()}/read", headers=headers)
            assert foreign.status_code == missing.status_code == 404
        assert await unread(service, yerlan) == 1

        # Staff with no role that has a desk, and a ministry API key with a desk role, have no inbox.
        for headers in (staff(service, "aliya", "analyst"), staff(service, "admin", "administrator")):
            refused = await service.client.get("/inbox/unread-count", headers=headers)
            assert refused.status_code == 403
            assert refused.headers["content-type"] == "application/problem+json"
            assert (await service.client.get("/inbox", headers=headers)).status_code == 403
            assert (await service.client.post(f"/inbox/{application['id']}/read",
                                              headers=headers)).status_code == 403
        system = Identity(subject="ministry-system", kind="api-client", roles=frozenset({"registrar"}))
        assert (await service.client.get("/inbox", headers={IDENTITY_HEADER: signer.sign(system)})).status_code == 403


async def test_a_redelivered_event_adds_no_second_desk_message(make_database, nats_server, signer, public_key):
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
        dana = staff(service, "dana", "registrar")
        event = cloud_event(REGISTRY_APPLICATION, [])
        await bus.publish(event)
        # The same event again under another message id (a relay re-publishing after the stream's duplicate
        # window): the consumer's inbox knows the event id. A later event shows the redelivery was taken.
        await bus.nc.jetstream().publish(event.type, event.to_json(), headers={"Nats-Msg-Id": f"{event.id}-again"})
        later = cloud_event(REGISTRY_APPLICATION, [])
        await bus.publish(later)
        await eventually(lambda: _has(service, dana, 2), what="the later event on the desk")
        page = await inbox(service, dana)
        assert sorted(item["event_id"] for item in page["items"]) == sorted([event.id, later.id])

        # The unique key is the backstop: routing the same event for the desk a second time is refused whole.
        async with service.state.sessionmaker() as session:
            await route_event(session, event, public_base_url=settings.public_base_url)
            with pytest.raises(IntegrityError):
                await session.commit()
        assert len((await inbox(service, dana))["items"]) == 2


# Ids bound as the models store them (SQLite keeps a UUID as 32 hex digits, PostgreSQL as uuid).
ID, ORGANISATION = sa.bindparam("id", type_=sa.Uuid()), sa.bindparam("organisation", type_=sa.Uuid())
INSERT = ("INSERT INTO inbox_message (id, organisation_id, {extra_column}event_id, event_type, subject, title, "
          "created_at) VALUES (:id, :organisation, {extra_value}:event_id, 'kz.ntc.registry.organisation.updated.v1', "
          "NULL, 'registry organisation updated', CURRENT_TIMESTAMP)")


def _upgrade_to(connection: sa.Connection, migrations_dir: Any, url: str, revision: str) -> None:
    config = alembic_config(migrations_dir, url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_migration_0005_keeps_the_organisations_messages_and_allows_one_inbox_per_message(make_database):
    url = await make_database("notifications")
    migrations_dir = definition().migrations_dir
    engine = create_engine(url)
    kept, organisation = uuid.uuid4(), uuid.uuid4()
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, migrations_dir, url, "0004")
            await connection.execute(sa.text(INSERT.format(extra_column="", extra_value="")).bindparams(
                ID, ORGANISATION), {"id": kept, "organisation": organisation, "event_id": "e1"})
        await upgrade(engine, migrations_dir)
        async with engine.connect() as connection:
            rows = (await connection.execute(sa.text(
                "SELECT id, organisation_id, staff_role, event_id FROM inbox_message").columns(
                    sa.column("id", sa.Uuid()), sa.column("organisation_id", sa.Uuid()), sa.column("staff_role"),
                    sa.column("event_id")))).all()
        assert [tuple(row) for row in rows] == [(kept, organisation, None, "e1")]

        with_role = INSERT.format(extra_column="staff_role, ", extra_value=":role, ")
        async with engine.begin() as connection:  # a desk message, and the same event on another desk
            for role in ("registrar", "analyst"):
                await connection.execute(sa.text(with_role).bindparams(ID, ORGANISATION),
                                         {"id": uuid.uuid4(), "organisation": None, "role": role, "event_id": "e2"})
        for organisation_id, role, event_id in ((None, None, "e3"),            # neither inbox
                                                (organisation, "registrar", "e4"),  # both
                                                (None, "registrar", "e2")):     # the same event on a desk twice
            with pytest.raises(IntegrityError):
                async with engine.begin() as connection:
                    await connection.execute(sa.text(with_role).bindparams(ID, ORGANISATION), {
                        "id": uuid.uuid4(), "organisation": organisation_id, "role": role, "event_id": event_id})
    finally:
        await engine.dispose()


async def _has(service: RunningService, headers: dict[str, str], count: int) -> bool:
    response = await service.client.get("/inbox", headers=headers)
    return response.status_code == 200 and len(response.json()["items"]) >= count
