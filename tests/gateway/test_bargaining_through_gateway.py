"""Collective bargaining as its users meet it: through the gateway, each with their own credential.

The registry and bargaining run as real processes (uvicorn, their own databases, a real
nats-server); the gateway runs in front of them. The registry's events bring the union and
the employer into bargaining's parties. The union proposes bargaining; the employer's system,
with its API key, enters and counter-proposes on two clauses; one is agreed, one is not;
both sides sign with a protocol of disagreements; the agreement is filed. Every event the
bargaining service publishes is on its stream exactly once, with both parties in the audience.
"""

from __future__ import annotations

import uuid
from collections import Counter

import jsonschema
import pytest

from contracts.export import published
from kernel.calendar import kazakhstan_today
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

BARGAINING = f"{API}/bargaining"


@pytest.fixture
async def platform(start_platform: PlatformFactory) -> Gateway:
    return await start_platform("registry", "bargaining")


async def test_union_and_employer_bargain_to_a_filed_agreement(platform: Gateway, nats_server) -> None:
    gateway, client = platform, platform.client
    ids = await register_organisations(gateway, {
        "union": {"kind": "local_union", "name_kk": "Шахтерлер кәсіподағы", "name_ru": "Профсоюз шахтёров",
                  "region_code": "350000000"},
        "employer": {"kind": "employer", "name_kk": "Көмір АҚ", "name_ru": "АО Уголь",
                     "bin": make_bin("07014000555"), "region_code": "350000000"},
    })
    union_id, employer_id = ids["union"], ids["employer"]
    _, union_key = await gateway.issue_key(roles=("union",), organisation_id=uuid.UUID(union_id), name="union")
    _, employer_key = await gateway.issue_key(roles=("employer",), organisation_id=uuid.UUID(employer_id),
                                              name="employer HR system")
    _, officer_key = await gateway.issue_key(roles=("bargaining_officer",), name="labour inspectorate system")
    union, employer, officer = bearer(union_key), bearer(employer_key), bearer(officer_key)

    await wait_until_known(gateway, "bargaining", (union_id, employer_id), officer)

    proposed = await client.post(f"{BARGAINING}/negotiations", headers=union, json={
        "level": "enterprise", "subject_matter": "Collective agreement of AO Ugol for 2026-2028",
        "initiator_id": union_id, "parties": [{"organisation_id": union_id, "side": "workers"},
                                              {"organisation_id": employer_id, "side": "employers"}]})
    assert proposed.status_code == 201, proposed.text
    negotiation = f"{BARGAINING}/negotiations/{proposed.json()['id']}"

    # The employer's system sees it among its own and enters negotiations.
    own = await client.get(f"{BARGAINING}/negotiations", headers=employer)
    assert [n["id"] for n in own.json()["items"]] == [proposed.json()["id"]]
    entered = await client.post(f"{negotiation}/entry", headers=employer, json={})
    assert entered.status_code == 200 and entered.json()["status"] == "entered", entered.text

    for side, headers, party in (("workers", union, union_id), ("employers", employer, employer_id)):
        members = [{"organisation_id": party, "name": f"{side} officer {i}", "position": "Commission member"}
                   for i in (1, 2, 3)]
        put = await client.put(f"{negotiation}/commission/{side}", headers=headers, json={"members": members})
        assert put.status_code == 200, put.text
    constituted = await client.post(f"{negotiation}/commission/constitution", headers=union)
    assert constituted.json()["status"] == "negotiating", constituted.text

    # The union tables two clauses; the employer counter-proposes on both.
    clauses = {}
    for key, body in (("pay", {"category": "pay", "title": "Pay rise", "text": "Basic pay rises by 15%."}),
                      ("hours", {"category": "working_time", "title": "Underground shifts",
                                 "text": "Underground shifts last at most 6 hours."})):
        created = await client.post(f"{negotiation}/clauses", headers=union, json=body)
        assert created.status_code == 201, created.text
        clauses[key] = (f"{negotiation}/clauses/{created.json()['id']}", created.headers["ETag"])
    counters = {}
    for key, text in (("pay", "Basic pay rises by 10%."), ("hours", "Underground shifts last at most 8 hours.")):
        url, etag = clauses[key]
        assert (await client.post(f"{url}/versions", headers=employer, json={"text": text})).status_code == 428
        counter = await client.post(f"{url}/versions", headers={**employer, "If-Match": etag}, json={"text": text})
        assert counter.status_code == 201, counter.text
        counters[key] = counter.json()

    # The union accepts the pay counter-proposal; the working time clause stays open.
    agreed = await client.post(f"{clauses['pay'][0]}/acceptance", headers=union,
                               json={"version": counters["pay"]["current_version"]})
    assert agreed.json()["status"] == "agreed", agreed.text

    # Both sign; the open clause goes into a protocol of disagreements.
    for headers, name in ((union, "Chair of the union"), (employer, "General director")):
        signature = await client.post(f"{negotiation}/signatures", headers=headers,
                                      json={"signatory_name": name, "signatory_position": name})
        assert signature.status_code == 201, signature.text
    signed = signature.json()
    assert signed["status"] == "signed" and signed["with_disagreements"]
    [protocol] = signed["disagreement_protocols"]
    assert [c["title"] for c in protocol["clauses"]] == ["Underground shifts"]
    agreement = await client.get(f"{negotiation}/agreement.md", headers=employer)
    assert agreement.status_code == 200 and "Basic pay rises by 10%." in agreement.text

    filed = await client.post(f"{negotiation}/filing", headers=officer, json={
        "authority": "Karaganda region labour inspectorate", "registration_number": "KRG-2026-0042",
        "filed_on": kazakhstan_today().isoformat(), "term_from": "2026-01-01", "term_to": "2028-12-31"})
    assert filed.status_code == 200 and filed.json()["status"] == "filed", filed.text

    # A stranger's key meets 404 exactly as for a missing id.
    _, stranger_key = await gateway.issue_key(roles=("employer",), organisation_id=uuid.uuid4(), name="stranger")
    missing = await client.get(f"{BARGAINING}/negotiations/{uuid.uuid4()}", headers=bearer(stranger_key))
    hidden = await client.get(negotiation, headers=bearer(stranger_key))
    assert hidden.status_code == missing.status_code == 404 and hidden.json()["detail"] == missing.json()["detail"]

    # Every event published exactly once, with both parties in its audience.
    expected = Counter({
        "kz.ntc.bargaining.negotiation.proposed.v1": 1, "kz.ntc.bargaining.negotiation.entered.v1": 1,
        "kz.ntc.bargaining.commission.constituted.v1": 1, "kz.ntc.bargaining.clause.proposed.v1": 4,
        "kz.ntc.bargaining.clause.agreed.v1": 1, "kz.ntc.bargaining.agreement.signed.v1": 1,
        "kz.ntc.bargaining.disagreement_protocol.signed.v1": 1, "kz.ntc.bargaining.agreement.filed.v1": 1,
    })

    async def all_published() -> list[dict]:
        events = await stream_events(nats_server.url, "bargaining")
        return events if len(events) >= sum(expected.values()) else []

    events = await eventually(all_published, timeout=30, interval=0.5, what="the bargaining events on the stream")
    assert Counter(e["type"] for e in events) == expected
    assert len({e["id"] for e in events}) == len(events)
    for event in events:
        assert set(event["data"]["audience"]) == {union_id, employer_id}, event["type"]
        jsonschema.validate(event["data"], published(event["type"]))
    [protocol_event] = [e for e in events if e["type"] == "kz.ntc.bargaining.disagreement_protocol.signed.v1"]
    positions = {p["side"]: p["text"] for p in protocol_event["data"]["clauses"][0]["positions"]}
    assert positions == {"workers": "Underground shifts last at most 6 hours.",
                         "employers": "Underground shifts last at most 8 hours."}
