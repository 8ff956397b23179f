"""Accession, the register of agreements in force and the coverage rate over HTTP, on a real database
(SQLite and PostgreSQL) and a real nats-server.

Agreements are concluded through the negotiation API (staff recording every act) and come into
force; parties are inserted into the registry projection directly, as in test_negotiation_api.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import jsonschema
from dateutil.relativedelta import relativedelta

from contracts.bargaining import AccessionAnswered, AccessionOverdue, AccessionRequested, DeadlineMissed
from contracts.export import published
from kernel.calendar import KAZAKHSTAN
from kernel.problems import PROBLEM_JSON
from services.bargaining.parties.models import Party
from tests.bargaining import test_negotiation_api as negotiation_api
from tests.bargaining.test_negotiation_api import officer, org
from tests.support.services import Clock, RunningService, eventually
from tests.support.services import outbox_events as events_of

# The negotiation tests' fixtures: a running service, and one whose deadline sweeper runs on a test clock.
bargaining = negotiation_api.bargaining
sweeping_bargaining = negotiation_api.sweeping_bargaining
clock = negotiation_api.clock


async def party(service: RunningService, kind: str, name: str, region_code: str | None = None) -> str:
    party_id = uuid.uuid4()
    async with service.state.sessionmaker() as session:
        session.add(Party(id=party_id, kind=kind, name_kk=name, name_ru=name, registry_status="registered",
                          region_code=region_code))
        await session.commit()
    return str(party_id)


def today() -> date:
    return datetime.now(KAZAKHSTAN).date()


async def concluded(service: RunningService, level: str, workers: list[str], employers: list[str],
                    **coverage: Any) -> tuple[str, Any]:
    """An agreement concluded and filed by staff recording each act, then in force; returns (id, filing answer)."""
    client, staff = service.client, officer(service)
    parties = [{"organisation_id": w, "side": "workers"} for w in workers]
    parties += [{"organisation_id": e, "side": "employers"} for e in employers]
    created = await client.post("/negotiations", headers=staff, json={
        "level": level, "subject_matter": f"{level} agreement", "initiator_id": workers[0], "parties": parties})
    assert created.status_code == 201, created.text
    negotiation_id = created.json()["id"]
    url = f"/negotiations/{negotiation_id}"
    for addressee in employers:
        entered = await client.post(f"{url}/entry", headers=staff, json={"organisation_id": addressee})
        assert entered.status_code == 200, entered.text
    for side, members in (("workers", workers), ("employers", employers)):
        listed = [{"organisation_id": members[i % len(members)], "name": f"{side} {i}", "position": "Officer"}
                  for i in range(2)]
        assert (await client.put(f"{url}/commission/{side}", headers=staff,
                                 json={"members": listed})).status_code == 200
    assert (await client.post(f"{url}/commission/constitution", headers=staff)).status_code == 200
    clause = await client.post(f"{url}/clauses", headers=staff, json={
        "category": "pay", "title": "Pay", "text": "Pay is indexed yearly.", "side": "workers"})
    accepted = await client.post(f"{url}/clauses/{clause.json()['id']}/acceptance", headers=staff,
                                 json={"version": 1, "side": "employers"})
    assert accepted.json()["status"] == "agreed", accepted.text
    for side in ("workers", "employers"):
        signed = await client.post(f"{url}/signatures", headers=staff, json={
            "side": side, "signatory_name": f"{side} chair", "signatory_position": "Chair"})
        assert signed.status_code == 201, signed.text
    term_from = today() - timedelta(days=30)
    filed = await client.post(f"{url}/filing", headers=staff, json={
        "authority": "Labour inspectorate", "registration_number": f"R-{negotiation_id[:8]}",
        "filed_on": today().isoformat(), "term_from": term_from.isoformat(),
        "term_to": (term_from + relativedelta(years=2) - timedelta(days=1)).isoformat(), **coverage})
    if filed.status_code == 200:
        in_force = await client.post(f"{url}/entry-into-force", headers=staff, json={})
        assert in_force.json()["status"] == "in_force", in_force.text
    return negotiation_id, filed


async def enterprise(service: RunningService, region_code: str | None = "KAR",
                     **coverage: Any) -> tuple[str, str, str]:
    union = await party(service, "primary_union_organisation", "Профсоюз")
    employer = await party(service, "employer", "АО Предприятие", region_code)
    negotiation_id, filed = await concluded(service, "enterprise", [union], [employer], **coverage)
    assert filed.status_code == 200, filed.text
    return negotiation_id, union, employer


def check_schema(event: Any) -> None:
    jsonschema.validate(event.data, published(event.type))


async def test_a_union_asks_to_join_and_the_employer_answers(bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    agreement_id, union, employer = await enterprise(service)
    second = await party(service, "local_union", "Второй профсоюз")
    third = await party(service, "primary_union_organisation", "Третий профсоюз")
    requests_url = f"/agreements/{agreement_id}/accession-requests"

    asked = await client.post(requests_url, headers=org(service, second), json={"note": "We represent drivers."})
    assert asked.status_code == 201, asked.text
    body = asked.json()
    assert body["status"] == "pending" and body["union_id"] == second and body["employer_id"] == employer
    assert date.fromisoformat(body["answer_due"]) >= today() + timedelta(days=30)
    assert "verify" not in body and "art." in body["answer_article"]
    again = await client.post(requests_url, headers=org(service, second), json={})
    assert again.status_code == 409 and again.headers["content-type"].startswith(PROBLEM_JSON)
    # A union asks only for itself; an employer is not a union; a party is already in.
    own = await client.post(requests_url, headers=org(service, third), json={"union_id": second})
    assert own.status_code == 422 and own.json()["errors"][0]["rule"] == "own_request"
    not_union = await client.post(requests_url, headers=officer(service), json={"union_id": employer})
    assert not_union.status_code == 422 and not_union.json()["errors"][0]["rule"] == "union"
    assert (await client.post(requests_url, headers=org(service, union), json={})).status_code == 409
    # Only an enterprise agreement in force is open to accession.
    pending_union, pending_employer = (await party(service, "local_union", "П"),
                                       await party(service, "employer", "ТОО П", "KAR"))
    proposed = await client.post("/negotiations", headers=officer(service), json={
        "level": "enterprise", "subject_matter": "Not concluded", "initiator_id": pending_union,
        "parties": [{"organisation_id": pending_union, "side": "workers"},
                    {"organisation_id": pending_employer, "side": "employers"}]})
    early = await client.post(f"/agreements/{proposed.json()['id']}/accession-requests",
                              headers=org(service, pending_union), json={})
    assert early.status_code == 409 and early.json()["status_now"] == "proposed"
    # To a union that is no party, a negotiation not open to accession is as unknown as a missing id.
    outsider = await client.post(f"/agreements/{proposed.json()['id']}/accession-requests",
                                 headers=org(service, third), json={})
    assert outsider.status_code == 404
    assert (await client.post(f"/agreements/{uuid.uuid4()}/accession-requests", headers=org(service, third),
                              json={})).status_code == 404

    # Visible to the union that asked, the employer and staff; not to others.
    for headers, count in ((org(service, second), 1), (org(service, employer), 1), (officer(service), 1),
                           (service.headers(roles={"analyst"}), 1), (org(service, union), 0),
                           (org(service, third), 0)):
        listed = await client.get(requests_url, headers=headers)
        assert listed.status_code == 200 and len(listed.json()) == count, (headers, listed.text)

    answer_url = f"{requests_url}/{body['id']}/answer"
    assert (await client.post(answer_url, headers=org(service, second), json={"accepted": True})).status_code == 403
    assert (await client.post(answer_url, headers=org(service, third), json={"accepted": True})).status_code == 404
    bare = await client.post(answer_url, headers=org(service, employer), json={"accepted": False})
    assert bare.status_code == 422 and bare.json()["errors"][0] == {
        "pointer": "/reasons", "rule": "required_when_refused", "detail": "a refusal states its reasons"}
    accepted = await client.post(answer_url, headers=org(service, employer), json={"accepted": True})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text
    assert (await client.post(answer_url, headers=org(service, employer), json={"accepted": True})).status_code == 409
    agreement = (await client.get(f"/negotiations/{agreement_id}", headers=org(service, second))).json()
    joined = next(p for p in agreement["parties"] if p["organisation_id"] == second)
    assert (joined["side"], joined["role"], joined["entered_on"]) == ("workers", "acceded", today().isoformat())

    third_request = await client.post(requests_url, headers=org(service, third), json={})
    refused = await client.post(f"{requests_url}/{third_request.json()['id']}/answer", headers=officer(service),
                                json={"accepted": False, "reasons": "The union has no members at this employer."})
    assert refused.json()["status"] == "refused" and refused.json()["reasons"].startswith("The union has no")
    seen = (await client.get(requests_url, headers=org(service, third))).json()
    assert [(r["status"], r["reasons"]) for r in seen] == [("refused", "The union has no members at this employer.")]

    requested = await events_of(service, AccessionRequested.event_type)
    answered = await events_of(service, AccessionAnswered.event_type)
    assert len(requested) == 2 and len(answered) == 2
    for event in (*requested, *answered):
        check_schema(event)
        assert event.subject == agreement_id and employer in event.data["audience"]
        assert event.data["union_id"] in event.data["audience"]
    assert sorted((e.data["union_id"], e.data["accepted"], e.data["late"]) for e in answered) == sorted(
        [(second, True, False), (third, False, False)])


async def test_an_unanswered_request_is_recorded_overdue_once(sweeping_bargaining: RunningService,
                                                              clock: Clock) -> None:
    service, client = sweeping_bargaining, sweeping_bargaining.client
    agreement_id, _, employer = await enterprise(service)
    union = await party(service, "local_union", "Ожидающий профсоюз")
    asked = await client.post(f"/agreements/{agreement_id}/accession-requests", headers=org(service, union), json={})
    request = asked.json()
    clock.now = datetime.combine(date.fromisoformat(request["answer_due"]) + timedelta(days=1), datetime.min.time(),
                                 tzinfo=KAZAKHSTAN)
    url = f"/agreements/{agreement_id}/accession-requests"

    async def overdue() -> bool:
        return (await client.get(url, headers=org(service, employer))).json()[0]["status"] == "overdue"

    await eventually(overdue, what="the unanswered request to be recorded as overdue")
    [shown] = (await client.get(url, headers=org(service, union))).json()
    assert shown["overdue_since"] == (date.fromisoformat(request["answer_due"]) + timedelta(days=1)).isoformat()
    [event] = await events_of(service, AccessionOverdue.event_type)
    check_schema(event)
    assert set(event.data["audience"]) == {union, employer} and event.data["request_id"] == request["id"]
    missed = [e for e in await events_of(service, DeadlineMissed.event_type) if e.data["kind"] == "accession_answer"]
    assert [e.data["subject_id"] for e in missed] == [request["id"]] and "verify" not in missed[0].data
    # The employer may still answer; the delay stays on the record.
    late = await client.post(f"{url}/{request['id']}/answer", headers=org(service, employer), json={"accepted": True})
    assert late.json()["status"] == "accepted", late.text
    assert late.json()["overdue_since"] == shown["overdue_since"]
    assert len(await events_of(service, AccessionAnswered.event_type)) == 1
    assert len(await events_of(service, AccessionOverdue.event_type)) == 1


async def test_the_register_and_the_coverage_rate_by_hand(bargaining: RunningService) -> None:
    service, client, staff = bargaining, bargaining.client, officer(bargaining)
    # A: enterprise, employer E1 in Karaganda (from the register), coal mining, 400 workers at filing.
    a, _, e1 = await enterprise(service, "KAR", workers_covered=400, sector="05")
    # B: the employer's region is not in the register: it must be given.
    union_b = await party(service, "primary_union_organisation", "Профсоюз Б")
    e2 = await party(service, "employer", "АО Б", None)
    b, missing = await concluded(service, "enterprise", [union_b], [e2], workers_covered=250, sector="24")
    assert missing.status_code == 422 and [e["rule"] for e in missing.json()["errors"]] == ["required_at_level"]
    assert missing.json()["errors"][0]["pointer"] == "/region_code"
    b, filed = await concluded(service, "enterprise", [union_b], [e2], workers_covered=250, sector="24",
                               region_code="ALA")
    assert filed.status_code == 200, filed.text
    # C: coverage recorded later, under If-Match.
    c, _, _ = await enterprise(service, "KAR")
    url = f"/agreements/{c}/coverage"
    assert (await client.get(f"/agreements/{c}", headers=staff)).headers["ETag"] == '"0"'
    assert (await client.put(url, headers=staff, json={"workers_covered": 100, "sector": "24"})).status_code == 428
    stale = await client.put(url, headers={**staff, "If-Match": '"1"'}, json={"workers_covered": 100, "sector": "24"})
    assert stale.status_code == 412 and stale.json()["current_etag"] == '"0"'
    first = await client.put(url, headers={**staff, "If-Match": '"0"'}, json={"workers_covered": 100, "sector": "24"})
    assert first.status_code == 200 and first.headers["ETag"] == '"1"' and first.json()["region_code"] == "KAR"
    second = await client.put(url, headers={**staff, "If-Match": first.headers["ETag"]},
                              json={"workers_covered": 150, "sector": "24"})
    assert second.json()["workers_covered"] == 150 and second.json()["coverage_version"] == 2
    bad = await client.put(url, headers={**staff, "If-Match": '"2"'}, json={"workers_covered": -1, "sector": "5"})
    assert bad.status_code == 422 and {e["pointer"] for e in bad.json()["errors"]} == {"/workers_covered", "/sector"}
    # S: a sectoral agreement that E1 signed itself, with an association: 1,000 workers in coal mining, national.
    sectoral_union = await party(service, "sectoral_union", "Отраслевой профсоюз")
    association = await party(service, "sectoral_employer_association", "Ассоциация угольщиков", "AST")
    s, filed = await concluded(service, "sectoral", [sectoral_union], [e1, association], workers_covered=1000,
                               sector="05")
    assert filed.status_code == 200, filed.text

    # The register of agreements in force.
    on = today().isoformat()

    async def register(headers: dict[str, str] = staff, **query: str) -> list[str]:
        answer = await client.get("/agreements", headers=headers, params={"in_force_on": on, **query})
        assert answer.status_code == 200, answer.text
        return sorted(item["id"] for item in answer.json()["items"])

    assert await register() == sorted([a, b, c, s])
    assert await register(level="enterprise") == sorted([a, b, c])
    assert await register(region_code="KAR") == sorted([a, c])
    assert await register(sector="05") == sorted([a, s])
    assert await register(org(service, e2)) == [b]
    assert await register(in_force_on=(today() - timedelta(days=31)).isoformat()) == []
    item = (await client.get("/agreements", headers=staff, params={"level": "sectoral"})).json()["items"][0]
    assert item["term_to"] and item["days_to_expiry"] > 600 and item["workers_covered"] == 1000

    # Employees figures first: staff only.
    figures = {"national": 10_000, "by_region": {"KAR": 2_000, "ALA": 5_000}, "by_sector": {"05": 2_000, "24": 1_000}}
    year = today().year
    assert (await client.get("/coverage", headers=staff, params={"on": on})).json()["type"].endswith(
        "employees-not-loaded")
    for headers in (service.headers(roles={"analyst"}), org(service, e1)):
        assert (await client.put(f"/coverage/employees/{year}", headers=headers, json=figures)).status_code == 403
    assert (await client.put(f"/coverage/employees/{year}", headers=staff, json=figures)).status_code == 200

    report = (await client.get("/coverage", headers=service.headers(roles={"analyst"}), params={"on": on})).json()
    # By hand: E1's agreements (A 400, S 1,000) count once at 1,000; + B 250 + C 150 = 1,400 of 10,000.
    assert report["national"] == {"key": None, "covered": 1400, "employees": 10_000, "rate": 14.0}
    # Almaty: B 250 of 5,000 = 5 %; Karaganda: A 400 + C 150 = 550 of 2,000 = 27.5 % (S is national).
    assert [(r["key"], r["covered"], r["rate"]) for r in report["by_region"]] == [("ALA", 250, 5.0),
                                                                                 ("KAR", 550, 27.5)]
    # Coal mining: max(A 400, S 1,000) = 1,000 of 2,000 = 50 %; sector 24: B 250 + C 150 = 400 of 1,000 = 40 %.
    assert [(r["key"], r["covered"], r["rate"]) for r in report["by_sector"]] == [("05", 1000, 50.0),
                                                                                 ("24", 400, 40.0)]
    assert report["agreements"] == 4 and report["without_count"] == 0 and "maximum per employer" in report[
        "assumption"]
    assert (await client.get("/coverage", headers=org(service, e1), params={"on": on})).status_code == 403

    # A terminated agreement leaves the register and the rate from its end day.
    ended = await client.post(f"/negotiations/{b}/termination", headers=staff, json={
        "unilateral": False, "reason": "Replaced by agreement of the parties."})
    assert ended.status_code == 200, ended.text
    assert b not in await register()
    after = (await client.get("/coverage", headers=staff, params={"on": on})).json()
    assert after["national"]["covered"] == 1150 and after["national"]["rate"] == 11.5
