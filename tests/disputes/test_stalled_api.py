"""Stages that drag on, over HTTP on SQLite and PostgreSQL with nats: elapsed days of every stage and of the current
one, the stalled flag and filter, and one stalled event per stage past its limit (stall-rules.json)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import jsonschema

from contracts.disputes import DisputeStalled
from contracts.export import published
from kernel.calendar import KAZAKHSTAN, kazakhstan_today
from tests.disputes.test_collective_api import clock, disputes, officer, org, sweeping_disputes  # noqa: F401
from tests.disputes.test_roster_api import party
from tests.support.services import Clock, RunningService, eventually
from tests.support.services import outbox_events as events_of


async def rejected(service: RunningService, union: str, employer: str, submitted_on: str, answered_on: str) -> str:
    made = await service.client.post("/collective-disputes", headers=org(service, union), json={
        "union_id": union, "employer_id": employer, "workers_concerned": 80, "submitted_on": submitted_on,
        "demands": [{"text": "Shift pay"}]})
    assert made.status_code == 201, made.text
    answered = await service.client.post(f"/collective-disputes/{made.json()['id']}/answer",
                                         headers=org(service, employer),
                                         json={"answer": "rejected", "answered_on": answered_on, "text": "No"})
    assert answered.status_code == 200, answered.text
    return made.json()["id"]


async def test_elapsed_days_and_the_stalled_flag_and_filter(disputes: RunningService) -> None:  # noqa: F811
    service, client = disputes, disputes.client
    union = await party(service, "primary_union_organisation", "Профсоюз")
    employer = await party(service, "employer", "ТОО Завод")
    today = kazakhstan_today()
    # Rejected 19 days ago and never taken further: the limit of that stage is 10 days.
    old = await rejected(service, union, employer, (today - timedelta(days=20)).isoformat(),
                         (today - timedelta(days=19)).isoformat())
    fresh = await rejected(service, union, employer, (today - timedelta(days=3)).isoformat(),
                           (today - timedelta(days=2)).isoformat())
    body = (await client.get(f"/collective-disputes/{old}", headers=org(service, employer))).json()
    assert body["stalled"] is True and body["current_stage_elapsed_days"] == 19
    assert [(s["stage"], s["elapsed_days"], s["limit_days"], s["stalled"]) for s in body["stages"]] == [
        ("demands_submitted", 1, 10, False), ("rejected", 19, 10, True)]
    body = (await client.get(f"/collective-disputes/{fresh}", headers=org(service, employer))).json()
    assert body["stalled"] is False and body["current_stage_elapsed_days"] == 2
    staff = officer(service)
    stalled = (await client.get("/collective-disputes?stalled=true", headers=staff)).json()
    assert [d["id"] for d in stalled["items"]] == [old] and stalled["items"][0]["stalled"] is True
    assert [d["id"] for d in (await client.get("/collective-disputes?stalled=false",
                                               headers=staff)).json()["items"]] == [fresh]
    # The parties filter their own disputes the same way; a stranger finds none.
    assert (await client.get("/collective-disputes?stalled=true", headers=org(service, union))).json()["total"] == 1
    stranger = org(service, await party(service, "employer", "ТОО Чужое"))
    assert (await client.get("/collective-disputes?stalled=true", headers=stranger)).json()["total"] == 0
    # Once the dispute moves on, the new stage starts its own count; an ended dispute is never stalled.
    moved = await client.post(f"/collective-disputes/{old}/conciliation", headers=staff, json={})
    assert moved.json()["stalled"] is False and moved.json()["current_stage_elapsed_days"] == 0
    ended = await client.post(f"/collective-disputes/{old}/settlement", headers=staff, json={})
    assert ended.json()["stalled"] is False and ended.json()["current_stage_elapsed_days"] is None
    assert (await client.get("/collective-disputes?stalled=bogus", headers=staff)).status_code == 422


async def test_one_stalled_event_per_stage_past_its_limit(sweeping_disputes: RunningService,  # noqa: F811
                                                         clock: Clock) -> None:  # noqa: F811
    service, client = sweeping_disputes, sweeping_disputes.client
    union = await party(service, "primary_union_organisation", "Профсоюз")
    employer = await party(service, "employer", "ТОО Завод")
    dispute_id = await rejected(service, union, employer, "2026-03-20", "2026-03-20")
    # Rejected on 20 March, limit 10 days: 30 March is the 10th day, 31 March the first stalled one.
    clock.now = datetime(2026, 3, 30, 23, 50, tzinfo=KAZAKHSTAN)
    await asyncio.sleep(0.5)
    assert await events_of(service, DisputeStalled.event_type) == []
    clock.now = datetime(2026, 3, 31, 0, 5, tzinfo=KAZAKHSTAN)
    [event] = await eventually(lambda: events_of(service, DisputeStalled.event_type), what="a stalled event")
    assert (event.data["stage"], event.data["stage_number"], event.data["started_on"], event.data["limit_days"],
            event.data["on"], event.data["status"]) == ("rejected", 2, "2026-03-20", 10, "2026-03-31", "rejected")
    assert sorted(event.data["audience"]) == sorted([union, employer]) and event.subject == dispute_id
    jsonschema.validate(event.data, published(DisputeStalled.event_type))
    clock.now = datetime(2026, 4, 1, 9, 0, tzinfo=KAZAKHSTAN)
    await asyncio.sleep(0.5)  # more sweeps, days later: still one event for that stage
    assert len(await events_of(service, DisputeStalled.event_type)) == 1

    # The next stage has its own limit (conciliation: 14 days) and its own single event.
    moved = await client.post(f"/collective-disputes/{dispute_id}/conciliation", headers=officer(service),
                              json={"on": "2026-04-01"})
    assert moved.status_code == 200
    clock.now = datetime(2026, 4, 15, 12, 0, tzinfo=KAZAKHSTAN)
    await asyncio.sleep(0.5)
    assert len(await events_of(service, DisputeStalled.event_type)) == 1
    clock.now = datetime(2026, 4, 16, 0, 5, tzinfo=KAZAKHSTAN)

    async def two() -> list:
        found = await events_of(service, DisputeStalled.event_type)
        return found if len(found) == 2 else []

    first, second = await eventually(two, what="the conciliation stage's stalled event")
    assert (second.data["stage"], second.data["stage_number"], second.data["limit_days"]) == ("conciliation", 3, 14)
    await asyncio.sleep(0.5)
    assert len(await events_of(service, DisputeStalled.event_type)) == 2
