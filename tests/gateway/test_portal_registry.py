"""The portal's Registry pages, as a registrar meets them in the browser, against a real registry.

The registry runs as a real process (uvicorn, its own database, a real nats-server) behind an
in-process gateway; a registrar signs in to the portal and reads and decides through its pages,
which call the registry over HTTP as that registrar. What the pages did is checked through
the registry's own API.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from html import unescape
from pathlib import Path

import httpx
import pytest

from gateway.staff import service as staff
from kernel.calendar import kazakhstan_today
from tests.gateway.support import Gateway, GatewayFactory
from tests.support.processes import ServiceProcess

REGISTRY = "/api/v1/registry"
DOCUMENTS = ["application_form", "charter", "founding_congress_minutes", "elected_bodies_decision",
             "legal_address_document"]
EMAIL, PASSWORD = "registrar@ntc.example", "a password for the registry pages"
ANALYST = "analyst@ntc.example"

Browsers = Callable[[], httpx.AsyncClient]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def text_of(html: str) -> str:
    """The page's text, tags dropped and whitespace collapsed, for assertions on what a person reads."""
    return re.sub(r"\s+([:;,.])", r"\1", re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))))


def hidden_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


async def _with_staff(gateway: Gateway) -> Gateway:
    async with gateway.state.sessionmaker() as session:
        await staff.create_staff_account(session, email=EMAIL, display_name="Dana Registrar", roles=["registrar"],
                                         password=PASSWORD)
        await staff.create_staff_account(session, email=ANALYST, display_name="Aliya Analyst", roles=["analyst"],
                                         password=PASSWORD)
        await session.commit()
    return gateway


@pytest.fixture
async def registry_url(make_database, nats_server, public_key: str, tmp_path: Path) -> AsyncIterator[str]:
    process = ServiceProcess("registry", {
        "REGISTRY_DATABASE_URL": await make_database("registry"),
        "REGISTRY_NATS_URL": nats_server.url,
        "REGISTRY_IDENTITY_PUBLIC_KEY": public_key,
        "REGISTRY_ENVIRONMENT": "test",
        "REGISTRY_LOG_LEVEL": "WARNING",
    }, tmp_path)
    await asyncio.to_thread(process.start)
    try:
        yield process.url
    finally:
        await asyncio.to_thread(process.stop)


@pytest.fixture
async def gateway(registry_url: str, make_gateway: GatewayFactory) -> Gateway:
    return await _with_staff(await make_gateway(service_urls={"registry": registry_url}, rate_limit_enabled=False))


@pytest.fixture
async def browsers(gateway: Gateway) -> AsyncIterator[Browsers]:
    opened: list[httpx.AsyncClient] = []

    def open_browser() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.asgi_app, client=("203.0.113.9", 50003)),
                                   base_url="https://gateway.test", timeout=30, headers={"Accept-Language": "en"})
        opened.append(client)
        return client

    yield open_browser
    for client in opened:
        await client.aclose()


async def sign_in(browser: httpx.AsyncClient, email: str = EMAIL) -> None:
    form = await browser.get("/sign-in")
    signed = await browser.post("/sign-in", data={"email": email, "password": PASSWORD,
                                                  "csrf_token": hidden_token(form.text)})
    assert signed.status_code == 303, signed.text


class Register:
    """A small register made through the API with a registrar's key: a sectoral union with a local
    union affiliated to it (which reported its membership), and a weak application waiting."""

    def __init__(self, gateway: Gateway, key: str) -> None:
        self.client = gateway.client
        self.headers = bearer(key)

    async def apply(self, kind: str, name: str, founders: int, documents: list[str]) -> dict[str, object]:
        filed = await self.client.post(f"{REGISTRY}/registrations", headers=self.headers, json={
            "kind": kind, "name_kk": f"{name} кәсіподағы", "name_ru": f"Профсоюз {name}", "region_code": "350000000",
            "sectors": ["24"], "founders": founders, "documents": documents,
            "officers": [{"role": "chair", "name": "Серік Ахметов"}]})
        assert filed.status_code == 201, filed.text
        return filed.json()

    async def registered(self, kind: str, name: str) -> str:
        application = await self.apply(kind, name, 25, DOCUMENTS)
        decided = await self.client.post(f"{REGISTRY}/registrations/{application['id']}/decision",
                                         headers=self.headers, json={"outcome": "register"})
        assert decided.status_code == 200, decided.text
        return str(application["organisation_id"])


