"""Staff sign-in, sessions, CSRF, lock-out, the session cookie as an API credential, and the audit log."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.__main__ import main as gateway_cli
from gateway.audit.models import AuditEvent
from gateway.audit.service import events_of
from gateway.staff import service as staff
from gateway.staff.models import StaffAccount, StaffSession
from kernel.db import utcnow
from kernel.identity import IDENTITY_HEADER, IdentityVerifier
from tests.gateway.support import Gateway, GatewayFactory, assert_problem, received_headers

PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "admin@ntc.example"
LOCKOUT_ATTEMPTS = 3


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Gateway:
    return await make_gateway(staff_lockout_attempts=LOCKOUT_ATTEMPTS)


@pytest.fixture
async def browsers(gateway: Gateway) -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    """Independent cookie jars ("browsers") on https, since the session cookie is Secure."""
    opened: list[httpx.AsyncClient] = []

    def open_browser() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.asgi_app, client=("203.0.113.9", 50001)),
                                   base_url="https://gateway.test", timeout=30,
                                   headers={"Accept-Language": "en"})  # these tests read the English pages
        opened.append(client)
        return client

    yield open_browser
    for client in opened:
        await client.aclose()


async def create_account(gateway: Gateway, email: str = ADMIN_EMAIL, roles: tuple[str, ...] = ("administrator",),
                         password: str = PASSWORD) -> StaffAccount:
    async with gateway.state.sessionmaker() as session:
        account = await staff.create_staff_account(session, email=email, display_name="Aigerim Sadykova",
                                                   roles=roles, password=password)
        await session.commit()
    return account


def hidden_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def meta_token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, html
    return match.group(1)


async def sign_in(browser: httpx.AsyncClient, email: str = ADMIN_EMAIL, password: str = PASSWORD) -> httpx.Response:
    form = await browser.get("/sign-in")
    assert form.status_code == 200
    return await browser.post("/sign-in", data={"email": email, "password": password,
                                                "csrf_token": hidden_token(form.text)})


async def audit(gateway: Gateway, action: str) -> list[AuditEvent]:
    async with gateway.state.sessionmaker() as session:
        return await events_of(session, action)


async def test_sign_in_sets_a_hardened_session_cookie(gateway: Gateway, browsers: Any) -> None:
    account = await create_account(gateway)
    browser = browsers()

    response = await sign_in(browser, email="  Admin@NTC.example ")

    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("ntc_session="))
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "secure" in attributes and "httponly" in attributes
    assert attributes["samesite"].lower() in {"samesite=lax", "samesite=strict"}
    assert attributes["path"] == "Path=/"
    home = await browser.get("/")
    assert home.status_code == 200
    for text in ("Aigerim Sadykova", "administrator", 'action="/sign-out"', "Registry", "Bargaining", "Disputes",
                 "Notifications", "Reports", "Administration"):
        assert text in home.text, text
    assert home.headers["content-security-policy"].startswith("default-src 'self'")
    assert home.headers["x-frame-options"] == "DENY"
    [event] = await audit(gateway, "staff.sign_in")
    assert event.actor == f"staff:{account.id}" and event.address == "203.0.113.9"
    async with gateway.state.sessionmaker() as session:
        [stored] = (await session.execute(select(StaffSession))).scalars().all()
    token = browser.cookies.get("ntc_session")
    assert token and stored.id == staff.session_id_of(token) and token not in stored.id  # only the hash is kept


async def test_unknown_email_and_wrong_password_get_the_same_answer(
        gateway: Gateway, browsers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    await create_account(gateway)
    checked: list[str | None] = []
    real_verify = staff.verify_password

    def counting_verify(password_hash: str | None, password: str) -> bool:
        checked.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(staff, "verify_password", counting_verify)
    browser = browsers()

    wrong = await sign_in(browser, password="not the password at all")
    unknown = await sign_in(browser, email="nobody@ntc.example")

    assert wrong.status_code == unknown.status_code == 400
    assert staff.SIGN_IN_REFUSED in wrong.text
    assert wrong.text.replace(ADMIN_EMAIL, "E") == unknown.text.replace("nobody@ntc.example", "E")
    assert "ntc_session" not in browser.cookies
    assert len(checked) == 2 and checked[1] is None  # argon2 ran for the unknown e-mail too (on a decoy hash)
    failures = await audit(gateway, "staff.sign_in_failed")
    assert [event.detail["reason"] for event in failures] == ["wrong_password", "unknown_email"]


async def test_lock_out_after_repeated_failures_refuses_even_the_right_password(
        gateway: Gateway, browsers: Any) -> None:
    account = await create_account(gateway)
    browser = browsers()
    for _ in range(LOCKOUT_ATTEMPTS):
        assert (await sign_in(browser, password="wrong password, again")).status_code == 400

    locked = await sign_in(browser)

    assert locked.status_code == 400 and staff.SIGN_IN_REFUSED in locked.text
    assert "ntc_session" not in browser.cookies
    [lock] = await audit(gateway, "staff.locked")
    assert lock.subject == f"staff:{account.id}"
    assert (await audit(gateway, "staff.sign_in_failed"))[-1].detail["reason"] == "locked"
    # Once the lock has run out, the right password works again.
    async with gateway.state.sessionmaker() as session:
        stored = await session.get(StaffAccount, account.id)
        assert stored is not None and stored.locked_until is not None
        stored.locked_until = utcnow() - timedelta(seconds=1)
        await session.commit()
    assert (await sign_in(browser)).status_code == 303


async def test_forms_without_the_csrf_token_are_refused_and_change_nothing(gateway: Gateway, browsers: Any) -> None:
    await create_account(gateway)
    browser = browsers()
    await browser.get("/sign-in")

    no_token = await browser.post("/sign-in", data={"email": ADMIN_EMAIL, "password": PASSWORD})
    forged = await browsers().post("/sign-in", data={"email": ADMIN_EMAIL, "password": PASSWORD,
                                                     "csrf_token": "made-up"})

    assert no_token.status_code == forged.status_code == 403
    assert "ntc_session" not in browser.cookies and not await audit(gateway, "staff.sign_in")
    await sign_in(browser)
    for path in ("/sign-out", "/sign-out-everywhere"):
        for data in ({}, {"csrf_token": "wrong"}):
            refused = await browser.post(path, data=data)
            assert refused.status_code == 403, path
            assert "security token" in refused.text
    assert (await browser.get("/")).status_code == 200  # still signed in
    assert not await audit(gateway, "staff.sign_out") and not await audit(gateway, "staff.sign_out_everywhere")


async def test_sign_out_ends_the_session(gateway: Gateway, browsers: Any) -> None:
    await create_account(gateway)
    browser = browsers()
    await sign_in(browser)
    token = browser.cookies["ntc_session"]
    home = await browser.get("/")

    response = await browser.post("/sign-out", data={"csrf_token": hidden_token(home.text)})

    assert response.status_code == 303 and response.headers["location"] == "/sign-in"
    assert (await browser.get("/")).status_code == 303
    replay = browsers()
    replay.cookies.set("ntc_session", token, domain="gateway.test")
    assert (await replay.get("/")).headers["location"] == "/sign-in"
    assert "ntc_session" not in replay.cookies  # the portal told the browser to drop it
    assert_problem(await browsers().get("/api/v1/registry/x", headers={"Cookie": f"ntc_session={token}"}),
                   401, "unauthenticated")
    assert len(await audit(gateway, "staff.sign_out")) == 1


async def test_sign_out_everywhere_ends_the_other_sessions(gateway: Gateway, browsers: Any) -> None:
    await create_account(gateway)
    laptop, phone = browsers(), browsers()
    await sign_in(laptop)
    await sign_in(phone)
    assert (await phone.get("/")).status_code == 200
    home = await laptop.get("/")

    response = await laptop.post("/sign-out-everywhere", data={"csrf_token": hidden_token(home.text)})

    assert response.status_code == 303
    assert (await phone.get("/")).headers["location"] == "/sign-in"
    assert (await laptop.get("/")).headers["location"] == "/sign-in"
    [event] = await audit(gateway, "staff.sign_out_everywhere")
    assert event.detail["sessions_ended"] == 2
    assert (await sign_in(phone)).status_code == 303  # a new sign-in works afterwards
    assert (await phone.get("/")).status_code == 200


async def test_an_idle_session_ends(gateway: Gateway, browsers: Any) -> None:
    await create_account(gateway)
    browser = browsers()
    await sign_in(browser)
    async with gateway.state.sessionmaker() as session:
        [stored] = (await session.execute(select(StaffSession))).scalars().all()
        stored.last_seen_at = utcnow() - timedelta(minutes=gateway.settings.session_idle_minutes + 1)
        await session.commit()

    assert (await browser.get("/")).headers["location"] == "/sign-in"


async def test_a_cookie_authenticated_api_call_carries_a_staff_identity(gateway: Gateway, browsers: Any) -> None:
    account = await create_account(gateway, roles=("registrar", "analyst"))
    browser = browsers()
    await sign_in(browser)

    response = await browser.get("/api/v1/registry/organisations")

    assert response.status_code == 200 and response.headers["x-echo"] == "1"
    headers = received_headers(response.json())
    assert "cookie" not in headers
    identity = IdentityVerifier(gateway.public_pem, audience=gateway.settings.identity_audience).verify(
        headers[IDENTITY_HEADER][0])
    assert identity.kind == "staff" and identity.subject == f"staff:{account.id}"
    assert identity.organisation_id is None and identity.roles == {"registrar", "analyst"}


async def test_a_cookie_authenticated_write_needs_the_csrf_header(gateway: Gateway, browsers: Any) -> None:
    await create_account(gateway, roles=("registrar",))
    browser = browsers()
    await sign_in(browser)
    csrf = meta_token((await browser.get("/")).text)

    for method in ("POST", "PUT", "PATCH", "DELETE"):
        missing = await browser.request(method, "/api/v1/registry/organisations", json={"name": "x"})
        wrong = await browser.request(method, "/api/v1/registry/organisations", json={"name": "x"},
                                      headers={"X-CSRF-Token": "0" * 64})
        for refused in (missing, wrong):
            assert_problem(refused, 403, "csrf")
            assert "x-echo" not in refused.headers  # answered by the gateway: never forwarded

    allowed = await browser.post("/api/v1/registry/organisations", json={"name": "x"},
                                 headers={"X-CSRF-Token": csrf})

    assert allowed.status_code == 200 and allowed.headers["x-echo"] == "1"
    headers = received_headers(allowed.json())
    assert "x-csrf-token" not in headers and IDENTITY_HEADER in headers


async def test_an_api_key_wins_over_a_session_cookie(gateway: Gateway, browsers: Any) -> None:
    await create_account(gateway)
    browser = browsers()
    await sign_in(browser)
    api_key, key = await gateway.issue_key(roles=("reader",))

    response = await browser.post("/api/v1/registry/x", headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 200
    identity = IdentityVerifier(gateway.public_pem, audience=gateway.settings.identity_audience).verify(
        received_headers(response.json())[IDENTITY_HEADER][0])
    assert identity.subject == f"api-key:{api_key.id}"


async def test_portal_pages_need_a_session_and_administration_the_administrator_role(
        gateway: Gateway, browsers: Any) -> None:
    anonymous = browsers()
    for path in ("/", "/registry", "/admin", "/admin/audit", "/admin/staff"):
        response = await anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/sign-in", path
    assert (await anonymous.get("/status")).status_code == 200
    await create_account(gateway, email="analyst@ntc.example", roles=("analyst",))
    await create_account(gateway)
    analyst, admin = browsers(), browsers()
    await sign_in(analyst, email="analyst@ntc.example")
    await sign_in(admin)

    for path in ("/admin", "/admin/audit", "/admin/staff"):
        assert (await analyst.get(path)).status_code == 403, path
    for section in ("reports",):
        page = await analyst.get(f"/{section}")
        assert page.status_code == 200 and "Coming with the" in page.text, section
    # The registry's, bargaining's, disputes' and notifications' pages are real (tests/gateway/test_portal_*.py);
    # an analyst may open them.
    for section in ("registry", "bargaining", "disputes", "notifications"):
        assert (await analyst.get(f"/{section}")).status_code not in (303, 403), section
    audit_page = await admin.get("/admin/audit")
    staff_page = await admin.get("/admin/staff")

    assert audit_page.status_code == 200 and staff_page.status_code == 200
    assert audit_page.text.index("staff.sign_in") < audit_page.text.index("staff.created")  # newest first
    assert "analyst@ntc.example" in staff_page.text and ADMIN_EMAIL in staff_page.text


async def test_api_keys_issued_and_revoked_are_audited(gateway: Gateway) -> None:
    api_key, _ = await gateway.issue_key(name="erp")
    async with gateway.state.sessionmaker() as session:
        from gateway.api_keys.service import revoke_api_key

        await revoke_api_key(session, key_id=api_key.id)
        await session.commit()

    [created] = await audit(gateway, "api_key.created")
    [revoked] = await audit(gateway, "api_key.revoked")
    assert created.subject == revoked.subject == f"api-key:{api_key.id}"
    assert created.actor == "cli" and created.detail["name"] == "erp"


def test_the_cli_creates_and_lists_staff(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GATEWAY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    monkeypatch.setattr(sys, "stdin", io.StringIO("too short\n"))
    assert gateway_cli(["create-staff", "--email", "r@ntc.example", "--name", "R", "--roles", "registrar",
                        "--password-stdin"]) == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert gateway_cli(["create-staff", "--email", "R@ntc.example", "--name", "R", "--roles", "registrar,analyst",
                        "--password-stdin"]) == 0
    captured = capsys.readouterr()
    assert PASSWORD not in captured.out + captured.err

    assert gateway_cli(["list-staff"]) == 0

    listing = capsys.readouterr().out
    assert "r@ntc.example\tR\tanalyst,registrar" in listing


async def test_sign_in_attempts_are_rate_limited_per_address(make_gateway: GatewayFactory) -> None:
    # A day, not a minute: the sliding-window counter forgets a little of the last window when a new one
    # begins, so a test run that crossed a minute boundary could see a fourth attempt admitted.
    gateway = await make_gateway(staff_sign_in_rate_per_address="3/day", staff_lockout_attempts=100)
    await create_account(gateway)

    def browser_at(address: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.asgi_app, client=(address, 50003)),
                                 base_url="https://gateway.test", headers={"Accept-Language": "en"})

    async with browser_at("198.51.100.20") as sprayer, browser_at("198.51.100.21") as colleague:
        for number in range(3):  # a different account each time: the per-account lock-out never trips
            assert (await sign_in(sprayer, email=f"user{number}@ntc.example")).status_code == 400

        limited = await sign_in(sprayer)  # even the right password, once the address's budget is spent

        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["content-type"].startswith("text/html")
        assert "<h1>Too many sign-in attempts</h1>" in limited.text
        assert limited.headers["x-frame-options"] == "DENY"
        assert "ntc_session" not in sprayer.cookies
        assert len(await audit(gateway, "staff.sign_in_failed")) == 3  # the refused attempt never got that far
        assert (await sign_in(colleague)).status_code == 303  # another address has its own budget
