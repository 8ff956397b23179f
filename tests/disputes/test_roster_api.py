"""The roster over HTTP on SQLite and PostgreSQL with nats: staff keep it; assignment refuses a person affiliated
with a party (409, rule no_affiliation_with_party, nothing written) and otherwise rotates; the written consent is
recorded; the roster mediator takes the dispute and is in the audience of its later events."""

from __future__ import annotations

import uuid

import jsonschema
from sqlalchemy import func, select

from contracts.disputes import DisputeSettled, MediationStarted, RosterConsentRecorded, RosterMemberAssigned
from contracts.export import published
from services.disputes.parties.models import Party
from services.disputes.roster.models import RosterAssignment, RosterMember
from tests.disputes.test_collective_api import disputes, officer, org  # noqa: F401  (fixture)
from tests.support.services import RunningService
from tests.support.services import outbox_events as events_of


async def party(service: RunningService, kind: str, name: str, region_code: str | None = "75") -> str:
    party_id = uuid.uuid4()
    async with service.state.sessionmaker() as session:
        session.add(Party(id=party_id, kind=kind, name_kk=name, name_ru=name, region_code=region_code,
                          registry_status="registered"))
        await session.commit()
    return str(party_id)


async def dispute_in_conciliation(service: RunningService, union: str, employer: str) -> str:
    client = service.client
    made = await client.post("/collective-disputes", headers=org(service, union), json={
        "union_id": union, "employer_id": employer, "workers_concerned": 300, "submitted_on": "2026-04-01",
        "cause": "wages", "demands": [{"text": "Index pay by 12%"}]})
    assert made.status_code == 201, made.text
    dispute_id = made.json()["id"]
    for path, body in (("answer", {"answer": "rejected", "answered_on": "2026-04-02", "text": "No"}),
                       ("conciliation", {"on": "2026-04-03"})):
        moved = await client.post(f"/collective-disputes/{dispute_id}/{path}", headers=officer(service), json=body)
        assert moved.status_code == 200, moved.text
    return dispute_id


async def add_member(service: RunningService, **body: object) -> dict:
    made = await service.client.post("/roster", headers=officer(service), json={
        "kind": "mediator", "languages": ["kk", "ru"], "regions": ["75"]} | body)
    assert made.status_code == 201, made.text
    return made.json()


async def test_staff_keep_the_roster_and_nobody_else_does(disputes: RunningService) -> None:  # noqa: F811
    service, client = disputes, disputes.client
    union = await party(service, "primary_union_organisation", "Профсоюз")
    member = await add_member(service, name="А. Абаев", specialisations=["wages"], affiliations=[union])
    assert member["affiliations"] == [union] and member["last_assigned_at"] is None and member["version"] == 1
    body = {"name": "Б. Бекова", "kind": "mediator", "languages": ["ru"]}
    assert (await client.post("/roster", headers=org(service, union), json=body)).status_code == 403
    analyst = service.headers(roles={"analyst"})
    assert (await client.post("/roster", headers=analyst, json=body)).status_code == 403
    assert (await client.get("/roster", headers=analyst)).json()["total"] == 1
    assert (await client.get("/roster", headers=org(service, union))).status_code == 403
    for bad, pointer in (({"regions": ["Almaty"]}, "/regions/0"), ({"languages": []}, "/languages"),
                         ({"kind": "judge"}, "/kind"), ({"affiliations": ["not-an-id"]}, "/affiliations/0")):
        refused = await client.post("/roster", headers=officer(service), json=body | bad)
        assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == pointer, refused.text
    changed = await client.patch(f"/roster/{member['id']}", headers=officer(service), json={"available": False})
    assert changed.status_code == 200 and changed.json()["available"] is False and changed.json()["version"] == 2
    assert (await client.get("/roster?available=true", headers=analyst)).json()["total"] == 0
    emptied = await client.patch(f"/roster/{member['id']}", headers=officer(service), json={"languages": None})
    assert emptied.status_code == 422 and emptied.json()["errors"][0]["pointer"] == "/languages"
    assert (await client.get(f"/roster/{uuid.uuid4()}", headers=analyst)).status_code == 404


