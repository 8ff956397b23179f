"""The end of an agreement's term and amendments, over HTTP on a real database and nats-server.

An agreement in force is reminded of ``expiry_notice_days`` (rule data) before its term ends and
expires by itself the day after its last day, each event once. An amendment proposed by one side
and signed by every side becomes the agreement's next version: the amended clause gets a new
version (the old one kept), a new clause is added, the term moves and the expiry moves with it.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from contracts.bargaining import (
    AgreementAmended,
    AgreementExpired,
    AmendmentProposed,
    DeadlineApproaching,
    DeadlineMissed,
)
from kernel.calendar import KAZAKHSTAN
from kernel.deadlines import deadlines_for
from services.bargaining.negotiations.rules import rules_on
from tests.bargaining import test_negotiation_api as negotiation_api
from tests.bargaining.test_accession_coverage_api import check_schema, enterprise
from tests.bargaining.test_negotiation_api import officer, org
from tests.support.services import Clock, RunningService, eventually
from tests.support.services import outbox_events as events_of

bargaining = negotiation_api.bargaining
sweeping_bargaining = negotiation_api.sweeping_bargaining
clock = negotiation_api.clock


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=KAZAKHSTAN).replace(hour=9)


async def test_an_agreement_is_reminded_before_its_term_ends_and_expires_by_itself(
        sweeping_bargaining: RunningService, clock: Clock) -> None:
    service, client = sweeping_bargaining, sweeping_bargaining.client
    agreement_id, union, employer = await enterprise(service)
    agreement = (await client.get(f"/negotiations/{agreement_id}", headers=org(service, union))).json()
    term_to = date.fromisoformat(agreement["term_to"])
    notice = rules_on(date.fromisoformat(agreement["proposed_on"])).expiry_notice_days.value
    assert notice == 90

    clock.now = at(term_to - timedelta(days=notice + 1))
    await _sweeps()
    assert [e for e in await events_of(service, DeadlineApproaching.event_type)
            if e.data["kind"] == "agreement_expiry"] == []

    clock.now = at(term_to - timedelta(days=notice))
    reminders = await eventually(lambda: _of_kind(service, DeadlineApproaching.event_type, "agreement_expiry"),
                                 what="the expiry reminder")
    assert reminders[0].data["due_on"] == term_to.isoformat()
    assert sorted(reminders[0].data["audience"]) == sorted([union, employer])
    check_schema(reminders[0])

    clock.now = at(term_to)  # the last day of the term: still in force
    await _sweeps()
    assert (await client.get(f"/negotiations/{agreement_id}", headers=officer(service))).json()["status"] == \
        "in_force"

    clock.now = at(term_to + timedelta(days=1))

    async def expired() -> bool:
        seen = await client.get(f"/negotiations/{agreement_id}", headers=org(service, employer))
        return seen.json()["status"] == "expired"

    await eventually(expired, what="the agreement to expire at the end of its term")
    await _sweeps()
    [event] = await events_of(service, AgreementExpired.event_type)
    assert event.data["expired_on"] == (term_to + timedelta(days=1)).isoformat()
    assert len(await _of_kind(service, DeadlineMissed.event_type, "agreement_expiry")) == 1
    assert len(await _of_kind(service, DeadlineApproaching.event_type, "agreement_expiry")) == 1
    # The register lists it on its last day, and no longer on the day after.
    for day, listed in ((term_to, True), (term_to + timedelta(days=1), False)):
        register = await client.get("/agreements", headers=officer(service), params={"in_force_on": day.isoformat()})
        assert (agreement_id in [a["id"] for a in register.json()["items"]]) is listed, day


async def test_a_terminated_agreement_is_not_reminded(sweeping_bargaining: RunningService, clock: Clock) -> None:
    service, client = sweeping_bargaining, sweeping_bargaining.client
    agreement_id, union, _ = await enterprise(service)
    term_to = date.fromisoformat((await client.get(f"/negotiations/{agreement_id}",
                                                   headers=officer(service))).json()["term_to"])
    ended = await client.post(f"/negotiations/{agreement_id}/termination", headers=org(service, union), json={
        "unilateral": True, "reason": "The employer stopped paying the agreed allowances."})
    assert ended.status_code == 200, ended.text
    clock.now = at(term_to + timedelta(days=2))
    await _sweeps()
    assert await _of_kind(service, DeadlineApproaching.event_type, "agreement_expiry") == []
    assert await _of_kind(service, DeadlineMissed.event_type, "agreement_expiry") == []
    assert await events_of(service, AgreementExpired.event_type) == []


async def test_an_amendment_signed_by_every_side_is_the_agreement_s_next_version(bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    agreement_id, union, employer = await enterprise(service)
    url = f"/negotiations/{agreement_id}"
    [pay] = (await client.get(f"{url}/clauses", headers=org(service, union))).json()
    agreement = (await client.get(url, headers=org(service, union))).json()
    term_to = date.fromisoformat(agreement["term_to"])
    longer = term_to + relativedelta(months=6)

    proposed = await client.post(f"{url}/amendments", headers=org(service, union), json={
        "summary": "Index pay twice a year and add a clause on remote work; extend the term by six months.",
        "changes": [{"clause_id": pay["id"], "text": "Pay is indexed every six months."},
                    {"category": "working_time", "title": "Remote work",
                     "text": "Office staff may work remotely two days a week."}],
        "term_to": longer.isoformat()})
    assert proposed.status_code == 201, proposed.text
    amendment = proposed.json()
    assert (amendment["number"], amendment["status"], amendment["proposed_by_side"]) == (1, "proposed", "workers")
    assert amendment["awaiting"] == ["workers", "employers"]

    # A second amendment waits until the first is adopted or withdrawn.
    second = await client.post(f"{url}/amendments", headers=org(service, employer),
                               json={"summary": "Shorter term", "term_to": (term_to - timedelta(days=30)).isoformat()})
    assert second.status_code == 409, second.text

    for headers, name in ((org(service, union), "Union chair"), (org(service, employer), "Director")):
        signed = await client.post(f"{url}/amendments/1/signatures", headers=headers,
                                   json={"signatory_name": name, "signatory_position": name})
        assert signed.status_code == 200, signed.text
    adopted = signed.json()
    assert (adopted["status"], adopted["agreement_version"], adopted["awaiting"]) == ("adopted", 2, [])
    assert [(a["number"], a["version"], a["new"]) for a in adopted["applied"]] == [(1, 2, False), (2, 1, True)]

    clause = (await client.get(f"{url}/clauses/{pay['id']}", headers=org(service, employer))).json()
    assert clause["agreed_version"] == 2
    assert [v["text"] for v in clause["versions"]] == ["Pay is indexed yearly.", "Pay is indexed every six months."]
    text = (await client.get(f"{url}/agreement.md", headers=org(service, employer))).text
    assert "Pay is indexed every six months." in text and "Remote work" in text
    assert "Pay is indexed yearly." not in text
    assert (await client.get(url, headers=officer(service))).json()["term_to"] == longer.isoformat()

    [event] = await events_of(service, AgreementAmended.event_type)
    assert event.data["agreement_version"] == 2 and event.data["term_to"] == longer.isoformat()
    assert sorted(event.data["audience"]) == sorted([union, employer])
    check_schema(event)
    check_schema((await events_of(service, AmendmentProposed.event_type))[0])
    # The expiry moved with the term.
    async with service.state.sessionmaker() as session:
        [expiry] = [d for d in await deadlines_for(session, agreement_id) if d.kind == "agreement_expiry"]
    assert expiry.due_on == longer

    listed = (await client.get(f"{url}/amendments", headers=org(service, union))).json()
    assert [a["status"] for a in listed] == ["adopted"]


async def test_amendments_are_refused_by_field_and_rule(bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    agreement_id, union, employer = await enterprise(service)
    url = f"/negotiations/{agreement_id}"
    agreement = (await client.get(url, headers=org(service, union))).json()
    term_from = date.fromisoformat(agreement["term_from"])

    bad = await client.post(f"{url}/amendments", headers=org(service, union), json={
        "summary": "Too much at once",
        "changes": [{"clause_id": "00000000-0000-0000-0000-000000000001", "text": "No such clause."}],
        "term_to": (term_from + relativedelta(years=5)).isoformat()})
    assert bad.status_code == 422, bad.text
    rules = {(e["pointer"], e["rule"]) for e in bad.json()["errors"]}
    assert rules == {("/changes/0/clause_id", "clause_of_agreement"), ("/term_to", "term_range")}

    nothing = await client.post(f"{url}/amendments", headers=org(service, union), json={"summary": "Nothing"})
    assert nothing.status_code == 422

    # An organisation acts for its own side only; a stranger sees nothing.
    wrong_side = await client.post(f"{url}/amendments", headers=org(service, union), json={
        "summary": "Longer term", "side": "employers", "term_to": (term_from + relativedelta(years=2)).isoformat()})
    assert wrong_side.status_code == 422 and wrong_side.json()["errors"][0]["rule"] == "own_side"
    stranger = org(service, "5d7a0a4e-9a55-4c31-8f38-2f4f62b1e3a1")
    assert (await client.get(f"{url}/amendments", headers=stranger)).status_code == 404

    proposed = await client.post(f"{url}/amendments", headers=org(service, employer), json={
        "summary": "End the agreement a month earlier",
        "term_to": (term_from + relativedelta(months=23) - timedelta(days=1)).isoformat()})
    assert proposed.status_code == 201, proposed.text
    # Only the proposing side withdraws it; then it can no longer be signed.
    assert (await client.post(f"{url}/amendments/1/withdrawal", headers=org(service, union))).status_code == 422
    withdrawn = await client.post(f"{url}/amendments/1/withdrawal", headers=org(service, employer))
    assert withdrawn.json()["status"] == "withdrawn", withdrawn.text
    late = await client.post(f"{url}/amendments/1/signatures", headers=org(service, union),
                             json={"signatory_name": "Union chair", "signatory_position": "Chair"})
    assert late.status_code == 409
    assert (await client.post(f"{url}/amendments/9/signatures", headers=org(service, union),
                              json={"signatory_name": "Union chair", "signatory_position": "Chair"})).status_code == 404


async def _of_kind(service: RunningService, event_type: str, kind: str) -> list:
    return [e for e in await events_of(service, event_type) if e.data["kind"] == kind]


async def _sweeps() -> None:
    await asyncio.sleep(0.5)  # several sweeps at 0.1 s

