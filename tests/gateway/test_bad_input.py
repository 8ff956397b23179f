"""Bad input is answered at the door as problem+json and never reaches a service.

Each case sends to a path of its own and then checks the echo service's record of the
paths it was asked for (``ECHO_SEEN_PATHS``): the refused ones must not be there, and a
good request sent the same way must be, so the check can tell.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.gateway.support import ECHO_SEEN_PATHS, Gateway, GatewayFactory, assert_problem

API = "/api/v1/registry"
JSON = {"Content-Type": "application/json"}


def unique_path() -> str:
    return f"{API}/organisations/{uuid.uuid4()}"


def forwarded(path: str) -> bool:
    return path.removeprefix(API) in ECHO_SEEN_PATHS


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", b'{"name": "Kazakhstan Miners\' Union",'),
    ("application/json; charset=utf-8", b"{'single': 'quotes'}"),
    ("application/merge-patch+json", b'{"name": NaN}'),
    ("APPLICATION/JSON", b"\xff\xfe{}"),  # not UTF-8
    ("application/json", b'{"a": 1} {"b": 2}'),  # two documents
    ("application/json", b"   "),
])
async def test_malformed_json_is_a_400_problem_and_not_forwarded(
        gateway: Gateway, method: str, content_type: str, body: bytes) -> None:
    path = unique_path()

    response = await gateway.client.request(method, path, content=body, headers={"Content-Type": content_type})

    problem = assert_problem(response, 400, "malformed-json")
    assert problem["errors"][0]["rule"] == "malformed_json"
    assert not forwarded(path)


async def test_malformed_chunked_json_is_refused_too(gateway: Gateway) -> None:
    path = unique_path()
    body = b'{"members": [' + b"1, " * 50_000 + b"]"  # no closing brace; larger than the buffering threshold

    response = await gateway.client.post(path, content=_chunks(body, 8_192), headers=JSON)

    assert_problem(response, 400, "malformed-json")
    assert not forwarded(path)


async def test_valid_chunked_json_is_forwarded_whole_with_its_length(gateway: Gateway) -> None:
    path = unique_path()
    body = b'{"members": [' + b"1, " * 50_000 + b"1]}"

    response = await gateway.client.post(path, content=_chunks(body, 8_192), headers=JSON)

    assert response.status_code == 200, response.text
    echo = response.json()
    assert echo["body_length"] == len(body)
    assert forwarded(path)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("content_type", [
    "text/plain", "application/xml", "application/x-www-form-urlencoded", "application/octet-stream",
    "application/jsonx", None,
])
async def test_a_media_type_off_the_list_is_a_415_problem_and_not_forwarded(
        gateway: Gateway, method: str, content_type: str | None) -> None:
    path = unique_path()
    headers = {"Content-Type": content_type} if content_type else {}

    response = await gateway.client.request(method, path, content=b'{"name": "x"}', headers=headers)

    problem = assert_problem(response, 415, "unsupported-media-type")
    assert problem["errors"][0] == {"pointer": "/headers/content-type", "rule": "media_type",
                                    "detail": problem["detail"]}
    assert "application/json" in response.headers["accept-post"]
    assert not forwarded(path)


async def test_a_chunked_body_of_the_wrong_type_is_refused_before_it_is_read(gateway: Gateway) -> None:
    path = unique_path()

    response = await gateway.client.post(path, content=_chunks(b"x" * 200_000, 10_000),
                                         headers={"Content-Type": "application/octet-stream"})

    assert_problem(response, 415, "unsupported-media-type")
    assert not forwarded(path)


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", b'{"name": "\xd0\x9a\xd0\xb0\xd0\xb7\xd0\xb0\xd2\x9b"}'),
    ("application/merge-patch+json", b'{"name": null}'),
    ("application/json", b"[]"),
    ("text/csv", b"name,region\nA,Almaty\n"),
    ("multipart/form-data; boundary=b", b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n--b--\r\n'),
])
async def test_accepted_bodies_are_forwarded(gateway: Gateway, content_type: str, body: bytes) -> None:
    path = unique_path()

    response = await gateway.client.post(path, content=body, headers={"Content-Type": content_type})

    assert response.status_code == 200, response.text
    assert response.json()["body_length"] == len(body)
    assert forwarded(path)


async def test_bodiless_requests_and_other_methods_are_not_checked(gateway: Gateway) -> None:
    empty, deleted, fetched = unique_path(), unique_path(), unique_path()

    assert (await gateway.client.post(empty)).status_code == 200  # no body, no Content-Type needed
    assert (await gateway.client.request("DELETE", deleted, content=b"x",
                                         headers={"Content-Type": "text/plain"})).status_code == 200
    assert (await gateway.client.get(fetched, headers={"Content-Type": "text/plain"})).status_code == 200
    assert forwarded(empty) and forwarded(deleted) and forwarded(fetched)


async def test_the_accepted_media_types_are_a_setting(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(accepted_media_types=["application/json", "Application/XML"])
    xml, csv = unique_path(), unique_path()

    assert (await gateway.client.post(xml, content=b"<a/>", headers={"Content-Type": "application/xml"})
            ).status_code == 200
    assert_problem(await gateway.client.post(csv, content=b"a,b", headers={"Content-Type": "text/csv"}),
                   415, "unsupported-media-type")
    assert forwarded(xml) and not forwarded(csv)


@pytest.mark.parametrize("chunked", [False, True])
async def test_an_oversized_body_is_a_413_problem_and_not_forwarded(make_gateway: GatewayFactory,
                                                                    chunked: bool) -> None:
    gateway = await make_gateway(max_request_body_bytes=50_000)
    body = b'{"padding": "' + b"x" * 60_000 + b'"}'
    path = unique_path()

    response = await gateway.client.post(path, content=_chunks(body, 5_000) if chunked else body,
                                         headers={"Content-Type": "application/json"})

    assert_problem(response, 413, "payload-too-large")
    assert not forwarded(path)


async def test_a_forged_identity_header_is_dropped_not_forwarded(gateway: Gateway) -> None:
    path = unique_path()

    response = await gateway.client.post(path, json={"name": "x"},
                                         headers={"X-NTC-Identity": "forged", "X-User": "root"})

    assert response.status_code == 200
    received = {name.lower() for name, _ in response.json()["headers"]}
    assert "x-ntc-identity" not in received and "x-user" not in received
