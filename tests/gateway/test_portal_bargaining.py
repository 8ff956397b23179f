"""The portal's Bargaining pages, as a bargaining officer meets them, against the real bargaining service.

The bargaining service runs in this process under uvicorn on a loopback port (its own database — SQLite and
PostgreSQL — and a real nats-server) behind an in-process gateway, which the pages call over HTTP as the signed-in
staff member. The parties are put in the service's registry projection directly (in production they arrive as
registry events); everything else is made through the gateway's API with a bargaining officer's key.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from html import unescape
from typing import Any

import httpx
import pytest
import uvicorn
from dateutil.relativedelta import relativedelta
from fastapi import FastAPI

from gateway.staff import service as staff
from kernel.calendar import kazakhstan_today
from services.bargaining.app import create_app
from services.bargaining.parties.models import Party
from services.bargaining.settings import BargainingSettings
from tests.gateway.support import Gateway, GatewayFactory, free_port
from tests.support.services import settings_for

API = "/api/v1/bargaining"
PASSWORD = "a password for the bargaining pages"
OFFICER = "officer@ntc.example"
REGISTRAR = "registrar@ntc.example"
KARAGANDA = "350000000"
Browsers = Callable[[], httpx.AsyncClient]


# --------------------------------------------------------------------------- shared with test_portal_disputes


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """``app`` under uvicorn on a free loopback port, in this event loop (so the test can reach its database
    through the app's own sessionmaker); its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                                           access_log=False, lifespan="on", timeout_graceful_shutdown=2))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            raise RuntimeError("the service did not start") from task.exception()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        await task


def text_of(html: str) -> str:
    """The page's text, tags dropped and whitespace collapsed, for assertions on what a person reads."""
    return re.sub(r"\s+([:;,.)])", r"\1", re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))))


