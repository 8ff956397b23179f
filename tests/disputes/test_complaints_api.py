"""Freedom-of-association complaints over HTTP, on SQLite and PostgreSQL with a real nats-server.

A union files a complaint (or staff take one in for a worker); it goes to the labour
inspectorate, which inspects, finds and closes; the union follows it in full, the employer sees
only that a complaint concerns it (once the inspection begins) and its findings; every read of
the full record is audited; the consideration period is a kernel deadline whose events go to
the union only, and a missed one is recorded once.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import jsonschema

from contracts.disputes import (
    ComplaintClosed,
    ComplaintEmployerNotice,
    ComplaintFindingsRecorded,
    ComplaintInspectionStarted,
    ComplaintReceived,
    DeadlineApproaching,
    DeadlineMissed,
)
from contracts.export import published
from kernel.calendar import KAZAKHSTAN
from tests.disputes.cases_support import add_party, org, staff
from tests.support.services import Clock, RunningService, eventually
from tests.support.services import outbox_events as events_of

# The fixtures disputes, sweeping_disputes and clock.
pytest_plugins = ("tests.disputes.cases_fixtures",)

SHIELDED_KEYS = {"view", "id", "status", "employer_id", "employer_name", "inspection_started_on", "findings",
                 "closed_on"}


def complaint_body(employer: str, union: str | None, **extra: object) -> dict[str, object]:
    return {"category": "dismissal_of_union_leader", "employer_id": employer, "union_id": union,
            "complainant": {"name": "Болат Нуртаев", "contact": "+7 701 000 0000", "position": "Union chair"},
            "description": "The chair of the primary organisation was dismissed a week after the union's founding.",
            "received_on": "2026-03-20"} | extra


async def test_a_complaint_from_intake_to_findings(disputes: RunningService) -> None:
    service, client = disputes, disputes.client
    union = await add_party(service, "primary_union_organisation", "Профсоюз шахтёров")
    employer = await add_party(service, "employer", "ТОО Шахта")
    u, e = org(service, union), org(service, employer, "employer")
    inspector = staff(service, "labour_inspector", subject="inspector-1")

    # Bad input names the field and the rule, and writes nothing.
    for change, pointer, rule in (({"category": "rudeness"}, "/category", "known_code"),
                                  ({"union_id": str(uuid.uuid4())}, "/union_id", "own_complaint"),
                                  ({"complainant": {"name": ""}}, "/complainant/name", "string_too_short")):
        refused = await client.post("/complaints", headers=u, json=complaint_body(employer, union) | change)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["errors"][0]["pointer"], refused.json()["errors"][0]["rule"]) == (pointer, rule)
    # The employer cannot file; an analyst cannot take a complaint in.
    assert (await client.post("/complaints", headers=e, json=complaint_body(employer, None))).status_code == 422
    assert (await client.post("/complaints", headers=staff(service, "analyst"),
                              json=complaint_body(employer, None))).status_code == 403
    assert await events_of(service, ComplaintReceived.event_type) == []

    law = (await client.get("/complaints/rules", headers=e)).json()
    assert "dismissal_of_union_leader" in {c["code"] for c in law["categories"]}
    assert law["consideration_period_working_days"]["verify"] is True

    filed = await client.post("/complaints", headers=u, json=complaint_body(employer, union))
    assert filed.status_code == 201, filed.text
    body = filed.json()
    complaint_id = body["id"]
    # 15 working days from Friday 20 March 2026 (after the Nauryz days off): 15 April; the period is marked verify.
    assert (body["status"], body["received_via"], body["consideration_due"], body["consideration_verify"]) == (
        "received", "union", "2026-04-15", True)
    assert body["complainant"]["name"] == "Болат Нуртаев" and "Convention No. 98" in body["category_article"]

    # Before the inspection the employer does not even learn that the complaint exists.
    missing = await client.get(f"/complaints/{uuid.uuid4()}", headers=e)
    early = await client.get(f"/complaints/{complaint_id}", headers=e)
    assert (early.status_code, early.json()["detail"]) == (404, missing.json()["detail"])
    assert (await client.get("/complaints", headers=e)).json() == {"items": [], "total": 0}

    # Only the inspectorate inspects; the union cannot, the employer cannot.
    for headers in (u, e, staff(service, "dispute_officer")):
        refused = await client.post(f"/complaints/{complaint_id}/inspection", headers=headers,
                                    json={"inspector": "A. Inspector"})
        assert refused.status_code in (403, 404), refused.text
    findings_first = await client.post(f"/complaints/{complaint_id}/findings", headers=inspector,
                                       json={"outcome": "upheld", "findings": "x"})
    assert findings_first.status_code == 409 and findings_first.json()["allowed"] == ["close", "start_inspection"]
    started = await client.post(f"/complaints/{complaint_id}/inspection", headers=inspector,
                                json={"on": "2026-03-24", "inspector": "Г. Ахметова"})
    assert started.status_code == 200 and started.json()["status"] == "under_inspection"

    # Now the employer sees that a complaint concerns it, and nothing more.
    shielded = (await client.get(f"/complaints/{complaint_id}", headers=e)).json()
    assert set(shielded) == SHIELDED_KEYS and shielded["view"] == "shielded" and shielded["findings"] is None
    assert (await client.get("/complaints", headers=e)).json()["total"] == 1

    # Findings that would name the complainant are refused (they go to the employer).
    naming = await client.post(f"/complaints/{complaint_id}/findings", headers=inspector, json={
        "outcome": "upheld", "findings": "The dismissal of НУРТАЕВ was for his union activity."})
    assert naming.status_code == 422 and naming.json()["errors"][0]["rule"] == "shielded_identity"
    assert "Нуртаев" not in naming.text
    found = await client.post(f"/complaints/{complaint_id}/findings", headers=inspector, json={
        "on": "2026-04-10", "outcome": "upheld",
        "findings": "The dismissal was linked to union activity; an order to reinstate was issued."})
    assert found.status_code == 200 and found.json()["status"] == "findings"
    seen = (await client.get(f"/complaints/{complaint_id}", headers=e)).json()
    assert seen["findings"] == {"outcome": "upheld", "on": "2026-04-10",
                                "findings": "The dismissal was linked to union activity; an order to reinstate "
                                            "was issued."}
    # The union sees its complaint in full, findings included.
    full = (await client.get(f"/complaints/{complaint_id}", headers=u)).json()
    assert full["view"] == "full" and full["findings"]["outcome"] == "upheld" and full["complainant"]["position"]
    closed = await client.post(f"/complaints/{complaint_id}/closure", headers=inspector,
                               json={"on": "2026-04-20", "reason": "Reinstated"})
    assert closed.status_code == 200 and closed.json()["allowed_actions"] == []

    # Strangers and organisation-bound credentials with staff roles: 404 as for a missing id.
    stranger = org(service, await add_party(service, "employer", "ТОО Другое"), "employer")
    bound = service.headers(organisation_id=str(uuid.uuid4()), roles={"labour_inspector"})
    for headers in (stranger, bound):
        other = await client.get(f"/complaints/{complaint_id}", headers=headers)
        assert (other.status_code, other.json()["detail"]) == (404, missing.json()["detail"])
        assert (await client.get("/complaints", headers=headers)).json()["total"] == 0
    # Other staff see the shielded view only.
    assert (await client.get(f"/complaints/{complaint_id}", headers=staff(service, "analyst"))).json()["view"] == \
        "shielded"

    # Every read of the full record and every decision is in the access log (the inspectorate's to read).
    log = await client.get(f"/complaints/{complaint_id}/access-log", headers=inspector)
    actions = [(r["actor"], r["action"]) for r in log.json()["items"]]
    assert actions[0] == (f"organisation:{union}", "received")
    assert (f"organisation:{union}", "read") in actions and ("staff:inspector-1", "findings") in actions
    assert not any(actor in (f"organisation:{employer}", "staff:test-user") for actor, _ in actions)
    assert (await client.get(f"/complaints/{complaint_id}/access-log", headers=u)).status_code == 403

    # Events: the complaint's own go to the union only; the employer's notices name no one and go to it only.
    for event_class in (ComplaintReceived, ComplaintInspectionStarted, ComplaintFindingsRecorded, ComplaintClosed):
        [event] = await events_of(service, event_class.event_type)
        assert event.data["audience"] == [union] and event.subject == complaint_id
        jsonschema.validate(event.data, published(event_class.event_type))
    notices = await events_of(service, ComplaintEmployerNotice.event_type)
    assert [n.data["stage"] for n in notices] == ["inspection_started", "findings", "closed"]
    for notice in notices:
        assert notice.data["audience"] == [employer] and union not in notice.model_dump_json()
        jsonschema.validate(notice.data, published(ComplaintEmployerNotice.event_type))


async def test_a_worker_through_staff_and_a_complaint_closed_unseen(disputes: RunningService) -> None:
    service, client = disputes, disputes.client
    employer = await add_party(service, "employer", "АО Завод")
    e = org(service, employer, "employer")
    officer, inspector = staff(service, "dispute_officer"), staff(service, "labour_inspector")
    filed = await client.post("/complaints", headers=officer, json=complaint_body(employer, None,
                                                                                 category="surveillance"))
    assert filed.status_code == 201 and filed.json()["received_via"] == "staff"
    complaint_id = filed.json()["id"]
    # The dispute officer who took it in sees it shielded afterwards; the inspectorate in full.
    assert (await client.get(f"/complaints/{complaint_id}", headers=officer)).json()["view"] == "shielded"
    assert (await client.get(f"/complaints/{complaint_id}", headers=inspector)).json()["view"] == "full"
    [received] = await events_of(service, ComplaintReceived.event_type)
    assert received.data["audience"] == []
    # Closed before any inspection: the employer is never told and never sees it.
    closed = await client.post(f"/complaints/{complaint_id}/closure", headers=inspector,
                               json={"reason": "The worker withdrew"})
    assert closed.status_code == 200
    assert (await client.get(f"/complaints/{complaint_id}", headers=e)).status_code == 404
    assert await events_of(service, ComplaintEmployerNotice.event_type) == []


async def test_a_missed_consideration_period_is_recorded_once(sweeping_disputes: RunningService,
                                                              clock: Clock) -> None:
    service, client = sweeping_disputes, sweeping_disputes.client
    union = await add_party(service, "primary_union_organisation", "Профсоюз")
    employer = await add_party(service, "employer", "ТОО Цех")
    filed = await client.post("/complaints", headers=org(service, union), json=complaint_body(employer, union))
    complaint_id = filed.json()["id"]
    # Three working days before 15 April: Friday 10 April, a reminder to the union.
    clock.now = datetime(2026, 4, 10, 9, 0, tzinfo=KAZAKHSTAN)
    await eventually(lambda: events_of(service, DeadlineApproaching.event_type), what="a reminder")
    clock.now = datetime(2026, 4, 16, 0, 5, tzinfo=KAZAKHSTAN)

    async def overdue() -> bool:
        seen = await client.get(f"/complaints/{complaint_id}", headers=staff(service, "labour_inspector"))
        return seen.json()["overdue_since"] == "2026-04-16"

    await eventually(overdue, what="the complaint to be marked overdue")
    await asyncio.sleep(0.5)  # more sweeps change nothing
    [missed] = await events_of(service, DeadlineMissed.event_type)
    assert (missed.data["kind"], missed.data["subject_id"], missed.data["audience"]) == (
        "complaint_consideration", complaint_id, [union])
    assert missed.data["article"].startswith("Administrative Procedural Code")
    [reminder] = await events_of(service, DeadlineApproaching.event_type)
    assert reminder.data["audience"] == [union]
    # Findings after the period are still recorded, marked late.
    inspector = staff(service, "labour_inspector")
    await client.post(f"/complaints/{complaint_id}/inspection", headers=inspector, json={"inspector": "Inspector"})
    found = await client.post(f"/complaints/{complaint_id}/findings", headers=inspector,
                              json={"outcome": "not_upheld", "findings": "No link to union activity found."})
    assert found.status_code == 200
    [event] = await events_of(service, ComplaintFindingsRecorded.event_type)
    assert event.data["late"] is True
