"""Liveness, readiness (the gateway's own and its services'), metrics and the status page."""

from __future__ import annotations

from tests.gateway.support import SERVICES, Gateway, GatewayFactory


async def test_healthz(gateway: Gateway) -> None:
    response = await gateway.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "gateway"}


async def test_readyz_is_200_when_every_service_is_ready(gateway: Gateway) -> None:
    response = await gateway.client.get("/readyz")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "migrations": "ok"}
    assert set(body["services"]) == set(SERVICES)
    for name in SERVICES:
        assert body["services"][name] == {"status": "ready", "checks": {"database": "ok", "nats": "ok"}}


async def test_readyz_is_503_and_names_the_service_that_is_down(make_gateway: GatewayFactory, echo_url: str,
                                                                down_url: str) -> None:
    gateway = await make_gateway(service_urls={"registry": echo_url, "bargaining": echo_url,
                                               "disputes": down_url, "notifications": echo_url})

    response = await gateway.client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["services"]["disputes"]["status"] == "unreachable"
    assert {name for name, answer in body["services"].items() if answer["status"] == "ready"} == {
        "registry", "bargaining", "notifications"}


async def test_readyz_is_503_when_a_service_reports_not_ready(make_gateway: GatewayFactory, echo_url: str) -> None:
    gateway = await make_gateway(service_urls={"registry": echo_url, "disputes": f"{echo_url}/not-ready"})

    response = await gateway.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["services"] == {
        "registry": {"status": "ready", "checks": {"database": "ok", "nats": "ok"}},
        "disputes": {"status": "not ready", "checks": {"nats": "disconnected"}},
    }


async def test_readyz_bounds_a_hanging_service(make_gateway: GatewayFactory, echo_url: str) -> None:
    gateway = await make_gateway(service_urls={"registry": echo_url, "disputes": f"{echo_url}/hanging"},
                                 readiness_timeout_seconds=0.3)

    response = await gateway.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["services"]["disputes"]["status"] == "timeout"


async def test_metrics(gateway: Gateway) -> None:
    await gateway.client.get("/api/v1/registry/x")

    response = await gateway.client.get("/metrics")

    assert response.status_code == 200
    assert "ntc_http_requests_total" in response.text
    assert 'ntc_gateway_upstream_seconds_count{service="registry"}' in response.text


async def test_status_page(make_gateway: GatewayFactory, echo_url: str, down_url: str) -> None:
    gateway = await make_gateway(service_urls={"registry": echo_url, "disputes": down_url})

    response = await gateway.client.get("/status", headers={"Accept-Language": "en"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<title>National Tripartite Commission — social dialogue platform</title>" in html
    for link in ('href="/docs"', 'href="/api/v1/registry/docs"', 'href="/api/v1/registry/asyncapi.json"',
                 'href="/api/v1/disputes/docs"', 'href="/api/v1/disputes/asyncapi.json"'):
        assert link in html, link
    assert "unreachable" in html
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    stylesheet = await gateway.client.get("/portal/static/portal.css")
    assert stylesheet.status_code == 200 and "text/css" in stylesheet.headers["content-type"]


async def test_status_page_escapes_what_services_report(make_gateway: GatewayFactory, echo_url: str) -> None:
    gateway = await make_gateway(service_urls={"registry": f"{echo_url}/hostile"})

    html = (await gateway.client.get("/status")).text

    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