@pytest.fixture
async def register(gateway: Gateway) -> dict[str, str]:
    _, key = await gateway.issue_key(roles=("registrar",), name="ministry registry system")
    made = Register(gateway, key)
    sectoral = await made.registered("sectoral_union", "металлургов")
    local = await made.registered("local_union", "сталеваров Темиртау")
    joined = await gateway.client.put(f"{REGISTRY}/organisations/{local}/affiliation", headers=made.headers,
                                      json={"parent_id": sectoral, "valid_from": kazakhstan_today().isoformat()})
    assert joined.status_code == 200, joined.text
    reported = await gateway.client.put(f"{REGISTRY}/organisations/{local}/membership/2025", headers=made.headers,
                                        json={"total": 1200, "women": 700, "under_35": 300})
    assert reported.status_code == 200, reported.text
    weak = await made.apply("local_union", "горняков", 2, ["charter"])
    return {"sectoral": sectoral, "local": local, "weak": str(weak["id"]), "weak_organisation":
            str(weak["organisation_id"]), "key": key}


async def test_the_register_lists_and_filters(gateway: Gateway, register: dict[str, str], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser)

    everything = await browser.get("/registry")
    assert everything.status_code == 200, everything.text
    page = text_of(everything.text)
    assert "Профсоюз металлургов" in page and "Профсоюз сталеваров Темиртау" in page
    assert "Профсоюз горняков" not in page  # an applicant is not in the public register
    assert "2 organisations found" in page
    assert f'href="/registry/organisations/{register["sectoral"]}"' in everything.text
    assert f'href="{REGISTRY}/organisations/export.csv"' in everything.text

    by_name = await browser.get("/registry", params={"q": "металл"})
    assert "Профсоюз металлургов" in by_name.text and "сталеваров" not in by_name.text
    by_kind = await browser.get("/registry", params={"kind": "local_union", "region_code": "350000000"})
    assert "сталеваров" in by_kind.text and "Профсоюз металлургов" not in by_kind.text
    assert f'href="{REGISTRY}/organisations/export.json?kind=local_union&amp;region_code=350000000"' in by_kind.text
    none_lapsed = await browser.get("/registry", params={"status": "lapsed"})
    assert "0 organisations found" in text_of(none_lapsed.text)

    # The export link works through the gateway with the same filters.
    exported = await browser.get(f"{REGISTRY}/organisations/export.json", params={"kind": "local_union"})
    assert [row["id"] for row in exported.json()] == [register["local"]]

    # The registry's refusal of a filter is shown field by field, never as a stack trace.
    too_short = await browser.get("/registry", params={"q": "м"})
    assert too_short.status_code == 422
    assert "q: a name fragment has at least 2 letters" in text_of(too_short.text)
    assert "Traceback" not in too_short.text


async def test_the_organisation_page_shows_particulars_affiliation_membership_and_history(
        gateway: Gateway, register: dict[str, str], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser)

    local = await browser.get(f"/registry/organisations/{register['local']}")
    assert local.status_code == 200, local.text
    page = text_of(local.text)
    assert "Профсоюз сталеваров Темиртау" in page and "Local trade union" in page
    assert "Chair: Серік Ахметов" in page
    assert "Status confirmation due" in page
    # The tree shows the sectoral union above it, and the history table names it too.
    assert local.text.count(f'href="/registry/organisations/{register["sectoral"]}"') == 2
    assert "Affiliation history, newest first" in page
    for step in ("Application filed", "Registered", "Affiliation changed", "Membership reported"):
        assert step in page, step
    assert re.search(r"2025 1,200 700 300", page), page

    sectoral = await browser.get(f"/registry/organisations/{register['sectoral']}")
    assert f'href="/registry/organisations/{register["local"]}"' in sectoral.text  # its affiliate, below it

    missing = await browser.get(f"/registry/organisations/{uuid.uuid4()}")
    assert missing.status_code == 404 and "The registry refused" in missing.text


