"""The portal's Disputes pages and the dashboard's social-tension panel, against the real disputes service.

The disputes and registry services run in this process under uvicorn on loopback ports (their own databases —
SQLite and PostgreSQL — and a real nats-server) behind an in-process gateway, which the pages call over HTTP as the
signed-in staff member; region names come from the registry's reference data. The parties are put in the disputes
service's registry projection directly (in production they arrive as registry events); the disputes are made
through the gateway's API with a dispute officer's key.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kernel.calendar import WorkingDayCalendar, kazakhstan_today
from services.disputes.app import create_app as create_disputes
from services.disputes.parties.models import Party
from services.disputes.settings import DisputesSettings
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from tests.gateway.support import Gateway, GatewayFactory
from tests.gateway.test_portal_bargaining import Browsers, open_browsers, row_of, serving, sign_in, text_of, with_staff
from tests.support.services import settings_for

API = "/api/v1/disputes"
OFFICER = "dispute.officer@ntc.example"
INSPECTOR = "inspector@ntc.example"
CANARY = "Canary Qanarbekova-7f3a"
REGISTRAR = "registrar@ntc.example"
KARAGANDA, ALMATY = "350000000", "750000000"


@pytest.fixture
async def services(make_database, nats_server, public_key: str) -> AsyncIterator[dict[str, Any]]:
    registry = create_registry(settings_for(RegistrySettings, database_url=await make_database("registry"),
                                            nats_url=nats_server.url, public_key=public_key))
    disputes = create_disputes(settings_for(DisputesSettings, database_url=await make_database("disputes"),
                                            nats_url=nats_server.url, public_key=public_key))
    async with serving(registry) as registry_url, serving(disputes) as disputes_url:
        yield {"registry": registry_url, "disputes": disputes_url, "disputes_app": disputes}


@pytest.fixture
async def gateway(services: dict[str, Any], make_gateway: GatewayFactory) -> Gateway:
    gateway = await make_gateway(service_urls={"registry": services["registry"], "disputes": services["disputes"]},
                                 rate_limit_enabled=False)
    await with_staff(gateway, OFFICER, ["dispute_officer"])
    await with_staff(gateway, REGISTRAR, ["registrar"])
    await with_staff(gateway, INSPECTOR, ["labour_inspector"])
    return gateway


@pytest.fixture
async def browsers(gateway: Gateway) -> AsyncIterator[Browsers]:
    opened: list[httpx.AsyncClient] = []
    yield open_browsers(gateway, opened)
    for client in opened:
        await client.aclose()


class Disputes:
    def __init__(self, gateway: Gateway, key: str, app: FastAPI) -> None:
        self.client, self.app = gateway.client, app
        self.headers = {"Authorization": f"Bearer {key}"}

    async def party(self, kind: str, name: str) -> str:
        party_id = uuid.uuid4()
        async with self.app.state.platform.sessionmaker() as session:
            session.add(Party(id=party_id, kind=kind, name_kk=name, name_ru=name, registry_status="registered"))
            await session.commit()
        return str(party_id)

    async def call(self, path: str, body: dict[str, Any], expected: int = 200) -> dict[str, Any]:
        answer = await self.client.post(API + path, headers=self.headers, json=body)
        assert answer.status_code == expected, (path, answer.text)
        return dict(answer.json())

    async def demands(self, union: str, employer: str, submitted_on: date, region: str, workers: int,
                      cause: str) -> str:
        dispute = await self.call("/collective-disputes", {
            "union_id": union, "employer_id": employer, "workers_concerned": workers, "cause": cause,
            "submitted_on": submitted_on.isoformat(), "region_code": region,
            "demands": [{"text": "Index pay by 15% from 1 January"}, {"text": "Pay the wage arrears for October"}]},
            201)
        return str(dispute["id"])


def working_days_before(today: date, count: int) -> date:
    calendar, day = WorkingDayCalendar(), today
    for _ in range(count):
        day = calendar.previous_working_day(day)
    return day


@pytest.fixture
async def made(gateway: Gateway, services: dict[str, Any]) -> dict[str, Any]:
    """Four disputes: an unanswered one past its answer period (Karaganda, 1,200 workers); one in conciliation far
    past its 7 working days (Karaganda, 300); one whose strike was decided at a hazardous production facility
    (Almaty, 800); one settled (Almaty, 50)."""
    _, key = await gateway.issue_key(roles=("dispute_officer",), name="ministry disputes system")
    api = Disputes(gateway, key, services["disputes_app"])
    today = kazakhstan_today()
    union = await api.party("primary_union_organisation", "Профсоюз горняков")
    employer = await api.party("employer", "АО Рудник")
    other = await api.party("employer", "ТОО Завод")

    # Four working days back: past the 3-day answer period, within the 10-day stage limit (not stalled).
    unanswered = await api.demands(union, employer, working_days_before(today, 4), KARAGANDA, 1200, "wage_arrears")

    stuck = await api.demands(union, other, today - timedelta(days=40), KARAGANDA, 300, "wages")
    await api.call(f"/collective-disputes/{stuck}/answer", {
        "answer": "rejected", "answered_on": (today - timedelta(days=39)).isoformat(), "text": "No money."})
    await api.call(f"/collective-disputes/{stuck}/conciliation", {"on": (today - timedelta(days=30)).isoformat()})

    striking = await api.demands(union, employer, today - timedelta(days=3), ALMATY, 800, "working_conditions")
    await api.call(f"/collective-disputes/{striking}/answer", {
        "answer": "rejected", "answered_on": (today - timedelta(days=2)).isoformat(), "text": "Refused."})
    await api.call(f"/collective-disputes/{striking}/conciliation", {"on": (today - timedelta(days=2)).isoformat()})
    await api.call(f"/collective-disputes/{striking}/strike-decision", {
        "on": today.isoformat(), "outcome": "The commission did not agree", "categories":
            ["hazardous_production_facility"], "sectors": [],
        "meeting": {"employees_total": 800, "present": 600, "votes_for": 500}})

    settled = await api.demands(union, other, today - timedelta(days=5), ALMATY, 50, "other")
    await api.call(f"/collective-disputes/{settled}/settlement", {"on": today.isoformat(),
                                                                  "outcome": "Agreed at the first meeting"})
    mediator = await api.call("/roster", {"name": "Данияр Нурланов", "kind": "mediator", "regions": [ALMATY],
                                          "languages": ["kk", "ru"], "specialisations": ["mining"]}, 201)
    return {"unanswered": unanswered, "stuck": stuck, "striking": striking, "settled": settled, "today": today,
            "union": union, "employer": employer, "mediator": mediator["id"], "key": key}


# --------------------------------------------------------------------------- the pages


async def test_the_list_filters_by_stage_region_and_stall_and_highlights_what_is_late(
        made: dict[str, Any], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    listed = await browser.get("/disputes")
    assert listed.status_code == 200, listed.text
    assert "4 disputes found" in text_of(listed.text)
    for late in ("unanswered", "stuck"):
        row = row_of(listed.text, made[late])
        assert re.search(r'class="overdue[ "]', row) and "overdue" in text_of(row), late
    stuck = row_of(listed.text, made["stuck"])
    assert "stalled" in stuck and "conciliation commission stalled 30" in text_of(stuck)
    assert "Karaganda" in text_of(stuck) or "Қарағанды" in text_of(stuck)
    for on_time in ("striking", "settled"):
        assert "overdue" not in row_of(listed.text, made[on_time]), on_time

    stalled = await browser.get("/disputes", params={"stalled": "true"})
    assert "1 dispute found" in text_of(stalled.text) and made["stuck"] in stalled.text
    almaty = await browser.get("/disputes", params={"region_code": ALMATY})
    assert "2 disputes found" in text_of(almaty.text)
    assert made["striking"] in almaty.text and made["unanswered"] not in almaty.text
    settled = await browser.get("/disputes", params={"status": "settled"})
    assert "1 dispute found" in text_of(settled.text) and made["settled"] in settled.text
    # The service's refusal of a filter is shown by field, never as a stack trace.
    refused = await browser.get("/disputes", params={"region_code": "Almaty"})
    assert refused.status_code == 422 and "region code: String should match pattern" in text_of(refused.text)
    assert "Traceback" not in refused.text


async def test_the_dispute_page_shows_its_timeline_deadlines_and_strike_warnings(
        made: dict[str, Any], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    stuck = await browser.get(f"/disputes/{made['stuck']}")
    assert stuck.status_code == 200, stuck.text
    assert 'id="overdue-notice"' in stuck.text and 'id="stalled-notice"' in stuck.text
    deadlines = re.search(r'id="deadlines".*?</table>', stuck.text, re.S).group(0)
    assert "The employer's written answer" in text_of(row_of(deadlines, "written answer"))
    assert "met" in text_of(row_of(deadlines, "written answer"))
    conciliation = row_of(deadlines, "consideration")
    assert "overdue" in text_of(conciliation) and "art. 165" in conciliation
    timeline = text_of(re.search(r'id="timeline".*?</table>', stuck.text, re.S).group(0))
    assert "1. demands submitted" in timeline and "2. demands rejected" in timeline
    assert "3. conciliation commission" in timeline and "continuing 30 stalled 14" in timeline

    striking = await browser.get(f"/disputes/{made['striking']}")
    page = text_of(striking.text)
    assert 'id="strike-warnings"' in striking.text and "prohibited_category (hazardous_production_facility)" in page
    assert "art. 176 p. 1" in page and "a meeting of 600 of 800 employees, 500 voting for" in page
    assert 'id="overdue-notice"' not in striking.text

    # No answer three working days on: overdue while the sweeper has not yet recorded it, missed once it has.
    unanswered = await browser.get(f"/disputes/{made['unanswered']}")
    answer = row_of(re.search(r'id="deadlines".*?</table>', unanswered.text, re.S).group(0), "written answer")
    assert re.search(r'class="deadline-(overdue|missed) overdue"', answer), answer
    assert 'id="overdue-notice"' in unanswered.text

    missing = await browser.get(f"/disputes/{uuid.uuid4()}")
    assert missing.status_code == 404 and "The disputes service refused" in missing.text


async def test_statistics_and_the_social_tension_panel(made: dict[str, Any], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    statistics = await browser.get("/disputes/statistics")
    assert statistics.status_code == 200, statistics.text
    assert re.search(r'id="statistics-disputes">4<', statistics.text)
    assert re.search(r'id="statistics-open">3<', statistics.text)
    for chart in ("Collective disputes by region", "Collective disputes by cause", "Collective disputes by stage"):
        assert f">{chart}</title>" in statistics.text, chart
    assert "wage arrears: 1" in statistics.text  # a chart's description spells out every value

    home = await browser.get("/")
    panel = re.search(r'id="social-tension".*?</section>', home.text, re.S).group(0)
    assert "Open collective disputes on" in text_of(panel) and ": 3." in text_of(panel)
    rows = re.findall(r"<tr><th scope=\"row\">([^<]+)</th><td>(\d+)</td><td>([\d,]+)</td>", panel)
    # Karaganda: 1,200 + 300 workers in two disputes, past the answer and in conciliation; Almaty: the strike.
    assert {(name.strip(), int(count), workers) for name, count, workers in rows} == {
        ("Karaganda Region", 2, "1,500"), ("Almaty", 1, "800")}, rows
    assert '<title id="social-tension-title">Social tension by region</title>' in panel
    assert "How the index is computed:" in text_of(panel)


async def test_every_page_in_each_language(made: dict[str, Any], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    words = {"kk": ("Даулар", "мерзімі өтіп кетті", "Өңірлер бойынша әлеуметтік шиеленіс", "Хронология"),
             "ru": ("Споры", "просрочено", "Социальная напряжённость по регионам", "Хронология"),
             "en": ("Disputes", "overdue", "Social tension by region", "Timeline")}
    for language, (heading, overdue, tension, timeline) in words.items():
        await browser.get(f"/language/{language}")
        listed = await browser.get("/disputes")
        assert f'<html lang="{language}">' in listed.text and f"<h1>{heading}</h1>" in listed.text
        assert overdue in row_of(listed.text, made["stuck"])
        dispute = await browser.get(f"/disputes/{made['stuck']}")
        assert dispute.status_code == 200 and timeline in dispute.text
        assert tension in (await browser.get("/")).text and tension in (await browser.get("/disputes/statistics")).text
        for path in ("/disputes/complaints", "/disputes/complaints/new", "/disputes/roster", "/disputes/individual"):
            page = await browser.get(path)
            assert page.status_code == 200 and f'<html lang="{language}">' in page.text, (language, path)
    await browser.get("/language/ru")
    assert "<h1>Медиаторы и арбитры</h1>" in (await browser.get("/disputes/roster")).text


async def test_only_dispute_readers_see_the_pages_and_the_panel(made: dict[str, Any], browsers: Browsers) -> None:
    registrar = browsers()
    await sign_in(registrar, REGISTRAR)
    for path in ("/disputes", "/disputes/statistics", f"/disputes/{made['stuck']}"):
        assert (await registrar.get(path)).status_code == 403, path
    assert 'id="social-tension"' not in (await registrar.get("/")).text


def hidden_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:300]
    return match.group(1)


async def test_a_complaint_taken_in_and_handled_with_the_complainant_shielded(
        gateway: Gateway, made: dict[str, Any], browsers: Browsers) -> None:
    officer = browsers()
    await sign_in(officer, OFFICER)
    form = await officer.get("/disputes/complaints/new")
    assert form.status_code == 200, form.text
    token = hidden_token(form.text)
    entered = {"csrf_token": token, "category": "dismissal_of_union_leader", "employer_id": str(uuid.uuid4()),
               "union_id": made["union"], "name": CANARY, "contact": "+7 701 000 00 00", "position": "Union chair",
               "description": "Dismissed a week after being elected chair of the union.", "received_on": ""}
    # An employer the service does not know: the form comes back as filled, with the reason, and nothing is made.
    refused = await officer.post("/disputes/complaints/new", data=entered)
    assert refused.status_code == 422 and 'id="form-errors"' in refused.text
    assert "employer id:" in text_of(refused.text) and f'value="{CANARY}"' in refused.text
    assert (await officer.post("/disputes/complaints/new", data={**entered, "csrf_token": "forged"})).status_code == 403
    listed = await gateway.client.get(f"{API}/complaints", headers={"Authorization": f"Bearer {made['key']}"})
    assert listed.json()["total"] == 0

    taken = await officer.post("/disputes/complaints/new", data={**entered, "employer_id": made["employer"]})
    assert taken.status_code == 303, taken.text
    url = taken.headers["location"]
    # A dispute officer sees that a complaint concerns the employer, never who made it.
    shielded = await officer.get(url)
    assert shielded.status_code == 200 and 'id="shielded-notice"' in shielded.text
    assert CANARY not in shielded.text and "Union chair" not in shielded.text
    assert 'action="' + url not in shielded.text  # no handling forms for a dispute officer
    complaints = await officer.get("/disputes/complaints")
    assert "1 complaint" in text_of(complaints.text) and CANARY not in complaints.text
    assert (await officer.post(f"{url}/inspection", data={"csrf_token": token, "inspector": "A. Inspector"})
            ).status_code == 403

    inspector = browsers()
    await sign_in(inspector, INSPECTOR)
    full = await inspector.get(url)
    assert full.status_code == 200 and CANARY in text_of(full.text) and "Union chair" in full.text
    assert "Dismissal of a union leader or activist" in text_of(full.text)
    token = hidden_token(full.text)
    assert (await inspector.post(f"{url}/findings", data={"csrf_token": token, "outcome": "upheld",
                                                          "findings": "x"})).status_code == 409
    for step, data in (("inspection", {"inspector": "Асель Жумабекова"}),
                       ("findings", {"outcome": "upheld", "findings": "The dismissal was for union activity."}),
                       ("closure", {"reason": "The chair was reinstated."})):
        moved = await inspector.post(f"{url}/{step}", data={"csrf_token": token, **data})
        assert moved.status_code == 303, (step, moved.text)
    closed = await inspector.get(url)
    page = text_of(closed.text)
    assert "Status closed" in page and "upheld" in page and "The dismissal was for union activity." in page
    log = text_of(re.search(r'id="access-log".*?</table>', closed.text, re.S).group(0))
    assert log.count("read") >= 2  # every full read is audited by the service
    # The findings reach the shielded view; the name still does not.
    after = await officer.get(url)
    assert "The dismissal was for union activity." in after.text and CANARY not in after.text


async def test_the_roster_and_a_dispute_s_assignment(gateway: Gateway, made: dict[str, Any],
                                                    browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    roster = await browser.get("/disputes/roster")
    assert roster.status_code == 200, roster.text
    row = text_of(row_of(roster.text, "Данияр Нурланов"))
    assert "mediator" in row and "mining" in row and "Almaty" in row and "kk, ru" in row and "yes" in row
    assert "0 people on the roster" in text_of((await browser.get("/disputes/roster",
                                                                   params={"kind": "arbitrator"})).text)
    assigned = await gateway.client.post(f"{API}/collective-disputes/{made['striking']}/assignments",
                                         headers={"Authorization": f"Bearer {made['key']}"},
                                         json={"kind": "mediator", "member_id": made["mediator"]})
    assert assigned.status_code == 201, assigned.text
    dispute = text_of((await browser.get(f"/disputes/{made['striking']}")).text)
    assert "Данияр Нурланов — mediator, assigned on" in dispute and "written consent not yet recorded" in dispute


async def test_individual_disputes_with_their_periods(gateway: Gateway, made: dict[str, Any],
                                                     browsers: Browsers) -> None:
    today = made["today"]
    filed = await gateway.client.post(f"{API}/individual-disputes", headers={"Authorization": f"Bearer {made['key']}"},
                                      json={"employer_id": made["employer"], "union_id": made["union"],
                                            "employee_name": "Айгерим Сапарова", "subject": "pay",
                                            "claim": "Pay the overtime of October",
                                            "violation_known_on": (today - timedelta(days=40)).isoformat(),
                                            "filed_on": (today - timedelta(days=30)).isoformat()})
    assert filed.status_code == 201, filed.text
    browser = browsers()
    await sign_in(browser, OFFICER)
    listed = await browser.get("/disputes/individual")
    assert listed.status_code == 200, listed.text
    row = row_of(listed.text, "Айгерим Сапарова")
    # Thirty days on, more than 15 working days: the commission's decision is late.
    assert 'class="overdue"' in row and "Pay, wage arrears and other payments" in text_of(row)
    page = await browser.get(f"/disputes/individual/{filed.json()['id']}")
    assert page.status_code == 200, page.text
    decision = row_of(re.search(r'id="periods".*?</table>', page.text, re.S).group(0), "decision")
    assert "overdue" in text_of(decision) and "art. 159" in decision
    assert "in time: the last day was" in text_of(page.text)


# --------------------------------------------------------------------------- when the services are away


def stub(tension: Any, unread: Any) -> FastAPI:
    """A stand-in for the disputes and notifications services: fixed answers, whoever asks."""
    app = FastAPI()

    @app.get("/statistics/social-tension")
    async def social_tension() -> Any:
        return tension

    @app.get("/inbox/unread-count")
    async def unread_count(request: Request) -> Any:
        return JSONResponse(unread) if request.headers.get("x-ntc-identity") else JSONResponse({}, status_code=401)

    return app


async def test_the_panel_and_the_header_count_from_answers_as_promised(make_gateway: GatewayFactory) -> None:
    tension = {"as_of": "2026-11-27", "method": "Open disputes weighted by stage and workers.", "total_open": 4,
               "regions": [{"region_code": "75", "open_disputes": 3, "workers_involved": 1200, "index": 41.5,
                            "by_stage": {"conciliation": 1, "strike": 2}},
                           {"region_code": "unknown", "open_disputes": 1, "workers_involved": 10, "index": 1.0,
                            "by_stage": {"demands_submitted": 1}}]}
    async with serving(stub(tension, {"unread": 3})) as url:
        gateway = await make_gateway(service_urls={"disputes": url, "notifications": url})
        await with_staff(gateway, OFFICER, ["dispute_officer"])
        opened: list[httpx.AsyncClient] = []
        browser = open_browsers(gateway, opened)()
        try:
            await sign_in(browser, OFFICER)
            home = await browser.get("/")
            panel = text_of(re.search(r'id="social-tension".*?</section>', home.text, re.S).group(0))
            assert "75 3 1,200 41.5 conciliation commission: 1; strike: 2" in panel
            assert "not recorded 1 10 1 demands submitted: 1" in panel
            assert re.search(r'<a href="/notifications" id="inbox-unread">3 unread messages</a>', home.text)
            await browser.get("/language/ru")
            assert "3 непрочитанных сообщения" in (await browser.get("/disputes/statistics")).text
        finally:
            await browser.aclose()


async def test_a_disputes_service_that_is_down_or_not_ready_leaves_the_dashboard_working(
        make_gateway: GatewayFactory, down_url: str, tmp_path: Path) -> None:
    async with serving(stub({"regions": "not a list"}, {"unread": "many"})) as url:
        for number, (disputes_url, notifications_url) in enumerate(((down_url, down_url), (url, url))):
            gateway = await make_gateway(service_urls={"disputes": disputes_url, "notifications": notifications_url},
                                         database_url=f"sqlite+aiosqlite:///{tmp_path}/gateway-{number}.db")
            await with_staff(gateway, OFFICER, ["dispute_officer"])
            opened: list[httpx.AsyncClient] = []
            browser = open_browsers(gateway, opened)()
            try:
                await sign_in(browser, OFFICER)
                home = await browser.get("/")
                assert home.status_code == 200 and 'id="tension-notice"' in home.text
                assert 'id="inbox-unread"' not in home.text and 'id="services"' in home.text
                if disputes_url == down_url:
                    for path in ("/disputes", "/disputes/statistics", f"/disputes/{uuid.uuid4()}"):
                        page = await browser.get(path)
                        assert page.status_code == 503, path
                        assert "The disputes service is unavailable" in page.text and "Traceback" not in page.text
            finally:
                await browser.aclose()


def test_a_draft_from_bargaining_shows_the_open_clauses_and_each_side_s_position() -> None:
    """A draft opened from a protocol of disagreements (the service's view of it, as its API gives it)."""
    from gateway import i18n
    from gateway.portal import disputes
    from gateway.portal.routes import SECTIONS, TEMPLATES

    negotiation = uuid.uuid4()
    draft = {"id": str(uuid.uuid4()), "status": "draft", "workers_name": "Профсоюз", "employer_name": "АО Завод",
             "union_id": None, "employer_id": str(uuid.uuid4()), "workers_concerned": None,
             "submitted_on": "2026-11-20", "answer_due": None, "stages": [],
             "demands": [{"number": 1, "text": "Working week: 36 hours"}],
             "from_bargaining": {"negotiation_id": str(negotiation), "protocol_id": str(uuid.uuid4()),
                                 "signed_on": "2026-11-20", "clauses": [{
                                     "clause_id": str(uuid.uuid4()), "number": 2, "category": "working_time",
                                     "title": "Working week", "positions": [
                                         {"side": "workers", "text": "36 hours"},
                                         {"side": "employers", "text": "40 hours"}]}]}}
    today = date(2026, 11, 27)
    html = TEMPLATES.get_template("disputes_dispute.html").render(
        lang="en", languages=tuple(i18n.LANGUAGE_NAMES.items()), sections=SECTIONS, here="/", user=None,
        current=None, csrf_token=None, inbox_unread=None, status_labels=disputes.STATUS_LABELS,
        cause_labels=disputes.CAUSE_LABELS, answer_labels=disputes.ANSWER_LABELS,
        deadline_labels=disputes.DEADLINE_LABELS, deadline_states=disputes.DEADLINE_STATES, dispute=draft,
        today=today, deadlines=disputes.deadlines(draft, today), decision=None, warnings=[], is_overdue=False,
        is_stalled=False, regions={}, kind_labels=disputes.ROSTER_KIND_LABELS, side_labels=disputes.SIDE_LABELS,
        assignments=[])
    page = text_of(html)
    assert "Stage draft" in page and disputes.deadlines(draft, today) == []  # no answer period until put forward
    assert "The clauses left open in bargaining 2. Working week Workers 36 hours Employers 40 hours" in page
    assert f'href="/bargaining/negotiations/{negotiation}"' in html
