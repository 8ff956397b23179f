"""Individual labour disputes over HTTP, on SQLite and PostgreSQL with a real nats-server.

The employer's conciliation commission registers an application the day it is filed, decides
within 15 working days, hands out copies within 3 days and the decision is carried out within
the month it may set; the art. 160 time limit is checked when filing and by the pre-check; the
employee's name is seen only by the employer, the named union and staff, and no event carries
it; a missed decision period makes the application decision_overdue once, with one event.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import jsonschema

from contracts.disputes import (
    DeadlineApproaching,
    DeadlineMissed,
    IndividualDecisionExecuted,
    IndividualDecisionOverdue,
    IndividualDisputeDecided,
    IndividualDisputeFiled,
    IndividualReferredToCourt,
)
from contracts.export import published
from kernel.calendar import KAZAKHSTAN
from tests.disputes.cases_support import add_party, org, staff
from tests.support.services import Clock, RunningService, eventually
from tests.support.services import outbox_events as events_of

# The fixtures disputes, sweeping_disputes and clock.
pytest_plugins = ("tests.disputes.cases_fixtures",)

EMPLOYEE = "Айгерим Сапарова"


async def application(service: RunningService, *, filed_on: str = "2026-03-20",
                      **extra: object) -> tuple[str, str, str]:
    union = await add_party(service, "primary_union_organisation", "Профсоюз металлургов")
    employer = await add_party(service, "employer", "АО Литейный завод")
    body = {"employer_id": employer, "union_id": union, "employee_name": EMPLOYEE,
            "employee_position": "Crane operator", "subject": "reinstatement",
            "claim": "Reinstate me: dismissed without the union's consent",
            "dismissal_act_on": "2026-02-27", "filed_on": filed_on} | extra
    filed = await service.client.post("/individual-disputes", headers=org(service, employer, "employer"), json=body)
    assert filed.status_code == 201, filed.text
    return filed.json()["id"], union, employer


async def test_filed_decided_copied_executed_with_access_and_events(disputes: RunningService) -> None:
    service, client = disputes, disputes.client
    dispute_id, union, employer = await application(service)
    e, u = org(service, employer, "employer"), org(service, union)
    body = (await client.get(f"/individual-disputes/{dispute_id}", headers=u)).json()
    # Registered on Friday 20 March 2026; 15 working days after the Nauryz days off (21-25 March): 15 April.
    assert body["status"] == "registered" and body["filed_on"] == "2026-03-20"
    assert body["decision_due"] == "2026-04-15" and "art. 159" in body["decision_article"]
    # One month from the dismissal act of 27 February: 27 March, and the application is in time.
    limit = body["time_limit"]
    assert (limit["ends_on"], limit["in_time"], limit["months"]) == ("2026-03-27", True, 1)
    assert "art. 160" in limit["article"] and body["commission_mandatory"] is True
    assert body["employee_name"] == EMPLOYEE
    assert body["allowed_actions"] == ["decide", "record_decision_overdue", "refer_to_court", "withdraw"]

    # Who sees the application (and the employee's name): the employer, the named union, staff. Nobody else.
    for headers in (e, u, staff(service, "dispute_officer"), staff(service, "analyst")):
        seen = await client.get(f"/individual-disputes/{dispute_id}", headers=headers)
        assert seen.status_code == 200 and seen.json()["employee_name"] == EMPLOYEE
    stranger = org(service, await add_party(service, "local_union", "Другой профсоюз"))
    bound = service.headers(organisation_id=str(uuid.uuid4()), roles={"dispute_officer"})
    missing = await client.get(f"/individual-disputes/{uuid.uuid4()}", headers=stranger)
    for headers in (stranger, bound):
        seen = await client.get(f"/individual-disputes/{dispute_id}", headers=headers)
        assert (seen.status_code, seen.json()["detail"]) == (404, missing.json()["detail"])
        assert EMPLOYEE not in seen.text
        assert (await client.get("/individual-disputes", headers=headers)).json()["total"] == 0
        refused = await client.post(f"/individual-disputes/{dispute_id}/withdrawal", headers=headers, json={})
        assert refused.status_code == 404
    # The union does not decide for the employer's commission; an analyst only reads.
    decision = {"outcome": "upheld", "decision": "Reinstate; pay for the forced absence.", "decided_on": "2026-04-10",
                "execution_due": "2026-05-08"}
    assert (await client.post(f"/individual-disputes/{dispute_id}/decision", headers=u,
                              json=decision)).status_code == 403
    assert (await client.post(f"/individual-disputes/{dispute_id}/decision", headers=staff(service, "analyst"),
                              json=decision)).status_code == 403

    # The decision sets its execution day: at most one month after it.
    too_late = await client.post(f"/individual-disputes/{dispute_id}/decision", headers=e,
                                 json=decision | {"execution_due": "2026-05-11"})
    assert too_late.status_code == 422
    assert (too_late.json()["errors"][0]["pointer"], too_late.json()["errors"][0]["rule"]) == (
        "/execution_due", "at_most_one_month")
    none_set = await client.post(f"/individual-disputes/{dispute_id}/decision", headers=e,
                                 json=decision | {"execution_due": None})
    assert none_set.status_code == 422 and none_set.json()["errors"][0]["rule"] == "required"
    early_copies = await client.post(f"/individual-disputes/{dispute_id}/copies", headers=e, json={})
    assert early_copies.status_code == 409

    decided = await client.post(f"/individual-disputes/{dispute_id}/decision", headers=e, json=decision)
    assert decided.status_code == 200, decided.text
    body = decided.json()
    # Copies within 3 days of Friday 10 April: Monday 13 April.
    assert (body["status"], body["outcome"], body["copies_due"], body["execution_due"]) == (
        "decided", "upheld", "2026-04-13", "2026-05-08")
    assert body["allowed_actions"] == ["execute", "refer_to_court"]

    copies = await client.post(f"/individual-disputes/{dispute_id}/copies", headers=e, json={"sent_on": "2026-04-13"})
    assert copies.status_code == 200, copies.text
    # Reinstatement: two months to court from the copy, 13 June 2026 is a Saturday: Monday 15 June.
    assert copies.json()["court_limit_ends_on"] == "2026-06-15" and copies.json()["copies_sent_on"] == "2026-04-13"
    again = await client.post(f"/individual-disputes/{dispute_id}/copies", headers=e, json={})
    assert again.status_code == 409

    executed = await client.post(f"/individual-disputes/{dispute_id}/execution", headers=e,
                                 json={"executed_on": "2026-05-04"})
    assert executed.status_code == 200, executed.text
    assert executed.json()["status"] == "executed" and executed.json()["ended_on"] == "2026-05-04"
    withdrawn = await client.post(f"/individual-disputes/{dispute_id}/withdrawal", headers=u, json={})
    assert withdrawn.status_code == 409 and withdrawn.json()["allowed"] == []

    # Every change is an event for the employer and the union, valid against its schema, without the employee's name.
    for event_class in (IndividualDisputeFiled, IndividualDisputeDecided, IndividualDecisionExecuted):
        [event] = await events_of(service, event_class.event_type)
        assert sorted(event.data["audience"]) == sorted([union, employer]) and event.subject == dispute_id
        jsonschema.validate(event.data, published(event_class.event_type))
        assert EMPLOYEE not in event.model_dump_json() and "Сапарова" not in event.model_dump_json()
    [filed_event] = await events_of(service, IndividualDisputeFiled.event_type)
    assert filed_event.data["in_time"] is True and filed_event.data["decision_due"] == "2026-04-15"
    assert (await client.get("/individual-disputes?status=executed", headers=e)).json()["total"] == 1


async def test_rejected_then_to_court_and_bad_input(disputes: RunningService) -> None:
    service, client = disputes, disputes.client
    # A pay claim filed by the union for its member, 13 months after the violation, with a mediation agreement
    # in force for 60 days in between: in time thanks to the suspension.
    union = await add_party(service, "primary_union_organisation", "Профсоюз")
    employer = await add_party(service, "employer", "ТОО Сервис")
    u, e = org(service, union), org(service, employer, "employer")
    body = {"employer_id": employer, "union_id": union, "employee_name": "Ерлан Касымов", "subject": "pay",
            "claim": "Unpaid overtime for 2025", "violation_known_on": "2025-02-10", "filed_on": "2026-03-10",
            "suspensions": [{"ground": "mediation_agreement", "since": "2025-05-01", "until": "2025-06-29"}]}
    for change, pointer, rule in (({"subject": "pensions"}, "/subject", "known_code"),
                                  ({"violation_known_on": None}, "/violation_known_on", "required"),
                                  ({"violation_known_on": "2026-03-11"}, "/violation_known_on", "not_after_filing"),
                                  ({"suspensions": [{"ground": "illness", "since": "2025-05-01"}]},
                                   "/suspensions/0/ground", "known_code"),
                                  ({"filed_on": "2099-01-01"}, "/filed_on", "not_in_future"),
                                  ({"union_id": employer}, "/union_id", "party_kind")):
        refused = await client.post("/individual-disputes", headers=staff(service, "dispute_officer"),
                                    json=body | change)
        assert refused.status_code == 422, (change, refused.text)
        assert (refused.json()["errors"][0]["pointer"], refused.json()["errors"][0]["rule"]) == (pointer, rule)
    # A union files only as the employee's union; another employer's commission is not its own.
    foreign = await client.post("/individual-disputes", headers=org(service, str(uuid.uuid4())), json=body)
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["rule"] == "own_application"
    assert len(await events_of(service, IndividualDisputeFiled.event_type)) == 0

    filed = await client.post("/individual-disputes", headers=u, json=body)
    assert filed.status_code == 201, filed.text
    limit = filed.json()["time_limit"]
    # One year from 10 February 2025 is 10 February 2026, plus 60 suspended days: 11 April 2026 (Saturday) -> 13 April.
    assert (limit["base_ends_on"], limit["suspended_days"], limit["ends_on"], limit["in_time"]) == (
        "2026-02-10", 60, "2026-04-13", True)
    dispute_id = filed.json()["id"]

    rejected = await client.post(f"/individual-disputes/{dispute_id}/decision", headers=e, json={
        "outcome": "rejected", "decision": "Overtime was paid in lieu.", "decided_on": "2026-03-20",
        "execution_due": "2026-04-01"})
    assert rejected.status_code == 422 and rejected.json()["errors"][0]["rule"] == "not_for_rejection"
    rejected = await client.post(f"/individual-disputes/{dispute_id}/decision", headers=e, json={
        "outcome": "rejected", "decision": "Overtime was paid in lieu.", "decided_on": "2026-03-20"})
    assert rejected.status_code == 200 and rejected.json()["execution_due"] is None
    nothing = await client.post(f"/individual-disputes/{dispute_id}/execution", headers=e, json={})
    assert nothing.status_code == 409 and nothing.json()["allowed"] == ["refer_to_court"]
    court = await client.post(f"/individual-disputes/{dispute_id}/court-referral", headers=u, json={
        "referred_on": "2026-04-02", "court": "Specialised inter-district court of Almaty",
        "reason": "The employee disagrees with the commission"})
    assert court.status_code == 200, court.text
    assert (court.json()["status"], court.json()["court"], court.json()["ended_on"]) == (
        "referred_to_court", "Specialised inter-district court of Almaty", "2026-04-02")
    [event] = await events_of(service, IndividualReferredToCourt.event_type)
    assert event.data["court"].startswith("Specialised") and sorted(event.data["audience"]) == sorted([union, employer])


async def test_pre_check_explains_the_time_limit_and_the_exemptions(disputes: RunningService) -> None:
    client = disputes.client
    headers = org(disputes, str(uuid.uuid4()))
    base = {"subject": "pay", "violation_known_on": "2025-03-01", "filed_on": "2026-03-10"}
    # One year from 1 March 2025 ends on Sunday 1 March 2026, rolled to Monday 2 March: filed on 10 March, late.
    late = (await client.post("/individual-disputes/pre-check", headers=headers, json=base)).json()
    assert (late["time_limit"]["ends_on"], late["time_limit"]["in_time"], late["time_limit"]["days_left"]) == (
        "2026-03-02", False, -8)
    assert any("day off" in reason for reason in late["time_limit"]["reasons"])
    # While the employer had no commission (30 days), the time stood still: in time.
    suspended = (await client.post("/individual-disputes/pre-check", headers=headers, json=base | {
        "suspensions": [{"ground": "no_commission", "since": "2025-09-01", "until": "2025-09-30"}]})).json()
    assert (suspended["time_limit"]["ends_on"], suspended["time_limit"]["in_time"]) == ("2026-03-31", True)
    assert any("suspended" in reason for reason in suspended["time_limit"]["reasons"])
    # To court after the commission (reinstatement): two months from the copy of its decision.
    court = (await client.post("/individual-disputes/pre-check", headers=headers, json={
        "subject": "reinstatement", "step": "court", "commission_decision_on": "2026-01-15",
        "filed_on": "2026-03-16"})).json()
    assert (court["time_limit"]["ends_on"], court["time_limit"]["in_time"]) == ("2026-03-16", True)
    # Exemptions from the commission step: a domestic worker goes to court; a non-profit of 20 does not qualify.
    exempt = (await client.post("/individual-disputes/pre-check", headers=headers, json=base | {
        "exemptions": ["domestic_worker"]})).json()
    assert exempt["commission_mandatory"] is False and exempt["exemptions"][0]["verify"] is True
    large = (await client.post("/individual-disputes/pre-check", headers=headers, json=base | {
        "exemptions": ["small_non_profit"], "employees": 20})).json()
    assert large["commission_mandatory"] is True and large["exemptions"][0]["applies"] is False
    unknown = await client.post("/individual-disputes/pre-check", headers=headers, json=base | {
        "exemptions": ["ministry"]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["pointer"] == "/exemptions"
    assert (await client.post("/individual-disputes/pre-check", json=base)).status_code == 401
    # The law behind the answers is readable as data, with its articles.
    law = (await client.get("/individual-disputes/rules?on=2026-03-10", headers=headers)).json()
    assert law["decision_period_working_days"]["value"] == 15 and law["time_limits"]["reinstatement"]["court"][
        "value"] == 2
    assert {e["code"] for e in law["exemptions"]} >= {"micro_enterprise", "domestic_worker", "head_of_employer"}
    before = await client.get("/individual-disputes/rules?on=2010-01-01", headers=headers)
    assert before.status_code == 422 and before.json()["errors"][0]["rule"] == "rules_in_force"


async def test_a_missed_decision_period_is_recorded_once(sweeping_disputes: RunningService, clock: Clock) -> None:
    service, client = sweeping_disputes, sweeping_disputes.client
    silent, union, employer = await application(service)
    decided, _, decided_employer = await application(service)
    assert (await client.post(f"/individual-disputes/{decided}/decision", headers=org(service, decided_employer,
                                                                                      "employer"),
                              json={"outcome": "rejected", "decision": "No grounds", "decided_on": "2026-03-26"})
            ).status_code == 200

    # Two working days before 15 April (Monday 13 April), the parties are reminded, once.
    clock.now = datetime(2026, 4, 13, 9, 0, tzinfo=KAZAKHSTAN)
    await eventually(lambda: events_of(service, DeadlineApproaching.event_type), what="a reminder")
    # Thursday 16 April: the commission's period (until 15 April) has run out.
    clock.now = datetime(2026, 4, 16, 0, 5, tzinfo=KAZAKHSTAN)

    async def overdue() -> bool:
        seen = await client.get(f"/individual-disputes/{silent}", headers=org(service, union))
        return seen.json()["status"] == "decision_overdue"

    await eventually(overdue, what="the application to become decision_overdue")
    await asyncio.sleep(0.5)  # more sweeps change nothing
    missed = [e for e in await events_of(service, DeadlineMissed.event_type)
              if e.data["kind"] == "individual_decision"]
    assert [e.data["subject_id"] for e in missed] == [silent]
    assert sorted(missed[0].data["audience"]) == sorted([union, employer]) and "art. 159" in missed[0].data["article"]
    [event] = await events_of(service, IndividualDecisionOverdue.event_type)
    assert event.subject == silent and event.data["on"] == "2026-04-16" and event.data["decision_due"] == "2026-04-15"
    reminders = [e.data["subject_id"] for e in await events_of(service, DeadlineApproaching.event_type)
                 if e.data["kind"] == "individual_decision"]
    assert reminders == [silent]
    body = (await client.get(f"/individual-disputes/{silent}", headers=org(service, employer, "employer"))).json()
    assert body["decision_overdue_since"] == "2026-04-16"
    assert body["allowed_actions"] == ["decide", "refer_to_court", "withdraw"]
    # The other application was decided on 26 March but no copies were recorded: due by Monday 30 March (three
    # calendar days end on Sunday 29th), overdue from the 31st, also announced once.
    copies = [e for e in await events_of(service, DeadlineMissed.event_type) if e.data["kind"] == "individual_copies"]
    assert [e.data["subject_id"] for e in copies] == [decided] and copies[0].data["due_on"] == "2026-03-30"
    other = (await client.get(f"/individual-disputes/{decided}", headers=staff(service, "analyst"))).json()
    assert (other["status"], other["copies_overdue_since"]) == ("decided", "2026-03-31")
    # The employee may now go to court without the decision.
    court = await client.post(f"/individual-disputes/{silent}/court-referral", headers=org(service, union),
                              json={"court": "District court No. 2", "reason": "No decision within 15 working days"})
    assert court.status_code == 200 and court.json()["status"] == "referred_to_court"
