"""The portal in a real browser: Debian's Chromium driven by Playwright, against a gateway under uvicorn.

Needs /usr/bin/chromium (``make browser-deps``); skipped with the reason when it is missing.
Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from gateway.api_keys.service import issue_api_key
from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.staff.service import create_staff_account
from gateway.tables import MIGRATIONS_DIR
from kernel.db import create_engine, create_sessionmaker
from kernel.identity import generate_keypair
from kernel.migrations import upgrade
from tests.gateway.support import SERVICES, TrickleGate, echo_app, serve_in_thread
from tests.support.nats import NatsServer
from tests.support.processes import ServiceProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"
EMAIL, PASSWORD = "registrar.admin@ntc.example", "a browser-test password"
# The navigation in each language: its label, then the sections' titles.
NAVIGATION = {
    "kk": ("Бөлімдер", ["Тізілім", "Ұжымдық келіссөздер", "Комиссиялар", "Даулар", "Хабарламалар", "Есептер",
                        "Әкімшілендіру"]),
    "ru": ("Разделы", ["Реестр", "Коллективные переговоры", "Комиссии", "Споры", "Уведомления", "Отчеты",
                       "Администрирование"]),
    "en": ("Sections", ["Registry", "Bargaining", "Commissions", "Disputes", "Notifications", "Reports",
                        "Administration"]),
}
REAL_SERVICES = ("registry", "bargaining", "disputes", "notifications")
SWITCH = {"kk": ("Тіл", "Қазақша"), "ru": ("Язык", "Русский"), "en": ("Language", "English")}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"{CHROMIUM} is not installed (apt-get install -y chromium, or `make browser-deps`)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="the playwright package is not installed (pip install -e '.[dev]')"),
]


async def _create_staff(database_url: str) -> tuple[str, str]:
    """The staff account the tests sign in with; returns a registrar's and an administrator's API key for making
    test data."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine, MIGRATIONS_DIR)
        async with create_sessionmaker(engine)() as session:
            await create_staff_account(session, email=EMAIL, display_name="Dana Registrar",
                                       roles=["administrator", "registrar"], password=PASSWORD)
            _, key = await issue_api_key(session, name="test data", roles=["registrar"], organisation_id=None)
            _, administrator = await issue_api_key(session, name="test data (administrator)",
                                                   roles=["administrator"], organisation_id=None)
            await session.commit()
    finally:
        await engine.dispose()
    return key, administrator


@dataclass(frozen=True)
class Platform:
    url: str
    registrar_key: str
    administrator_key: str


@pytest.fixture
def platform(tmp_path: Path, nats_server: NatsServer) -> Iterator[Platform]:
    """The gateway under uvicorn with the real registry, bargaining, disputes and notifications services behind
    it (each its own SQLite file, one real nats-server, so the registry's events reach the others)."""
    private_key, public_key = generate_keypair()
    services = {name: ServiceProcess(name, {
        f"{name.upper()}_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/{name}.db",
        f"{name.upper()}_NATS_URL": nats_server.url,
        f"{name.upper()}_IDENTITY_PUBLIC_KEY": public_key,
        f"{name.upper()}_ENVIRONMENT": "test",
        f"{name.upper()}_LOG_LEVEL": "WARNING",
    }, tmp_path) for name in REAL_SERVICES}
    started: list[ServiceProcess] = []
    echo = serve_in_thread(echo_app(TrickleGate()))
    gateway = None
    try:
        for service in services.values():
            service.start()
            started.append(service)
        database_url = f"sqlite+aiosqlite:///{tmp_path}/gateway.db"
        key, administrator = asyncio.run(_create_staff(database_url))
        settings = GatewaySettings(
            environment="test", identity_private_key=private_key, database_url=database_url,
            service_urls={**{name: echo.url for name in SERVICES}, **{name: s.url for name, s in services.items()}},
            log_json=False, log_level="WARNING", session_cookie_secure=False,  # plain http on loopback
        )
        gateway = serve_in_thread(create_app(settings))
        yield Platform(url=gateway.url, registrar_key=key, administrator_key=administrator)
    finally:
        if gateway is not None:
            gateway.stop()
        echo.stop()
        for service in reversed(started):
            service.stop()