async def test_refusing_through_the_itemised_form_states_every_ground(
        gateway: Gateway, register: dict[str, str], browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser)

    listed = await browser.get("/registry/applications", params={"status": "submitted"})
    assert listed.status_code == 200 and f'/registry/applications/{register["weak"]}' in listed.text
    review = await browser.get(f"/registry/applications/{register['weak']}")
    assert review.status_code == 200, review.text
    page = text_of(review.text)
    assert "Failing checks" in page and "min_founders" in page and "founding_documents" in page
    assert "2 founders; at least" in page
    assert 'name="ground" value="name_already_registered"' in review.text  # from the rule set's catalogue
    token = hidden_token(review.text)

    started = await browser.post(f"/registry/applications/{register['weak']}/review", data={"csrf_token": token})
    assert started.status_code == 303
    assert "under review" in text_of((await browser.get(f"/registry/applications/{register['weak']}")).text)

    # Registering an application that fails the checks is refused, in words.
    refused = await browser.post(f"/registry/applications/{register['weak']}/decision",
                                 data={"csrf_token": token, "outcome": "register"})
    assert refused.status_code == 409
    assert "fails the law's checks, so it cannot be registered" in text_of(refused.text)
    # A ground added without saying what is wrong is sent back with the entered choices kept.
    vague = await browser.post(f"/registry/applications/{register['weak']}/decision",
                               data={"csrf_token": token, "outcome": "refuse", "ground": "name_already_registered"})
    assert vague.status_code == 422 and "Write what exactly is wrong" in vague.text
    assert 'value="name_already_registered" id="ground-name_already_registered" checked' in vague.text
    # No token, nothing done.
    forged = await browser.post(f"/registry/applications/{register['weak']}/decision",
                                data={"outcome": "refuse", "ground": "name_already_registered",
                                      "detail_name_already_registered": "the same name"})
    assert forged.status_code == 403

    decided = await browser.post(f"/registry/applications/{register['weak']}/decision", data={
        "csrf_token": token, "outcome": "refuse", "ground": "name_already_registered",
        "detail_name_already_registered": "a union of the same name is registered in Karaganda"})
    assert decided.status_code == 303 and decided.headers["location"] == f"/registry/applications/{register['weak']}"

    shown = text_of((await browser.get(decided.headers["location"])).text)
    assert "refused" in shown and "Grounds stated" in shown
    assert "a union of the same name is registered in Karaganda" in shown
    assert re.search(r"Under the rule set .+ \(trade-unions-\d{4}, revision \d+\)", shown), shown
    through_api = await gateway.client.get(f"{REGISTRY}/registrations/{register['weak']}",
                                           headers=bearer(register["key"]))
    application = through_api.json()
    assert application["status"] == "refused"
    assert [ground["rule"] for ground in application["grounds"]] == [
        "min_founders", "founding_documents", "name_already_registered"]
    assert all(ground["article"] in shown for ground in application["grounds"])


async def test_an_analyst_reads_but_cannot_decide(gateway: Gateway, register: dict[str, str],
                                                 browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser, ANALYST)
    review = await browser.get(f"/registry/applications/{register['weak']}")
    assert review.status_code == 200 and "Failing checks" in review.text
    assert "Record the decision" not in review.text
    attempt = await browser.post(f"/registry/applications/{register['weak']}/decision",
                                 data={"csrf_token": hidden_token(review.text), "outcome": "refuse"})
    assert attempt.status_code == 403


