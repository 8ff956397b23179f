"""Staff sign-in through an OpenID Connect provider (authorization code + PKCE).

The provider is an external system, so it is a test double: a tiny FastAPI app under uvicorn
on a loopback port, serving discovery, JWKS, an authorization endpoint that approves at once
(as whoever the test says is signing in) and a token endpoint that checks the client secret,
the redirect URI and the PKCE verifier before it signs an ID token. The gateway, its database
and the audit log are real.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

from gateway.settings import GatewaySettings
from gateway.staff.oidc import roles_from_claims
from gateway.staff.service import STAFF_ROLES
from tests.gateway.support import Gateway, GatewayFactory, RunningServer, serve_in_thread
from tests.gateway.test_staff import audit, create_account

CLIENT_ID, CLIENT_SECRET = "ntc-portal", "a provider-issued client secret"
EMAIL = "gulnara@ntc.example"


@dataclass
class FakeProvider:
    """What the fake provider will say about the next person, and what it saw."""

    url: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    signing_key: RSAKey | None = None  # signs with another key than the JWKS shows, when set
    nonce_override: str | None = None
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)


def provider_app(provider: FakeProvider) -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        return {"issuer": provider.url, "authorization_endpoint": f"{provider.url}/authorize",
                "token_endpoint": f"{provider.url}/token", "jwks_uri": f"{provider.url}/jwks",
                "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"], "subject_types_supported": ["public"]}

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        return {"keys": [provider.key.as_dict(private=False)]}

    @app.get("/authorize")
    async def authorize(request: Request) -> RedirectResponse:
        query = request.query_params
        assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
        assert query["code_challenge_method"] == "S256" and "openid" in query["scope"].split()
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {"challenge": query["code_challenge"], "nonce": query["nonce"],
                                "redirect_uri": query["redirect_uri"]}
        return RedirectResponse(f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}",
                                status_code=302)

    @app.post("/token")
    async def token(request: Request, grant_type: str = Form(), code: str = Form(), redirect_uri: str = Form(),
                    code_verifier: str = Form()) -> JSONResponse:
        provider.token_requests.append({"grant_type": grant_type, "code": code, "code_verifier": code_verifier})
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        issued = provider.codes.pop(code, None)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).decode().rstrip("=")
        if (request.headers.get("authorization") != expected or issued is None or grant_type != "authorization_code"
                or issued["redirect_uri"] != redirect_uri or issued["challenge"] != challenge):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {"iss": provider.url, "aud": CLIENT_ID, "sub": "person-1", "iat": now, "exp": now + 300,
                  "nonce": provider.nonce_override or issued["nonce"], **provider.claims}
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, provider.signing_key or provider.key)
        return JSONResponse({"access_token": "opaque", "token_type": "Bearer", "expires_in": 300,
                             "id_token": id_token})

    return app


@pytest.fixture(scope="module")
def fake_provider() -> Iterator[tuple[FakeProvider, RunningServer]]:
    provider = FakeProvider()
    running = serve_in_thread(provider_app(provider))
    provider.url = running.url
    yield provider, running
    running.stop()


@pytest.fixture
def provider(fake_provider: tuple[FakeProvider, RunningServer]) -> FakeProvider:
    state = fake_provider[0]
    state.claims = {"email": EMAIL, "email_verified": True, "name": "Gulnara", "groups": ["ntc-registrars"]}
    state.signing_key = None
    state.nonce_override = None
    state.token_requests.clear()
    return state


@pytest.fixture
async def gateway(make_gateway: GatewayFactory, provider: FakeProvider) -> Gateway:
    return await make_gateway(staff_auth_mode="oidc", oidc_issuer_url=provider.url, oidc_client_id=CLIENT_ID,
                              oidc_client_secret=CLIENT_SECRET, oidc_roles_claim="groups",
                              oidc_role_mapping={"ntc-registrars": "registrar", "ntc-admins": "administrator"})


@pytest.fixture
async def browser(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.asgi_app, client=("203.0.113.40", 5000)),
                                 base_url="https://gateway.test", headers={"Accept-Language": "en"}) as client:
        yield client


async def through_provider(browser: httpx.AsyncClient, *, tamper: dict[str, str] | None = None) -> httpx.Response:
    """Click "Sign in", let the provider approve, and come back to the gateway's callback."""
    start = await browser.get("/sign-in/oidc")
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    async with httpx.AsyncClient() as outside:
        approved = await outside.get(authorize)
    assert approved.status_code == 302, approved.text
    callback = urlsplit(approved.headers["location"])
    assert callback.netloc == "gateway.test" and callback.path == "/sign-in/oidc/callback"
    params = {name: values[0] for name, values in parse_qs(callback.query).items()} | (tamper or {})
    return await browser.get(callback.path, params=params)