@pytest.fixture
def portal_url(platform: Platform) -> str:
    return platform.url


def test_sign_in_browse_the_sections_and_sign_out(portal_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(locale="en-GB")  # Accept-Language: en-GB
            console_errors: list[str] = []
            page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
            page.goto(portal_url + "/")
            expect(page).to_have_url(portal_url + "/sign-in")
            expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()

            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill("not the password")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("alert")).to_contain_text("The email or password is wrong.")

            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(portal_url + "/")
            expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
            expect(page.locator(".user-name")).to_have_text("Dana Registrar")
            expect(page.locator(".user-roles")).to_have_text("administrator, registrar")
            navigation = page.get_by_role("navigation", name="Sections")
            titles = NAVIGATION["en"][1]
            for title in titles:
                expect(navigation.get_by_role("link", name=title)).to_be_visible()
            expect(page.get_by_role("cell", name="ready").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
            # htmx (vendored, same origin) refreshes the services table in place every 10 s.
            assert page.evaluate("typeof htmx") == "object"
            with page.expect_response(lambda response: response.url.endswith("/dashboard/services"),
                                      timeout=20_000) as refreshed:
                pass
            assert refreshed.value.status == 200
            expect(page.locator("#services caption")).to_have_text("Services behind the gateway")
            expect(page).to_have_url(portal_url + "/")

            for title in titles:
                navigation.get_by_role("link", name=title).click()
                expect(page.get_by_role("heading", level=1)).to_have_text(title)
                expect(navigation.get_by_role("link", name=title)).to_have_attribute("aria-current", "page")
            page.get_by_role("link", name="Audit log").click()
            expect(page.get_by_role("rowheader", name="staff.sign_in", exact=True)).to_be_visible()
            expect(page.get_by_role("rowheader", name="staff.sign_in_failed")).to_be_visible()

            for language in ("kk", "ru", "en"):  # the header's switch, from the page one is on
                label, titles_there = NAVIGATION[language]
                page.get_by_role("navigation", name=SWITCH[page.locator("html").get_attribute("lang")][0]) \
                    .get_by_role("link", name=SWITCH[language][1]).click()
                expect(page).to_have_url(portal_url + "/admin/audit")
                expect(page.locator("html")).to_have_attribute("lang", language)
                there = page.get_by_role("navigation", name=label, exact=True)
                for title in titles_there:
                    expect(there.get_by_role("link", name=title, exact=True)).to_be_visible()
                there.get_by_role("link", name=titles_there[0], exact=True).click()
                expect(page.get_by_role("heading", level=1)).to_have_text(titles_there[0])
                page.go_back()
                if language != "en":
                    page.goto(portal_url + "/")
                    page.screenshot(path=str(ARTIFACTS / f"dashboard-{language}.png"), full_page=True)
                    page.goto(portal_url + "/admin/audit")
            assert not [error for error in console_errors if "Content Security Policy" in error], console_errors

            page.get_by_role("button", name="Sign out", exact=True).click()
            expect(page).to_have_url(portal_url + "/sign-in")
            page.goto(portal_url + "/")
            expect(page).to_have_url(portal_url + "/sign-in")
        finally:
            browser.close()


def test_an_administrator_creates_a_staff_account_and_issues_and_revokes_an_api_key(portal_url: str) -> None:
    import httpx
    from playwright.sync_api import expect, sync_playwright

    organisation = "5d1f0c3e-8d0a-4c41-9f0a-0b6a2b1c7e11"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(locale="en-GB")
            page.goto(portal_url + "/sign-in")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(portal_url + "/")

            # A staff account, with a generated first password shown once.
            page.get_by_role("navigation", name="Sections").get_by_role("link", name="Administration").click()
            page.get_by_role("link", name="Staff accounts").click()
            page.get_by_label("Email").fill("aliya.analyst@ntc.example")
            page.get_by_label("Name", exact=True).fill("Aliya Analyst")
            page.get_by_label("Analyst", exact=True).check()
            page.get_by_role("button", name="Create the account").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Staff account created")
            first_password = page.locator("#first-password").inner_text()
            assert len(first_password) >= 12
            page.get_by_role("link", name="Back to the staff accounts").click()
            expect(page.get_by_role("rowheader", name="aliya.analyst@ntc.example")).to_be_visible()

            # An organisation's API key: shown once, works, then revoked.
            page.get_by_role("navigation", name="Sections").get_by_role("link", name="Administration").click()
            page.get_by_role("link", name="API keys").click()
            page.get_by_label("Organisation ID").fill(organisation)
            page.get_by_label("Label", exact=True).fill("Employer HR system")
            page.get_by_role("button", name="Issue the key").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("API key issued")
            key = page.locator("#issued-secret").inner_text()
            assert key.startswith("ntc_")
            assert httpx.get(f"{portal_url}/api/v1/notifications/inbox/unread-count",
                             headers={"X-API-Key": key}).status_code == 200
            page.get_by_role("link", name="Back to the API keys").click()
            expect(page.get_by_text(key)).to_have_count(0)
            page.get_by_role("button", name=f"Revoke {key[:12]} Employer HR system").click()
            expect(page).to_have_url(portal_url + "/admin/api-keys")
            expect(page.get_by_role("cell", name="revoked", exact=True)).to_be_visible()
            assert httpx.get(f"{portal_url}/api/v1/notifications/inbox/unread-count",
                             headers={"X-API-Key": key}).status_code == 401
            page.goto(portal_url + "/admin/audit")
            for action in ("staff.created", "api_key.created", "api_key.revoked"):
                expect(page.get_by_role("rowheader", name=action, exact=True).first).to_be_visible()
            page.get_by_role("button", name="Sign out", exact=True).click()

            # The new colleague signs in with the password they were handed.
            page.get_by_label("Email").fill("aliya.analyst@ntc.example")
            page.get_by_label("Password").fill(first_password)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(portal_url + "/")
            expect(page.locator(".user-name")).to_have_text("Aliya Analyst")
            expect(page.locator(".user-roles")).to_have_text("analyst")
        finally:
            browser.close()


def _make_register(platform: Platform) -> dict[str, str]:
    """Through the gateway's API with a registrar's key: a sectoral union, a local union affiliated
    to it with three years of membership, and a weak application waiting for review."""
    import httpx

    documents = ["application_form", "charter", "founding_congress_minutes", "elected_bodies_decision",
                 "legal_address_document"]
    with httpx.Client(base_url=f"{platform.url}/api/v1/registry", timeout=30,
                      headers={"Authorization": f"Bearer {platform.registrar_key}"}) as api:
        def apply(kind: str, name: str, founders: int, filed: list[str], region: str) -> dict[str, str]:
            answer = api.post("/registrations", json={
                "kind": kind, "name_kk": f"{name} кәсіподағы", "name_ru": f"Профсоюз {name}", "region_code": region,
                "founders": founders, "documents": filed, "officers": [{"role": "chair", "name": "Серік Ахметов"}]})
            assert answer.status_code == 201, answer.text
            return answer.json()

        def registered(kind: str, name: str, region: str) -> str:
            application = apply(kind, name, 30, documents, region)
            assert api.post(f"/registrations/{application['id']}/decision",
                            json={"outcome": "register"}).status_code == 200
            return application["organisation_id"]

        sectoral = registered("sectoral_union", "металлургов", "750000000")
        local = registered("local_union", "сталеваров Темиртау", "350000000")
        registered("local_union", "шахтёров Караганды", "350000000")
        joined = api.put(f"/organisations/{local}/affiliation",
                         json={"parent_id": sectoral, "valid_from": date.today().isoformat()})
        assert joined.status_code == 200, joined.text
        for year, total in ((2023, 1100), (2024, 1150), (2025, 1200)):
            reported = api.put(f"/organisations/{local}/membership/{year}",
                               json={"total": total, "women": total * 6 // 10, "under_35": total // 4})
            assert reported.status_code == 200, reported.text
        weak = apply("local_union", "горняков", 2, ["charter"], "350000000")
    return {"sectoral": sectoral, "local": local, "weak": weak["id"]}


def test_the_registry_pages(platform: Platform) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    made = _make_register(platform)
    url = platform.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(locale="en-GB")
            console_errors: list[str] = []
            page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
            page.goto(url + "/sign-in")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(url + "/")
            expect(page.locator("#figure-organisations")).to_have_text("3")
            expect(page.locator("#figure-members")).to_have_text("1,200")
            expect(page.locator("#figure-awaiting")).to_have_text("1")
            expect(page.get_by_role("img", name="Union members by year")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "dashboard-figures.png"), full_page=True)

            # The register: a plain GET form, filtered by a name fragment and by tier.
            page.get_by_role("navigation", name="Sections").get_by_role("link", name="Registry").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Registry")
            results = page.get_by_role("table")
            expect(results.get_by_role("rowheader")).to_have_count(3)
            page.get_by_label("Name contains").fill("сталевар")
            page.get_by_role("button", name="Search").click()
            expect(page).to_have_url(url + "/registry?q=%D1%81%D1%82%D0%B0%D0%BB%D0%B5%D0%B2%D0%B0%D1%80&kind=&"
                                     "region_code=&sector=&status=")
            expect(results.get_by_role("rowheader")).to_have_count(1)
            page.get_by_label("Name contains").fill("")
            page.get_by_label("Tier or kind").select_option(label="Sectoral trade union")
            page.get_by_role("button", name="Search").click()
            expect(results.get_by_role("rowheader")).to_have_text(["Профсоюз металлургов"])
            page.get_by_role("link", name="Clear the filters").click()

            # An organisation: its tree, membership and history.
            page.get_by_role("link", name="Профсоюз сталеваров Темиртау").click()
            expect(page).to_have_url(f"{url}/registry/organisations/{made['local']}")
            expect(page.get_by_role("heading", level=1)).to_have_text("Профсоюз сталеваров Темиртау")
            expect(page.get_by_role("list", name="Affiliation tree").get_by_role(
                "link", name="Профсоюз металлургов")).to_be_visible()
            expect(page.get_by_role("rowheader", name="Affiliation changed")).to_be_visible()
            expect(page.get_by_role("rowheader", name="2025")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "registry-organisation.png"), full_page=True)

            # The review page shows the failing checks, pre-ticked and fixed.
            page.goto(f"{url}/registry/applications/{made['weak']}")
            expect(page.get_by_role("table", name="Failing checks (every one is stated in a refusal or a return)")
                   .get_by_role("rowheader")).to_have_count(2)
            expect(page.locator(".ground.automatic input[type=checkbox]").first).to_be_disabled()

            # Statistics, drawn as SVG on the server.
            page.get_by_role("navigation", name="Registry pages").get_by_role("link", name="Statistics").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Registry statistics")
            for chart in ("Union members by year", "Women and members under 35, per cent of members",
                          "Organisations in the register by tier and kind", "Organisations in the register by region"):
                expect(page.get_by_role("img", name=chart)).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "registry-statistics.png"), full_page=True)
            assert not [error for error in console_errors if "Content Security Policy" in error], console_errors
        finally:
            browser.close()


