"""A complaint whose consideration period runs out: the sweeper's transaction marks it overdue and records
``complaint.consideration_overdue`` (for the labour inspectors' desk), once, to the complainant's union only;
a complaint answered in time records nothing. SQLite and PostgreSQL, a real nats-server, the test clock.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import jsonschema

from contracts.disputes import ComplaintConsiderationOverdue, DeadlineMissed
from contracts.export import published
from kernel.calendar import KAZAKHSTAN
from tests.disputes.cases_support import add_party, org, staff
from tests.support.services import Clock, RunningService, eventually
from tests.support.services import outbox_events as events_of

# The fixtures disputes, sweeping_disputes and clock.
pytest_plugins = ("tests.disputes.cases_fixtures",)


def complaint_body(employer: str, union: str | None) -> dict[str, object]:
    return {"category": "dismissal_of_union_leader", "employer_id": employer, "union_id": union,
            "complainant": {"name": "Асель Жумабаева", "contact": "+7 701 111 2233", "position": "Shop steward"},
            "description": "The steward was moved to night shifts after the union's first meeting.",
            "received_on": "2026-03-20"}


async def test_a_missed_consideration_period_tells_the_inspectorate_once(sweeping_disputes: RunningService,
                                                                          clock: Clock) -> None:
    service, client = sweeping_disputes, sweeping_disputes.client
    union = await add_party(service, "primary_union_organisation", "Профсоюз ткачей")
    employer = await add_party(service, "employer", "ТОО Фабрика")
    inspector = staff(service, "labour_inspector", subject="inspector-7")
    ignored = (await client.post("/complaints", headers=org(service, union),
                                 json=complaint_body(employer, union))).json()["id"]
    answered = (await client.post("/complaints", headers=org(service, union),
                                  json=complaint_body(employer, union))).json()["id"]
    # Taken in by staff for a worker with no union: the event has no audience, and still reaches the desk.
    for_a_worker = (await client.post("/complaints", headers=staff(service, "dispute_officer"),
                                      json=complaint_body(employer, None))).json()["id"]
    # One complaint is answered in time (the period ends on 15 April).
    started = await client.post(f"/complaints/{answered}/inspection", headers=inspector,
                                json={"inspector": "Inspector", "on": "2026-04-01"})
    assert started.status_code == 200, started.text
    found = await client.post(f"/complaints/{answered}/findings", headers=inspector,
                              json={"outcome": "upheld", "findings": "The shift change followed the meeting.",
                                    "on": "2026-04-14"})
    assert found.status_code == 200, found.text

    clock.now = datetime(2026, 4, 16, 0, 5, tzinfo=KAZAKHSTAN)

    async def both_overdue() -> bool:
        seen = [(await client.get(f"/complaints/{c}", headers=inspector)).json()["overdue_since"]
                for c in (ignored, for_a_worker)]
        return seen == ["2026-04-16", "2026-04-16"]

    await eventually(both_overdue, what="the two unanswered complaints to be marked overdue")
    await asyncio.sleep(0.5)  # more sweeps record nothing more

    overdue = {event.subject: event for event in await events_of(service, ComplaintConsiderationOverdue.event_type)}
    assert sorted(overdue) == sorted([ignored, for_a_worker])  # once each; nothing for the one answered in time
    event = overdue[ignored]
    assert event.source == "/disputes"
    assert event.data == {"audience": [union], "complaint_id": ignored, "status": "received", "on": "2026-04-16",
                          "consideration_due": "2026-04-15"}
    assert employer not in event.model_dump_json()
    assert overdue[for_a_worker].data["audience"] == []
    for recorded in overdue.values():
        jsonschema.validate(recorded.data, published(ComplaintConsiderationOverdue.event_type),
                            format_checker=jsonschema.FormatChecker())
    # Beside the generic deadline event of the same sweep, which still goes to the union alone.
    missed = {e.data["subject_id"]: e for e in await events_of(service, DeadlineMissed.event_type)}
    assert sorted(missed) == sorted([ignored, for_a_worker]) and missed[ignored].data["audience"] == [union]
    # The answered complaint was not marked either.
    assert (await client.get(f"/complaints/{answered}", headers=inspector)).json()["overdue_since"] is None
