"""The portal's administration pages: staff accounts, API keys and API clients, each change audited."""

from __future__ import annotations

import io
import re
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.__main__ import main as gateway_cli
from gateway.api_clients.models import ApiClient
from gateway.api_keys.models import ApiKey
from gateway.api_keys.service import hash_key
from gateway.staff.models import StaffAccount
from tests.gateway.support import Gateway, assert_problem, received_headers
from tests.gateway.test_staff import PASSWORD, audit, create_account, hidden_token, sign_in

ADMIN_EMAIL = "admin@ntc.example"
ORGANISATION = uuid.UUID("5d1f0c3e-8d0a-4c41-9f0a-0b6a2b1c7e11")

Browsers = Callable[[], httpx.AsyncClient]


@pytest.fixture
async def browsers(gateway: Gateway) -> AsyncIterator[Browsers]:
    opened: list[httpx.AsyncClient] = []

    def open_browser() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.asgi_app, client=("203.0.113.9", 50001)),
                                   base_url="https://gateway.test", timeout=30, headers={"Accept-Language": "en"})
        opened.append(client)
        return client

    yield open_browser
    for client in opened:
        await client.aclose()


@pytest.fixture
async def admin(gateway: Gateway, browsers: Browsers) -> httpx.AsyncClient:
    await create_account(gateway)
    browser = browsers()
    assert (await sign_in(browser)).status_code == 303
    return browser


async def form_token(browser: httpx.AsyncClient, page: str) -> str:
    response = await browser.get(page)
    assert response.status_code == 200, response.text
    return hidden_token(response.text)


async def account_named(gateway: Gateway, email: str) -> StaffAccount:
    async with gateway.state.sessionmaker() as session:
        account = await session.scalar(select(StaffAccount).where(StaffAccount.email == email))
    assert account is not None
    return account


# --------------------------------------------------------------------------- staff accounts


async def test_an_administrator_creates_a_staff_account_who_can_sign_in(
        gateway: Gateway, admin: httpx.AsyncClient, browsers: Browsers) -> None:
    token = await form_token(admin, "/admin/staff")

    created = await admin.post("/admin/staff", data={
        "csrf_token": token, "email": "Dana@NTC.example", "display_name": "Dana Registrar",
        "roles": ["registrar", "analyst"], "password": "a long first password"})

    assert created.status_code == 200 and "<h1>Staff account created</h1>" in created.text
    assert "a long first password" not in created.text and 'id="first-password"' not in created.text
    account = await account_named(gateway, "dana@ntc.example")
    assert account.roles == ["analyst", "registrar"]
    [_, event] = await audit(gateway, "staff.created")  # the administrator's own, then this one
    administrator = await account_named(gateway, ADMIN_EMAIL)
    assert event.actor == f"staff:{administrator.id}" and event.subject == f"staff:{account.id}"
    assert event.address == "203.0.113.9"
    assert (await sign_in(browsers(), email="dana@ntc.example", password="a long first password")).status_code == 303
    listing = await admin.get("/admin/staff")
    assert "dana@ntc.example" in listing.text and "Dana Registrar" in listing.text


async def test_a_generated_password_is_shown_once_and_works(gateway: Gateway, admin: httpx.AsyncClient,
                                                            browsers: Browsers) -> None:
    created = await admin.post("/admin/staff", data={
        "csrf_token": await form_token(admin, "/admin/staff"), "email": "arman@ntc.example",
        "display_name": "Arman", "roles": "dispute_officer", "password": ""})

    match = re.search(r'<code class="secret" id="first-password">([^<]+)</code>', created.text)
    assert created.status_code == 200 and match, created.text
    assert created.headers["cache-control"] == "no-store"
    password = match.group(1)
    assert len(password) >= 12 and password not in (await admin.get("/admin/staff")).text
    assert password not in str([event.detail for event in await audit(gateway, "staff.created")])
    assert (await sign_in(browsers(), email="arman@ntc.example", password=password)).status_code == 303


