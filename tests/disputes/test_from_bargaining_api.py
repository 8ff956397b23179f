"""A protocol of disagreements signed in bargaining opens a draft collective dispute: the event travels through a
real nats-server (stream BARGAINING_EVENTS, durable consumer disputes-bargaining) on SQLite and PostgreSQL.

The draft carries the open clauses and each side's positions, the workers' positions as draft demands; both parties
see it; the union puts it forward (the 3-working-day answer period starts) or discards it. Applied once, also when
the same event, or the same protocol under another event id, arrives again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date

import jsonschema
import pytest

from contracts.bargaining import ClauseCategory, DisagreementProtocolSigned, Level, OpenClause, Side, SidePosition
from contracts.disputes import DemandsSubmitted, DisputeWithdrawn, DraftOpened
from contracts.export import published
from kernel.bus import Bus, StreamSpec, declare_stream
from kernel.events import CloudEvent, envelope, stream_name, stream_subjects
from services.disputes.app import create_app
from services.disputes.settings import DisputesSettings
from tests.disputes.test_collective_api import officer, org
from tests.disputes.test_roster_api import party
from tests.support.services import RunningService, eventually, running, settings_for
from tests.support.services import outbox_events as events_of


@pytest.fixture
async def publisher(nats_server) -> AsyncIterator[Bus]:
    bus = Bus(nats_server.url, name="bargaining-publisher")
    await bus.connect()
    await declare_stream(bus.jetstream(), StreamSpec(name=stream_name("bargaining"),
                                                     subjects=stream_subjects("bargaining")))
    yield bus
    await bus.close()


@pytest.fixture
async def disputes(make_database, nats_server, public_key, signer, publisher) -> AsyncIterator[RunningService]:
    settings = settings_for(DisputesSettings, database_url=await make_database("disputes"),
                            nats_url=nats_server.url, public_key=public_key)
    async with running(create_app(settings), signer, "disputes") as service:
        yield service


def protocol(union: str, employer: str, *, protocol_id: uuid.UUID | None = None) -> DisagreementProtocolSigned:
    return DisagreementProtocolSigned(
        audience=[uuid.UUID(union), uuid.UUID(employer)], negotiation_id=uuid.uuid4(), level=Level.enterprise,
        status="signed_with_disagreements", protocol_id=protocol_id or uuid.uuid4(), signed_on=date(2026, 3, 16),
        negotiate_until=date(2026, 6, 16), clauses=[
            OpenClause(clause_id=uuid.uuid4(), number=4, category=ClauseCategory.pay, title="Indexation of pay",
                       positions=[SidePosition(side=Side.workers, version=3, text="Index pay by 12% from 1 April"),
                                  SidePosition(side=Side.employers, version=2, text="Index pay by 5% from 1 July")]),
            OpenClause(clause_id=uuid.uuid4(), number=9, category=ClauseCategory.working_time, title="Shift length",
                       positions=[SidePosition(side=Side.workers, version=None, text=None),
                                  SidePosition(side=Side.employers, version=1, text="12-hour shifts")])])


async def publish(bus: Bus, data: DisagreementProtocolSigned, event_id: str | None = None) -> CloudEvent:
    event = envelope(data, source="/bargaining", event_id=event_id)
    await bus.jetstream().publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})
    return event


async def drafts(service: RunningService) -> list[CloudEvent]:
    return await events_of(service, DraftOpened.event_type)


async def test_a_protocol_of_disagreements_opens_a_draft_the_union_puts_forward(disputes: RunningService,
                                                                                publisher: Bus) -> None:
    service, client = disputes, disputes.client
    union = await party(service, "primary_union_organisation", "Профсоюз горняков", region_code="35")
    employer = await party(service, "employer", "АО Рудник", region_code="35")
    signed = protocol(union, employer)
    sent = await publish(publisher, signed)
    [opened] = await eventually(lambda: drafts(service), what="the draft dispute")
    dispute_id = opened.subject
    jsonschema.validate(opened.data, published(DraftOpened.event_type))
    assert sorted(opened.data["audience"]) == sorted([union, employer])

    # Both parties see the draft, with the open clauses, each side's position, and the workers' positions as demands.
    u, e = org(service, union), org(service, employer)
    for headers in (u, e):
        body = (await client.get(f"/collective-disputes/{dispute_id}", headers=headers)).json()
        assert body["status"] == "draft" and body["workers_concerned"] is None and body["answer_due"] is None
    assert body["union_id"] == union and body["employer_id"] == employer and body["region_code"] == "35"
    assert body["cause"] == "collective_agreement"
    assert [d["text"] for d in body["demands"]] == [
        "Clause 4 «Indexation of pay»: Index pay by 12% from 1 April",
        "Clause 9 «Shift length»: the workers' side proposed no text; to be formulated"]
    origin = body["from_bargaining"]
    assert origin["protocol_id"] == str(signed.protocol_id) and origin["negotiation_id"] == str(signed.negotiation_id)
    assert [(p["side"], p["text"]) for p in origin["clauses"][0]["positions"]] == [
        ("workers", "Index pay by 12% from 1 April"), ("employers", "Index pay by 5% from 1 July")]
    assert body["allowed_actions"] == ["put_forward", "settle", "withdraw"]
    stranger = org(service, await party(service, "employer", "ТОО Чужое"))
    assert (await client.get(f"/collective-disputes/{dispute_id}", headers=stranger)).status_code == 404

    # The same event again, and the same protocol under another event id: nothing new.
    await publish(publisher, signed, event_id=sent.id)
    await publish(publisher, signed)
    await asyncio.sleep(1.0)
    assert len(await drafts(service)) == 1
    assert (await client.get("/collective-disputes", headers=officer(service))).json()["total"] == 1

    # The employer does not put the workers' demands; the union must say how many workers they concern.
    put = f"/collective-disputes/{dispute_id}/put-forward"
    assert (await client.post(put, headers=e, json={"workers_concerned": 500})).status_code == 403
    missing = await client.post(put, headers=u, json={})
    assert missing.status_code == 422 and missing.json()["errors"][0]["pointer"] == "/workers_concerned"
    early = await client.post(put, headers=u, json={"workers_concerned": 500, "submitted_on": "2026-03-13"})
    assert early.status_code == 422 and early.json()["errors"][0]["pointer"] == "/submitted_on"
    put_forward = await client.post(put, headers=u, json={
        "workers_concerned": 500, "submitted_on": "2026-03-20",
        "demands": [{"text": "Index pay by 12% from 1 April"}, {"text": "8-hour shifts"}]})
    assert put_forward.status_code == 200, put_forward.text
    body = put_forward.json()
    # Friday 20 March 2026, then the Nauryz days off: the answer is due on Monday 30 March.
    assert (body["status"], body["submitted_on"], body["answer_due"], body["workers_concerned"]) == (
        "demands_submitted", "2026-03-20", "2026-03-30", 500)
    assert [(s["stage"], s["started_on"], s["ended_on"], s["ended_by"]) for s in body["stages"]] == [
        ("draft", "2026-03-16", "2026-03-20", "put_forward"), ("demands_submitted", "2026-03-20", None, None)]
    [submitted] = await events_of(service, DemandsSubmitted.event_type)
    assert submitted.data["previous_status"] == "draft" and submitted.data["answer_due"] == "2026-03-30"
    assert [d["text"] for d in submitted.data["demands"]] == ["Index pay by 12% from 1 April", "8-hour shifts"]
    # The answer period is a kernel deadline like any other dispute's: the employer's answer meets it.
    again = await client.post(put, headers=u, json={"workers_concerned": 500})
    assert again.status_code == 409 and "accept" in again.json()["allowed"]
    answered = await client.post(f"/collective-disputes/{dispute_id}/answer", headers=e,
                                 json={"answer": "rejected", "answered_on": "2026-03-24", "text": "No"})
    assert answered.status_code == 200 and answered.json()["answer"] == "rejected"


async def test_a_draft_may_be_discarded_and_a_protocol_without_an_employer_opens_nothing(
        disputes: RunningService, publisher: Bus) -> None:
    service, client = disputes, disputes.client
    union = await party(service, "primary_union_organisation", "Профсоюз")
    employer = await party(service, "employer", "ТОО Завод")
    association = await party(service, "sectoral_employer_association", "Ассоциация")
    # A sectoral protocol (an association, no employer) is no dispute with an employer: nothing is opened.
    await publish(publisher, protocol(union, association))
    await publish(publisher, protocol(union, employer))
    [opened] = await eventually(lambda: drafts(service), what="the draft dispute")
    await asyncio.sleep(0.5)
    assert len(await drafts(service)) == 1 and opened.data["employer_id"] == employer
    discarded = await client.post(f"/collective-disputes/{opened.subject}/withdrawal", headers=org(service, union),
                                  json={"outcome": "The parties keep negotiating"})
    assert discarded.status_code == 200 and discarded.json()["status"] == "withdrawn"
    [withdrawn] = await events_of(service, DisputeWithdrawn.event_type)
    assert withdrawn.data["previous_status"] == "draft"
    put = await client.post(f"/collective-disputes/{opened.subject}/put-forward", headers=org(service, union),
                            json={"workers_concerned": 10})
    assert put.status_code == 409 and put.json()["allowed"] == []
