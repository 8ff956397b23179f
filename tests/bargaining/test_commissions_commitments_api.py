"""Monitoring what agreements promised, over HTTP on a real database (SQLite and PostgreSQL) and a real
nats-server, with the deadline sweeper on a test clock.

A General Agreement is concluded through the negotiation API (the secretariat recording each act for
the three parties) and broken into commitments. The responsible party reports progress with
evidence; a commitment whose due date passes without a report of it done turns late, its
responsible party alone is reminded (once), and the share fulfilled on the summary falls. The board
filters by agreement, party and status; a stranger sees nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from contracts.bargaining import (
    CommitmentFulfilled,
    CommitmentLate,
    DeadlineApproaching,
    DeadlineMissed,
    ProgressReported,
)
from tests.bargaining import test_negotiation_api as negotiation_api
from tests.bargaining.test_accession_coverage_api import enterprise
from tests.bargaining.test_commissions_api import at, check_schema, org, party, secretariat, today
from tests.support.services import Clock, RunningService, eventually
from tests.support.services import outbox_events as events_of

bargaining = negotiation_api.bargaining
sweeping_bargaining = negotiation_api.sweeping_bargaining
clock = negotiation_api.clock


async def general_agreement(service: RunningService) -> tuple[str, dict[str, str]]:
    """A General Agreement for three years, in force: the secretariat records every act of the three parties."""
    client, staff = service.client, secretariat(service)
    p = {"government": await party(service, "government_body", "Правительство РК"),
         "employers": await party(service, "republican_employer_association", "НПП Атамекен"),
         "workers": await party(service, "republican_union_association", "ФПРК")}
    created = await client.post("/negotiations", headers=staff, json={
        "level": "general", "subject_matter": "General Agreement 2024-2026", "initiator_id": p["workers"],
        "parties": [{"organisation_id": o, "side": s} for s, o in p.items()]})
    assert created.status_code == 201, created.text
    url = f"/negotiations/{created.json()['id']}"
    for side in ("government", "employers"):
        assert (await client.post(f"{url}/entry", headers=staff,
                                  json={"organisation_id": p[side]})).status_code == 200
    for side, organisation in p.items():
        assert (await client.put(f"{url}/commission/{side}", headers=staff, json={"members": [
            {"organisation_id": organisation, "name": f"{side} member", "position": "Officer"}]})).status_code == 200
    assert (await client.post(f"{url}/commission/constitution", headers=staff)).status_code == 200
    clause = (await client.post(f"{url}/clauses", headers=staff, json={
        "category": "pay", "title": "Minimum wage", "text": "The minimum wage is raised every year.",
        "side": "workers"})).json()
    for side in ("government", "employers"):
        accepted = await client.post(f"{url}/clauses/{clause['id']}/acceptance", headers=staff,
                                     json={"version": 1, "side": side})
        assert accepted.status_code == 200, accepted.text
    for side in p:
        signed = await client.post(f"{url}/signatures", headers=staff, json={
            "side": side, "signatory_name": f"{side} chair", "signatory_position": "Chair"})
        assert signed.status_code == 201, signed.text
    term_from = today() - timedelta(days=60)
    filed = await client.post(f"{url}/filing", headers=staff, json={
        "authority": "Ministry of Labour", "registration_number": f"GA-{uuid.uuid4().hex[:6]}",
        "filed_on": today().isoformat(), "term_from": term_from.isoformat(),
        "term_to": (term_from + relativedelta(years=3) - timedelta(days=1)).isoformat()})
    assert filed.status_code == 200, filed.text
    assert (await client.post(f"{url}/entry-into-force", headers=staff, json={})).json()["status"] == "in_force"
    return created.json()["id"], p


def commitment(side: str, due: date, **changes: Any) -> dict[str, Any]:
    return {"what": f"The {side} party does what it promised", "responsible_side": side, "due_on": due.isoformat(),
            "indicator": "Order published", **changes}


async def test_a_commitment_past_its_due_date_turns_late_and_its_party_is_reminded_once(
        sweeping_bargaining: RunningService, clock: Clock) -> None:
    service, client = sweeping_bargaining, sweeping_bargaining.client
    agreement_id, p = await general_agreement(service)
    url = f"/agreements/{agreement_id}/commitments"
    staff = secretariat(service)
    due = today() + timedelta(days=20)

    wage = await client.post(url, headers=staff, json=commitment(
        "government", due, what="Raise the minimum wage to 85,000 tenge", indicator="Budget law adopted",
        clause_number=1))
    assert wage.status_code == 201, wage.text
    assert (wage.json()["number"], wage.json()["status"], wage.json()["responsible"]) == (
        1, "on_track", ["Правительство РК"])
    training = await client.post(url, headers=org(service, p["workers"]), json=commitment(
        "workers", today() + timedelta(days=40), what="Train 500 safety representatives"))
    assert training.status_code == 201, training.text
    # The responsible party is a side of the agreement; only a party or the secretariat records commitments.
    wrong = await client.post(url, headers=staff, json=commitment("workers", due, responsible_id=p["employers"]))
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["rule"] == "party_on_side"
    stranger = org(service, await party(service, "employer", "ТОО Посторонний"))
    assert (await client.post(url, headers=stranger, json=commitment("workers", due))).status_code == 404
    assert (await client.get(url, headers=stranger)).status_code == 404
    assert (await client.get(f"/commitments/{wage.json()['id']}", headers=stranger)).status_code == 404
    assert (await client.get("/commitments", headers=stranger)).json()["total"] == 0
    bad = await client.post(url, headers=staff, json={**commitment("workers", due), "due_on": "someday"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/due_on"

    # Only the responsible party reports; done needs evidence.
    wage_url = f"/commitments/{wage.json()['id']}/reports"
    assert (await client.post(wage_url, headers=org(service, p["workers"]), json={
        "outcome": "in_progress", "progress": "We asked."})).status_code == 403
    progress = await client.post(wage_url, headers=org(service, p["government"]), json={
        "outcome": "in_progress", "progress": "The draft budget law includes the raise.",
        "indicator_value": "draft", "evidence": [{"title": "Draft budget law", "reference": "MF-2026-3"}]})
    assert progress.status_code == 201 and progress.json()["status"] == "on_track", progress.text
    training_url = f"/commitments/{training.json()['id']}/reports"
    no_evidence = await client.post(training_url, headers=org(service, p["workers"]), json={
        "outcome": "done", "progress": "Trained."})
    assert no_evidence.status_code == 422 and no_evidence.json()["errors"][0]["rule"] == "evidence_of_fulfilment"
    done = await client.post(training_url, headers=org(service, p["workers"]), json={
        "outcome": "done", "progress": "512 representatives trained.", "indicator_value": "512",
        "evidence": [{"title": "Training register", "reference": "FPRK-TR-2026"}]})
    assert (done.json()["status"], done.json()["closed_on"]) == ("done", today().isoformat())
    assert (await client.post(training_url, headers=org(service, p["workers"]), json={
        "outcome": "in_progress", "progress": "More."})).status_code == 409

    before = (await client.get("/commitments/summary", headers=staff)).json()
    assert (before["overall"]["total"], before["overall"]["done"], before["overall"]["share_fulfilled"]) == \
        (2, 1, 1.0)
    assert before["overall"]["share_done_of_all"] == 0.5

    # The due date passes with no report of it done: late, the government alone reminded, once.
    clock.now = at(due + timedelta(days=1))

    async def late() -> bool:
        seen = await client.get(f"/commitments/{wage.json()['id']}", headers=org(service, p["employers"]))
        return seen.json()["status"] == "late"

    await eventually(late, what="the commitment to turn late")
    await asyncio.sleep(0.5)  # more sweeps: nothing more
    [missed] = [e for e in await events_of(service, DeadlineMissed.event_type) if e.data["kind"] == "commitment_due"]
    assert missed.data["audience"] == [p["government"]] and missed.data["due_on"] == due.isoformat()
    check_schema(missed)
    [late_event] = await events_of(service, CommitmentLate.event_type)
    assert late_event.data["status"] == "late" and sorted(late_event.data["audience"]) == sorted(p.values())
    check_schema(late_event)
    # The approaching reminder was skipped: it would have come after the time ran out.
    assert [e for e in await events_of(service, DeadlineApproaching.event_type)
            if e.data["kind"] == "commitment_due"] == []
    seen = (await client.get(f"/commitments/{wage.json()['id']}", headers=staff)).json()
    assert seen["late_since"] == (due + timedelta(days=1)).isoformat() and len(seen["reports"]) == 1

    after = (await client.get("/commitments/summary", headers=staff)).json()
    assert (after["overall"]["late"], after["overall"]["share_fulfilled"]) == (1, 0.5)
    [row] = after["by_agreement"]
    assert (row["key"], row["label"], row["share_fulfilled"]) == (agreement_id, "General Agreement 2024-2026", 0.5)

    # The board per party and per status.
    board = (await client.get("/commitments", headers=staff, params={"organisation_id": p["government"]})).json()
    assert [c["number"] for c in board["items"]] == [1] and board["by_status"] == {"late": 1}
    board = (await client.get(url, headers=org(service, p["employers"]), params={"side": "workers"})).json()
    assert [c["number"] for c in board["items"]] == [2]
    board = (await client.get("/commitments", headers=staff, params={"status": "late"})).json()
    assert [c["id"] for c in board["items"]] == [wage.json()["id"]]
    assert (await client.get("/commitments", headers=staff, params={"status": "lost"})).status_code == 422

    # Done after all, late: fulfilled, and the share rises again.
    fulfilled = await client.post(wage_url, headers=org(service, p["government"]), json={
        "outcome": "done", "progress": "The budget law raised the minimum wage.",
        "evidence": [{"title": "Budget law", "reference": "Law No. 120-VIII"}]})
    assert fulfilled.json()["status"] == "done", fulfilled.text
    [event] = [e for e in await events_of(service, CommitmentFulfilled.event_type)
               if e.data["commitment_id"] == wage.json()["id"]]
    assert event.data["late"] is False  # reported on the real today, before the due date of the test clock
    assert (await client.get("/commitments/summary", headers=staff)).json()["overall"]["share_fulfilled"] == 1.0
    assert len(await events_of(service, ProgressReported.event_type)) == 3
    for recorded in await events_of(service, ProgressReported.event_type):
        check_schema(recorded)


async def test_the_share_fulfilled_per_sector_and_region(bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    staff = secretariat(service)
    general_id, p = await general_agreement(service)
    mine_id, union, employer = await enterprise(service, workers_covered=900, sector="05")
    for agreement_id, side in ((general_id, "employers"), (mine_id, "employers"), (mine_id, "workers")):
        assert (await client.post(f"/agreements/{agreement_id}/commitments", headers=staff,
                                  json=commitment(side, today() + timedelta(days=30)))).status_code == 201
    board = (await client.get(f"/agreements/{mine_id}/commitments", headers=org(service, union))).json()
    assert board["total"] == 2 and {c["sector"] for c in board["items"]} == {"05"}
    by_side = {c["responsible_side"]: c["id"] for c in board["items"]}
    assert (await client.post(f"/commitments/{by_side['employers']}/reports", headers=org(service, union), json={
        "outcome": "not_done", "progress": "The employer refused."})).status_code == 403  # the employer's
    done = await client.post(f"/commitments/{by_side['workers']}/reports", headers=org(service, union),
                             json={"outcome": "done", "progress": "Done.",
                                   "evidence": [{"title": "Act", "reference": "A-1"}]})
    assert done.status_code == 201, done.text
    not_done = await client.post(f"/commitments/{by_side['employers']}/reports", headers=org(service, employer),
                                 json={"outcome": "not_done", "progress": "No funds."})
    assert not_done.json()["status"] == "not_done", not_done.text

    summary = (await client.get("/commitments/summary", headers=staff)).json()
    assert {r["key"]: (r["total"], r["share_fulfilled"]) for r in summary["by_sector"]} == {
        None: (1, None), "05": (2, 0.5)}
    assert {r["key"]: r["total"] for r in summary["by_region"]} == {None: 1, "KAR": 2}
    assert summary["overall"]["total"] == 3
    # An organisation's summary covers its own agreements only; the level filter narrows it.
    own = (await client.get("/commitments/summary", headers=org(service, union))).json()
    assert own["overall"]["total"] == 2
    general = (await client.get("/commitments/summary", headers=staff, params={"level": "general"})).json()
    assert [r["key"] for r in general["by_agreement"]] == [general_id]
    board = (await client.get("/commitments", headers=staff, params={"region_code": "KAR", "sector": "05"})).json()
    assert board["total"] == 2 and board["by_status"] == {"done": 1, "not_done": 1}
    assert p  # the general agreement's parties are not parties of the mine's
