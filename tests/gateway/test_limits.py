"""Rate limits at the gateway (per credential, per client address) and the CORS policy, against a real upstream."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from gateway.limits import RateLimiter
from kernel.identity import ANONYMOUS, Identity
from tests.gateway.support import Gateway, GatewayFactory, assert_problem

API = "/api/v1/registry/organisations"


def other_client(gateway: Gateway, address: str) -> httpx.AsyncClient:
    """A second caller of the same gateway, from another address."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.asgi_app, client=(address, 40000)),
                             base_url="http://gateway.test", timeout=30)


def assert_rate_limited(response: httpx.Response, limit: int) -> dict[str, Any]:
    body = assert_problem(response, 429, "rate-limited")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert response.headers["ratelimit-limit"] == str(limit)
    assert response.headers["ratelimit-remaining"] == "0"
    assert 0 <= int(response.headers["ratelimit-reset"]) <= 60
    return body


async def test_the_request_past_a_credentials_budget_is_refused_and_another_credential_is_not(
        make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(rate_limit_per_credential="3/minute", rate_limit_per_address="100/minute")
    _, first = await gateway.issue_key(name="first")
    _, second = await gateway.issue_key(name="second")

    remaining = []
    for _ in range(3):
        response = await gateway.client.get(API, headers={"Authorization": f"Bearer {first}"})
        assert response.status_code == 200, response.text
        assert response.headers["x-echo"] == "1"  # it was forwarded
        assert response.headers["ratelimit-limit"] == "3"
        remaining.append(int(response.headers["ratelimit-remaining"]))
    assert remaining == [2, 1, 0]

    refused = await gateway.client.get(API, headers={"Authorization": f"Bearer {first}"})
    body = assert_rate_limited(refused, 3)
    assert "x-echo" not in refused.headers  # answered at the door, never forwarded
    assert "credential" in body["detail"]
    # The same key in the other header is the same credential: the budget is the identity's, not the header's.
    assert (await gateway.client.get(API, headers={"X-API-Key": first})).status_code == 429

    other = await gateway.client.get(API, headers={"X-API-Key": second})
    assert other.status_code == 200
    assert other.headers["ratelimit-remaining"] == "2"


async def test_anonymous_callers_are_limited_per_address(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(rate_limit_per_address="2/minute", rate_limit_per_credential="100/minute")
    for _ in range(2):
        assert (await gateway.client.get(API)).status_code == 200
    assert_rate_limited(await gateway.client.get(API), 2)
    # Another address has its own budget, and so has a credential from the exhausted address.
    async with other_client(gateway, "198.51.100.20") as elsewhere:
        assert (await elsewhere.get(API)).status_code == 200
    _, key = await gateway.issue_key()
    assert (await gateway.client.get(API, headers={"X-API-Key": key})).status_code == 200


async def test_a_flood_of_bogus_keys_is_limited_per_address(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(rate_limit_per_address="3/minute", rate_limit_per_credential="100/minute")
    statuses = []
    for _ in range(5):
        response = await gateway.client.get(API, headers={"X-API-Key": "ntc_" + secrets.token_urlsafe(24)})
        statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 429, 429]
    assert_rate_limited(response, 3)


async def test_health_routes_are_never_limited(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(rate_limit_per_address="1/minute")
    for _ in range(5):
        for path in ("/healthz", "/readyz", "/metrics"):
            response = await gateway.client.get(path)
            assert response.status_code == 200, (path, response.text)
            assert "ratelimit-limit" not in response.headers
    # ... nor did they use up the address's budget.
    assert (await gateway.client.get(API)).status_code == 200
    assert (await gateway.client.get(API)).status_code == 429


async def test_the_gateways_own_documents_are_limited_per_address(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(rate_limit_per_address="2/minute")
    assert (await gateway.client.get("/docs")).status_code == 200
    assert (await gateway.client.get("/asyncapi.json")).status_code == 200
    assert_rate_limited(await gateway.client.get("/openapi.json"), 2)


async def test_limits_can_be_turned_off(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(rate_limit_enabled=False, rate_limit_per_address="1/minute")
    for _ in range(4):
        response = await gateway.client.get(API)
        assert response.status_code == 200
        assert "ratelimit-limit" not in response.headers


def test_the_limiter_keys_on_the_identity() -> None:
    limiter = RateLimiter(per_credential="1/minute", per_address="1/minute")
    scope = {"client": ("192.0.2.1", 1)}
    alice = Identity(subject="key-1", kind="api_key")
    assert limiter.admit(alice, scope) is not None
    with pytest.raises(Exception, match="rate limit"):
        limiter.admit(alice, {"client": ("192.0.2.99", 1)})  # a new address does not reset a credential
    assert limiter.admit(Identity(subject="key-2", kind="api_key"), scope) is not None
    assert limiter.admit(ANONYMOUS, scope) is not None  # the address budget is separate
    assert RateLimiter(enabled=False).admit(alice, scope) is None


def test_a_malformed_rate_is_refused_at_start_up(gateway_settings) -> None:
    with pytest.raises(ValueError, match="not a rate"):
        gateway_settings(rate_limit_per_credential="lots")


# --- CORS ---------------------------------------------------------------------------

PREFLIGHT = {"Origin": "https://partner.example", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


async def test_cors_is_closed_by_default(gateway: Gateway) -> None:
    for path in (API, "/healthz", "/docs"):
        preflight = await gateway.client.options(path, headers=PREFLIGHT)
        assert "access-control-allow-origin" not in preflight.headers, path
        simple = await gateway.client.get(path, headers={"Origin": "https://partner.example"})
        assert "access-control-allow-origin" not in simple.headers, path


async def test_cors_opens_for_a_configured_origin_only(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(cors_allowed_origins=["https://partner.example"])
    preflight = await gateway.client.options(API, headers=PREFLIGHT)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://partner.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers  # no cookies across origins

    simple = await gateway.client.get(API, headers={"Origin": "https://partner.example"})
    assert simple.status_code == 200
    assert simple.headers["access-control-allow-origin"] == "https://partner.example"
    assert "ratelimit-remaining" in simple.headers["access-control-expose-headers"].lower()

    stranger = await gateway.client.options(API, headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in stranger.headers

