"""Gateway security audit: each test here failed on the code before its fix."""

from __future__ import annotations

import pytest

from tests.gateway.support import Gateway, assert_problem


@pytest.mark.parametrize("path", [
    "/api/v1/registry/%6Detrics",  # the service's server decodes it to /metrics
    "/api/v1/registry/%6detrics/",
    "/api/v1/registry/metrics%2F",
    "/api/v1/registry/%2Fmetrics",
    "/api/v1/registry//metrics",
])
async def test_an_encoded_spelling_of_an_internal_path_is_not_forwarded(gateway: Gateway, path: str) -> None:
    assert_problem(await gateway.client.get(path), 404, "not-found")


@pytest.mark.parametrize("path", ["/api/v1/registry/x%2F..%2Fmetrics", "/api/v1/registry/x%2f%2e%2e%2fadmin",
                                  "/api/v1/registry/x%2F.%2Fy"])
async def test_dot_segments_behind_an_encoded_slash_are_refused(gateway: Gateway, path: str) -> None:
    assert_problem(await gateway.client.get(path), 400, "dot-segment")


async def test_ordinary_encoded_paths_still_go_through(gateway: Gateway) -> None:
    for path, raw in (("/api/v1/registry/metrics-report", "/metrics-report"),
                      ("/api/v1/disputes/files/a%2Fb/c%20d", "/files/a%2Fb/c%20d"),
                      ("/api/v1/registry/a..b/%2E%2Ex", "/a..b/..x")):
        response = await gateway.client.get(path)
        assert response.status_code == 200, path
        assert response.json()["raw_path"] == raw



async def test_a_cookie_authenticated_write_under_a_root_path_needs_the_csrf_header(gateway: Gateway) -> None:
    """The gateway served under a path prefix (uvicorn --root-path): the forwarder still forwards
    /<root>/api/v1/..., so the CSRF check must look at the same requests."""
    import httpx

    from tests.gateway.test_staff import create_account, sign_in

    await create_account(gateway, roles=("registrar",))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.asgi_app, client=("203.0.113.9", 50001)),
                                 base_url="https://gateway.test", headers={"Accept-Language": "en"}) as browser:
        assert (await sign_in(browser)).status_code == 303
        token = browser.cookies["ntc_session"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.asgi_app, root_path="/ntc",
                                                               client=("203.0.113.9", 50001)),
                                 base_url="https://gateway.test") as prefixed:
        forged = await prefixed.post("/ntc/api/v1/registry/organisations", json={"name": "x"},
                                     headers={"Cookie": f"ntc_session={token}"})

    assert_problem(forged, 403, "csrf")
    assert "x-echo" not in forged.headers


def test_an_ipv6_caller_cannot_dodge_an_address_budget_by_changing_address_within_its_64() -> None:
    from gateway.limits import RateLimited, RateLimiter

    limiter = RateLimiter(per_address="3/minute", sign_in_per_address="2/minute")
    one_subscriber = [{"client": (f"2001:db8:1:2::{n:x}", 40000)} for n in range(1, 10)]

    limiter.admit_sign_in(one_subscriber[0])
    limiter.admit_sign_in(one_subscriber[1])
    with pytest.raises(RateLimited):
        limiter.admit_sign_in(one_subscriber[2])
    for scope in one_subscriber[3:6]:
        limiter.refused(scope)
    with pytest.raises(RateLimited):
        limiter.refused(one_subscriber[6])
    # Another /64 (another subscriber) and IPv4 addresses keep budgets of their own.
    limiter.admit_sign_in({"client": ("2001:db8:1:3::1", 40000)})
    limiter.admit_sign_in({"client": ("198.51.100.1", 40000)})
    limiter.admit_sign_in({"client": ("198.51.100.2", 40000)})
    limiter.admit_sign_in({"client": ("198.51.100.2", 40000)})
    with pytest.raises(RateLimited):
        limiter.admit_sign_in({"client": ("::ffff:198.51.100.2", 40000)})  # the same IPv4 caller, mapped
