"""Collective disputes over HTTP, on a real database (SQLite and PostgreSQL) and a real nats-server.

Parties are inserted into the service's registry projection directly (in production they
arrive as registry events). A union puts demands to an employer; the employer answers with its
own API key; the dispute goes through conciliation to a settlement, or to a strike decided at a
hazardous production facility (the warning recorded) and ruled illegal. A missed answer period
makes the dispute answer_overdue once, with one missed event. Every event names both parties.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import jsonschema
import pytest

from contracts.disputes import (
    AnswerOverdue,
    ConciliationStarted,
    DeadlineApproaching,
    DeadlineMissed,
    DemandsSubmitted,
    DisputeSettled,
    EmployerAnswered,
    StrikeDecided,
    StrikeRuled,
)
from contracts.export import published
from kernel.calendar import KAZAKHSTAN
from kernel.problems import PROBLEM_JSON
from services.disputes.app import create_app, definition
from services.disputes.parties.models import Party
from services.disputes.settings import DisputesSettings
from tests.support.services import Clock, RunningService, eventually, running, settings_for, with_clock
from tests.support.services import outbox_events as events_of


@pytest.fixture
async def disputes(make_database, nats_server, public_key, signer) -> AsyncIterator[RunningService]:
    settings = settings_for(DisputesSettings, database_url=await make_database("disputes"),
                            nats_url=nats_server.url, public_key=public_key)
    async with running(create_app(settings), signer, "disputes") as service:
        yield service



@pytest.fixture
async def clock() -> Clock:
    return Clock(datetime(2026, 3, 20, 10, 0, tzinfo=KAZAKHSTAN))


@pytest.fixture
async def sweeping_disputes(make_database, nats_server, public_key, signer,
                            clock: Clock) -> AsyncIterator[RunningService]:
    settings = settings_for(DisputesSettings, database_url=await make_database("disputes"),
                            nats_url=nats_server.url, public_key=public_key, deadline_sweep_seconds=0.1)
    async with running(with_clock(definition(settings), clock), signer, "disputes") as service:
        yield service


async def add_party(service: RunningService, kind: str, name: str, status: str = "registered") -> str:
    party_id = uuid.uuid4()
    async with service.state.sessionmaker() as session:
        session.add(Party(id=party_id, kind=kind, name_kk=name, name_ru=name, registry_status=status))
        await session.commit()
    return str(party_id)


def org(service: RunningService, organisation_id: str) -> dict[str, str]:
    return service.headers(organisation_id=organisation_id, roles={"union"})


def officer(service: RunningService) -> dict[str, str]:
    return service.headers(roles={"dispute_officer"}, subject="officer-1")



async def demands(service: RunningService, submitted_on: str = "2026-03-20") -> tuple[str, str, str]:
    union = await add_party(service, "primary_union_organisation", "Профсоюз горняков")
    employer = await add_party(service, "employer", "АО Рудник")
    submitted = await service.client.post("/collective-disputes", headers=org(service, union), json={
        "union_id": union, "employer_id": employer, "workers_concerned": 1200, "submitted_on": submitted_on,
        "demands": [{"text": "Index pay by 15% from 1 April"}, {"text": "Pay the wage arrears for February"}]})
    assert submitted.status_code == 201, submitted.text
    return submitted.json()["id"], union, employer


async def test_demands_rejected_then_conciliation_then_settled(disputes: RunningService) -> None:
    service, client = disputes, disputes.client
    dispute_id, union, employer = await demands(service)
    u, e = org(service, union), org(service, employer)
    dispute = (await client.get(f"/collective-disputes/{dispute_id}", headers=e)).json()
    assert dispute["status"] == "demands_submitted" and dispute["workers_concerned"] == 1200
    # Friday 20 March 2026, then the Nauryz days off: the answer is due on Monday 30 March.
    assert dispute["answer_due"] == "2026-03-30" and "art. 163 p. 2" in dispute["answer_article"]
    assert [d["number"] for d in dispute["demands"]] == [1, 2]
    assert dispute["allowed_actions"] == ["accept", "partly_accept", "record_overdue", "reject", "settle", "withdraw"]

    # A stranger, and an organisation-bound credential holding a staff role, see nothing: 404 as for a missing id.
    stranger = org(service, await add_party(service, "employer", "ТОО Другое"))
    bound = service.headers(organisation_id=str(uuid.uuid4()), roles={"dispute_officer"})
    missing = await client.get(f"/collective-disputes/{uuid.uuid4()}", headers=stranger)
    for headers in (stranger, bound):
        seen = await client.get(f"/collective-disputes/{dispute_id}", headers=headers)
        assert (seen.status_code, seen.json()["detail"]) == (404, missing.json()["detail"])
        assert (await client.get("/collective-disputes", headers=headers)).json()["total"] == 0
        refused = await client.post(f"/collective-disputes/{dispute_id}/answer", headers=headers,
                                    json={"answer": "accepted", "text": "Yes"})
        assert refused.status_code == 404
    # An analyst reads but does not act.
    analyst = service.headers(roles={"analyst"})
    assert (await client.get("/collective-disputes", headers=analyst)).json()["total"] == 1
    assert (await client.post(f"/collective-disputes/{dispute_id}/answer", headers=analyst,
                              json={"answer": "accepted", "text": "Yes"})).status_code == 403
    # The union cannot answer its own demands; a conciliation before the answer is an illegal transition.
    assert (await client.post(f"/collective-disputes/{dispute_id}/answer", headers=u,
                              json={"answer": "accepted", "text": "Yes"})).status_code == 403
    early = await client.post(f"/collective-disputes/{dispute_id}/conciliation", headers=u, json={})
    assert early.status_code == 409 and early.headers["content-type"].startswith(PROBLEM_JSON)
    assert early.json()["allowed"] == ["accept", "partly_accept", "record_overdue", "reject", "settle", "withdraw"]
    assert early.json()["status_now"] == "demands_submitted"

    # The employer rejects the demands with its own API key, within the period.
    answered = await client.post(f"/collective-disputes/{dispute_id}/answer", headers=e, json={
        "answer": "rejected", "answered_on": "2026-03-26", "text": "No funds for indexation this year."})
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "rejected" and answered.json()["answer"] == "rejected"
    again = await client.post(f"/collective-disputes/{dispute_id}/answer", headers=e,
                              json={"answer": "accepted", "text": "Changed our mind"})
    assert again.status_code == 409 and again.json()["allowed"] == ["settle", "start_conciliation", "withdraw"]

    conciliation = await client.post(f"/collective-disputes/{dispute_id}/conciliation", headers=officer(service),
                                     json={"on": "2026-03-27", "outcome": "The union refers the dispute"})
    assert conciliation.status_code == 200, conciliation.text
    body = conciliation.json()
    # Seven working days from Friday 27 March 2026: 30, 31 March, 1, 2, 3, 6, 7 April.
    assert body["status"] == "conciliation" and body["conciliation_due"] == "2026-04-07"
    assert "art. 165" in body["conciliation_article"]

    settled = await client.post(f"/collective-disputes/{dispute_id}/settlement", headers=e, json={
        "on": "2026-04-03", "outcome": "Pay indexed by 10% from 1 May; the arrears paid by 15 April."})
    assert settled.status_code == 200, settled.text
    body = settled.json()
    assert body["status"] == "settled" and body["ended_on"] == "2026-04-03" and body["allowed_actions"] == []
    assert [(s["stage"], s["started_on"], s["ended_on"], s["ended_by"]) for s in body["stages"]] == [
        ("demands_submitted", "2026-03-20", "2026-03-26", "reject"),
        ("rejected", "2026-03-26", "2026-03-27", "start_conciliation"),
        ("conciliation", "2026-03-27", "2026-04-03", "settle")]
    assert body["stages"][0]["outcome"] == "No funds for indexation this year."
    assert body["stages"][-1]["outcome"].startswith("Pay indexed") and body["stages"][-1]["elapsed_days"] == 7
    closed = await client.post(f"/collective-disputes/{dispute_id}/withdrawal", headers=u, json={})
    assert closed.status_code == 409 and closed.json()["allowed"] == []

    # Every state change is an event naming both parties, valid against its published schema.
    for event_class in (DemandsSubmitted, EmployerAnswered, ConciliationStarted, DisputeSettled):
        [event] = await events_of(service, event_class.event_type)
        assert sorted(event.data["audience"]) == sorted([union, employer])
        assert event.subject == dispute_id
        jsonschema.validate(event.data, published(event_class.event_type))
    [answer_event] = await events_of(service, EmployerAnswered.event_type)
    assert answer_event.data["answer"] == "rejected" and answer_event.data["late"] is False
    assert (await client.get("/collective-disputes?status=settled", headers=u)).json()["total"] == 1


async def test_a_strike_at_a_hazardous_facility_is_recorded_with_its_warning_then_ruled_illegal(
        disputes: RunningService) -> None:
    service, client = disputes, disputes.client
    dispute_id, union, employer = await demands(service, submitted_on="2026-04-01")
    u, e, staff = org(service, union), org(service, employer), officer(service)
    for path, body in (("answer", {"answer": "partly_accepted", "answered_on": "2026-04-03",
                                   "text": "Arrears will be paid; no indexation."}),
                       ("conciliation", {"on": "2026-04-06"}),
                       ("mediation", {"on": "2026-04-20", "outcome": "The commission did not agree",
                                      "mediator_name": "Д. Нурланов", "consent_on": "2026-04-17",
                                      "consent_document": "Consent letter No. 12"})):
        moved = await client.post(f"/collective-disputes/{dispute_id}/{path}", headers=u if path != "answer" else e,
                                  json=body)
        assert moved.status_code == 200, moved.text
    assert moved.json()["mediator_name"] == "Д. Нурланов" and moved.json()["mediator_consent_on"] == "2026-04-17"

    # Unknown codes and impossible counts are refused, naming the field and the rule.
    decision = {"on": "2026-05-04", "outcome": "Mediation failed", "strike_starts_on": "2026-05-20",
                "meeting": {"employees_total": 1200, "present": 800, "votes_for": 700},
                "categories": ["hazardous_production_facility"], "sectors": []}
    unknown = await client.post(f"/collective-disputes/{dispute_id}/strike-decision", headers=u,
                                json=decision | {"sectors": ["bakery"]})
    assert unknown.status_code == 422
    assert (unknown.json()["errors"][0]["pointer"], unknown.json()["errors"][0]["rule"]) == ("/sectors", "known_code")
    counts = await client.post(f"/collective-disputes/{dispute_id}/strike-decision", headers=u, json=decision | {
        "meeting": {"employees_total": 1200, "present": 800, "votes_for": 900}})
    assert counts.status_code == 422 and counts.json()["errors"][0]["pointer"] == "/meeting/votes_for"
    # The employer does not decide the workers' strike.
    assert (await client.post(f"/collective-disputes/{dispute_id}/strike-decision", headers=e,
                              json=decision)).status_code == 403

    # The union decides to strike at a hazardous production facility: recorded, with the warning.
    decided = await client.post(f"/collective-disputes/{dispute_id}/strike-decision", headers=u, json=decision)
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["status"] == "strike_decided"
    [warning] = body["strike_decision"]["warnings"]
    assert warning["rule"] == "prohibited_category" and warning["code"] == "hazardous_production_facility"
    assert "art. 176 p. 1" in warning["article"]
    [event] = await events_of(service, StrikeDecided.event_type)
    assert event.data["warnings"][0]["code"] == "hazardous_production_facility"
    assert sorted(event.data["audience"]) == sorted([union, employer])

    # Only staff record the court's ruling.
    assert (await client.post(f"/collective-disputes/{dispute_id}/ruling/illegal", headers=u,
                              json={"court": "Court"})).status_code == 403
    ruled = await client.post(f"/collective-disputes/{dispute_id}/ruling/illegal", headers=staff, json={
        "on": "2026-05-15", "court": "Specialised inter-district economic court of Karaganda region",
        "outcome": "Strike at a hazardous production facility declared illegal"})
    assert ruled.status_code == 200, ruled.text
    assert ruled.json()["status"] == "ruled_illegal" and ruled.json()["allowed_actions"] == ["close", "settle",
                                                                                            "withdraw"]
    assert [s["stage"] for s in ruled.json()["stages"]] == [
        "demands_submitted", "partly_accepted", "conciliation", "mediation", "strike_decided", "ruled_illegal"]
    [ruling] = await events_of(service, StrikeRuled.event_type)
    assert ruling.data["legal"] is False and ruling.data["previous_status"] == "strike_decided"
    jsonschema.validate(ruling.data, published(StrikeRuled.event_type))
    strike = await client.post(f"/collective-disputes/{dispute_id}/strike", headers=u, json={})
    assert strike.status_code == 409 and strike.json()["allowed"] == ["close", "settle", "withdraw"]


async def test_demands_are_refused_by_field_and_rule(disputes: RunningService) -> None:
    service, client = disputes, disputes.client
    union = await add_party(service, "primary_union_organisation", "Профсоюз")
    employer = await add_party(service, "employer", "ТОО Завод")
    lapsed = await add_party(service, "primary_union_organisation", "Профсоюз бывший", status="lapsed")
    other = await add_party(service, "primary_union_organisation", "Профсоюз чужой")
    base = {"union_id": union, "employer_id": employer, "workers_concerned": 10, "demands": [{"text": "Safety"}]}
    staff = officer(service)
    cases = [
        (staff, base | {"employer_id": union}, "/employer_id", "party_kind"),
        (staff, base | {"union_id": lapsed}, "/union_id", "registry_status"),
        (staff, base | {"employer_id": str(uuid.uuid4())}, "/employer_id", "registered"),
        (staff, base | {"representatives": "Elected: А. Б., В. Г."}, "/union_id", "one_workers_side"),
        (org(service, other), base, "/union_id", "own_demands"),
        (staff, base | {"submitted_on": "2999-01-01"}, "/submitted_on", "not_in_future"),
    ]
    for headers, body, pointer, rule in cases:
        refused = await client.post("/collective-disputes", headers=headers, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert (refused.json()["errors"][0]["pointer"], refused.json()["errors"][0]["rule"]) == (pointer, rule)
    # Staff record demands put by the employees' elected representatives (no union).
    represented = await client.post("/collective-disputes", headers=staff, json={
        "representatives": "Elected representatives: А. Б., В. Г.", "employer_id": employer, "workers_concerned": 40,
        "demands": [{"text": "Protective equipment every 6 months"}]})
    assert represented.status_code == 201 and represented.json()["union_id"] is None
    [event] = await events_of(service, DemandsSubmitted.event_type)
    assert event.data["audience"] == [employer]


async def test_a_missed_answer_period_makes_the_dispute_overdue_exactly_once(
        sweeping_disputes: RunningService, clock: Clock) -> None:
    service, client = sweeping_disputes, sweeping_disputes.client
    silent, union, employer = await demands(service, submitted_on="2026-03-20")
    answering, _, answering_employer = await demands(service, submitted_on="2026-03-20")
    assert (await client.post(f"/collective-disputes/{answering}/answer", headers=org(service, answering_employer),
                              json={"answer": "accepted", "answered_on": "2026-03-20",
                                    "text": "All demands accepted"})).status_code == 200

    # Friday 27 March: the working day before the due day, the parties are reminded.
    clock.now = datetime(2026, 3, 27, 9, 0, tzinfo=KAZAKHSTAN)
    await eventually(lambda: events_of(service, DeadlineApproaching.event_type), what="a reminder")
    assert (await client.get(f"/collective-disputes/{silent}", headers=officer(service))).json()["status"] == \
        "demands_submitted"

    # Tuesday 31 March, just after midnight: the answer period (until 30 March) has run out.
    clock.now = datetime(2026, 3, 31, 0, 5, tzinfo=KAZAKHSTAN)

    async def overdue() -> bool:
        seen = await client.get(f"/collective-disputes/{silent}", headers=org(service, union))
        return seen.json()["status"] == "answer_overdue"

    await eventually(overdue, what="the dispute to become answer_overdue")
    await asyncio.sleep(0.5)  # a few more sweeps change nothing: each event exists once
    missed = await events_of(service, DeadlineMissed.event_type)
    assert [e.data["subject_id"] for e in missed] == [silent]
    assert missed[0].data["kind"] == "employer_answer" and "art. 163" in missed[0].data["article"]
    assert sorted(missed[0].data["audience"]) == sorted([union, employer])
    [overdue_event] = await events_of(service, AnswerOverdue.event_type)
    assert overdue_event.subject == silent and overdue_event.data["answer_due"] == "2026-03-30"
    reminders = [e.data["subject_id"] for e in await events_of(service, DeadlineApproaching.event_type)]
    assert reminders == [silent]
    body = (await client.get(f"/collective-disputes/{silent}", headers=org(service, employer))).json()
    assert body["stages"][-1]["stage"] == "answer_overdue" and body["stages"][-1]["started_on"] == "2026-03-31"
    assert body["allowed_actions"] == ["settle", "start_conciliation", "withdraw"]
    # The dispute that was answered stays as it was.
    assert (await client.get(f"/collective-disputes/{answering}", headers=officer(service))).json()["status"] == \
        "accepted"
    # A late answer after the period is an illegal transition: the dispute has moved on.
    late = await client.post(f"/collective-disputes/{silent}/answer", headers=org(service, employer),
                             json={"answer": "rejected", "text": "No"})
    assert late.status_code == 409


def test_the_published_dates_are_dates() -> None:
    # The fixtures above count on the contract's dates being ISO days, not datetimes.
    assert published(DemandsSubmitted.event_type)["properties"]["answer_due"]["format"] == "date"