def _make_bargaining_and_disputes(platform: Platform) -> dict[str, str]:
    """Through the gateway's API: an employer and its union in the register, the demo disputes (eight, in six
    regions, one conciliation stalled), a proposal left unanswered past its entry period, and a negotiation under
    way with one clause on the table."""
    import time

    import httpx

    from deploy.embedded.demo_disputes import load_disputes_demo

    today = date.today()
    with httpx.Client(base_url=platform.url, timeout=30,
                      headers={"Authorization": f"Bearer {platform.administrator_key}"}) as api:
        def registered(body: dict[str, object]) -> str:
            application = api.post("/api/v1/registry/registrations", json=body | {
                "founders": 30, "documents": ["application_form", "charter", "founding_congress_minutes",
                                              "elected_bodies_decision", "legal_address_document"],
                "officers": [{"role": "chair", "name": "Серік Ахметов"}]})
            assert application.status_code == 201, application.text
            decided = api.post(f"/api/v1/registry/registrations/{application.json()['id']}/decision",
                               json={"outcome": "register"})
            assert decided.status_code == 200, decided.text
            return str(application.json()["organisation_id"])

        entered = api.post("/api/v1/registry/organisations", json={
            "kind": "employer", "name_kk": "Дала Металл", "name_ru": "АО «Дала Металл»", "region_code": "350000000",
            "bin": "050340001235"})
        assert entered.status_code == 201, entered.text
        employer = str(entered.json()["id"])
        union = registered({"kind": "primary_union_organisation", "name_kk": "Дала Металл кәсіподағы",
                            "name_ru": "Профсоюз «Дала Металл»", "region_code": "350000000"})
        ids = load_disputes_demo(api, platform.administrator_key, {"dala-metall": employer,
                                                                   "dala-metall-union": union}, lambda _: None)
        other_employer, other_union = ids["alatau-trans"], ids["alatau-trans-union"]
        deadline = time.monotonic() + 60
        for party in (employer, union, other_employer, other_union):  # bargaining hears of them from the registry
            while api.get(f"/api/v1/bargaining/parties/{party}").status_code != 200:
                assert time.monotonic() < deadline, f"bargaining never heard of {party}"
                time.sleep(0.2)

        def propose(subject: str, workers: str, employers: str, proposed_on: date) -> str:
            answer = api.post("/api/v1/bargaining/negotiations", json={
                "level": "enterprise", "subject_matter": subject, "initiator_id": workers,
                "proposed_on": proposed_on.isoformat(), "parties": [
                    {"organisation_id": workers, "side": "workers"}, {"organisation_id": employers,
                                                                       "side": "employers"}]})
            assert answer.status_code == 201, answer.text
            return str(answer.json()["id"])

        late = propose("Коллективный договор на 2027–2029 годы", union, employer, today - timedelta(days=30))
        under_way = propose("Коллективный договор водителей", other_union, other_employer, today)
        url = f"/api/v1/bargaining/negotiations/{under_way}"
        assert api.post(f"{url}/entry", json={"organisation_id": other_employer}).status_code == 200
        for side, party in (("workers", other_union), ("employers", other_employer)):
            named = api.put(f"{url}/commission/{side}", json={"members": [
                {"organisation_id": party, "name": f"{side} member", "position": "member"}]})
            assert named.status_code == 200, named.text
        assert api.post(f"{url}/commission/constitution").status_code == 200
        clause = api.post(f"{url}/clauses", json={"category": "working_time", "title": "Rest between shifts",
                                                  "text": "At least 12 hours between shifts.", "side": "workers"})
        assert clause.status_code == 201, clause.text
    return {"late": late, "under_way": under_way, "employer": employer, "union": union}


