"""The aggregated OpenAPI and AsyncAPI documents, from the real services' documents over real sockets."""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from openapi_spec_validator import validate

from tests.gateway.support import SERVICES, GatewayFactory, RunningServer, free_port

REGISTRY_EVENT = "kz.ntc.registry.organisation.registered.v1"


def serve_documents_of(service: str) -> RunningServer:
    """The real service app under uvicorn with its lifespan off: its documents need neither NATS nor a database."""
    app_module = importlib.import_module(f"services.{service}.app")
    settings_module = importlib.import_module(f"services.{service}.settings")
    settings_class = getattr(settings_module, f"{service.capitalize()}Settings")
    app = app_module.create_app(settings_class(environment="test"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"docs-{service}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{service} did not start")
        time.sleep(0.01)
    return RunningServer(f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture(scope="module")
def service_urls() -> Iterator[dict[str, str]]:
    running = {name: serve_documents_of(name) for name in SERVICES}
    yield {name: server.url for name, server in running.items()}
    for server in running.values():
        server.stop()


def all_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from all_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from all_refs(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "options", "head", "trace"}:
                yield path, method, operation


async def test_one_openapi_document_for_the_whole_platform(make_gateway: GatewayFactory,
                                                           service_urls: dict[str, str]) -> None:
    gateway = await make_gateway(service_urls=service_urls)
    response = await gateway.client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()

    validate(document)  # the whole merged document is a valid OpenAPI 3.1 document
    paths = document["paths"]
    assert "/healthz" in paths and "/readyz" in paths  # the gateway's own
    assert "post" in paths["/api/v1/registry/organisations"]
    assert "/api/v1/registry/organisations/{organisation_id}" in paths
    for service in SERVICES:
        assert f"/api/v1/{service}/asyncapi.json" in paths
        assert f"/api/v1/{service}/metrics" not in paths  # not forwarded, so not documented
        assert not any(p.startswith(f"/api/v1/{service}/api/v1") for p in paths)
    assert not any(p.startswith("/organisations") for p in paths)  # no unprefixed service path

    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    registry_create = paths["/api/v1/registry/organisations"]["post"]
    assert registry_create["operationId"].startswith("registry-")
    assert all(tag.startswith("registry") for tag in registry_create["tags"])

    schemas = document["components"]["schemas"]
    for service in SERVICES:
        assert f"{service}_ProblemBody" in schemas
    refs = set(all_refs(document))
    assert any(ref.startswith("#/components/schemas/registry_") for ref in refs)
    for ref in refs:
        resolve(document, ref)  # raises KeyError when a $ref dangles
    assert document["x-unavailable"] == []
    assert set(document["components"]["securitySchemes"]) >= {"gateway_api_key_bearer", "gateway_api_key_header"}


async def test_a_service_that_is_down_is_left_out_and_named(make_gateway: GatewayFactory, service_urls: dict[str, str],
                                                             down_url: str) -> None:
    gateway = await make_gateway(service_urls={**service_urls, "disputes": down_url})
    response = await gateway.client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert not any(path.startswith("/api/v1/disputes/") for path in document["paths"])
    assert "/api/v1/registry/organisations" in document["paths"]
    assert document["x-unavailable"] == [{"service": "disputes", "reason": "unreachable"}]
    assert "disputes" in document["info"]["description"]

    events = (await gateway.client.get("/asyncapi.json")).json()
    assert [u["service"] for u in events["x-unavailable"]] == ["disputes"]
    assert REGISTRY_EVENT.replace(".", "_") in events["channels"]
    page = await gateway.client.get("/asyncapi")
    assert page.status_code == 200 and 'id="unavailable"' in page.text and "disputes" in page.text


async def test_the_document_is_cached_for_a_short_while(make_gateway: GatewayFactory,
                                                        service_urls: dict[str, str]) -> None:
    gateway = await make_gateway(service_urls=service_urls, docs_cache_seconds=60)
    first = (await gateway.client.get("/openapi.json")).json()
    catalog = gateway.state.docs
    assert catalog is not None
    fetched = []
    original = catalog._fetch_all

    async def counting(name: str) -> Any:
        fetched.append(name)
        return await original(name)

    catalog._fetch_all = counting  # type: ignore[method-assign]
    assert (await gateway.client.get("/openapi.json")).json() == first
    assert fetched == []
    catalog._cache.clear()
    await gateway.client.get("/openapi.json")
    assert fetched == ["openapi.json"]


async def test_swagger_ui_shows_it_with_local_assets(make_gateway: GatewayFactory,
                                                     service_urls: dict[str, str]) -> None:
    gateway = await make_gateway(service_urls=service_urls)
    page = await gateway.client.get("/docs")
    assert page.status_code == 200
    assert "/openapi.json" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from a CDN
    for asset, kind in (("/docs/static/swagger-ui-bundle.js", "javascript"), ("/docs/static/swagger-ui.css", "css")):
        assert f'"{asset}"' in page.text or f"'{asset}'" in page.text
        response = await gateway.client.get(asset)
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert len(response.content) > 10_000


async def test_one_asyncapi_document_and_its_page(make_gateway: GatewayFactory,
                                                  service_urls: dict[str, str]) -> None:
    gateway = await make_gateway(service_urls=service_urls)
    response = await gateway.client.get("/asyncapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["asyncapi"].startswith("3.")
    key = REGISTRY_EVENT.replace(".", "_")
    assert document["channels"][key]["address"] == REGISTRY_EVENT
    assert key in document["components"]["messages"]
    sent = document["operations"][f"registry.send_{key}"]
    assert sent["action"] == "send" and sent["x-service"] == "registry"
    received = document["operations"][f"notifications.receive_{key}"]
    assert received["action"] == "receive" and received["x-service"] == "notifications"
    for ref in set(all_refs({k: v for k, v in document.items() if k != "components"})):
        resolve(document, ref)  # channel and operation refs resolve within the merged document

    page = await gateway.client.get("/asyncapi")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script" not in html and "<link" not in html and " src=" not in html  # nothing to load, no JavaScript
    section = html[html.index(f'<section class="event" id="{REGISTRY_EVENT}">'):]
    section = section[:section.index("</section>")]
    assert f"<code>{REGISTRY_EVENT}</code>" in section
    assert '<dd class="producers">registry</dd>' in section
    assert "notifications" in section[section.index('class="receivers"'):]
    # The payload schema, pretty-printed and escaped (quotes as entities).
    schema = document["components"]["messages"][key]["payload"]["allOf"][1]["properties"]["data"]
    assert json.dumps(schema["title"]).replace('"', "&#34;") in section
    assert "\n  " in section[section.index("<pre>"):]
