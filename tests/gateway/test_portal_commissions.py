"""The portal's Commissions pages, as a bargaining officer meets them, against the real bargaining service.

The bargaining service runs in this process under uvicorn (its own database — SQLite and PostgreSQL — a real
nats-server, and its deadline sweeper every 0.1 s) behind an in-process gateway, which the pages call over HTTP as
the signed-in staff member. The four social partners are put in the service's registry projection directly (in
production they arrive as registry events); the rest is made through the gateway's API: the demo commission and
General Agreement (`deploy.embedded.demo_commissions`, the same code the embedded demo loads), and a consultation
whose period ran out with the unions' position missing.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from deploy.embedded.demo_commissions import COMMISSION_NAME, GENERAL_AGREEMENT, load_commissions_demo
from kernel.calendar import KAZAKHSTAN, kazakhstan_today
from services.bargaining.app import definition
from services.bargaining.settings import BargainingSettings
from tests.gateway.support import Gateway, GatewayFactory
from tests.gateway.test_portal_bargaining import (
    KARAGANDA,
    OFFICER,
    REGISTRAR,
    Bargaining,
    Browsers,
    open_browsers,
    row_of,
    serving,
    sign_in,
    text_of,
    with_staff,
)
from tests.support.services import Clock, settings_for, with_clock

API = "/api/v1/bargaining"
PARTNERS = {"ministry-of-labour": ("government_body", "Министерство труда"),
            "atameken": ("republican_employer_association", "НПП Атамекен"),
            "paryz": ("republican_employer_association", "КРЕ Paryz"),
            "fprk": ("republican_union_association", "ФПРК")}
WORKERS_COMMITMENT = "Train 1,000 occupational safety representatives"
LATE_COMMITMENT = "Create 50,000 jobs for young people"
OVERDUE_DRAFT = "Draft rules on remote work"


class SyncGateway:
    """The gateway's in-process API client seen from a worker thread as the blocking client the demo loader
    expects: each call runs on the test's event loop, where the gateway and the service live."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client, self.loop = client, loop

    def _call(self, method: str, url: str, **options: Any) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(self.client.request(method, url, **options), self.loop).result(60)

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self._call("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self._call("POST", url, **options)

    def put(self, url: str, **options: Any) -> httpx.Response:
        return self._call("PUT", url, **options)


@pytest.fixture
def clock() -> Clock:
    """The deadline sweeper's now: two months back while the data is made (so no period is seen to run out half
    way through, flagging a party whose position is filed a moment later), then today."""
    return Clock(datetime.now(KAZAKHSTAN) - timedelta(days=60))


@pytest.fixture
async def bargaining(make_database, nats_server, public_key: str, clock: Clock) -> AsyncIterator[tuple[str, FastAPI]]:
    settings = settings_for(BargainingSettings, database_url=await make_database("bargaining"),
                            nats_url=nats_server.url, public_key=public_key, deadline_sweep_seconds=0.1)
    app = with_clock(definition(settings), clock)
    async with serving(app) as url:
        yield url, app


@pytest.fixture
async def gateway(bargaining: tuple[str, FastAPI], make_gateway: GatewayFactory) -> Gateway:
    gateway = await make_gateway(service_urls={"bargaining": bargaining[0]}, rate_limit_enabled=False)
    await with_staff(gateway, OFFICER, ["bargaining_officer"])
    await with_staff(gateway, REGISTRAR, ["registrar"])
    return gateway


@pytest.fixture
async def browsers(gateway: Gateway) -> AsyncIterator[Browsers]:
    opened: list[httpx.AsyncClient] = []
    yield open_browsers(gateway, opened)
    for client in opened:
        await client.aclose()


async def _until(check: Any, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the deadline sweeper never got there"
        await asyncio.sleep(0.1)


@pytest.fixture
async def made(gateway: Gateway, bargaining: tuple[str, FastAPI], clock: Clock) -> dict[str, Any]:
    _, key = await gateway.issue_key(roles=("administrator",), name="ministry secretariat")
    api = Bargaining(gateway, key, bargaining[1])
    organisations = {}
    for slug, (kind, name) in PARTNERS.items():
        organisations[slug] = await api.party(kind, name)
    await asyncio.to_thread(load_commissions_demo, SyncGateway(gateway.client, asyncio.get_running_loop()), key,
                            organisations, lambda _: None)
    commission = (await api.call("GET", "/commissions")).json()["items"][0]
    assert commission["name"] == COMMISSION_NAME
    sittings = (await api.call("GET", f"/commissions/{commission['id']}/sittings")).json()
    # A draft put forward thirty days ago for positions within 10 working days: two parties answered in time.
    opened_on = kazakhstan_today() - timedelta(days=30)
    consultation = (await api.call("POST", f"/commissions/{commission['id']}/consultations", 201, json={
        "side": "government", "title": OVERDUE_DRAFT, "opened_on": opened_on.isoformat(), "working_days": 10,
        "documents": [{"title": "Draft rules", "reference": "MLSP-REMOTE-1"}]})).json()
    for side, stance, text in (("government", "support", "The Government stands by its draft."),
                               ("employers", "oppose", "Remote work needs no new rules.")):
        await api.call("POST", f"/commissions/{commission['id']}/consultations/{consultation['id']}/positions", 201,
                       json={"side": side, "position": stance, "text": text,
                             "filed_on": (opened_on + timedelta(days=2)).isoformat()})
    agreement = next(item for item in (await api.call("GET", "/negotiations", params={"level": "general"})).json()[
        "items"] if item["subject_matter"] == GENERAL_AGREEMENT)

    clock.now = datetime.now(KAZAKHSTAN)

    async def swept() -> bool:  # the overdue position flagged, the commitment past due without a report late
        url = f"/commissions/{commission['id']}/consultations/{consultation['id']}"
        positions = (await api.call("GET", url)).json()["positions"]
        late = (await api.call("GET", "/commitments", params={"status": "late"})).json()["items"]
        return any(p["overdue"] for p in positions) and any(c["what"] == LATE_COMMITMENT for c in late)

    await _until(swept)
    return {"api": api, "gateway": gateway, "commission": commission["id"], "held": sittings[0]["id"],
            "ahead": sittings[1]["id"], "consultation": consultation["id"], "agreement": agreement["id"],
            **organisations}


# --------------------------------------------------------------------------- tests


async def test_the_commission_page_shows_parties_sittings_consultations_and_notices(
        made: dict[str, Any], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    listed = await browser.get("/commissions")
    assert listed.status_code == 200, listed.text
    assert "1 commission found" in text_of(listed.text)
    assert "Workers: ФПРК; Employers: КРЕ Paryz, НПП Атамекен; Government: Министерство труда" in text_of(
        row_of(listed.text, made["commission"]))
    assert "0 commissions found" in text_of((await browser.get("/commissions", params={"level": "regional"})).text)

    page = await browser.get(f"/commissions/{made['commission']}")
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    assert "Ministry of Labour and Social Protection of the Population" in text  # the secretariat
    assert re.search(r'id="member-limit">at most \d+', page.text)
    assert "O. Tulegenova Head of Occupational Safety Department alternate" in text
    assert "L. Abenova Chair of the Federation member" in text
    upcoming = text_of(re.search(r'id="sittings-upcoming".*?</table>', page.text, re.S).group(0))
    past = text_of(re.search(r'id="sittings-past".*?</table>', page.text, re.S).group(0))
    assert "Sitting No. 2" in upcoming and "remote" in upcoming and "Sitting No. 1" not in upcoming
    assert "Sitting No. 1" in past and "minutes published" in past
    assert "The commission supports raising the minimum wage to 85,000 tenge. (adopted)" in past
    assert "(not adopted)" in past
    overdue = row_of(page.text, OVERDUE_DRAFT)
    assert 'class="overdue"' in overdue
    assert "Workers: none filed overdue" in text_of(overdue) and "Employers: opposes;" in text_of(overdue)
    platform = row_of(page.text, "platform employment")
    assert "overdue" not in platform and "Employers: supports with amendments" in text_of(platform)
    assert "Plan of work of the commission for next year" in text
    unread = re.search(r"Not read by: ([^.]*?) Sittings|Not read by: (.*)$", text)
    assert "Read by: nobody yet" in text and unread
    assert all(name in unread.group(0) for name in ("ФПРК", "НПП Атамекен", "КРЕ Paryz", "Министерство труда"))

    # A party reads the notice: its receipt appears, and it leaves the unread list.
    notice = (await made["api"].call("GET", f"/commissions/{made['commission']}/notices")).json()[0]
    _, union_key = await made["gateway"].issue_key(roles=("union",), organisation_id=uuid.UUID(made["fprk"]))
    read = await made["api"].client.post(f"{API}/commissions/{made['commission']}/notices/{notice['id']}/receipt",
                                         headers={"Authorization": f"Bearer {union_key}"})
    assert read.status_code == 200, read.text
    text = text_of((await browser.get(f"/commissions/{made['commission']}")).text)
    assert "Read by: ФПРК (" in text and "ФПРК" not in text[text.index("Not read by:"):]

    missing = await browser.get(f"/commissions/{uuid.uuid4()}")
    assert missing.status_code == 404 and "The bargaining service refused" in missing.text


async def test_the_sitting_page_shows_agenda_quorum_decisions_and_minutes(
        made: dict[str, Any], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    page = await browser.get(f"/commissions/{made['commission']}/sittings/{made['held']}")
    assert page.status_code == 200, page.text
    agenda = text_of(re.search(r'id="agenda".*?</table>', page.text, re.S).group(0))
    assert "The minimum wage for next year Government The minimum wage for next year (RTC-GOV-1)" in agenda
    assert "Reducing reporting by employers on labour matters Employers" in agenda
    quorum = re.search(r'id="quorum".*?</table>', page.text, re.S).group(0)
    assert "Every party had its quorum." in text_of(page.text) and "not met" not in quorum
    assert "Workers 3 3" in text_of(quorum) and "Government 3 3" in text_of(quorum)
    decision = text_of(re.search(r'id="decision-2".*?</article>', page.text, re.S).group(0))
    assert "Decision No. 2 — agenda item 2: not adopted" in decision
    assert "Workers against Wage arrears would no longer be visible during the year." in decision
    assert "Government abstains" in decision and "Employers for" in decision
    first = text_of(re.search(r'id="decision-1".*?</article>', page.text, re.S).group(0))
    assert "Employers for, with reservations Small businesses need a transition period of six months." in first
    assert "Minutes of the sitting: three items considered" in page.text and "RTC-MIN-1" in page.text

    ahead = text_of((await browser.get(f"/commissions/{made['commission']}/sittings/{made['ahead']}")).text)
    assert "Attendance is recorded at the sitting." in ahead and "The minutes are not published yet." in ahead
    assert "Draft amendments to the Labour Code on platform employment Government" in ahead
    elsewhere = await browser.get(f"/commissions/{made['commission']}/sittings/{uuid.uuid4()}")
    assert elsewhere.status_code == 404


async def test_a_consultation_shows_the_positions_side_by_side_with_the_overdue_one_flagged(
        made: dict[str, Any], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    page = await browser.get(f"/commissions/{made['commission']}/consultations/{made['consultation']}")
    assert page.status_code == 200, page.text
    columns = {side: re.search(rf'<section class="board-column[^"]*" id="position-{side}".*?</section>', page.text,
                               re.S).group(0) for side in ("workers", "employers", "government")}
    assert 'class="board-column overdue"' in columns["workers"]
    assert "No position filed." in text_of(columns["workers"])
    assert "Overdue: the period for positions ended on" in text_of(columns["workers"])
    assert "overdue" not in columns["employers"] and "overdue" not in columns["government"]
    assert "opposes" in text_of(columns["employers"]) and "Remote work needs no new rules." in columns["employers"]
    assert "supports" in text_of(columns["government"]) and "filed late" not in columns["government"]
    assert "10 working days" in text_of(page.text)
    # The positions stand in the order workers, employers, government.
    assert page.text.index('id="position-workers"') < page.text.index('id="position-employers"') < page.text.index(
        'id="position-government"')


async def test_the_commitments_board_filters_by_party_and_highlights_late_ones(
        made: dict[str, Any], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    board = await browser.get("/commitments")
    assert board.status_code == 200, board.text
    assert "6 commitments found" in text_of(board.text)
    assert re.search(r"on track: <strong>2</strong> · late: <strong>1</strong> · done: <strong>2</strong> · "
                     r"not done: <strong>1</strong>", board.text), text_of(board.text)
    late = row_of(board.text, LATE_COMMITMENT)
    assert 'class="overdue"' in late and "late since" in text_of(late)
    assert "overdue" not in row_of(board.text, WORKERS_COMMITMENT)
    assert "overdue" not in row_of(board.text, "Raise the minimum wage to 85,000 tenge")
    # The party filter offers the commission's organisations by name.
    assert f'<option value="{made["fprk"]}">ФПРК</option>' in board.text

    unions = await browser.get("/commitments", params={"organisation_id": made["fprk"]})
    assert "1 commitment found" in text_of(unions.text)
    assert WORKERS_COMMITMENT in unions.text and LATE_COMMITMENT not in unions.text
    assert f'<option value="{made["fprk"]}" selected>ФПРК</option>' in unions.text
    employers = await browser.get("/commitments", params={"organisation_id": made["atameken"]})
    assert "2 commitments found" in text_of(employers.text) and LATE_COMMITMENT in employers.text
    assert WORKERS_COMMITMENT not in employers.text
    government_late = await browser.get("/commitments", params={"organisation_id": made["ministry-of-labour"],
                                                                "status": "not_done"})
    assert "1 commitment found" in text_of(government_late.text)
    assert "Adopt the law on compulsory insurance" in government_late.text
    by_agreement = await browser.get("/commitments", params={"agreement_id": made["agreement"], "level": "general"})
    assert "6 commitments found" in text_of(by_agreement.text)
    assert "0 commitments found" in text_of((await browser.get("/commitments", params={"level": "sectoral"})).text)
    nonsense = await browser.get("/commitments", params={"organisation_id": "<b>", "status": "galactic"})
    assert nonsense.status_code == 200 and "6 commitments found" in text_of(nonsense.text)

    # An enterprise agreement in force in the Karaganda region (sector 24) with one commitment of its employer: the
    # employer is offered as a party too, and the region and sector filters find its commitment alone.
    api: Bargaining = made["api"]
    union = await api.party("primary_union_organisation", "Профсоюз металлургов")
    employer = await api.party("employer", "АО Сталь")
    enterprise = await api.propose("Коллективный договор металлургов", union, employer, kazakhstan_today())
    await api.negotiating(enterprise, union, employer)
    await api.agreed_clause(enterprise, "occupational_safety", "Protective equipment", "The employer provides it.")
    await api.sign_and_file(enterprise, kazakhstan_today() - timedelta(days=10), 3000, "24")
    await api.call("POST", f"/agreements/{enterprise}/commitments", 201, json={
        "what": "Replace the smelter's ventilation", "responsible_side": "employers", "indicator": "Ventilation",
        "due_on": (kazakhstan_today() + timedelta(days=90)).isoformat()})
    steel = await browser.get("/commitments", params={"organisation_id": employer})
    assert f'<option value="{employer}" selected>АО Сталь</option>' in steel.text
    assert "1 commitment found" in text_of(steel.text) and "Replace the smelter's ventilation" in text_of(steel.text)
    for name, value in (("region_code", KARAGANDA), ("sector", "24")):
        found = await browser.get("/commitments", params={name: value})
        assert "1 commitment found" in text_of(found.text), name
        assert f'<option value="{value}" selected>' in found.text, name
    assert "7 commitments found" in text_of((await browser.get("/commitments")).text)

    link = re.search(r'href="(/commitments/[0-9a-f-]{36})">Publish the yearly report', board.text)
    assert link
    detail = await browser.get(link.group(1))
    assert detail.status_code == 200, detail.text
    text = text_of(detail.text)
    assert "The report was published after its due date." in text and "Report on wage arrears (" in text
    assert "done" in text_of(re.search(r'id="commitment-status".*?</dd>', detail.text, re.S).group(0))
    late_link = re.search(r'href="(/commitments/[0-9a-f-]{36})">' + LATE_COMMITMENT, board.text)
    late_page = await browser.get(late_link.group(1))
    assert re.search(r'id="commitment-status" class="overdue"', late_page.text)
    assert "31,400 jobs created so far." in late_page.text
    assert (await browser.get(f"/commitments/{uuid.uuid4()}")).status_code == 404


async def test_the_dashboard_shows_the_share_of_commitments_fulfilled(
        made: dict[str, Any], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    dashboard = await browser.get("/")
    assert dashboard.status_code == 200
    # Done 2 of the 4 owed (2 done, 1 late, 1 not done); 2 of all 6 done.
    assert re.search(r'id="figure-fulfilled">50.0 %<', dashboard.text), text_of(dashboard.text)
    assert re.search(r'id="figure-done-of-all">33.3 %<', dashboard.text)
    assert '<title id="commitments-fulfilled-title">Share of commitments fulfilled, per agreement</title>' in (
        dashboard.text)

    # The late commitment is reported done: the share rises to three of four.
    late = (await made["api"].call("GET", "/commitments", params={"status": "late"})).json()["items"][0]
    await made["api"].call("POST", f"/commitments/{late['id']}/reports", 201,
                           json={"outcome": "done", "progress": "50,200 jobs created.",
                                 "evidence": [{"title": "Employment centres' statistics", "reference": "EC-2026"}]})
    assert re.search(r'id="figure-fulfilled">75.0 %<', (await browser.get("/")).text)

    registrar = browsers()
    await sign_in(registrar, REGISTRAR)
    assert 'id="commitments-fulfilled"' not in (await registrar.get("/")).text


async def test_the_pages_in_each_language(made: dict[str, Any], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    labels = {"kk": ("Комиссиялар", "Міндеттемелер тақтасы", "мерзімі өтіп кетті", "Жұмыскерлер"),
              "ru": ("Комиссии", "Доска обязательств", "просрочено", "Работники"),
              "en": ("Commissions", "Commitments board", "overdue", "Workers")}
    for language, (commissions, board, overdue, workers) in labels.items():
        await browser.get(f"/language/{language}")
        listed = await browser.get("/commissions")
        assert listed.status_code == 200 and f'<html lang="{language}">' in listed.text
        assert f"<h1>{commissions}</h1>" in listed.text
        page = await browser.get(f"/commissions/{made['commission']}")
        assert overdue in row_of(page.text, OVERDUE_DRAFT)
        consultation = await browser.get(f"/commissions/{made['commission']}/consultations/{made['consultation']}")
        assert f'<h3 id="position-workers-heading">{workers}</h3>' in consultation.text
        commitments = await browser.get("/commitments")
        assert f"<h1>{board}</h1>" in commitments.text
        sitting = await browser.get(f"/commissions/{made['commission']}/sittings/{made['held']}")
        assert sitting.status_code == 200 and f'<html lang="{language}">' in sitting.text
        assert "Sitting No." not in sitting.text if language != "en" else "Sitting No. 1" in sitting.text
        dashboard = await browser.get("/")
        assert 'id="figure-fulfilled">' in dashboard.text


async def test_only_bargaining_readers_open_the_pages(made: dict[str, Any], browsers: Browsers) -> None:
    anonymous = browsers()
    assert (await anonymous.get("/commitments")).headers["location"] == "/sign-in"
    registrar = browsers()
    await sign_in(registrar, REGISTRAR)
    for path in ("/commissions", f"/commissions/{made['commission']}", "/commitments",
                 f"/commissions/{made['commission']}/consultations/{made['consultation']}"):
        assert (await registrar.get(path)).status_code == 403, path


async def test_a_bargaining_service_that_is_down_is_told_plainly(make_gateway: GatewayFactory, down_url: str) -> None:
    gateway = await make_gateway(service_urls={"bargaining": down_url})
    await with_staff(gateway, OFFICER, ["bargaining_officer"])
    opened: list[httpx.AsyncClient] = []
    browser = open_browsers(gateway, opened)()
    try:
        await sign_in(browser, OFFICER)
        some = uuid.uuid4()
        for path in ("/commissions", f"/commissions/{some}", f"/commissions/{some}/sittings/{some}",
                     f"/commissions/{some}/consultations/{some}", "/commitments", f"/commitments/{some}"):
            page = await browser.get(path)
            assert page.status_code == 503, path
            assert "The bargaining service is unavailable" in page.text and "Traceback" not in page.text
        dashboard = await browser.get("/")
        assert dashboard.status_code == 200 and 'id="commitments-notice"' in dashboard.text
    finally:
        await browser.aclose()
