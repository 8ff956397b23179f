"""API keys: who the service is told the caller is, and who is turned away."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.api_keys.models import ApiKey
from gateway.api_keys.service import SHOWN_PREFIX_LENGTH, hash_key, revoke_api_key
from kernel.identity import IDENTITY_HEADER, IdentityVerifier, InvalidIdentity, generate_keypair
from tests.gateway.support import Gateway, GatewayFactory, assert_problem, received_headers

ROOT = Path(__file__).resolve().parents[2]


def identity_token(response) -> str:
    tokens = received_headers(response.json()).get(IDENTITY_HEADER, [])
    assert len(tokens) == 1, tokens
    return tokens[0]


async def test_organisation_key_gives_the_service_a_verifiable_identity(gateway: Gateway) -> None:
    organisation_id = uuid.uuid4()
    api_key, key = await gateway.issue_key(roles=("employer", "negotiator"), organisation_id=organisation_id)

    response = await gateway.client.get("/api/v1/bargaining/negotiations", headers={"Authorization": f"Bearer {key}"})

    identity = IdentityVerifier(gateway.public_pem).verify(identity_token(response))
    assert identity.subject == f"api-key:{api_key.id}"
    assert identity.kind == "organisation-key"
    assert identity.organisation_id == str(organisation_id)
    assert identity.roles == {"employer", "negotiator"}
    received = received_headers(response.json())
    assert "authorization" not in received and "x-api-key" not in received


async def test_key_without_organisation_is_an_api_client(gateway: Gateway) -> None:
    api_key, key = await gateway.issue_key(roles=("registrar",))

    response = await gateway.client.get("/api/v1/registry/organisations", headers={"X-API-Key": key})

    identity = IdentityVerifier(gateway.public_pem).verify(identity_token(response))
    assert (identity.subject, identity.kind, identity.organisation_id) == (f"api-key:{api_key.id}", "api-client", None)
    assert identity.roles == {"registrar"}


async def test_a_token_signed_with_another_key_does_not_verify(gateway: Gateway) -> None:
    _, key = await gateway.issue_key()
    response = await gateway.client.get("/api/v1/registry/x", headers={"X-API-Key": key})

    with pytest.raises(InvalidIdentity):
        IdentityVerifier(generate_keypair()[1]).verify(identity_token(response))


async def test_forged_identity_is_replaced_by_the_signed_one(gateway: Gateway) -> None:
    _, key = await gateway.issue_key(roles=("reader",))

    response = await gateway.client.get("/api/v1/registry/x", headers={
        "Authorization": f"Bearer {key}", "X-NTC-Identity": "forged.token.value"})

    token = identity_token(response)
    assert token != "forged.token.value"
    assert IdentityVerifier(gateway.public_pem).verify(token).roles == {"reader"}


async def test_anonymous_callers_are_forwarded_without_identity(gateway: Gateway) -> None:
    response = await gateway.client.get("/api/v1/registry/organisations", headers={"X-NTC-Identity": "forged"})

    assert response.status_code == 200
    assert IDENTITY_HEADER not in received_headers(response.json())


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer ntc_" + "A" * 43},
    {"X-API-Key": "ntc_" + "B" * 43},
    {"X-API-Key": "not-a-key"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic YWRtaW46YWRtaW4="},
    {"Authorization": "Bearer some.jwt.token"},
])
async def test_bad_credentials_are_a_401_problem(gateway: Gateway, headers: dict[str, str]) -> None:
    response = await gateway.client.get("/api/v1/registry/organisations", headers=headers)

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_two_different_keys_in_one_request_are_refused(gateway: Gateway) -> None:
    _, first = await gateway.issue_key()
    _, second = await gateway.issue_key()

    response = await gateway.client.get("/api/v1/registry/x", headers={"Authorization": f"Bearer {first}",
                                                                          "X-API-Key": second})

    assert_problem(response, 401, "unauthenticated")


async def test_revoked_key_is_refused(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(api_key_cache_seconds=0)
    api_key, key = await gateway.issue_key()
    assert (await gateway.client.get("/api/v1/registry/x", headers={"X-API-Key": key})).status_code == 200

    async with gateway.state.sessionmaker() as session:
        await revoke_api_key(session, prefix=api_key.prefix)
        await session.commit()
    response = await gateway.client.get("/api/v1/registry/x", headers={"X-API-Key": key})

    assert_problem(response, 401, "unauthenticated")


async def test_revocation_takes_effect_once_the_cached_verdict_expires(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(api_key_cache_seconds=300)
    api_key, key = await gateway.issue_key()
    assert (await gateway.client.get("/api/v1/registry/x", headers={"X-API-Key": key})).status_code == 200
    async with gateway.state.sessionmaker() as session:
        await revoke_api_key(session, key_id=api_key.id)
        await session.commit()

    # Documented behaviour: the verdict is cached, so the key still works until it expires...
    assert (await gateway.client.get("/api/v1/registry/x", headers={"X-API-Key": key})).status_code == 200
    gateway.state.api_keys.forget()  # ...which is what forgetting the cache stands in for here
    assert (await gateway.client.get("/api/v1/registry/x", headers={"X-API-Key": key})).status_code == 401


async def test_concurrent_first_uses_share_one_lookup(gateway: Gateway) -> None:
    _, key = await gateway.issue_key()
    lookups = 0
    fetch = gateway.state.api_keys._fetch

    async def counting_fetch(digest: str):
        nonlocal lookups
        lookups += 1
        return await fetch(digest)

    gateway.state.api_keys._fetch = counting_fetch  # type: ignore[method-assign]
    responses = await asyncio.gather(*(gateway.client.get("/api/v1/registry/x", headers={"X-API-Key": key})
                                       for _ in range(20)))

    assert {r.status_code for r in responses} == {200}
    assert lookups == 1


async def test_last_used_is_written_in_batches_not_per_request(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(api_key_last_used_write_seconds=0.05)
    api_key, key = await gateway.issue_key()
    for _ in range(5):
        await gateway.client.get("/api/v1/registry/x", headers={"X-API-Key": key})

    deadline = time.monotonic() + 10
    last_used = None
    while last_used is None and time.monotonic() < deadline:
        async with gateway.state.sessionmaker() as session:
            last_used = await session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == api_key.id))
        if last_used is None:
            await asyncio.sleep(0.02)  # polling, bounded by the deadline
    assert last_used is not None
    assert last_used.tzinfo is not None


async def test_last_used_is_not_written_on_the_request_path(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(api_key_last_used_write_seconds=3600)
    api_key, key = await gateway.issue_key()

    for _ in range(3):
        assert (await gateway.client.get("/api/v1/registry/x", headers={"X-API-Key": key})).status_code == 200

    async with gateway.state.sessionmaker() as session:
        assert await session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == api_key.id)) is None
    await gateway.state.api_keys.write_last_used()  # what the writer does once a minute, and at shutdown
    async with gateway.state.sessionmaker() as session:
        assert await session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == api_key.id)) is not None


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GATEWAY_DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


async def test_cli_issues_a_key_shown_once_and_revokes_it(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path}/gateway.db"
    organisation_id = uuid.uuid4()

    created = _cli("create-api-key", "--name", "Employer ERP", "--roles", "employer,negotiator",
                   "--organisation", str(organisation_id), database_url=database_url)

    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert created.stdout == key + "\n"  # only the key, on stdout
    assert key.startswith("ntc_") and len(key) >= 40
    gateway = await make_gateway(database_url=database_url, api_key_cache_seconds=0)
    async with gateway.state.sessionmaker() as session:
        stored = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    assert stored is not None and stored.prefix == key[:SHOWN_PREFIX_LENGTH]
    assert stored.organisation_id == organisation_id
    assert key not in repr(stored.model_dump())  # only the hash is kept
    response = await gateway.client.get("/api/v1/registry/x", headers={"Authorization": f"Bearer {key}"})
    assert IdentityVerifier(gateway.public_pem).verify(identity_token(response)).organisation_id == str(organisation_id)

    revoked = _cli("revoke-api-key", "--prefix", key[:SHOWN_PREFIX_LENGTH], database_url=database_url)

    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout == ""
    assert_problem(await gateway.client.get("/api/v1/registry/x", headers={"X-API-Key": key}), 401, "unauthenticated")
    listed = _cli("list-api-keys", database_url=database_url)
    assert "Employer ERP" in listed.stdout and "revoked" in listed.stdout and key not in listed.stdout


def test_cli_refuses_an_unknown_prefix(tmp_path: Path) -> None:
    result = _cli("revoke-api-key", "--prefix", "ntc_zzzz", database_url=f"sqlite+aiosqlite:///{tmp_path}/g.db")

    assert result.returncode == 1
    assert "No live API key" in result.stderr