def row_of(html: str, marker: str) -> str:
    """The table row (``<tr ...>...</tr>``) that holds ``marker``."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S):
        if marker in row:
            return str(row)
    raise AssertionError(f"no row holds {marker!r}")


async def with_staff(gateway: Gateway, email: str, roles: list[str]) -> None:
    async with gateway.state.sessionmaker() as session:
        await staff.create_staff_account(session, email=email, display_name=email.split("@")[0].title(),
                                         roles=roles, password=PASSWORD)
        await session.commit()


def open_browsers(gateway: Gateway, opened: list[httpx.AsyncClient]) -> Browsers:
    def open_browser() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.asgi_app, client=("203.0.113.9", 50005)),
                                   base_url="https://gateway.test", timeout=30, headers={"Accept-Language": "en"})
        opened.append(client)
        return client

    return open_browser


async def sign_in(browser: httpx.AsyncClient, email: str) -> None:
    form = await browser.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text[:300]
    signed = await browser.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert signed.status_code == 303, signed.text


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
async def bargaining(make_database, nats_server, public_key: str) -> AsyncIterator[tuple[str, FastAPI]]:
    settings = settings_for(BargainingSettings, database_url=await make_database("bargaining"),
                            nats_url=nats_server.url, public_key=public_key)
    app = create_app(settings)
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


class Bargaining:
    """Negotiations made through the gateway's API with a bargaining officer's key."""

    def __init__(self, gateway: Gateway, key: str, app: FastAPI) -> None:
        self.client, self.app = gateway.client, app
        self.headers = {"Authorization": f"Bearer {key}"}

    async def party(self, kind: str, name: str) -> str:
        party_id = uuid.uuid4()
        async with self.app.state.platform.sessionmaker() as session:
            session.add(Party(id=party_id, kind=kind, name_kk=name, name_ru=name, registry_status="registered",
                              region_code=KARAGANDA))
            await session.commit()
        return str(party_id)

    async def call(self, method: str, path: str, expected: int = 200, **options: Any) -> httpx.Response:
        options["headers"] = {**self.headers, **options.get("headers", {})}
        answer = await self.client.request(method, API + path, **options)
        assert answer.status_code == expected, (path, answer.text)
        return answer

    async def propose(self, subject: str, union: str, employer: str, proposed_on: date) -> str:
        answer = await self.call("POST", "/negotiations", 201, json={
            "level": "enterprise", "subject_matter": subject, "initiator_id": union,
            "proposed_on": proposed_on.isoformat(),
            "parties": [{"organisation_id": union, "side": "workers"}, {"organisation_id": employer,
                                                                         "side": "employers"}]})
        return str(answer.json()["id"])

    async def negotiating(self, negotiation: str, union: str, employer: str) -> None:
        await self.call("POST", f"/negotiations/{negotiation}/entry", json={"organisation_id": employer})
        for side, party, names in (("workers", union, ["Айгерім Сапарова", "Болат Ахметов"]),
                                   ("employers", employer, ["Виктор Ким", "Дина Омарова"])):
            await self.call("PUT", f"/negotiations/{negotiation}/commission/{side}", json={"members": [
                {"organisation_id": party, "name": name, "position": "member"} for name in names]})
        await self.call("POST", f"/negotiations/{negotiation}/commission/constitution")

    async def clause(self, negotiation: str, category: str, title: str, text: str) -> httpx.Response:
        return await self.call("POST", f"/negotiations/{negotiation}/clauses", 201, json={
            "category": category, "title": title, "text": text, "side": "workers"})

    async def agreed_clause(self, negotiation: str, category: str, title: str, text: str) -> None:
        """A clause the workers propose and the employers accept as it stands."""
        proposed = await self.clause(negotiation, category, title, text)
        await self.call("POST", f"/negotiations/{negotiation}/clauses/{proposed.json()['id']}/acceptance",
                        headers={"If-Match": proposed.headers["ETag"]}, json={"version": 1, "side": "employers"})

    async def sign_and_file(self, negotiation: str, term_from: date, workers: int, sector: str) -> None:
        for side, name in (("workers", "Айгерім Сапарова"), ("employers", "Виктор Ким")):
            await self.call("POST", f"/negotiations/{negotiation}/signatures", 201, json={
                "side": side, "signatory_name": name, "signatory_position": "Chair"})
        term_to = term_from + relativedelta(months=12) - timedelta(days=1)
        await self.call("POST", f"/negotiations/{negotiation}/filing", json={
            "authority": "Karaganda labour inspectorate", "registration_number": f"KR-{workers}",
            "filed_on": kazakhstan_today().isoformat(), "term_from": term_from.isoformat(),
            "term_to": term_to.isoformat(), "workers_covered": workers, "region_code": KARAGANDA, "sector": sector})
        await self.call("POST", f"/negotiations/{negotiation}/entry-into-force", json={})


@pytest.fixture
async def made(gateway: Gateway, bargaining: tuple[str, FastAPI]) -> dict[str, Any]:
    """An overdue proposal; an agreement with an agreed clause and one left in a protocol of disagreements whose
    term ends in about two months; another whose term has just begun; the employees figures of the year."""
    _, key = await gateway.issue_key(roles=("bargaining_officer",), name="ministry bargaining system")
    api = Bargaining(gateway, key, bargaining[1])
    today = kazakhstan_today()
    union = await api.party("primary_union_organisation", "Профсоюз шахтёров")
    employer = await api.party("employer", "АО Уголь")
    other_union = await api.party("primary_union_organisation", "Профсоюз металлургов")
    other_employer = await api.party("employer", "АО Сталь")

    late = await api.propose("Коллективный договор 2027", other_union, other_employer, today - timedelta(days=30))
    expiring = await api.propose("Коллективный договор шахтёров", union, employer, today)
    await api.negotiating(expiring, union, employer)
    await api.agreed_clause(expiring, "pay", "Wage indexation", "Wages are indexed by inflation each January.")
    hours = await api.clause(expiring, "working_time", "Working week", "A 36-hour week underground.")
    await api.call("POST", f"/negotiations/{expiring}/clauses/{hours.json()['id']}/versions", 201,
                   headers={"If-Match": hours.headers["ETag"]},
                   json={"text": "A 40-hour week with paid rest breaks.", "side": "employers"})

    fresh = await api.propose("Коллективный договор металлургов", other_union, other_employer, today)
    await api.negotiating(fresh, other_union, other_employer)
    await api.agreed_clause(fresh, "occupational_safety", "Protective equipment", "The employer provides it free.")
    await api.sign_and_file(fresh, today - timedelta(days=10), 3000, "24")
    await api.call("PUT", f"/coverage/employees/{today.year}", json={
        "national": 100_000, "by_region": {KARAGANDA: 10_000}, "by_sector": {"05": 5_000, "24": 20_000}})
    return {"api": api, "late": late, "expiring": expiring, "fresh": fresh, "union": union, "employer": employer,
            "term_from": today - timedelta(days=305)}


# --------------------------------------------------------------------------- tests


async def test_negotiations_list_with_filters_and_the_overdue_entry_highlighted(
        made: dict[str, Any], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    listed = await browser.get("/bargaining")
    assert listed.status_code == 200, listed.text
    page = text_of(listed.text)
    assert "3 negotiations found" in page
    late_row = row_of(listed.text, made["late"])
    assert 'class="overdue"' in late_row and "overdue" in text_of(late_row)
    on_time = row_of(listed.text, made["expiring"])
    assert "overdue" not in on_time  # entered within the period
    assert "Профсоюз шахтёров (Workers); АО Уголь (Employers)" in text_of(on_time)

    in_force = await browser.get("/bargaining", params={"status": "in_force"})
    assert "1 negotiation found" in text_of(in_force.text) and made["fresh"] in in_force.text
    assert made["late"] not in in_force.text
    sectoral = await browser.get("/bargaining", params={"level": "sectoral"})
    assert "0 negotiations found" in text_of(sectoral.text)
    nonsense = await browser.get("/bargaining", params={"level": "galactic", "status": "<b>"})
    assert nonsense.status_code == 200 and "3 negotiations found" in text_of(nonsense.text)

    detail = await browser.get(f"/bargaining/negotiations/{made['late']}")
    assert detail.status_code == 200
    assert re.search(r'id="entry-deadline" class="overdue"', detail.text)
    assert "art. 156" in detail.text


async def test_the_clause_board_moves_from_open_to_agreed_and_the_protocol(
        made: dict[str, Any], browsers: Browsers) -> None:
    api: Bargaining = made["api"]
    browser = browsers()
    await sign_in(browser, OFFICER)
    url = f"/bargaining/negotiations/{made['expiring']}"

    before = await browser.get(url)
    assert before.status_code == 200, before.text
    board = {column: text_of(re.search(rf'id="clauses-{column}".*?</section>', before.text, re.S).group(0))
             for column in ("open", "agreed", "protocol")}
    assert "Wage indexation" in board["agreed"] and "agreed in version 1" in board["agreed"]
    assert "Working week" in board["open"] and "Wage indexation" not in board["open"]
    # Each side's latest text of the open clause, side by side.
    assert "Workers — version 1 A 36-hour week underground." in board["open"]
    assert "Employers — version 2 A 40-hour week with paid rest breaks." in board["open"]
    assert "Open (1)" in board["open"] and "In the protocol of disagreements (0)" in board["protocol"]
    page = text_of(before.text)
    assert "Айгерім Сапарова, member" in page and "On a parity basis" in page
    assert "No side has signed yet." in page and "Not filed with the labour authority yet." in page

    await api.sign_and_file(made["expiring"], made["term_from"], 1500, "05")
    after = await browser.get(url)
    protocol = text_of(re.search(r'id="clauses-protocol".*?</section>', after.text, re.S).group(0))
    assert "Working week" in protocol and "In the protocol of disagreements (1)" in protocol
    page = text_of(after.text)
    assert "Protocol of disagreements signed on" in page and "Signed with a protocol of disagreements." in page
    assert "Registration number KR-1500" in page and "Karaganda labour inspectorate" in page
    assert f'href="{API}/negotiations/{made["expiring"]}/agreement.md"' in after.text
    # The download link works through the gateway with the session.
    text = await browser.get(f"{API}/negotiations/{made['expiring']}/agreement.md")
    assert text.status_code == 200 and "Wages are indexed by inflation each January." in text.text

    # A union asked to join forty days ago and the employer has not answered in the 30 days (rule data).
    joining = await api.party("primary_union_organisation", "Профсоюз проходчиков")
    await api.call("POST", f"/agreements/{made['expiring']}/accession-requests", 201, json={
        "union_id": joining, "requested_on": (kazakhstan_today() - timedelta(days=40)).isoformat()})
    accession = row_of((await browser.get(url)).text, "Профсоюз проходчиков")
    assert 'class="overdue"' in accession and "40" in text_of(accession)

    missing = await browser.get(f"/bargaining/negotiations/{uuid.uuid4()}")
    assert missing.status_code == 404 and "The bargaining service refused" in missing.text


async def test_the_register_flags_expiring_agreements_and_shows_the_coverage(
        made: dict[str, Any], browsers: Browsers) -> None:
    await made["api"].sign_and_file(made["expiring"], made["term_from"], 1500, "05")
    browser = browsers()
    await sign_in(browser, OFFICER)
    register = await browser.get("/bargaining/agreements")
    assert register.status_code == 200, register.text
    page = text_of(register.text)
    assert "2 agreements in force on" in page
    soon = row_of(register.text, made["expiring"])
    days = (made["term_from"] + relativedelta(months=12) - timedelta(days=1) - kazakhstan_today()).days
    assert 'class="expiring"' in soon and f"{days} expires soon" in text_of(soon) and 0 < days <= 90
    later = row_of(register.text, made["fresh"])
    assert "expiring" not in later and "3,000" in text_of(later)
    # Coverage: (1,500 + 3,000) of 100,000 employees in the country, all in the Karaganda region (10,000).
    assert re.search(r'id="coverage-national">4.5 %<', register.text), page
    assert re.search(r'id="coverage-covered">4,500<', register.text)
    assert "45.0 %" in page and "30.0 %" in page and "15.0 %" in page  # the region; sector 05; sector 24
    assert '<title id="coverage-regions-title">' in register.text

    # A day before both terms: nothing in force, and no employees figures for that year.
    earlier = await browser.get("/bargaining/agreements", params={"in_force_on": "2020-01-01"})
    assert earlier.status_code == 200 and "0 agreements in force on" in text_of(earlier.text)
    assert 'id="coverage-notice"' in earlier.text and "Load the employees figures for 2020 first" in earlier.text
    enterprise = await browser.get("/bargaining/agreements", params={"level": "general"})
    assert "0 agreements in force on" in text_of(enterprise.text)


async def test_every_page_in_each_language(made: dict[str, Any], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, OFFICER)
    headings = {"kk": ("Ұжымдық келіссөздер", "Қолданыстағы келісімдер", "мерзімі өтіп кетті"),
                "ru": ("Коллективные переговоры", "Действующие соглашения", "просрочено"),
                "en": ("Bargaining", "Agreements in force", "overdue")}
    for language, (bargaining, agreements, overdue) in headings.items():
        await browser.get(f"/language/{language}")
        listed = await browser.get("/bargaining")
        assert listed.status_code == 200 and f'<html lang="{language}">' in listed.text
        assert f"<h1>{bargaining}</h1>" in listed.text and overdue in row_of(listed.text, made["late"])
        register = await browser.get("/bargaining/agreements")
        assert f"<h1>{agreements}</h1>" in register.text
        negotiation = await browser.get(f"/bargaining/negotiations/{made['expiring']}")
        assert negotiation.status_code == 200 and f'<html lang="{language}">' in negotiation.text
    await browser.get("/language/ru")
    assert "Профсоюз шахтёров (Работники)" in text_of((await browser.get("/bargaining")).text)


async def test_only_bargaining_readers_open_the_pages(made: dict[str, Any], browsers: Browsers) -> None:
    anonymous = browsers()
    assert (await anonymous.get("/bargaining")).headers["location"] == "/sign-in"
    registrar = browsers()
    await sign_in(registrar, REGISTRAR)
    for path in ("/bargaining", "/bargaining/agreements", f"/bargaining/negotiations/{made['late']}"):
        assert (await registrar.get(path)).status_code == 403, path


async def test_a_bargaining_service_that_is_down_is_told_plainly(make_gateway: GatewayFactory, down_url: str) -> None:
    gateway = await make_gateway(service_urls={"bargaining": down_url})
    await with_staff(gateway, OFFICER, ["bargaining_officer"])
    opened: list[httpx.AsyncClient] = []
    browser = open_browsers(gateway, opened)()
    try:
        await sign_in(browser, OFFICER)
        for path in ("/bargaining", "/bargaining/agreements", f"/bargaining/negotiations/{uuid.uuid4()}"):
            page = await browser.get(path)
            assert page.status_code == 503, path
            assert "The bargaining service is unavailable" in page.text and "Traceback" not in page.text
    finally:
        await browser.aclose()