@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"email": "not-an-email", "display_name": "X", "roles": "analyst"}, 422, "Enter an e-mail address"),
    ({"email": "x@ntc.example", "display_name": "  ", "roles": "analyst"}, 422, "Enter the person&#39;s name."),
    ({"email": "x@ntc.example", "display_name": "X"}, 422, "Choose at least one role."),
    ({"email": "x@ntc.example", "display_name": "X", "roles": "overlord"}, 422, "Choose the roles from the list."),
    ({"email": "x@ntc.example", "display_name": "X", "roles": "analyst", "password": "short"}, 422,
     "A password has at least 12 characters."),
    ({"email": ADMIN_EMAIL.upper(), "display_name": "X", "roles": "analyst"}, 409,
     "A staff account with this e-mail already exists."),
])
async def test_a_refused_account_form_says_why_and_keeps_the_input(
        gateway: Gateway, admin: httpx.AsyncClient, fields: dict[str, Any], status: int, message: str) -> None:
    refused = await admin.post("/admin/staff", data={"csrf_token": await form_token(admin, "/admin/staff"), **fields})

    assert refused.status_code == status
    assert 'role="alert"' in refused.text and message in refused.text
    assert f'value="{fields["display_name"]}"' in refused.text
    assert len(await audit(gateway, "staff.created")) == 1  # the administrator's own only


async def test_disabling_an_account_ends_its_sessions_and_refuses_sign_in(
        gateway: Gateway, admin: httpx.AsyncClient, browsers: Browsers) -> None:
    colleague = await create_account(gateway, email="kairat@ntc.example", roles=("registrar",))
    laptop = browsers()
    await sign_in(laptop, email="kairat@ntc.example")
    assert (await laptop.get("/")).status_code == 200
    session_token = laptop.cookies["ntc_session"]
    token = await form_token(admin, "/admin/staff")
    assert f'action="/admin/staff/{colleague.id}/disable"' in (await admin.get("/admin/staff")).text

    disabled = await admin.post(f"/admin/staff/{colleague.id}/disable", data={"csrf_token": token})

    assert disabled.status_code == 303 and disabled.headers["location"] == "/admin/staff"
    assert (await laptop.get("/")).headers["location"] == "/sign-in"
    assert_problem(await browsers().get("/api/v1/registry/x", headers={"Cookie": f"ntc_session={session_token}"}),
                   401, "unauthenticated")
    assert (await sign_in(browsers(), email="kairat@ntc.example")).status_code == 400
    listing = (await admin.get("/admin/staff")).text
    assert f'action="/admin/staff/{colleague.id}/enable"' in listing and ">disabled<" in listing
    [event] = await audit(gateway, "staff.disabled")
    assert event.subject == f"staff:{colleague.id}" and event.detail["sessions_ended"] == 1

    enabled = await admin.post(f"/admin/staff/{colleague.id}/enable", data={"csrf_token": token})

    assert enabled.status_code == 303
    assert (await sign_in(browsers(), email="kairat@ntc.example")).status_code == 303
    assert len(await audit(gateway, "staff.enabled")) == 1