async def test_the_sign_in_page_offers_the_provider_and_no_password(gateway: Gateway,
                                                                    browser: httpx.AsyncClient) -> None:
    page = await browser.get("/sign-in")

    assert 'action="/sign-in/oidc"' in page.text and 'type="password"' not in page.text
    refused = await browser.post("/sign-in", data={"email": EMAIL, "password": "anything at all"})
    assert refused.status_code == 404


async def test_a_staff_member_signs_in_through_the_provider(gateway: Gateway, browser: httpx.AsyncClient,
                                                            provider: FakeProvider) -> None:
    account = await create_account(gateway, email=EMAIL, roles=("analyst",))

    start = await browser.get("/sign-in/oidc")
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == ["https://gateway.test/sign-in/oidc/callback"]
    state_cookie = next(v for v in start.headers.get_list("set-cookie") if v.startswith("ntc_oidc="))
    assert "HttpOnly" in state_cookie and "Secure" in state_cookie and "Path=/sign-in/oidc" in state_cookie

    signed_in = await through_provider(browser)

    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/", signed_in.text
    home = await browser.get("/")
    assert home.status_code == 200 and "Aigerim Sadykova" in home.text
    assert '<span class="user-roles">registrar</span>' in home.text  # the provider's group, mapped
    [request] = provider.token_requests[-1:]
    assert 43 <= len(request["code_verifier"]) <= 128  # the PKCE verifier went to the token endpoint only
    [event] = await audit(gateway, "staff.sign_in")
    assert event.actor == f"staff:{account.id}" and event.detail["method"] == "oidc"
    [changed] = await audit(gateway, "staff.roles_changed")
    assert changed.detail == {"from": ["analyst"], "to": ["registrar"]}
    token = browser.cookies["ntc_session"]
    upstream = await browser.get("/api/v1/registry/x", headers={"Cookie": f"ntc_session={token}"})
    assert upstream.status_code == 200  # the session works as an API credential like a password's would


@pytest.mark.parametrize(("change", "reason"), [
    ({"claims": {"email": "stranger@ntc.example", "groups": ["ntc-registrars"]}}, "unknown_email"),
    ({"claims": {"email": EMAIL, "groups": ["some-other-group"]}}, "no_staff_role"),
    ({"claims": {"email": EMAIL, "email_verified": False, "groups": ["ntc-registrars"]}}, "email_not_verified"),
    ({"claims": {"groups": ["ntc-registrars"]}}, "no_email"),
    ({"nonce_override": "replayed"}, "id_token_claims:invalid_claim"),
    ({"signing_key": "other"}, "id_token_signature"),
])
async def test_the_provider_answer_is_checked(gateway: Gateway, browser: httpx.AsyncClient, provider: FakeProvider,
                                              change: dict[str, Any], reason: str) -> None:
    await create_account(gateway, email=EMAIL, roles=("analyst",))
    for name, value in change.items():
        if name == "signing_key":
            value = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        setattr(provider, name, value)

    refused = await through_provider(browser)

    assert refused.status_code == 400
    assert "did not succeed" in refused.text and "ntc_session" not in browser.cookies
    failures = await audit(gateway, "staff.sign_in_failed")
    assert failures[-1].detail["reason"].startswith(reason.split(":")[0]), failures[-1].detail
    assert not await audit(gateway, "staff.sign_in")


