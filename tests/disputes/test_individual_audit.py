"""Individual disputes are audited like complaints (SQLite and PostgreSQL, real nats-server): every read of an
application (it carries the employee's name and claim) - one application or a listing showing it - and every
decision on it goes to ``individual_dispute_access``, naming the organisation's credential; staff who act on
individual disputes read that log, a party gets 403 and anyone else 404 as for a missing id."""

from __future__ import annotations

import uuid
from datetime import datetime

from kernel.calendar import KAZAKHSTAN
from tests.disputes.cases_support import add_party, org, staff
from tests.support.services import Clock, RunningService, eventually

pytest_plugins = ("tests.disputes.cases_fixtures",)


async def _application(service: RunningService) -> tuple[str, str, str]:
    union = await add_party(service, "primary_union_organisation", "Профсоюз металлургов")
    employer = await add_party(service, "employer", "АО Литейный завод")
    filed = await service.client.post("/individual-disputes", headers=org(service, employer, "employer"), json={
        "employer_id": employer, "union_id": union, "employee_name": "Айгерим Сапарова",
        "employee_position": "Crane operator", "subject": "reinstatement",
        "claim": "Reinstate me: dismissed without the union's consent", "dismissal_act_on": "2026-02-27",
        "filed_on": "2026-03-20"})
    assert filed.status_code == 201, filed.text
    return filed.json()["id"], union, employer


async def _log(service: RunningService, dispute_id: str) -> list[dict]:
    answer = await service.client.get(f"/individual-disputes/{dispute_id}/access-log",
                                      headers=staff(service, "dispute_officer"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["individual_dispute_id"] == dispute_id
    return answer.json()["items"]


async def test_reads_listings_and_decisions_are_in_the_access_log(disputes: RunningService) -> None:
    service, client = disputes, disputes.client
    dispute_id, union, employer = await _application(service)
    e, u = org(service, employer, "employer"), org(service, union)
    assert (await client.get(f"/individual-disputes/{dispute_id}", headers=u)).status_code == 200
    assert (await client.get(f"/individual-disputes/{dispute_id}",
                             headers=staff(service, "analyst", subject="analyst-1"))).status_code == 200
    listed = await client.get("/individual-disputes", headers=staff(service, "dispute_officer", subject="officer-1"))
    assert [d["id"] for d in listed.json()["items"]] == [dispute_id]
    assert (await client.post(f"/individual-disputes/{dispute_id}/decision", headers=e, json={
        "outcome": "upheld", "decision": "Reinstate.", "decided_on": "2026-04-10",
        "execution_due": "2026-05-08"})).status_code == 200
    assert (await client.post(f"/individual-disputes/{dispute_id}/copies", headers=e,
                              json={"sent_on": "2026-04-13"})).status_code == 200
    assert (await client.post(f"/individual-disputes/{dispute_id}/execution", headers=e,
                              json={"executed_on": "2026-05-04"})).status_code == 200
    # Refused requests and strangers' 404s are no reads.
    stranger = org(service, await add_party(service, "local_union", "Другой профсоюз"))
    assert (await client.get(f"/individual-disputes/{dispute_id}", headers=stranger)).status_code == 404

    log = await _log(service, dispute_id)
    assert [(r["actor"], r["action"]) for r in log] == [
        (f"organisation:{employer}", "filed"),
        (f"organisation:{union}", "read"),
        ("staff:analyst-1", "read"),
        ("staff:officer-1", "listed"),
        (f"organisation:{employer}", "decided"),
        (f"organisation:{employer}", "copies_sent"),
        (f"organisation:{employer}", "executed"),
    ]
    # An organisation holds several credentials: the log names which one acted.
    assert log[0]["detail"] == {"credential": "organisation-key:test-user"}
    assert log[1]["detail"] == {"credential": "organisation-key:test-user"}
    assert log[2]["detail"] == {} and log[4]["detail"] == {"outcome": "upheld", "credential":
                                                           "organisation-key:test-user"}

    # The log is for staff who act on individual disputes; a party is refused, anyone else meets a missing id.
    assert (await client.get(f"/individual-disputes/{dispute_id}/access-log",
                             headers=staff(service, "administrator"))).status_code == 200
    for headers in (e, u, staff(service, "analyst")):
        refused = await client.get(f"/individual-disputes/{dispute_id}/access-log", headers=headers)
        assert refused.status_code == 403, refused.text
    missing = await client.get(f"/individual-disputes/{uuid.uuid4()}/access-log", headers=stranger)
    for headers in (stranger, service.headers(organisation_id=str(uuid.uuid4()), roles={"dispute_officer"})):
        other = await client.get(f"/individual-disputes/{dispute_id}/access-log", headers=headers)
        assert (other.status_code, other.json()["detail"]) == (404, missing.json()["detail"])
    # Reading the log is not itself logged as a read of the application.
    assert len(await _log(service, dispute_id)) == len(log)


async def test_court_referral_withdrawal_and_the_sweepers_decisions(sweeping_disputes: RunningService,
                                                                     clock: Clock) -> None:
    service, client = sweeping_disputes, sweeping_disputes.client
    silent, union, employer = await _application(service)
    withdrawn, other_union, _ = await _application(service)
    assert (await client.post(f"/individual-disputes/{withdrawn}/withdrawal", headers=org(service, other_union),
                              json={"on": "2026-03-25"})).status_code == 200
    assert [r["action"] for r in await _log(service, withdrawn)] == ["filed", "withdrawn"]

    # Thursday 16 April: the commission's period (until 15 April) has run out; the sweeper records it.
    clock.now = datetime(2026, 4, 16, 0, 5, tzinfo=KAZAKHSTAN)

    async def overdue() -> list[dict]:
        return [r for r in await _log(service, silent) if r["action"] == "decision_overdue"]

    [record] = await eventually(overdue, what="the decision_overdue audit record")
    assert record["actor"] == "system:deadline-sweeper"
    assert (await client.post(f"/individual-disputes/{silent}/court-referral", headers=org(service, union), json={
        "referred_on": "2026-04-17", "court": "Specialised inter-district court of Almaty"})).status_code == 200
    assert [(r["actor"], r["action"]) for r in await _log(service, silent)] == [
        (f"organisation:{employer}", "filed"), ("system:deadline-sweeper", "decision_overdue"),
        (f"organisation:{union}", "referred_to_court")]