async def test_an_administrator_cannot_disable_themselves(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    me = await account_named(gateway, ADMIN_EMAIL)
    listing = await admin.get("/admin/staff")
    assert f"/admin/staff/{me.id}/disable" not in listing.text

    refused = await admin.post(f"/admin/staff/{me.id}/disable", data={"csrf_token": hidden_token(listing.text)})

    assert refused.status_code == 409 and "cannot disable their own account" in refused.text
    assert (await admin.get("/")).status_code == 200
    assert not await audit(gateway, "staff.disabled")


# --------------------------------------------------------------------------- API keys and clients


async def test_an_api_key_is_issued_shown_once_used_and_revoked(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    issued = await admin.post("/admin/api-keys", data={
        "csrf_token": await form_token(admin, "/admin/api-keys"), "organisation_id": f" {ORGANISATION} ",
        "name": "Employer HR system", "roles": "employer, reader"})

    assert issued.status_code == 200 and "<h1>API key issued</h1>" in issued.text
    assert issued.headers["cache-control"] == "no-store"
    match = re.search(r'<code class="secret" id="issued-secret">(ntc_[^<]+)</code>', issued.text)
    assert match, issued.text
    key = match.group(1)
    async with gateway.state.sessionmaker() as session:
        [stored] = (await session.execute(select(ApiKey))).scalars().all()
    assert stored.key_hash == hash_key(key) and stored.organisation_id == ORGANISATION
    assert stored.roles == ["employer", "reader"] and stored.name == "Employer HR system"
    listing = await admin.get("/admin/api-keys")
    assert key not in listing.text and stored.prefix in listing.text
    used = await gateway.client.get("/api/v1/registry/x", headers={"X-API-Key": key})
    assert used.status_code == 200 and received_headers(used.json()).get("x-ntc-identity")

    revoked = await admin.post(f"/admin/api-keys/{stored.id}/revoke", data={"csrf_token": hidden_token(listing.text)})

    assert revoked.status_code == 303 and revoked.headers["location"] == "/admin/api-keys"
    assert_problem(await gateway.client.get("/api/v1/registry/x", headers={"X-API-Key": key}), 401, "unauthenticated")
    assert ">revoked<" in (await admin.get("/admin/api-keys")).text
    administrator = await account_named(gateway, ADMIN_EMAIL)
    [created] = await audit(gateway, "api_key.created")
    [revocation] = await audit(gateway, "api_key.revoked")
    assert created.actor == revocation.actor == f"staff:{administrator.id}"
    assert created.subject == revocation.subject == f"api-key:{stored.id}"
    assert key not in str(created.detail)


@pytest.mark.parametrize(("fields", "message"), [
    ({"organisation_id": "acme", "name": "HR"}, "Enter the organisation&#39;s identifier (a UUID)."),
    ({"organisation_id": str(ORGANISATION), "name": " "}, "Enter a label"),
    ({"organisation_id": str(ORGANISATION), "name": "HR", "roles": "Admin!"}, "Roles are lower-case words"),
])
@pytest.mark.parametrize("page", ["/admin/api-keys", "/admin/api-clients"])
async def test_a_refused_credential_form_issues_nothing(gateway: Gateway, admin: httpx.AsyncClient, page: str,
                                                       fields: dict[str, str], message: str) -> None:
    refused = await admin.post(page, data={"csrf_token": await form_token(admin, page), **fields})

    assert refused.status_code == 422 and message in refused.text
    assert "ntc_" not in refused.text.replace('name="csrf_token"', "")
    async with gateway.state.sessionmaker() as session:
        assert not (await session.execute(select(ApiKey))).scalars().all()
        assert not (await session.execute(select(ApiClient))).scalars().all()


async def test_an_api_client_is_registered_and_revoked(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    registered = await admin.post("/admin/api-clients", data={
        "csrf_token": await form_token(admin, "/admin/api-clients"), "organisation_id": str(ORGANISATION),
        "name": "Union portal"})

    assert registered.status_code == 200 and "<h1>API client registered</h1>" in registered.text
    client_id = re.search(r'id="client-id">([^<]+)<', registered.text)
    secret = re.search(r'id="issued-secret">(ntcs_[^<]+)<', registered.text)
    assert client_id and secret
    token = await gateway.client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id.group(1), "client_secret": secret.group(1)})
    assert token.status_code == 200, token.text
    listing = await admin.get("/admin/api-clients")
    assert secret.group(1) not in listing.text and "Union portal" in listing.text

    revoked = await admin.post(f"/admin/api-clients/{client_id.group(1)}/revoke",
                               data={"csrf_token": hidden_token(listing.text)})

    assert revoked.status_code == 303
    refused = await gateway.client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id.group(1), "client_secret": secret.group(1)})
    assert refused.status_code in (400, 401)
    assert [event.action for event in await audit(gateway, "api_client.revoked")] == ["api_client.revoked"]