async def test_a_forged_state_or_a_disabled_account_is_refused(gateway: Gateway, browser: httpx.AsyncClient) -> None:
    account = await create_account(gateway, email=EMAIL, roles=("registrar",))

    forged = await through_provider(browser, tamper={"state": "chosen-by-an-attacker"})
    assert forged.status_code == 400
    assert (await audit(gateway, "staff.sign_in_failed"))[-1].detail["reason"] == "state_mismatch"
    start = await browser.get("/sign-in/oidc")  # a cookie edited in the browser fails its signature
    sealed = browser.cookies["ntc_oidc"]
    browser.cookies.set("ntc_oidc", sealed[:-2] + ("AA" if not sealed.endswith("AA") else "BB"),
                        domain="gateway.test", path="/sign-in/oidc")
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    edited = await browser.get("/sign-in/oidc/callback", params={"code": "x", "state": state})
    assert edited.status_code == 400
    assert (await audit(gateway, "staff.sign_in_failed"))[-1].detail["reason"] == "state_missing"
    browser.cookies.clear()
    no_cookie = await browser.get("/sign-in/oidc/callback", params={"code": "x", "state": "y"})
    assert no_cookie.status_code == 400
    assert (await audit(gateway, "staff.sign_in_failed"))[-1].detail["reason"] == "state_missing"

    async with gateway.state.sessionmaker() as session:
        from gateway.staff.service import disable_staff_account

        await disable_staff_account(session, account_id=account.id)
        await session.commit()
    disabled = await through_provider(browser)
    assert disabled.status_code == 400
    assert (await audit(gateway, "staff.sign_in_failed"))[-1].detail["reason"] == "disabled"


def test_oidc_mode_needs_the_provider_settings(keypair: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="oidc_issuer_url, oidc_client_id, oidc_client_secret"):
        GatewaySettings(environment="test", identity_private_key=keypair[0], staff_auth_mode="oidc")


@pytest.mark.parametrize(("claims", "claim", "mapping", "expected"), [
    ({"roles": ["registrar", "analyst"]}, "roles", {}, ("analyst", "registrar")),
    ({"roles": ["registrar", "superuser"]}, "roles", {}, ("registrar",)),
    ({"realm_access": {"roles": ["ntc-admins"]}}, "realm_access.roles", {"ntc-admins": "administrator"},
     ("administrator",)),
    ({"roles": "ntc-admins"}, "roles", {"ntc-admins": "administrator"}, ("administrator",)),
    ({"roles": ["registrar"]}, "roles", {"ntc-admins": "administrator"}, ()),  # with a mapping, only the mapping
    ({"email": "x"}, "roles", {}, None),
])
def test_roles_from_claims(claims: dict[str, Any], claim: str, mapping: dict[str, str],
                           expected: tuple[str, ...] | None) -> None:
    assert roles_from_claims(claims, claim, mapping, STAFF_ROLES) == expected


@pytest.mark.parametrize("verified", ["false", "False", "0", ""])
async def test_an_email_marked_unverified_as_a_string_does_not_sign_in(
        gateway: Gateway, browser: httpx.AsyncClient, provider: FakeProvider, verified: str) -> None:
    """Some providers send ``email_verified`` as a string: "false" says the same as false."""
    await create_account(gateway, email=EMAIL, roles=("registrar",))
    provider.claims = {"email": EMAIL, "email_verified": verified, "groups": ["ntc-registrars"]}

    refused = await through_provider(browser)

    assert refused.status_code == 400 and "ntc_session" not in browser.cookies
    assert (await audit(gateway, "staff.sign_in_failed"))[-1].detail["reason"] == "email_not_verified"
    assert not await audit(gateway, "staff.sign_in")


async def test_an_email_verified_as_the_string_true_signs_in(gateway: Gateway, browser: httpx.AsyncClient,
                                                             provider: FakeProvider) -> None:
    await create_account(gateway, email=EMAIL, roles=("registrar",))
    provider.claims = {"email": EMAIL, "email_verified": "true", "groups": ["ntc-registrars"]}

    assert (await through_provider(browser)).status_code == 303
