"""Negotiations over HTTP, on a real database (SQLite and PostgreSQL) and a real nats-server.

Parties are inserted into the service's registry projection directly (in production they
arrive as registry events). A union proposes bargaining to an employer; the employer
enters; the commission is refused until it is on a parity basis; clauses go back and forth
under ETag / If-Match; both sides sign with a protocol of disagreements; the agreement is
filed, comes into force and is ended unilaterally. Every event names both parties.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import jsonschema
import pytest

from contracts.bargaining import (
    AgreementFiled,
    AgreementInForce,
    AgreementSigned,
    AgreementTerminated,
    ClauseAgreed,
    ClauseProposed,
    CommissionConstituted,
    DeadlineApproaching,
    DeadlineMissed,
    DisagreementProtocolSigned,
    NegotiationEntered,
    NegotiationEvaded,
    NegotiationProposed,
)
from contracts.export import published
from kernel.calendar import KAZAKHSTAN, kazakhstan_today
from kernel.problems import PROBLEM_JSON
from services.bargaining.app import create_app, definition
from services.bargaining.parties.models import Party
from services.bargaining.settings import BargainingSettings
from tests.support.services import Clock, RunningService, eventually, running, settings_for, with_clock
from tests.support.services import outbox_events as events_of


@pytest.fixture
async def bargaining(make_database, nats_server, public_key, signer) -> AsyncIterator[RunningService]:
    settings = settings_for(BargainingSettings, database_url=await make_database("bargaining"),
                            nats_url=nats_server.url, public_key=public_key)
    async with running(create_app(settings), signer, "bargaining") as service:
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
    return service.headers(roles={"bargaining_officer"}, subject="officer-1")



async def enterprise_negotiation(service: RunningService) -> tuple[str, str, str]:
    union = await add_party(service, "primary_union_organisation", "Профсоюз шахтёров")
    employer = await add_party(service, "employer", "АО Уголь")
    proposed = await service.client.post("/negotiations", headers=org(service, union), json={
        "level": "enterprise", "subject_matter": "Collective agreement 2026-2028", "initiator_id": union,
        "parties": [{"organisation_id": union, "side": "workers"}, {"organisation_id": employer, "side": "employers"}]})
    assert proposed.status_code == 201, proposed.text
    return proposed.json()["id"], union, employer


async def negotiating(service: RunningService) -> tuple[str, str, str]:
    """An enterprise negotiation, entered, with a commission of two members a side."""
    negotiation_id, union, employer = await enterprise_negotiation(service)
    client = service.client
    assert (await client.post(f"/negotiations/{negotiation_id}/entry", headers=org(service, employer),
                              json={})).status_code == 200
    for side, party in (("workers", union), ("employers", employer)):
        members = [{"organisation_id": party, "name": f"{side} member {i}", "position": "officer"} for i in (1, 2)]
        put = await client.put(f"/negotiations/{negotiation_id}/commission/{side}", headers=org(service, party),
                               json={"members": members})
        assert put.status_code == 200, put.text
    constituted = await client.post(f"/negotiations/{negotiation_id}/commission/constitution",
                                    headers=org(service, union))
    assert constituted.status_code == 200, constituted.text
    return negotiation_id, union, employer


async def test_from_proposal_to_a_filed_agreement_with_a_protocol_of_disagreements(bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    negotiation_id, union, employer = await enterprise_negotiation(service)
    u, e = org(service, union), org(service, employer)
    proposal = (await client.get(f"/negotiations/{negotiation_id}", headers=e)).json()
    assert proposal["status"] == "proposed" and proposal["allowed_actions"] == ["decline", "enter", "record_evasion"]
    assert "art. 156" in proposal["entry_article"]
    assert date.fromisoformat(proposal["entry_due"]) >= date.fromisoformat(proposal["proposed_on"]) + timedelta(10)

    # A stranger, and an organisation-bound credential holding a staff role, see nothing: 404 as for a missing id.
    stranger = org(service, await add_party(service, "employer", "ТОО Другое"))
    bound = service.headers(organisation_id=str(uuid.uuid4()), roles={"bargaining_officer"})
    missing = await client.get(f"/negotiations/{uuid.uuid4()}", headers=stranger)
    for headers in (stranger, bound):
        seen = await client.get(f"/negotiations/{negotiation_id}", headers=headers)
        assert (seen.status_code, seen.json()["detail"]) == (404, missing.json()["detail"])
        assert (await client.get("/negotiations", headers=headers)).json()["total"] == 0
    # An analyst reads but does not act.
    analyst = service.headers(roles={"analyst"})
    assert (await client.get(f"/negotiations/{negotiation_id}", headers=analyst)).status_code == 200
    assert (await client.post(f"/negotiations/{negotiation_id}/entry", headers=analyst,
                              json={"organisation_id": employer})).status_code == 403

    # The initiator cannot enter its own proposal; the employer does.
    assert (await client.post(f"/negotiations/{negotiation_id}/entry", headers=u, json={})).status_code == 422
    entered = await client.post(f"/negotiations/{negotiation_id}/entry", headers=e, json={})
    assert entered.json()["status"] == "entered", entered.text
    again = await client.post(f"/negotiations/{negotiation_id}/entry", headers=e, json={})
    assert again.status_code == 409 and again.json()["allowed"] == ["constitute_commission"]

    # The commission: unequal numbers are refused when it is constituted, naming the rule.
    await client.put(f"/negotiations/{negotiation_id}/commission/workers", headers=u, json={"members": [
        {"organisation_id": union, "name": "А. Сапарова", "position": "Chair"},
        {"organisation_id": union, "name": "Б. Ахметов", "position": "Deputy chair"}]})
    await client.put(f"/negotiations/{negotiation_id}/commission/employers", headers=e, json={"members": [
        {"organisation_id": employer, "name": "В. Ким", "position": "HR director"}]})
    # A side names only its own members.
    assert (await client.put(f"/negotiations/{negotiation_id}/commission/employers", headers=u,
                             json={"members": []})).status_code == 422
    unequal = await client.post(f"/negotiations/{negotiation_id}/commission/constitution", headers=u)
    assert unequal.status_code == 422 and unequal.headers["content-type"].startswith(PROBLEM_JSON)
    assert unequal.json()["errors"][0]["rule"] == "parity"
    assert "workers 2, employers 1" in unequal.json()["errors"][0]["detail"]
    await client.put(f"/negotiations/{negotiation_id}/commission/employers", headers=e, json={"members": [
        {"organisation_id": employer, "name": "В. Ким", "position": "HR director"},
        {"organisation_id": employer, "name": "Г. Ли", "position": "Chief engineer"}]})
    constituted = await client.post(f"/negotiations/{negotiation_id}/commission/constitution", headers=u)
    assert constituted.json()["status"] == "negotiating" and constituted.json()["parity"] is None

    # The union proposes two clauses; the employer counter-proposes on both.
    pay = await client.post(f"/negotiations/{negotiation_id}/clauses", headers=u, json={
        "category": "pay", "title": "Indexation of pay", "text": "Pay is indexed by 12% from 1 January."})
    safety = await client.post(f"/negotiations/{negotiation_id}/clauses", headers=u, json={
        "category": "occupational_safety", "title": "Protective equipment", "text": "Issued every 6 months."})
    assert pay.status_code == safety.status_code == 201 and pay.headers["ETag"] == '"1"'
    pay_url, safety_url = (f"/negotiations/{negotiation_id}/clauses/{c.json()['id']}" for c in (pay, safety))
    without = await client.post(f"{pay_url}/versions", headers=e, json={"text": "Pay is indexed by 8%."})
    assert without.status_code == 428
    counter = await client.post(f"{pay_url}/versions", headers={**e, "If-Match": pay.headers["ETag"]},
                                json={"text": "Pay is indexed by 8% from 1 January."})
    assert counter.status_code == 201 and counter.json()["current_version"] == 2, counter.text
    stale = await client.post(f"{pay_url}/versions", headers={**u, "If-Match": pay.headers["ETag"]},
                              json={"text": "12%, no less."})
    assert stale.status_code == 412 and stale.json()["current_etag"] == counter.headers["ETag"]
    safety_counter = await client.post(f"{safety_url}/versions", headers={**e, "If-Match": '"1"'},
                                       json={"text": "Issued every 12 months."})
    assert safety_counter.status_code == 201

    # Accepting an older version is refused; the current one is agreed when both sides accept it.
    older = await client.post(f"{pay_url}/acceptance", headers=u, json={"version": 1})
    assert older.status_code == 409 and older.json()["errors"][0]["rule"] == "current_version"
    agreed = await client.post(f"{pay_url}/acceptance", headers=u, json={"version": 2})
    assert agreed.json()["status"] == "agreed" and agreed.json()["agreed_version"] == 2
    # Accepting twice changes nothing (and announces nothing twice).
    assert (await client.post(f"{pay_url}/acceptance", headers=e, json={"version": 2})).status_code == 409
    versions = (await client.get(pay_url, headers=u)).json()["versions"]
    assert [(v["number"], v["side"]) for v in versions] == [(1, "workers"), (2, "employers")]

    meeting = await client.post(f"/negotiations/{negotiation_id}/meetings", headers=u, json={
        "held_on": kazakhstan_today().isoformat(), "minutes": "Pay agreed at 8%; safety equipment open.",
        "attendees": {"workers": ["А. Сапарова", "Б. Ахметов"], "employers": ["В. Ким", "Г. Ли"]}})
    assert meeting.status_code == 201, meeting.text
    assert len((await client.get(f"/negotiations/{negotiation_id}/meetings", headers=e)).json()) == 1

    # Both sides sign; the open clause goes into a protocol of disagreements with each side's last position.
    first = await client.post(f"/negotiations/{negotiation_id}/signatures", headers=u,
                              json={"signatory_name": "А. Сапарова", "signatory_position": "Chair"})
    assert first.status_code == 201 and first.json()["status"] == "negotiating", first.text
    blocked = await client.post(f"{safety_url}/versions", headers={**u, "If-Match": safety_counter.headers["ETag"]},
                                json={"text": "Every 9 months."})
    assert blocked.status_code == 409
    signed = await client.post(f"/negotiations/{negotiation_id}/signatures", headers=e,
                               json={"signatory_name": "Д. Омаров", "signatory_position": "General director"})
    assert signed.status_code == 201, signed.text
    body = signed.json()
    assert body["status"] == "signed" and body["with_disagreements"]
    [protocol] = body["disagreement_protocols"]
    [open_clause] = protocol["clauses"]
    assert open_clause["title"] == "Protective equipment"
    assert {p["side"]: p["text"] for p in open_clause["positions"]} == {
        "workers": "Issued every 6 months.", "employers": "Issued every 12 months."}

    text = await client.get(f"/negotiations/{negotiation_id}/agreement.md", headers=e)
    assert text.status_code == 200 and "attachment" in text.headers["content-disposition"]
    assert "Pay is indexed by 8% from 1 January." in text.text and "12%" not in text.text
    assert "protocol of disagreements" in text.text and "Issued every 12 months." in text.text
    assert (await client.get(f"/negotiations/{negotiation_id}/agreement.txt", headers=u)).text.startswith(
        "Collective agreement")

    # The open clause stays under negotiation after signing.
    reopened = await client.post(f"{safety_url}/versions", headers={**u, "If-Match": safety_counter.headers["ETag"]},
                                 json={"text": "Issued every 9 months."})
    assert reopened.status_code == 201, reopened.text
    assert (await client.post(f"{pay_url}/versions", headers={**u, "If-Match": agreed.headers["ETag"]},
                              json={"text": "Reopen"})).status_code == 409

    # Filing: the term is checked against the statutory range (rule data).
    too_long = await client.post(f"/negotiations/{negotiation_id}/filing", headers=officer(service), json={
        "authority": "Labour inspectorate of Karaganda region", "registration_number": "KR-2026-014",
        "filed_on": kazakhstan_today().isoformat(), "term_from": "2026-01-01", "term_to": "2030-12-31"})
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["rule"] == "term_range"
    filed = await client.post(f"/negotiations/{negotiation_id}/filing", headers=officer(service), json={
        "authority": "Labour inspectorate of Karaganda region", "registration_number": "KR-2026-014",
        "filed_on": kazakhstan_today().isoformat(), "term_from": "2026-01-01", "term_to": "2028-12-31"})
    assert filed.json()["status"] == "filed", filed.text
    assert (await client.post(f"/negotiations/{negotiation_id}/entry-into-force", headers=e,
                              json={})).json()["status"] == "in_force"
    ended = await client.post(f"/negotiations/{negotiation_id}/termination", headers=e, json={
        "unilateral": True, "reason": "The employer announced it no longer applies the agreement."})
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "terminated" and ended.json()["unilateral"]
    assert ended.json()["terminated_by"] == employer

    # Every event once, both parties in the audience, valid against its published schema.
    expected = {NegotiationProposed: 1, NegotiationEntered: 1, CommissionConstituted: 1, ClauseProposed: 5,
                ClauseAgreed: 1, AgreementSigned: 1, DisagreementProtocolSigned: 1, AgreementFiled: 1,
                AgreementInForce: 1, AgreementTerminated: 1}
    for event_class, count in expected.items():
        found = await events_of(service, event_class.event_type)
        assert len(found) == count, event_class.event_type
        for event in found:
            assert set(event.data["audience"]) == {union, employer}
            assert event.subject == negotiation_id
            jsonschema.validate(event.data, published(event_class.event_type))
    [protocol_event] = await events_of(service, DisagreementProtocolSigned.event_type)
    assert [c["title"] for c in protocol_event.data["clauses"]] == ["Protective equipment"]


async def test_illegal_transitions_answer_409_naming_what_is_allowed(bargaining: RunningService) -> None:
    negotiation_id, union, employer = await enterprise_negotiation(bargaining)
    client = bargaining.client
    early = await client.post(f"/negotiations/{negotiation_id}/signatures", headers=org(bargaining, employer),
                              json={"signatory_name": "Д. Омаров", "signatory_position": "Director"})
    assert early.status_code == 409 and early.headers["content-type"].startswith(PROBLEM_JSON)
    assert early.json()["status_now"] == "proposed"
    assert early.json()["allowed"] == ["decline", "enter", "record_evasion"]
    refused = await client.post(f"/negotiations/{negotiation_id}/refusal", headers=org(bargaining, employer),
                                json={"reason": "We have an agreement in force until 2027."})
    assert refused.json()["status"] == "declined"
    late = await client.post(f"/negotiations/{negotiation_id}/entry", headers=org(bargaining, employer), json={})
    assert late.status_code == 409 and late.json()["allowed"] == []


async def test_parties_must_be_eligible_and_fit_the_level(bargaining: RunningService) -> None:
    client = bargaining.client
    union = await add_party(bargaining, "sectoral_union", "Отраслевой профсоюз")
    lapsed = await add_party(bargaining, "employer", "ТОО Закрыто", status="liquidated")
    association = await add_party(bargaining, "sectoral_employer_association", "Ассоциация")
    staff = officer(bargaining)

    def proposal(*parties: tuple[str, str], level: str = "sectoral") -> dict[str, object]:
        return {"level": level, "subject_matter": "Sectoral agreement", "initiator_id": union,
                "parties": [{"organisation_id": o, "side": s} for o, s in parties]}

    unknown = str(uuid.uuid4())
    response = await client.post("/negotiations", headers=staff, json=proposal((union, "workers"),
                                                                              (unknown, "employers")))
    assert response.status_code == 422 and response.json()["organisation_id"] == unknown
    response = await client.post("/negotiations", headers=staff, json=proposal((union, "workers"),
                                                                              (lapsed, "employers")))
    assert response.status_code == 422 and response.json()["registry_status"] == "liquidated"
    # A general agreement is tripartite: without the government's side it is refused.
    response = await client.post("/negotiations", headers=staff, json=proposal(
        (union, "workers"), (association, "employers"), level="general"))
    assert response.status_code == 422
    assert [e["rule"] for e in response.json()["errors"]] == ["sides_of_level"]
    # An organisation proposes only for itself.
    response = await client.post("/negotiations", headers=org(bargaining, association),
                                 json=proposal((union, "workers"), (association, "employers")))
    assert response.status_code == 422 and response.json()["errors"][0]["rule"] == "own_proposal"
    assert (await client.post("/negotiations", headers=staff, json=proposal(
        (union, "workers"), (association, "employers")))).status_code == 201


async def test_tripartite_parity_is_counted_per_party(bargaining: RunningService) -> None:
    client = bargaining.client
    unions = [await add_party(bargaining, "republican_union_association", f"Федерация {i}") for i in (1, 2)]
    employers = await add_party(bargaining, "republican_employer_association", "Атамекен")
    government = await add_party(bargaining, "government_body", "Правительство")
    staff = officer(bargaining)
    created = await client.post("/negotiations", headers=staff, json={
        "level": "general", "subject_matter": "General agreement 2027-2029", "initiator_id": government,
        "parties": [{"organisation_id": unions[0], "side": "workers"},
                    {"organisation_id": unions[1], "side": "workers"},
                    {"organisation_id": employers, "side": "employers"},
                    {"organisation_id": government, "side": "government"}]})
    assert created.status_code == 201, created.text
    negotiation_id = created.json()["id"]
    for addressee in (*unions, employers):
        assert (await client.post(f"/negotiations/{negotiation_id}/entry", headers=org(bargaining, addressee),
                                  json={})).status_code == 200
    # Two unions form one joint body of four, against four and three.
    joint = [{"organisation_id": u, "name": f"Member {u[:4]} {i}", "position": "Deputy"}
             for u in unions for i in (1, 2)]
    await client.put(f"/negotiations/{negotiation_id}/commission/workers", headers=staff,
                     json={"members": joint})
    for side, party, count in (("employers", employers, 4), ("government", government, 3)):
        await client.put(f"/negotiations/{negotiation_id}/commission/{side}", headers=org(bargaining, party), json={
            "members": [{"organisation_id": party, "name": f"{side} {i}", "position": "Officer"}
                        for i in range(count)]})
    refused = await client.post(f"/negotiations/{negotiation_id}/commission/constitution", headers=staff)
    assert refused.status_code == 422 and "equal per party" in refused.json()["errors"][0]["detail"]
    await client.put(f"/negotiations/{negotiation_id}/commission/government", headers=org(bargaining, government),
                     json={"members": [{"organisation_id": government, "name": f"government {i}",
                                        "position": "Vice minister"} for i in range(4)]})
    constituted = await client.post(f"/negotiations/{negotiation_id}/commission/constitution", headers=staff)
    assert constituted.json()["status"] == "negotiating", constituted.text
    [event] = await events_of(bargaining, CommissionConstituted.event_type)
    assert set(event.data["audience"]) == {*unions, employers, government}
    assert event.data["members_by_side"] == {"workers": 4, "employers": 4, "government": 4}


async def test_two_edits_from_the_same_etag_one_wins_the_other_gets_412(bargaining: RunningService) -> None:
    negotiation_id, union, employer = await negotiating(bargaining)
    client = bargaining.client
    created = await client.post(f"/negotiations/{negotiation_id}/clauses", headers=org(bargaining, union), json={
        "category": "working_time", "title": "Shift length", "text": "Shifts last at most 8 hours."})
    url, etag = f"/negotiations/{negotiation_id}/clauses/{created.json()['id']}/versions", created.headers["ETag"]
    for attempt in range(3):
        responses = await asyncio.gather(
            client.post(url, headers={**org(bargaining, union), "If-Match": etag}, json={"text": f"U{attempt}"}),
            client.post(url, headers={**org(bargaining, employer), "If-Match": etag}, json={"text": f"E{attempt}"}))
        assert sorted(r.status_code for r in responses) == [201, 412], [r.text for r in responses]
        etag = next(r for r in responses if r.status_code == 201).headers["ETag"]
    clause = (await client.get(url.removesuffix("/versions"), headers=org(bargaining, union))).json()
    assert [v["number"] for v in clause["versions"]] == [1, 2, 3, 4]
    assert len(await events_of(bargaining, ClauseProposed.event_type)) == 4



@pytest.fixture
async def clock() -> Clock:
    return Clock(datetime.now(KAZAKHSTAN))


@pytest.fixture
async def sweeping_bargaining(make_database, nats_server, public_key, signer,
                              clock: Clock) -> AsyncIterator[RunningService]:
    settings = settings_for(BargainingSettings, database_url=await make_database("bargaining"),
                            nats_url=nats_server.url, public_key=public_key, deadline_sweep_seconds=0.1)
    async with running(with_clock(definition(settings), clock), signer, "bargaining") as service:
        yield service


async def test_a_missed_entry_period_is_announced_once_and_recorded_as_evasion(
        sweeping_bargaining: RunningService, clock: Clock) -> None:
    service = sweeping_bargaining
    silent_id, union, employer = await enterprise_negotiation(service)
    answered_id, *_ = await enterprise_negotiation(service)
    answered = (await service.client.get(f"/negotiations/{answered_id}", headers=officer(service))).json()
    await service.client.post(f"/negotiations/{answered_id}/entry", headers=officer(service),
                              json={"organisation_id": answered["parties"][0]["organisation_id"]
                                    if answered["parties"][0]["role"] == "addressee"
                                    else answered["parties"][1]["organisation_id"]})
    due = date.fromisoformat((await service.client.get(f"/negotiations/{silent_id}",
                                                       headers=officer(service))).json()["entry_due"])
    clock.now = datetime.combine(due + timedelta(days=1), datetime.min.time(), tzinfo=KAZAKHSTAN)

    async def evaded() -> bool:
        seen = await service.client.get(f"/negotiations/{silent_id}", headers=org(service, union))
        return seen.json()["status"] == "evaded"

    await eventually(evaded, what="the silent negotiation to be recorded as evaded")
    await asyncio.sleep(0.5)  # a few more sweeps change nothing: each event exists once
    missed = await events_of(service, DeadlineMissed.event_type)
    assert [e.data["subject_id"] for e in missed] == [silent_id]
    assert set(missed[0].data["audience"]) == {union, employer}
    assert "art. 156" in missed[0].data["article"]
    assert [e.subject for e in await events_of(service, NegotiationEvaded.event_type)] == [silent_id]
    # The reminder never went out: the period was found already over (see kernel.deadlines).
    assert await events_of(service, DeadlineApproaching.event_type) == []
    # A late entry is still possible, and recorded as late.
    late = await service.client.post(f"/negotiations/{silent_id}/entry", headers=org(service, employer), json={})
    assert late.json()["status"] == "entered", late.text
    [entered] = [e for e in await events_of(service, NegotiationEntered.event_type) if e.subject == silent_id]
    assert entered.data["late"] is True
