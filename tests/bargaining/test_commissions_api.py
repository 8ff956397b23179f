"""Tripartite commissions over HTTP, on a real database (SQLite and PostgreSQL) and a real nats-server.

The Republican Tripartite Commission is set up by the secretariat with its three parties (a ministry,
two republican employers' associations, a republican union association, inserted into the registry
projection directly); each party appoints its own members up to the rule's limit; a sitting is
scheduled, every party proposes an agenda item, attendance is checked for a quorum of each party,
decisions are recorded with each party's position and the minutes published. A consultation's
positions are due in working days: a party that files none is flagged overdue and notified once.
Notices carry read receipts per organisation. Every event names every organisation of the commission.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import jsonschema

from contracts.bargaining import (
    AgendaItemProposed,
    ConsultationClosed,
    ConsultationOpened,
    DeadlineApproaching,
    DeadlineMissed,
    DecisionRecorded,
    MinutesPublished,
    NoticeShared,
    PositionFiled,
    SittingCancelled,
    SittingScheduled,
)
from contracts.export import published
from kernel.calendar import KAZAKHSTAN, WorkingDayCalendar
from kernel.problems import PROBLEM_JSON
from services.bargaining.commissions.rules import rules_on
from services.bargaining.parties.models import Party
from tests.bargaining import test_negotiation_api as negotiation_api
from tests.support.services import Clock, RunningService, eventually
from tests.support.services import outbox_events as events_of

bargaining = negotiation_api.bargaining
sweeping_bargaining = negotiation_api.sweeping_bargaining
clock = negotiation_api.clock


def today() -> date:
    return datetime.now(KAZAKHSTAN).date()


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=KAZAKHSTAN).replace(hour=9)


def secretariat(service: RunningService) -> dict[str, str]:
    return service.headers(roles={"bargaining_officer"}, subject="secretariat-1")


def org(service: RunningService, organisation_id: str) -> dict[str, str]:
    return service.headers(organisation_id=organisation_id, roles={"organisation"})


async def party(service: RunningService, kind: str, name: str, status: str = "registered") -> str:
    party_id = uuid.uuid4()
    async with service.state.sessionmaker() as session:
        session.add(Party(id=party_id, kind=kind, name_kk=name, name_ru=name, registry_status=status))
        await session.commit()
    return str(party_id)


async def tripartite_parties(service: RunningService) -> dict[str, str]:
    return {"government": await party(service, "government_body", "Министерство труда"),
            "atameken": await party(service, "republican_employer_association", "НПП Атамекен"),
            "paryz": await party(service, "republican_employer_association", "КРЕ Paryz"),
            "fprk": await party(service, "republican_union_association", "ФПРК")}


def commission_body(p: dict[str, str], **changes: Any) -> dict[str, Any]:
    return {"name": "Republican Tripartite Commission", "level": "republican", "chair_name": "Deputy Prime Minister",
            "chair_position": "Chair", "secretariat": "Ministry of Labour and Social Protection",
            "term_from": (today() - timedelta(days=365)).isoformat(),
            "term_to": (today() + timedelta(days=730)).isoformat(),
            "parties": [{"organisation_id": p["government"], "side": "government"},
                        {"organisation_id": p["atameken"], "side": "employers"},
                        {"organisation_id": p["paryz"], "side": "employers"},
                        {"organisation_id": p["fprk"], "side": "workers"}], **changes}


async def commission(service: RunningService, members: dict[str, int] | None = None) -> tuple[str, dict[str, str],
                                                                                              dict[str, list[str]]]:
    """The republican commission with ``members`` members appointed by each organisation (default 2 each)."""
    p = await tripartite_parties(service)
    created = await service.client.post("/commissions", headers=secretariat(service), json=commission_body(p))
    assert created.status_code == 201, created.text
    commission_id = created.json()["id"]
    seats: dict[str, list[str]] = {}
    for name, organisation in p.items():
        seats[name] = []
        for i in range((members or {}).get(name, 2)):
            appointed = await service.client.post(f"/commissions/{commission_id}/members",
                                                  headers=org(service, organisation),
                                                  json={"name": f"{name} member {i}", "position": "Officer"})
            assert appointed.status_code == 201, appointed.text
            seats[name].append(appointed.json()["id"])
    return commission_id, p, seats


def check_schema(event: Any) -> None:
    jsonschema.validate(event.data, published(event.type))


async def test_the_secretariat_sets_up_a_commission_and_each_party_appoints_its_own_members(
        bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    p = await tripartite_parties(service)
    staff = secretariat(service)

    # Every wrong party is named by its pointer and rule, and nothing is written.
    local = await party(service, "local_union", "Местный профсоюз")
    lapsed = await party(service, "republican_union_association", "Ликвидирован", status="liquidated")
    wrong = commission_body(p, parties=[{"organisation_id": p["atameken"], "side": "government"},
                                        {"organisation_id": local, "side": "workers"},
                                        {"organisation_id": str(uuid.uuid4()), "side": "employers"},
                                        {"organisation_id": lapsed, "side": "workers"}])
    refused = await client.post("/commissions", headers=staff, json=wrong)
    assert refused.status_code == 422 and refused.headers["content-type"].startswith(PROBLEM_JSON)
    assert {(e["pointer"], e["rule"]) for e in refused.json()["errors"]} == {
        ("/parties/2/organisation_id", "known_party"), ("/parties/3/organisation_id", "eligible_party")}
    no_government = commission_body(p, parties=[{"organisation_id": p["atameken"], "side": "employers"},
                                                {"organisation_id": local, "side": "workers"},
                                                {"organisation_id": p["fprk"], "side": "workers"}])
    refused = (await client.post("/commissions", headers=staff, json=no_government)).json()
    assert {(e["pointer"], e["rule"]) for e in refused["errors"]} == {("/parties/1", "kind_of_party"),
                                                                      ("/parties", "three_parties")}
    ancient = await client.post("/commissions", headers=staff, json=commission_body(p, term_from="2010-01-01"))
    assert ancient.status_code == 422 and ancient.json()["errors"][0]["rule"] == "rules_in_force"
    sectoral = await client.post("/commissions", headers=staff, json=commission_body(p, level="sectoral"))
    assert sectoral.status_code == 422 and "sector" in sectoral.text
    # Only the secretariat sets one up; an analyst reads.
    assert (await client.post("/commissions", headers=org(service, p["fprk"]),
                              json=commission_body(p))).status_code == 403
    assert (await client.get("/commissions", headers=staff)).json()["total"] == 0

    created = await client.post("/commissions", headers=staff, json=commission_body(p))
    assert created.status_code == 201, created.text
    body = created.json()
    commission_id = body["id"]
    assert [(x["side"], x["organisation_id"]) for x in body["parties"]][0] == ("government", p["government"])
    assert (body["max_members_per_party"], body["max_members_verify"]) == (7, True)
    assert body["max_members_per_party"] == rules_on(today()).max_members_per_party.value["republican"]

    # A stranger, and a staff role on an organisation's credential, see nothing: 404 as for a missing id.
    stranger = org(service, await party(service, "republican_union_association", "Другая федерация"))
    missing = await client.get(f"/commissions/{uuid.uuid4()}", headers=staff)
    for headers in (stranger, service.headers(organisation_id=str(uuid.uuid4()), roles={"bargaining_officer"})):
        seen = await client.get(f"/commissions/{commission_id}", headers=headers)
        assert (seen.status_code, seen.json()["detail"]) == (404, missing.json()["detail"])
        assert (await client.get("/commissions", headers=headers)).json()["total"] == 0
        assert (await client.post(f"/commissions/{commission_id}/members", headers=headers,
                                  json={"name": "Someone", "position": "Officer"})).status_code == 404
    assert (await client.get("/commissions", headers=org(service, p["paryz"]))).json()["total"] == 1

    # Each party appoints its own: the workers' party up to seven members; the eighth is refused by rule.
    url = f"/commissions/{commission_id}/members"
    fprk = org(service, p["fprk"])
    for i in range(7):
        appointed = await client.post(url, headers=fprk, json={"name": f"Member {i}", "position": "Officer"})
        assert appointed.status_code == 201, appointed.text
        assert appointed.json()["side"] == "workers" and appointed.json()["term_to"] == body["term_to"]
    eighth = await client.post(url, headers=fprk, json={"name": "Member 8", "position": "Officer"})
    assert eighth.status_code == 422 and eighth.json()["errors"][0]["rule"] == "max_per_party"
    assert "at most 7" in eighth.json()["errors"][0]["detail"]
    alternate = await client.post(url, headers=fprk, json={"name": "Alternate", "position": "Officer",
                                                           "role": "alternate"})
    assert alternate.status_code == 201, alternate.text
    # The employers' party counts both associations together.
    for i in range(4):
        assert (await client.post(url, headers=org(service, p["atameken"]),
                                  json={"name": f"A {i}", "position": "Officer"})).status_code == 201
    for i in range(3):
        assert (await client.post(url, headers=staff, json={"organisation_id": p["paryz"], "name": f"P {i}",
                                                            "position": "Officer"})).status_code == 201
    over = await client.post(url, headers=org(service, p["paryz"]), json={"name": "P 4", "position": "Officer"})
    assert over.status_code == 422 and over.json()["errors"][0]["rule"] == "max_per_party"
    # An organisation appoints only its own members; a term of office lies within the commission's.
    own = await client.post(url, headers=fprk, json={"organisation_id": p["atameken"], "name": "Someone",
                                                     "position": "Officer"})
    assert own.status_code == 422 and own.json()["errors"][0]["rule"] == "own_members"
    late = await client.post(url, headers=org(service, p["government"]), json={
        "name": "Vice minister", "position": "Vice minister",
        "term_to": (date.fromisoformat(body["term_to"]) + timedelta(days=1)).isoformat()})
    assert late.status_code == 422 and late.json()["errors"][0]["pointer"] == "/term_to"

    # A member is recalled by the organisation that appointed it (or the secretariat), not by another party.
    member_id = alternate.json()["id"]
    assert (await client.post(f"{url}/{member_id}/recall", headers=org(service, p["atameken"]),
                              json={})).status_code == 403
    recalled = await client.post(f"{url}/{member_id}/recall", headers=fprk, json={})
    assert recalled.status_code == 200 and recalled.json()["recalled_on"] == today().isoformat()
    serving = (await client.get(f"/commissions/{commission_id}", headers=org(service, p["government"]))).json()
    assert len(serving["members"]) == 14 and member_id not in [m["id"] for m in serving["members"]]


async def test_a_sitting_with_agenda_quorum_per_party_decisions_and_minutes(bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    commission_id, p, seats = await commission(service, {"government": 3, "atameken": 2, "paryz": 1, "fprk": 3})
    url = f"/commissions/{commission_id}/sittings"
    staff = secretariat(service)
    alternate = (await client.post(f"/commissions/{commission_id}/members", headers=org(service, p["fprk"]),
                                   json={"name": "Alt", "position": "Officer", "role": "alternate"})).json()["id"]

    # Only the secretariat schedules; a sitting is somewhere or remote, within the commission's term.
    assert (await client.post(url, headers=org(service, p["government"]),
                              json={"held_on": today().isoformat(), "remote": True})).status_code == 403
    nowhere = await client.post(url, headers=staff, json={"held_on": today().isoformat()})
    assert nowhere.status_code == 422
    outside = await client.post(url, headers=staff, json={"held_on": "2000-01-01", "remote": True})
    assert outside.status_code == 422 and outside.json()["errors"][0]["rule"] == "within_commission_term"
    scheduled = await client.post(url, headers=staff, json={"held_on": today().isoformat(),
                                                            "place": "Government House, Astana"})
    assert scheduled.status_code == 201, scheduled.text
    sitting_id = scheduled.json()["id"]
    assert (scheduled.json()["number"], scheduled.json()["status"]) == (1, "scheduled")
    sitting_url = f"{url}/{sitting_id}"

    # Each party proposes an item for its own party, with documents; the secretariat names the party.
    for organisation, title in ((p["government"], "Minimum wage for 2027"),
                                (p["atameken"], "Occupational safety inspections"),
                                (p["fprk"], "Indexation of pay in the public sector")):
        added = await client.post(f"{sitting_url}/agenda", headers=org(service, organisation), json={
            "title": title, "documents": [{"title": "Draft", "reference": f"DOC-{title[:5]}"}]})
        assert added.status_code == 201, added.text
    assert [(i["number"], i["side"]) for i in added.json()["agenda"]] == [
        (1, "government"), (2, "employers"), (3, "workers")]
    wrong_side = await client.post(f"{sitting_url}/agenda", headers=org(service, p["fprk"]),
                                   json={"title": "Something", "side": "employers"})
    assert wrong_side.status_code == 422 and wrong_side.json()["errors"][0]["rule"] == "own_party"
    assert (await client.post(f"{sitting_url}/agenda", headers=staff,
                              json={"title": "Something"})).status_code == 422

    decision = {"text": "The minimum wage is raised to 90,000 tenge.", "agenda_item_number": 1,
                "positions": [{"side": "government", "position": "for"}, {"side": "employers", "position": "for"},
                              {"side": "workers", "position": "for"}]}
    early = await client.post(f"{sitting_url}/decisions", headers=staff, json=decision)
    assert early.status_code == 409 and early.json()["status_now"] == "scheduled"

    # Attendance: the workers' party has 1 of 3 present (2 needed), so the sitting has no quorum of it.
    present = seats["government"][:2] + seats["atameken"] + [seats["fprk"][0]]
    held = await client.post(f"{sitting_url}/attendance", headers=staff, json={"present": present})
    assert held.status_code == 200, held.text
    quorum = {q["side"]: q for q in held.json()["quorum"]}
    assert (quorum["government"]["present"], quorum["government"]["required"], quorum["government"]["met"]) == \
        (2, 2, True)
    assert (quorum["employers"]["members"], quorum["employers"]["present"], quorum["employers"]["met"]) == (3, 2, True)
    assert (quorum["workers"]["present"], quorum["workers"]["met"]) == (1, False)
    assert held.json()["quorum_met"] is False
    no_quorum = await client.post(f"{sitting_url}/decisions", headers=staff, json=decision)
    assert no_quorum.status_code == 409 and "workers" in no_quorum.json()["detail"]
    # The alternate stands in for an absent member; strangers to the commission are refused by pointer.
    bad = await client.post(f"{sitting_url}/attendance", headers=staff,
                            json={"present": [*present, str(uuid.uuid4())]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == f"/present/{len(present)}"
    held = await client.post(f"{sitting_url}/attendance", headers=staff,
                             json={"present": [*present, alternate], "remote": [alternate]})
    assert held.json()["quorum_met"] is True, held.text
    assert {q["side"]: q["present"] for q in held.json()["quorum"]}["workers"] == 2

    # Decisions with each party's position; reservations and objections give their reasons.
    for_all = await client.post(f"{sitting_url}/decisions", headers=staff, json=decision)
    assert for_all.status_code == 201, for_all.text
    assert (for_all.json()["number"], for_all.json()["adopted"]) == (1, True)
    unexplained = {**decision, "positions": [{"side": "government", "position": "for"},
                                             {"side": "employers", "position": "against"},
                                             {"side": "workers", "position": "for"}]}
    refused = await client.post(f"{sitting_url}/decisions", headers=staff, json=unexplained)
    assert refused.status_code == 422 and refused.json()["errors"][0] == {
        "pointer": "/positions/1/text", "rule": "reasons_given",
        "detail": "a position 'against' states its reasons"}
    two = {**decision, "positions": decision["positions"][:2] + [{"side": "government", "position": "for"}]}
    assert (await client.post(f"{sitting_url}/decisions", headers=staff, json=two)).json()["errors"][0]["rule"] \
        == "every_party"
    split = await client.post(f"{sitting_url}/decisions", headers=staff, json={
        "text": "Inspections are announced a month ahead.", "agenda_item_number": 2,
        "positions": [{"side": "government", "position": "with_reservations", "text": "Except for accidents"},
                      {"side": "employers", "position": "for"},
                      {"side": "workers", "position": "against", "text": "Announced inspections find nothing"}]})
    assert split.status_code == 201 and split.json()["adopted"] is False
    assert (await client.post(f"{sitting_url}/decisions", headers=org(service, p["fprk"]),
                              json=decision)).status_code == 403
    # The attendance a decision was taken on stands.
    assert (await client.post(f"{sitting_url}/attendance", headers=staff,
                              json={"present": present})).status_code == 409

    minutes = await client.post(f"{sitting_url}/minutes", headers=staff, json={
        "text": "Minutes of sitting 1.", "documents": [{"title": "Minutes", "reference": "RTC-2026-1"}]})
    assert minutes.status_code == 200, minutes.text
    assert (minutes.json()["status"], minutes.json()["minutes_published_on"]) == ("minutes_published",
                                                                                   today().isoformat())
    assert (await client.post(f"{sitting_url}/minutes", headers=staff, json={"text": "Again"})).status_code == 409
    assert (await client.post(f"{sitting_url}/agenda", headers=org(service, p["fprk"]),
                              json={"title": "Too late"})).status_code == 409
    seen = (await client.get(sitting_url, headers=org(service, p["paryz"]))).json()
    assert [d["adopted"] for d in seen["decisions"]] == [True, False] and len(seen["attendance"]) == 6
    assert [a["remote"] for a in seen["attendance"] if a["member_id"] == alternate] == [True]

    # Every event once, every organisation of the commission in its audience, valid against its schema.
    everyone = sorted(p.values())
    for event_type, count in ((SittingScheduled.event_type, 1), (AgendaItemProposed.event_type, 3),
                              (DecisionRecorded.event_type, 2), (MinutesPublished.event_type, 1)):
        recorded = await events_of(service, event_type)
        assert len(recorded) == count, event_type
        for event in recorded:
            assert sorted(event.data["audience"]) == everyone
            assert event.subject == commission_id
            check_schema(event)
    [minutes_event] = await events_of(service, MinutesPublished.event_type)
    assert minutes_event.data["decisions"] == 2 and len(minutes_event.data["quorum"]) == 3


async def test_a_sitting_is_cancelled_and_quorum_counts_members_in_office(bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    commission_id, p, seats = await commission(service, {"government": 1, "atameken": 1, "paryz": 0, "fprk": 1})
    url = f"/commissions/{commission_id}"
    staff = secretariat(service)
    # A second workers' member whose term of office ended yesterday is not counted at today's sitting.
    former = await client.post(f"{url}/members", headers=org(service, p["fprk"]), json={
        "name": "Former member", "position": "Officer", "term_to": (today() - timedelta(days=1)).isoformat()})
    assert former.status_code == 201, former.text
    ahead = await client.post(f"{url}/sittings", headers=staff, json={
        "held_on": (today() + timedelta(days=7)).isoformat(), "remote": True})
    early = await client.post(f"{url}/sittings/{ahead.json()['id']}/attendance", headers=staff,
                              json={"present": [seats["fprk"][0]]})
    assert early.status_code == 409  # attendance is recorded on the day
    assert (await client.post(f"{url}/sittings/{ahead.json()['id']}/cancellation",
                              headers=org(service, p["fprk"]))).status_code == 403
    cancelled = await client.post(f"{url}/sittings/{ahead.json()['id']}/cancellation", headers=staff)
    assert cancelled.json()["status"] == "cancelled", cancelled.text
    assert (await client.post(f"{url}/sittings/{ahead.json()['id']}/cancellation",
                              headers=staff)).status_code == 409
    assert (await client.post(f"{url}/sittings/{ahead.json()['id']}/agenda", headers=org(service, p["fprk"]),
                              json={"title": "Too late"})).status_code == 409
    [event] = await events_of(service, SittingCancelled.event_type)
    assert sorted(event.data["audience"]) == sorted(p.values())
    check_schema(event)

    today_sitting = await client.post(f"{url}/sittings", headers=staff, json={"held_on": today().isoformat(),
                                                                              "remote": True})
    held = await client.post(f"{url}/sittings/{today_sitting.json()['id']}/attendance", headers=staff, json={
        "present": [seats["government"][0], seats["atameken"][0], seats["fprk"][0]]})
    assert held.json()["quorum_met"] is True, held.text
    assert {q["side"]: q["members"] for q in held.json()["quorum"]}["workers"] == 1
    out_of_office = await client.post(f"{url}/sittings/{today_sitting.json()['id']}/attendance", headers=staff,
                                      json={"present": [former.json()["id"]]})
    assert out_of_office.status_code == 422
    assert out_of_office.json()["errors"][0]["rule"] == "member_of_commission"


async def test_a_position_missing_at_the_working_day_deadline_is_flagged_and_its_party_notified_once(
        sweeping_bargaining: RunningService, clock: Clock) -> None:
    service, client = sweeping_bargaining, sweeping_bargaining.client
    commission_id, p, _ = await commission(service)
    url = f"/commissions/{commission_id}/consultations"
    opened = await client.post(url, headers=org(service, p["government"]), json={
        "title": "Draft law on occupational safety", "working_days": 10,
        "documents": [{"title": "Draft law", "reference": "https://legalacts.egov.kz/npa/view?id=1"}]})
    assert opened.status_code == 201, opened.text
    consultation = opened.json()
    due = date.fromisoformat(consultation["positions_due"])
    assert due == WorkingDayCalendar().add_working_days(today(), 10)
    assert WorkingDayCalendar().working_days_between(today(), due) == 10
    assert consultation["opened_by_side"] == "government" and "art. 148" in consultation["positions_article"]
    consultation_url = f"{url}/{consultation['id']}"

    # The employers (one association speaks for the party) and the workers file; the government does not.
    filed = await client.post(f"{consultation_url}/positions", headers=org(service, p["paryz"]), json={
        "position": "support_with_amendments", "text": "Article 5 should give small firms a year."})
    assert filed.status_code == 201, filed.text
    again = await client.post(f"{consultation_url}/positions", headers=org(service, p["atameken"]),
                              json={"position": "support", "text": "Support."})
    assert again.status_code == 409
    assert (await client.post(f"{consultation_url}/positions", headers=org(service, p["fprk"]), json={
        "position": "oppose", "text": "It weakens the inspectorate."})).status_code == 201
    bad = await client.post(f"{consultation_url}/positions", headers=org(service, p["fprk"]),
                            json={"position": "maybe", "text": "?"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/position"

    clock.now = at(due)  # the last day: the party still owing is reminded, and nothing is missed yet
    reminders = await eventually(lambda: _of_kind(service, DeadlineApproaching.event_type), what="the reminder")
    await asyncio.sleep(0.5)
    assert [r.data["audience"] for r in await _of_kind(service, DeadlineApproaching.event_type)] == \
        [[p["government"]]]
    assert reminders[0].data["details"]["side"] == "government"
    assert await _of_kind(service, DeadlineMissed.event_type) == []

    clock.now = at(due + timedelta(days=1))

    async def flagged() -> Any:
        seen = (await client.get(consultation_url, headers=org(service, p["fprk"]))).json()
        return seen if any(x["overdue"] for x in seen["positions"]) else None

    seen = await eventually(flagged, what="the missing position to be flagged overdue")
    assert [(x["side"], x["position"], x["overdue"]) for x in seen["positions"]] == [
        ("government", None, True), ("employers", "support_with_amendments", False), ("workers", "oppose", False)]
    await asyncio.sleep(0.5)  # several more sweeps
    [missed] = await _of_kind(service, DeadlineMissed.event_type)
    assert missed.data["audience"] == [p["government"]] and missed.data["due_on"] == due.isoformat()
    check_schema(missed)

    # Filed late, the position is marked so and stays flagged; the result is published once.
    late = await client.post(f"{consultation_url}/positions", headers=org(service, p["government"]),
                             json={"position": "support", "text": "The ministry supports its draft.",
                                   "filed_on": today().isoformat()})
    assert late.status_code == 201
    assert [x["overdue"] for x in late.json()["positions"]] == [True, False, False]
    closed = await client.post(f"{consultation_url}/result", headers=secretariat(service),
                               json={"result": "Sent back to the ministry with the employers' amendment."})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert (await client.post(f"{consultation_url}/result", headers=secretariat(service),
                              json={"result": "Again"})).status_code == 409
    assert (await client.post(f"{consultation_url}/positions", headers=org(service, p["fprk"]),
                              json={"position": "support", "text": "x"})).status_code == 409
    everyone = sorted(p.values())
    for event_type, count in ((ConsultationOpened.event_type, 1), (PositionFiled.event_type, 3),
                              (ConsultationClosed.event_type, 1)):
        recorded = await events_of(service, event_type)
        assert len(recorded) == count and all(sorted(e.data["audience"]) == everyone for e in recorded)
        for event in recorded:
            check_schema(event)
    [closed_event] = await events_of(service, ConsultationClosed.event_type)
    assert [(x["side"], x["overdue"]) for x in closed_event.data["positions"]][0] == ("government", True)
    assert [e.data["late"] for e in await events_of(service, PositionFiled.event_type)] == [False, False, True]


async def test_a_consultation_closed_early_owes_no_more_positions(sweeping_bargaining: RunningService,
                                                                  clock: Clock) -> None:
    service, client = sweeping_bargaining, sweeping_bargaining.client
    commission_id, p, _ = await commission(service)
    opened = await client.post(f"/commissions/{commission_id}/consultations", headers=secretariat(service), json={
        "title": "Draft policy on youth employment", "side": "government",
        "documents": [{"title": "Draft", "reference": "MLSP-17"}]})
    assert opened.status_code == 201, opened.text
    assert opened.json()["working_days"] == rules_on(today()).consultation_working_days.value
    url = f"/commissions/{commission_id}/consultations/{opened.json()['id']}"
    assert (await client.post(f"{url}/result", headers=org(service, p["government"]),
                              json={"result": "Withdrawn"})).status_code == 403
    assert (await client.post(f"{url}/result", headers=secretariat(service),
                              json={"result": "Withdrawn by the ministry"})).status_code == 200
    clock.now = at(date.fromisoformat(opened.json()["positions_due"]) + timedelta(days=1))
    await asyncio.sleep(0.6)
    assert await _of_kind(service, DeadlineMissed.event_type) == []


async def test_notices_are_shared_with_every_party_with_read_receipts(bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    commission_id, p, _ = await commission(service, {"government": 1, "atameken": 1, "paryz": 0, "fprk": 1})
    url = f"/commissions/{commission_id}/notices"
    shared = await client.post(url, headers=org(service, p["atameken"]), json={
        "title": "Survey of wage arrears", "body": "The survey of wage arrears in 2026 is attached.",
        "documents": [{"title": "Survey", "reference": "ATM-2026-44"}]})
    assert shared.status_code == 201, shared.text
    notice = shared.json()
    assert notice["shared_by_side"] == "employers" and sorted(notice["unread_by"]) == sorted(p.values())
    by_secretariat = await client.post(url, headers=secretariat(service), json={"title": "Plan of work 2027",
                                                                                "body": "The plan is attached."})
    assert by_secretariat.status_code == 201 and by_secretariat.json()["shared_by_side"] is None

    receipt_url = f"{url}/{notice['id']}/receipt"
    first = await client.post(receipt_url, headers=org(service, p["fprk"]))
    assert first.status_code == 200, first.text
    again = await client.post(receipt_url, headers=org(service, p["fprk"]))
    assert again.json()["receipts"] == first.json()["receipts"]  # the first reading is kept
    await client.post(receipt_url, headers=org(service, p["government"]))
    listed = (await client.get(url, headers=secretariat(service))).json()
    seen = next(n for n in listed if n["id"] == notice["id"])
    assert sorted((r["side"], r["organisation_id"]) for r in seen["receipts"]) == sorted(
        [("workers", p["fprk"]), ("government", p["government"])])
    assert sorted(seen["unread_by"]) == sorted([p["atameken"], p["paryz"]])
    # Staff do not give receipts; strangers see nothing.
    assert (await client.post(receipt_url, headers=secretariat(service))).status_code == 403
    stranger = org(service, await party(service, "employer", "ТОО Посторонний"))
    assert (await client.get(url, headers=stranger)).status_code == 404
    assert (await client.post(receipt_url, headers=stranger)).status_code == 404
    assert (await client.post(f"{url}/{uuid.uuid4()}/receipt", headers=org(service, p["fprk"]))).status_code == 404
    events = await events_of(service, NoticeShared.event_type)
    assert len(events) == 2 and all(sorted(e.data["audience"]) == sorted(p.values()) for e in events)
    check_schema(events[0])


async def _of_kind(service: RunningService, event_type: str, kind: str = "consultation_position") -> list:
    return [e for e in await events_of(service, event_type) if e.data["kind"] == kind]