def test_the_bargaining_and_disputes_pages(platform: Platform) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    made = _make_bargaining_and_disputes(platform)
    url = platform.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(locale="en-GB")
            console_errors: list[str] = []
            page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
            page.goto(url + "/sign-in")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(url + "/")
            # The dashboard's social-tension panel, drawn from the disputes service with the registry's region names.
            expect(page.get_by_role("img", name="Social tension by region")).to_be_visible()
            expect(page.get_by_role("table", name="Open disputes by region, most tense first")
                   .get_by_role("rowheader", name="Karaganda Region")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "dashboard-tension.png"), full_page=True)

            # Bargaining: the proposal nobody entered is flagged overdue; the clause board of the other.
            sections = page.get_by_role("navigation", name="Sections")
            sections.get_by_role("link", name="Bargaining").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Bargaining")
            late = page.locator("tr.overdue")
            expect(late).to_have_count(1)
            expect(late.get_by_role("link")).to_have_attribute("href", f"/bargaining/negotiations/{made['late']}")
            expect(late).to_contain_text("overdue")
            page.screenshot(path=str(ARTIFACTS / "bargaining-negotiations.png"), full_page=True)
            page.get_by_role("link", name="Коллективный договор водителей").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Коллективный договор водителей")
            expect(page.get_by_role("heading", name="Open (1)")).to_be_visible()
            expect(page.get_by_role("heading", name="In the protocol of disagreements (0)")).to_be_visible()
            expect(page.get_by_text("At least 12 hours between shifts.")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "bargaining-negotiation.png"), full_page=True)
            page.get_by_role("navigation", name="Bargaining pages").get_by_role("link", name="Agreements in force") \
                .click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Agreements in force")
            expect(page.get_by_role("heading", name="Collective bargaining coverage")).to_be_visible()

            # Disputes: the stalled conciliation, filtered; its timeline; the statistics' charts.
            sections.get_by_role("link", name="Disputes").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Disputes")
            expect(page.locator("#disputes tbody tr")).to_have_count(8)
            page.get_by_label("Stalled only").check()
            page.get_by_role("button", name="Filter").click()
            stalled = page.locator("#disputes tbody tr")
            expect(stalled.first).to_contain_text("stalled")
            assert stalled.count() == page.locator("#disputes tbody tr.stalled").count() >= 1
            page.screenshot(path=str(ARTIFACTS / "disputes-stalled.png"), full_page=True)
            stalled.first.get_by_role("link").click()
            expect(page.locator("#stalled-notice")).to_be_visible()
            expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
            expect(page.locator("#timeline tr.stalled")).to_have_count(1)
            page.screenshot(path=str(ARTIFACTS / "disputes-dispute.png"), full_page=True)
            page.get_by_role("navigation", name="Disputes pages").get_by_role("link", name="Statistics").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Disputes statistics")
            for chart in ("Social tension by region", "Collective disputes by region", "Collective disputes by cause"):
                expect(page.get_by_role("img", name=chart)).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "disputes-statistics.png"), full_page=True)

            # A complaint taken in through the form; an administrator may handle it, so sees who complained.
            page.get_by_role("navigation", name="Disputes pages").get_by_role(
                "link", name="Freedom-of-association complaints").click()
            page.get_by_role("link", name="Take a complaint in").click()
            page.get_by_label("Category").select_option(label="Threats of dismissal for union membership")
            page.get_by_label("Employer's register ID").fill(made["employer"])
            page.get_by_label("The complainant's union: register ID (if any)").fill(made["union"])
            page.get_by_label("Name", exact=True).fill("Гүлнар Әбенова")
            page.get_by_label("What happened").fill("Told she would lose her job if she stayed in the union.")
            page.get_by_role("button", name="Take the complaint in").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Complaint — АО «Дала Металл»")
            expect(page.locator("#complaint-status")).to_have_text("received")
            expect(page.locator("#complainant")).to_contain_text("Гүлнар Әбенова")
            page.get_by_role("textbox", name="Inspector").fill("Асель Жумабекова")
            page.get_by_role("button", name="Begin the inspection").click()
            expect(page.locator("#complaint-status")).to_have_text("under inspection")
            page.screenshot(path=str(ARTIFACTS / "disputes-complaint.png"), full_page=True)
            page.get_by_role("navigation", name="Disputes pages").get_by_role(
                "link", name="Mediators and arbitrators").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Mediators and arbitrators")
            page.get_by_role("navigation", name="Disputes pages").get_by_role("link", name="Statistics").click()

            # The same pages in Kazakh.
            page.get_by_role("navigation", name="Language").get_by_role("link", name="Қазақша").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Даулар статистикасы")
            page.goto(url + "/bargaining")
            expect(page.locator("tr.overdue")).to_contain_text("мерзімі өтіп кетті")
            assert not [error for error in console_errors if "Content Security Policy" in error], console_errors
        finally:
            browser.close()