async def test_a_conflicted_person_is_refused_and_rotation_takes_turns(disputes: RunningService) -> None:  # noqa: F811
    service, client = disputes, disputes.client
    union = await party(service, "primary_union_organisation", "Профсоюз горняков")
    employer = await party(service, "employer", "АО Рудник")
    conflicted = await add_member(service, name="В. Ведущий", affiliations=[employer])
    abaev = await add_member(service, name="А. Абаев")
    ermekov = await add_member(service, name="Е. Ермеков")
    await add_member(service, name="Ж. Далёкий", regions=["35"])  # serves another region
    await add_member(service, name="З. Занятой", available=False)
    await add_member(service, name="И. Арбитр", kind="arbitrator")
    disputes_ = [await dispute_in_conciliation(service, union, employer) for _ in range(3)]

    # Named by staff, but affiliated with the employer: 409 naming the rule, nothing written.
    refused = await client.post(f"/collective-disputes/{disputes_[0]}/assignments", headers=officer(service),
                                json={"kind": "mediator", "member_id": conflicted["id"]})
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"][0] == {"pointer": "/member_id", "rule": "no_affiliation_with_party",
                                           "detail": "affiliated with a party to the dispute"}
    async with service.state.sessionmaker() as session:
        assert (await session.get(RosterMember, uuid.UUID(conflicted["id"]))).last_assigned_at is None
        assert await session.scalar(select(func.count()).select_from(RosterAssignment)) == 0
    assert (await client.get(f"/collective-disputes/{disputes_[0]}/assignments",
                             headers=officer(service))).json() == []

    # Rotation: never assigned first (by name), then the least recently assigned.
    picked = []
    for dispute_id in disputes_:
        made = await client.post(f"/collective-disputes/{dispute_id}/assignments", headers=officer(service),
                                 json={"kind": "mediator"})
        assert made.status_code == 201, made.text
        assert made.json()["by_rotation"] is True
        picked.append(made.json()["member_name"])
    assert picked == [abaev["name"], ermekov["name"], abaev["name"]]
    # A language nobody eligible speaks leaves no candidate.
    none = await client.post(f"/collective-disputes/{disputes_[0]}/assignments", headers=officer(service),
                             json={"kind": "mediator", "language": "en"})
    assert none.status_code == 422 and none.json()["errors"][0]["rule"] == "rotation_candidate"
    again = await client.post(f"/collective-disputes/{disputes_[0]}/assignments", headers=officer(service),
                              json={"kind": "mediator", "member_id": abaev["id"]})
    assert again.status_code == 409
    # Parties do not assign; a stranger does not see the assignments.
    assert (await client.post(f"/collective-disputes/{disputes_[0]}/assignments", headers=org(service, union),
                              json={"kind": "mediator"})).status_code == 403
    stranger = org(service, await party(service, "employer", "ТОО Чужое"))
    assert (await client.get(f"/collective-disputes/{disputes_[0]}/assignments", headers=stranger)).status_code == 404
    [event, *_] = await events_of(service, RosterMemberAssigned.event_type)
    assert sorted(event.data["audience"]) == sorted([union, employer, abaev["id"]])
    jsonschema.validate(event.data, published(RosterMemberAssigned.event_type))


async def test_the_roster_mediator_consents_takes_the_dispute_and_hears_of_its_later_events(
        disputes: RunningService) -> None:  # noqa: F811
    service, client = disputes, disputes.client
    union = await party(service, "primary_union_organisation", "Профсоюз")
    employer = await party(service, "employer", "ТОО Завод")
    mediator = await add_member(service, name="Д. Нурланов")
    dispute_id = await dispute_in_conciliation(service, union, employer)
    staff, u = officer(service), org(service, union)
    assigned = (await client.post(f"/collective-disputes/{dispute_id}/assignments", headers=staff,
                                  json={"kind": "mediator", "assigned_on": "2026-04-10"})).json()
    mediation = {"on": "2026-04-15", "mediator_id": mediator["id"], "outcome": "The commission did not agree"}
    early = await client.post(f"/collective-disputes/{dispute_id}/mediation", headers=u, json=mediation)
    assert early.status_code == 422 and early.json()["errors"][0]["rule"] == "written_consent"
    consent = f"/collective-disputes/{dispute_id}/assignments/{assigned['id']}/consent"
    before = await client.post(consent, headers=staff, json={"consent_on": "2026-04-09"})
    assert before.status_code == 422 and before.json()["errors"][0]["pointer"] == "/consent_on"
    given = await client.post(consent, headers=staff, json={"consent_on": "2026-04-13",
                                                            "consent_document": "Letter 7"})
    assert given.status_code == 200 and given.json()["consent_on"] == "2026-04-13"
    assert (await client.post(consent, headers=staff, json={"consent_on": "2026-04-14"})).status_code == 409
    nobody = await client.post(f"/collective-disputes/{dispute_id}/mediation", headers=u,
                               json={"on": "2026-04-15"})
    assert nobody.status_code == 422 and nobody.json()["errors"][0]["rule"] == "mediator_named"
    stranger = await add_member(service, name="Е. Посторонний")
    unassigned = await client.post(f"/collective-disputes/{dispute_id}/mediation", headers=u,
                                   json=mediation | {"mediator_id": stranger["id"]})
    assert unassigned.status_code == 422 and unassigned.json()["errors"][0]["rule"] == "assigned_to_dispute"

    taken = await client.post(f"/collective-disputes/{dispute_id}/mediation", headers=u, json=mediation)
    assert taken.status_code == 200, taken.text
    body = taken.json()
    assert (body["mediator_id"], body["mediator_name"], body["mediator_consent_on"],
            body["mediator_consent_document"]) == (mediator["id"], "Д. Нурланов", "2026-04-13", "Letter 7")
    settled = await client.post(f"/collective-disputes/{dispute_id}/settlement", headers=u,
                                json={"on": "2026-04-20", "outcome": "Agreed with the mediator"})
    assert settled.status_code == 200
    everyone = sorted([union, employer, mediator["id"]])
    for event_class in (RosterConsentRecorded, MediationStarted, DisputeSettled):
        [event] = await events_of(service, event_class.event_type)
        assert sorted(event.data["audience"]) == everyone, event_class
        jsonschema.validate(event.data, published(event_class.event_type))
    [started] = await events_of(service, MediationStarted.event_type)
    assert started.data["mediator_id"] == mediator["id"]
    # Nobody is assigned to a dispute that has ended.
    ended = await client.post(f"/collective-disputes/{dispute_id}/assignments", headers=staff,
                              json={"kind": "arbitrator"})
    assert ended.status_code == 409
