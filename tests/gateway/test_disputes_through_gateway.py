"""Collective labour disputes as their users meet them: through the gateway, each with their own credential.

The registry and disputes run as real processes (their own databases, a real nats-server), the
gateway in front. The registry's events bring the union and the employers into the disputes
service's parties. One dispute goes from demands to a settlement in the conciliation commission;
another to a strike decision at a hazardous production facility (the warning recorded, the
decision not stopped) and is ruled illegal. Every event of each dispute is on the stream exactly
once, names both parties and validates against its published schema.
"""

from __future__ import annotations

import uuid
from collections import Counter

import jsonschema
import pytest

from contracts.export import published
from services.registry.organisations.rules import make_bin
from tests.gateway.support import (
    API,
    Gateway,
    PlatformFactory,
    bearer,
    register_organisations,
    stream_events,
    wait_until_known,
)
from tests.support.services import eventually

DISPUTES = f"{API}/disputes/collective-disputes"


@pytest.fixture
async def platform(start_platform: PlatformFactory) -> Gateway:
    return await start_platform("registry", "disputes")


async def test_two_collective_disputes_through_the_gateway(platform: Gateway, nats_server) -> None:
    gateway, client = platform, platform.client
    ids = await register_organisations(gateway, {
        "union": {"kind": "local_union", "name_kk": "Кеншілер кәсіподағы", "name_ru": "Профсоюз горняков",
                  "region_code": "350000000"},
        "mine": {"kind": "employer", "name_kk": "Кеніш АҚ", "name_ru": "АО Рудник", "bin": make_bin("07014000777"),
                 "region_code": "350000000"},
        "plant": {"kind": "employer", "name_kk": "Химзауыт АҚ", "name_ru": "АО Химзавод",
                  "bin": make_bin("07014000888"), "region_code": "350000000"},
    })
    keys = {}
    for name, roles in (("union", ("union",)), ("mine", ("employer",)), ("plant", ("employer",))):
        _, keys[name] = await gateway.issue_key(roles=roles, organisation_id=uuid.UUID(ids[name]), name=name)
    _, officer_key = await gateway.issue_key(roles=("dispute_officer",), name="labour inspectorate system")
    union, mine, plant, officer = (bearer(keys["union"]), bearer(keys["mine"]), bearer(keys["plant"]),
                                   bearer(officer_key))

    await wait_until_known(gateway, "disputes", ids.values(), officer)

    # 1. Demands → the mine rejects them over its API → conciliation → settled in the commission.
    submitted = await client.post(DISPUTES, headers=union, json={
        "union_id": ids["union"], "employer_id": ids["mine"], "workers_concerned": 1200,
        "submitted_on": "2026-03-20", "demands": [{"text": "Index pay by 15% from 1 April"},
                                                  {"text": "Pay the wage arrears for February"}]})
    assert submitted.status_code == 201, submitted.text
    settled_id = submitted.json()["id"]
    assert submitted.json()["answer_due"] == "2026-03-30"  # three working days around Nauryz 2026
    url = f"{DISPUTES}/{settled_id}"
    own = await client.get(DISPUTES, headers=mine)
    assert [d["id"] for d in own.json()["items"]] == [settled_id]
    assert (await client.get(url, headers=plant)).status_code == 404  # another employer's dispute
    rejected = await client.post(f"{url}/answer", headers=mine, json={
        "answer": "rejected", "answered_on": "2026-03-26", "text": "No funds for indexation this year."})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected", rejected.text
    illegal = await client.post(f"{url}/strike-decision", headers=union, json={"on": "2026-03-27"})
    assert illegal.status_code in (409, 422), illegal.text  # no strike before conciliation
    conciliation = await client.post(f"{url}/conciliation", headers=union, json={"on": "2026-03-27"})
    assert conciliation.json()["conciliation_due"] == "2026-04-07", conciliation.text
    settled = await client.post(f"{url}/settlement", headers=mine, json={
        "on": "2026-04-03", "outcome": "Pay indexed by 10% from 1 May; the arrears paid by 15 April."})
    assert settled.status_code == 200 and settled.json()["status"] == "settled", settled.text
    assert [s["stage"] for s in settled.json()["stages"]] == ["demands_submitted", "rejected", "conciliation"]

    # 2. At a hazardous production facility: partly accepted → conciliation → mediation → strike decided
    #    (warned, recorded) → ruled illegal by the court, recorded by staff.
    submitted = await client.post(DISPUTES, headers=union, json={
        "union_id": ids["union"], "employer_id": ids["plant"], "workers_concerned": 640,
        "submitted_on": "2026-04-01", "demands": [{"text": "Hazard pay of 25%"}]})
    assert submitted.status_code == 201, submitted.text
    struck_id = submitted.json()["id"]
    url = f"{DISPUTES}/{struck_id}"
    for path, headers, body in (
        ("answer", plant, {"answer": "partly_accepted", "answered_on": "2026-04-03", "text": "Hazard pay of 10%."}),
        ("conciliation", union, {"on": "2026-04-06"}),
        ("mediation", union, {"on": "2026-04-20", "outcome": "The commission did not agree",
                              "mediator_name": "Д. Нурланов", "consent_on": "2026-04-17",
                              "consent_document": "Consent letter No. 12"}),
    ):
        moved = await client.post(f"{url}/{path}", headers=headers, json=body)
        assert moved.status_code == 200, moved.text
    decided = await client.post(f"{url}/strike-decision", headers=union, json={
        "on": "2026-05-04", "outcome": "Mediation failed", "strike_starts_on": "2026-05-20",
        "meeting": {"employees_total": 640, "present": 500, "votes_for": 410},
        "categories": ["hazardous_production_facility"], "sectors": []})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "strike_decided"
    [warning] = decided.json()["strike_decision"]["warnings"]
    assert warning["code"] == "hazardous_production_facility" and "art. 176 p. 1" in warning["article"]
    assert (await client.post(f"{url}/ruling/illegal", headers=plant, json={"court": "Court"})).status_code == 403
    ruled = await client.post(f"{url}/ruling/illegal", headers=officer, json={
        "on": "2026-05-15", "court": "Specialised inter-district economic court of Karaganda region",
        "outcome": "Strike at a hazardous production facility declared illegal"})
    assert ruled.status_code == 200 and ruled.json()["status"] == "ruled_illegal", ruled.text

    expected = {
        settled_id: Counter({"kz.ntc.disputes.demands.submitted.v1": 1, "kz.ntc.disputes.employer.answered.v1": 1,
                             "kz.ntc.disputes.conciliation.started.v1": 1, "kz.ntc.disputes.dispute.settled.v1": 1}),
        struck_id: Counter({"kz.ntc.disputes.demands.submitted.v1": 1, "kz.ntc.disputes.employer.answered.v1": 1,
                            "kz.ntc.disputes.conciliation.started.v1": 1, "kz.ntc.disputes.mediation.started.v1": 1,
                            "kz.ntc.disputes.strike.decided.v1": 1, "kz.ntc.disputes.strike.ruled.v1": 1}),
    }
    parties = {settled_id: {ids["union"], ids["mine"]}, struck_id: {ids["union"], ids["plant"]}}
    wanted = sum(sum(c.values()) for c in expected.values())
    # The transitions; deadline and stalled-stage events (these dates are long past) are counted apart.
    transition_types = {t for counts in expected.values() for t in counts}

    def transitions(events: list[dict], dispute_id: str) -> list[dict]:
        return [e for e in events if e["subject"] == dispute_id and e["type"] in transition_types]

    async def all_published() -> list[dict]:
        events = await stream_events(nats_server.url, "disputes")
        return events if sum(len(transitions(events, d)) for d in expected) >= wanted else []

    events = await eventually(all_published, timeout=30, interval=0.5, what="the disputes events on the stream")
    assert len({e["id"] for e in events}) == len(events)
    for dispute_id, counts in expected.items():
        assert Counter(e["type"] for e in transitions(events, dispute_id)) == counts, dispute_id
    for event in events:
        if event["subject"] in parties:
            assert parties[event["subject"]] <= set(event["data"]["audience"]), event["type"]
        jsonschema.validate(event["data"], published(event["type"]))
    [ruling] = [e for e in events if e["type"] == "kz.ntc.disputes.strike.ruled.v1"]
    assert ruling["data"]["legal"] is False
    [decision] = [e for e in events if e["type"] == "kz.ntc.disputes.strike.decided.v1"]
    assert decision["data"]["warnings"][0]["code"] == "hazardous_production_facility"