# --------------------------------------------------------------------------- guards


ADMIN_FORMS = ["/admin/staff", "/admin/api-keys", "/admin/api-clients",
               f"/admin/staff/{uuid.uuid4()}/disable", f"/admin/staff/{uuid.uuid4()}/enable",
               f"/admin/api-keys/{uuid.uuid4()}/revoke", f"/admin/api-clients/{uuid.uuid4()}/revoke"]


@pytest.mark.parametrize("path", ADMIN_FORMS)
async def test_admin_forms_need_the_csrf_token(gateway: Gateway, admin: httpx.AsyncClient, path: str) -> None:
    for data in ({}, {"csrf_token": "forged"}):
        refused = await admin.post(path, data={**data, "email": "x@ntc.example", "display_name": "X",
                                               "roles": "analyst", "organisation_id": str(ORGANISATION),
                                               "name": "X"})
        assert refused.status_code == 403 and "security token" in refused.text
    async with gateway.state.sessionmaker() as session:
        assert len((await session.execute(select(StaffAccount))).scalars().all()) == 1
        assert not (await session.execute(select(ApiKey))).scalars().all()


@pytest.mark.parametrize("path", ["/admin/staff", "/admin/api-keys", "/admin/api-clients"])
async def test_admin_pages_need_the_administrator_role(gateway: Gateway, browsers: Browsers, path: str) -> None:
    await create_account(gateway, email="analyst@ntc.example", roles=("analyst",))
    analyst = browsers()
    await sign_in(analyst, email="analyst@ntc.example")
    token = hidden_token((await analyst.get("/")).text)

    assert (await analyst.get(path)).status_code == 403
    assert (await analyst.post(path, data={"csrf_token": token, "email": "x@ntc.example", "display_name": "X",
                                           "roles": "administrator", "organisation_id": str(ORGANISATION),
                                           "name": "X"})).status_code == 403
    assert (await browsers().get(path)).headers["location"] == "/sign-in"


def test_the_cli_disables_and_enables_staff(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GATEWAY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert gateway_cli(["create-staff", "--email", "r@ntc.example", "--name", "R", "--roles", "registrar",
                        "--password-stdin"]) == 0

    assert gateway_cli(["disable-staff", "--email", "R@ntc.example"]) == 0
    assert gateway_cli(["list-staff"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("disabled")
    assert gateway_cli(["enable-staff", "--email", "r@ntc.example"]) == 0
    assert gateway_cli(["list-staff"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("active")
    assert gateway_cli(["disable-staff", "--email", "nobody@ntc.example"]) == 1


async def test_a_revoked_api_client_s_token_is_refused_at_once(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    """Revoking a client on the administration page ends the tokens it holds, not only new ones."""
    registered = await admin.post("/admin/api-clients", data={
        "csrf_token": await form_token(admin, "/admin/api-clients"), "organisation_id": str(ORGANISATION),
        "name": "Employer ERP"})
    client_id = re.search(r'id="client-id">([^<]+)<', registered.text)
    secret = re.search(r'id="issued-secret">(ntcs_[^<]+)<', registered.text)
    assert client_id and secret
    issued = await gateway.client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id.group(1), "client_secret": secret.group(1)})
    bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    assert (await gateway.client.get("/api/v1/registry/x", headers=bearer)).status_code == 200

    revoked = await admin.post(f"/admin/api-clients/{client_id.group(1)}/revoke",
                               data={"csrf_token": await form_token(admin, "/admin/api-clients")})

    assert revoked.status_code == 303
    refused = await gateway.client.get("/api/v1/registry/x", headers=bearer)
    assert_problem(refused, 401, "unauthenticated")
    assert "x-echo" not in refused.headers
