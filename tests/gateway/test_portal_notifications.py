"""The portal's inbox, as ministry staff meet it, against the real registry and notifications services.

Both services run as real processes (uvicorn, their own databases, one real nats-server) behind an in-process
gateway. An application filed with the registry reaches the registrars' desk through the bus; each registrar
reads and marks it in the portal, and the header's count follows, person by person.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from gateway.staff import service as staff
from tests.gateway.support import API, Gateway, GatewayFactory, PlatformFactory, bearer
from tests.gateway.test_portal_registry import DOCUMENTS, hidden_token, text_of
from tests.support.services import eventually

PASSWORD = "a password for the inbox pages"
DANA, YERLAN, ALIYA = "dana.registrar@ntc.example", "yerlan.registrar@ntc.example", "aliya.analyst@ntc.example"

Browsers = Callable[[], httpx.AsyncClient]


async def _with_staff(gateway: Gateway) -> Gateway:
    async with gateway.state.sessionmaker() as session:
        for email, name, roles in ((DANA, "Dana Registrar", ["registrar"]), (YERLAN, "Yerlan Registrar", ["registrar"]),
                                   (ALIYA, "Aliya Analyst", ["analyst"])):
            await staff.create_staff_account(session, email=email, display_name=name, roles=roles, password=PASSWORD)
        await session.commit()
    return gateway


@pytest.fixture
async def gateway(start_platform: PlatformFactory) -> Gateway:
    return await _with_staff(await start_platform("registry", "notifications"))


def _browsers(gateway: Gateway) -> tuple[list[httpx.AsyncClient], Browsers]:
    opened: list[httpx.AsyncClient] = []

    def open_browser() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.asgi_app, client=("203.0.113.9", 50005)),
                                   base_url="https://gateway.test", timeout=30, headers={"Accept-Language": "en"})
        opened.append(client)
        return client

    return opened, open_browser


@pytest.fixture
async def browsers(gateway: Gateway) -> AsyncIterator[Browsers]:
    opened, open_browser = _browsers(gateway)
    yield open_browser
    for client in opened:
        await client.aclose()


async def sign_in(browser: httpx.AsyncClient, email: str) -> None:
    form = await browser.get("/sign-in")
    signed = await browser.post("/sign-in", data={"email": email, "password": PASSWORD,
                                                  "csrf_token": hidden_token(form.text)})
    assert signed.status_code == 303, signed.text


def header_count(html: str) -> int | None:
    match = re.search(r'<a href="/notifications" id="inbox-unread">(\d+) unread messages?</a>', html)
    return int(match.group(1)) if match else None


async def test_a_registrar_reads_the_desk_and_the_header_count_follows_per_person(
        gateway: Gateway, browsers: Browsers) -> None:
    _, key = await gateway.issue_key(roles=("registrar",), name="ministry registry system")
    filed = await gateway.client.post(f"{API}/registry/registrations", headers=bearer(key), json={
        "kind": "local_union", "name_kk": "Шахтерлер кәсіподағы", "name_ru": "Профсоюз шахтёров",
        "region_code": "350000000", "sectors": ["24"], "founders": 25, "documents": DOCUMENTS,
        "officers": [{"role": "chair", "name": "Серік Ахметов"}]})
    assert filed.status_code == 201, filed.text
    application_id = filed.json()["id"]

    dana, yerlan, aliya = browsers(), browsers(), browsers()
    for browser, email in ((dana, DANA), (yerlan, YERLAN), (aliya, ALIYA)):
        await sign_in(browser, email)

    async def on_the_desk() -> httpx.Response | None:
        page = await dana.get("/notifications")
        return page if application_id in page.text else None

    inbox = await eventually(on_the_desk, timeout=30, what="the application on the registrars' desk")
    assert inbox.status_code == 200
    page = text_of(inbox.text)
    assert "registry application submitted: Профсоюз шахтёров" in page and "Registrar" in page
    assert f'href="/registry/applications/{application_id}"' in inbox.text  # to the application's own page
    assert header_count(inbox.text) == 1 and "1 unread message" in page
    [message_id] = re.findall(r'action="/notifications/([0-9a-f-]{36})/read"', inbox.text)
    assert 'class="unread"' in inbox.text and 'class="unread-flag"' in inbox.text

    # Marked read with the form: back to the inbox, the count down, the message no longer unread.
    marked = await dana.post(f"/notifications/{message_id}/read",
                             data={"csrf_token": hidden_token(inbox.text), "next": "/notifications?unread_only=true"})
    assert marked.status_code == 303 and marked.headers["location"] == "/notifications?unread_only=true"
    unread_only = await dana.get(marked.headers["location"])
    assert application_id not in unread_only.text and "No unread messages." in text_of(unread_only.text)
    assert header_count(unread_only.text) == 0
    everything = await dana.get("/notifications")
    assert f'id="message-{message_id}" class="read"' in everything.text
    assert header_count((await dana.get("/")).text) == 0

    # Another registrar shares the desk, not the read marks.
    theirs = await yerlan.get("/notifications", params={"unread_only": "true"})
    assert application_id in theirs.text and f'id="message-{message_id}" class="unread"' in theirs.text
    assert header_count(theirs.text) == 1

    # An analyst has no desk: the page says so, shows nothing of the registrars', and the header has no count.
    analysts = await aliya.get("/notifications")
    assert analysts.status_code == 200 and 'id="no-desk"' in analysts.text
    assert application_id not in analysts.text and header_count(analysts.text) is None
    refused = await aliya.post(f"/notifications/{message_id}/read", data={"csrf_token": hidden_token(analysts.text)})
    assert refused.status_code == 403 and 'id="inbox-trouble"' in refused.text
    assert 'id="no-desk"' in refused.text  # the form came back to the page it was on, the service's reason above
    assert header_count((await yerlan.get("/notifications")).text) == 1  # the analyst marked nothing

    # A form without the session's token changes nothing; a message that is not on one's desks answers 404.
    forged = await yerlan.post(f"/notifications/{message_id}/read", data={"csrf_token": "forged"})
    assert forged.status_code == 403 and header_count((await yerlan.get("/notifications")).text) == 1
    missing = await yerlan.post(f"/notifications/{uuid.uuid4()}/read", data={"csrf_token": hidden_token(theirs.text)})
    assert missing.status_code == 404 and "Traceback" not in missing.text
    assert "This message is not in your inbox" in text_of(missing.text) and 'id="inbox"' in missing.text
    # A "next" that leaves the inbox is not followed.
    elsewhere = await yerlan.post(f"/notifications/{message_id}/read",
                                  data={"csrf_token": hidden_token(theirs.text), "next": "https://evil.example/"})
    assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/notifications"
    assert header_count((await yerlan.get("/notifications")).text) == 0

    # The page in Kazakh and Russian.
    for language, heading in (("kk", "Хабарламалар"), ("ru", "Уведомления")):
        await dana.get(f"/language/{language}")
        translated = await dana.get("/notifications")
        assert translated.status_code == 200 and f'<html lang="{language}">' in translated.text
        assert f"<h1>{heading}</h1>" in translated.text


async def test_a_notifications_service_that_is_down_gives_the_unavailable_page(make_gateway: GatewayFactory,
                                                                               down_url: str) -> None:
    gateway = await _with_staff(await make_gateway(service_urls={"notifications": down_url}))
    opened, open_browser = _browsers(gateway)
    try:
        browser = open_browser()
        await sign_in(browser, DANA)
        home = await browser.get("/")
        assert home.status_code == 200 and header_count(home.text) is None
        page = await browser.get("/notifications")
        assert page.status_code == 503
        assert "The notifications service is unavailable" in page.text and "Traceback" not in page.text
        marked = await browser.post(f"/notifications/{uuid.uuid4()}/read",
                                    data={"csrf_token": hidden_token(page.text)})
        assert marked.status_code == 503 and "The notifications service is unavailable" in marked.text
    finally:
        for client in opened:
            await client.aclose()


async def test_an_answer_the_inbox_cannot_read_gives_the_unreadable_page(make_gateway: GatewayFactory) -> None:
    """A notifications URL that leads to another service (here the echo upstream, which answers every path 200
    with its own JSON): the page says it cannot read the answer, with 502, rather than drawing nonsense."""
    gateway = await _with_staff(await make_gateway())
    opened, open_browser = _browsers(gateway)
    try:
        browser = open_browser()
        await sign_in(browser, DANA)
        page = await browser.get("/notifications")
        assert page.status_code == 502 and "Traceback" not in page.text
        assert "The notifications service gave an answer this page cannot read." in text_of(page.text)
        assert 'id="inbox"' not in page.text
    finally:
        for client in opened:
            await client.aclose()
