"""API clients: client credentials traded for a short-lived bearer token at POST /oauth/token."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from gateway.api_clients.models import ApiClient
from gateway.api_clients.service import hash_secret, register_api_client, revoke_api_client
from gateway.api_clients.tokens import ClientTokens
from gateway.audit.service import events_of
from kernel.identity import IDENTITY_HEADER, Identity, IdentitySigner, IdentityVerifier, generate_keypair
from tests.gateway.support import Gateway, GatewayFactory, assert_problem, received_headers

ROOT = Path(__file__).resolve().parents[2]


async def register(gateway: Gateway, *, roles: tuple[str, ...] = ("reader",),
                   organisation_id: uuid.UUID | None = None) -> tuple[ApiClient, str]:
    async with gateway.state.sessionmaker() as session:
        client, secret = await register_api_client(session, name="ERP", roles=roles, organisation_id=organisation_id)
        await session.commit()
    return client, secret


async def ask_token(gateway: Gateway, form: dict[str, str], **kwargs: Any):
    return await gateway.client.post("/oauth/token", data=form, **kwargs)


async def get_token(gateway: Gateway, client: ApiClient, secret: str) -> str:
    response = await ask_token(gateway, {"grant_type": "client_credentials", "client_id": str(client.id),
                                         "client_secret": secret})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def oauth_error(response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == error


def forwarded_identity(gateway: Gateway, response) -> Identity:
    tokens = received_headers(response.json()).get(IDENTITY_HEADER, [])
    assert len(tokens) == 1, tokens
    return IdentityVerifier(gateway.public_pem).verify(tokens[0])


async def test_token_is_issued_and_accepted_through_the_forwarder(gateway: Gateway) -> None:
    organisation_id = uuid.uuid4()
    client, secret = await register(gateway, roles=("employer", "negotiator"), organisation_id=organisation_id)

    response = await ask_token(gateway, {"grant_type": "client_credentials", "client_id": str(client.id),
                                         "client_secret": secret})

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    assert response.headers["cache-control"] == "no-store"
    forwarded = await gateway.client.get("/api/v1/bargaining/negotiations",
                                         headers={"Authorization": f"Bearer {body['access_token']}"})
    assert forwarded.status_code == 200, forwarded.text
    identity = forwarded_identity(gateway, forwarded)
    assert (identity.subject, identity.kind) == (f"api-client:{client.id}", "api-client")
    assert identity.organisation_id == str(organisation_id)
    assert identity.roles == {"employer", "negotiator"}
    assert "authorization" not in received_headers(forwarded.json())  # the access token stays at the gateway
    async with gateway.state.sessionmaker() as session:
        issued = await events_of(session, "api_client.token_issued")
        stored = await session.get(ApiClient, client.id)
    assert [event.subject for event in issued] == [f"api-client:{client.id}"]
    assert stored is not None and stored.last_used_at is not None


async def test_http_basic_client_authentication(gateway: Gateway) -> None:
    client, secret = await register(gateway)
    basic = base64.b64encode(f"{client.id}:{secret}".encode()).decode()

    response = await ask_token(gateway, {"grant_type": "client_credentials"},
                               headers={"Authorization": f"Basic {basic}"})

    assert response.status_code == 200, response.text
    both = await ask_token(gateway, {"grant_type": "client_credentials", "client_id": str(client.id)},
                           headers={"Authorization": f"Basic {basic}"})
    oauth_error(both, 400, "invalid_request")


async def test_wrong_secret_is_invalid_client(gateway: Gateway) -> None:
    client, secret = await register(gateway)

    for client_id, wrong in [(str(client.id), secret[:-2] + "xx"), (str(uuid.uuid4()), secret), ("not-a-uuid", secret),
                             (str(client.id), "")]:
        response = await ask_token(gateway, {"grant_type": "client_credentials", "client_id": client_id,
                                             "client_secret": wrong})
        oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Basic")


async def test_revoked_client_gets_no_token(gateway: Gateway) -> None:
    client, secret = await register(gateway)
    await get_token(gateway, client, secret)
    async with gateway.state.sessionmaker() as session:
        await revoke_api_client(session, client.id)
        await session.commit()

    response = await ask_token(gateway, {"grant_type": "client_credentials", "client_id": str(client.id),
                                         "client_secret": secret})

    oauth_error(response, 401, "invalid_client")
    async with gateway.state.sessionmaker() as session:
        assert len(await events_of(session, "api_client.revoked")) == 1


@pytest.mark.parametrize(("form", "error"), [
    ({"client_id": "x", "client_secret": "y"}, "invalid_request"),
    ({"grant_type": "password", "client_id": "x", "client_secret": "y"}, "unsupported_grant_type"),
    ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
])
async def test_grant_type_is_required_and_only_client_credentials(gateway: Gateway, form: dict[str, str],
                                                                   error: str) -> None:
    oauth_error(await ask_token(gateway, form), 400, error)


async def test_a_json_body_is_an_invalid_request(gateway: Gateway) -> None:
    response = await gateway.client.post("/oauth/token", json={"grant_type": "client_credentials"})
    oauth_error(response, 400, "invalid_request")


async def test_expired_token_is_a_401_problem(gateway: Gateway, keypair: tuple[str, str]) -> None:
    client, _ = await register(gateway)
    tokens = ClientTokens(keypair[0], lifetime=timedelta(minutes=15))
    expired = tokens.issue(client, now=datetime.now(UTC) - timedelta(minutes=30))

    response = await gateway.client.get("/api/v1/registry/x", headers={"Authorization": f"Bearer {expired}"})

    body = assert_problem(response, 401, "unauthenticated")
    assert "expired" in body["detail"]


async def test_token_signed_by_another_key_is_refused(gateway: Gateway) -> None:
    client, _ = await register(gateway)
    forged = ClientTokens(generate_keypair()[0], lifetime=timedelta(minutes=15)).issue(client)

    response = await gateway.client.get("/api/v1/registry/x", headers={"Authorization": f"Bearer {forged}"})

    assert_problem(response, 401, "unauthenticated")


async def test_a_service_identity_token_is_no_access_token(gateway: Gateway, keypair: tuple[str, str]) -> None:
    """The same key signs both kinds; the audience (and type) keep them apart."""
    staff = Identity(subject="x", kind="staff", roles=frozenset({"registrar"}))
    identity_token = IdentitySigner(keypair[0]).sign(staff)
    retyped = jwt.encode({**jwt.decode(identity_token, options={"verify_signature": False}),
                          "aud": "ntc-services"}, _private(keypair[0]), algorithm="EdDSA", headers={"typ": "at+jwt"})

    for token in (identity_token, retyped):
        response = await gateway.client.get("/api/v1/registry/x", headers={"Authorization": f"Bearer {token}"})
        assert_problem(response, 401, "unauthenticated")


def _private(pem: str):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem.encode(), password=None)


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GATEWAY_DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


async def test_cli_creates_a_client_shown_once_and_revokes_it(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path}/gateway.db"
    organisation_id = uuid.uuid4()

    created = _cli("create-api-client", "--name", "Employer ERP", "--roles", "employer",
                   "--organisation", str(organisation_id), database_url=database_url)

    assert created.returncode == 0, created.stderr
    lines = dict(line.split(" ", 1) for line in created.stdout.strip().splitlines())
    client_id, secret = lines["client_id"], lines["client_secret"]
    assert len(secret) >= 40
    gateway = await make_gateway(database_url=database_url)
    async with gateway.state.sessionmaker() as session:
        stored = await session.scalar(select(ApiClient).where(ApiClient.id == uuid.UUID(client_id)))
    assert stored is not None and stored.secret_hash == hash_secret(secret)
    assert secret not in repr(stored.model_dump())
    token = (await ask_token(gateway, {"grant_type": "client_credentials", "client_id": client_id,
                                       "client_secret": secret})).json()["access_token"]
    forwarded = await gateway.client.get("/api/v1/registry/x", headers={"Authorization": f"Bearer {token}"})
    assert forwarded_identity(gateway, forwarded).organisation_id == str(organisation_id)

    revoked = _cli("revoke-api-client", "--id", client_id, database_url=database_url)

    assert revoked.returncode == 0, revoked.stderr
    refused = await ask_token(gateway, {"grant_type": "client_credentials", "client_id": client_id,
                                        "client_secret": secret})
    oauth_error(refused, 401, "invalid_client")
    listed = _cli("list-api-clients", database_url=database_url)
    assert "Employer ERP" in listed.stdout and "revoked" in listed.stdout and secret not in listed.stdout
    async with gateway.state.sessionmaker() as session:
        assert len(await events_of(session, "api_client.created")) == 1
