"""The registry's procedure as its users meet it: through the gateway, each with their own credential.

The registry runs as a real process (uvicorn, its own database, a real nats-server); the
gateway runs in front of it. A ministry system holding a registrar's key registers a union,
refuses another with grounds, and confirms a status; the union's own key shows it its own
history; an employer's key meets 404 on everything of the union's that is not public.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.registry.organisations.rules import make_bin
from tests.gateway.support import Gateway, GatewayFactory
from tests.support.processes import ServiceProcess

REGISTRY = "/api/v1/registry"
DOCUMENTS = ["application_form", "charter", "founding_congress_minutes", "elected_bodies_decision",
             "legal_address_document"]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def gateway_with_registry(make_database, nats_server, public_key: str, make_gateway: GatewayFactory,
                                tmp_path: Path) -> AsyncIterator[Gateway]:
    process = ServiceProcess("registry", {
        "REGISTRY_DATABASE_URL": await make_database("registry"),
        "REGISTRY_NATS_URL": nats_server.url,
        "REGISTRY_IDENTITY_PUBLIC_KEY": public_key,
        "REGISTRY_ENVIRONMENT": "test",
        "REGISTRY_LOG_LEVEL": "WARNING",
    }, tmp_path)
    await asyncio.to_thread(process.start)
    try:
        yield await make_gateway(service_urls={"registry": process.url}, rate_limit_enabled=False)
    finally:
        await asyncio.to_thread(process.stop)


async def test_registrar_union_and_employer_each_see_what_they_should(gateway_with_registry: Gateway) -> None:
    gateway = gateway_with_registry
    client = gateway.client
    _, registrar_key = await gateway.issue_key(roles=("registrar",), name="ministry registry system")
    registrar = bearer(registrar_key)

    def application(name: str, founders: int, documents: list[str]) -> dict[str, object]:
        return {"kind": "local_union", "name_kk": f"{name} кәсіподағы", "name_ru": f"Профсоюз {name}",
                "region_code": "350000000", "founders": founders, "documents": documents}

    # The applicants check their files first: the pre-check is public and lists every failing rule.
    check = await client.post(f"{REGISTRY}/registrations/pre-check",
                              json={"kind": "local_union", "founders": 2, "documents": ["charter"]})
    assert check.status_code == 200, check.text
    assert [g["rule"] for g in check.json()["grounds"]] == ["min_founders", "founding_documents"]

    good = await client.post(f"{REGISTRY}/registrations", headers=registrar,
                             json=application("шахтёров", 25, DOCUMENTS))
    weak = await client.post(f"{REGISTRY}/registrations", headers=registrar,
                             json=application("горняков", 4, DOCUMENTS[:2]))
    assert good.status_code == weak.status_code == 201, (good.text, weak.text)

    registered = await client.post(f"{REGISTRY}/registrations/{good.json()['id']}/decision", headers=registrar,
                                   json={"outcome": "register"})
    assert registered.status_code == 200, registered.text
    refused = await client.post(f"{REGISTRY}/registrations/{weak.json()['id']}/decision", headers=registrar, json={
        "outcome": "refuse", "grounds": [{"rule": "name_already_registered", "detail": "the same name in Karaganda"}]})
    assert refused.status_code == 200, refused.text
    assert [g["rule"] for g in refused.json()["grounds"]] == [
        "min_founders", "founding_documents", "name_already_registered"]

    union_id = good.json()["organisation_id"]
    _, union_key = await gateway.issue_key(roles=("union",), organisation_id=uuid.UUID(union_id), name="union")
    union = bearer(union_key)
    filed = await client.post(f"{REGISTRY}/organisations/{union_id}/status-confirmations", headers=union,
                              json={"regions_covered": ["350000000"], "members": 240})
    assert filed.status_code == 201, filed.text
    confirmed = await client.post(
        f"{REGISTRY}/organisations/{union_id}/status-confirmations/{filed.json()['id']}/decision",
        headers=registrar, json={"outcome": "confirm"})
    assert confirmed.status_code == 200, confirmed.text
    assert (await client.get(f"{REGISTRY}/organisations/{union_id}")).json()["status"] == "confirmed"

    # The union sees its own whole history.
    history = await client.get(f"{REGISTRY}/organisations/{union_id}/history", headers=union)
    assert history.status_code == 200, history.text
    assert [h["action"] for h in history.json()] == [
        "application_submitted", "registered", "status_confirmation_filed", "status_confirmed"]
    own = await client.get(f"{REGISTRY}/registrations", headers=union)
    assert [a["organisation_id"] for a in own.json()["items"]] == [union_id]

    # An employer's key reaches the union's public particulars, and nothing else of it.
    employer = await client.post(f"{REGISTRY}/organisations", headers=registrar, json={
        "kind": "employer", "name_kk": "Көмір АҚ", "name_ru": "АО Уголь", "bin": make_bin("07014000555")})
    assert employer.status_code == 201, employer.text
    _, employer_key = await gateway.issue_key(roles=("employer",), organisation_id=uuid.UUID(employer.json()["id"]),
                                              name="employer system")
    stranger = bearer(employer_key)
    assert (await client.get(f"{REGISTRY}/organisations/{union_id}", headers=stranger)).status_code == 200
    missing = await client.get(f"{REGISTRY}/organisations/{uuid.uuid4()}/history", headers=stranger)
    for path in (f"/organisations/{union_id}/history", f"/organisations/{union_id}/membership",
                 f"/organisations/{union_id}/status-confirmations", f"/registrations/{good.json()['id']}",
                 f"/organisations/{weak.json()['organisation_id']}"):
        response = await client.get(f"{REGISTRY}{path}", headers=stranger)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["title"] == missing.json()["title"]
    assert (await client.get(f"{REGISTRY}/registrations", headers=stranger)).json()["items"] == []
    # And it cannot decide anything, even with a registrar's role on a key bound to its organisation.
    _, bound_key = await gateway.issue_key(roles=("registrar",), organisation_id=uuid.UUID(employer.json()["id"]),
                                           name="bound")
    attempt = await client.post(f"{REGISTRY}/registrations/{weak.json()['id']}/decision", headers=bearer(bound_key),
                                json={"outcome": "register"})
    assert attempt.status_code == 403
    # Without credentials, a private route answers 401.
    assert (await client.get(f"{REGISTRY}/organisations/{union_id}/history")).status_code == 401
