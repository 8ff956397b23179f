"""Statistics and the social-tension view over HTTP, on SQLite and PostgreSQL with nats, every figure computed by
hand from six disputes in three regions (and a draft, which is not yet a dispute and is not counted)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from contracts.bargaining import ClauseCategory, DisagreementProtocolSigned, Level, OpenClause, Side, SidePosition
from services.disputes.collective.service import open_draft
from tests.disputes.test_collective_api import disputes, officer, org  # noqa: F401  (fixture)
from tests.disputes.test_roster_api import party
from tests.support.services import RunningService


async def dispute(service: RunningService, union: str, employer: str, steps: list[tuple[str, dict[str, Any]]],
                  **create: Any) -> str:
    made = await service.client.post("/collective-disputes", headers=org(service, union), json={
        "union_id": union, "employer_id": employer, "submitted_on": "2026-04-01",
        "demands": [{"text": "The demands"}]} | create)
    assert made.status_code == 201, made.text
    dispute_id = made.json()["id"]
    for path, body in steps:
        moved = await service.client.post(f"/collective-disputes/{dispute_id}/{path}", headers=officer(service),
                                          json=body)
        assert moved.status_code == 200, (path, moved.text)
    return dispute_id


REJECTED = ("answer", {"answer": "rejected", "answered_on": "2026-04-02", "text": "No"})
CONCILIATION = ("conciliation", {"on": "2026-04-03"})
MEETING = {"employees_total": 1200, "present": 1000, "votes_for": 900}


async def test_statistics_and_social_tension_computed_by_hand(disputes: RunningService) -> None:  # noqa: F811
    service, client = disputes, disputes.client
    union = await party(service, "primary_union_organisation", "Профсоюз", region_code="75")
    almaty = await party(service, "employer", "АО Алматы", region_code="750000000")
    karaganda = await party(service, "employer", "АО Караганда", region_code="35")
    # 1. Almaty, wages, 1200 workers: a strike 27-29 April (3 working days), suspended, resumed 1-2 June (2 working
    #    days), settled 3 June: 63 days to resolution; 1200 × 5 = 6000 working days not worked.
    await dispute(service, union, almaty, [
        REJECTED, CONCILIATION,
        ("strike-decision", {"on": "2026-04-14", "strike_starts_on": "2026-04-27", "meeting": MEETING}),
        ("strike", {"on": "2026-04-27"}), ("suspension", {"on": "2026-04-30"}), ("strike", {"on": "2026-06-01"}),
        ("settlement", {"on": "2026-06-03"})], workers_concerned=1200, cause="wages", sector_code="B")
    # 2. Almaty, safety, accepted then settled on 10 April: 9 days.
    await dispute(service, union, almaty, [("answer", {"answer": "accepted", "answered_on": "2026-04-02",
                                                      "text": "Yes"}), ("settlement", {"on": "2026-04-10"})],
                  workers_concerned=100, cause="safety")
    # 3. Karaganda, wage arrears, withdrawn on 5 April: 4 days.
    await dispute(service, union, karaganda, [("withdrawal", {"on": "2026-04-05"})], workers_concerned=50,
                  cause="wage_arrears")
    # 4. Karaganda, dismissals, 400 workers, open in conciliation.
    await dispute(service, union, karaganda, [REJECTED, CONCILIATION], workers_concerned=400, cause="dismissals")
    # 5. Region given (a district of Mangystau, counted in region 47) over the employer's, partly accepted,
    #    9 workers, submitted in May.
    await dispute(service, union, almaty, [("answer", {"answer": "partly_accepted", "answered_on": "2026-05-05",
                                                      "text": "In part"})],
                  workers_concerned=9, cause="collective_agreement", region_code="471010000", submitted_on="2026-05-04")
    # 6. Almaty, no cause given (other), 999 workers, open in mediation.
    await dispute(service, union, almaty, [REJECTED, CONCILIATION, (
        "mediation", {"on": "2026-04-20", "mediator_name": "Д. Нурланов", "consent_on": "2026-04-17"})],
        workers_concerned=999)
    # A draft from a protocol of disagreements is no dispute yet: counted nowhere.
    async with service.state.sessionmaker() as session:
        assert await open_draft(session, DisagreementProtocolSigned(
            audience=[uuid.UUID(union), uuid.UUID(almaty)], negotiation_id=uuid.uuid4(), level=Level.enterprise,
            status="signed", protocol_id=uuid.uuid4(), signed_on=date(2026, 4, 1),
            negotiate_until=date(2026, 5, 1), clauses=[OpenClause(
                clause_id=uuid.uuid4(), number=1, category=ClauseCategory.pay, title="Pay",
                positions=[SidePosition(side=Side.workers, version=1, text="More")])])) is not None
        await session.commit()

    analyst = service.headers(roles={"analyst"})
    figures = (await client.get("/statistics", headers=analyst)).json()
    assert figures["disputes"] == 6 and figures["open"] == 3
    assert figures["by_region"] == {"75": 3, "35": 2, "47": 1}
    assert figures["by_sector"] == {"B": 1, "unknown": 5}
    assert figures["by_cause"] == {"wages": 1, "safety": 1, "wage_arrears": 1, "dismissals": 1,
                                   "collective_agreement": 1, "other": 1}
    assert figures["by_stage"] == {"settled": 2, "withdrawn": 1, "conciliation": 1, "partly_accepted": 1,
                                   "mediation": 1}
    assert figures["by_outcome"] == {"settled": 2, "withdrawn": 1}
    strikes = figures["strikes"]
    assert (strikes["strikes"], strikes["workers_involved"], strikes["days_not_worked"]) == (1, 1200, 6000)
    assert "ILO" in strikes["method"]
    assert figures["time_to_resolution"] == {"resolved": 3, "median_days": 9.0, "p90_days": 63.0}
    may = (await client.get("/statistics?submitted_from=2026-05-01", headers=analyst)).json()
    assert may["disputes"] == 1 and may["by_region"] == {"47": 1} and may["time_to_resolution"]["resolved"] == 0
    backwards = await client.get("/statistics?submitted_from=2026-05-01&submitted_to=2026-04-01", headers=analyst)
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["pointer"] == "/submitted_to"

    tension = (await client.get("/statistics/social-tension", headers=analyst)).json()
    assert set(tension) == {"as_of", "method", "regions", "total_open"}
    assert tension["total_open"] == 3 and "log10(1 + workers involved)" in tension["method"]
    # Stage weights: mediation 3, conciliation 2, partly_accepted 1.5.
    # 75: 3 × log10(1000) = 9.0; 35: 2 × log10(401) = 5.206; 47: 1.5 × log10(10) = 1.5.
    assert tension["regions"] == [
        {"region_code": "75", "open_disputes": 1, "workers_involved": 999, "index": 9.0, "by_stage": {"mediation": 1}},
        {"region_code": "35", "open_disputes": 1, "workers_involved": 400, "index": 5.2,
         "by_stage": {"conciliation": 1}},
        {"region_code": "47", "open_disputes": 1, "workers_involved": 9, "index": 1.5,
         "by_stage": {"partly_accepted": 1}}]

    # Ministry staff only: a party, even to these disputes, gets 403.
    for path in ("/statistics", "/statistics/social-tension"):
        assert (await client.get(path, headers=org(service, union))).status_code == 403
        assert (await client.get(path, headers=service.headers(organisation_id=union,
                                                               roles={"analyst"}))).status_code == 403
    # The listing filters by cause and region.
    assert (await client.get("/collective-disputes?cause=dismissals", headers=analyst)).json()["total"] == 1
    assert (await client.get("/collective-disputes?region_code=750000000", headers=analyst)).json()["total"] == 4
    refused = await client.get("/collective-disputes?cause=weather", headers=analyst)
    assert refused.status_code == 422
