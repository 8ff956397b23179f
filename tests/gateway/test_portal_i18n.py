"""The portal in Kazakh, Russian and English: choosing the language, the catalogues, locale formats, htmx."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from babel import dates
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from gateway import i18n
from gateway.audit.service import list_events
from gateway.portal import routes as portal
from gateway.staff import service as staff
from tests.gateway.support import Gateway, GatewayFactory

PASSWORD = "a password for the language tests"
EMAIL = "tilshi@ntc.example"
PORTAL_DIR = Path(portal.__file__).parent
# A string each page shows, per language.
SIGN_IN_HEADING = {"kk": "Қызметкерлердің жүйеге кіруі", "ru": "Вход для сотрудников", "en": "Staff sign-in"}
DASHBOARD_HEADING = {"kk": "Басқару тақтасы", "ru": "Панель управления", "en": "Dashboard"}
REGISTRY = {"kk": "Тізілім", "ru": "Реестр", "en": "Registry"}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")

Browsers = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Gateway:
    gateway = await make_gateway()
    async with gateway.state.sessionmaker() as session:
        await staff.create_staff_account(session, email=EMAIL, display_name="Aruzhan Tilshi",
                                         roles=["administrator"], password=PASSWORD)
        await session.commit()
    return gateway


@pytest.fixture
async def browsers(gateway: Gateway) -> AsyncIterator[Browsers]:
    """Independent cookie jars on https (the session cookie is Secure), with the given request headers."""
    opened: list[httpx.AsyncClient] = []

    def open_browser(**headers: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.asgi_app, client=("203.0.113.5", 50002)),
                                   base_url="https://gateway.test", timeout=30,
                                   headers={name.replace("_", "-"): value for name, value in headers.items()})
        opened.append(client)
        return client

    yield open_browser
    for client in opened:
        await client.aclose()


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)">', html)
    assert match, html[:200]
    return match.group(1)


async def sign_in(browser: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    form = await browser.get("/sign-in")
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert match, form.text
    return await browser.post("/sign-in", data={"email": EMAIL, "password": password, "csrf_token": match.group(1)})


def test_kazakh_is_the_default_language() -> None:
    from gateway.settings import GatewaySettings

    assert GatewaySettings.model_fields["portal_default_language"].default == "kk"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
async def test_sign_in_page_and_dashboard_in_each_language(browsers: Browsers, language: str) -> None:
    browser = browsers()
    browser.cookies.set(i18n.LANGUAGE_COOKIE, language, domain="gateway.test")

    form = await browser.get("/sign-in")
    assert form.status_code == 200 and html_lang(form.text) == language
    assert SIGN_IN_HEADING[language] in form.text
    assert "Vary" in form.headers and "Accept-Language" in form.headers["vary"]
    assert (await sign_in(browser)).status_code == 303
    home = await browser.get("/")

    assert home.status_code == 200 and html_lang(home.text) == language
    assert f"<h1>{DASHBOARD_HEADING[language]}</h1>" in home.text
    assert f">{REGISTRY[language]}</a>" in home.text
    assert 'aria-current="true">' + i18n.LANGUAGE_NAMES[language] in home.text  # the switch marks the current one
    for other in i18n.LANGUAGES:
        if other != language:
            assert DASHBOARD_HEADING[other] not in home.text


async def test_wrong_password_is_told_in_the_chosen_language(browsers: Browsers) -> None:
    assert portal.SIGN_IN_REFUSED == staff.SIGN_IN_REFUSED  # the catalogue's copy of the service's message
    browser = browsers(accept_language="kk")
    refused = await sign_in(browser, password="not it")
    assert refused.status_code == 400
    assert "Электрондық пошта немесе құпиясөз қате." in refused.text
    assert 'href="/language/ru?next=/"' in refused.text  # after a post, the switch goes to a page, not the form


async def test_the_switch_sets_the_cookie_and_comes_back_to_the_page(browsers: Browsers) -> None:
    browser = browsers(accept_language="en")
    await sign_in(browser)

    switched = await browser.get("/language/ru", params={"next": "/admin/audit?page=1"})

    assert switched.status_code == 303 and switched.headers["location"] == "/admin/audit?page=1"
    cookie = next(v for v in switched.headers.get_list("set-cookie") if v.startswith("ntc_lang="))
    assert cookie.startswith("ntc_lang=ru;") and "samesite=lax" in cookie.lower() and "Path=/" in cookie
    audit = await browser.get("/admin/audit?page=1")
    assert html_lang(audit.text) == "ru" and "<h1>Журнал аудита</h1>" in audit.text
    await browser.get("/language/kk", params={"next": "/"})
    assert html_lang((await browser.get("/")).text) == "kk"  # the cookie wins over Accept-Language: en


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "evil",
                                    "", "/ok\r\nSet-Cookie: x=y", "/" + "a" * 3000])
async def test_the_switch_only_goes_back_to_a_local_page(browsers: Browsers, target: str) -> None:
    response = await browsers().get("/language/en", params={"next": target})
    assert response.status_code == 303 and response.headers["location"] == "/"


async def test_the_switch_ignores_a_language_it_does_not_speak(browsers: Browsers) -> None:
    browser = browsers()
    response = await browser.get("/language/de", params={"next": "/status"})
    assert response.status_code == 303 and response.headers["location"] == "/status"
    assert not any(v.startswith("ntc_lang=") for v in response.headers.get_list("set-cookie"))


@pytest.mark.parametrize(("header", "expected"), [
    ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
    ("en-GB,en;q=0.9", "en"),
    ("fr-FR, kk-KZ;q=0.5, ru;q=0.4", "kk"),
    ("en;q=0.1, ru;q=0.8", "ru"),
    ("en;q=0, ru;q=0.2", "ru"),
])
async def test_accept_language_is_honoured(browsers: Browsers, header: str, expected: str) -> None:
    page = await browsers(accept_language=header).get("/sign-in")
    assert html_lang(page.text) == expected and SIGN_IN_HEADING[expected] in page.text


@pytest.mark.parametrize(("cookie", "header"), [(None, None), ("de", None), (None, "fr-FR,de;q=0.8"),
                                                ("<script>", "*"), (None, "not a header;q=x")])
async def test_an_unknown_language_falls_back_to_the_default(browsers: Browsers, cookie: str | None,
                                                             header: str | None) -> None:
    browser = browsers(**({"accept_language": header} if header else {}))
    if cookie:
        browser.cookies.set(i18n.LANGUAGE_COOKIE, cookie, domain="gateway.test")
    page = await browser.get("/status")
    assert html_lang(page.text) == "kk" and "<h1>Платформаның жай-күйі</h1>" in page.text


async def test_the_default_language_is_a_setting(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(portal_default_language="ru")
    page = await gateway.client.get("/status")
    assert html_lang(page.text) == "ru" and "<h1>Состояние платформы</h1>" in page.text


async def test_audit_log_dates_and_numbers_follow_the_language(gateway: Gateway, browsers: Browsers) -> None:
    browser = browsers()
    await sign_in(browser)
    async with gateway.state.sessionmaker() as session:
        events, _ = await list_events(session, limit=1, offset=0)
    at = events[0].at
    for language, caption in (("kk", "оқиға, жаңалары алдымен"), ("ru", "события, сначала новые"),
                              ("en", "events, newest first")):
        await browser.get(f"/language/{language}")
        page = await browser.get("/admin/audit")
        expected = dates.format_datetime(at if at.tzinfo else at.replace(tzinfo=dates.UTC), format="medium",
                                         tzinfo=dates.UTC, locale=language)
        assert expected in page.text, (language, expected)
        assert caption in page.text, language
    assert dates.format_datetime(at, locale="ru") != dates.format_datetime(at, locale="en")


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_message_has_a_translation(language: str) -> None:
    with i18n.catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    messages = [message for message in catalog if message.id]
    assert len(messages) > 50
    for message in messages:
        assert not message.fuzzy, message.id
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (catalog.num_plurals if isinstance(message.id, tuple) else 1), message.id
        for string in strings:
            assert string and string.strip(), (language, message.id)
            assert set(PLACEHOLDER.findall(string)) == set(PLACEHOLDER.findall(ids[-1])), (language, message.id)
    if language != i18n.SOURCE_LANGUAGE:
        assert sum(message.string != message.id for message in messages) == len(messages), "left in English"


def test_the_catalogues_hold_every_message_of_the_portal() -> None:
    """Nothing marked in the templates or routes is missing from the catalogues (run `make i18n` if it is)."""
    with (Path(i18n.__file__).parent / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    marked = {message[2] if isinstance(message[2], str) else message[2][0]
              for message in extract_from_dir(str(PORTAL_DIR), method_map, options_map)}
    for language in i18n.LANGUAGES:
        with i18n.catalogue_path(language).open("rb") as po:
            catalogued = {message.id if isinstance(message.id, str) else message.id[0]
                          for message in read_po(po) if message.id}
        assert marked == catalogued, (language, marked ^ catalogued)


async def test_htmx_is_served_from_the_portal_and_loaded_only_by_the_dashboard(browsers: Browsers) -> None:
    browser = browsers()
    script = await browser.get("/portal/static/vendor/htmx.min.js")
    assert script.status_code == 200
    assert script.headers["content-type"].split(";")[0] in {"text/javascript", "application/javascript"}
    assert b"htmx" in script.content and len(script.content) > 10_000
    assert (await browser.get("/portal/static/vendor/LICENSE")).status_code == 200

    await sign_in(browser)
    home = (await browser.get("/")).text
    assert '<script src="/portal/static/vendor/htmx.min.js" defer></script>' in home
    assert 'hx-get="/dashboard/services"' in home and 'hx-trigger="every 10s"' in home
    assert "<script" not in (await browser.get("/registry")).text


async def test_the_services_partial(browsers: Browsers) -> None:
    anonymous = browsers()
    plain = await anonymous.get("/dashboard/services")
    assert plain.status_code == 303 and plain.headers["location"] == "/sign-in"
    by_htmx = await anonymous.get("/dashboard/services", headers={"HX-Request": "true"})
    assert by_htmx.status_code == 401 and by_htmx.headers["hx-redirect"] == "/sign-in"

    browser = browsers(accept_language="ru")
    await sign_in(browser)
    partial = await browser.get("/dashboard/services", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert "<caption>Сервисы, доступные через шлюз</caption>" in partial.text and "готово" in partial.text
    assert "Последняя проверка:" in partial.text