async def test_statistics_and_dashboard_figures(gateway: Gateway, register: dict[str, str],
                                                browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser)

    statistics = await browser.get("/registry/statistics")
    assert statistics.status_code == 200, statistics.text
    assert statistics.text.count("<svg") >= 3
    assert '<title id="statistics-members-title">Union members by year</title>' in statistics.text
    assert "Sectoral trade union" in statistics.text and "Days from filing to decision" in statistics.text
    assert "Content-Security-Policy" in statistics.headers

    home = await browser.get("/")
    assert home.status_code == 200
    assert re.search(r'id="figure-organisations"><a href="/registry">2</a>', home.text), home.text
    assert 'id="figure-unions">2<' in home.text
    assert 'id="figure-members">1,200<' in home.text
    assert 'id="figure-women">58.3 %<' in home.text
    assert re.search(r'id="figure-awaiting"><a href="/registry/applications">1</a>', home.text)
    assert "<svg" in home.text and 'id="services"' in home.text

    # Every page in Kazakh and Russian too, dates and numbers as each language writes them.
    for language, heading, members in (("kk", "Тізілім статистикасы", "1\xa0200"),
                                       ("ru", "Статистика реестра", "1\xa0200")):
        await browser.get(f"/language/{language}")
        for path in ("/", "/registry", "/registry/statistics", "/registry/applications",
                     f"/registry/applications/{register['weak']}", f"/registry/organisations/{register['local']}"):
            page = await browser.get(path)
            assert page.status_code == 200 and f'<html lang="{language}">' in page.text, (language, path)
        assert heading in (await browser.get("/registry/statistics")).text
        assert f'id="figure-members">{members}<' in (await browser.get("/")).text


async def test_a_registry_that_is_down_leaves_the_dashboard_working(make_gateway: GatewayFactory,
                                                                    down_url: str) -> None:
    gateway = await _with_staff(await make_gateway(service_urls={"registry": down_url}))
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.asgi_app, client=("203.0.113.9", 50004)),
                                base_url="https://gateway.test", timeout=30, headers={"Accept-Language": "en"})
    async with browser:
        await sign_in(browser)
        home = await browser.get("/")
        assert home.status_code == 200
        assert 'id="registry-notice"' in home.text and "the registry service is unavailable" in home.text
        assert 'id="services"' in home.text
        for path in ("/registry", "/registry/statistics", f"/registry/organisations/{uuid.uuid4()}"):
            page = await browser.get(path)
            assert page.status_code == 503, path
            assert "The registry service is unavailable" in page.text and "Traceback" not in page.text


def test_charts_are_accessible_svg_with_every_value_spelled_out() -> None:
    from gateway.portal import charts

    columns = charts.column_chart("c", "Members <by> year", "Members per year.", [("2024", 10), ("2025", 25)])
    assert columns.startswith("<svg") and 'role="img"' in columns and 'aria-labelledby="c-title c-desc"' in columns
    assert "<title id=\"c-title\">Members &lt;by&gt; year</title>" in columns  # names are escaped
    assert '<desc id="c-desc">Members per year. 2024: 10; 2025: 25.</desc>' in columns
    assert columns.count("<rect") == 2 and "style=" not in columns  # no inline styles: the CSP forbids them

    bars = charts.bar_chart("b", "By region", "Organisations.", [("Астана", 3), ("Алматы", 0)])
    assert bars.count("<rect") == 2 and 'width="0.0"' in bars  # a zero is drawn as no bar, and still labelled

    lines = charts.line_chart("l", "Shares", "Per cent.", ["2023", "2024", "2025"],
                              [charts.Series("Women", [50.0, None, 60.0])], ceiling=100)
    path = re.search(r'<path d="([^"]+)"', lines)
    assert path and path.group(1).count("M") == 2 and "L" not in path.group(1)  # the gap breaks the line
    assert lines.count("<circle") == 2 and "Women, 2025: 60" in lines
