"""Forwarding through the gateway to a real upstream over a real socket."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.proxy.headers import is_identity_like
from tests.gateway.support import Gateway, GatewayFactory, assert_problem, big_body_sha256, received_headers


@pytest.mark.parametrize("method", ["GET", "DELETE", "OPTIONS"])
async def test_method_path_and_query_are_forwarded(gateway: Gateway, method: str) -> None:
    response = await gateway.client.request(method, "/api/v1/registry/organisations/42/history?limit=5&kind=a%26b")

    assert response.status_code == 200
    echo = response.json()
    assert echo["method"] == method
    assert echo["raw_path"] == "/organisations/42/history"
    assert echo["query"] == "limit=5&kind=a%26b"
    assert echo["body_length"] == 0
    assert response.headers["x-echo"] == "1"


async def test_head_is_forwarded_without_a_body(gateway: Gateway) -> None:
    response = await gateway.client.head("/api/v1/registry/organisations")

    assert response.status_code == 200
    assert response.headers["x-echo"] == "1"
    assert response.content == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
async def test_body_is_forwarded(gateway: Gateway, method: str) -> None:
    payload = {"name_kk": "Кәсіподақ", "name_ru": "Профсоюз", "members": list(range(50))}

    response = await gateway.client.request(method, "/api/v1/bargaining/negotiations", json=payload)

    echo = response.json()
    assert echo["method"] == method
    assert echo["path"] == "/negotiations"
    assert json.loads(echo["body_text"]) == payload
    assert received_headers(echo)["content-type"] == ["application/json"]


async def test_the_service_root_and_encoded_segments_are_forwarded(gateway: Gateway) -> None:
    root = (await gateway.client.get("/api/v1/disputes")).json()
    encoded = (await gateway.client.get("/api/v1/disputes/files/a%2Fb/c%20d")).json()

    assert root["raw_path"] == "/"
    assert encoded["raw_path"] == "/files/a%2Fb/c%20d"


async def test_each_service_goes_to_its_own_url(make_gateway: GatewayFactory, echo_url: str, down_url: str) -> None:
    gateway = await make_gateway(service_urls={"registry": echo_url, "disputes": down_url})

    assert (await gateway.client.get("/api/v1/registry/x")).status_code == 200
    assert (await gateway.client.get("/api/v1/disputes/x")).status_code == 502


async def test_hop_by_hop_and_identity_headers_never_reach_the_service(gateway: Gateway) -> None:
    forged = {
        "X-NTC-Identity": "forged",
        "X-NTC-Roles": "administrator",
        "X-Identity": "admin",
        "X-User": "admin",
        "X-User-Id": "1",
        "X-Remote-User": "admin",
        "X-Forwarded-User": "admin",
        "X-Auth-Request-User": "admin",
        "X-Authenticated-Userid": "admin",
        "X-Organisation-Id": "00000000-0000-0000-0000-000000000001",
        "X-Organization-Id": "00000000-0000-0000-0000-000000000001",
        "X-Roles": "administrator",
        "Cookie": "session=stolen",
        "X-Forwarded-For": "10.0.0.1",
        "Forwarded": "for=10.0.0.1",
        "X-Real-IP": "10.0.0.1",
    }
    hop_by_hop = {
        "Connection": "keep-alive, X-Drop-Me",
        "X-Drop-Me": "1",
        "Keep-Alive": "timeout=100",
        "TE": "trailers",
        "Trailer": "X-Checksum",
        "Upgrade": "h2c",
        "Proxy-Authorization": "Basic YWRtaW46YWRtaW4=",
        "Proxy-Connection": "keep-alive",
    }

    response = await gateway.client.get("/api/v1/registry/organisations",
                                        headers={**forged, **hop_by_hop, "X-Kept": "yes", "Accept-Language": "kk"})

    received = received_headers(response.json())
    for name in [*forged, *hop_by_hop]:
        if name.lower() in {"x-forwarded-for", "connection", "keep-alive"}:
            continue  # the gateway and its HTTP client write their own; checked below
        assert name.lower() not in received, name
    assert not [name for name in received if is_identity_like(name.encode())]
    assert received["x-forwarded-for"] == ["203.0.113.7"]  # the gateway's peer, not the caller's claim
    assert "timeout=100" not in received.get("keep-alive", [])
    assert received["x-kept"] == ["yes"]
    assert received["accept-language"] == ["kk"]
    assert received["host"] == [gateway.settings.service_urls["registry"].removeprefix("http://")]
    assert received["x-forwarded-host"] == ["gateway.test"]
    assert received["x-forwarded-proto"] == ["http"]


async def test_the_gateway_adds_only_its_own_forwarding_headers(gateway: Gateway) -> None:
    for name in list(gateway.client.headers):  # the test client's defaults (Accept, User-Agent, ...)
        del gateway.client.headers[name]

    response = await gateway.client.get("/api/v1/registry/organisations", headers={"User-Agent": "employer-erp/2.1"})

    received = received_headers(response.json())
    # Neither httpx nor aiohttp may add anything: an Accept-Encoding the caller did not
    # send would get it a compressed answer it cannot read.
    assert set(received) == {"host", "user-agent", "x-request-id", "x-forwarded-for", "x-forwarded-proto",
                             "x-forwarded-host"}
    assert received["user-agent"] == ["employer-erp/2.1"]


async def test_response_hop_by_hop_headers_are_dropped(gateway: Gateway) -> None:
    response = await gateway.client.get("/api/v1/registry/private-headers")

    assert response.status_code == 200
    assert response.text == "ok"
    assert response.headers["x-visible"] == "yes"
    assert response.headers["set-cookie"] == "upstream-session=abc; Path=/"
    for name in ("x-upstream-private", "keep-alive", "proxy-authenticate", "connection"):
        assert name not in response.headers, name
    assert len(response.headers.get_list("x-request-id")) == 1


async def test_upstream_cookies_are_not_kept_for_the_next_caller(gateway: Gateway) -> None:
    await gateway.client.get("/api/v1/registry/private-headers")
    gateway.client.cookies.clear()  # the test client is the caller; it is the gateway that must not remember

    echo = (await gateway.client.get("/api/v1/registry/whoami")).json()

    assert "cookie" not in received_headers(echo)


async def test_request_id_is_propagated(gateway: Gateway) -> None:
    response = await gateway.client.get("/api/v1/registry/x", headers={"X-Request-ID": "case-2024.17:abc"})

    assert received_headers(response.json())["x-request-id"] == ["case-2024.17:abc"]
    assert response.headers.get_list("x-request-id") == ["case-2024.17:abc"]


async def test_malformed_request_id_is_replaced(gateway: Gateway) -> None:
    response = await gateway.client.get("/api/v1/registry/x", headers={"X-Request-ID": "no spaces <allowed>"})

    sent = received_headers(response.json())["x-request-id"]
    assert len(sent) == 1 and re.fullmatch(r"[0-9a-f]{32}", sent[0])
    assert response.headers["x-request-id"] == sent[0]


async def test_traceparent_is_forwarded(gateway: Gateway) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    response = await gateway.client.get("/api/v1/registry/x", headers={"traceparent": traceparent})

    assert received_headers(response.json())["traceparent"] == [traceparent]


async def test_unknown_service_is_a_404_problem(gateway: Gateway) -> None:
    body = assert_problem(await gateway.client.get("/api/v1/payroll/salaries"), 404, "unknown-service")

    assert "registry" in body["detail"]


async def test_service_metrics_are_not_served_through_the_gateway(gateway: Gateway) -> None:
    for path in ("/api/v1/registry/metrics", "/api/v1/registry/metrics/"):
        assert_problem(await gateway.client.get(path), 404, "not-found")
    # Everything else under the service is still forwarded.
    assert (await gateway.client.get("/api/v1/registry/metrics-report")).status_code == 200


async def test_unreachable_service_is_a_502_problem(make_gateway: GatewayFactory, down_url: str) -> None:
    gateway = await make_gateway(service_urls={"registry": down_url})

    body = assert_problem(await gateway.client.get("/api/v1/registry/organisations"), 502, "bad-gateway")

    assert body["service"] == "registry"


async def test_slow_service_is_a_504_problem(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(upstream_read_timeout_seconds=0.2)

    response = await gateway.client.get("/api/v1/registry/slow", params={"seconds": 1.5})

    assert_problem(response, 504, "gateway-timeout")


async def test_large_response_passes_through_intact(gateway: Gateway) -> None:
    size, chunk = 12 * 1024 * 1024 + 7, 64 * 1024

    response = await gateway.client.get("/api/v1/registry/big", params={"size": size, "chunk": chunk})

    assert response.status_code == 200
    assert len(response.content) == size
    assert hashlib.sha256(response.content).hexdigest() == big_body_sha256(size, chunk)


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


async def test_large_chunked_upload_is_streamed_through_intact(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(max_request_body_bytes=4 * 1024 * 1024)
    data = bytes(range(256)) * (3 * 1024 * 4)  # 3 MiB, well above the buffering threshold

    response = await gateway.client.post("/api/v1/notifications/uploads", content=_chunks(data, 100_000),
                                         headers={"Content-Type": "text/csv"})

    echo = response.json()
    assert echo["body_length"] == len(data)
    assert echo["body_sha256"] == hashlib.sha256(data).hexdigest()


async def test_large_upload_with_length_is_streamed_through_intact(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(max_request_body_bytes=4 * 1024 * 1024)
    data = bytes(range(256)) * 4096  # 1 MiB with a Content-Length

    response = await gateway.client.put("/api/v1/notifications/uploads/1", content=data,
                                        headers={"Content-Type": "multipart/form-data; boundary=x"})

    echo = response.json()
    assert echo["body_length"] == len(data)
    assert echo["body_sha256"] == hashlib.sha256(data).hexdigest()
    assert received_headers(echo)["content-length"] == [str(len(data))]


async def test_oversized_body_is_a_413_problem(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(max_request_body_bytes=10_000)

    response = await gateway.client.post("/api/v1/registry/organisations", content=b"x" * 10_001)

    assert_problem(response, 413, "payload-too-large")


async def test_oversized_chunked_body_is_a_413_problem(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(max_request_body_bytes=100_000)

    for content_type in ("application/json", "text/csv"):  # read whole to be parsed, or streamed through
        response = await gateway.client.post("/api/v1/registry/organisations",
                                             content=_chunks(b"x" * 300_000, 20_000),
                                             headers={"Content-Type": content_type})

        assert_problem(response, 413, "payload-too-large")


async def test_an_unexpected_failure_is_a_500_problem(gateway: Gateway) -> None:
    async def broken(credentials: object) -> None:
        raise RuntimeError("the key store fell over")

    gateway.state.authentication.identify = broken  # type: ignore[method-assign]
    transport = httpx.ASGITransport(app=gateway.asgi_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        response = await client.get("/api/v1/registry/x")

    body = assert_problem(response, 500, "internal")
    assert "fell over" not in response.text
    assert body["detail"] == "The error was logged."