def _make_commissions(platform: Platform) -> dict[str, str]:
    """Through the gateway's API: the four social partners in the register, then the demo Republican Tripartite
    Commission and the General Agreement's commitments (`deploy.embedded.demo_commissions`)."""
    import httpx

    from deploy.embedded.demo import DEMO_ORGANISATIONS
    from deploy.embedded.demo_commissions import PARTIES, load_commissions_demo

    slugs = {slug for slug, _ in PARTIES}
    with httpx.Client(base_url=platform.url, timeout=30,
                      headers={"Authorization": f"Bearer {platform.administrator_key}"}) as api:
        ids = {}
        for organisation in DEMO_ORGANISATIONS:
            if organisation.slug in slugs:
                entered = api.post("/api/v1/registry/organisations", json=organisation.body())
                assert entered.status_code == 201, entered.text
                ids[organisation.slug] = str(entered.json()["id"])
        load_commissions_demo(api, platform.administrator_key, ids, lambda _: None)  # waits for bargaining to hear
    return ids


def test_a_staff_member_filters_the_commitments_board_by_party(platform: Platform) -> None:
    """Issue 9's acceptance: the commitments board, filtered by party, shows only that party's commitments."""
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    _make_commissions(platform)
    url = platform.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(locale="en-GB")
            console_errors: list[str] = []
            page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
            page.goto(url + "/sign-in")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(url + "/")
            expect(page.get_by_role("heading", name="Commitments of the agreements")).to_be_visible()
            expect(page.get_by_role("img", name="Share of commitments fulfilled, per agreement")).to_be_visible()

            page.get_by_role("navigation", name="Sections").get_by_role("link", name="Commissions").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Commissions")
            page.get_by_role("link", name="Republican Tripartite Commission", exact=False).click()
            expect(page.get_by_role("heading", name="Parties and members")).to_be_visible()
            expect(page.get_by_role("rowheader", name="L. Abenova")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "commission.png"), full_page=True)
            page.get_by_role("link", name="Sitting No. 1").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Sitting No. 1")
            expect(page.get_by_text("Every party had its quorum.")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "commission-sitting.png"), full_page=True)
            page.go_back()
            page.get_by_role("link", name="Draft amendments to the Labour Code on platform employment").click()
            expect(page.get_by_role("heading", name="The parties' positions")).to_be_visible()
            expect(page.locator("#position-employers")).to_contain_text("supports with amendments")
            expect(page.locator("#position-workers")).to_contain_text("No position filed.")
            page.screenshot(path=str(ARTIFACTS / "commission-consultation.png"), full_page=True)

            page.get_by_role("navigation", name="Commissions pages").get_by_role("link", name="Commitments board") \
                .click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Commitments board")
            rows = page.locator("#commitments tbody tr")
            expect(rows).to_have_count(6)
            page.screenshot(path=str(ARTIFACTS / "commitments-board.png"), full_page=True)

            union = "Федерация профсоюзов Республики Казахстан"
            page.get_by_label("Party").select_option(label=union)
            page.get_by_role("button", name="Filter").click()
            expect(page).to_have_url(re.compile(r"/commitments\?.*organisation_id="))
            expect(page.get_by_role("table", name="1 commitment found")).to_be_visible()
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("Train 1,000 occupational safety representatives")
            expect(rows.first).to_contain_text(union)
            expect(page.get_by_label("Party")).to_have_value(re.compile(r"[0-9a-f-]{36}"))

            employers = "Национальная палата предпринимателей Республики Казахстан «Атамекен»"
            page.get_by_label("Party").select_option(label=employers)
            page.get_by_role("button", name="Filter").click()
            expect(rows).to_have_count(2)
            for index in range(2):
                expect(rows.nth(index)).to_contain_text("Employers")
                expect(rows.nth(index)).not_to_contain_text("Train 1,000")
            page.screenshot(path=str(ARTIFACTS / "commitments-board-party.png"), full_page=True)

            rows.first.get_by_role("link").click()
            expect(page.get_by_role("heading", name="Progress reports")).to_be_visible()
            assert not [error for error in console_errors if "Content Security Policy" in error], console_errors
        finally:
            browser.close()
