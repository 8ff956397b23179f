"""The registration procedure over HTTP, on a real database (SQLite and PostgreSQL) and a real nats-server.

A registrar records an application, refuses it with every ground at once, the union
re-applies, the registrar returns it, the union corrects it, and it is registered; then
the union files its status confirmation and the registrar decides. Every step shows in the
union's history, every decision names its rule set, and nothing is half-written on bad input.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from contracts.registry import (
    ApplicationRefused,
    DeadlineApproaching,
    DeadlineMissed,
    OrganisationRegistered,
    StatusLapsed,
)
from kernel.calendar import KAZAKHSTAN, kazakhstan_today
from kernel.problems import PROBLEM_JSON
from services.registry.app import create_app, definition
from services.registry.organisations.models import Organisation
from services.registry.organisations.rules import make_bin
from services.registry.registrations.models import RegistrationApplication
from services.registry.settings import RegistrySettings
from tests.support.services import Clock, RunningService, eventually, running, settings_for, with_clock
from tests.support.services import outbox_events as events_of

ALL_DOCUMENTS = ["application_form", "charter", "founding_congress_minutes", "elected_bodies_decision",
                 "legal_address_document"]
ALMATY, ASTANA = "750000000", "710000000"


@pytest.fixture
async def registry(make_database, nats_server, public_key, signer) -> AsyncIterator[RunningService]:
    settings = settings_for(RegistrySettings, database_url=await make_database("registry"),
                            nats_url=nats_server.url, public_key=public_key)
    async with running(create_app(settings), signer, "registry") as service:
        yield service


def registrar(service: RunningService) -> dict[str, str]:
    return service.headers(roles={"registrar"}, subject="registrar-1")


def application(**overrides: object) -> dict[str, object]:
    return {"kind": "local_union", "name_kk": "Құрылысшылар кәсіподағы", "name_ru": "Профсоюз строителей",
            "legal_address": "Алматы, ул. Абая, 1", "region_code": ALMATY, "sectors": ["41", "42"],
            "officers": [{"role": "chair", "name": "А. Сапарова"}],
            "founders": 12, "documents": ALL_DOCUMENTS, **overrides}



async def test_pre_check_lists_every_failing_rule_under_the_law_of_the_date(registry: RunningService) -> None:
    body = {"kind": "local_union", "founders": 3, "documents": ["charter"], "on": "2016-03-01"}
    result = (await registry.client.post("/registrations/pre-check", json=body)).json()
    assert result["rule_set"]["code"] == "trade-unions-2014"
    assert not result["passes"]
    assert [g["rule"] for g in result["grounds"]] == ["min_founders", "founding_documents"]
    assert all(g["article"] for g in result["grounds"])
    good = await registry.client.post("/registrations/pre-check",
                                      json={**body, "founders": 10, "documents": ALL_DOCUMENTS, "on": None})
    assert good.json()["passes"] and good.json()["rule_set"]["code"] == "trade-unions-2020"


async def test_the_whole_procedure_keeps_its_history(registry: RunningService) -> None:
    client, staff = registry.client, registrar(registry)
    filed = await client.post("/registrations", json=application(founders=4, documents=["charter"],
                                                                 filed_on="2025-02-03"), headers=staff)
    assert filed.status_code == 201, filed.text
    first = filed.json()
    organisation_id = first["organisation_id"]
    union = registry.headers(organisation_id=organisation_id, roles={"union"})
    assert first["status"] == "submitted" and first["attempt"] == 1

    # Not in the public register while under consideration, but the union sees itself.
    assert (await client.get(f"/organisations/{organisation_id}")).status_code == 404
    assert (await client.get(f"/organisations/{organisation_id}", headers=union)).status_code == 200

    # A refusal citing a ground outside the law is refused itself, and changes nothing.
    invented = await client.post(f"/registrations/{first['id']}/decision", headers=staff, json={
        "outcome": "refuse", "grounds": [{"rule": "conference_instead_of_congress", "detail": "wording"}]})
    assert invented.status_code == 422 and invented.headers["content-type"].startswith(PROBLEM_JSON)
    assert invented.json()["errors"][0]["pointer"] == "/grounds/0/rule"
    assert invented.json()["errors"][0]["rule"] == "ground_in_rule_set"
    assert (await client.get(f"/registrations/{first['id']}", headers=staff)).json()["status"] == "submitted"

    # Registering an application that fails the checks is not possible: 409 lists the grounds.
    blocked = await client.post(f"/registrations/{first['id']}/decision", headers=staff,
                                json={"outcome": "register", "decided_on": "2025-02-10"})
    assert blocked.status_code == 409
    assert [g["rule"] for g in blocked.json()["grounds"]] == ["min_founders", "founding_documents"]

    # The refusal states every failing check and the cited ground, each with its article.
    refused = await client.post(f"/registrations/{first['id']}/decision", headers=staff, json={
        "outcome": "refuse", "decided_on": "2025-02-10",
        "grounds": [{"rule": "false_information", "detail": "the minutes give 40 delegates, the list 4"}]})
    assert refused.status_code == 200, refused.text
    decision = refused.json()
    assert decision["status"] == "refused"
    assert [g["rule"] for g in decision["grounds"]] == ["min_founders", "founding_documents", "false_information"]
    assert all(g["article"] for g in decision["grounds"])
    assert decision["rule_set"]["code"] == "trade-unions-2020"
    assert decision["allowed_actions"] == []

    # A decided application cannot be decided again: 409 names what is allowed (nothing).
    again = await client.post(f"/registrations/{first['id']}/decision", headers=staff, json={"outcome": "register"})
    assert again.status_code == 409 and again.json()["allowed"] == []

    # The union re-applies for the same organisation itself; the registrar returns it for correction.
    reapplied = await client.post("/registrations", headers=union, json=application(
        organisation_id=organisation_id, founders=12, documents=ALL_DOCUMENTS[:-1], filed_on="2025-03-03"))
    assert reapplied.status_code == 201, reapplied.text
    second = reapplied.json()
    review = await client.post(f"/registrations/{second['id']}/review", headers=staff)
    assert review.json()["status"] == "under_review"
    returned = await client.post(f"/registrations/{second['id']}/decision", headers=staff,
                                 json={"outcome": "return", "decided_on": "2025-03-10"})
    assert returned.json()["status"] == "returned"
    assert returned.json()["correction_due"] == "2025-04-09"
    assert [g["rule"] for g in returned.json()["grounds"]] == ["founding_documents"]

    # The union corrects it; the registrar registers it.
    corrected = await client.post(f"/registrations/{second['id']}/resubmission", headers=union,
                                  json={"founders": 12, "documents": ALL_DOCUMENTS, "filed_on": "2025-03-20"})
    assert corrected.json()["status"] == "submitted" and corrected.json()["attempt"] == 2
    registered = await client.post(f"/registrations/{second['id']}/decision", headers=staff,
                                   json={"outcome": "register", "decided_on": "2025-03-27"})
    assert registered.status_code == 200, registered.text
    organisation = (await client.get(f"/organisations/{organisation_id}")).json()
    assert organisation["status"] == "registered"
    # Twelve months under the 2020 rules: 27 March 2026, a Friday.
    assert organisation["status_confirmation_due"] == "2026-03-27"
    assert organisation["sectors"] == ["41", "42"]

    history = (await client.get(f"/organisations/{organisation_id}/history", headers=union)).json()
    assert [h["action"] for h in history] == [
        "application_submitted", "refused", "application_submitted", "review_started", "returned",
        "application_resubmitted", "registered"]
    assert history[1]["rule_set_code"] == "trade-unions-2020"
    assert len(history[1]["detail"]["grounds"]) == 3
    applications = (await client.get("/registrations", headers=union)).json()
    assert applications["total"] == 2

    refusals = await events_of(registry, ApplicationRefused.event_type)
    assert len(refusals) == 1 and len(ApplicationRefused.model_validate(refusals[0].data).grounds) == 3
    registrations = await events_of(registry, OrganisationRegistered.event_type)
    assert [e.subject for e in registrations] == [organisation_id]


RECENTLY = (kazakhstan_today() - timedelta(days=30)).isoformat()


async def registered_union(registry: RunningService, *, kind: str = "local_union", on: str = RECENTLY) -> str:
    staff = registrar(registry)
    filed = (await registry.client.post("/registrations", headers=staff,
                                        json=application(kind=kind, filed_on=on))).json()
    decided = await registry.client.post(f"/registrations/{filed['id']}/decision", headers=staff,
                                         json={"outcome": "register", "decided_on": on})
    assert decided.status_code == 200, decided.text
    return filed["organisation_id"]


async def test_status_confirmation_local_union_without_affiliation(registry: RunningService) -> None:
    client, staff = registry.client, registrar(registry)
    organisation_id = await registered_union(registry)
    union = registry.headers(organisation_id=organisation_id, roles={"union"})
    filed = await client.post(f"/organisations/{organisation_id}/status-confirmations", headers=union,
                              json={"regions_covered": [ALMATY], "members": 150})
    assert filed.status_code == 201, filed.text
    # The filing shows the checks as they stand: under 2020 no affiliation is needed.
    assert filed.json()["check"]["passes"] and filed.json()["check"]["rule_set"]["code"] == "trade-unions-2020"
    second = await client.post(f"/organisations/{organisation_id}/status-confirmations", headers=union,
                               json={"regions_covered": [ALMATY], "members": 150})
    assert second.status_code == 409
    confirmed = await client.post(
        f"/organisations/{organisation_id}/status-confirmations/{filed.json()['id']}/decision",
        headers=staff, json={"outcome": "confirm"})
    assert confirmed.status_code == 200, confirmed.text
    organisation = (await client.get(f"/organisations/{organisation_id}")).json()
    assert organisation["status"] == "confirmed"


async def test_under_2014_an_unaffiliated_local_union_cannot_be_confirmed(registry: RunningService) -> None:
    client, staff = registry.client, registrar(registry)
    organisation_id = await registered_union(registry, on="2016-01-15")
    organisation = (await client.get(f"/organisations/{organisation_id}")).json()
    assert organisation["status_confirmation_due"] == "2016-07-15"
    filed = await client.post(f"/organisations/{organisation_id}/status-confirmations", headers=staff,
                              json={"regions_covered": [ALMATY], "members": 150, "filed_on": "2016-06-01"})
    check = filed.json()["check"]
    assert check["rule_set"]["code"] == "trade-unions-2014"
    assert [g["rule"] for g in check["grounds"]] == ["affiliation_required"]
    path = f"/organisations/{organisation_id}/status-confirmations/{filed.json()['id']}/decision"
    assert (await client.post(path, headers=staff, json={"outcome": "confirm"})).status_code == 409
    refused = await client.post(path, headers=staff, json={"outcome": "refuse", "decided_on": "2016-08-01"})
    assert refused.status_code == 200, refused.text
    assert [g["rule"] for g in refused.json()["grounds"]] == ["affiliation_required"]
    organisation = (await client.get(f"/organisations/{organisation_id}")).json()
    assert organisation["status"] == "lapsed" and organisation["lapsed_on"] == "2016-08-01"


async def test_a_returned_confirmation_gives_back_the_days_the_office_took(registry: RunningService) -> None:
    client, staff = registry.client, registrar(registry)
    organisation_id = await registered_union(registry, on="2016-01-15")
    filed = await client.post(f"/organisations/{organisation_id}/status-confirmations", headers=staff,
                              json={"regions_covered": [ALMATY], "members": 150, "filed_on": "2016-07-05"})
    # Ten days were left (due 15 July); the office returns it on 1 September: ten days later is Sunday
    # 11 September, and Monday the 12th was Kurban Ait, a public holiday: the period ends on the 13th.
    returned = await client.post(
        f"/organisations/{organisation_id}/status-confirmations/{filed.json()['id']}/decision", headers=staff,
        json={"outcome": "return", "decided_on": "2016-09-01"})
    assert returned.status_code == 200, returned.text
    organisation = (await client.get(f"/organisations/{organisation_id}")).json()
    assert organisation["status"] == "registered"
    assert organisation["status_confirmation_due"] == "2016-09-13"


async def test_affiliation_history_and_membership_adding_up(registry: RunningService) -> None:
    client, staff = registry.client, registrar(registry)
    sectoral = (await client.post("/organisations", headers=staff, json={
        "kind": "sectoral_union", "name_kk": "Салалық кәсіподақ", "name_ru": "Отраслевой профсоюз",
        "region_code": ASTANA})).json()["id"]
    other = (await client.post("/organisations", headers=staff, json={
        "kind": "sectoral_union", "name_kk": "Басқа кәсіподақ", "name_ru": "Другой профсоюз"})).json()["id"]
    local = await registered_union(registry)
    union = registry.headers(organisation_id=local, roles={"union"})
    joined = await client.put(f"/organisations/{local}/affiliation", headers=union,
                              json={"parent_id": sectoral, "valid_from": "2025-01-01"})
    assert joined.status_code == 200, joined.text
    moved = await client.put(f"/organisations/{local}/affiliation", headers=union,
                             json={"parent_id": other, "valid_from": "2026-01-01"})
    assert moved.json()["parent_id"] == other
    history = (await client.get(f"/organisations/{local}/affiliations")).json()
    assert [(h["parent_id"], h["valid_from"], h["valid_to"]) for h in history] == [
        (other, "2026-01-01", None), (sectoral, "2025-01-01", "2026-01-01")]
    # A sectoral union cannot join a local union; nor can a union be above itself.
    wrong = await client.put(f"/organisations/{sectoral}/affiliation", headers=staff,
                             json={"parent_id": local, "valid_from": "2026-02-01"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["rule"] == "allowed_tier"

    for organisation_id, counts in ((local, {"total": 100, "women": 55, "under_35": 20,
                                             "by_region": {ALMATY: 100}}),
                                    (sectoral, {"total": 10, "women": 5, "under_35": 1, "by_region": {}})):
        headers = registry.headers(organisation_id=organisation_id, roles={"union"})
        reported = await client.put(f"/organisations/{organisation_id}/membership/2025", headers=headers,
                                    json=counts)
        assert reported.status_code == 200, reported.text
    # In 2025 the local union belonged to the first sectoral union; in 2026 to the other.
    aggregate = (await client.get(f"/organisations/{sectoral}/membership/2025/aggregate", headers=staff)).json()
    assert (aggregate["total"], aggregate["women"], aggregate["organisations"]) == (110, 60, 2)
    assert aggregate["by_region"] == {ALMATY: 100}

    bad = await client.put(f"/organisations/{local}/membership/2025", headers=union,
                           json={"total": 10, "women": 11, "under_35": 1, "by_region": {ALMATY: 3}})
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.json()["errors"]} == {"/women", "/by_region"}
    kept = (await client.get(f"/organisations/{local}/membership", headers=union)).json()
    assert kept[0]["total"] == 100


async def test_updates_need_the_current_etag(registry: RunningService) -> None:
    client, staff = registry.client, registrar(registry)
    created = await client.post("/organisations", headers=staff, json={
        "kind": "employer", "name_kk": "Кәсіпорын", "name_ru": "Предприятие", "bin": make_bin("05014000765")})
    organisation_id, etag = created.json()["id"], created.headers["etag"]
    employer = registry.headers(organisation_id=organisation_id, roles={"employer"})
    missing = await client.patch(f"/organisations/{organisation_id}", headers=employer, json={"name_en": "Works"})
    assert missing.status_code == 428
    changed = await client.patch(f"/organisations/{organisation_id}", json={"name_en": "Works"},
                                 headers={**employer, "If-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    stale = await client.patch(f"/organisations/{organisation_id}", json={"name_en": "Old"},
                               headers={**employer, "If-Match": etag})
    assert stale.status_code == 412
    unknown_region = await client.patch(f"/organisations/{organisation_id}", json={"region_code": "990000000"},
                                        headers={**employer, "If-Match": changed.headers["etag"]})
    assert unknown_region.status_code == 422 and unknown_region.json()["errors"][0]["rule"] == "known_region"


async def test_another_organisation_sees_nothing_private(registry: RunningService) -> None:
    client = registry.client
    union_id = await registered_union(registry)
    applications = (await client.get("/registrations", headers=registrar(registry))).json()["items"]
    application_id = applications[0]["id"]
    stranger = registry.headers(organisation_id=str(uuid.uuid4()), roles={"employer"})
    for path in (f"/organisations/{union_id}/history", f"/organisations/{union_id}/membership",
                 f"/registrations/{application_id}", f"/organisations/{union_id}/status-confirmations"):
        response = await client.get(path, headers=stranger)
        assert response.status_code == 404, (path, response.text)
    assert (await client.get("/registrations", headers=stranger)).json()["total"] == 0
    # Public particulars stay public.
    assert (await client.get(f"/organisations/{union_id}")).status_code == 200
    # A credential bound to an organisation never gets a registrar's powers, whatever roles it carries.
    bound = registry.headers(organisation_id=union_id, roles={"registrar"})
    decision = await client.post(f"/registrations/{application_id}/decision", headers=bound,
                                 json={"outcome": "refuse"})
    assert decision.status_code == 403


async def test_bad_input_writes_nothing(registry: RunningService) -> None:
    client, staff = registry.client, registrar(registry)
    future = (kazakhstan_today() + timedelta(days=3)).isoformat()
    for body, pointer in ((application(kind="employer"), "/kind"), (application(founders=-1), "/founders"),
                          (application(region_code="123456789"), "/region_code"),
                          (application(sectors=["41", "41"]), "/sectors"),
                          (application(filed_on=future), "/filed_on")):
        response = await client.post("/registrations", headers=staff, json=body)
        assert response.status_code == 422, (pointer, response.text)
        assert pointer in {e["pointer"] for e in response.json()["errors"]}, response.text
    async with registry.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(RegistrationApplication)) == 0
        assert await session.scalar(select(func.count()).select_from(Organisation)) == 0




@pytest.fixture
async def clock() -> Clock:
    return Clock(datetime(2016, 7, 1, 10, 0, tzinfo=KAZAKHSTAN))


@pytest.fixture
async def sweeping_registry(make_database, nats_server, public_key, signer,
                            clock: Clock) -> AsyncIterator[RunningService]:
    settings = settings_for(RegistrySettings, database_url=await make_database("registry"),
                            nats_url=nats_server.url, public_key=public_key, deadline_sweep_seconds=0.1)
    async with running(with_clock(definition(settings), clock), signer, "registry") as service:
        yield service


async def test_a_missed_status_confirmation_lapses_once_but_a_timely_filing_keeps_the_status(
        sweeping_registry: RunningService, clock: Clock) -> None:
    registry, staff = sweeping_registry, registrar(sweeping_registry)
    silent = await registered_union(registry, on="2016-01-15")
    timely = await registered_union(registry, on="2016-01-15")
    # It is 1 July 2016: both periods end on 15 July. One union files; the office never decides.
    filed = await registry.client.post(f"/organisations/{timely}/status-confirmations", headers=staff,
                                       json={"regions_covered": [ALMATY], "members": 150, "filed_on": "2016-07-01"})
    assert filed.status_code == 201, filed.text
    await eventually(lambda: events_of(registry, DeadlineApproaching.event_type), what="a reminder")
    assert (await client_status(registry, silent)) == "registered"

    clock.now = datetime(2016, 7, 16, 0, 5, tzinfo=KAZAKHSTAN)

    async def lapsed() -> bool:
        return await client_status(registry, silent) == "lapsed"

    await eventually(lapsed, what="the silent union's status to lapse")
    assert (await registry.client.get(f"/organisations/{silent}")).json()["lapsed_on"] == "2016-07-16"
    assert await client_status(registry, timely) == "registered"
    await asyncio.sleep(0.5)  # a few more sweeps change nothing: each event exists once
    lapses = await events_of(registry, StatusLapsed.event_type)
    assert [e.subject for e in lapses] == [silent]
    missed = await events_of(registry, DeadlineMissed.event_type)
    assert [e.data["subject_id"] for e in missed] == [silent]
    reminders = [e.data["subject_id"] for e in await events_of(registry, DeadlineApproaching.event_type)]
    assert reminders.count(silent) == 1
    history = (await registry.client.get(f"/organisations/{silent}/history", headers=staff)).json()
    assert history[-1]["action"] == "status_lapsed"


async def client_status(registry: RunningService, organisation_id: str) -> str:
    return (await registry.client.get(f"/organisations/{organisation_id}")).json()["status"]
